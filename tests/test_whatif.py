"""What-if solving (jxdsl/whatif.py, jxdsl/kernel/symbolic.py): the value found is exact, reaches
the goal when the project is rescored by the interpreter, and a value a hair short of it does not."""
from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from jxdsl.cli import main
from jxdsl.errors import FactError, UsageError
from jxdsl.evaluate import evaluate
from jxdsl.facts import load as load_facts
from jxdsl.inputs import from_facts
from jxdsl.link import Linker
from jxdsl.units import to_decimal
from jxdsl.whatif import Goal, sentence, solve, to_json, with_fact

ROOT = Path(__file__).resolve().parent.parent
QIXIA = (ROOT / "rulebooks/shandong/qixia-2021.jx", ROOT / "examples/qixia-2021/facts.yaml")
XING = (ROOT / "rulebooks/shanxi/xingxian-2022-self-eval.jx", ROOT / "examples/xingxian-2022-shuzi/facts.yaml")
EPS = Fraction(1, 10**9)

SMALL = """规则集 测试-求解
等级 优 ≥90 良 ≥80 中 ≥60 差
小数 {digits} 位 {mode}

事实
  实际支出 金额
  预算 金额
  成本 金额
  满意度 百分比
  工期 数值

执行率 = 实际支出 / 预算
节约率 = (预算 - 实际支出) / 预算

产出 权重 60
  执行 权重 20 正向 满分=100% 取 执行率
  成本 权重 20 反向 满分=50万元
  节约 权重 20 分段 ≥10%:20 ≥5%:12 ≥0%:6 否则:0 取 节约率
效益 权重 40
  满意度 权重 20 达标 ≥90%
  工期 权重 10 正向 满分=100 零分=60
  质量 权重 10 得分 = 分值 × 最小(满意度, 1)
"""
FACTS = """项目: 测试项目
事实:
  实际支出: 80万元
  预算: 100万元
  成本: 60万元
  满意度: 85%
  工期: 75
  负责人: 张三
"""


def _project(tmp_path, text=SMALL, facts=FACTS, digits=2, mode="四舍五入"):
    book = tmp_path / "t.jx"
    book.write_text(text.format(digits=digits, mode=mode), encoding="utf-8")
    path = tmp_path / "f.yaml"
    path.write_text(facts, encoding="utf-8")
    return Linker().load(book), from_facts(load_facts(path)[0])


def _load(pair):
    return Linker().load(pair[0]), from_facts(load_facts(pair[1])[0])


def _measure(book, inputs, goal):
    r = evaluate(book, inputs)
    if goal.kind in ("full", "indicator"):
        return next(i.score for i in r.walk() if i.path == goal.path)
    return r.total


def _reaches(book, inputs, fact, goal, bound, value, unit, up: bool):
    got = _measure(book, with_fact(inputs, fact, f"{_decimal(value, up)}{unit}"), goal)
    return got is not None and got >= bound


def _decimal(v: Fraction, up: bool) -> str:
    """v as a decimal of 15 places, rounded up or down (a value need not terminate: 200000/3999)."""
    return format(to_decimal(v, 15, "进一" if up else "截断"), "f")


def _check(book, inputs, fact, goal, bound):
    """The solution reaches the goal and is the boundary: a value just outside it does not."""
    s = solve(book, inputs, fact, goal)
    assert s.reachable
    step = {"至少": -EPS, "大于": EPS, "至多": EPS, "小于": -EPS}[s.side]
    inside = s.value if s.side in ("至少", "至多") else s.value + step
    outside = s.value + step if s.side in ("至少", "至多") else s.value
    assert _reaches(book, inputs, fact, goal, bound, inside, s.unit, s.side in ("至少", "大于"))
    assert not _reaches(book, inputs, fact, goal, bound, outside, s.unit, s.side in ("至多", "小于"))
    assert s.reached >= bound
    return s


