"""Target-table rows beyond the seven columns (issue 13, rows): a per-row 计分方法, breakdown rows
(明细) that are shown but not summed, budget facts as columns (年初预算数 …, 事实:名称), and the
预算执行率 row's evaluator columns.  Each class is tried on new tables (not the issue's forms) as CSV,
XLSX and a facts file's 目标表, through the interpreter and DuckDB, whose outputs must be equal."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import openpyxl
import yaml
from click.testing import CliRunner

from jxdsl.cli import main

ROOT = Path(__file__).resolve().parents[1]
NATIONAL = ROOT / "rulebooks/national/self-eval.jx"
OPENING = ROOT / "tests/rulebooks/self-eval-rows.jx"  # 预算执行率 on 年初预算数; 定量 ≥ 零分=0.6倍; 定量 = 反向
ENGINES = ("interpreter", "duckdb")
COLUMNS = ["项目", "一级指标", "二级指标", "三级指标", "分值", "年度指标值", "实际完成值", "档次", "评价得分", "说明", "计分方法", "明细", "年初预算数"]


def cli(*args) -> tuple[int, str, str]:
    r = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    return r.exit_code, r.stdout, r.stderr


def both(rulebook: Path, table: Path) -> tuple[int, list[dict], str]:
    """``score --format jsonl`` through every engine: equal outputs; (exit code, projects, stderr)."""
    got = [cli("score", rulebook, table, "--format", "jsonl", "--engine", e) for e in ENGINES]
    assert got[0][:2] == got[1][:2], (got[0][2], got[1][2])
    assert got[0][2].splitlines()[:-1] == got[1][2].splitlines()[:-1]
    assert "Traceback" not in got[0][2]
    return got[0][0], [json.loads(line) for line in got[0][1].splitlines()], got[0][2]


def write_csv(path: Path, rows: list[list[str]], columns=COLUMNS) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(columns)
        w.writerows([r + [""] * (len(columns) - len(r)) for r in rows])
    return path


def write_xlsx(path: Path, rows: list[list[str]], merge: str | None = None) -> Path:
    """The table as a workbook; ``merge``: a column whose value is written once, merged down every
    row of the project (how a form prints 年初预算数 beside its rows)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(COLUMNS)
    for r in rows:
        ws.append(r + [""] * (len(COLUMNS) - len(r)))
    if merge:
        c = COLUMNS.index(merge) + 1
        for i in range(3, len(rows) + 2):
            ws.cell(i, c).value = None
        ws.merge_cells(start_row=2, start_column=c, end_row=len(rows) + 1, end_column=c)
    wb.save(path)
    return path


def write_yaml(path: Path, rows: list[list[str]], facts: dict | None = None) -> Path:
    """The same rows as a facts file's 目标表 (blank cells left out)."""
    doc = {"项目": rows[0][0], **({"事实": facts} if facts else {}),
           "目标表": [{k: v for k, v in zip(COLUMNS[1:], r[1:]) if v and k != "年初预算数"} for r in rows]}
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def by_path(project: dict) -> dict[str, dict]:
    return {"/".join(i["path"]): i for i in project["indicators"]}


# ---- 计分方法 ------------------------------------------------------------------------------------
METHOD_ROWS = [
    ["水库项目", "预算执行率", "", "预算执行率", "10", "400万元", "380万元"],
    # ≤ would be 反向 (2 ÷ 2.5 …); the form scores it 达标: 2.5% ≤ 3% → full marks
    ["水库项目", "产出指标", "质量指标", "渗漏率", "20", "≤3%", "2.5%", "", "", "", "达标"],
    # a number judged by tiers: 部分达成 with the evaluator's 12 of 20
    ["水库项目", "产出指标", "质量指标", "工程质量", "20", "≥95分", "88分", "部分达成", "12", "", "定性"],
    # ≥ would be 正向; 反向 here: 8 ÷ 10 × 10 = 8
    ["水库项目", "产出指标", "成本指标", "单方造价", "10", "≥8元", "10元", "", "", "", "反向"],
    ["水库项目", "效益指标", "社会效益", "灌溉面积", "30", "≥1200亩", "1200亩", "", "", "", " 正向 "],
    ["水库项目", "满意度指标", "满意度", "受益群众满意度", "10", "≥90%", "93%"],
]


