"""Reports of many projects: the summary workbook (report_book) and the summary-first HTML page."""
from __future__ import annotations

import json
import random
import re
from fractions import Fraction
from pathlib import Path

import attrs
import pytest
from click.testing import CliRunner
from gen_tables import SELF_EVAL_COLUMNS, self_eval_rows, write_csv
from openpyxl import load_workbook

from jxdsl import report, report_book, report_html
from jxdsl.batch import open_run
from jxdsl.cli import main
from jxdsl.errors import UsageError
from jxdsl.link import Linker
from jxdsl.units import plain

ROOT = Path(__file__).resolve().parent.parent
RULEBOOK = ROOT / "rulebooks/shanxi/xingxian-2022-self-eval.jx"
HOSTILE = "=项目<script>alert(1)</script>"


@pytest.fixture(scope="module")
def table(tmp_path_factory) -> Path:
    """30 generated Xing county projects without mistakes; one named with markup and a formula."""
    rows = self_eval_rows(random.Random(14), 30, m=0)
    for row in rows:
        if row[0].strip() == "项目3":
            row[0] = HOSTILE
    return write_csv(tmp_path_factory.mktemp("many") / "自评表.csv", SELF_EVAL_COLUMNS, rows)


@pytest.fixture(scope="module")
def scored(table):
    book = Linker().load(RULEBOOK)
    return book, list(open_run(book, table, "interpreter").results())


def _rows(ws, values=True):
    return list(ws.iter_rows(values_only=values))


def test_workbook_of_many_projects(scored, tmp_path):
    book, results = scored
    assert len(results) == 30 > report_book.PER_PROJECT_SHEETS
    assert 0 < sum(r.total is None for r in results) < 5  # a few projects with data problems: 未评定
    report.write_xlsx(results, book, tmp_path / "t.xlsx")
    wb = load_workbook(tmp_path / "t.xlsx", data_only=True)  # the cached values
    assert wb.sheetnames == ["汇总", "等级分布", "一级指标得分率", "明细"]

    head, *rows = _rows(wb["汇总"])
    assert list(head[:6]) == ["项目", "总分", "等级", "预算执行率得分", "预算执行率", "产出指标"]
    assert head[-2:] == ("问题数", "问题")
    assert [r[0] for r in rows] == [safe for safe in (("'" + r.project) if r.project.startswith("=") else r.project for r in results)]
    for r, row in zip(results, rows):
        assert row[1] == (float(plain(r.total, 2)) if r.total is not None else None) and row[2] == (r.grade or "未评定")
        assert row[-2] == len(r.errors) and (row[-1] or "") == (r.errors[0].message if r.errors else "")
        budget = r.indicators[0]
        rate = report.execution_rate(r)
        assert rate is not None and row[4] == pytest.approx(float(rate), abs=1e-6)
        assert row[3] == float(plain(budget.score, 2))
        if rate < 1:  # the score is the rate × 10: the column holds the rate, not the score
            assert Fraction(plain(rate * 10, 2)) == budget.score
    assert wb["汇总"].auto_filter.ref == f"A1:{wb['汇总'].cell(row=1, column=len(head)).column_letter}31"
    assert wb["汇总"].freeze_panes == "B2"

    counts = report.grade_counts(results, book)
    grades = _rows(wb["等级分布"])[1 : 1 + len(counts)]
    assert [(g, n) for g, n, _ in grades] == counts
    assert [share for *_, share in grades] == pytest.approx([n / 30 for _, n in counts])
    formulas = load_workbook(tmp_path / "t.xlsx")["等级分布"]
    assert formulas["B2"].value == "=COUNTIF('汇总'!$C$2:$C$31,A2)"
    assert formulas._charts and len(formulas._charts) == 2  # grades and the histogram of totals

    levels = {row[0]: row for row in _rows(wb["一级指标得分率"])[1:]}
    out = [r.indicators[1] for r in results if r.indicators[1].score is not None]
    assert levels["产出指标"][2] == len(out)
    assert levels["产出指标"][3] == float(plain(sum(i.score for i in out) / len(out), 2))
    assert levels["产出指标"][5] == float(min(i.score for i in out)) and levels["产出指标"][6] == float(max(i.score for i in out))
    assert levels["预算执行率"][7] == sum(1 for r in results if r.indicators[0].score < 6)

    detail = _rows(wb["明细"])
    assert detail[0][:4] == ("项目", "一级指标", "二级指标", "三级指标")
    assert len(detail) - 1 == sum(len(list(r.walk())) for r in results)
    assert wb["明细"].auto_filter.ref.startswith("A1:")


