"""The project query: one row per project, every rulebook indicator scored by the kernel.

Leaves run ``kernel.leaf.run_leaf``; 来自目标表 indicators come from the row aggregates; parents,
items and the total run ``kernel.tree`` — the same functions the interpreter calls.  Every node
``k`` (its position in output order) gets the columns ``n{k}_s`` (score × 10^scale), ``_st``
(status), ``_x`` (explanation), ``_ws``/``_ss``/``_ds`` (weight, score, deduction as shown) and,
for a problem, ``_pm``/``_ph``/``_pc``/``_pa``/``_pl`` (message, hint, suggestion code and word, line).
"""
from __future__ import annotations

from fractions import Fraction

from sqlglot import exp

from jxdsl import ir
from jxdsl.compile.plan import Plan
from jxdsl.compile.scope import SqlRecord, SqlScope
from jxdsl.compile.source import keyed_source
from jxdsl.compile.sqlb import col
from jxdsl.kernel import tree
from jxdsl.kernel.leaf import run_leaf
from jxdsl.kernel.sentences import leaf_explanation, parent_explanation
from jxdsl.kernel.sql import Caps, Program, SBool, SNum, SText
from jxdsl.kernel.sqlops import SqlOps
from jxdsl.kernel.sqltext import big


class Node:
    """A scored node, staged: score, status, excluded weight, explanation, problem and its line."""

    def __init__(self, score, status, excluded, explanation, problem=None, line=None, weight=None):
        self.score, self.status, self.excluded, self.explanation = score, status, excluded, explanation
        self.problem, self.line, self.weight = problem, line, weight


def project_program(plan: Plan, caps: Caps):
    scheme = plan.scheme
    base = ["pid", "project", "year", "facts_line"]
    source = keyed_source(plan, exp.select(*[col(c, "pr") for c in base]).from_(exp.alias_(exp.to_table("projects"), "pr")), col("pid", "pr"), base)
    p = Program(source, base, prefix="c")
    b = SqlOps(p, caps)
    b.guard_widths("c_wide")  # rows too long for 38 digits compute no numbers (→ interpreter)
    scope = SqlScope(b, plan)
    out: dict[str, object] = {}
    nodes: dict[int, Node] = {}
    digits = scheme.digits
    scale = 10**plan.scale

    def visit(node) -> Node:
        k = plan.order(node)
        if isinstance(node, ir.Group):
            kids = [visit(c) for c in node.children]
            s = tree.parent(b, [(n.score, n.status, n.excluded) for n in kids])
            ceiling = b.num(sum((abs(c.weight) for c in node.children), Fraction(0)))
            score = b.let(b.bounded(s.score, ceiling))
            parts = []
            for i, (c, n) in enumerate(zip(node.children, kids)):
                parts += [b.text(" + ")] if i else []
                parts.append(tree.child_part(b, b.text(c.name), n.score, digits))
            shown = b.cases((b.is_null(score), b.null), default=lambda: b.plain(score, digits))
            got = Node(score, b.let(s.status), b.let(b.bounded(s.excluded, ceiling)), parent_explanation(b, b.concat(*parts), shown))
        elif isinstance(node, ir.TargetTable):
            got = _table(b, plan, node)
        else:
            got = _leaf(b, plan, scope, node)
        nodes[k] = got
        w = got.weight = b.num(node.weight) if got.weight is None else b.let(got.weight)
        if moves_weight(node):
            out[f"n{k}_w"] = b.plain(w, 4)
            out[f"n{k}_wi"] = SText(b, b.to_scale(w, scale))
        out[f"n{k}_s"] = SText(b, b.to_scale(got.score, scale)) if got.score is not None else b.null
        out[f"n{k}_st"] = got.status
        out[f"n{k}_x"] = got.explanation
        out[f"n{k}_ss"] = b.plain(got.score, digits)
        out[f"n{k}_ex"] = SText(b, b.to_scale(got.excluded, scale))
        out[f"n{k}_ds"] = tree.shown_deduction(b, w, got.score, got.excluded, got.status, digits)
        if got.problem is not None:
            pr = got.problem
            out.update({f"n{k}_pm": pr.message, f"n{k}_ph": pr.hint if pr.hint is not None else b.null, f"n{k}_pc": pr.code if pr.code is not None else b.null, f"n{k}_pa": pr.arg if pr.arg is not None else b.null})
            out[f"n{k}_pl"] = SText(b, got.line.num) if got.line is not None else b.null
        return got

    roots = [visit(n) for n in scheme.roots]
    _items_and_total(b, plan, scope, roots, out)
    for j, d in enumerate(scheme.derived):
        problem = scope.derived_problem(d.name)
        if problem is None:
            continue
        out[f"d{j}_pm"] = b.cases((b.is_null(problem), b.null), default=lambda problem=problem, d=d: b.concat(b.text(f"计算派生值“{d.name}”时："), problem.message))
        line = scope.line(d.name)
        out[f"d{j}_pl"] = SText(b, line.num) if isinstance(line, SNum) else b.null
    flags = [SBool(b, f) for f in b.overflow]
    flags += [SBool(b, exp.func("coalesce", exp.column(f"t{t.index}_ovf"), exp.false())) for t in plan.targets if t.kind == "table"]
    flags += [SqlRecord(b, t.index).overflow for t in plan.targets if isinstance(t.node, ir.Leaf) and isinstance(getattr(t.node.rule, "value", None), ir.SurveyValue)]
    check = b.width_check()
    if check is None:
        out["ovf"] = None
        return p, b, out
    out["ovf"] = b.any(*flags, SBool(b, check))
    return p, b, out


