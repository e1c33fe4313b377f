"""Linked ``Rulebook`` → ``ir.Scheme``: rules as typed nodes, settings as enums.

Lowering decides once what each rule reads (its own fact, a 取 expression or a survey) and turns
every literal into its value in base units, so that the kernel never looks at rulebook text.
"""
from __future__ import annotations

from fractions import Fraction

import attrs

from jxdsl import ast, ir
from jxdsl.formulas import literal
from jxdsl.link import WEIGHT_NAME, LinkedIndicator, Rulebook
from jxdsl.units import PERCENT

_CMP = {">=": ir.Cmp.GE, "<=": ir.Cmp.LE, ">": ir.Cmp.GT, "<": ir.Cmp.LT, "=": ir.Cmp.EQ}
_ARITH = {"+": ir.Arith.ADD, "-": ir.Arith.SUB, "*": ir.Arith.MUL, "/": ir.Arith.DIV}
_CACHE: dict[tuple, ir.Scheme] = {}


def cmp(op: str) -> ir.Cmp:
    """A comparison sign as the parser writes it (>=, <=, >, <, =)."""
    return _CMP[op]


def lower(book: Rulebook) -> ir.Scheme:
    """The scheme of a linked rulebook (lowered once per rulebook content)."""
    key = (book.name, book.content_hash, book.files)
    if key not in _CACHE:
        _CACHE[key] = _lower(book)
    return _CACHE[key]


def _lower(book: Rulebook) -> ir.Scheme:
    return ir.Scheme(
        name=book.name,
        version=book.version,
        content_hash=book.content_hash,
        files=book.files,
        digits=book.digits,
        rounding=ir.Rounding(book.rounding),
        grades=tuple(ir.Grade(name, op == ">", bound) for name, op, bound in book.grades),
        lowest_grade=book.lowest_grade,
        zero_target=ir.ZeroTarget(book.zero_target),
        over_target=ir.OverTarget(book.over_target),
        na_default=ir.NaMode(book.na_default) if book.na_default else None,
        years=book.years,
        facts={n: (ir.FactType(f.type) if f.type else None) for n, f in book.facts.items()},
        derived=tuple(ir.Derived(d.name, expr(d.expr), d.span) for d in book.derived),
        roots=_siblings(book.indicators),
        defaults=_defaults(book),
        bonus=tuple(ir.Item(b.name, b.points.magnitude, b.points.text) for b in book.bonus),
        bonus_cap=book.bonus_cap,
        penalty=tuple(ir.Item(b.name, b.points.magnitude, b.points.text) for b in book.penalty),
        penalty_cap=book.penalty_cap,
        vetoes=tuple(book.vetoes),
        grade_rates=book.grade_rates,
        grade_max=(book.declared_max if book.declared_max is not None else book.max) if book.grade_rates is not None else None,
    )


def rounding(r) -> ir.Round | None:
    """An ``ast.Rounding`` (小数 N 位 mode) as IR."""
    return ir.Round(r.digits, ir.Rounding(r.mode)) if r is not None else None


# ---- expressions ------------------------------------------------------------------------------
def expr(node, weight_name: bool = False) -> ir.Expr:
    """An AST expression as IR (``分值`` is the weight only inside 得分 formulas)."""
    if isinstance(node, (ast.Number, ast.DateLiteral)):
        q = literal(node)
        return ir.Const(q.value, q.dim, q.unit, node.text, q.start, node.span)
    if isinstance(node, ast.Ref):
        if weight_name and node.name == WEIGHT_NAME:
            return ir.WeightRef(node.span)
        return ir.Name(node.name, node.span)
    if isinstance(node, ast.BinOp):
        return ir.BinOp(_ARITH[node.op], expr(node.left, weight_name), expr(node.right, weight_name), node.span)
    if isinstance(node, ast.Neg):
        return ir.Neg(expr(node.operand, weight_name), node.span)
    if isinstance(node, ast.Call):
        return ir.Call(ir.Extreme(node.func), tuple(expr(a, weight_name) for a in node.args), node.span)
    if isinstance(node, ast.Compare):
        return ir.Compare(_CMP[node.op], expr(node.left, weight_name), expr(node.right, weight_name), node.span)
    raise TypeError(f"no IR for {type(node).__name__}")


def names(e: ir.Expr) -> list[str]:
    """Every fact or derived name an IR expression reads, in order, with repeats."""
    if isinstance(e, ir.Name):
        return [e.name]
    if isinstance(e, ir.BinOp) or isinstance(e, ir.Compare):
        return names(e.left) + names(e.right)
    if isinstance(e, ir.Neg):
        return names(e.operand)
    if isinstance(e, ir.Call):
        return [n for a in e.args for n in names(a)]
    return []


def needed(derived: dict, roots) -> list[str]:
    """The derived values that ``roots`` (names) depend on, themselves included, in dependency order.

    Iterative and visiting each value once: a chain of thousands of derived values, or values that
    each use the one before twice, cost their number of lines, never a deep or exponential walk."""
    order: list[str] = []
    seen: set[str] = set()
    for root in roots:
        if root not in derived or root in seen:
            continue
        seen.add(root)
        stack = [(root, iter(dict.fromkeys(names(derived[root].expr))))]
        while stack:
            name, refs = stack[-1]
            ref = next(refs, None)
            if ref is None:
                stack.pop()
                order.append(name)
            elif ref in derived and ref not in seen:
                seen.add(ref)
                stack.append((ref, iter(dict.fromkeys(names(derived[ref].expr)))))
    return order


