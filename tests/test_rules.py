"""Each rule kind, at its boundaries, with exact Fraction scores."""
from __future__ import annotations

import pytest

from jxdsl.evaluate import evaluate
from jxdsl.explain import explanation, render_explanation, to_json
from jxdsl.facts import TargetRow
from jxdsl.facts import load as load_facts

from conftest import F, by_path, load_text, messages

FIXED = "预算执行率 权重 10 正向 满分=100%\n"


# ---- 正向 / 反向 ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "expected"),
    [("95.3%", "9.53"), ("100%", "10"), ("120%", "10"), ("0%", "0"), ("99.994%", "10"), ("99.995%", "10"), ("50%", "5")],
)
def test_fixed_point_proportional(one, value, expected):
    r, result = one(FIXED, {"预算执行率": value})
    assert r.score == F(expected)
    assert r.status == "scored"
    assert result.total == F(expected)
    assert not result.errors


def test_proportional_rounds_half_up_exactly(one):
    # 3 × 98.8214% = 2.964642 → 2.96
    r, _ = one("预算执行率 权重 3 正向 满分=100%\n", {"预算执行率": "98.8214%"})
    assert r.score == F("2.96")
    # exactly x.xx5 rounds up: 1 × 12.5% = 0.125 → 0.13 (banker's rounding would give 0.12)
    r, _ = one("预算执行率 权重 1 正向 满分=100%\n", {"预算执行率": "12.5%"})
    assert r.score == F("0.13")
    # 5 × 53.5% = 2.675 exactly → 2.68 (binary floats would give 2.67)
    r, _ = one("预算执行率 权重 5 正向 满分=100%\n", {"预算执行率": "53.5%"})
    assert r.score == F("2.68")
    # 0.005 → 0.01 at the very bottom
    r, _ = one("预算执行率 权重 1 正向 满分=100%\n", {"预算执行率": "0.5%"})
    assert r.score == F("0.01")


def test_rounding_truncate_mode(one):
    r, _ = one("小数 2 位 截断\n甲 权重 3 正向 满分=100%\n", {"甲": "89.3333%"})
    assert r.score == F("2.67")  # 2.679999 truncated
    r, _ = one("小数 1 位\n甲 权重 3 正向 满分=100%\n", {"甲": "89.3333%"})
    assert r.score == F("2.7")


def test_rounding_step_recorded(one):
    r, _ = one("预算执行率 权重 3 正向 满分=100%\n", {"预算执行率": "98.8214%"})
    kinds = [s.kind for s in r.steps]
    assert "proportional" in kinds and "rounding" in kinds
    text = explanation(r)
    assert "3 × 98.8214%" in text and "2.96" in text
    raw = next(s for s in r.steps if s.kind == "rounding")
    assert raw.data["raw"] == "2.964642" and raw.data["score"] == "2.96"


def test_positive_money_target(one):
    # 7 × 239.5 / 567.5 = 2.9542… → 2.95
    r, _ = one("产出成本 权重 7 正向 满分=567.5万元\n", {"产出成本": "239.5万元"})
    assert r.score == F("2.95")


def test_positive_money_mixed_units_convert_exactly(one):
    # 2395000元 is exactly 239.5万元
    r, _ = one("产出成本 权重 7 正向 满分=567.5万元\n", {"产出成本": "2395000元"})
    assert r.score == F("2.95")
    r, _ = one("产出成本 权重 4 正向 满分=1亿元\n", {"产出成本": "5000万元"})
    assert r.score == 2


def test_positive_zero_target_and_zero_actual(one):
    r, _ = one("甲 权重 7 正向 满分=0万元\n", {"甲": "239.5万元"})
    assert r.score == 7
    r, _ = one("甲 权重 7 正向 满分=0万元\n", {"甲": "0万元"})
    assert r.score == 7
    r, _ = one("甲 权重 7 正向 满分=100万元\n", {"甲": "0万元"})
    assert r.score == 0
    assert r.status == "scored"


def test_positive_negative_value_floors_at_zero(one):
    r, _ = one("甲 权重 7 正向 满分=100%\n", {"甲": "-5%"})
    assert r.score == 0


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("4.99万元", "2"),  # at target: full
        ("3万元", "2"),  # below target: full
        ("0万元", "2"),  # zero actual: full
        ("9.98万元", "1"),  # 2 × 4.99/9.98
        ("6万元", "1.66"),  # 2 × 4.99/6 = 1.66333
        ("49900元", "2"),  # same amount written in 元
    ],
)
def test_negative_proportional(one, value, expected):
    r, _ = one("培训支出 权重 2 反向 满分=4.99万元\n", {"培训支出": value})
    assert r.score == F(expected)


def test_negative_zero_target(one):
    r, _ = one("甲 权重 2 反向 满分=0万元\n", {"甲": "5万元"})
    assert r.score == 0
    r, _ = one("甲 权重 2 反向 满分=0万元\n", {"甲": "0万元"})
    assert r.score == 2


def test_proportional_with_source_expression(one):
    text = "事实\n  实际支出资金 金额\n  实际到位资金 金额\n执行 权重 5 正向 满分=100% 取 实际支出资金 / 实际到位资金\n"
    r, _ = one(text, {"实际支出资金": "90万元", "实际到位资金": "100万元"})
    assert r.score == F("4.5")


