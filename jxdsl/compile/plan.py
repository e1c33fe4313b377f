"""What the SQL compiler needs to know about a scheme before it writes any SQL.

Facts are named by position (``f3``), record targets (leaves, tables, items) by position (``r7``),
indicators by their order in the output (``k``), so that no rulebook text becomes an identifier.
"""
from __future__ import annotations

from fractions import Fraction

import attrs

from jxdsl import ir
from jxdsl.lower import names
from jxdsl.units import normalize


@attrs.frozen
class Target:
    """Something an evaluator record can be written for: a leaf, a 来自目标表 indicator or an item."""

    index: int
    path: tuple[str, ...]
    kind: str  # leaf | table | 加分 | 扣分 | 否决
    node: object = None


@attrs.frozen
class Plan:
    scheme: ir.Scheme
    facts: tuple[str, ...]  # every fact a rule may read, in first-use order
    targets: tuple[Target, ...]
    nodes: tuple[ir.Node, ...]  # every indicator in output order
    scale: int  # decimals of the fixed-point scores summed by the row aggregates

    def fact_index(self, name: str) -> int:
        return self.facts.index(name)

    def target_of(self, path: tuple[str, ...]) -> Target:
        return next(t for t in self.targets if t.path == path and t.kind in ("leaf", "table"))

    def item(self, kind: str, name: str) -> Target:
        return next(t for t in self.targets if t.kind == kind and t.path == (name,))

    def order(self, node) -> int:
        return next(n for n, x in enumerate(self.nodes) if x is node)

    def suffixes(self) -> list[tuple[str, int, int]]:
        """(normalized key, target index, parts) for every path suffix a record may be keyed by."""
        out = []
        for t in self.targets:
            key = tuple(normalize(p) for p in t.path)
            for k in range(1, len(key) + 1):
                out.append(("/".join(key[-k:]), t.index, k))
        return out


def make_plan(scheme: ir.Scheme) -> Plan:
    derived = {d.name: d for d in scheme.derived}
    facts: dict[str, None] = {}

    seen: set[str] = set()

    def use(expr_names):
        """Facts in the order a depth-first reading meets them; each derived value read once."""
        stack = [iter(expr_names)]
        while stack:
            n = next(stack[-1], None)
            if n is None:
                stack.pop()
            elif n not in derived:
                facts.setdefault(n)
            elif n not in seen:
                seen.add(n)
                stack.append(iter(names(derived[n].expr)))

    for d in scheme.derived:
        use(names(d.expr))
    for leaf in scheme.leaves():
        for e in _exprs(leaf):
            use(names(e))
        source = getattr(leaf.rule, "value", None)
        if isinstance(source, ir.OwnValue):
            use([source.name])
    for d in scheme.defaults.quantitative.values():
        if isinstance(d.zero, ir.ZeroAt):
            use(names(d.zero.expr))
    for f in scheme.facts:
        facts.setdefault(f)
    targets = []
    for node in scheme.walk():
        if isinstance(node, ir.Group):
            continue
        targets.append(Target(len(targets), node.path, "leaf" if isinstance(node, ir.Leaf) else "table", node))
    for kind, items in (("加分", scheme.bonus), ("扣分", scheme.penalty)):
        for i in items:
            targets.append(Target(len(targets), (i.name,), kind, i))
    for v in scheme.vetoes:
        targets.append(Target(len(targets), (v,), "否决", v))
    weights = [n.weight for n in scheme.walk()] + [i.points for i in (*scheme.bonus, *scheme.penalty)]
    scale = max([scheme.digits, 4, *(_decimals(w) for w in weights)])
    return Plan(scheme, tuple(facts), tuple(targets), tuple(scheme.walk()), scale)


def _decimals(f: Fraction) -> int:
    """Decimals a weight needs (written as a decimal, its denominator divides a power of ten)."""
    n = 0
    while (10**n) % f.denominator and n < 30:
        n += 1
    return n


def _exprs(leaf: ir.Leaf) -> list[ir.Expr]:
    rule = leaf.rule
    out: list[ir.Expr] = [v.condition for v in leaf.vetoes]
    if isinstance(rule, ir.Proportional):
        out.append(rule.target)
        if isinstance(rule.zero, ir.ZeroAt):
            out.append(rule.zero.expr)
    if isinstance(rule, ir.TargetMet):
        out.append(rule.target)
    if isinstance(rule, ir.Bands):
        out += [b.threshold for b in rule.bands]
    if isinstance(rule, ir.Formula):
        out.append(rule.expr)
    source = getattr(rule, "value", None)
    if isinstance(source, ir.ExprValue):
        out.append(source.expr)
    return out
