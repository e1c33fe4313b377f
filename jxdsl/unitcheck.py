"""Static unit checks where a number written in the rulebook meets a fact or a derived value.

``formulas.dimension`` cannot tell 20 from 20%: both are dimensionless.  So ``若 不规范资金占比 ≥20
则 0`` would compare 0.25 with 20 and never fire.  Here every value gets a *kind*: ``"%"`` for a
percentage (a 百分比 fact, a ratio of like quantities, a % literal), ``""`` for a plain number, a
dimension (元, 人, 日期…), or None when it cannot be known before the facts are read (an undeclared
fact, a 数量 fact).  A bare number (no unit, not 0) compared with a value of a known kind other than
a plain number is a LinkError; an unknown kind is checked when scoring, by the same rules
(``kernel/values.py``: ``_Node.pct`` and ``bare_against_percent``).
"""
from __future__ import annotations

from collections.abc import Mapping

from jxdsl import ast
from jxdsl.errors import JxError, LinkError
from jxdsl.formulas import _is_zero, formula_text, literal, references
from jxdsl.units import DATE, PERCENT, TEXT, describe_dim, percent_hint

FACT_KINDS = {"金额": "元", "百分比": "%", "数值": "", "日期": DATE, "文本": TEXT, "数量": None}
PLAIN = ("", "%")


def bare(node) -> ast.Number | None:
    """The literal when ``node`` is a number written without a unit (and not 0), else None."""
    inner = node.operand if isinstance(node, ast.Neg) else node
    if isinstance(inner, ast.Number) and inner.unit == "" and inner.magnitude != 0:
        return inner
    return None


def kind(node, kinds: Mapping[str, str | None]) -> str | None:
    """A value's kind (see the module docstring); ``kinds`` maps names to theirs."""
    if isinstance(node, ast.Number):
        return "%" if node.unit in PERCENT else literal(node).dim
    if isinstance(node, ast.DateLiteral):
        return DATE
    if isinstance(node, ast.Ref):
        return kinds.get(node.name)
    if isinstance(node, ast.Neg):
        return kind(node.operand, kinds)
    if isinstance(node, ast.Call):
        return _same([kind(a, kinds) for a in node.args])
    if isinstance(node, ast.Compare):
        return None
    a, b = kind(node.left, kinds), kind(node.right, kinds)
    if None in (a, b):
        return None
    if node.op in "+-":
        return _same([a, b])
    if node.op == "*":
        if a in PLAIN and b in PLAIN:
            return ""
        return b if a in PLAIN else (a if b in PLAIN else None)
    if bare(node.right) is not None or bare(node.left) is not None:  # x ÷ 3: no longer a share
        return "" if a in PLAIN and b in PLAIN else (a if b in PLAIN else None)
    if a == b or (a in PLAIN and b in PLAIN):
        return "%"  # a ratio of like quantities is shown, and compared, as a percentage
    return a if b in PLAIN else None


def _same(ks: list) -> str | None:
    return ks[0] if None not in ks and len(set(ks)) == 1 else None


def mismatch(value_kind: str | None, number: ast.Number, what: str) -> LinkError | None:
    """A bare number against a value of a known kind that is not a plain number."""
    if value_kind in (None, "", TEXT):
        return None
    n = number.text
    if value_kind == "%":
        return LinkError(f"{what}是百分数，{n} 没有写 %", number.span, percent_hint(n))
    if value_kind == "元":
        return LinkError(f"{what}是金额，{n} 没有写单位", number.span, f"{n} 应写成 {n}万元 或 {n}元？")
    if value_kind == DATE:
        return LinkError(f"{what}是日期，{n} 不是日期", number.span, "写成日期，如 2021年12月 或 2022年底")
    return LinkError(f"{what}的单位是“{value_kind}”，{n} 没有写单位", number.span, f"{n} 应写成 {n}{value_kind}？")


def check_compares(expr, kinds: Mapping[str, str | None], errors: list[JxError]) -> None:
    """Every comparison inside ``expr`` (若 conditions, formulas, 取 expressions, derived values)."""
    stack = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Compare):
            for side, other in ((node.left, node.right), (node.right, node.left)):
                number = bare(side)
                if number is not None and bare(other) is None:
                    e = mismatch(kind(other, kinds), number, f"“{formula_text(other)}”")
                    if e is not None:
                        errors.append(e)
            if bare(node.left) is None and bare(node.right) is None and not _is_zero(node):
                clash(kind(node.left, kinds), node.right, kind(node.right, kinds), f"“{formula_text(node.left)}”", errors)
        for attr in ("left", "right", "operand"):
            if hasattr(node, attr):
                stack.append(getattr(node, attr))
        stack.extend(getattr(node, "args", ()))


def value_kind(name: str | None, source, survey: bool, kinds: Mapping[str, str | None]) -> str | None:
    """The kind of the value an indicator's rule reads."""
    if survey:
        return "%"
    if source is not None:
        return kind(source, kinds)
    return kinds.get(name) if name else None


def check_target(target, value: str | None, what: str, errors: list[JxError]) -> None:
    """满分=, 零分=, 达标 and 分段 values written against the indicator's value."""
    number = bare(target)
    if number is not None:
        e = mismatch(value, number, what)
        if e is not None:
            errors.append(e)
        return
    clash(value, target, kind(target, {}) if not references(target) else None, what, errors)


def clash(a: str | None, node, b: str | None, what: str, errors: list[JxError]) -> None:
    """Two known kinds of different dimensions (a percentage and a plain number are one)."""
    if a is None or b is None or TEXT in (a, b):
        return
    if (a if a != "%" else "") != (b if b != "%" else ""):
        errors.append(LinkError(f"单位不一致：{what}是{_words(a)}，{formula_text(node)} 是{_words(b)}", getattr(node, "span", None)))


def _words(k: str) -> str:
    return "百分数" if k == "%" else describe_dim(k)


def derived_kinds(derived, facts: Mapping[str, ast.FactDecl]) -> dict[str, str | None]:
    """Kinds of declared facts and of derived values (in dependency order: one pass)."""
    kinds: dict[str, str | None] = {n: FACT_KINDS.get(f.type) if f.type else None for n, f in facts.items()}
    for d in derived:
        kinds[d.name] = kind(d.expr, kinds)
    return kinds


def check_book(book, errors: list[JxError]) -> None:
    """Every place a linked rulebook writes a number against a fact or a derived value."""
    kinds = derived_kinds(book.derived, book.facts)
    for d in book.derived:
        check_compares(d.expr, kinds, errors)
    for ind in book.walk():
        rule = ind.rule
        source = getattr(rule, "source", None)
        for e in (source, getattr(rule, "target", None), getattr(rule, "expr", None)):
            if e is not None:
                check_compares(e, kinds, errors)
        for v in ind.vetoes:
            check_compares(v.condition, kinds, errors)
        vk = value_kind(ind.value_name, source, ind.survey is not None, kinds)
        what = "问卷满意度" if ind.survey is not None else f"“{formula_text(source) if source is not None else ind.value_name}”"
        if isinstance(rule, ast.Proportional):
            check_target(rule.target, vk, what, errors)
            if rule.zero is not None and getattr(rule.zero, "unit", "") != "倍":
                check_target(rule.zero, vk, what, errors)
        elif isinstance(rule, ast.TargetMet):
            check_target(rule.target, vk, what, errors)
        elif isinstance(rule, ast.Bands):
            for b in rule.bands:
                check_target(b.threshold, vk, what, errors)
