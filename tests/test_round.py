"""Rounding (小数 … 四舍五入/截断/进一, per indicator, per parent, per 默认规则 line), the declared
maximum (满分) and grades on 得分率 (等级 按得分率): parsing, checks, scores in every engine."""
from __future__ import annotations

import random
from decimal import ROUND_DOWN, ROUND_HALF_UP, ROUND_UP
from fractions import Fraction
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from test_engines import ROOT, RULEBOOKS, assert_engines_agree, table_for
from gen_tables import FACTS_COLUMNS, write_csv

from jxdsl import compile as compiled
from jxdsl.cli import main
from jxdsl.evaluate import evaluate
from jxdsl.explain import render_explanation
from jxdsl.facts import TargetRow
from jxdsl.kernel.sql import Sql
from jxdsl.link import Linker
from jxdsl.parse import parse
from jxdsl.printer import print_document
from jxdsl.units import round_fraction

from conftest import HEAD, F, by_path
from conftest import evaluate_text as _evaluate_text
from conftest import link_errors as _link_errors
from conftest import load_text as _load_text


def evaluate_text(text, *args, **kwargs):
    return _evaluate_text(HEAD + text, *args, **kwargs)


def link_errors(text, directory):
    return _link_errors(HEAD + text, directory)


def load_text(text):
    return _load_text(HEAD + text)


def scores(result) -> dict:
    return {k: r.score for k, r in by_path(result).items()}

ROUNDUP = ROOT / "tests/rulebooks/self-eval-roundup.jx"
TREE_ROUNDUP = ROOT / "tests/rulebooks/tree-roundup.jx"


def check(path) -> tuple[int, str, str]:
    r = CliRunner().invoke(main, ["check", str(path)])
    return r.exit_code, r.stdout, r.stderr


# ---- 进一 and the three modes ----------------------------------------------------------------------
def test_round_up_is_exact_and_away_from_zero():
    assert round_fraction(F("2.1548"), 2, "进一") == F("2.16")
    assert round_fraction(F("2.15"), 2, "进一") == F("2.15")  # already at 2 decimals: unchanged
    assert round_fraction(Fraction(1, 3), 0, "进一") == 1
    assert round_fraction(F("-2.1548"), 2, "进一") == F("-2.16")  # on the magnitude, as 截断 and 四舍五入
    assert round_fraction(F("-2.1548"), 2, "截断") == F("-2.15")


@settings(max_examples=300, deadline=None)
@given(st.fractions(min_value=-10**6, max_value=10**6, max_denominator=10**9), st.integers(0, 6))
def test_modes_are_ordered_and_close(x, digits):
    """截断 ≤ 四舍五入 ≤ 进一 in magnitude, each within one unit of the last decimal of x, and 进一
    never smaller than |x| — the same as Python's decimal module with the named roundings."""
    down, half, up = (round_fraction(x, digits, m) for m in ("截断", "四舍五入", "进一"))
    unit = Fraction(1, 10**digits)
    assert abs(down) <= abs(half) <= abs(up)
    assert abs(down) <= abs(x) <= abs(up)
    assert abs(up) - abs(down) <= unit and (up == down) == ((x / unit).denominator == 1)
    for mode, how in (("截断", ROUND_DOWN), ("四舍五入", ROUND_HALF_UP), ("进一", ROUND_UP)):
        assert round_fraction(x, digits, mode) == _reference(x, digits, how)


def _reference(x: Fraction, digits: int, how) -> Fraction:
    """The reference in integers: the magnitude scaled, its quotient and remainder."""
    scaled = x * 10**digits
    q, r = divmod(abs(scaled.numerator), scaled.denominator)
    if how == ROUND_UP and r:
        q += 1
    elif how == ROUND_HALF_UP and 2 * r >= scaled.denominator:
        q += 1
    return Fraction(q if x >= 0 else -q, 10**digits)