def _leaf(b, plan: Plan, scope, leaf: ir.Leaf) -> Node:
    t = plan.target_of(leaf.path)
    items = None
    if isinstance(leaf.rule, ir.Checklist):
        items = [i.name for i in leaf.rule.items]
    elif isinstance(getattr(leaf.rule, "value", None), ir.SurveyValue):
        items = [o.name for o in leaf.rule.value.options]
    rec = SqlRecord(b, t.index, items)
    got = run_leaf(scope, leaf, rec)
    digits = plan.scheme.digits
    w = b.num(leaf.weight)
    score = b.let(got.score)
    status = b.let(got.status)
    excluded = b.let(got.excluded)
    lost = b.all(b.not_(b.is_null(score)), lambda: (w - score - excluded) > b.num(0), b.not_(b.eq(status, b.text("not_applicable"))))
    text = leaf_explanation(b, [(s.when, s.kind, s.payload()) for s in got.steps], lost, b.plain(w - score - excluded, digits), got.evidence)
    source = getattr(leaf.rule, "value", None)
    own = source.name if isinstance(source, ir.OwnValue) else None
    line = b.coalesce(rec.line, scope.line(own) if own else b.null, SNum(b, exp.column("facts_line"), big(1), 18, 1, dc=1))
    return Node(score, status, excluded, text, got.problem, line if not isinstance(line, type(b.null)) else None)


def _table(b, plan: Plan, node: ir.TargetTable) -> Node:
    """A 来自目标表 indicator from its rows' aggregates (``rows._aggregates``, joined as ``t{i}_…``)."""
    i = plan.target_of(node.path).index
    scale = 10**plan.scale

    def num(suffix):
        return SNum(b, exp.column(f"t{i}_{suffix}"), big(scale), 20, len(str(scale)), dc=scale)

    flag = lambda suffix, j=i: SBool(b, exp.func("coalesce", exp.column(f"t{j}_{suffix}"), exp.false()))  # noqa: E731
    present = flag("p")
    kids = tree.parent_of(b, flag("unscored"), num("total"), b.num(0), flag("all_na"))
    rec = SqlRecord(b, i)
    moved = []
    for m in node.merged_from:
        j = plan.target_of(m.path).index
        moved.append(b.let(b.all(b.not_(flag("p", j)), b.not_(SqlRecord(b, j).na))))
    got = tree.target_table(b, node, present, num("w"), flag("wbad"), kids, SText(b, exp.column(f"t{i}_parts")), plan.scheme.digits, rec.na, moved, plan.scheme.na_default)
    line = SNum(b, exp.column(f"t{i}_l"), big(1), 18, 1, dc=1)
    facts_line = SNum(b, exp.column("facts_line"), big(1), 18, 1, dc=1)
    where = b.cases((present, line), default=lambda: b.coalesce(rec.line, facts_line))
    return Node(got.score, b.let(got.status), b.let(got.excluded), got.explanation, got.problem, where, got.weight)


def moves_weight(node) -> bool:
    """Whether a node's weight depends on the project (未设置时 并入): then it is a column."""
    return isinstance(node, ir.TargetTable) and (node.merge_into is not None or bool(node.merged_from))


def _items_and_total(b, plan: Plan, scope, roots: list[Node], out: dict) -> None:
    scheme = plan.scheme
    results = {"加分": [], "扣分": [], "否决": []}
    for t in plan.targets:
        if t.kind in ("加分", "扣分"):
            got = tree.bonus_item(b, t.node, SqlRecord(b, t.index), t.kind)
        elif t.kind == "否决":
            got = tree.veto_item(b, t.node, SqlRecord(b, t.index))
        else:
            continue
        results[t.kind].append(got)
        out[f"i{t.index}_a"] = b.plain(got.awarded, 2) if got.awarded is not None else b.null
        out[f"i{t.index}_st"] = got.status
        out[f"i{t.index}_ev"] = got.evidence if got.evidence is not None else b.null
        if got.problem is not None:
            out[f"i{t.index}_pm"] = got.problem.message
            out[f"i{t.index}_ph"] = got.problem.hint if got.problem.hint is not None else b.null
    total = tree.total(b, scheme, [(r.score, r.excluded) for r in roots], results["加分"], results["扣分"], results["否决"])
    digits = scheme.digits
    scale = 10**plan.scale
    out["total_s"] = SText(b, b.to_scale(total.total, scale))
    out["total"] = b.plain(total.total, digits)
    out["subtotal"] = b.plain(total.subtotal, digits)
    out["grade"] = total.grade
    out["bonus"] = b.plain(total.bonus, digits)
    out["penalty"] = b.plain(total.penalty, digits)
    kinds = []
    for n, step in enumerate(total.steps):
        kinds.append((step.kind, list(step.payload())))
        out[f"ts{n}_on"] = step.when
        for key, value in step.payload().items():
            out[f"ts{n}_{key}"] = value
    out["__total_steps__"] = kinds
    out["total_pm"] = total.problem.message if total.problem is not None else b.null
    part = tree.partial(b, [(n.name, r.score, r.weight, r.excluded) for n, r in zip(scheme.roots, roots)])
    out["ptotal"] = b.plain(part.total, digits)
    out["pmax"] = b.plain(part.max, 4)
    out["punscored"] = part.unscored
