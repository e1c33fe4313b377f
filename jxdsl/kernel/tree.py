"""Parents, the total and the grade, staged: sums of rounded children, 不适用 rescaling, bonus,
penalty and veto items, floors and grade bands — the same arithmetic in every engine."""
from __future__ import annotations

from fractions import Fraction
from typing import Any

import attrs

from jxdsl import ir
from jxdsl.kernel.values import Step, missing

YES = ("是", "有", "true", "True", "yes", "1")
NO = ("否", "无", "false", "False", "no", "0")


def yes_no(b, text):
    """是/有/true → TRUE, 否/无/false → FALSE, anything else (or nothing) → NULL."""
    return b.cases(
        (b.is_null(text), b.null),
        (lambda: b.in_(b.strip(text), YES), b.flag(True)),
        (lambda: b.in_(b.strip(text), NO), b.flag(False)),
        default=b.null,
    )


def flag(b, text):
    """Whether a 是/否 field says yes (anything else, including nothing, is no)."""
    return b.eq(b.coalesce(yes_no(b, text), b.flag(False)), b.flag(True))


# ---- parents ----------------------------------------------------------------------------------
@attrs.define
class Sum:
    """A parent's score from its children: NULL when a child that counts has none."""

    score: Any
    status: Any
    excluded: Any


def parent(b, kids: list) -> Sum:
    """``kids`` are (score, status, excluded) of each child, staged."""
    unscored = b.any(*[counts_unscored(b, sc, st) for sc, st, _ in kids])
    total = b.sum(*[b.coalesce(sc, b.num(0)) for sc, _, _ in kids])
    excluded = b.sum(*[ex for _, _, ex in kids])
    all_na = b.all(*[b.eq(st, b.text("not_applicable")) for _, st, _ in kids]) if kids else b.flag(False)
    return parent_of(b, unscored, total, excluded, all_na)


def counts_unscored(b, score, status):
    """A child without a score that counts (not 不适用): its parent has no score either."""
    return b.all(b.not_(b.eq(status, b.text("not_applicable"))), b.is_null(score))


def parent_of(b, unscored, total, excluded, all_na) -> Sum:
    """A parent from its children's aggregates: any child unscored, the sum of their scores (NULL
    ones as 0), the weight they leave out, whether all are 不适用.  The SQL engines aggregate
    target-table rows per project with GROUP BY and call this on the aggregates."""
    unscored = b.let(unscored)
    return Sum(
        b.cases((unscored, b.null), default=lambda: total),
        b.cases((unscored, b.text("missing")), (all_na, b.text("not_applicable")), default=b.text("scored")),
        excluded,
    )


@attrs.define
class TableOutcome:
    score: Any
    status: Any
    explanation: Any
    problem: Any
    excluded: Any = None  # weight left out of the total (不适用时 按比例折算)
    weight: Any = None  # the weight in this project: its own plus what unset siblings 并入 it, 0 when it was 并入 another