def test_row_method_overrides_the_default_rule_in_every_form(tmp_path):
    expected = {"产出指标/质量指标/渗漏率": 20, "产出指标/质量指标/工程质量": 12, "产出指标/成本指标/单方造价": 8, "效益指标/社会效益/灌溉面积": 30}
    outs = []
    for path in (write_csv(tmp_path / "t.csv", METHOD_ROWS), write_xlsx(tmp_path / "t.xlsx", METHOD_ROWS), write_yaml(tmp_path / "t.yaml", METHOD_ROWS)):
        code, projects, err = both(NATIONAL, path)
        assert code == 0, err
        got = by_path(projects[0])
        assert {k: got[k]["score"] for k in expected} == expected
        assert "达标" in got["产出指标/质量指标/渗漏率"]["explanation"] and "反向" in got["产出指标/成本指标/单方造价"]["explanation"]
        outs.append([(i["path"], i["score"], i["explanation"]) for i in projects[0]["indicators"]])
    assert outs[0] == outs[1] == outs[2]


def test_row_method_positive_takes_the_zero_point_of_the_default_line(tmp_path):
    """正向 on an = row (whose default here is 反向) scores as the 定量 ≥ line: 零分 at 0.6 × target."""
    rows = [["渠道项目", "预算执行率", "", "预算执行率", "10", "", "90万元", "", "", "", "", "", "100万元"],
            ["渠道项目", "产出指标", "数量指标", "衬砌长度", "50", "=10公里", "8公里", "", "", "", "正向"],
            ["渠道项目", "效益指标", "社会效益", "受益户数", "30", "=500户", "400户"],
            ["渠道项目", "满意度指标", "满意度", "满意度", "10", "≥90%", "95%"]]
    code, projects, err = both(OPENING, write_csv(tmp_path / "t.csv", rows))
    assert code == 0, err
    got = by_path(projects[0])
    assert got["产出指标/数量指标/衬砌长度"]["score"] == 25  # (8 − 6) ÷ (10 − 6) × 50
    assert got["效益指标/社会效益/受益户数"]["score"] == 30  # = by default 反向 here: 500 ÷ 400 capped at full marks
    assert got["预算执行率"]["score"] == 9  # 90 ÷ 100 (年初预算数), not the blank 全年预算数


def test_unknown_row_method_is_located_with_the_nearest_word(tmp_path):
    rows = [r[:] for r in METHOD_ROWS]
    rows[3][10] = "反相"
    code, projects, err = both(NATIONAL, write_csv(tmp_path / "t.csv", rows))
    assert code == 1 and projects[0]["total"] is None
    assert "t.csv:5:1" in err and "计分方法“反相”无法识别" in err and "是否应为“反向”" in err
    code, out, err = cli("score", NATIONAL, write_yaml(tmp_path / "t.yaml", rows))
    assert code == 1 and "计分方法“反相”无法识别" in out + err and "是否应为“反向”" in out + err


# ---- 明细 ----------------------------------------------------------------------------------------
DETAIL_ROWS = [
    ["道路项目", "预算执行率", "", "预算执行率", "10", "600万元", "600万元"],
    ["道路项目", "产出指标", "数量指标", "硬化道路", "30", "≥12公里", "12公里"],
    ["道路项目", "产出指标", "数量指标", "其中：东乡", "", "≥7公里", "7公里", "", "", "", "", "是"],
    ["道路项目", "产出指标", "数量指标", "其中：西乡", "15", "≥5公里", "5公里", "", "", "", "", "是"],
    ["道路项目", "产出指标", "质量指标", "验收合格率", "20", "100%", "100%"],
    ["道路项目", "产出指标", "质量指标", "1、路基", "10", "100%", "98%", "", "", "", "", "是"],
    ["道路项目", "效益指标", "社会效益", "受益人口", "30", "≥3000人", "3200人"],
    ["道路项目", "满意度指标", "满意度", "满意度", "10", "≥90%", "96%"],
]


def test_detail_rows_are_listed_under_their_row_and_not_summed(tmp_path):
    for path in (write_csv(tmp_path / "t.csv", DETAIL_ROWS), write_xlsx(tmp_path / "t.xlsx", DETAIL_ROWS), write_yaml(tmp_path / "t.yaml", DETAIL_ROWS)):
        code, projects, err = both(NATIONAL, path)
        assert code == 0, err  # 30 + 20 = 50: the breakdown rows' 15 and 10 are not counted
        got = by_path(projects[0])
        assert projects[0]["total"] == 100 and not any("其中" in p or "路基" in p for p in got)
        text = got["产出指标/数量指标/硬化道路"]["explanation"]
        assert "其中：东乡" in text and "7公里" in text and "其中：西乡" in text and "1、路基" not in text
        assert "1、路基" in got["产出指标/质量指标/验收合格率"]["explanation"] and "98%" in got["产出指标/质量指标/验收合格率"]["explanation"]


def test_the_word_qizhong_alone_is_a_scored_row(tmp_path):
    """Without the 明细 mark a 其中 row is an ordinary row (one published form scores it)."""
    rows = [r[:11] for r in DETAIL_ROWS]
    code, projects, err = both(NATIONAL, write_csv(tmp_path / "t.csv", rows))
    assert code == 1 and "各行分值之和 75 与规则集规定的 50 不符" in err


