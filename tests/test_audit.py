"""`jxdsl audit` finds exactly the real inconsistencies of each published table, and nothing
on a consistent one."""
from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from jxdsl.audit import audit, read_table, result_rows, tolerance
from jxdsl.cli import main
from jxdsl.evaluate import evaluate
from jxdsl.facts import load as load_facts
from jxdsl.link import Linker

ROOT = Path(__file__).resolve().parent.parent
CASES = [c for c in yaml.safe_load((ROOT / "examples" / "cases.yaml").read_text(encoding="utf-8")) if not str(c["facts"]).endswith((".csv", ".xlsx"))]

# What each report's own table gets wrong (see the case's NOTES.md), as (path, kind).
EXPECTED = {
    "kashgar-2021": set(),
    "qixia-2021": {("决策", "score_sum")},
    "caidian-2021": {("效益指标", "score_sum")},
    "bazhou-2021": set(),
    "xingxian-2022-wengang": {("产出指标/数量指标/脱贫户和监测户劳动力", "rule"), ("产出指标/成本指标/资金总额", "rounding")},
    "xingxian-2022-shuzi": {("效益指标/社会效益指标", "weight_sum"), ("效益指标/社会效益指标/示范村受益人口数", "score_out_of_range"), ("产出指标/成本指标/资金总额", "rounding")},
    "xingxian-2022-yulu": set(),
    "xingxian-2022-tiexi": {("产出指标", "score_sum"), ("产出指标/数量指标/贴息人数", "unit_mismatch")},
    "xingxian-2022-dangan": {("产出指标/质量指标/精准扶贫档案整理质量", "tier")},
    "xingxian-2022-zichan": set(),
}


# With the rulebook its rounding is known: the evaluator's whole points for 0.86 and 7.62 (NOTES.md:
# 评价得分) are not a rounding of the table's but departures from the rule.
WITH_RULEBOOK = {
    "xingxian-2022-wengang": {("产出指标/数量指标/脱贫户和监测户劳动力", "rule"), ("产出指标/成本指标/资金总额", "rule")},
    "xingxian-2022-shuzi": {("效益指标/社会效益指标", "weight_sum"), ("效益指标/社会效益指标/示范村受益人口数", "score_out_of_range"), ("产出指标/成本指标/资金总额", "rule")},
}


def test_every_case_has_an_expectation():
    assert {c["id"] for c in CASES} == set(EXPECTED)


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_published_table_findings_are_exactly_the_real_ones(case):
    table = ROOT / Path(case["facts"]).parent / "published.csv"
    findings = audit(read_table(table))
    assert {(f.path, f.kind) for f in findings} == EXPECTED[case["id"]]
    with_rulebook = audit(read_table(table), Linker().load(ROOT / case["rulebook"]))
    assert {(f.path, f.kind) for f in with_rulebook} == WITH_RULEBOOK.get(case["id"], EXPECTED[case["id"]])


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_published_table_findings_snapshot(case, snapshot, monkeypatch):
    monkeypatch.chdir(ROOT)
    table = (Path(case["facts"]).parent / "published.csv").as_posix()
    run = CliRunner().invoke(main, ["audit", table, "--format", "json"])
    assert run.exit_code == (1 if EXPECTED[case["id"]] else 0)
    assert json.loads(run.output) == snapshot


STRUCTURAL = {"score_out_of_range", "weight_sum", "score_sum", "total", "grade", "weight_vs_rulebook"}


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_freshly_computed_table_has_no_findings(case, tmp_path, monkeypatch):
    """A computed result always adds up; it follows every rule except where the facts record
    an evaluator's judgement that departs from the rule (those rows are still flagged)."""
    monkeypatch.chdir(ROOT)
    out = tmp_path / "computed.csv"
    run = CliRunner().invoke(main, ["score", case["rulebook"], case["facts"], "--format", "csv", "-o", str(out)])
    assert run.exit_code == 0, run.output
    book = Linker().load(case["rulebook"])
    (facts,) = load_facts(case["facts"])
    result = evaluate(book, facts)
    judged = {"/".join(r.path) for r in result.walk() if any(s.kind in ("override", "tier", "judgement") for s in r.steps)}
    for rulebook in (None, book):
        findings = audit(read_table(out), rulebook)
        assert not [f for f in findings if f.kind in STRUCTURAL], findings
        assert {f.path for f in findings} <= judged, findings


def test_expected_values_are_given():
    table = ROOT / "examples" / "qixia-2021" / "published.csv"
    (finding,) = audit(read_table(table))
    assert (finding.published, finding.expected) == ("16.5", "17")
    assert "4 + 6 + 7 = 17" in finding.message


