"""`diff OLD NEW --on TABLE`: what a rulebook change does to every project of a table.

The Xing county table (six self-evaluations) against a variant that raises the 优 band, replaces
the budget-execution rule and changes a default rule; the Qixia facts table against a variant
that moves weight between two indicators; a table where one project lacks a fact the new
rulebook needs.  DuckDB runs once (module fixture: compiling both rulebooks costs seconds); the
other tests use the interpreter, which must give the same numbers.
"""
from __future__ import annotations

import csv
import json
import zipfile
from fractions import Fraction
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from jxdsl.cli import main
from jxdsl.diff import diff
from jxdsl.diff import render as render_diff
from jxdsl.impact import FAILED, impact, render, to_json
from jxdsl.link import Linker

ROOT = Path(__file__).resolve().parent.parent
XING = "rulebooks/shanxi/xingxian-2022-self-eval.jx"
XING_NEW = "tests/rulebooks/impact-xingxian.jx"
XING_TABLE = "examples/xingxian-2022-table/self-eval.csv"
QIXIA = "rulebooks/shandong/qixia-2021.jx"
QIXIA_NEW = "tests/rulebooks/impact-qixia.jx"
QIXIA_TABLE = "examples/qixia-2021/facts-table.csv"
# 预算执行率 on 年初预算数, a fact the Xing table gives only where the column is filled
OPENING_BUDGET = f"""规则集 测试-兴县-年初预算 继承 {ROOT / XING}
事实
  年初预算数 金额 "自评表“年初预算数”列"
年初执行率 = 全年执行数 / 年初预算数
替换 预算执行率 权重 10 正向 满分=100% 取 年初执行率
"""


def _books(old: str, new: str):
    linker = Linker()
    return linker.load(ROOT / old), linker.load(ROOT / new)


@pytest.fixture(scope="module")
def xing():
    """The Xing county impact by both engines."""
    old, new = _books(XING, XING_NEW)
    return {e: impact(old, new, ROOT / XING_TABLE, e) for e in ("duckdb", "interpreter")}