def test_derived_value_feeds_proportional(one):
    text = "事实\n  实际支出资金 金额\n  实际到位资金 金额\n预算执行率 = 实际支出资金 / 实际到位资金\n" + FIXED
    r, _ = one(text, {"实际支出资金": "3142.819772万元", "实际到位资金": "3180.30万元"})
    # 3142.819772 / 3180.30 = 0.988214… → 9.88
    assert r.score == F("9.88")
    assert "预算执行率 = 3142.819772万元 ÷ 3180.30万元" in explanation(r)  # amounts as written


# ---- 达标 ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("rule", "value", "expected"),
    [
        ("≥24人", "24人", 2),
        ("≥24人", "25人", 2),
        ("≥24人", "23人", 0),
        (">24人", "24人", 0),
        ("≤24人", "24人", 2),
        ("≤24人", "25人", 0),
        ("<24人", "23人", 2),
        ("=1套", "1套", 2),
        ("=1套", "2套", 0),
        # 万人 vs 人: 1.47万人 = 14700人
        ("≥1.47万人", "14700人", 2),
        ("≥1.47万人", "14699人", 0),
        ("=14700人", "1.47万人", 2),
        ("≥14700人", "1.4699万人", 0),
        # money, converted exactly
        ("=1亿元", "10000万元", 2),
        ("=3180.30万元", "31803000元", 2),
        ("≤100元", "0.01万元", 2),
        ("≤100元", "100.01元", 0),
        ("≥3180.30万元", "31802999.99元", 0),
        # percent
        ("≥98%", "98%", 2),
        ("≥98%", "97.99%", 0),
        ("=100%", "100%", 2),
        ("≥98%", "0.98", 2),  # a plain ratio and a percentage are the same dimension
    ],
)
def test_target_met(one, rule, value, expected):
    r, result = one(f"甲 权重 2 达标 {rule}\n", {"甲": value})
    assert not result.errors, messages(result)
    assert r.score == expected


@pytest.mark.parametrize(
    ("rule", "value", "expected"),
    [
        ("≤2021年12月", "2021年12月31日", 2),
        ("≤2021年12月", "2021年12月", 2),
        ("≤2021年12月", "2021年12月1日", 2),
        ("≤2021年12月", "2021年6月30日", 2),
        ("≤2021年12月", "2022年1月", 0),
        ("≤2021年12月", "2022年1月1日", 0),
        ("≤2022年底", "2022年12月31日", 2),
        ("≤2022年底", "2022年底", 2),
        ("≤2022年底", "2022年12月", 2),
        ("≤2022年底", "2023年1月1日", 0),
        ("≥2021年1月", "2021年1月1日", 2),
        ("≥2021年1月", "2020年12月31日", 0),
        ("=2021年12月", "2021年12月15日", 2),
        ("=2021年12月", "2021年11月30日", 0),
    ],
)
def test_target_met_dates(one, rule, value, expected):
    r, result = one(f"完工时间 权重 2 达标 {rule}\n", {"完工时间": value})
    assert not result.errors, messages(result)
    assert r.score == expected


@pytest.mark.parametrize(("rule", "value"), [("≥24人", "24万元"), ("≥24人", "24套"), ("≥24人", "24"), ("=1套", "1")])
def test_target_met_unit_mismatch_is_an_error_not_a_crash(one, rule, value):
    r, result = one(f"培训人数 权重 2 达标 {rule}\n", {"培训人数": value})
    assert r.score is None
    # docs/language.md “结果中的状态”: a value that is present but unusable (单位不符) is ``invalid``
    assert r.status == "invalid"
    assert result.total is None and result.grade is None
    assert len(result.errors) == 1
    msg = result.errors[0].message
    assert "单位不一致" in msg and "培训人数" in msg


def test_proportional_unit_mismatch_is_an_error(one):
    r, result = one("产出成本 权重 7 正向 满分=567.5万元\n", {"产出成本": "239.5人"})
    assert r.score is None and r.status == "invalid"
    assert "单位不一致" in messages(result)


def test_money_fact_declared_as_money_rejects_plain_number(one):
    text = "事实\n  产出成本 金额\n产出成本 权重 7 正向 满分=567.5万元\n"
    r, result = one(text, {"产出成本": "239.5"})
    assert r.score is None
    assert "应为金额" in messages(result)


# ---- 清单 ------------------------------------------------------------------------------------
CHECKLIST = """预算编制科学性 权重 5 清单
  经过科学论证 1
  预算内容与项目内容匹配 1.5
  测算依据充分 1.5
  额度与工作任务相匹配 1
"""


def test_checklist_all_met(one):
    r, _ = one(CHECKLIST, evaluations={"预算编制科学性": {"满足": "全部"}})
    assert r.score == 5
    assert "全部满足" in explanation(r)


def test_checklist_unmet_item_loses_its_points(one):
    r, _ = one(CHECKLIST, evaluations={"预算编制科学性": {"未满足": ["预算内容与项目内容匹配"]}})
    assert r.score == F("3.5")
    assert "预算内容与项目内容匹配" in explanation(r)
    r, _ = one(CHECKLIST, evaluations={"预算编制科学性": {"未满足": ["经过科学论证", "额度与工作任务相匹配"]}})
    assert r.score == 3