def target_table(b, node: ir.TargetTable, present, weight_sum, weight_bad, kids: Sum, parts, digits: int, na=None, moved=(), na_default=None) -> TableOutcome:
    """A 来自目标表 indicator from its rows: none (missing), row weights that do not add up to the
    rulebook's (invalid), else the sum of its children (``kids``, their parts ``name score`` joined).
    ``na``: a {不适用: 是} record on it (honoured as on leaves); ``moved``: for each of
    ``node.merged_from``, whether that sibling is unset here, so that its weight is added to this one's."""
    from jxdsl.kernel.values import Problem

    na = b.flag(False) if na is None else b.let(na)
    w = b.let(b.sum(b.num(node.weight), *[b.cases((m, b.num(src.weight)), default=b.num(0)) for m, src in zip(moved, node.merged_from)]))
    notes = [b.cases((m, b.text(f"（含未设置的“{src.name}”并入的{_plain(src.weight)}分）")), default=b.text("")) for m, src in zip(moved, node.merged_from)]
    unset = b.let(b.all(b.flag(node.merge_into is not None), b.not_(present), b.not_(na)))
    ok = b.let(b.all(present, b.not_(weight_bad), lambda: b.eq(weight_sum, w)))
    shown_sum = b.plain(b.cases((weight_bad, b.num(0)), default=weight_sum), 4)
    message = b.concat(b.text(f"目标表中“{node.name}”各行分值之和 "), shown_sum, b.text(" 与规则集规定的 "), b.plain(w, 4), *notes, b.text(" 不符"))
    mode = node.na_mode or na_default
    na_out = _table_na(b, mode, w)
    score = b.let(b.cases((unset, b.num(0)), (na, na_out.score), (ok, lambda: b.bounded(kids.score, b.num(node.weight + sum((m.weight for m in node.merged_from), Fraction(0))))), default=b.null))
    return TableOutcome(
        score,
        b.cases((unset, b.text("not_applicable")), (na, na_out.status), (b.not_(present), b.text("missing")), (b.not_(ok), b.text("invalid")), default=kids.status),
        b.cases(
            (unset, b.text(f"项目未设置“{node.name}”（目标表中没有对应的行），其权重{_plain(node.weight)}分并入“{node.merge_into}”")),
            (na, na_out.explanation),
            (b.not_(present), b.text("无法计分：目标表中没有对应的行")),
            (b.not_(ok), lambda: b.concat(b.text("无法计分："), message)),
            default=lambda: b.concat(_table_sum(b, parts, score, digits), *notes),
        ),
        b.cases(
            (unset, None),
            (na, na_out.problem),
            (b.not_(present), lambda: Problem(b.text("missing"), b.text(f"目标表中没有一级指标为“{node.name}”的行"))),
            (b.not_(ok), lambda: Problem(b.text("invalid"), message)),
            default=None,
        ),
        b.cases((na, na_out.excluded), default=b.num(0)),
        b.cases((unset, b.num(0)), default=w),
    )


def _table_sum(b, parts, score, digits: int):
    from jxdsl.kernel.sentences import parent_explanation

    return parent_explanation(b, parts, b.cases((b.is_null(score), b.null), default=lambda: b.plain(score, digits)))


def _table_na(b, mode, w) -> TableOutcome:
    """A 来自目标表 indicator marked 不适用, as a leaf is (kernel.leaf.run_leaf)."""
    from jxdsl.kernel.sentences import sentence

    if mode is None:
        problem = missing(b, b.text("评价记录标为不适用，但规则集没有规定不适用时如何计分"), b.text("在指标行末写 不适用时 满分 或 不适用时 按比例折算"))
        return TableOutcome(b.null, b.text("missing"), b.text("无法计分：评价记录标为不适用，但规则集没有规定不适用时如何计分"), problem, b.num(0))
    full = mode is ir.NaMode.FULL
    text = sentence(b, "not_applicable", {"mode": b.text(mode.value), "score": b.plain(w, 2) if full else b.null})
    return TableOutcome(w if full else b.num(0), b.text("not_applicable"), text, None, b.num(0) if full else w)


def child_part(b, name, score, digits: int):
    """``name score`` (``—`` without one): a child as its parent's explanation lists it."""
    return named_part(b, name, b.cases((b.is_null(score), b.null), default=lambda: b.plain(score, digits)))


def named_part(b, name, shown):
    """``name shown``, ``—`` for a child without a score (``shown`` NULL)."""
    return b.concat(name, b.text(" "), b.coalesce(shown, b.text("—")))


def shown_deduction(b, weight, score, excluded, status, digits: int):
    """The points lost as shown: 0 for 不适用, NULL without a score."""
    return b.cases((b.eq(status, b.text("not_applicable")), b.text("0")), default=lambda: b.plain(weight - score - excluded, digits))


# ---- items ------------------------------------------------------------------------------------
@attrs.define
class ItemOutcome:
    awarded: Any
    status: Any
    problem: Any
    evidence: Any


