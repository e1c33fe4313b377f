"""Syntax: the parser's AST, spelling variants, and located Chinese syntax errors."""
from __future__ import annotations

from fractions import Fraction

import pytest

from jxdsl import ast
from jxdsl.errors import RulebookSyntaxError
from jxdsl.parse import MAX_DEPTH, parse

H = "规则集 测试\n"


def statements(text: str):
    return parse(H + text, "f.jx").statements[1:]


def one_statement(text: str):
    (st,) = statements(text)
    return st


def syntax_error(text: str) -> RulebookSyntaxError:
    with pytest.raises(RulebookSyntaxError) as info:
        parse(text, "f.jx")
    return info.value


# ---- the fixed point ---------------------------------------------------------------------------
def test_fixed_point_line_parses():
    doc = parse(H + "预算执行率 权重 10 正向 满分=100%\n", "f.jx")
    decl, ind = doc.statements
    assert decl == ast.RulebookDecl("测试", None)
    assert isinstance(ind, ast.Indicator)
    assert ind.name == "预算执行率"
    assert ind.weight.magnitude == 10 and ind.weight.unit == ""
    assert isinstance(ind.rule, ast.Proportional)
    assert ind.rule.direction == "正向"
    assert ind.rule.target.magnitude == 100 and ind.rule.target.unit == "%"
    assert ind.rule.source is None
    assert ind.children == () and ind.na_mode is None
    assert (ind.span.line, ind.span.column) == (2, 1)


def test_header_statements():
    doc = parse(
        "规则集 兴县-2022-自评 继承 单位自评-财预2020-10\n"
        '标题 "栖霞市乡村振兴扶贫资金项目支出绩效评价（2021年）"\n'
        "年度 2021-2023\n"
        "等级 优 ≥90 良 ≥80 中 ≥60 差\n"
        "小数 2 位 截断\n"
        "不适用 按比例折算\n",
        "f.jx",
    )
    decl, title, years, grades, digits, na = doc.statements
    assert decl == ast.RulebookDecl("兴县-2022-自评", "单位自评-财预2020-10")
    assert title.value == ("栖霞市乡村振兴扶贫资金项目支出绩效评价（2021年）",)
    assert years.value == (2021, 2023)
    assert [(b.name, b.op, b.bound.magnitude) for b in grades.bands] == [("优", ">=", 90), ("良", ">=", 80), ("中", ">=", 60)]
    assert grades.lowest == "差"
    assert digits.value == (2, "截断")
    assert na.value == ("按比例折算",)


def test_numbers_with_units_are_exact():
    st = one_statement("资金 权重 2 达标 ≥3180.30万元\n")
    assert st.rule.target.magnitude == Fraction("3180.30") and st.rule.target.unit == "万元"
    st = one_statement("人数 权重 2 达标 ≥1.47万人\n")
    assert st.rule.target.magnitude == Fraction("1.47") and st.rule.target.unit == "万人"


def test_dates_parse_as_date_literals():
    st = one_statement("完工时间 权重 2 达标 ≤2021年12月\n")
    assert st.rule == ast.TargetMet("<=", ast.DateLiteral("2021年12月"))
    st = one_statement("完工时间 权重 2 达标 ≤2022年底\n")
    assert st.rule.target == ast.DateLiteral("2022年底")