def test_checklist_met_list_counts_only_listed(one):
    r, _ = one(CHECKLIST, evaluations={"预算编制科学性": {"满足": ["测算依据充分", "经过科学论证"]}})
    assert r.score == F("2.5")


def test_checklist_unknown_item_is_error_with_suggestion(one):
    r, result = one(CHECKLIST, evaluations={"预算编制科学性": {"未满足": ["经过科学论正"]}})
    assert r.score is None and r.status == "invalid"
    assert "清单中没有条目“经过科学论正”" in messages(result)
    assert "经过科学论证" in (result.errors[0].hint or "")


def test_checklist_item_both_met_and_unmet_is_error(one):
    r, result = one(CHECKLIST, evaluations={"预算编制科学性": {"满足": ["经过科学论证"], "未满足": ["经过科学论证"]}})
    assert r.score is None
    assert "既记为满足又记为未满足" in messages(result)


def test_checklist_duplicate_unmet_item_is_not_deducted_twice(one):
    r, result = one(CHECKLIST, evaluations={"预算编制科学性": {"未满足": ["经过科学论证", "经过科学论证"]}})
    # either count the item once (5 - 1 = 4) or reject the record; never 5 - 2 = 3
    assert r.score == 4 or (r.score is None and result.errors)


def test_checklist_all_met_and_unmet_is_contradiction(one):
    r, result = one(CHECKLIST, evaluations={"预算编制科学性": {"满足": "全部", "未满足": ["经过科学论证"]}})
    assert r.score is None
    assert result.errors


def test_checklist_without_record_is_missing(one):
    r, result = one(CHECKLIST)
    assert r.score is None and r.status == "missing"
    assert "清单指标缺少评价记录" in messages(result)


# ---- 档次 ------------------------------------------------------------------------------------
POINT_TIERS = "事前工作的有效性 权重 1 档次 有效=1 较有效=0.5 无效=0\n"
RANGE_TIERS = "效果 权重 3 档次 显著(2,3] 较好(1,2] 一般(0,1] 较差=0\n"


@pytest.mark.parametrize(("tier", "expected"), [("有效", "1"), ("较有效", "0.5"), ("无效", "0")])
def test_point_tiers(one, tier, expected):
    r, _ = one(POINT_TIERS, evaluations={"事前工作的有效性": {"档次": tier}})
    assert r.score == F(expected)
    assert f"评价为“{tier}”" in explanation(r)


def test_point_tier_unknown_name_suggests(one):
    r, result = one(POINT_TIERS, evaluations={"事前工作的有效性": {"档次": "较有校"}})
    assert r.score is None
    assert "没有名为“较有校”的档次" in messages(result)
    assert "较有效" in result.errors[0].hint


@pytest.mark.parametrize(
    ("tier", "given", "expected"),
    [
        ("显著", 3, "3"),  # closed upper end: accepted
        ("显著", 2.5, "2.5"),
        ("显著", 2.01, "2.01"),
        ("较好", 2, "2"),  # closed upper end of (1,2]
        ("一般", 1, "1"),
        ("较差", None, "0"),
    ],
)
def test_range_tiers_accept(one, tier, given, expected):
    rec = {"档次": tier} if given is None else {"档次": tier, "得分": given}
    r, result = one(RANGE_TIERS, evaluations={"效果": rec})
    assert not result.errors, messages(result)
    assert r.score == F(expected)


@pytest.mark.parametrize(("tier", "given"), [("显著", 2), ("较好", 1), ("一般", 0), ("较好", 2.5), ("一般", 1.01)])
def test_range_tiers_reject_outside_or_open_end(one, tier, given):
    r, result = one(RANGE_TIERS, evaluations={"效果": {"档次": tier, "得分": given}})
    assert r.score is None
    assert r.status == "invalid"
    assert result.total is None
    assert f"不在档次“{tier}”的区间" in messages(result)


def test_range_tier_score_above_weight_rejected(one):
    r, result = one(RANGE_TIERS, evaluations={"效果": {"档次": "显著", "得分": 3.01}})
    assert r.score is None
    assert "3.01" in messages(result)


def test_range_tier_without_score_is_missing(one):
    r, result = one(RANGE_TIERS, evaluations={"效果": {"档次": "较好"}})
    assert r.score is None and r.status == "missing"
    assert "需要评价人给出得分" in messages(result)


def test_tier_chosen_by_score_alone(one):
    r, _ = one(RANGE_TIERS, evaluations={"效果": {"得分": 1.5}})
    assert r.score == F("1.5")
    assert "较好" in explanation(r)


QUALITATIVE = "目标达成 权重 20 定性 三档 达成[80%,100%] 部分达成[60%,80%) 未达成[0,60%)\n"


