"""Static checks of the linker, inheritance and provenance.

Every error test asserts the Chinese message fragment and the line it points at.
"""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from jxdsl import ast
from jxdsl.errors import LinkError, RulebookSyntaxError
from jxdsl.link import Linker

from conftest import link_errors, load_errors, write_rulebook

H = "规则集 测试\n"


def only(errors, fragment: str):
    """The single error whose message contains ``fragment``."""
    hits = [e for e in errors if fragment in e.message]
    assert len(hits) == 1, [e.message for e in errors]
    return hits[0]


# ---- static checks ------------------------------------------------------------------------
def test_children_weights_must_add_up(tmp_path):
    text = H + "决策 权重 20\n  甲 权重 10 酌情\n  乙 权重 9 酌情\n"
    e = only(link_errors(text, tmp_path), "下级指标权重之和")
    assert isinstance(e, LinkError)
    assert "10 + 9 = 19，与本级权重 20 不符" in e.message
    assert "决策" in e.message
    assert e.span.line == 2


def test_nested_weight_error_points_at_the_right_line(tmp_path):
    text = H + "决策 权重 20\n  项目立项 权重 10\n    甲 权重 4 酌情\n    乙 权重 5 酌情\n  绩效目标 权重 10 酌情\n"
    e = only(link_errors(text, tmp_path), "下级指标权重之和")
    assert "决策/项目立项" in e.message and "4 + 5 = 9" in e.message
    assert e.span.line == 3


def test_all_errors_reported_in_one_pass(tmp_path):
    text = H + "决策 权重 20\n  甲 权重 10 酌情\n  乙 权重 9 酌情\n过程 权重 20\n  丙 权重 1 酌情\n"
    errors = link_errors(text, tmp_path)
    assert sorted(e.span.line for e in errors if "下级指标权重之和" in e.message) == [2, 5]


def test_duplicate_sibling_names(tmp_path):
    text = H + "决策 权重 20\n  甲 权重 10 酌情\n  甲 权重 10 酌情\n"
    e = only(link_errors(text, tmp_path), "有两个“甲”")
    assert "“决策”下有两个“甲”" in e.message
    assert e.span.line == 4
    assert "不能重名" in e.hint


def test_duplicate_top_level_names(tmp_path):
    text = H + "甲 权重 10 酌情\n甲 权重 10 酌情\n"
    e = only(link_errors(text, tmp_path), "重复")
    assert "一级指标“甲”重复" in e.message
    assert e.span.line == 3


def test_unknown_reference_with_suggestion(tmp_path):
    text = H + "事实\n  预算资金 金额\n  实际到位资金 金额\n资金到位率 = 实际到位资金 / 预算资全\n"
    e = only(link_errors(text, tmp_path), "预算资全")
    assert "“预算资全”既不是已声明的数据，也不是派生值" in e.message
    assert "预算资金" in e.hint
    assert (e.span.line, e.span.column) == (5, 18)


def test_unknown_reference_in_rule_target(tmp_path):
    text = H + "事实\n  计划人数 数量\n培训人数 权重 2 达标 ≥计划人效\n"
    e = only(link_errors(text, tmp_path), "计划人效")
    assert e.span.line == 4
    assert "计划人数" in e.hint


def test_derived_value_cycle(tmp_path):
    text = H + "事实\n  基数 数值\n甲值 = 乙值 + 基数\n乙值 = 丙值 × 2\n丙值 = 甲值 - 1\n"
    e = only(link_errors(text, tmp_path), "循环引用")
    assert "派生值循环引用：甲值 → 乙值 → 丙值 → 甲值" in e.message
    assert e.span.line == 4


def test_derived_value_self_reference(tmp_path):
    e = only(link_errors(H + "甲值 = 甲值 + 1\n", tmp_path), "循环引用")
    assert "甲值 → 甲值" in e.message
    assert e.span.line == 2