# ---- the SQL twin on DuckDB, through the engine ----------------------------------------------------
TWIN = """规则集 舍入对照
小数 3 位
事实
  甲 百分比
  乙 百分比
满分 60
等级 按得分率 优 ≥90% 良 ≥80% 中 ≥60% 差
甲一 权重 10 正向 满分=100% 取 甲 小数 2 位 进一
甲二 权重 10 正向 满分=100% 取 甲 小数 1 位 截断
甲三 权重 10 正向 满分=100% 取 甲 小数 0 位 进一
乙组 权重 30 小数 2 位 进一
  乙一 权重 15 反向 满分=100% 取 乙
  乙二 权重 15 正向 满分=100% 取 乙 小数 3 位 四舍五入
"""


def _value(rng: random.Random) -> str:
    return f"{rng.randint(1, 99)}.{rng.randint(0, 10**rng.randint(1, 6) - 1)}%"


def _twin(tmp: Path, seed: int) -> tuple[Path, Path]:
    rulebook = tmp / "twin.jx"
    rulebook.write_text(TWIN, encoding="utf-8")
    rng = random.Random(seed)
    rows = []
    for p in range(25):
        for name in ("甲", "乙"):
            r = dict.fromkeys(FACTS_COLUMNS, "")
            r.update({"项目": f"项目{p}", "类别": "事实", "名称": name, "值": _value(rng)})
            rows.append([r[c] for c in FACTS_COLUMNS])
    return rulebook, write_csv(tmp / "t.csv", FACTS_COLUMNS, rows)


@settings(max_examples=4, deadline=None)
@given(seed=st.integers(0, 10**6))
def test_sql_rounds_as_the_interpreter(seed, tmp_path_factory):
    """Random percentages through every rounding mode and digits: DuckDB gives the interpreter's bytes."""
    rulebook, table = _twin(tmp_path_factory.mktemp("twin"), seed)
    got = assert_engines_agree(rulebook, table)
    (code, out, _), _ = got["duckdb"]
    assert code == 0 and out.count('"total": null') == 0 and out.count("\n") == 25


def test_the_twin_rulebook_is_computed_in_sql(tmp_path):
    """Not handed to the interpreter as too long: the property above really compares SQL."""
    rulebook, table = _twin(tmp_path, 1)
    run = CliRunner().invoke(main, ["score", str(rulebook), str(table), "--engine", "duckdb", "--format", "jsonl"])
    assert run.exit_code == 0 and "引擎 duckdb，" in run.stderr and "由解释器精确计分" not in run.stderr, run.stderr


def test_a_broken_sql_round_up_fails_the_differential_test(monkeypatch, tmp_path):
    """If the SQL side alone rounded 进一 as 截断, the variants' differential test would catch it."""
    real = Sql.round

    def broken(self, x, digits, mode):
        return real(self, x, digits, "截断" if mode == "进一" else mode)

    compiled._CACHE.clear()
    compiled._TEXTS.clear()
    monkeypatch.setattr(Sql, "round", broken)
    try:
        table = table_for(ROUNDUP, 1, tmp_path, mistakes=0)
        with pytest.raises(pytest.fail.Exception, match="first difference"):
            assert_engines_agree(ROUNDUP, table, explain=False)
    finally:
        compiled._CACHE.clear()
        compiled._TEXTS.clear()