@pytest.mark.parametrize(
    ("tier", "given", "ok"),
    [
        ("达成", 16, True),
        ("达成", 20, True),
        ("达成", 15.99, False),
        ("部分达成", 12, True),
        ("部分达成", 15.99, True),
        ("部分达成", 16, False),  # 80% is the open end of [60%,80%)
        ("未达成", 0, True),
        ("未达成", 11.99, True),
        ("未达成", 12, False),
    ],
)
def test_qualitative_three_tiers_scale_by_weight(one, tier, given, ok):
    r, result = one(QUALITATIVE, evaluations={"目标达成": {"档次": tier, "得分": given}})
    if ok:
        assert r.score == F(given), messages(result)
    else:
        assert r.score is None
        assert "不在档次" in messages(result)


def test_qualitative_interval_shown_in_points(one):
    r, result = one(QUALITATIVE, evaluations={"目标达成": {"档次": "达成", "得分": 15}})
    assert "[16, 20]" in messages(result)


# ---- 分段 ------------------------------------------------------------------------------------
BANDS = "成本节约率 权重 2 分段 ≥4%:2 ≥3%:1.5 ≥2%:1 ≥0%:0.5 否则:0\n"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("4%", "2"),
        ("50%", "2"),
        ("3.9999%", "1.5"),
        ("3%", "1.5"),
        ("2.9999%", "1"),
        ("2%", "1"),
        ("0.1326%", "0.5"),
        ("0%", "0.5"),
        ("-0.0001%", "0"),
        ("-5%", "0"),
    ],
)
def test_bands_edges(one, value, expected):
    r, _ = one(BANDS, {"成本节约率": value})
    assert r.score == F(expected)


def test_bands_on_derived_value(one):
    text = (
        "事实\n  计划成本 金额\n  实际成本 金额\n成本节约率 = (计划成本 - 实际成本) / 计划成本\n" + BANDS
    )
    r, _ = one(text, {"计划成本": "100万元", "实际成本": "96万元"})  # exactly 4%
    assert r.score == 2
    r, _ = one(text, {"计划成本": "100万元", "实际成本": "101万元"})  # -1%
    assert r.score == 0


def test_bands_without_otherwise_and_no_match_is_error(one):
    r, result = one("成本节约率 权重 2 分段 ≥4%:2 ≥0%:1\n", {"成本节约率": "-1%"})
    assert r.score is None
    assert "不在任何分段内" in messages(result)


# ---- 扣分 ------------------------------------------------------------------------------------
DEDUCTION = "监督管理 权重 2 扣分 每处0.5 扣完为止\n"


@pytest.mark.parametrize(
    ("findings", "expected"),
    [([], "2"), (["a"], "1.5"), (["a", "b", "c"], "0.5"), (["a", "b", "c", "d"], "0"), (list("abcdefg"), "0")],
)
def test_deduction(one, findings, expected):
    r, _ = one(DEDUCTION, evaluations={"监督管理": {"发现": findings}})
    assert r.score == F(expected)
    assert r.status == "scored"


def test_deduction_count_form(one):
    r, _ = one(DEDUCTION, evaluations={"监督管理": {"次数": 3}})
    assert r.score == F("0.5")


def test_deduction_explanation_lists_findings(one):
    r, _ = one(DEDUCTION, evaluations={"监督管理": {"发现": ["走访慰问资金延迟支付", "台账缺失"]}})
    text = explanation(r)
    assert "发现2处问题" in text and "走访慰问资金延迟支付" in text and "扣1分" in text


def test_deduction_without_record_is_missing(one):
    r, result = one(DEDUCTION)
    assert r.score is None and r.status == "missing"


VETO = """事实
  不规范资金占比 百分比
资金使用规范性 权重 2 扣分 每处0.5 扣完为止
  若 不规范资金占比 ≥20% 则 0
"""


@pytest.mark.parametrize("share", ["20%", "25%", "100%"])
def test_veto_condition(one, share):
    r, _ = one(VETO, {"不规范资金占比": share}, {"资金使用规范性": {"发现": []}})
    assert r.score == 0
    assert r.status == "vetoed"


def test_veto_condition_not_holding(one):
    r, _ = one(VETO, {"不规范资金占比": "19.99%"}, {"资金使用规范性": {"发现": ["x"]}})
    assert r.score == F("1.5")
    assert r.status == "scored"


def test_veto_condition_needs_its_fact(one):
    r, result = one(VETO, {}, {"资金使用规范性": {"发现": []}})
    assert r.score is None and r.status == "missing"
    assert "不规范资金占比" in messages(result)


# ---- 问卷 ------------------------------------------------------------------------------------
SURVEY = """满意度 权重 {w} {rule}
  满意度 问卷 满意=1 一般=0.8 不满意=0
"""
KASHGAR = [{"满意": 129, "一般": 1, "不满意": 0}, {"满意": 129, "一般": 1, "不满意": 0}]


def test_survey_kashgar_value_is_exact(one):
    # (258×1 + 2×0.8) / 260 = 649/650 exactly; with weight 650 the score is exactly 649
    r, _ = one(SURVEY.format(w=650, rule="正向 满分=100%"), evaluations={"满意度": {"问卷": KASHGAR}})
    assert r.score == 649
    survey = next(s for s in r.steps if s.kind == "survey")
    assert survey.data["value"] == "99.85%"
    assert survey.data["total"] == "260"


def test_survey_with_target_met(one):
    r, _ = one(SURVEY.format(w=10, rule="达标 ≥98%"), evaluations={"满意度": {"问卷": KASHGAR}})
    assert r.score == 10
    r, _ = one(SURVEY.format(w=10, rule="达标 ≥99.9%"), evaluations={"满意度": {"问卷": KASHGAR}})
    assert r.score == 0