def test_checklist_tiers_bands_deduction_survey_structure():
    (ind,) = statements(
        "资金使用规范性 权重 5 清单\n"
        "  符合财经法规 2\n"
        "  审批手续完整 3\n"
        "  若 不规范资金占比 ≥20% 则 0\n"
        '  解释 "资金使用是否规范"\n'
    )
    assert [(i.name, i.points.magnitude) for i in ind.items] == [("符合财经法规", 2), ("审批手续完整", 3)]
    assert ind.vetoes[0].condition == ast.Compare(">=", ast.Ref("不规范资金占比"), ast.Number("20%", Fraction(20), "%"))
    assert ind.texts == (ast.TextField("解释", "资金使用是否规范"),)

    st = one_statement("效果 权重 3 档次 显著(2,3] 较好(1,2] 较差=0\n")
    t = st.rule.tiers
    assert [(x.name, x.low.magnitude, x.high.magnitude, x.low_closed, x.high_closed) for x in t] == [
        ("显著", 2, 3, False, True),
        ("较好", 1, 2, False, True),
        ("较差", 0, 0, True, True),
    ]
    assert st.rule.qualitative is False
    assert one_statement("目标 权重 20 定性 三档 达成[80%,100%] 未达成[0,80%)\n").rule.qualitative is True

    st = one_statement("成本节约率 权重 2 分段 ≥4%:2 ≥0%:0.5 否则:0\n")
    assert [(b.op, b.threshold.magnitude, b.points.magnitude) for b in st.rule.bands] == [(">=", 4, 2), (">=", 0, Fraction(1, 2))]
    assert st.rule.otherwise.magnitude == 0

    st = one_statement("监督管理 权重 2 扣分 每处0.1 扣完为止\n")
    assert st.rule == ast.Deduction(ast.Number("0.1", Fraction(1, 10), ""), True)

    (ind,) = statements("满意度 权重 10 达标 ≥98%\n  满意度 问卷 满意=1 一般=0.8 不满意=0\n")
    assert [(o.name, o.weight.magnitude) for o in ind.survey.options] == [("满意", 1), ("一般", Fraction(4, 5)), ("不满意", 0)]


def test_formula_precedence():
    st = one_statement("成本节约率 = (计划成本 - 实际成本) / 计划成本 × 2\n")
    assert st.expr == ast.BinOp(
        "*",
        ast.BinOp("/", ast.BinOp("-", ast.Ref("计划成本"), ast.Ref("实际成本")), ast.Ref("计划成本")),
        ast.Number("2", Fraction(2), ""),
    )
    st = one_statement("甲值 = 乙值 + 丙值 × 丁值\n")
    assert st.expr == ast.BinOp("+", ast.Ref("乙值"), ast.BinOp("*", ast.Ref("丙值"), ast.Ref("丁值")))


# ---- full-width and half-width ---------------------------------------------------------------
def same_ast(a: str, b: str):
    return parse(H + a, "a.jx") == parse(H + b, "b.jx")


@pytest.mark.parametrize(
    ("half", "full"),
    [
        ("效果 权重 3 档次 显著(2,3] 较好(1,2]\n", "效果 权重 3 档次 显著（2，3］ 较好（1，2］\n"),
        ("人数 权重 2 达标 >=24人\n", "人数 权重 2 达标 ≥24人\n"),
        ("人数 权重 2 达标 >=24人\n", "人数 权重 2 达标 ≧24人\n"),
        ("人数 权重 2 达标 >=24人\n", "人数 权重 2 达标 ＞＝24人\n"),
        ("人数 权重 2 达标 <=24人\n", "人数 权重 2 达标 ≦24人\n"),
        ("人数 权重 2 达标 <=24人\n", "人数 权重 2 达标 ≤24人\n"),
        ("预算执行率 权重 10 正向 满分=100%\n", "预算执行率 权重 10 正向 满分＝100%\n"),
        ("成本节约率 权重 2 分段 ≥4%:2 否则:0\n", "成本节约率 权重 2 分段 ≥4%：2 否则：0\n"),
        ("甲 权重 5 得分 = 分值 * 最小(乙值, 1)\n", "甲 权重 5 得分 ＝ 分值 × 最小（乙值，1）\n"),
        ("甲值 = 乙值 / 丙值 - 丁值\n", "甲值 ＝ 乙值 ÷ 丙值 − 丁值\n"),
        ("甲值 = 乙值 / 丙值 + 丁值\n", "甲值＝乙值／丙值＋丁值\n"),
        ("决策 权重 5\n  甲 权重 5 酌情\n", "决策　权重　5\n　甲　权重　5　酌情\n"),
        ("甲 权重 5 酌情\n", "甲 权重 5 酌情  # 注释\n# 整行注释\n\n"),
        ("甲 权重 5 酌情\n", "＃ 全角注释\n甲 权重 5 酌情 ＃ 尾注\n"),
        ("甲 权重 5 酌情\n", "甲   权重  5    酌情\n"),
    ],
)
def test_equivalent_spellings_give_equal_asts(half, full):
    assert same_ast(half, full)