# ---- 小数 per indicator, per parent, from 调整 -------------------------------------------------------
def test_own_rounding_of_an_indicator_and_of_the_evaluator_score():
    text = (
        "小数 2 位\n"
        "预算执行率 权重 10 正向 满分=100% 小数 0 位 截断\n"
        "产出 权重 60 正向 满分=100% 小数 2 位 进一\n"
        "质量 权重 20 正向 满分=100%\n"
        "管理 权重 10 清单 小数 1 位 截断\n"
        "  制度健全 10\n"
    )
    result = evaluate_text(text, {"预算执行率": "98.7%", "产出": "71.548%", "质量": "33.3333%"}, {"管理": {"得分": "7.19"}})
    got = scores(result)
    assert got["预算执行率"] == 9  # 9.87 cut to whole points
    assert got["产出"] == F("42.93")  # 42.9288 rounded up
    assert got["质量"] == F("6.67")  # the header's 四舍五入
    assert got["管理"] == F("7.1")  # an evaluator's 得分 is rounded as the indicator says
    assert result.total == F("65.7")
    assert "预算执行率 0 位截断" in result.rounding and "产出 2 位进一" in result.rounding


def test_a_parent_rounding_reaches_its_leaves_unless_they_have_their_own():
    text = (
        "产出 权重 40 小数 0 位 截断\n"
        "  数量 权重 20 正向 满分=100%\n"
        "  质量 权重 20 正向 满分=100% 小数 1 位 进一\n"
        "效益 权重 60 正向 满分=100%\n"
    )
    got = scores(evaluate_text(text, {"数量": "88.8%", "质量": "66.66%", "效益": "33.333%"}))
    assert got["产出/数量"] == 17  # 17.76 cut by the parent's 小数 0 位 截断
    assert got["产出/质量"] == F("13.4")  # 13.332 up, its own
    assert got["产出"] == F("30.4")  # the parent: the sum of its rounded children, not rounded again
    assert got["效益"] == F("20")  # 19.9998 → 20.00 by the header


def test_adjust_changes_the_rounding_of_an_inherited_indicator(tmp_path):
    (tmp_path / "base.jx").write_text("规则集 基\n甲 权重 50 正向 满分=100%\n乙 权重 50 正向 满分=100%\n", encoding="utf-8")
    (tmp_path / "child.jx").write_text("规则集 子 继承 base.jx\n调整 甲 小数 0 位 进一\n", encoding="utf-8")
    from jxdsl.facts import Facts

    book = Linker().load(tmp_path / "child.jx")
    result = evaluate(book, Facts(project="p", values={"甲": "40.1%", "乙": "40.1%"}))
    assert scores(result)["甲"] == 21 and scores(result)["乙"] == F("20.05")


def test_default_lines_round_their_rows():
    text = (
        "小数 2 位\n"
        "产出 权重 100 来自目标表\n"
        "默认规则\n"
        "  定量 ≥ : 正向 小数 2 位 进一\n"
        "  定量 ≤ : 反向 小数 0 位 截断\n"
        "  定性 : 三档 好[80%,100%] 中[60%,80%) 差[0,60%) 小数 1 位 截断\n"
    )
    rows = (
        TargetRow("产出指标", "数量指标", "甲", "30", "≥1000人", "718.4人"),  # 21.552 → 21.56
        TargetRow("产出指标", "时效指标", "乙", "30", "≤10天", "13天"),  # 23.0769 → 23
        TargetRow("产出指标", "质量指标", "丙", "40", "好", "一般", "中", "31.99"),  # the evaluator's 31.99 → 31.9
    )
    got = scores(evaluate_text(text, targets=rows))
    assert got["产出/数量指标/甲"] == F("21.56")
    assert got["产出/时效指标/乙"] == 23
    assert got["产出/质量指标/丙"] == F("31.9")


def test_audit_expectation_follows_the_row_rounding():
    """audit's expected score comes from kernel.rows.score_row, which carries the 默认规则 line's 小数."""
    from jxdsl.inputs import ProjectInputs
    from jxdsl.kernel.pyscope import PyScope
    from jxdsl.kernel.rows import RowTexts, score_row
    from jxdsl.lower import lower

    book = load_text("产出 权重 100 来自目标表\n默认规则\n  定量 ≥ : 正向 小数 1 位 进一\n")
    got, _ = score_row(PyScope(lower(book), ProjectInputs("核对")), RowTexts("10", "≥1000人", "718.4人", None, None, None))
    assert got.score == F("7.2")  # 7.184 up to one decimal