def test_detail_row_without_a_row_above_and_a_wrong_mark_are_located(tmp_path):
    rows = [r[:] for r in DETAIL_ROWS]
    rows.insert(1, ["道路项目", "产出指标", "数量指标", "其中：北乡", "", "≥1公里", "1公里", "", "", "", "", "是"])
    rows[6][11] = "对"
    code, projects, err = both(NATIONAL, write_csv(tmp_path / "t.csv", rows))
    assert code == 1
    assert "t.csv:3:1" in err and "明细行“其中：北乡”上面没有它所属的指标行" in err
    assert "t.csv:8:1" in err and "“明细”应为“是”或“否”，实际是“对”" in err
    code, out, err = cli("score", NATIONAL, write_yaml(tmp_path / "t.yaml", rows[:6]))
    assert code == 1 and "明细行“其中：北乡”上面没有它所属的指标行" in out + err


# ---- budget facts as columns, and the 预算执行率 row's evaluator columns ------------------------------
def opening_rows(budget_cells: list[str]) -> list[list[str]]:
    base = [["灌区项目", "预算执行率", "", "预算执行率", "10", "", "72万元"],
            ["灌区项目", "产出指标", "数量指标", "新增灌溉面积", "50", "≥800亩", "800亩"],
            ["灌区项目", "效益指标", "经济效益", "亩均增收", "30", "≥200元", "210元"],
            ["灌区项目", "满意度指标", "满意度", "满意度", "10", "≥90%", "91%"]]
    return [r + [""] * (12 - len(r)) + [cell] for r, cell in zip(base, budget_cells)]


def test_budget_column_feeds_the_rulebook_in_csv_and_merged_xlsx(tmp_path):
    rows = opening_rows(["80万元", "80万元", "", "80万元"])
    for path in (write_csv(tmp_path / "t.csv", rows), write_xlsx(tmp_path / "t.xlsx", opening_rows(["80万元", "", "", ""]), merge="年初预算数")):
        code, projects, err = both(OPENING, path)
        assert code == 0, err
        assert by_path(projects[0])["预算执行率"]["score"] == 9  # 72 ÷ 80 × 10
    code, projects, err = both(OPENING, write_csv(tmp_path / "t.csv", rows, [*COLUMNS[:-1], "事实:年初预算数"]))
    assert code == 0 and by_path(projects[0])["预算执行率"]["score"] == 9, err


def test_disagreeing_budget_cells_name_every_value_and_line(tmp_path):
    code, projects, err = both(OPENING, write_csv(tmp_path / "t.csv", opening_rows(["80万元", "", "85万元", "80万元"])))
    assert code == 1 and projects[0]["total"] is None
    assert "t.csv:2:1" in err and "数据“年初预算数”写了不同的值（第 2 行“80万元”、第 4 行“85万元”）" in err


def test_missing_fact_hint_names_the_place_in_the_input_read(tmp_path):
    rows = opening_rows(["", "", "", ""])
    _, _, err = both(OPENING, write_csv(tmp_path / "t.csv", rows))
    assert "缺少数据“年初预算数”" in err and "在自评表中加一列“年初预算数”" in err and "事实文件" not in err
    facts_table = tmp_path / "f.csv"
    facts_table.write_text("项目,名称,值\n丙,全年执行数,10万元\n", encoding="utf-8")
    _, _, err = both(OPENING, facts_table)
    assert "在事实表中为该项目加一行：名称 “年初预算数”" in err
    _, out, err = cli("score", OPENING, write_yaml(tmp_path / "t.yaml", rows))
    assert "在事实文件的“事实”下填写" in out + err


def test_budget_row_score_and_note_are_its_record_in_every_form(tmp_path):
    rows = [r[:] for r in METHOD_ROWS]
    rows[0] = ["水库项目", "预算执行率", "", "预算执行率", "10", "400万元", "380万元", "", "10", "超支部分已追加预算"]
    outs = []
    for path in (write_csv(tmp_path / "t.csv", rows), write_yaml(tmp_path / "t.yaml", rows)):
        code, projects, err = both(NATIONAL, path)
        assert code == 0, err
        budget = by_path(projects[0])["预算执行率"]
        assert budget["score"] == 10 and "9.5" in budget["explanation"] and "超支部分已追加预算" in budget["explanation"]
        outs.append([(i["path"], i["score"], i["explanation"]) for i in projects[0]["indicators"]])
    assert outs[0] == outs[1]