# ---- published projects ---------------------------------------------------------------------------
def test_qixia_spending_for_a_total():
    book, inputs = _load(QIXIA)
    s = _check(book, inputs, "实际支出资金", Goal("total", points=Fraction("92.7")), Fraction("92.7"))
    assert (s.value, s.side, s.text, s.met) == (Fraction("3174.9995"), "至少", "3174.9995万元", False)
    assert sentence(s) == "实际支出资金 至少为 3174.9995万元 时，总分 92.7（优）"
    assert to_json(s)["value"] == "3174.9995" and to_json(s)["reachable"]


def test_a_goal_between_rounding_steps():
    """92.695 is no total a 2-decimal score can make: it takes what 92.7 takes."""
    book, inputs = _load(QIXIA)
    s = _check(book, inputs, "实际支出资金", Goal("total", points=Fraction("92.695")), Fraction("92.695"))
    assert s.value == Fraction("3174.9995")


def test_qixia_grade_already_met_gives_the_boundary():
    book, inputs = _load(QIXIA)
    s = _check(book, inputs, "实际支出资金", Goal("grade", grade="优"), Fraction(90))
    assert s.met and s.value == Fraction("312.7295") and s.grade == "优"
    assert "已总分达到 90（优）" in sentence(s)


def test_qixia_unreachable_reports_the_best_total():
    book, inputs = _load(QIXIA)
    s = solve(book, inputs, "实际支出资金", Goal("total", points=Fraction(99)))
    assert not s.reachable and s.total == Fraction("92.7")
    assert "最高只能达到 92.7" in sentence(s)


def test_qixia_band_rule_full_marks():
    book, inputs = _load(QIXIA)
    path = ("产出", "产出成本", "成本节约率", "产业项目和基础设施项目成本节约率")
    s = _check(book, inputs, "实际成本", Goal("full", path=path), Fraction(2))
    assert s.side == "至多" and s.value == Fraction("1743.10608")  # 节约率 ≥ 4%: 1815.7355 × 96%


def test_rescaled_total_rounds_a_sum_of_rounded_scores(tmp_path):
    """不适用 按比例折算 with 截断 to 3 places: the total is a rounding of a sum of rounded scores."""
    facts = tmp_path / "facts.yaml"
    facts.write_text(QIXIA[1].read_text(encoding="utf-8").replace("评价:\n", "评价:\n  过暖冬补贴完成情况: {不适用: 是}\n", 1), encoding="utf-8")
    book, inputs = _load((ROOT / "tests/rulebooks/tree-options.jx", facts))
    s = _check(book, inputs, "实际支出资金", Goal("grade", grade="优"), Fraction(90))
    assert s.met and s.value == Fraction("424.04")
    best = solve(book, inputs, "实际支出资金", Goal("total", points=Fraction(99)))
    assert not best.reachable and best.total == Fraction("92.626")  # 91.7 ÷ 99 × 100, 截断


def test_xing_county_self_evaluation():
    book, inputs = _load(XING)
    s = _check(book, inputs, "全年执行数", Goal("total", points=Fraction("99.2")), Fraction("99.2"))
    assert s.value == Fraction("145.875") and s.text == "145.875万元"


# ---- every rule kind on a numeric fact ---------------------------------------------------------------
@pytest.mark.parametrize("fact, path, value, side", [
    ("成本", ("产出", "成本"), Fraction(200000, 3999), "至多"),  # 反向: 20 × 50 ÷ 成本 rounds to 20 from 19.995
    ("满意度", ("效益", "满意度"), Fraction(90), "至少"),  # 达标
    ("满意度", ("效益", "质量"), Fraction("99.95"), "至少"),  # 公式
    ("工期", ("效益", "工期"), Fraction("99.98"), "至少"),  # 正向 with 零分
    ("实际支出", ("产出", "执行"), Fraction("99.975"), "至少"),  # 正向 on a derived value
    ("实际支出", ("产出", "节约"), Fraction(90), "至多"),  # 分段 on a derived value (≥10%)
])
def test_full_marks_by_rule_kind(tmp_path, fact, path, value, side):
    book, inputs = _project(tmp_path)
    weight = next(n.weight for n in evaluate(book, inputs).walk() if n.path == path)
    s = _check(book, inputs, fact, Goal("full", path=path), weight)
    assert (s.value, s.side) == (value, side)