# ---- the maximum and grades on 得分率 ----------------------------------------------------------------
def test_check_warns_when_weights_are_not_100_unless_declared(tmp_path):
    (tmp_path / "a.jx").write_text("规则集 甲\n甲 权重 45 酌情\n乙 权重 45 酌情\n", encoding="utf-8")
    code, out, err = check(tmp_path / "a.jx")
    assert code == 0 and "注意" in err and "90" in err and "满分 90" in err and "a.jx:1:1" in err
    (tmp_path / "b.jx").write_text("规则集 甲\n满分 90\n甲 权重 45 酌情\n乙 权重 45 酌情\n", encoding="utf-8")
    assert check(tmp_path / "b.jx") == (0, check(tmp_path / "b.jx")[1], "")


def test_declared_maximum_may_include_the_bonus_and_must_agree(tmp_path):
    base = "甲 权重 60 酌情\n乙 权重 40 酌情\n加分 上限 5\n  创新 加 5\n"
    assert not load_text("满分 105\n" + base).warnings
    assert not load_text("满分 100\n" + base).warnings
    errors = link_errors("满分 110\n" + base, tmp_path)
    assert any("110" in e.message and "100" in e.message and "105" in e.message for e in errors)


@pytest.mark.parametrize("rulebook", RULEBOOKS, ids=lambda p: p.stem)
def test_every_bundled_rulebook_checks_without_warnings(rulebook):
    code, _, err = check(rulebook)
    assert code == 0 and err == ""


def test_grade_on_rate_grades_a_90_point_form_fairly():
    text = "满分 90\n等级 按得分率 优 ≥90% 良 ≥80% 中 ≥60% 差\n甲 权重 45 酌情\n乙 权重 45 酌情\n"
    result = evaluate_text(text, evaluations={"甲": {"得分": "41"}, "乙": {"得分": "40"}})
    assert result.total == 81 and result.grade == "优"  # 81 / 90 = 90%
    result = evaluate_text(text, evaluations={"甲": {"得分": "41"}, "乙": {"得分": "39.99"}})
    assert result.grade == "良"  # 89.98…%
    head = render_explanation(result).splitlines()[0]
    assert "得分率" in head and "89.98%" in head
    on_points = evaluate_text(text.replace("等级 按得分率 优 ≥90% 良 ≥80% 中 ≥60% 差", "等级 优 ≥90 良 ≥80 中 ≥60 差"), evaluations={"甲": {"得分": "41"}, "乙": {"得分": "40"}})
    assert on_points.grade == "良" and "得分率" not in render_explanation(on_points).splitlines()[0]


def test_grade_on_rate_without_declared_maximum_uses_the_weights():
    text = "等级 按得分率 优 ≥90% 差\n甲 权重 50 酌情\n"
    assert evaluate_text(text, evaluations={"甲": {"得分": "45"}}).grade == "优"
    assert evaluate_text(text, evaluations={"甲": {"得分": "44.99"}}).grade == "差"


@pytest.mark.parametrize(("text", "fragment"), [
    ("等级 按得分率 优 ≥90 差\n甲 权重 100 酌情\n", "应写成百分数"),
    ("等级 优 ≥90% 差\n甲 权重 100 酌情\n", "是百分数，但等级按总分划分"),
    ("小数 1 位\n甲 权重 100 正向 满分=100% 小数 3 位 截断\n", "多于规则集开头规定的 1 位"),
    ("小数 2 位\n产出 权重 100 来自目标表\n默认规则\n  定量 ≥ : 正向 小数 4 位\n", "多于规则集开头规定的 2 位"),
    ("产出 权重 100 小数 0 位\n  甲 权重 100 来自目标表\n默认规则\n  定量 ≥ : 正向\n", "下的“产出/甲”来自目标表"),
    ("满分 90\n甲 权重 100 酌情\n", "声明的满分 90 与一级指标权重之和 100 不符"),
])
def test_wrong_uses_are_located_errors(text, fragment, tmp_path):
    errors = link_errors(text, tmp_path)
    assert any(fragment in e.message for e in errors), [e.message for e in errors]
    assert all(e.span is not None for e in errors)