@pytest.mark.parametrize(("text", "half"), [("16.5", "0.05"), ("92.66", "0.005"), ("17", "0.5"), ("2.960", "0.0005")])
def test_tolerance_is_half_a_unit_of_the_last_printed_digit(text, half):
    assert tolerance(text) == Fraction(half)


def _table(tmp_path, text: str):
    p = tmp_path / "t.csv"
    p.write_text("路径,分值,得分,指标值,实际值,等级\n" + text, encoding="utf-8")
    return read_table(p)


def test_grade_not_matching_total(tmp_path):
    rows = _table(tmp_path, "甲,100,89.99,,,\n合计,100,89.99,,,优\n")
    (f,) = audit(rows)
    assert (f.kind, f.published, f.expected) == ("grade", "优", "良")


def test_total_with_bonus_and_penalty(tmp_path):
    rows = _table(tmp_path, "甲,100,90,,,\n加分,10,8,,,\n加分/创新,5,5,,,\n加分/表现,5,3,,,\n扣分/作假,10,5,,,\n合计,100,93,,,优\n")
    assert audit(rows) == []
    rows = _table(tmp_path, "甲,100,90,,,\n加分,10,8,,,\n加分/创新,5,5,,,\n加分/表现,5,3,,,\n扣分/作假,10,5,,,\n合计,100,98,,,优\n")
    (f,) = audit(rows)
    assert (f.kind, f.expected) == ("total", "93")


def test_rule_checks_from_target_and_actual(tmp_path):
    rows = _table(tmp_path, "甲,10,9.53,100%,95.3%,\n乙,10,9.7,≥100%,95.3%,\n丙,2,1.5,≤4.99万元,6万元,\n丁,2,2,=24人,23人,\n合计,24,22.73,,,\n")
    found = {(f.path, f.kind, f.expected) for f in audit(rows)}
    assert found == {("乙", "rule", "9.53"), ("丙", "rule", "1.66"), ("丁", "rule", "0")}


def test_a_printed_execution_rate_is_checked_against_actual_over_target(tmp_path):
    """The 执行率 beside the budget: 152.52万元 of 883.56万元 is 17.26%; 17% as printed to whole
    percents agrees, 71.26% is a misprint; amounts in 元 and 万元 compare."""
    p = tmp_path / "t.csv"
    p.write_text("项目,路径,分值,得分,指标值,实际值,执行率\n"
                 "甲,预算执行率,10,1.73,883.56万元,152.52万元,17%\n甲,合计,10,1.73,,,\n"
                 "乙,预算执行率,10,1.73,883.56万元,\"1,525,200元\",71.26%\n乙,合计,10,1.73,,,\n"
                 "丙,预算执行率,10,1.73,883.56万元,152.52万元,17.26\n丙,合计,10,1.73,,,\n", encoding="utf-8")
    rows = read_table(p)
    found = [(project, f.kind, f.published, f.expected) for project in ("甲", "乙", "丙")
             for f in audit([x for x in rows if x.project == project])]
    assert found == [("乙", "rate", "71.26%", "17.26%")]


def test_score_above_weight_is_reported_once(tmp_path):
    rows = _table(tmp_path, "甲,15,30,≥750人,750人,\n合计,15,30,,,\n")
    kinds = [(f.path, f.kind) for f in audit(rows)]
    assert ("甲", "score_out_of_range") in kinds and ("甲", "rule") not in kinds


def test_checklist_score_must_be_a_possible_sum(tmp_path):
    rb = tmp_path / "r.jx"
    rb.write_text("规则集 清\n预算编制科学性 权重 5 清单\n  甲 1\n  乙 1.5\n  丙 1.5\n  丁 1\n", encoding="utf-8")
    book = Linker().load(rb)
    ok = _table(tmp_path, "预算编制科学性,5,3.5,,,\n")
    assert audit(ok, book) == []
    bad = _table(tmp_path, "预算编制科学性,5,4.2,,,\n")
    (f,) = audit(bad, book)
    assert f.kind == "checklist" and "4.2" in f.message