def test_derived_value_defined_twice(tmp_path):
    text = H + "事实\n  基数 数值\n甲值 = 基数\n甲值 = 基数 × 2\n"
    e = only(link_errors(text, tmp_path), "重复定义")
    assert e.span.line == 5


def test_overlapping_tiers(tmp_path):
    text = H + "甲 权重 1 酌情\n效果 权重 3 档次 显著[2,3] 较好[1,2] 一般(0,1) 较差=0\n"
    e = only(link_errors(text, tmp_path), "重叠")
    assert "档次“显著”与“较好”的区间重叠" in e.message
    assert e.span.line == 3
    assert "半开区间" in e.hint


def test_point_tier_overlapping_range(tmp_path):
    text = H + "效果 权重 3 档次 显著(2,3] 较好(1,2] 一般[0,1] 较差=0\n"
    e = only(link_errors(text, tmp_path), "重叠")
    assert "较差" in e.message and "一般" in e.message
    assert e.span.line == 2


@pytest.mark.parametrize("tier", ["显著(2,2]", "显著[2,2)", "显著(3,2]"])
def test_empty_interval(tmp_path, tier):
    text = H + f"效果 权重 3 档次 {tier} 较好(1,2)\n"
    e = only(link_errors(text, tmp_path), "区间为空")
    assert "档次“显著”的区间为空" in e.message
    assert e.span.line == 2


def test_tier_points_outside_weight(tmp_path):
    text = H + "效果 权重 3 档次 显著(2,4] 较好(1,2]\n"
    e = only(link_errors(text, tmp_path), "超出")
    assert "[0, 3]" in e.message
    assert e.span.line == 2


@pytest.mark.parametrize("grades", ["优 ≥80 良 ≥90 中 ≥60 差", "优 ≥90 良 ≥90 中 ≥60 差"])
def test_grade_bounds_must_descend(tmp_path, grades):
    text = H + "小数 2 位\n" + f"等级 {grades}\n甲 权重 10 酌情\n"
    e = only(link_errors(text, tmp_path), "应低于上一等级的下限")
    assert "等级“良”的下限 90" in e.message
    assert e.span.line == 3


def test_checklist_items_must_add_up(tmp_path):
    text = H + "甲 权重 5 清单\n  第一条 1\n  第二条 2\n"
    e = only(link_errors(text, tmp_path), "各条分数之和")
    assert "清单“甲”各条分数之和 3 与权重 5 不符" in e.message
    assert e.span.line == 2


def test_band_points_outside_weight(tmp_path):
    text = H + "成本节约率 权重 2 分段 ≥4%:3 否则:0\n"
    e = only(link_errors(text, tmp_path), "分段得分")
    assert "超出 [0, 2]" in e.message
    assert e.span.line == 2


def test_leaf_without_rule(tmp_path):
    e = only(link_errors(H + "甲 权重 5\n", tmp_path), "缺少计分规则")
    assert e.span.line == 2


def test_parent_with_rule(tmp_path):
    text = H + "决策 权重 5 酌情\n  甲 权重 5 酌情\n"
    e = only(link_errors(text, tmp_path), "既有计分规则又有下级指标")
    assert e.span.line == 2


def test_from_targets_needs_defaults(tmp_path):
    e = only(link_errors(H + "产出指标 权重 50 来自目标表\n", tmp_path), "默认规则")
    assert "有“来自目标表”的指标，但没有“默认规则”" in e.message
    assert "定量 ≥ : 正向" in e.hint


def test_from_targets_needs_defaults_has_a_location(tmp_path):
    e = only(link_errors(H + "\n产出指标 权重 50 来自目标表\n", tmp_path), "默认规则")
    assert e.span is not None and e.span.line == 3