@pytest.mark.parametrize(("line", "fragment"), [
    ("小数 -1 位", "-1"), ("小数 2 位 进二", "进一"), ("小数 7 位", "0 到 6"), ("甲 权重 100 酌情 小数 1.5 位", "0 到 6"),
    ("满分 0", "大于 0"), ("满分 100%", "单位"),
])
def test_wrong_words_are_syntax_errors(line, fragment, tmp_path):
    from jxdsl.errors import JxError

    with pytest.raises(JxError) as got:
        parse(f"规则集 甲\n{line}\n甲 权重 100 酌情\n")
    assert fragment in str(got.value)


# ---- the printer and the variants --------------------------------------------------------------------
def test_printed_rulebook_reads_back_the_same():
    text = ROUNDUP.read_text(encoding="utf-8") + "替换 产出指标 权重 50 来自目标表\n新增 产出指标\n  甲 权重 1 正向 满分=1 小数 1 位 进一 不适用时 满分\n"
    doc = parse(text)
    printed = print_document(doc)
    assert "小数 0 位 截断" in printed and "小数 1 位 进一 不适用时 满分" in printed and "等级 按得分率 优 ≥90%" in printed
    assert "满分 90" in printed and "定性 : 三档 达成[80%,100%] 部分达成[60%,80%) 未达成[0,60%) 小数 1 位 进一" in printed
    assert print_document(parse(printed)) == printed


@pytest.mark.parametrize("rulebook", [ROUNDUP, TREE_ROUNDUP], ids=lambda p: p.stem)
def test_variants_round_otherwise_than_the_header(rulebook, tmp_path):
    """The variants really exercise the new roundings (else the differential test checks nothing)."""
    from jxdsl.facts import load as load_facts

    book = Linker().load(rulebook)
    table = table_for(rulebook, 1, tmp_path, mistakes=0)
    changed = 0
    for p in load_facts(table):
        r = evaluate(book, p)
        changed += sum(1 for i in r.walk() for s in i.steps if s.kind == "rounding" and s.data.get("mode") != "四舍五入")
    assert changed >= 3


def test_diff_and_report_show_roundings_and_rate_grades(tmp_path):
    from jxdsl.diff import diff
    from jxdsl.report import _bands

    old, new = Linker().load(ROOT / "rulebooks/national/self-eval.jx"), Linker().load(ROUNDUP)
    changes = {(c.kind, c.field or "/".join(c.path)): c.new for c in diff(old, new)}
    assert changes[("rounding", "小数")] == "0 位 截断"
    assert changes[("setting", "满分")] == "90"
    assert "小数 2 位 进一" in changes[("setting", "默认规则 定量 ≥")]
    assert changes[("setting", "等级")].startswith("按得分率 优 ≥90%")
    assert _bands(new).startswith("优 得分率≥90%；良 得分率≥80%")


@pytest.mark.parametrize("rulebook", [ROUNDUP, TREE_ROUNDUP], ids=lambda p: p.stem)
def test_variants_are_computed_in_sql(rulebook, tmp_path):
    """DuckDB computes the variants itself (a project too long for 38 digits would go to the
    interpreter, and the differential test would then compare the interpreter with itself)."""
    table = table_for(rulebook, 1, tmp_path, n_projects=4, mistakes=0)
    run = CliRunner().invoke(main, ["score", str(rulebook), str(table), "--engine", "duckdb", "--format", "jsonl"])
    assert "引擎 duckdb，" in run.stderr and "由解释器精确计分" not in run.stderr, run.stderr[-300:]
