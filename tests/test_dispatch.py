"""Every AST node kind has its handler in each dispatch table (a new node cannot be forgotten)."""
from __future__ import annotations

import typing
from fractions import Fraction

import attrs
import pytest
import sympy

from jxdsl import ast, ir
from jxdsl.explain import describe_rule
from jxdsl.kernel.leaf import RULES
from jxdsl.formulas import references, to_sympy
from jxdsl.parse import parse

CONCRETE_RULES = [ast.Proportional, ast.TargetMet, ast.Checklist, ast.Tiers, ast.Bands, ast.Deduction, ast.Formula, ast.Judgement]
IR_RULES = [ir.Proportional, ir.TargetMet, ir.Checklist, ir.Tiers, ir.Bands, ir.Deduction, ir.Formula, ir.Judgement]
EXPRESSIONS = [ast.Number, ast.DateLiteral, ast.Ref, ast.BinOp, ast.Neg, ast.Call, ast.Compare]


def test_rule_union_is_what_we_expect():
    assert set(typing.get_args(ast.Rule)) == set(CONCRETE_RULES) | {ast.FromTargets}


def test_expr_union_is_what_we_expect():
    assert set(typing.get_args(ast.Expr)) == set(EXPRESSIONS)


def test_ir_rule_union_is_what_we_expect():
    assert set(typing.get_args(ir.Rule)) == set(IR_RULES)


@pytest.mark.parametrize("cls", IR_RULES, ids=lambda c: c.__name__)
def test_every_ir_rule_has_a_kernel_function(cls):
    assert cls in RULES
    assert callable(RULES[cls])


def test_kernel_dispatch_covers_exactly_the_ir_rules():
    """来自目标表 is not a rule of the kernel: its rows are desugared into rules per project."""
    assert set(RULES) == set(IR_RULES)


@pytest.mark.parametrize("cls", CONCRETE_RULES, ids=lambda c: c.__name__)
def test_every_rule_lowers_to_an_ir_rule(cls):
    from jxdsl.link import Linker
    from jxdsl.lower import lower

    line = RULE_LINES[cls][0]
    if cls is ast.Formula:
        line = "乙 = 1\n" + line
    import tempfile
    from pathlib import Path

    d = Path(tempfile.mkdtemp())
    (d / "x.jx").write_text(f"规则集 测\n{line}\n", encoding="utf-8")
    scheme = lower(Linker().load(d / "x.jx"))
    (leaf,) = scheme.leaves()
    assert type(leaf.rule) in IR_RULES


@pytest.mark.parametrize("cls", [*CONCRETE_RULES, ast.FromTargets], ids=lambda c: c.__name__)
def test_every_rule_has_a_printer(cls):
    assert cls in describe_rule.registry
    assert describe_rule.dispatch(cls) is not describe_rule.dispatch(object)


@pytest.mark.parametrize("cls", EXPRESSIONS, ids=lambda c: c.__name__)
def test_every_expression_has_sympy_and_references(cls):
    assert to_sympy.dispatch(cls) is not to_sympy.dispatch(object)
    assert references.dispatch(cls) is not references.dispatch(object)


def test_unknown_node_is_rejected_not_ignored():
    @attrs.frozen
    class Mystery:
        pass

    with pytest.raises(TypeError):
        describe_rule(Mystery())
    with pytest.raises(TypeError):
        to_sympy(Mystery())
    with pytest.raises(TypeError):
        references(Mystery())