def test_valid_rulebook_links(tmp_path):
    text = H + (
        "年度 2021-2023\n版本 \"2021.1\"\n等级 优 ≥90 良 ≥80 中 ≥60 差\n"
        "事实\n  预算资金 金额\n  实际到位资金 金额\n"
        "资金到位率 = 实际到位资金 / 预算资金\n"
        "过程 权重 20\n  资金到位率 权重 5 正向 满分=100%\n  质量 权重 15 档次 好(10,15] 中(5,10] 差[0,5]\n"
    )
    book = Linker().load(write_rulebook(tmp_path, text))
    assert book.name == "测试"
    assert book.years == (2021, 2023)
    assert book.version == "2021.1"
    assert book.max == 20
    assert [(i.path, i.weight) for i in book.walk()] == [
        (("过程",), 20),
        (("过程", "资金到位率"), 5),
        (("过程", "质量"), 15),
    ]
    assert [d.name for d in book.derived] == ["资金到位率"]
    assert book.grades[0] == ("优", ">=", Fraction(90))


# ---- inheritance ----------------------------------------------------------------------------
PARENT = """规则集 父规则集
等级 优 ≥90 良 ≥80 中 ≥60 差
决策 权重 20
  立项 权重 10 酌情
  目标 权重 10 酌情
过程 权重 30
  资金到位率 权重 15 正向 满分=100%
  执行 权重 15 酌情
效益 权重 50
  生态效益 权重 20 酌情
  社会效益 权重 30 酌情
"""
CHILD = """规则集 子规则集 继承 父规则集
调整 决策/立项 权重 12
调整 决策/目标 权重 8
替换 过程/资金到位率 权重 15 达标 ≥100%
删除 效益/生态效益
新增 效益
  经济效益 权重 20 酌情
等级 优 ≥85 良 ≥75 中 ≥60 差
"""


@pytest.fixture
def family(tmp_path):
    parent = write_rulebook(tmp_path, PARENT, "parent.jx")
    child = write_rulebook(tmp_path, CHILD, "child.jx")
    return parent, child


def test_inheritance_applies_overrides(family):
    parent, child = family
    book = Linker().load(child)
    assert book.name == "子规则集" and book.parent == "父规则集"
    tree = [("/".join(i.path), i.weight, type(i.rule).__name__) for i in book.walk()]
    assert tree == [
        ("决策", 20, "NoneType"),
        ("决策/立项", 12, "Judgement"),
        ("决策/目标", 8, "Judgement"),
        ("过程", 30, "NoneType"),
        ("过程/资金到位率", 15, "TargetMet"),
        ("过程/执行", 15, "Judgement"),
        ("效益", 50, "NoneType"),
        ("效益/社会效益", 30, "Judgement"),
        ("效益/经济效益", 20, "Judgement"),
    ]
    assert book.max == 100
    assert [g[2] for g in book.grades] == [85, 75, 60]  # header rewritten by the child
    assert book.files == (str(parent), str(child))


def test_parent_unchanged_by_child(family):
    parent, _ = family
    book = Linker().load(parent)
    assert [("/".join(i.path), i.weight) for i in book.walk()][:3] == [("决策", 20), ("决策/立项", 10), ("决策/目标", 10)]
    assert "效益/生态效益" in ["/".join(i.path) for i in book.walk()]


def test_adjust_rule_keeps_weight(tmp_path):
    write_rulebook(tmp_path, PARENT, "parent.jx")
    child = write_rulebook(tmp_path, "规则集 子 继承 父规则集\n调整 过程/执行 正向 满分=100%\n", "child.jx")
    book = Linker().load(child)
    ind = next(i for i in book.walk() if i.path == ("过程", "执行"))
    assert ind.weight == 15
    assert isinstance(ind.rule, ast.Proportional) and ind.rule.direction == "正向"


def test_adjust_na_mode(tmp_path):
    write_rulebook(tmp_path, PARENT, "parent.jx")
    child = write_rulebook(tmp_path, "规则集 子 继承 父规则集\n调整 效益/生态效益 不适用时 满分\n", "child.jx")
    ind = next(i for i in Linker().load(child).walk() if i.path == ("效益", "生态效益"))
    assert ind.na_mode == "满分" and ind.weight == 20