# ---- indicators -------------------------------------------------------------------------------
def _siblings(inds) -> tuple[ir.Node, ...]:
    """Lowered siblings; a 来自目标表 one learns which siblings 并入 it (``merged_from``)."""
    nodes = [_node(i) for i in inds]
    keys = {n.key: n.name for n in nodes if isinstance(n, ir.TargetTable)}
    nodes = [attrs.evolve(n, merge_into=keys.get(table_key(n.merge_into), n.merge_into)) if isinstance(n, ir.TargetTable) and n.merge_into else n for n in nodes]
    out = []
    for n in nodes:
        if isinstance(n, ir.TargetTable):
            n = attrs.evolve(n, merged_from=tuple(m for m in nodes if isinstance(m, ir.TargetTable) and m.merge_into is not None and table_key(m.merge_into) == n.key))
        out.append(n)
    return tuple(out)


def _node(ind: LinkedIndicator) -> ir.Node:
    na = ir.NaMode(ind.na_mode) if ind.na_mode else None
    if ind.children:
        return ir.Group(ind.path, ind.weight, _siblings(ind.children), ind.origin)
    if isinstance(ind.rule, ast.FromTargets):
        return ir.TargetTable(ind.path, ind.weight, table_key(ind.name), ind.origin, na, ind.merge_into)
    vetoes = tuple(ir.Veto(expr(v.condition), v.score.magnitude, v.score.text) for v in ind.vetoes)
    return ir.Leaf(ind.path, ind.weight, _rule(ind), vetoes, na, ind.origin, rounding(ind.rounding))


def table_key(name: str) -> str:
    """Target rows belong to the 来自目标表 indicator of the same name; 产出 and 产出指标 are one."""
    from jxdsl.units import normalize

    n = normalize(name).strip()
    return n[:-2] if n.endswith("指标") else n


def _value(ind: LinkedIndicator, source) -> ir.ValueSource:
    if ind.survey is not None:
        options = tuple(ir.SurveyOption(o.name, literal(o.weight).value, o.weight.text) for o in ind.survey.options)
        return ir.SurveyValue(ind.survey.label or "满意度", options)
    if source is None:
        return ir.OwnValue(ind.name)
    if isinstance(source, ast.Ref):
        return ir.OwnValue(source.name)
    return ir.ExprValue(expr(source))


def _rule(ind: LinkedIndicator) -> ir.Rule:
    rule = ind.rule
    if isinstance(rule, ast.Proportional):
        return ir.Proportional(ir.Direction(rule.direction), expr(rule.target), _value(ind, rule.source), zero_point(rule.zero))
    if isinstance(rule, ast.TargetMet):
        return ir.TargetMet(_CMP[rule.op], expr(rule.target), _value(ind, rule.source))
    if isinstance(rule, ast.Checklist):
        return ir.Checklist(tuple(ir.Item(i.name, i.points.magnitude, i.points.text) for i in ind.items))
    if isinstance(rule, ast.Tiers):
        return ir.Tiers(tuple(tier(t) for t in rule.tiers), rule.qualitative)
    if isinstance(rule, ast.Bands):
        bands = tuple(ir.Band(_CMP[b.op], expr(b.threshold), b.points.magnitude) for b in rule.bands)
        other = rule.otherwise.magnitude if rule.otherwise is not None else None
        return ir.Bands(bands, other, _value(ind, rule.source))
    if isinstance(rule, ast.Deduction):
        return ir.Deduction(rule.per_finding.magnitude, rule.floored)
    if isinstance(rule, ast.Formula):
        return ir.Formula(expr(rule.expr, weight_name=True))
    if isinstance(rule, ast.Judgement):
        return ir.Judgement()
    raise TypeError(f"no IR for rule {type(rule).__name__}")


def zero_point(zero) -> ir.ZeroPoint | None:
    if zero is None:
        return None
    if isinstance(zero, ast.Number) and zero.unit == "倍":
        return ir.Multiple(zero.magnitude, zero.text)
    return ir.ZeroAt(expr(zero))


def tier(t: ast.Tier) -> ir.Tier:
    """A tier in its own terms: points, or a share of the weight when written in percent."""
    lo, hi = literal(t.low), literal(t.high)
    pct = t.low.unit in PERCENT or t.high.unit in PERCENT
    return ir.Tier(t.name, lo.value, hi.value, t.low_closed, t.high_closed, pct, t.low.text, t.high.text)


def tier_points(t: ir.Tier, weight: Fraction) -> tuple[Fraction, Fraction]:
    """The tier's interval in points for an indicator of this weight."""
    if t.of_weight:
        return t.low * weight, t.high * weight
    return t.low, t.high


def _defaults(book: Rulebook) -> ir.RowDefaults:
    quantitative = {
        _CMP[op]: ir.RowDefault(ir.RowKind(d.kind), zero_point(d.zero), rounding(d.rounding)) for op, d in book.quantitative_defaults.items()
    }
    tiers = ir.Tiers(tuple(tier(t) for t in book.qualitative_tiers), True) if book.qualitative_tiers else None
    return ir.RowDefaults(quantitative, tiers, rounding(book.qualitative_rounding))