def test_survey_single_question(one):
    r, _ = one(SURVEY.format(w=10, rule="正向 满分=100%"), evaluations={"满意度": {"问卷": {"满意": 3, "一般": 1, "不满意": 1}}})
    # (3 + 0.8) / 5 = 76% → 7.6
    assert r.score == F("7.6")


def test_survey_unknown_option_and_missing_results(one):
    r, result = one(SURVEY.format(w=10, rule="达标 ≥98%"), evaluations={"满意度": {"问卷": {"很满意": 3}}})
    assert r.score is None
    assert "问卷选项“很满意”不在规则集的选项中" in messages(result)
    r, result = one(SURVEY.format(w=10, rule="达标 ≥98%"), evaluations={"满意度": {}})
    assert r.score is None and r.status == "missing"
    r, result = one(SURVEY.format(w=10, rule="达标 ≥98%"), evaluations={"满意度": {"问卷": {"满意": 0, "一般": 0}}})
    assert r.score is None and "有效人数为 0" in messages(result)


# ---- 公式、酌情 --------------------------------------------------------------------------------
FORMULA = """事实
  实际到位资金 金额
  预算资金 金额
资金到位率 = 实际到位资金 / 预算资金
资金到位率 权重 3 得分 = 分值 × 最小(资金到位率, 1)
"""


@pytest.mark.parametrize(
    ("got", "budget", "expected"),
    [("90万元", "100万元", "2.7"), ("110万元", "100万元", "3"), ("1万元", "3万元", "1"), ("56.38万元", "56.38万元", "3")],
)
def test_formula(one, got, budget, expected):
    r, result = one(FORMULA, {"实际到位资金": got, "预算资金": budget})
    assert not result.errors
    assert r.score == F(expected)


def test_formula_division_by_zero_is_an_error(one):
    r, result = one(FORMULA, {"实际到位资金": "1万元", "预算资金": "0万元"})
    assert r.score is None
    assert "除数为零" in messages(result)


JUDGEMENT = "经济效益 权重 8 酌情\n"


@pytest.mark.parametrize(("given", "expected"), [(7.8, "7.8"), (8, "8"), (0, "0"), ("4.5分", "4.5")])
def test_judgement_in_range(one, given, expected):
    r, result = one(JUDGEMENT, evaluations={"经济效益": {"得分": given, "说明": "带动增收"}})
    assert not result.errors
    assert r.score == F(expected)
    assert "说明：带动增收" in explanation(r)


@pytest.mark.parametrize("given", [8.01, -1, "90%", "很好"])
def test_judgement_out_of_range_is_error(one, given):
    r, result = one(JUDGEMENT, evaluations={"经济效益": {"得分": given}})
    assert r.score is None
    assert r.status == "invalid"
    assert result.total is None
    assert "评价得分" in messages(result)


def test_judgement_without_score_is_missing(one):
    r, result = one(JUDGEMENT, evaluations={"经济效益": {"说明": "无"}})
    assert r.score is None and r.status == "missing"


# ---- 评价人酌定（覆盖规则得分） ------------------------------------------------------------------
def test_evaluator_override_uses_given_score_and_explains_both(one):
    r, result = one(FIXED, {"预算执行率": "95.3%"}, {"预算执行率": {"得分": 1, "说明": "资金闲置"}})
    assert r.score == 1
    assert result.total == 1
    text = explanation(r)
    assert "9.53" in text and "1分" in text
    assert "按规则应得9.53分，评价人酌定1分" in text
    assert "说明：资金闲置" in text


def test_evaluator_override_out_of_range_is_an_error_not_a_crash(one):
    r, result = one(FIXED, {"预算执行率": "95.3%"}, {"预算执行率": {"得分": 11}})
    assert r.score is None
    assert "超出" in messages(result)


def test_evaluator_override_not_a_number_is_an_error_not_a_crash(one):
    r, result = one(FIXED, {"预算执行率": "95.3%"}, {"预算执行率": {"得分": "abc"}})
    assert r.score is None
    assert "不是分数" in messages(result)


# ---- 加分、扣分、一票否决 ------------------------------------------------------------------------
ITEMS = """主体 权重 100 酌情
加分 上限 10
  机制创新 加 5
  日常工作表现 加 5
  宣传报道 加 5
扣分
  随意调减衔接资金预算 扣 5
  数据作假 扣 10
一票否决
  发生重大违规违纪问题
"""
NO_EVENTS = {
    "主体": {"得分": 80},
    "机制创新": {"发生": "是"},
    "日常工作表现": {"得分": 5},
    "宣传报道": {"发生": True},
    "随意调减衔接资金预算": {"发生": "否"},
    "数据作假": {"发生": "否"},
    "发生重大违规违纪问题": {"发生": "否"},
}


def test_bonus_capped(score):
    result = score(ITEMS, evaluations=NO_EVENTS)
    assert result.bonus == 10  # 5 + 5 + 5 capped at 10
    assert result.penalty == 0
    assert result.total == 90
    assert result.grade == "优"
    assert any(s.kind == "bonus_cap" for s in result.total_steps)