def test_inherit_by_relative_file_path(tmp_path):
    tree = tmp_path / "rulebooks"  # ../ stays inside the rulebooks tree (outside it: resolve.py's roots)
    (tree / "national").mkdir(parents=True)
    (tree / "province").mkdir()
    write_rulebook(tree / "national", PARENT, "p.jx")
    child = write_rulebook(tree / "province", '规则集 子 继承 "../national/p.jx"\n删除 决策/立项\n调整 决策/目标 权重 20\n', "c.jx")
    book = Linker().load(child)
    assert [i.weight for i in book.walk() if i.path[0] == "决策"] == [20, 20]


def test_conflicting_overrides_rejected(tmp_path):
    write_rulebook(tmp_path, PARENT, "parent.jx")
    text = "规则集 子 继承 父规则集\n调整 决策/立项 权重 8\n删除 决策/立项\n"
    e = only(load_errors(write_rulebook(tmp_path, text, "child.jx")), "冲突")
    assert "对“决策/立项”的修改与前面对“决策/立项”的修改（第 2 行）冲突" in e.message
    assert e.span.line == 3


def test_change_inside_replaced_indicator_conflicts(tmp_path):
    write_rulebook(tmp_path, PARENT, "parent.jx")
    text = "规则集 子 继承 父规则集\n替换 决策 权重 20 酌情\n调整 决策/立项 权重 10\n"
    e = only(load_errors(write_rulebook(tmp_path, text, "child.jx")), "冲突")
    assert e.span.line == 3


def test_adjust_parent_weight_and_child_weight(tmp_path):
    write_rulebook(tmp_path, PARENT, "parent.jx")
    text = "规则集 子 继承 父规则集\n调整 决策 权重 18\n调整 决策/立项 权重 8\n调整 过程 权重 32\n调整 过程/执行 权重 17\n"
    book = Linker().load(write_rulebook(tmp_path, text, "child.jx"))
    assert [i.weight for i in book.walk() if i.path[0] == "决策"] == [18, 8, 10]


def test_remove_child_and_adjust_parent_weight(tmp_path):
    write_rulebook(tmp_path, PARENT, "parent.jx")
    text = "规则集 子 继承 父规则集\n删除 效益/生态效益\n调整 效益 权重 30\n"
    book = Linker().load(write_rulebook(tmp_path, text, "child.jx"))
    assert [("/".join(i.path), i.weight) for i in book.walk() if i.path[0] == "效益"] == [("效益", 30), ("效益/社会效益", 30)]


def test_unknown_path_with_suggestion(tmp_path):
    write_rulebook(tmp_path, PARENT, "parent.jx")
    text = "规则集 子 继承 父规则集\n调整 决策/立向 权重 10\n"
    e = only(load_errors(write_rulebook(tmp_path, text, "child.jx")), "找不到指标")
    assert "找不到指标“决策/立向”（决策下没有“立向”）" in e.message
    assert "立项" in e.hint
    assert e.span.line == 2


def test_unknown_top_level_path(tmp_path):
    write_rulebook(tmp_path, PARENT, "parent.jx")
    text = "规则集 子 继承 父规则集\n\n删除 效溢/生态效益\n"
    e = only(load_errors(write_rulebook(tmp_path, text, "child.jx")), "找不到指标")
    assert "效溢" in e.message and "效益" in e.hint
    assert e.span.line == 3


def test_add_existing_name_rejected(tmp_path):
    write_rulebook(tmp_path, PARENT, "parent.jx")
    text = "规则集 子 继承 父规则集\n新增 效益\n  社会效益 权重 30 酌情\n"
    e = only(load_errors(write_rulebook(tmp_path, text, "child.jx")), "已有指标")
    assert e.span.line == 3


def test_child_weights_checked_after_overrides(tmp_path):
    write_rulebook(tmp_path, PARENT, "parent.jx")
    text = "规则集 子 继承 父规则集\n删除 效益/生态效益\n"
    e = only(load_errors(write_rulebook(tmp_path, text, "child.jx")), "下级指标权重之和")
    assert "30 = 30，与本级权重 50 不符" in e.message
    assert Path(e.span.file).name == "parent.jx" and e.span.line == 9