def test_tier_score_must_lie_in_a_tier(tmp_path):
    rb = tmp_path / "r.jx"
    rb.write_text("规则集 档\n效果 权重 3 档次 显著(2,3] 较好(1,2] 一般(0,1] 较差=0\n", encoding="utf-8")
    book = Linker().load(rb)
    assert audit(_table(tmp_path, "效果,3,2.5,,,\n"), book) == []
    assert audit(_table(tmp_path, "效果,3,0,,,\n"), book) == []
    findings = audit(_table(tmp_path, "效果,3,1.5,,,\n效果二,3,1,,,\n"), book)
    assert [(f.path, f.kind, f.line) for f in findings] == [("效果二", "unknown_path", 3)]  # 1.5 lies in 较好; 效果二 is not in the rulebook
    findings = audit(_table(tmp_path, "效果,4,3.5,,,\n"), book)
    assert {f.kind for f in findings} == {"weight_vs_rulebook", "tier"}


def test_bad_table_is_a_located_error_not_a_crash(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("路径,分值,得分\n甲,10,很多\n", encoding="utf-8")
    run = CliRunner().invoke(main, ["audit", str(p)])
    assert run.exit_code == 1 and "t.csv:2: 甲［此行无法读取］" in run.output and "“得分”不是数字：很多" in run.output and "Traceback" not in run.output
    p.write_text("分值,得分\n10,9\n", encoding="utf-8")
    run = CliRunner().invoke(main, ["audit", str(p)])
    assert run.exit_code == 1 and "t.csv:1:1" in run.output and "缺少列：路径" in run.output
    run = CliRunner().invoke(main, ["audit", str(tmp_path / "none.csv")])
    assert run.exit_code == 2


def test_csv_export_neutralises_formulas():
    from jxdsl.render import safe_cell

    assert safe_cell("=1+1") == "'=1+1" and safe_cell("+86") == "'+86" and safe_cell("2.96") == "2.96"


def test_result_rows_round_trip_through_the_audit_reader(tmp_path):
    book = Linker().load(ROOT / "rulebooks" / "shandong" / "qixia-2021.jx")
    (facts,) = load_facts(ROOT / "examples" / "qixia-2021" / "facts.yaml")
    rows = result_rows(evaluate(book, facts))
    assert rows[-1] == {"路径": "合计", "分值": "100", "得分": "92.66", "指标值": "", "实际值": "", "等级": "优"}


# ---- issue 13: the rulebook's rounding, leaf-only tables, rows that cannot be read -------------------
NATIONAL = ROOT / "rulebooks" / "national" / "self-eval.jx"


def _child(tmp_path, rounding: str):
    """The national self-evaluation rulebook with its own 小数 line."""
    p = tmp_path / "r.jx"
    p.write_text(f"规则集 核对 继承 {NATIONAL.as_posix()}\n{rounding}\n", encoding="utf-8")
    return Linker().load(p)


def _kinds(findings):
    return {(f.path, f.kind, f.expected) for f in findings}


# 8 × 59.4% ÷ 90% = 5.28 printed 5.2 (截断 to 1 decimal); 6 × 61.5% = 3.69 printed 4 (whole points);
# 4 × 66.2% ÷ 80% = 3.31 printed 3.31 (agrees with every rounding to 2 decimals)
ROUNDED = "产出指标/数/甲,8,5.2,≥90%,59.4%,\n产出指标/数/乙,6,4,≥100%,61.5%,\n产出指标/数/丙,4,3.31,≥80%,66.2%,\n合计,18,12.51,,,\n"
X = "产出指标/数/"  # under 来自目标表: a row of the project's own


def test_a_truncated_score_without_a_rulebook_is_a_rounding_note_naming_it(tmp_path):
    findings = audit(_table(tmp_path, ROUNDED))
    assert _kinds(findings) == {(X + "甲", "rounding", "5.28"), (X + "乙", "rounding", "3.69")}
    by_path = {f.path: f for f in findings}
    assert "按截断到 1 位小数即为 5.2" in by_path[X + "甲"].message and "按四舍五入到整数即为 4" in by_path[X + "乙"].message
    assert all(f.as_json()["severity"] == "note" for f in findings)


def test_rounding_notes_alone_say_so_and_exit_1_as_findings(tmp_path):
    """contracts.md: audit exits 1 when findings exist; a note is a finding of lower severity."""
    p = tmp_path / "t.csv"
    p.write_text("路径,分值,得分,指标值,实际值\n" + ROUNDED.replace(",\n", "\n"), encoding="utf-8")
    run = CliRunner().invoke(main, ["audit", str(p)])
    assert run.exit_code == 1 and "发现 2 处提示（没有错误）" in run.output and "［舍入方式不同，提示］" in run.output
    run = CliRunner().invoke(main, ["audit", str(p), "--format", "json"])
    assert run.exit_code == 1 and [(f["kind"], f["severity"], f["line"]) for f in json.loads(run.output)["findings"]] == [("rounding", "note", 2), ("rounding", "note", 3)]


def test_the_rulebooks_rounding_decides_and_the_tolerance_swallows_nothing(tmp_path):
    rows = _table(tmp_path, ROUNDED)
    truncating = _child(tmp_path, "小数 1 位 截断")  # 5.28 → 5.2, 3.69 → 3.6, 3.31 → 3.3
    assert _kinds(audit(rows, truncating)) == {(X + "乙", "rule", "3.6"), (X + "丙", "rule", "3.3")}
    half_up = _child(tmp_path, "小数 2 位 四舍五入")
    found = audit(rows, half_up)
    assert _kinds(found) == {(X + "甲", "rule", "5.28"), (X + "乙", "rule", "3.69")}  # 4 for 3.69 is not accepted as printed precision
    assert "与规则集的舍入不同" in {f.path: f for f in found}[X + "甲"].message


def test_round_up_and_a_default_lines_own_rounding_decide_the_expected_score(tmp_path):
    rows = _table(tmp_path, ROUNDED)
    up = _child(tmp_path, "小数 1 位 进一")  # 5.28 → 5.3, 3.69 → 3.7, 3.31 → 3.4
    assert _kinds(audit(rows, up)) == {(X + "甲", "rule", "5.3"), (X + "乙", "rule", "3.7"), (X + "丙", "rule", "3.4")}
    per_line = _child(tmp_path, "默认规则\n  定量 ≥ : 正向 小数 1 位 截断")  # only the ≥ line truncates
    assert _kinds(audit(rows, per_line)) == {(X + "乙", "rule", "3.6"), (X + "丙", "rule", "3.3")}


def test_a_tree_indicators_own_rounding_decides_its_expected_score(tmp_path):
    """An indicator of the rulebook's own tree with 小数 on its line: its row is checked with that
    rounding, its neighbours with the header's."""
    def book(own: str):
        p = tmp_path / "tree.jx"
        p.write_text(f"规则集 树\n小数 2 位\n甲 权重 8 正向 满分=90% {own}\n乙 权重 92 正向 满分=100%\n", encoding="utf-8")
        return Linker().load(p)

    rows = _table(tmp_path, "甲,8,5.2,≥90%,59.4%,\n乙,92,46,≥100%,50%,\n合计,100,51.2,,,\n")
    assert _kinds(audit(rows, book("小数 1 位 截断"))) == set()
    assert _kinds(audit(rows, book(""))) == {("甲", "rule", "5.28")}
    assert _kinds(audit(rows, book("小数 1 位 进一"))) == {("甲", "rule", "5.3")}


def test_a_table_printing_fewer_decimals_than_the_rulebook_is_noted_not_passed(tmp_path):
    """Every score whole: the table's printed precision is whole points; 4 for 3.69 is then a
    note (the rulebook keeps 2 decimals), 3 for 3.69 an error."""
    book = _child(tmp_path, "小数 2 位 四舍五入")
    rows = _table(tmp_path, f"{X}乙,6,4,≥100%,61.5%,\n{X}丁,6,3,≥100%,61.5%,\n合计,12,7,,,\n")
    found = audit(rows, book)
    assert _kinds(found) == {(X + "乙", "rounding", "3.69"), (X + "丁", "rule", "3.69")}
    assert "只印到整数" in {f.path: f for f in found}[X + "乙"].message


def test_a_score_no_rounding_explains_is_a_rule_error_without_a_rulebook(tmp_path):
    rows = _table(tmp_path, f"{X}甲,8,5.4,≥90%,59.4%,\n{X}乙,6,5,≥100%,61.5%,\n合计,14,10.4,,,\n")
    assert _kinds(audit(rows)) == {(X + "甲", "rule", "5.28"), (X + "乙", "rule", "3.69")}


def test_round_to_each_mode():
    from jxdsl.auditrule import other_rounding, round_to

    x = Fraction(21548, 10000)
    assert [round_to(x, 2, m) for m in ("四舍五入", "截断", "进一")] == [Fraction(215, 100), Fraction(215, 100), Fraction(216, 100)]
    assert other_rounding(Fraction(216, 100), x, 2) == "按进一到 2 位小数即为 2.16"
    assert other_rounding(Fraction(1), Fraction(43, 100), 2) is None  # 进一 to whole points explains nothing


LEAF_ONLY = "产出/数量/甲,20,18.5,,,\n产出/数量/乙,20,20,,,\n产出/质量/丙,10,7,,,\n效益/社会/丁,30,30,,,\n满意度/对象/戊,20,19,,,\n"


def test_a_leaf_only_table_checks_its_total_against_the_leaves(tmp_path):
    assert audit(_table(tmp_path, LEAF_ONLY + "合计,100,94.5,,,优\n")) == []
    (f,) = audit(_table(tmp_path, LEAF_ONLY + "合计,100,95.5,,,优\n"))
    assert (f.path, f.kind, f.expected) == ("合计", "total", "94.5")
    (f,) = audit(_table(tmp_path, LEAF_ONLY + "合计,90,94.5,,,优\n"))
    assert (f.path, f.kind, f.expected) == ("合计", "weight_sum", "100")


def test_printed_levels_are_checked_through_missing_ones(tmp_path):
    """效益 printed, 产出 not: no false 合计; a printed 一级 row without its 二级 rows is the sum of its leaves."""
    rows = _table(tmp_path, LEAF_ONLY + "效益,30,30,,,\n合计,100,94.5,,,\n")
    assert audit(rows) == []
    rows = _table(tmp_path, LEAF_ONLY + "产出,50,46.5,,,\n合计,100,94.5,,,\n")
    (f,) = audit(rows)
    assert (f.path, f.kind, f.expected, f.line) == ("产出", "score_sum", "45.5", 7) and "18.5 + 7" not in f.message
    rows = _table(tmp_path, LEAF_ONLY + "产出,40,45.5,,,\n合计,100,94.5,,,\n")
    assert _kinds(audit(rows)) == {("产出", "weight_sum", "50"), ("产出", "score_out_of_range", "≤ 40"), ("合计", "weight_sum", "90")}


TREE = """规则集 树
甲 权重 10
  甲一 权重 6
    子甲 权重 3 档次 好[2,3] 差[0,2)
    子乙 权重 3 档次 好[2,3] 差[0,2)
  甲二 权重 4
    子丙 权重 4 档次 好[3,4] 差[0,3)
乙 权重 5
  乙一 权重 3
    子丁 权重 3 档次 好[2,3] 差[0,2)
  乙二 权重 2
    子甲 权重 2 档次 好[1,2] 差[0,1)
"""


def _tree(tmp_path):
    p = tmp_path / "tree.jx"
    p.write_text(TREE, encoding="utf-8")
    return Linker().load(p)


def test_leaf_names_take_the_rulebooks_tree(tmp_path):
    book = _tree(tmp_path)
    leaves = "子乙,3,2,,,\n甲一/子甲,3,3,,,\n子丙,4,4,,,\n子丁,3,3,,,\n乙二/子甲,2,2,,,\n"
    assert audit(_table(tmp_path, leaves + "合计,15,14,,,\n"), book) == []
    assert _kinds(audit(_table(tmp_path, leaves + "合计,15,15,,,\n"), book)) == {("合计", "total", "14")}
    assert _kinds(audit(_table(tmp_path, leaves + "甲,10,10,,,\n合计,15,14,,,\n"), book)) == {("甲", "score_sum", "9")}
    assert _kinds(audit(_table(tmp_path, leaves.replace("子丙,4,4", "子丙,5,4") + "合计,15,14,,,\n"), book)) == {("甲/甲二/子丙", "weight_vs_rulebook", "4"), ("合计", "weight_sum", "16")}


def test_a_group_the_table_prints_only_partly_is_not_summed(tmp_path):
    """子乙 is not printed: 甲 cannot be rebuilt from its leaves, so neither 甲 nor 合计 is falsely flagged."""
    book = _tree(tmp_path)
    rows = _table(tmp_path, "甲一/子甲,3,3,,,\n子丙,4,4,,,\n子丁,3,3,,,\n乙二/子甲,2,2,,,\n甲,10,9,,,\n合计,15,14,,,\n")
    assert audit(rows, book) == []


def test_rows_the_rulebook_lacks_are_findings(tmp_path):
    book = _tree(tmp_path)
    found = audit(_table(tmp_path, "子甲,3,3,,,\n甲/甲三/子戊,1,1,,,\n子丙,4,4,,,\n"), book)
    assert [(f.path, f.kind, f.line) for f in found] == [("子甲", "unknown_path", 2), ("甲/甲三/子戊", "unknown_path", 3)]
    assert "乙/乙二/子甲、甲/甲一/子甲" in found[0].message
    national = Linker().load(NATIONAL)  # rows under 来自目标表 are the project's own: known
    rows = _table(tmp_path, "产出指标/数量指标/甲,50,50,≥1人,1人,\n其他指标/乙,10,10,,,\n")
    assert [(f.path, f.kind) for f in audit(rows, national)] == [("其他指标/乙", "unknown_path")]


def test_unreadable_rows_are_findings_and_the_audit_goes_on(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("路径,分值,得分,指标值,实际值\n甲,10,约5,,\n,5,5,,\n,,,,\n乙,1.2.3,1,,\n丙,5,6,,\n合计,20,,,\n", encoding="utf-8")
    rows = read_table(p)
    assert [r.line for r in rows] == [2, 3, 5, 6, 7]  # the blank line 4 is no row
    found = audit(rows)
    assert [(f.line, f.kind) for f in found] == [(2, "unreadable_row"), (3, "unreadable_row"), (5, "unreadable_row"), (6, "score_out_of_range")]
    assert "“得分”不是数字：约5" in found[0].message and "没有路径" in found[1].message and "“分值”" in found[2].message
    run = CliRunner().invoke(main, ["audit", str(p)])
    assert run.exit_code == 1 and "t.csv:3: （没有路径）［此行无法读取］此行无法核对：没有路径" in run.output and "t.csv:6: 丙［得分超出分值］" in run.output


def test_a_rows_own_scoring_method_decides_its_expected_score(tmp_path):
    """计分方法 (the score table's column, a target-table row's own rule) overrides the default:
    达标 on ≥ gives all or nothing, 定性 on numbers checks the tier; a misspelt one is a finding."""
    p = tmp_path / "t.csv"
    p.write_text(
        "路径,分值,得分,指标值,实际值,计分方法\n甲,10,0,≥100%,95.3%,达标\n乙,10,9.53,≥100%,95.3%,正向\n丙,10,9.53,≥100%,95.3%,\n"
        "丁,10,9,12人,12人,定性\n戊,10,9.53,≥100%,95.3%,酌情\n",
        encoding="utf-8",
    )
    rows = read_table(p)
    assert [r.method for r in rows] == ["达标", "正向", None, "定性", "酌情"]
    assert [(f.path, f.kind) for f in audit(rows)] == [("戊", "unreadable_row")]
    assert "计分方法“酌情”无法识别" in audit(rows)[0].message
    p.write_text(p.read_text(encoding="utf-8").replace(",0,≥100%,95.3%,达标", ",9.53,≥100%,95.3%,达标").replace("9,12人,12人,定性", "5,12人,12人,定性"), encoding="utf-8")
    found = [(f.path, f.kind, f.expected) for f in audit(read_table(p))]
    assert found[:2] == [("甲", "rule", "0"), ("丁", "tier", "8–10")], found


# ---- property: the engine's own table audits clean; one unit off in one leaf is flagged ----------------
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

LEVELS = {"产出指标": 50, "效益指标": 30, "满意度指标": 10}


@st.composite
def _projects(draw):
    """A self-evaluation table of one project: random 二级 groups and leaves whose weights add up to
    each 一级 weight, quantitative targets with actuals that lose points."""
    rows = [["预算执行率", "", "预算执行率", "10", f"{draw(st.integers(100, 999))}万元", f"{draw(st.integers(10, 999))}.{draw(st.integers(0, 99)):02d}万元"]]
    for top, weight in LEVELS.items():
        n = draw(st.integers(1, 4))
        cuts = sorted(draw(st.lists(st.integers(1, weight - 1), min_size=n - 1, max_size=n - 1, unique=True)))
        weights = [b - a for a, b in zip([0, *cuts], [*cuts, weight])]
        for i, w in enumerate(weights):
            target = draw(st.integers(2, 500))
            actual = f"{draw(st.integers(1, 600))}.{draw(st.integers(0, 9))}"
            if draw(st.booleans()):
                rows.append([top, f"二级{'甲乙'[i % 2]}", f"指标{i}", str(w), f"≥{target}人", f"{actual}人"])
            else:
                rows.append([top, f"二级{'甲乙'[i % 2]}", f"指标{i}", str(w), f"≤{target}%", f"{actual}%"])
    return rows


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(_projects(), st.sampled_from(["四舍五入", "截断"]), st.integers(0, 3), st.data())
def test_engine_tables_audit_clean_and_one_unit_off_is_flagged(tmp_path, rows, mode, digits, data):
    import csv

    book_path = tmp_path / f"r{digits}{mode}.jx"
    book_path.write_text(f"规则集 核对 继承 {NATIONAL.as_posix()}\n小数 {digits} 位 {mode}\n", encoding="utf-8")
    facts = tmp_path / "facts.csv"
    with facts.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([["项目", "一级指标", "二级指标", "三级指标", "分值", "年度指标值", "实际完成值"]] + [["某项目", *r] for r in rows])
    out = tmp_path / "score.csv"
    run = CliRunner().invoke(main, ["score", str(book_path), str(facts), "--format", "csv", "-o", str(out), "--engine", "interpreter"])
    assert run.exit_code == 0, run.output
    book = Linker().load(book_path)
    from jxdsl.audit import audit_file

    assert audit_file(str(out), book) == []
    with out.open(encoding="utf-8-sig", newline="") as fh:
        table = list(csv.DictReader(fh))
    leaves = [i for i, r in enumerate(table) if r["指标值"]]
    i = data.draw(st.sampled_from(leaves))
    score, weight, unit = Fraction(table[i]["得分"]), Fraction(table[i]["分值"]), Fraction(1, 10**digits)
    changed = score + unit if score + unit <= weight else score - unit
    table[i]["得分"] = f"{float(changed):.{digits}f}"
    with out.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(table[0]))
        w.writeheader()
        w.writerows(table)
    found = [f for f in audit_file(str(out), book) if f.path == table[i]["路径"]]
    assert [f.kind for f in found] == ["rule"], (table[i], found)


FORM = """某县项目支出绩效自评表（2023年度）
项目名称,一级指标,二级指标,三级指标,指标分值,年度指标值,实际完成值,自评得分,评价等级
丙项目,预算执行率,,预算执行率,10,200万元,150万元,7.5,
丙项目,产出指标,数量指标,培训人次,30,≥120人次,90人次,22.5,
丙项目,产出指标,时效指标,完成时间,20,2023年底,2023年底,20,
丙项目,效益指标,社会效益指标,带动就业,30,≥40人,40人,30,
丙项目,满意度指标,服务对象满意度指标,满意度,10,≥90%,88%,9.78,
丙项目,总分,,,100,,,{total},良
"""


def test_a_form_with_its_own_column_names_and_level_columns(tmp_path):
    """The usual print: 一级/二级/三级指标 columns instead of 路径, the form's column names, 总分."""
    p = tmp_path / "form.csv"
    p.write_text(FORM.format(total="89.78"), encoding="utf-8")
    rows = read_table(p)
    assert [r.key for r in rows][:2] == ["预算执行率/预算执行率", "产出指标/数量指标/培训人次"] and rows[-1].path == ("合计",)
    assert (rows[1].weight, rows[1].score, rows[1].target, rows[1].actual, rows[1].project) == (30, Fraction(45, 2), "≥120人次", "90人次", "丙项目")
    national = Linker().load(NATIONAL)
    assert audit(rows) == [] and audit(rows, national) == []
    p.write_text(FORM.format(total="90.78"), encoding="utf-8")
    assert _kinds(audit(read_table(p), national)) == {("合计", "total", "89.78"), ("合计", "grade", "优")}
    p.write_text("路径,权重,满分,得分\n甲,1,1,1\n", encoding="utf-8")
    run = CliRunner().invoke(main, ["audit", str(p)])
    assert run.exit_code == 1 and "“权重”和“满分”两列都可当作“分值”" in run.output and "Traceback" not in run.output


def test_a_leaf_printed_twice_counts_twice_in_its_parent(tmp_path):
    assert audit(_table(tmp_path, "甲,10,9,,,\n甲/乙,5,4,,,\n甲/乙,5,5,,,\n合计,10,9,,,\n")) == []
    (f,) = audit(_table(tmp_path, "甲,10,8,,,\n甲/乙,5,4,,,\n甲/乙,5,5,,,\n合计,10,8,,,\n"))
    assert (f.path, f.kind, f.expected) == ("甲", "score_sum", "9")


def test_a_workbook_form_with_merged_level_cells(tmp_path):
    """The form as printed in Excel: the title above the header, 项目名称 and 一级指标 merged over their rows."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    lines = [line.split(",") for line in FORM.format(total="90.78").strip().splitlines()]
    for line in lines:
        ws.append([float(c) if c.replace(".", "", 1).isdigit() else c for c in line])
    for c in ("A4", "A5", "A6", "A7", "A8", "B5"):
        ws[c] = None
    ws.merge_cells("A3:A8")
    ws.merge_cells("B4:B5")
    p = tmp_path / "form.xlsx"
    wb.save(p)
    rows = read_table(p)
    assert {r.project for r in rows} == {"丙项目"} and rows[2].key == "产出指标/时效指标/完成时间"
    assert _kinds(audit(rows, Linker().load(NATIONAL))) == {("合计", "total", "89.78"), ("合计", "grade", "优")}


def test_every_finding_kind_has_words_and_a_docs_row():
    """A kind added to the audit without its Chinese words or its line in docs/audit.md is caught here."""
    import re

    from jxdsl.audit import KIND_WORDS, SEVERITY

    root = Path(__file__).resolve().parent.parent
    source = (root / "jxdsl/audit.py").read_text(encoding="utf-8") + (root / "jxdsl/auditrule.py").read_text(encoding="utf-8")
    kinds = set(re.findall(r'Finding\([^,]+, "([a-z_]+)"', source)) | set(SEVERITY)
    docs = (root / "docs/audit.md").read_text(encoding="utf-8")
    assert "rate" in kinds and kinds <= set(KIND_WORDS), kinds - set(KIND_WORDS)
    assert [k for k in KIND_WORDS if f"| `{k}` | {KIND_WORDS[k]} |" not in docs] == []


@pytest.mark.parametrize("case", [c for c in CASES if c["id"] in ("qixia-2021", "kashgar-2021", "bazhou-2021")], ids=lambda c: c["id"])
def test_the_tools_own_xlsx_score_table_audits_clean_and_a_misprint_is_found(case, tmp_path):
    """The 得分表 workbook ``score --format xlsx`` writes is an audit table: level cells with their
    （N分） notes, 合计 merged across the levels, 评价等级 on its own row, notes merged under the table."""
    import openpyxl

    out = tmp_path / "得分表.xlsx"
    runner = CliRunner()
    assert runner.invoke(main, ["score", case["rulebook"], case["facts"], "--format", "xlsx", "-o", str(out)]).exit_code == 0
    audited = runner.invoke(main, ["audit", str(out), "--rulebook", case["rulebook"], "--format", "json"])
    assert (audited.exit_code, json.loads(audited.stdout)["findings"]) == (0, [])
    wb, cached = openpyxl.load_workbook(out), openpyxl.load_workbook(out, data_only=True)
    ws = wb["得分表"]
    for row in ws.iter_rows():  # openpyxl saves formulas without their values: keep the numbers
        for c in row:
            if isinstance(c.value, str) and c.value.startswith("="):
                c.value = cached["得分表"][c.coordinate].value
    total = next(row for row in ws.iter_rows() if row[0].value == "合计")
    score = [c for c in total if isinstance(c.value, (int, float))][-1]  # 分值, 得分: the 得分
    score.value = 1  # a misprinted total
    wb.save(out)
    found = json.loads(runner.invoke(main, ["audit", str(out), "--rulebook", case["rulebook"], "--format", "json"]).stdout)["findings"]
    assert ("合计", "total", "1") in {(f["path"], f["kind"], f["published"]) for f in found}


@pytest.mark.parametrize("case", [c for c in CASES if c["id"] in ("qixia-2021", "bazhou-2021")], ids=lambda c: c["id"])
def test_the_tools_own_word_score_table_audits_clean_and_a_misprint_is_found(case, tmp_path):
    """The first score table of the Word report (``score --format docx``), merged cells as python-docx reads them."""
    import docx

    out = tmp_path / "得分表.docx"
    runner = CliRunner()
    assert runner.invoke(main, ["score", case["rulebook"], case["facts"], "--format", "docx", "-o", str(out)]).exit_code == 0
    audited = runner.invoke(main, ["audit", str(out), "--rulebook", case["rulebook"], "--format", "json"])
    assert (audited.exit_code, json.loads(audited.stdout)["findings"]) == (0, [])
    doc = docx.Document(str(out))
    total = next(row for row in doc.tables[0].rows if row.cells[0].text == "合计")
    score = [c for c in total.cells if c.text.replace(".", "").isdigit()][-1]  # 分值, 得分: the 得分
    score.paragraphs[0].runs[0].text = "1"
    doc.save(str(out))
    found = json.loads(runner.invoke(main, ["audit", str(out), "--rulebook", case["rulebook"], "--format", "json"]).stdout)["findings"]
    assert ("合计", "total", "1") in {(f["path"], f["kind"], f["published"]) for f in found}


def test_a_word_file_without_a_score_table_is_a_located_error(tmp_path):
    import docx

    path = tmp_path / "报告.docx"
    d = docx.Document()
    d.add_paragraph("没有表格")
    d.save(str(path))
    r = CliRunner().invoke(main, ["audit", str(path)])
    assert r.exit_code == 1 and "Traceback" not in r.output and "中没有得分表" in r.output and f"{path}:1:1" in r.output
    (tmp_path / "坏.docx").write_bytes(b"not a zip")
    r = CliRunner().invoke(main, ["audit", str(tmp_path / "坏.docx")])
    assert r.exit_code == 1 and "无法读取 Word 文件" in r.output and "Traceback" not in r.output