def test_bonus_partial_score(score):
    ev = dict(NO_EVENTS, 机制创新={"得分": 2}, 宣传报道={"发生": "否"})
    result = score(ITEMS, evaluations=ev)
    assert result.bonus == 7
    assert result.total == 87


def test_penalty_items(score):
    ev = dict(NO_EVENTS, 随意调减衔接资金预算={"发生": "是"})
    result = score(ITEMS, evaluations=ev)
    assert result.penalty == 5
    assert result.total == 85
    ev = dict(ev, 数据作假={"发生": "是"})
    result = score(ITEMS, evaluations=ev)
    assert result.penalty == 15
    assert result.total == 75


def test_penalty_floors_total_at_zero(score):
    text = "主体 权重 10 酌情\n扣分\n  数据作假 扣 20\n"
    result = score(text, evaluations={"主体": {"得分": 3}, "数据作假": {"发生": "是"}})
    assert result.total == 0


def test_veto_item_makes_total_zero(score):
    ev = dict(NO_EVENTS, 发生重大违规违纪问题={"发生": "是", "说明": "挪用资金"})
    result = score(ITEMS, evaluations=ev)
    assert result.total == 0
    assert result.grade == "差"
    assert "发生一票否决项（发生重大违规违纪问题），总分为0分" in render_explanation(result)


def test_missing_veto_record_is_error(score):
    ev = {k: v for k, v in NO_EVENTS.items() if k != "发生重大违规违纪问题"}
    result = score(ITEMS, evaluations=ev)
    assert result.total is None
    assert "否决项“发生重大违规违纪问题”缺少评价记录" in messages(result)


def test_bonus_score_above_item_points_is_error(score):
    ev = dict(NO_EVENTS, 机制创新={"得分": 6})
    result = score(ITEMS, evaluations=ev)
    assert result.total is None
    assert "机制创新" in messages(result)


# ---- 不适用 ------------------------------------------------------------------------------------
NA_FULL = """决策 权重 20 酌情
过程 权重 20 酌情
产出 权重 30 酌情
效益 权重 15 酌情
资金统筹整合使用成效 权重 15 酌情 不适用时 满分
"""
BAYINGOLIN = {"决策": {"得分": 20}, "过程": {"得分": 20}, "产出": {"得分": 30}, "效益": {"得分": 15}}


def test_not_applicable_full_marks(score):
    ev = dict(BAYINGOLIN, 资金统筹整合使用成效={"不适用": "是", "说明": "当年未开展统筹整合"})
    result = score(NA_FULL, evaluations=ev)
    r = by_path(result)["资金统筹整合使用成效"]
    assert r.status == "not_applicable"
    assert r.score == 15
    assert result.total == 100
    assert result.grade == "优"
    assert "按满分15分计" in explanation(r)


def test_not_applicable_proportional_rescales(score):
    text = NA_FULL.replace("不适用时 满分", "不适用时 按比例折算")
    ev = dict(BAYINGOLIN, 决策={"得分": 15}, 资金统筹整合使用成效={"不适用": "是"})
    result = score(text, evaluations=ev)
    # applicable: 80 of 85 → 80 / 85 × 100 = 94.1176… → 94.12
    assert result.total == F("94.12")
    assert result.max == 100
    r = by_path(result)["资金统筹整合使用成效"]
    assert r.status == "not_applicable" and r.score == 0 and r.deduction == 0
    assert any(s.kind == "rescale" for s in result.total_steps)


def test_not_applicable_proportional_nested(score):
    text = "决策 权重 20\n  甲 权重 10 酌情\n  乙 权重 10 酌情 不适用时 按比例折算\n过程 权重 80 酌情\n"
    result = score(text, evaluations={"甲": {"得分": 10}, "乙": {"不适用": "是"}, "过程": {"得分": 70}})
    # 80 of the 90 applicable points → 80 / 90 × 100 = 88.888… → 88.89
    assert result.total == F("88.89")
    assert result.grade == "良"
    decision = by_path(result)["决策"]
    assert decision.score == 10 and decision.excluded == 10 and decision.deduction == 0


def test_not_applicable_default_from_header(score):
    text = "不适用 按比例折算\n甲 权重 50 酌情\n乙 权重 50 酌情\n"
    result = score(text, evaluations={"甲": {"得分": 40}, "乙": {"不适用": "是"}})
    assert result.total == 80


def test_not_applicable_without_rule_is_error(score):
    text = "甲 权重 50 酌情\n乙 权重 50 酌情\n"
    result = score(text, evaluations={"甲": {"得分": 40}, "乙": {"不适用": "是"}})
    assert result.total is None
    assert "没有规定不适用时如何计分" in messages(result)


def test_all_not_applicable_cannot_rescale(score):
    text = "不适用 按比例折算\n甲 权重 50 酌情\n乙 权重 50 酌情\n"
    result = score(text, evaluations={"甲": {"不适用": "是"}, "乙": {"不适用": "是"}})
    assert result.total is None
    assert "全部指标都不适用" in messages(result)