def test_inheritance_cycle(tmp_path):
    write_rulebook(tmp_path, "规则集 甲规则集 继承 乙规则集\n", "a.jx")
    b = write_rulebook(tmp_path, "规则集 乙规则集 继承 甲规则集\n", "b.jx")
    e = only(load_errors(b), "循环")
    assert "继承关系形成循环" in e.message
    assert "a.jx" in e.message and "b.jx" in e.message
    assert e.span.line == 1


def test_self_inheritance_cycle(tmp_path):
    e = only(load_errors(write_rulebook(tmp_path, "规则集 自己 继承 自己\n", "a.jx")), "循环")
    assert e.span.line == 1


def test_unknown_parent_name(tmp_path):
    write_rulebook(tmp_path, PARENT, "parent.jx")
    child = write_rulebook(tmp_path, "\n规则集 子 继承 母规则集\n", "child.jx")
    e = only(load_errors(child), "找不到")
    assert "找不到名为“母规则集”的规则集" in e.message
    assert "父规则集" in e.hint
    assert e.span.line == 2


def test_unknown_parent_file(tmp_path):
    child = write_rulebook(tmp_path, '规则集 子 继承 "nowhere.jx"\n', "child.jx")
    e = only(load_errors(child), "找不到")
    assert "nowhere.jx" in e.message and e.span.line == 1


def test_missing_rulebook_line(tmp_path):
    e = only(load_errors(write_rulebook(tmp_path, "甲 权重 1 酌情\n")), "缺少名称行")
    assert e.span.line == 1


def test_syntax_error_in_parent_is_reported(tmp_path):
    write_rulebook(tmp_path, "规则集 父规则集\n甲 权里 1 酌情\n", "parent.jx")
    child = write_rulebook(tmp_path, "规则集 子 继承 父规则集\n", "child.jx")
    (e,) = load_errors(child)
    assert isinstance(e, RulebookSyntaxError)
    assert Path(e.span.file).name == "parent.jx" and e.span.line == 2


# ---- provenance --------------------------------------------------------------------------------
def test_origin_points_at_child_for_changed_and_parent_for_untouched(family):
    parent, child = family
    book = Linker().load(child)
    origin = {"/".join(i.path): i.origin for i in book.walk()}
    assert (origin["决策/立项"].file, origin["决策/立项"].line) == (str(child), 2)
    assert (origin["过程/资金到位率"].file, origin["过程/资金到位率"].line) == (str(child), 4)
    assert (origin["效益/经济效益"].file, origin["效益/经济效益"].line) == (str(child), 7)
    assert (origin["过程/执行"].file, origin["过程/执行"].line) == (str(parent), 8)
    assert (origin["决策"].file, origin["决策"].line) == (str(parent), 3)
    assert (origin["效益/社会效益"].file, origin["效益/社会效益"].line) == (str(parent), 11)


def test_content_hash_changes_with_any_file_in_chain(family):
    parent, child = family
    h0 = Linker().load(child).content_hash
    assert Linker().load(child).content_hash == h0  # deterministic
    assert Linker().load(parent).content_hash != h0

    parent.write_text(PARENT.replace("等级 优 ≥90", "# 注释\n等级 优 ≥90"), encoding="utf-8")
    h1 = Linker().load(child).content_hash
    assert h1 != h0

    child.write_text(CHILD + "# 只改注释\n", encoding="utf-8")
    h2 = Linker().load(child).content_hash
    assert h2 not in (h0, h1)

    parent.write_text(PARENT, encoding="utf-8")
    child.write_text(CHILD, encoding="utf-8")
    assert Linker().load(child).content_hash == h0


# ---- issue 12 (language): units of written numbers, unreachable rules, derived graph, numbers --
UNITS = "事实\n  违规占比 百分比\n  到位资金 金额\n  预算资金 金额\n  培训人数 数量\n  得分系数 数值\n到位率 = 到位资金 / 预算资金\n"