def bonus_item(b, item: ir.Item, rec, kind: str) -> ItemOutcome:
    """A 加分 or 扣分 item: ``{得分: 3}`` (bonus only) or ``{发生: 是/否}``."""
    points = b.num(item.points)
    q = b.parse(rec.score)
    given_ok = b.all(b.not_(b.is_null(q)), lambda: b.eq(q.dim, b.text("")), lambda: b.not_(q.value < b.num(0)), lambda: b.not_(q.value > points))
    occurred = yes_no(b, rec.occurred)
    hint = "写 {发生: 是} 或 {发生: 否}" + ("，加分项也可写 {得分: 3}" if kind == "加分" else "")
    scored = kind == "加分"
    return b.cases(
        (b.not_(rec.present), lambda: ItemOutcome(b.null, b.text("missing"), missing(b, b.text(f"{kind}项“{item.name}”缺少评价记录"), b.text(hint)), b.null)),
        (b.all(b.flag(scored), b.not_(b.is_null(rec.score))), lambda: b.cases(
            (given_ok, lambda: ItemOutcome(b.bounded(q.value, points), b.text("scored"), None, rec.note)),
            default=lambda: ItemOutcome(b.null, b.text("missing"), missing(b, b.concat(b.text(f"加分项“{item.name}”的得分“"), rec.score, b.text(f"”应在 0 到 {_plain(item.points)} 之间"))), rec.note),
        )),
        (lambda: b.not_(b.is_null(occurred)), lambda: ItemOutcome(b.cases((occurred, points), default=b.num(0)), b.text("scored"), None, rec.note)),
        default=lambda: ItemOutcome(b.null, b.text("missing"), missing(b, b.text(f"{kind}项“{item.name}”的评价记录应写 发生: 是/否")), rec.note),
    )


def veto_item(b, name: str, rec) -> ItemOutcome:
    return b.cases(
        (b.not_(rec.present), lambda: ItemOutcome(b.null, b.text("missing"), missing(b, b.text(f"否决项“{name}”缺少评价记录"), b.text("写 {发生: 否}")), b.null)),
        default=lambda: ItemOutcome(b.cases((flag(b, rec.occurred), b.num(1)), default=b.num(0)), b.text("scored"), None, rec.note),
    )


def _plain(x) -> str:
    from jxdsl.units import plain

    return plain(x, 2)


# ---- the total ----------------------------------------------------------------------------------
@attrs.define
class Total:
    subtotal: Any
    total: Any
    grade: Any
    bonus: Any
    penalty: Any
    steps: list
    problem: Any  # 全部指标都不适用