def test_spans_differ_but_do_not_count():
    a = parse(H + "甲 权重 5 酌情\n", "a.jx")
    b = parse(H + "\n\n甲 权重 5 酌情\n", "b.jx")
    assert a == b
    assert a.statements[1].span.line == 2 and b.statements[1].span.line == 4


def test_different_rules_give_different_asts():
    assert not same_ast("预算执行率 权重 10 正向 满分=100%\n", "预算执行率 权重 10 反向 满分=100%\n")
    assert not same_ast("预算执行率 权重 10 正向 满分=100%\n", "预算执行率 权重 10 正向 满分=90%\n")
    assert not same_ast("效果 权重 3 档次 显著(2,3]\n", "效果 权重 3 档次 显著[2,3]\n")


def test_fullwidth_percent_gives_equal_ast():
    assert same_ast("预算执行率 权重 10 正向 满分=100%\n", "预算执行率 权重 10 正向 满分＝100％\n")


def test_fullwidth_digits_give_equal_ast():
    assert same_ast("预算执行率 权重 10 正向 满分=100%\n", "预算执行率 权重 １０ 正向 满分=１００%\n")


def test_fullwidth_digits_have_the_same_value():
    st = one_statement("预算执行率 权重 １０ 正向 满分＝１００％\n")
    assert st.weight.magnitude == 10
    assert st.rule.target.magnitude == 100 and st.rule.target.unit == "%"


# ---- names and keywords --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name",
    ["新增就业人数", "得分率", "删除违规项目数", "满分率", "加分项目数", "档次数", "产业项目（6个）完成情况", "第2题得分"],
)
def test_names_containing_keywords_stay_names(name):
    st = one_statement(f"{name} 权重 5 酌情\n")
    assert isinstance(st, ast.Indicator)
    assert st.name == name
    assert st.rule == ast.Judgement()


def test_keyword_as_separate_word_is_keyword():
    st = one_statement("新增 效益\n  新增就业人数 权重 2 达标 ≥24人\n")
    assert isinstance(st, ast.Add)
    assert st.parent == ("效益",)
    assert st.indicators[0].name == "新增就业人数"


def test_name_cannot_contain_space():
    e = syntax_error(H + "预算 执行率 权重 10 正向 满分=100%\n")
    assert e.span.line == 2


# ---- syntax errors ---------------------------------------------------------------------------------
def test_typo_in_keyword_suggests_weight():
    e = syntax_error(H + "预算执行率 权里 10 正向 满分=100%\n")
    assert (e.span.file, e.span.line, e.span.column) == ("f.jx", 2, 7)
    assert "此处不应出现“权里”" in e.message
    assert "权重" in e.message
    assert e.hint == "是否应为“权重”？"


def test_typo_in_rule_keyword_suggests():
    e = syntax_error(H + "预算执行率 权重 10 正象 满分=100%\n")
    assert e.span.line == 2 and e.span.column == 13
    assert "正向" in (e.hint or "")


def test_missing_value_at_line_end():
    e = syntax_error(H + "甲 权重 1 酌情\n乙 权重 1 正向 满分=\n")
    assert (e.span.line, e.span.column) == (3, 14)
    assert "此处不应出现行尾" in e.message


def test_unclosed_interval():
    e = syntax_error(H + "甲 权重 1 档次 好(2,3\n")
    assert e.span.line == 2
    assert "区间右端" in e.message


def test_error_renders_with_caret():
    e = syntax_error(H + "预算执行率 权里 10 正向 满分=100%\n")
    text = e.render({"f.jx": H + "预算执行率 权里 10 正向 满分=100%\n"})
    assert text.splitlines()[0] == "f.jx:2:7: 语法错误：此处不应出现“权里”，应为：=、“权重”"
    assert "  2 | 预算执行率 权里 10 正向 满分=100%" in text
    caret = [line for line in text.splitlines() if line.strip() == "^"]
    assert len(caret) == 1
    # 5 wide characters plus one space before 权里: the caret sits under column 11 cells in
    assert caret[0].index("^") == text.splitlines()[1].index("预") + 2 * 5 + 1
    assert "提示：是否应为“权重”？" in text