@pytest.mark.parametrize("line, bad, hint", [
    ("监督 权重 2 扣分 每处0.5 扣完为止\n  若 违规占比 >15 则 1\n", "15", "15 应写成 15%？"),
    ("到位率 权重 4 达标 ≥98\n", "98", "98 应写成 98%？"),
    ("到位率 权重 4 正向 满分=1\n", "1", "1 应写成 1%？"),
    ("到位率 权重 4 正向 满分=100% 零分=60\n", "60", "60 应写成 60%？"),
    ("到位率 权重 4 分段 ≥95%:4 ≥80:2 否则:0\n", "80", "80 应写成 80%？"),
    ("乙 权重 4 达标 ≤12 取 违规占比 + 1%\n", "12", "12 应写成 12%？"),
    ("预算资金 权重 4 达标 ≤50\n", "50", "50 应写成 50万元 或 50元？"),
    ("甲 权重 4 得分 = 分值 × 最小(到位率, 1)\n  若 到位资金 < 8 则 0\n", "8", "8 应写成 8万元 或 8元？"),
])
def test_bare_number_against_a_value_of_known_kind(tmp_path, line, bad, hint):
    """A number without its unit where a percentage or an amount is compared: 20 is not 20%."""
    text = H + UNITS + line
    e = only(link_errors(text, tmp_path), f"{bad} 没有写")
    assert e.hint == hint and e.span.line == text.count("\n") and e.span.column > 1


@pytest.mark.parametrize("line", [
    "到位率 权重 4 达标 ≥98%\n",
    "监督 权重 2 扣分 每处0.5 扣完为止\n  若 违规占比 >0 则 1\n  若 违规占比 × 100 > 15 则 1\n",
    "得分系数 权重 4 达标 ≥3\n",
    "培训人数 权重 4 达标 ≥30\n",  # 数量: its unit is known only from the facts (checked when scoring)
    "甲 权重 4 达标 ≥3 取 到位资金 ÷ 预算资金 × 10\n",
])
def test_numbers_that_fit_their_values_link(tmp_path, line):
    Linker().load(write_rulebook(tmp_path, H + UNITS + line))


def test_known_units_that_differ_are_rejected(tmp_path):
    text = H + UNITS + "预算资金 权重 4 达标 ≥30人\n监督 权重 2 扣分 每处0.5 扣完为止\n  若 到位资金 ≥ 5% 则 1\n"
    errors = link_errors(text, tmp_path)
    assert {e.span.line for e in errors if "单位不一致" in e.message} == {9, 11}


@pytest.mark.parametrize("rule, line_fragment", [
    ("分段 ≥5%:2 ≥2%:1 ≥4%:0.5 否则:0", "“≥4%”"),
    ("分段 ≤10%:2 ≤20%:1.5 ≤15%:1 否则:0", "“≤15%”"),
    ("分段 >3%:2 =4%:1 否则:0", "“=4%”"),
    ("分段 ≥1%:2 ≥1%:1.5 否则:0", "“≥1%”"),
])
def test_band_that_earlier_bands_cover_is_unreachable(tmp_path, rule, line_fragment):
    e = only(link_errors(H + UNITS + f"违规占比 权重 2 {rule}\n", tmp_path), "永远用不到")
    assert line_fragment in e.message and e.span.line == 9 and e.span.column > 10


@pytest.mark.parametrize("rule", ["分段 >3%:2 ≥3%:1 否则:0", "分段 ≤10%:2 ≥50%:1 否则:0", "分段 ≥1%:2 ≥0%:1 ≥-1%:0.5"])
def test_reachable_bands_link(tmp_path, rule):
    Linker().load(write_rulebook(tmp_path, H + UNITS + f"违规占比 权重 2 {rule}\n"))


def test_otherwise_after_bands_that_take_every_value(tmp_path):
    e = only(link_errors(H + UNITS + "违规占比 权重 2 分段 ≤5%:2 >5%:1 否则:0\n", tmp_path), "“否则”永远用不到")
    assert e.span.line == 9