# ---- the printers and converters do the right thing on real nodes ----------------------------------
RULE_LINES = {
    ast.Proportional: ("甲 权重 10 正向 满分=100%", "正向 满分=100%"),
    ast.TargetMet: ("甲 权重 2 达标 ≥24人", "达标 ≥24人"),
    ast.Checklist: ("甲 权重 2 清单\n  第一条 2", "清单"),
    ast.Tiers: ("甲 权重 3 档次 显著(2,3] 较差=0", "档次 显著(2,3] 较差=0"),
    ast.Bands: ("甲 权重 2 分段 ≥4%:2 否则:0", "分段 ≥4%:2 否则:0"),
    ast.Deduction: ("甲 权重 2 扣分 每处0.5 扣完为止", "扣分 每处0.5 扣完为止"),
    ast.Formula: ("甲 权重 3 得分 = 分值 × 最小(乙, 1)", "得分 = 分值 × 最小(乙, 1)"),
    ast.Judgement: ("甲 权重 8 酌情", "酌情"),
    ast.FromTargets: ("甲 权重 50 来自目标表", "来自目标表"),
}


@pytest.mark.parametrize("cls", list(RULE_LINES), ids=lambda c: c.__name__)
def test_describe_rule_round_trips(cls):
    line, words = RULE_LINES[cls]
    ind = parse(f"规则集 测\n{line}\n", "f.jx").statements[1]
    assert isinstance(ind.rule, cls)
    assert describe_rule(ind.rule) == words
    # the printed rule parses back to the same rule
    again = parse(f"规则集 测\n甲 权重 {ind.weight.text} {describe_rule(ind.rule)}\n", "g.jx").statements[1]
    assert again.rule == ind.rule


def _expr(text: str):
    return parse(f"规则集 测\n值 = {text}\n", "f.jx").statements[1].expr


@pytest.mark.parametrize(
    ("text", "names", "sym"),
    [
        ("3180.30万元", [], sympy.Rational(31803000)),
        ("98%", [], sympy.Rational(49, 50)),
        ("甲", ["甲"], sympy.Symbol("甲")),
        ("甲 + 乙 × 2", ["甲", "乙"], sympy.Symbol("甲") + 2 * sympy.Symbol("乙")),
        ("-甲", ["甲"], -sympy.Symbol("甲")),
        ("最小(甲, 1)", ["甲"], sympy.Min(sympy.Symbol("甲"), 1)),
        ("(甲 - 乙) / 甲", ["甲", "乙", "甲"], (sympy.Symbol("甲") - sympy.Symbol("乙")) / sympy.Symbol("甲")),
    ],
)
def test_to_sympy_and_references_values(text, names, sym):
    node = _expr(text)
    assert [r.name for r in references(node)] == names
    assert sympy.simplify(to_sympy(node) - sym) == 0


def test_date_and_compare_to_sympy():
    node = parse("规则集 测\n甲 权重 1 扣分 每处1\n  若 完工 ≤2021年12月 则 0\n", "f.jx").statements[1].vetoes[0].condition
    assert isinstance(node, ast.Compare)
    assert [r.name for r in references(node)] == ["完工"]
    expr = to_sympy(node)
    import datetime

    last_day = datetime.date(2021, 12, 31).toordinal()
    assert bool(expr.subs(sympy.Symbol("完工"), last_day)) is True
    assert bool(expr.subs(sympy.Symbol("完工"), last_day + 1)) is False
    assert to_sympy(ast.DateLiteral("2021年12月")) == sympy.Rational(last_day)
    assert to_sympy(ast.Number("1.5", Fraction(3, 2), "")) == sympy.Rational(3, 2)


def test_every_step_kind_the_evaluator_records_has_a_sentence():
    """Explanations are rendered from steps: a step kind without a renderer would crash explain."""
    import re
    from pathlib import Path

    import jxdsl.kernel as kernel
    from jxdsl.kernel.sentences import SENTENCES

    source = "".join(p.read_text(encoding="utf-8") for p in Path(kernel.__file__).parent.glob("*.py"))
    recorded = set(re.findall(r'Step\(\s*"(\w+)"', source))
    recorded |= {"bonus_cap", "penalty_cap"}  # named by the item kind: kind + "_cap"
    totals = {"rescale", "bonus_cap", "penalty_cap", "floor", "veto_total"}  # rendered by the total line
    assert recorded - totals <= set(SENTENCES), recorded - totals - set(SENTENCES)
    assert {"value", "proportional", "target", "tier", "deduction", "override"} <= recorded