def test_a_fact_not_given_yet(tmp_path):
    book, inputs = _project(tmp_path, facts=FACTS.replace("  工期: 75\n", ""))
    s = _check(book, inputs, "工期", Goal("full", path=("效益", "工期")), Fraction(10))
    assert (s.value, s.current) == (Fraction("99.98"), None)


def test_two_rules_on_one_fact_pull_apart(tmp_path):
    """More spending raises 执行 and lowers 节约: the total for 良 is reached in a window."""
    book, inputs = _project(tmp_path, facts=FACTS.replace("满意度: 85%", "满意度: 95%"))
    s = _check(book, inputs, "实际支出", Goal("total", points=Fraction(84)), Fraction(84))
    assert s.side == "至多" or s.met


@pytest.mark.parametrize("mode", ["截断", "四舍五入", "进一"])
def test_a_sum_of_rounded_scores(tmp_path, mode):
    """One fact in two proportional rules: the total is a sum of two rounded terms (``cells``)."""
    text = "规则集 两项\n等级 优 ≥90 良 ≥80 中 ≥60 差\n小数 {digits} 位 {mode}\n\n事实\n  产量 数值\n\n甲 权重 10 正向 满分=100 取 产量\n乙 权重 10 正向 满分=70 取 产量\n丙 权重 80 档次 好=80 差=0\n"
    facts = "项目: 两项\n事实:\n  产量: 10\n评价:\n  丙: {档次: 好}\n"
    book, inputs = _project(tmp_path, text=text, facts=facts, digits=1, mode=mode)
    s = _check(book, inputs, "产量", Goal("total", points=Fraction(96)), Fraction(96))
    assert Fraction(60) < s.value < Fraction(70)  # 10 × 产量/100 + 10 × 产量/70, each rounded, reach 16


@pytest.mark.parametrize("digits, mode, bound, value, side", [
    (0, "截断", "9", "96", "至少"),
    (0, "四舍五入", "9", "94", "至少"),
    (0, "进一", "9", "92", "大于"),
    (2, "截断", "8.74", "94.96", "至少"),
    (2, "四舍五入", "8.74", "94.94", "至少"),
    (2, "进一", "8.74", "94.92", "大于"),
])
def test_rounding_modes(tmp_path, digits, mode, bound, value, side):
    """工期 scores (工期 − 60)/4 before rounding: each mode moves where 9 (or 8.74) is reached."""
    book, inputs = _project(tmp_path, digits=digits, mode=mode)
    goal = Goal("indicator", points=Fraction(bound), path=("效益", "工期"))
    s = _check(book, inputs, "工期", goal, Fraction(bound))
    assert (s.value, s.side) == (Fraction(value), side)