def test_veto_condition_an_earlier_one_preempts(tmp_path):
    text = H + UNITS + "监督 权重 2 扣分 每处0.5 扣完为止\n  若 违规占比 >10% 则 1\n  若 15% < 违规占比 则 0\n  若 违规占比 < 1% 则 2\n"
    e = only(link_errors(text, tmp_path), "永远不会起作用")
    assert e.span.line == 11


@pytest.mark.parametrize("text, fragment, line", [
    ("等级 优 ≥90 良 ≥75 优 ≥60 差\n甲 权重 1 酌情\n", "等级“优”重复", 2),
    ("等级 优 ≥90 良 ≥75 良\n甲 权重 1 酌情\n", "等级“良”重复", 2),
    ("甲 权重 2 达标 ≥90%\n  满意度 问卷 满意=1 一般=0.5 一般=0.6\n", "问卷选项“一般”重复", 3),
    ("甲 权重 1 酌情\n加分\n  创新 加 1\n  创新 加 2\n", "加分项“创新”重复", 5),
    ("甲 权重 1 酌情\n扣分\n  违规 扣 1\n  违规 扣 2\n", "扣分项“违规”重复", 5),
    ("甲 权重 1 酌情\n一票否决\n  造假\n  造假\n", "否决项“造假”重复", 3),
])
def test_names_written_twice(tmp_path, text, fragment, line):
    e = only(link_errors(H + text, tmp_path), fragment)
    assert e.span is not None and e.span.line == line


def test_long_derived_chain_in_any_order_is_a_located_limit(tmp_path):
    """Thousands of derived values each on the one before, written last first: no RecursionError."""
    from jxdsl.graph import MAX_BEHIND

    n = 2500
    lines = [f"值{i}项 = 值{i - 1}项 × 1" for i in range(n, 1, -1)] + ["值1项 = 底数 + 1"]
    text = H + "事实\n  底数 数值\n" + "\n".join(lines) + f"\n值{n}项 权重 1 达标 ≥1\n"
    e = only(link_errors(text, tmp_path), "依赖的数据和派生值过多")
    assert f"值{MAX_BEHIND + 1}项" in e.message and e.span.line == 4 + n - (MAX_BEHIND + 1)


def test_derived_values_sharing_inputs_with_a_missing_base_fail_fast(tmp_path):
    import time

    lines = ["层1项 = 根 × 2"] + [f"层{i}项 = 层{i - 1}项 - 层{i - 1}项 + 层{i - 1}项" for i in range(2, 80)]
    started = time.monotonic()
    e = only(link_errors(H + "\n".join(lines) + "\n层79项 权重 1 达标 ≥1\n", tmp_path), "既不是已声明的数据，也不是派生值")
    assert e.span.line == 2 and "“根”" in e.message and time.monotonic() - started < 10


def test_derived_chain_below_the_limit_links_in_order(tmp_path):
    lines = [f"值{i}项 = 值{i - 1}项 + 1" for i in range(90, 1, -1)] + ["值1项 = 底数 + 1"]
    book = Linker().load(write_rulebook(tmp_path, H + "事实\n  底数 数值\n" + "\n".join(lines) + "\n值90项 权重 1 达标 ≥1\n"))
    assert [d.name for d in book.derived][:3] == ["值1项", "值2项", "值3项"]


@pytest.mark.parametrize("number", ["1" * 31, "0." + "0" * 10 + "7" * 31, "2" * 20 + "." + "3" * 11 + "%"])
def test_number_with_too_many_digits_is_a_located_syntax_error(tmp_path, number):
    e = only(link_errors(H + f"甲 权重 1 达标 ≥{number}\n", tmp_path), "位数过多")
    assert isinstance(e, RulebookSyntaxError) and (e.span.line, e.span.column) == (2, 12)


def test_number_of_thirty_digits_links(tmp_path):
    Linker().load(write_rulebook(tmp_path, H + f"甲 权重 1 达标 ≥{'9' * 20}.{'1' * 10}万元\n"))