@pytest.fixture
def opening_budget(tmp_path):
    """The Xing table with a 年初预算数 column filled for every project but 精准扶贫档案整理服务,
    and the variant that needs it."""
    with (ROOT / XING_TABLE).open(encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    out = [[*rows[0], "年初预算数"]]
    for r in rows[1:]:
        out.append([*r, r[5] if r[3] == "预算执行率" and r[0] != "精准扶贫档案整理服务" else ""])
    table = tmp_path / "table.csv"
    with table.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(out)
    rulebook = tmp_path / "new.jx"
    rulebook.write_text(OPENING_BUDGET, encoding="utf-8")
    return table, rulebook


def _matrix_adds_up(im) -> None:
    assert sum(map(sum, im.matrix)) == im.projects
    assert [sum(row) for row in im.matrix] == [n for _, n in im.before.grades]
    assert [sum(col) for col in zip(*im.matrix)] == [n for _, n in im.after.grades]
    assert len(im.changed) + len(im.failed) + im.unchanged == im.projects


def test_duckdb_gives_the_interpreters_numbers(xing):
    a, b = (to_json(xing[e]) for e in ("duckdb", "interpreter"))
    assert a.pop("engine") == "duckdb" and b.pop("engine") == "interpreter"
    assert a == b


def test_xing_county_changes(xing):
    im = xing["duckdb"]
    _matrix_adds_up(im)
    assert im.projects == 6 and len(im.changed) == 4 and im.grade_changed == 1 and im.unchanged == 2 and not im.failed
    first = im.changed[0]  # the largest change first
    assert first.project == "2021-2022年脱贫人口小额贷款贴息"
    assert (first.old.total, first.old.grade, first.new.total, first.new.grade) == (Fraction("96.47"), "优", Fraction("91.18"), "良")
    assert first.moves[0].path[0] == "产出指标" and first.moves[0].delta == Fraction("-5.29")
    assert [abs(p.delta) for p in im.changed] == sorted((abs(p.delta) for p in im.changed), reverse=True)
    cats = list(im.categories)
    assert cats == ["优", "良", "中", "差"]
    assert im.matrix[cats.index("优")][cats.index("良")] == 1  # 优 → 良
    assert im.matrix[cats.index("良")][cats.index("优")] == 0
    assert dict(im.before.grades)["优"] == 5 and dict(im.after.grades)["优"] == 4
    assert im.before.low == Fraction("83.73") and im.after.low == 82


def test_against_the_parent_the_rule_differences_are_the_overrides(xing):
    im = xing["interpreter"]
    assert list(im.changes) == diff(im.old, im.new)
    assert {(c.kind, c.field or "/".join(c.path)) for c in im.changes} == {
        ("setting", "等级"), ("setting", "默认规则 定量 ≥"), ("rule", "预算执行率")}


def test_qixia_weight_moved(tmp_path):
    old, new = _books(QIXIA, QIXIA_NEW)
    im = impact(old, new, ROOT / QIXIA_TABLE, "interpreter")
    _matrix_adds_up(im)
    [p] = im.changed
    assert (p.old.total, p.old.grade, p.new.total, p.new.grade, p.delta) == (Fraction("92.66"), "优", Fraction("92.91"), "良", Fraction("0.25"))
    assert [m.path[-2] for m in p.moves] == ["成本节约措施", "成本节约率"]
    assert any(c.kind == "weight" and c.path == ("产出", "产出成本", "成本节约措施") for c in im.changes)


def test_a_project_failing_under_the_new_rulebook_only(opening_budget):
    table, rulebook = opening_budget
    linker = Linker()
    im = impact(linker.load(ROOT / XING), linker.load(rulebook), table, "interpreter")
    _matrix_adds_up(im)
    [p] = im.failed
    assert p.project == "精准扶贫档案整理服务"
    assert (p.old.total, p.old.grade, p.new.total, p.new.label) == (95, "优", None, FAILED)
    assert "年初预算数" in p.new.error and p.old.error is None
    assert p.moves[0].path == ("预算执行率",) and p.moves[0].delta is None
    assert im.categories[-1] == FAILED and dict(im.after.grades)[FAILED] == 1 and im.after.count == 5
    text = render(im)
    assert "无法计分的项目：" in text and "新规则集：项目“精准扶贫档案整理服务”" in text


def test_rows_of_no_project_are_counted(tmp_path):
    table = tmp_path / "table.csv"
    text = (ROOT / XING_TABLE).read_text(encoding="utf-8-sig")
    table.write_text(text + ",产出指标,数量指标,无名的行,5,≥1人,1人,,,\n", encoding="utf-8")
    old, new = _books(XING, XING_NEW)
    im = impact(old, new, table, "interpreter")
    assert im.stray_rows == 1 and im.projects == 6 and to_json(im)["stray_rows"] == 1
    assert "表中另有 1 行没有项目名称" in render(im)


def test_text_and_json_snapshot(xing, snapshot, monkeypatch):
    monkeypatch.chdir(ROOT)  # the table's name as written on the command line
    result = CliRunner().invoke(main, ["diff", XING, XING_NEW, "--on", XING_TABLE, "--engine", "interpreter"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(render_diff(xing["interpreter"].old, xing["interpreter"].new, list(xing["interpreter"].changes)))
    assert result.output == snapshot(name="text")
    result = CliRunner().invoke(main, ["diff", XING, XING_NEW, "--on", XING_TABLE, "--engine", "interpreter", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == snapshot(name="json")


def test_xlsx_reads_back(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    out = tmp_path / "影响.xlsx"
    result = CliRunner().invoke(main, ["diff", XING, XING_NEW, "--on", XING_TABLE, "--engine", "interpreter", "--format", "xlsx", "-o", str(out)])
    assert result.exit_code == 0, result.output
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["概况", "变化的项目", "规则差异"]
    rows = [r for r in wb["概况"].iter_rows(values_only=True)]
    head = next(k for k, r in enumerate(rows) if r[0] == "原＼新")
    assert rows[head][:6] == ("原＼新", "优", "良", "中", "差", "合计")
    assert rows[head + 1][:6] == ("优", 4, 1, 0, 0, 5)
    assert rows[head + 5][:6] == ("合计", 4, 2, 0, 0, 6)
    changed = wb["变化的项目"]
    assert changed.freeze_panes == "B2" and changed.auto_filter.ref == "A1:H5"
    got = [r for r in changed.iter_rows(min_row=2, values_only=True)]
    assert [r[:6] for r in got[:2]] == [("2021-2022年脱贫人口小额贷款贴息", 96.47, "优", 91.18, "良", -5.29),
                                        ("2022年脱贫劳动力稳岗补助", 83.73, "良", 82, "良", -1.73)]
    assert [r[0] for r in wb["规则差异"].iter_rows(min_row=2, values_only=True)] == ["等级", "默认规则 定量 ≥", "预算执行率"]
    with zipfile.ZipFile(out) as z:  # openpyxl does not read charts back
        assert "等级分布：原规则集与新规则集" in z.read("xl/charts/chart1.xml").decode("utf-8")


def test_json_to_a_file(tmp_path):
    out = tmp_path / "影响.json"
    result = CliRunner().invoke(main, ["diff", str(ROOT / QIXIA), str(ROOT / QIXIA_NEW), "--on", str(ROOT / QIXIA_TABLE), "--engine", "interpreter",
                                       "--format", "json", "-o", str(out)])
    assert result.exit_code == 0 and result.output == ""
    got = json.loads(out.read_text(encoding="utf-8"))
    assert got["matrix"]["优"]["良"] == 1 and got["changed_projects"][0]["delta"] == 0.25


def test_without_on_diff_is_unchanged():
    result = CliRunner().invoke(main, ["diff", str(ROOT / XING), str(ROOT / XING_NEW)])
    old, new = _books(XING, XING_NEW)
    assert result.exit_code == 0 and result.output == render_diff(old, new, diff(old, new)) + "\n"


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--on", "没有这张表.csv"], 2, "找不到表格“没有这张表.csv”"),
        (["--on", str(ROOT / XING_TABLE), "-o", str(ROOT / XING_TABLE)], 2, "就是输入文件，写入会毁掉它"),
        (["--on", str(ROOT / XING_TABLE), "-o", str(ROOT / XING)], 2, "就是输入文件，写入会毁掉它"),
        (["--on", str(ROOT / XING_TABLE), "--format", "xlsx"], 2, "xlsx 格式需要用 -o 指定输出文件"),
        (["--format", "xlsx", "-o", "x.xlsx"], 2, "xlsx 格式只用于 --on"),
        (["--format", "json", "-o", "x.json"], 2, "-o 只用于 --on"),
        ([], 2, "--engine 只用于 --on"),
    ],
    ids=["table-missing", "out-onto-table", "out-onto-rulebook", "xlsx-without-out", "xlsx-without-on", "out-without-on", "engine-without-on"],
)
def test_usage_errors(args, code, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    before = (ROOT / XING_TABLE).read_bytes()
    result = CliRunner().invoke(main, ["diff", str(ROOT / XING), str(ROOT / XING_NEW), "--engine", "interpreter", *args])
    assert result.exit_code == code, result.output
    assert message in result.output and "Traceback" not in result.output
    assert (ROOT / XING_TABLE).read_bytes() == before
    assert list(tmp_path.iterdir()) == []


def test_a_broken_new_rulebook_is_an_error(tmp_path):
    bad = tmp_path / "bad.jx"
    bad.write_text(f"规则集 坏 继承 {ROOT / XING}\n调整 没有这个指标 权重 5\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["diff", str(ROOT / XING), str(bad), "--on", str(ROOT / XING_TABLE), "--engine", "interpreter"])
    assert result.exit_code == 1 and "没有这个指标" in result.output and "Traceback" not in result.output