@settings(max_examples=30, deadline=None, derandomize=True, phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
@given(
    weight=st.integers(1, 30),
    target=st.integers(1, 300),
    digits=st.integers(0, 3),
    mode=st.sampled_from(["截断", "四舍五入", "进一"]),
    direction=st.sampled_from(["正向", "反向"]),
    goal=st.integers(1, 99),
)
def test_solved_value_is_the_boundary(tmp_path_factory, weight, target, digits, mode, direction, goal):
    """For random small rulebooks: the value reaches the goal when rescored, one a hair short does not."""
    tmp = tmp_path_factory.mktemp("p")
    text = f"规则集 随机\n等级 优 ≥90 良 ≥80 中 ≥60 差\n小数 {{digits}} 位 {{mode}}\n\n事实\n  产量 数值\n\n甲 权重 {weight} {direction} 满分={target} 取 产量\n乙 权重 {100 - weight} 档次 好={100 - weight} 差=0\n"
    facts = "项目: 随机\n事实:\n  产量: 1\n评价:\n  乙: {档次: 好}\n"
    book, inputs = _project(tmp, text=text, facts=facts, digits=digits, mode=mode)
    bound = Fraction(goal, 100) * weight + (100 - weight)  # 乙 is full: the goal is on 甲
    bound = Fraction(int(bound * 10**digits), 10**digits)
    s = solve(book, inputs, "产量", Goal("total", points=bound))
    if not s.reachable:
        assert _measure(book, with_fact(inputs, "产量", f"{target}"), Goal("total")) < bound
        return
    if s.value is None:  # reached whatever the value
        assert _measure(book, with_fact(inputs, "产量", "0"), Goal("total")) >= bound
        return
    _check(book, inputs, "产量", Goal("total", points=bound), bound)


# ---- errors ---------------------------------------------------------------------------------------------
def test_refusals(tmp_path):
    book, inputs = _project(tmp_path)
    with pytest.raises(FactError, match="是否应为“实际支出”"):
        solve(book, inputs, "实际支", Goal("grade", grade="优"))
    with pytest.raises(FactError, match="是文字"):
        solve(book, inputs, "负责人", Goal("grade", grade="优"))
    with pytest.raises(FactError, match="派生值"):
        solve(book, inputs, "执行率", Goal("grade", grade="优"))
    with pytest.raises(UsageError, match="没有等级“特优”"):
        solve(book, inputs, "工期", Goal("grade", grade="特优"))
    with pytest.raises(UsageError, match="没有指标"):
        solve(book, inputs, "工期", Goal("full", path=("效益", "工")))


def test_a_tier_is_no_fact(tmp_path):
    text = "规则集 档次\n等级 优 ≥90 良 ≥80 中 ≥60 差\n\n事实\n  产量 数值\n\n甲 权重 20 正向 满分=100 取 产量\n乙 权重 80 档次 好=80 差=0\n"
    book, inputs = _project(tmp_path, text=text, facts="项目: 档次\n事实:\n  产量: 10\n评价:\n  乙: {档次: 好}\n")
    with pytest.raises(FactError, match="评价人的选择"):
        solve(book, inputs, "乙", Goal("next"))


def _cli(*args):
    return CliRunner().invoke(main, ["solve", *map(str, args)])


def test_cli(tmp_path):
    book, facts = tmp_path / "t.jx", tmp_path / "f.yaml"
    book.write_text(SMALL.format(digits=2, mode="四舍五入"), encoding="utf-8")
    facts.write_text(FACTS, encoding="utf-8")
    got = _cli(book, facts, "--fact", "工期", "--full", "效益/工期")
    assert got.exit_code == 0 and got.output.strip() == "工期 至少为 99.98 时，总分 71.17（中）"
    got = _cli(book, facts, "--fact", "满意度", "--next-grade", "--format", "json")
    assert got.exit_code == 0 and json.loads(got.output)["text"] == "90%"
    unknown = _cli(book, facts, "--fact", "实际支", "--total", "70")
    assert unknown.exit_code == 1 and "是否应为“实际支出”" in unknown.output and "Traceback" not in unknown.output
    assert _cli(book, facts, "--fact", "负责人", "--total", "70").exit_code == 1
    unreachable = _cli(book, facts, "--fact", "工期", "--total", "99")
    assert unreachable.exit_code == 1 and "无法使总分达到 99" in unreachable.output
    assert _cli(book, facts, "--fact", "工期").exit_code == 2
    assert _cli(book, facts, "--fact", "工期", "--total", "九十").exit_code == 2


def test_cli_table_project():
    table = ROOT / "examples/xingxian-2022-table/self-eval.csv"
    got = _cli(XING[0], table, "--fact", "全年执行数", "--next-grade", "--project", "2022年脱贫劳动力稳岗补助")
    assert got.exit_code == 0 and "至少为 706.40622万元 时，总分 90（优）" in got.output
    assert _cli(XING[0], table, "--fact", "全年执行数", "--next-grade").exit_code == 2