def test_invalid_date_is_syntax_error():
    e = syntax_error(H + "甲 权重 1 达标 ≥2021年13月\n")
    assert e.message == "“2021年13月”不是有效的日期"
    assert (e.span.line, e.span.column) == (2, 12)


def test_weight_with_unit_is_syntax_error():
    e = syntax_error(H + "甲 权重 10万元 酌情\n")
    assert "分数不应带单位“万元”" in e.message
    assert e.span.line == 2


@pytest.mark.parametrize(
    "formula",
    [
        "x = __import__('os').system('echo hi')",
        "甲值 = eval(1)",
        "甲值 = 乙值 ** 2",
        "甲值 = 'abc'",
        "甲值 = 乙值; import os",
        "甲 权重 1 得分 = exec('1')",
    ],
)
def test_code_in_formula_is_a_syntax_error(formula, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    marker = tmp_path / "pwned"
    text = H + formula.replace("echo hi", f"touch {marker}") + "\n"
    e = syntax_error(text)
    assert e.span.line == 2
    assert "此处不应出现" in e.message or "名称中不能有" in e.message
    assert not marker.exists()


def test_formula_text_is_never_evaluated_by_python(tmp_path):
    # a name that looks like Python stays a plain reference
    st = one_statement("甲值 = __import__ + 1\n")
    assert st.expr == ast.BinOp("+", ast.Ref("__import__"), ast.Number("1", Fraction(1), ""))


def test_bad_dedent():
    e = syntax_error(H + "决策 权重 20\n    甲 权重 10 酌情\n  乙 权重 10 酌情\n")
    assert (e.span.line, e.span.column) == (4, 3)
    assert "缩进与上面任何一级都对不齐" in e.message
    assert "本行缩进 2 格，上一级是 0 格" in e.message


def test_unexpected_indent():
    e = syntax_error(H + "甲值 = 1\n  乙值 = 2\n")
    assert e.span.line == 3
    assert "缩进" in e.message


def test_fullwidth_space_counts_as_two_columns():
    a = parse(H + "决策 权重 5\n　甲 权重 5 酌情\n  乙 权重 0 酌情\n", "f.jx")
    assert [c.name for c in a.statements[1].children] == ["甲", "乙"]


def _nested(levels: int) -> str:
    names = "甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳午未"
    return H + "".join("  " * i + f"第{names[i]}层 权重 1\n" for i in range(levels))


def test_deep_nesting_within_limit():
    doc = parse(_nested(MAX_DEPTH + 1), "f.jx")
    depth, node = 1, doc.statements[1]
    while node.children:
        depth, node = depth + 1, node.children[0]
    assert depth == MAX_DEPTH + 1


def test_too_deep_nesting():
    e = syntax_error(_nested(MAX_DEPTH + 2))
    assert f"缩进层级过深（最多 {MAX_DEPTH} 级）" in e.message
    assert e.span.line == MAX_DEPTH + 3
    assert e.span.column == 2 * (MAX_DEPTH + 1) + 1


def test_unterminated_string():
    e = syntax_error(H + '标题 "未闭合\n')
    assert e.span.line == 2


def test_bom_and_crlf_accepted():
    a = parse("\ufeff规则集 测试\r\n甲 权重 5 酌情\r\n", "f.jx")
    b = parse("规则集 测试\n甲 权重 5 酌情", "f.jx")
    assert a == b


def test_oversized_file_rejected():
    e = syntax_error(H + "# " + "注" * 700_000 + "\n")
    assert "过大" in e.message


def test_keyword_as_indicator_name_is_rejected_with_location(tmp_path):
    from jxdsl.errors import RulebookSyntaxError
    from jxdsl.parse import parse

    with pytest.raises(RulebookSyntaxError) as e:
        parse("规则集 x\n权重 权重 5 酌情\n", "kw.jx")
    assert "关键字" in e.value.message and (e.value.span.line, e.value.span.column) == (2, 1)
