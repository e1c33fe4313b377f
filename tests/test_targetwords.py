"""Comparison words in 年度指标值 and 实际完成值 (issue 13, Language 6): 不少于12种 is ≥12种, 控制在3%以内
is ≤3%, in every engine and in the audit; words that are no comparison (提高, 合格, 达到预期) stay
qualitative.  ``units.split_cmp`` defines the reading, ``kernel/sqltext.cmp_parts`` is its SQL twin."""
from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_engines import assert_engines_agree
from test_numbers import SELF_EVAL, _table, assert_twins, sql_readings

from jxdsl.audit import audit, read_table
from jxdsl.link import Linker
from jxdsl.units import CMP_WORDS_AFTER, CMP_WORDS_BEFORE, split_cmp


@pytest.mark.parametrize("text,op,body", [
    ("不少于8项", ">=", "8项"), ("不低于 90 %", ">=", "90 %"), ("不小于2.5万元", ">=", "2.5万元"), ("达到98%", ">=", "98%"),
    ("300户以上", ">=", "300户"), ("85%及以上", ">=", "85%"), ("不超过15天", "<=", "15天"), ("不高于3万元", "<=", "3万元"),
    ("不大于1%", "<=", "1%"), ("不多于2次", "<=", "2次"), ("10个工作日以内", "<=", "10个工作日"), ("0.5%以下", "<=", "0.5%"),
    ("2起及以下", "<=", "2起"), ("控制在 8% 以内", "<=", "8%"), ("控制在8%以下", "<=", "8%"), ("控制在120万元", "<=", "120万元"),
    ("达到２０个以上", ">=", "20个"),
    # a contradicting suffix stays in the value, which then is no number (a located error, not words)
    ("不少于5人以下", ">=", "5人以下"), ("控制在3%以上", "<=", "3%以上"),
    # signs first, as before
    ("≥12种", ">=", "12种"), ("＜＝5%", "<=", "5%"),
])
def test_comparison_words(text, op, body):
    assert split_cmp(text) == (op, body)


@pytest.mark.parametrize("text", ["提高", "合格", "按时", "长期", "达到预期", "达到国家标准", "以上", "以内完成", "持续提升", "12人", "2022年底", ""])
def test_words_without_a_number_are_no_comparison(text):
    assert split_cmp(text)[0] is None


def test_sql_twin_on_written_words():
    texts = ["不少于8项", "85%及以上", "控制在 8% 以内", "控制在3%以上", "不少于1,50人", "达到预期", "以内5", "5以内以内", "不低于\u300012种",
             "１２种以上", "达到1e5人", "不超过" + "9" * 101 + "元", "提高"]
    rows, _ = sql_readings(texts)
    for t in texts:
        assert (rows[t]["c_op"], rows[t]["c_body"]) == split_cmp(t), t
    assert_twins(texts)


_PIECES = st.sampled_from([*CMP_WORDS_BEFORE, *CMP_WORDS_AFTER, "1", "12", "5.5", ",", "000", " ", "\u3000", "%", "种", "万元", "≥", "达到预期", "１"])


@settings(max_examples=10, deadline=None)  # one DuckDB query per example
@given(st.lists(st.lists(_PIECES, min_size=1, max_size=6).map("".join), min_size=40, max_size=80))
def test_sql_twin_splits_as_units_does(texts):
    rows, _ = sql_readings(texts)
    for t in texts:
        assert (rows[t]["c_op"], rows[t]["c_body"]) == split_cmp(t), t
    assert_twins(texts)


def _rows(name, target, actual):
    return [
        [name, "预算执行率", "", "预算执行率", "10", "100万元", "100万元", "", "", ""],
        [name, "产出指标", "数量指标", "培训品种", "50", target, actual, "", "", ""],
        [name, "效益指标", "社会效益", "效果", "30", "提高", "提高", "", "", ""],
        [name, "满意度指标", "满意度", "满意度", "10", "90%及以上", "达到95%", "", "", ""],
    ]


CASES = {
    "甲": ("不少于12种", "9种", 37.5),  # 正向 9/12 × 50
    "乙": ("控制在4%以内", "5%", 40),  # 反向 4/5 × 50
    "丙": ("16种以上", "达到16种", 50),  # a word in the actual value: its bound
    "丁": ("不超过 20 天", "25天", 40),
}


def _scored(out: str) -> dict:
    projects = {p["project"]: p for p in map(json.loads, out.splitlines())}
    return {k: {"/".join(i["path"]): i for i in p["indicators"]} for k, p in projects.items()}


def test_comparison_words_score_in_every_engine(tmp_path):
    table = _table(tmp_path / "t.csv", [r for k, (t, a, _) in CASES.items() for r in _rows(k, t, a)])
    got = assert_engines_agree(SELF_EVAL, table)
    (code, out, err), (_, explained, _) = got["duckdb"]
    assert code == 0, err
    scored = _scored(out)
    for k, (target, _, score) in CASES.items():
        assert scored[k]["产出指标/数量指标/培训品种"]["score"] == score, k
        assert scored[k]["满意度指标/满意度/满意度"]["score"] == 10
        assert target.replace(" ", "") in explained.replace(" ", "")  # the original words are quoted


# Spark reads these cases in test_engines.test_spark_agrees (one Spark run carries them with a generated table)


def test_words_no_comparison_stay_qualitative(tmp_path):
    rows = _rows("甲", "达到预期", "达到预期") + _rows("乙", "不少于5人以下", "6人")
    got = assert_engines_agree(SELF_EVAL, _table(tmp_path / "t.csv", rows))
    (code, out, err), _ = got["duckdb"]
    scored = _scored(out)
    assert scored["甲"]["产出指标/数量指标/培训品种"]["score"] == 50  # words met as written
    assert code == 1 and "项目“乙”" in err and "5人以下" in err and scored["乙"]["产出指标/数量指标/培训品种"]["score"] is None  # a located error, not silently words


def test_audit_reads_the_words_as_the_engines(tmp_path):
    p = tmp_path / "a.csv"
    p.write_text("路径,分值,得分,指标值,实际值,等级\n甲,50,37.5,不少于12种,9种,\n乙,50,50,控制在4%以内,5%,\n合计,100,87.5,,,\n", encoding="utf-8")
    findings = audit(read_table(p), Linker().load(SELF_EVAL))
    assert [(f.path, f.kind, f.expected) for f in findings if f.kind == "rule"] == [("乙", "rule", "40")]


def test_an_actual_value_with_an_upper_bound_is_said_as_such(tmp_path):
    """实际完成值 ≤3% / 3%以内 is counted as 3% and the explanation says 按上限 (≥ / 以上: 按下限), in
    every engine."""
    rows = _rows("甲", "≤4%", "3%以内") + _rows("乙", "≥12种", "≥13种")
    got = assert_engines_agree(SELF_EVAL, _table(tmp_path / "t.csv", rows))
    (code, out, err), (_, explained, _) = got["duckdb"]
    assert code == 0, err
    assert "实际完成值写作“3%以内”，按上限3%计" in explained
    assert "实际完成值写作“≥13种”，按下限13种计" in explained
    assert _scored(out)["甲"]["产出指标/数量指标/培训品种"]["score"] == 50