def total(b, scheme: ir.Scheme, roots: list, bonus: list[ItemOutcome], penalty: list[ItemOutcome], vetoes: list[ItemOutcome]) -> Total:
    """``roots`` are (score, excluded) of the top-level indicators."""
    top = b.let(b.num(scheme.max))
    unscored = b.any(*[b.is_null(sc) for sc, _ in roots]) if roots else b.flag(False)
    raw = b.let(b.sum(*[b.coalesce(sc, b.num(0)) for sc, _ in roots]))
    excluded = b.let(b.sum(*[ex for _, ex in roots]))
    rescale = b.all(b.not_(unscored), b.not_(b.eq(excluded, b.num(0))))
    all_na = b.let(b.all(rescale, excluded >= top))
    rescaled = b.let(b.cases((b.all(rescale, b.not_(all_na)), lambda: raw * top / (top - excluded)), default=b.null))
    rounded = b.cases((lambda: b.not_(b.is_null(rescaled)), lambda: b.round(rescaled, scheme.digits, scheme.rounding.value)), default=b.null)
    subtotal = b.let(b.cases((b.any(unscored, all_na), b.null), (rescale, lambda: rounded), default=raw))
    steps = [Step("rescale", lambda: {"subtotal": b.plain(raw, 2), "applicable": b.plain(top - excluded, 2), "max": b.plain(top, 2), "raw": b.plain(rescaled, 6)}, b.all(rescale, b.not_(all_na)))]

    def items_sum(items, cap, kind):
        ceiling = sum((i.points for i in (scheme.bonus if kind == "bonus" else scheme.penalty)), Fraction(0))
        s = b.let(b.bounded(b.sum(*[b.coalesce(i.awarded, b.num(0)) for i in items]), b.num(ceiling)))
        if cap is None:
            return s, []
        over = b.let(s > b.num(cap))
        step = Step(kind + "_cap", lambda: {kind: b.plain(s, 2), "cap": b.plain(b.num(cap), 2)}, over)
        return b.cases((over, b.num(cap)), default=s), [step]

    bonus_sum, bonus_steps = items_sum(bonus, scheme.bonus_cap, "bonus")
    penalty_sum, penalty_steps = items_sum(penalty, scheme.penalty_cap, "penalty")
    steps += bonus_steps + penalty_steps
    item_missing = b.any(*[b.eq(i.status, b.text("missing")) for i in [*bonus, *penalty, *vetoes]]) if (bonus or penalty or vetoes) else b.flag(False)
    base = b.let(b.cases((item_missing, b.null), default=subtotal))
    summed = b.let(b.cases((b.is_null(base), b.null), default=lambda: base + bonus_sum - penalty_sum))
    floor = b.let(b.all(b.not_(b.is_null(summed)), lambda: summed < b.num(0)))
    steps.append(Step("floor", lambda: {"raw": b.plain(summed, 2)}, floor))
    floored = b.cases((floor, b.num(0)), default=summed)
    vetoed = [(b.all(b.not_(b.is_null(i.awarded)), lambda i=i: b.eq(i.awarded, b.num(1))), name) for i, name in zip(vetoes, scheme.vetoes)]
    any_veto = b.let(b.all(b.not_(b.is_null(summed)), b.any(*[c for c, _ in vetoed]))) if vetoed else b.flag(False)
    if vetoed:
        steps.append(Step("veto_total", lambda: {"items": b.join("、", [b.cases((c, b.text(n)), default=b.null) for c, n in vetoed])}, any_veto))
    ceiling = scheme.max + (scheme.bonus_cap if scheme.bonus_cap is not None else sum((i.points for i in scheme.bonus), 0))
    subtotal = b.bounded(subtotal, b.num(scheme.max))
    final = b.bounded(b.let(b.cases((any_veto, b.num(0)), default=floored)), b.num(ceiling))
    problem = b.cases((all_na, lambda: missing(b, b.text("全部指标都不适用，无法按比例折算总分"))), default=None)
    return Total(subtotal, final, grade(b, scheme, final), bonus_sum, penalty_sum, steps, problem)


@attrs.define
class Partial:
    total: Any  # NULL unless the total cannot be computed because some top-level indicator has no score
    max: Any
    unscored: Any  # their names, joined with 、


def partial(b, roots: list) -> Partial:
    """The points of the top-level indicators that have a score, out of the weight they cover
    (their weights less what 按比例折算 leaves out), when others have none: a project whose form
    lacks a group still shows what it earned, marked partial, never as its total.
    ``roots`` are (name, score, weight, excluded)."""
    scored = [b.let(b.not_(b.is_null(sc))) for _, sc, _, _ in roots]
    total = b.sum(*[b.cases((f, lambda sc=sc: sc), default=b.num(0)) for f, (_, sc, _, _) in zip(scored, roots)])
    top = b.let(b.sum(*[b.cases((f, lambda w=w, ex=ex: w - ex), default=b.num(0)) for f, (_, _, w, ex) in zip(scored, roots)]))
    some = b.let(b.all(b.not_(b.all(*scored)), lambda: top > b.num(0))) if roots else b.flag(False)
    names = b.join("、", [b.cases((f, b.null), default=b.text(name)) for f, (name, _, _, _) in zip(scored, roots)])
    return Partial(b.cases((some, total), default=b.null), b.cases((some, top), default=b.null), b.cases((some, names), default=b.null))


def grade(b, scheme: ir.Scheme, score):
    bands = [((lambda g=g: score > b.num(g.bound)) if g.strict else (lambda g=g: score >= b.num(g.bound)), b.text(g.name)) for g in scheme.grades]
    return b.cases((b.is_null(score), b.null), *bands, default=b.text(scheme.lowest_grade))