# ---- 等级 --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("total", "grade"),
    [(100, "优"), (90, "优"), (89.99, "良"), (80, "良"), (79.99, "中"), (60, "中"), (59.99, "差"), (0, "差")],
)
def test_grade_boundaries(score, total, grade):
    result = score("等级 优 ≥90 良 ≥80 中 ≥60 差\n甲 权重 100 酌情\n", evaluations={"甲": {"得分": total}})
    assert result.total == F(total)
    assert result.grade == grade


def test_grade_strict_bound(score):
    text = "等级 甲等 >90 乙等 ≥60 丙等\n甲 权重 100 酌情\n"
    assert score(text, evaluations={"甲": {"得分": 90}}).grade == "乙等"
    assert score(text, evaluations={"甲": {"得分": 90.01}}).grade == "甲等"
    assert score(text, evaluations={"甲": {"得分": 59.99}}).grade == "丙等"


def test_default_grades_without_header(score):
    assert score("甲 权重 100 酌情\n", evaluations={"甲": {"得分": 85}}).grade == "良"


# ---- 缺数据 ------------------------------------------------------------------------------------
def test_missing_fact_is_missing_not_zero(score):
    result = score(FIXED + "决策 权重 5 酌情\n", evaluations={"决策": {"得分": 5}})
    r = by_path(result)["预算执行率"]
    assert r.score is None
    assert r.status == "missing"
    assert result.total is None and result.grade is None
    assert "缺少数据“预算执行率”" in messages(result)
    assert by_path(result)["决策"].score == 5
    assert to_json(result)["total"] is None


def test_missing_fact_suggests_close_name(score):
    result = score(FIXED, {"预算执行律": "95%"})
    assert result.errors[0].hint and "预算执行律" in result.errors[0].hint


def test_missing_input_of_derived_value_named(score):
    text = "事实\n  实际支出资金 金额\n  实际到位资金 金额\n预算执行率 = 实际支出资金 / 实际到位资金\n" + FIXED
    result = score(text, {"实际支出资金": "90万元"})
    assert result.indicators[0].status == "missing"
    assert "实际到位资金" in messages(result)


def test_missing_child_makes_parent_missing(score):
    text = "决策 权重 10\n  甲 权重 5 酌情\n  乙 权重 5 酌情\n"
    result = score(text, evaluations={"甲": {"得分": 5}})
    rs = by_path(result)
    assert rs["决策/甲"].score == 5
    assert rs["决策/乙"].status == "missing"
    assert rs["决策"].score is None and rs["决策"].status == "missing"


def test_record_for_unknown_indicator_is_error(score):
    result = score("经济效益 权重 8 酌情\n", evaluations={"经济效l益": {"得分": 1}, "经济效益": {"得分": 8}})
    assert "评价记录“经济效l益”没有对应的指标" in messages(result)


def test_record_by_path(score):
    text = "决策 权重 5\n  甲 权重 5 酌情\n乙组 权重 5\n  甲 权重 5 酌情\n"
    result = score(text, evaluations={"决策/甲": {"得分": 4}, "乙组/甲": {"得分": 3}})
    rs = by_path(result)
    assert rs["决策/甲"].score == 4 and rs["乙组/甲"].score == 3
    assert result.total == 7


def test_yaml_facts_file(tmp_path):
    book = load_text("规则集 测\n" + FIXED, tmp_path)
    f = tmp_path / "f.yaml"
    f.write_text("项目: 甲项目\n事实:\n  预算执行率: 95.3%\n", encoding="utf-8")
    (facts,) = load_facts(f)
    result = evaluate(book, facts)
    assert result.project == "甲项目"
    assert result.total == F("9.53")


def test_yaml_small_float_fact(tmp_path):
    book = load_text("规则集 测\n甲 权重 5 正向 满分=0.0001\n", tmp_path)
    f = tmp_path / "f.yaml"
    f.write_text("项目: 甲项目\n事实:\n  甲: 0.00005\n", encoding="utf-8")
    (facts,) = load_facts(f)
    result = evaluate(book, facts)
    assert not result.errors, messages(result)
    assert result.total == F("2.5")


def test_rounding_never_exceeds_weight(one):
    r, _ = one("小数 0 位\n甲 权重 2.5 正向 满分=100%\n", {"甲": "100%"})
    assert 0 <= r.score <= r.weight


# ---- 单位自评（指标即数据） --------------------------------------------------------------------------
SELF_EVAL = """规则集 单位自评测试
事实
  全年预算数 金额
  全年执行数 金额
预算执行率 = 全年执行数 / 全年预算数
预算执行率 权重 10 正向 满分=100%
产出指标 权重 50 来自目标表
效益指标 权重 40 来自目标表
默认规则
  定量 ≥ : 正向
  定量 ≤ : 反向
  定量 = : 达标
  定性 : 三档 达成[80%,100%] 部分达成[60%,80%) 未达成[0,60%)
"""
BUDGET = {"全年预算数": "150万元", "全年执行数": "142.95万元"}


def T(first, second, third, weight, target, actual, **kw) -> TargetRow:
    return TargetRow(first, second, third, weight, target, actual, **kw)