def test_row_errors_come_in_table_order_in_every_engine(tmp_path):
    """A row without 二级指标 is reported where it stands, not with the first such row (SQL sorted
    every ungrouped row at the line of the first one, before a group between them)."""
    rows = [["堤防项目", "预算执行率", "", "预算执行率", "10", "50万元", "50万元"],
            ["堤防项目", "产出指标", "", "加固长度", "20", "≥2公里", "2公里"],
            ["堤防项目", "产出指标", "质量指标", "验收", "20", "合格", "不合格"],
            ["堤防项目", "产出指标", "", "完工时间", "10", "2023年13月", "2023年6月"],
            ["堤防项目", "效益指标", "社会效益", "防洪标准", "30", "≥20年一遇", "20年一遇"],
            ["堤防项目", "满意度指标", "满意度", "满意度", "10", "≥90%", "95%"]]
    code, projects, err = both(NATIONAL, write_csv(tmp_path / "t.csv", rows))
    errors = projects[0]["errors"]
    assert code == 1 and [e.split("：")[0].split("/")[-1] for e in errors[:2]] == ["验收”", "完工时间”"], errors


def test_budget_row_weight_is_checked_against_the_rulebook_in_every_form(tmp_path):
    """A form that weighs 预算执行率 at 20 is not silently rescored on the rulebook's 10."""
    rows = [r[:] for r in METHOD_ROWS]
    rows[0][4] = "20"
    code, projects, err = both(NATIONAL, write_csv(tmp_path / "t.csv", rows))
    assert code == 1 and projects[0]["total"] is None
    assert "t.csv:2:1" in err and "所填分值“20”与规则集规定的权重 10 不符" in err
    code, out, err = cli("score", NATIONAL, write_yaml(tmp_path / "t.yaml", rows))
    assert code == 1 and "所填分值“20”与规则集规定的权重 10 不符" in out + err
    rows[0][4] = "10分"
    code, projects, err = both(NATIONAL, write_csv(tmp_path / "t.csv", rows))
    assert code == 0 and by_path(projects[0])["预算执行率"]["score"] == 9.5, err
    facts_table = tmp_path / "f.csv"
    facts_table.write_text("项目,名称,值,分值\n丙,全年预算数,10万元,\n丙,全年执行数,10万元,\n丙,预算执行率,,8\n", encoding="utf-8")
    _, _, err = both(NATIONAL, facts_table)
    assert "f.csv:4:1" in err and "所填分值“8”与规则集规定的权重 10 不符" in err


def test_facts_table_command_carries_the_budget_row_and_its_weight(tmp_path):
    """``facts-table`` on a facts file whose 目标表 has only the 预算执行率 row: its facts and its
    record (with 分值) become rows, and the table scores 预算执行率 as the file does."""
    doc = tmp_path / "p.yaml"
    doc.write_text("项目: 戊项目\n目标表:\n  - {一级指标: 预算执行率, 三级指标: 预算执行率, 分值: 10, 年度指标值: 100万元, 实际完成值: 95万元, 说明: 年底集中支付}\n", encoding="utf-8")
    table = tmp_path / "事实表.csv"
    code, _, err = cli("facts-table", doc, "-o", table)
    assert code == 0, err
    header = table.read_text(encoding="utf-8-sig").splitlines()[0].split(",")
    assert header[-1] == "分值"
    _, from_file, _ = cli("score", NATIONAL, doc, "--format", "json")
    _, projects, _ = both(NATIONAL, table)
    budget = [by_path(p)["预算执行率"] for p in (json.loads(from_file), projects[0])]
    assert budget[0]["score"] == budget[1]["score"] == 9.5 and budget[0]["explanation"] == budget[1]["explanation"]
    assert "年底集中支付" in budget[0]["explanation"]


def test_an_sql_side_mistake_in_the_new_columns_fails_the_engine_comparison(tmp_path, monkeypatch):
    """If the SQL side alone dropped the 计分方法 from a row's texts, or listed 明细 rows otherwise,
    the comparison above would catch it (the kernel is shared, so only such SQL wiring can diverge)."""
    import pytest

    from jxdsl import compile as compiled
    from jxdsl.compile import rows as sql_rows

    table = write_csv(tmp_path / "t.csv", METHOD_ROWS[:2] + DETAIL_ROWS[1:4] + METHOD_ROWS[4:])
    for name, broken in (("ROW_TEXTS", tuple(c for c in sql_rows.ROW_TEXTS if c != "method")), ("DETAILS", "；明细：")):
        with monkeypatch.context() as m:
            m.setattr(sql_rows, name, broken)
            compiled._CACHE.clear()
            compiled._TEXTS.clear()
            with pytest.raises(AssertionError):
                both(NATIONAL, table)
    compiled._CACHE.clear()
    compiled._TEXTS.clear()
