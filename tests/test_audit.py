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
    assert run.exit_code == (1 if {k for _, k in EXPECTED[case["id"]]} - {"rounding"} else 0)
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