def test_small_batch_keeps_a_sheet_per_project(scored, tmp_path):
    book, results = scored
    report.write_xlsx(results[:5], book, tmp_path / "t.xlsx")
    wb = load_workbook(tmp_path / "t.xlsx")
    assert wb.sheetnames[:3] == ["汇总", "等级分布", "一级指标得分率"] and len(wb.sheetnames) == 8 and "明细" not in wb.sheetnames
    for k, sheet in enumerate(wb.sheetnames[3:], start=2):
        assert wb["汇总"].cell(row=k, column=1).hyperlink.location == f"'{sheet}'!A1"
        values = {c.value for row in wb[sheet].iter_rows() for c in row}
        assert wb[sheet]["A1"].value == "项目支出绩效自评表" and wb["汇总"].cell(row=k, column=1).value in values  # a self-evaluation's own form


def test_html_of_many_projects_is_a_small_summary(scored):
    book, results = scored
    many = [attrs.evolve(r, project=f"{r.project}-{k}") for k in range(10) for r in results]  # 300 projects
    text = report_html.render_html(iter(many), book)
    assert len(text.encode()) < 300 * 150 + 40_000  # about 150 bytes a project, no per-indicator detail
    assert "绩效评价得分表" not in text and "逐条说明" not in text
    for words in ("<h2>等级分布</h2>", "总分分布（每", "<h2>一级指标得分率</h2>", '<table class="top">', '<table class="bottom">'):
        assert words in text
    data = json.loads(re.search(r'<script type="application/json" id="projects">(.*?)</script>', text, re.S).group(1))
    assert [p[0] for p in data] == [r.project for r in many]
    assert [(p[1], p[2]) for p in data] == [(plain(r.total, 2) if r.total is not None else None, r.grade or "未评定") for r in many]
    best = re.search(r'<table class="top">(.*?)</table>', text, re.S).group(1)
    top = max(r.total for r in many if r.total is not None)
    assert f'<td class="num">{plain(top, 2)}</td>' in best.split("</tr>")[1]
    # the hostile name: escaped in tables, \u003c in the JSON; the page's only scripts are its own two
    assert text.count("<script") == 2 and "alert(1)</script>" not in text
    assert "\\u003cscript\\u003e" in text
    assert not re.search(r"https?://|\bsrc=", text)


def test_score_command_writes_the_summary_without_progress_when_captured(table, tmp_path):
    runner = CliRunner()
    for fmt in ("xlsx", "html"):
        out = tmp_path / f"结果.{fmt}"
        run = runner.invoke(main, ["score", str(RULEBOOK), str(table), "--format", fmt, "-o", str(out), "--engine", "interpreter"])
        assert run.exit_code == 1 and "28 个计分完成，2 个有数据问题" in run.output  # written all the same
        assert "写出报告" not in run.output and "━" not in run.output
    assert load_workbook(tmp_path / "结果.xlsx").sheetnames == ["汇总", "等级分布", "一级指标得分率", "明细"]
    assert '<script type="application/json" id="projects">' in (tmp_path / "结果.html").read_text(encoding="utf-8")


def test_the_execution_rate_column_is_the_same_from_every_engine(tmp_path):
    """The 汇总's 预算执行率 column holds the rate (17.26%), not the score (1.73), whichever engine scored."""
    table = ROOT / "examples/xingxian-2022-table/self-eval.csv"
    got = {}
    for engine in ("interpreter", "duckdb"):
        out = tmp_path / f"{engine}.xlsx"
        CliRunner().invoke(main, ["score", str(RULEBOOK), str(table), "--format", "xlsx", "-o", str(out), "--engine", engine])
        head, *rows = _rows(load_workbook(out)["汇总"])
        got[engine] = [(r[0], r[head.index("预算执行率得分")], r[head.index("预算执行率")]) for r in rows]
    assert got["interpreter"] == got["duckdb"]
    assert got["duckdb"][0] == ("2022年脱贫劳动力稳岗补助", 1.73, pytest.approx(152.52 / 883.56, abs=1e-6))


def test_detail_goes_on_past_excels_last_row(scored, tmp_path, monkeypatch):
    """Excel's row limit (made small here): 明细 continues on 明细(2), …; a 汇总 too long is refused."""
    book, results = scored
    monkeypatch.setattr(report_book, "EXCEL_ROWS", 101)
    report.write_xlsx(results, book, tmp_path / "t.xlsx")
    wb = load_workbook(tmp_path / "t.xlsx", read_only=True)
    detail = [n for n in wb.sheetnames if n.startswith("明细")]
    assert detail[:2] == ["明细", "明细(2)"] and all(wb[n].max_row <= 101 for n in detail)
    assert sum(wb[n].max_row - 1 for n in detail) == sum(len(list(r.walk())) for r in results)
    wb.close()
    monkeypatch.setattr(report_book, "EXCEL_ROWS", 25)
    with pytest.raises(UsageError, match="汇总表容不下"):
        report.write_xlsx(results, book, tmp_path / "u.xlsx")
    assert not (tmp_path / "u.xlsx").exists()