OUTPUT_ROWS = (
    T("产出指标", "数量指标", "劳动力", 5, "1.47万人", "1271人"),  # no comparator, count → ≥
    T("产出指标", "数量指标", "套数", 5, "≥2套", "1套"),
    T("产出指标", "成本指标", "超支", 10, "≤100万元", "125万元"),
    T("产出指标", "成本指标", "节约", 10, "≤100万元", "80万元"),
    T("产出指标", "质量指标", "验收", 5, "=1套", "1套"),
    T("产出指标", "质量指标", "验收二", 5, "=1套", "2套"),
    T("产出指标", "时效指标", "完工", 10, "2022年底", "2022年12月"),  # date without comparator → ≤
)
BENEFIT_ROWS = (
    T("效益指标", "社会效益指标", "收入提高", 20, "提高", "提高"),
    T("效益指标", "社会效益指标", "部分", 10, "提高", "基本提高", tier="部分达成", score=7),
    T("效益指标", "社会效益指标", "未达", 10, "提高", "没有提高", tier="未达成", score=5),
)


def self_eval(score, rows, values=BUDGET):
    return score(SELF_EVAL, values, targets=rows)


def test_self_evaluation_scores(score):
    result = self_eval(score, OUTPUT_ROWS + BENEFIT_ROWS)
    assert not result.errors, messages(result)
    rs = by_path(result)
    assert rs["预算执行率"].score == F("9.53")
    assert rs["产出指标/数量指标/劳动力"].score == F("0.43")  # 1271 / 14700 × 5
    assert rs["产出指标/数量指标/套数"].score == F("2.5")  # B/A × weight
    assert rs["产出指标/成本指标/超支"].score == 8  # A/B × weight = 100/125 × 10
    assert rs["产出指标/成本指标/节约"].score == 10
    assert rs["产出指标/质量指标/验收"].score == 5
    assert rs["产出指标/质量指标/验收二"].score == 0
    assert rs["产出指标/时效指标/完工"].score == 10
    assert rs["效益指标/社会效益指标/收入提高"].score == 20  # same words: full marks
    assert rs["效益指标/社会效益指标/部分"].score == 7
    assert rs["效益指标/社会效益指标/未达"].score == 5
    assert rs["产出指标/数量指标"].weight == 10 and rs["产出指标/数量指标"].score == F("2.93")
    assert rs["产出指标"].score == F("35.93")
    assert rs["效益指标"].score == 32
    assert result.total == F("77.46")
    assert result.grade == "中"


def test_self_evaluation_qualitative_different_words_need_tier(score):
    rows = OUTPUT_ROWS + BENEFIT_ROWS[:2] + (T("效益指标", "社会效益指标", "未达", 10, "提高", "没有提高"),)
    result = self_eval(score, rows)
    r = by_path(result)["效益指标/社会效益指标/未达"]
    assert r.score is None and r.status == "missing"
    assert result.total is None
    assert "需要评价人给出档次和得分" in messages(result)


def test_self_evaluation_qualitative_score_outside_tier(score):
    rows = OUTPUT_ROWS + BENEFIT_ROWS[:2] + (T("效益指标", "社会效益指标", "未达", 10, "提高", "没有提高", tier="达成", score=5),)
    result = self_eval(score, rows)
    assert by_path(result)["效益指标/社会效益指标/未达"].score is None
    assert "不在档次“达成”的区间 [8, 10] 分 内" in messages(result)


def test_self_evaluation_score_override_on_quantitative_row(score):
    rows = (T("产出指标", "数量指标", "劳动力", 50, "1.47万人", "1271人", score=1),) + BENEFIT_ROWS
    result = self_eval(score, rows)
    r = by_path(result)["产出指标/数量指标/劳动力"]
    assert r.score == 1
    assert "按规则应得4.32分，评价人酌定1分" in explanation(r)


def test_self_evaluation_weights_must_add_up(score):
    rows = OUTPUT_ROWS + BENEFIT_ROWS[:2] + (T("效益指标", "社会效益指标", "未达", 5, "提高", "提高"),)
    result = self_eval(score, rows)
    assert "目标表中“效益指标”各行分值之和 35 与规则集规定的 40 不符" in messages(result)


def test_self_evaluation_missing_first_level(score):
    result = self_eval(score, OUTPUT_ROWS)
    assert by_path(result)["效益指标"].status == "missing"
    assert "目标表中没有一级指标为“效益指标”的行" in messages(result)


def test_self_evaluation_first_level_matches_without_suffix(score):
    rows = tuple(T("产出", r.second, r.third, r.weight, r.target, r.actual) for r in OUTPUT_ROWS) + BENEFIT_ROWS
    result = self_eval(score, rows)
    assert by_path(result)["产出指标"].score == F("35.93")


def test_self_evaluation_missing_actual(score):
    rows = (T("产出指标", "数量指标", "套数", 50, "≥2套", None),) + BENEFIT_ROWS
    result = self_eval(score, rows)
    assert by_path(result)["产出指标/数量指标/套数"].status == "missing"
    assert "缺少实际完成值" in messages(result)


def test_huge_weight_from_a_spreadsheet_cell_rounds_without_overflow():
    """Found by fuzzing: a weight of 1e+54 overflowed the fixed decimal precision."""
    from fractions import Fraction

    from jxdsl.units import to_decimal

    assert str(to_decimal(Fraction(10**54) * Fraction(2, 3), 2)).endswith("666.67")
