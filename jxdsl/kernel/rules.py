"""Every rule kind, defined once: its checks, its exact score and the steps that explain it.

A rule function takes the backend ``b``, the leaf context ``c`` (weight, evaluator record, digits,
rulebook settings) and its already-evaluated inputs, and returns an ``Outcome``.  The interpreter
runs it on Python values, the SQL engines on columns; ``RULES`` maps each IR rule to the function
that reads its inputs, so adding a rule kind is adding one function here and one sentence in
``sentences.py``.
"""
from __future__ import annotations

from typing import Any

import attrs

from jxdsl import ir
from jxdsl.kernel.values import Problem, Step, Valued, formula_text, invalid, missing, substituted
from jxdsl.lower import tier_points
from jxdsl.units import TEXT

POINTS_HINT = "写成数字和单位，如 24人、98%"


@attrs.define
class Outcome:
    """A rule's result: a problem (then nothing else counts), or a raw score, status and steps."""

    problem: Any
    score: Any = None
    status: Any = None
    steps: list = attrs.Factory(list)


def outcome(b, *checks, then) -> Outcome:
    """The first problem among ``checks`` (thunks tried in order), else ``then()``'s outcome.

    In SQL every check and the score are computed for every row, and the problem decides."""
    problem = b.problems(*checks)
    return b.outcome(problem, then)


# ---- shared checks ------------------------------------------------------------------------------
def same_dim(b, value, target, what: str) -> Problem | None:
    """Units must agree; words against a number are a problem of their own."""
    text_mismatch = b.all(b.any(b.eq(value.dim, b.text(TEXT)), b.eq(target.dim, b.text(TEXT))), b.not_(b.eq(value.dim, target.dim)))
    words = b.cases((b.eq(value.dim, b.text(TEXT)), lambda: value), default=lambda: target)
    return b.cases(
        (text_mismatch, lambda: invalid(b, b.concat(b.text(f"{what}：需要数值，实际是文字“"), b.coalesce(words.words, words.text), b.text("”")), b.text(POINTS_HINT))),
        (lambda: b.not_(b.eq(value.dim, target.dim)), lambda: invalid(b, b.concat(
            b.text(f"{what}的单位不一致：实际值是"), b.describe_dim(value.dim), b.text("（"), b.show(value, 2),
            b.text("），目标是"), b.describe_dim(target.dim), b.text("（"), b.show(target, 2), b.text("）"),
        ))),
        default=None,
    )


def points(b, c, raw) -> tuple[Any, Problem | None]:
    """An evaluator's score as written (``得分``): a number of points within [0, weight].

    Returns (points, problem); both NULL when nothing was written."""
    q = b.parse(raw)
    not_points = b.any(b.is_null(q), lambda: b.not_(b.any(b.eq(q.dim, b.text("")), b.eq(q.dim, b.text("分")))), lambda: b.eq(q.unit, b.text("%")))
    problem = b.let(b.cases(
        (b.is_null(raw), None),
        (not_points, lambda: invalid(b, b.concat(b.text("评价得分“"), raw, b.text("”不是分数")))),
        (lambda: b.any(q.value < b.num(0), q.value > c.w), lambda: invalid(b, b.concat(b.text("评价得分 "), raw, b.text(" 超出 [0, "), b.plain(c.w, 2), b.text("]")))),
        default=None,
    ))
    return b.unless(b.any(b.is_null(raw), lambda: b.not_(b.is_null(problem))), lambda: q.value), problem


def distinct(b, value, target, digits: int):
    """Both sides shown with enough digits that unequal values never print the same."""
    plain_words = b.any(b.eq(value.dim, b.text("日期")), b.eq(value.dim, b.text(TEXT)), lambda: b.eq(value.value, target.value))
    branches = []
    for d in range(digits, 8):
        branches.append((lambda d=d: b.any(plain_words, b.not_(b.eq(b.show(value, d), b.show(target, d)))), lambda d=d: (b.show(value, d), b.show(target, d))))
    return b.cases(*branches, default=lambda: (b.show(value, 8), b.show(target, 8)))


def _label(b, c, value: Valued):
    """The value's name for ``成本节约率0.13%，…``; empty when a step before already states the value
    (a derived value, a survey) or on a target-table row (its 实际完成值 is stated first)."""
    return b.text("" if value.steps else c.label)


# ---- 正向 / 反向 --------------------------------------------------------------------------------
@attrs.define
class Zero:
    """A zero point: a multiple of the target (``factor``) or a value (``at``)."""

    factor: Any = None
    at: Valued | None = None


def proportional(b, c, value: Valued, target: Valued, positive, zero: Zero | None) -> Outcome:
    checks = [value.problem, target.problem, lambda: same_dim(b, value.q, target.q, "取值与满分值")]
    z = None
    if zero is not None and zero.at is not None:
        z = zero.at.q
        wrong_side = lambda: b.cases((positive, lambda: z.value >= target.q.value), default=lambda: z.value <= target.q.value)  # noqa: E731
        checks += [
            zero.at.problem,
            lambda: same_dim(b, z, target.q, "零分点与满分值"),
            lambda: b.cases((wrong_side, lambda: invalid(b, b.concat(
                b.text("零分点 "), b.show(z, 2), b.text(" 应在满分值 "), b.show(target.q, 2), b.text(" 的"),
                b.cases((positive, b.text("下方")), default=b.text("上方")),
            ))), default=None),
        ]
    return outcome(b, *checks, then=lambda: _proportional(b, c, value, target, positive, zero, z))


def _proportional(b, c, value: Valued, target: Valued, positive, zero: Zero | None, z) -> Outcome:
    w, v, t = c.w, value.q.value, target.q.value
    zero_value = None
    if zero is not None:
        zero_value = b.let(t * b.num(zero.factor)) if zero.at is None else z.value
    met = b.let(b.cases((positive, lambda: v >= t), default=lambda: v <= t))
    branches = [
        (b.all(b.eq(t, b.num(0)), b.flag(c.zero_target is ir.ZeroTarget.FULL)), lambda: (b.text("zero_target_full"), w)),
        (lambda: b.eq(t, b.num(0)), lambda: (b.text("zero_target"), b.cases((met, w), default=b.num(0)))),
    ]
    if c.over_target is ir.OverTarget.DEVIATION:
        branches.append((lambda: b.all(positive, v > t), lambda: (b.text("over"), w * b.max(b.num(0), b.num(1) - (v - t) / t))))
    branches.append((met, lambda: (b.text("full"), w)))
    if zero_value is not None:
        beyond = lambda: b.cases((positive, lambda: v <= zero_value), default=lambda: v >= zero_value)  # noqa: E731
        linear = lambda: b.cases((positive, lambda: w * (v - zero_value) / (t - zero_value)), default=lambda: w * (zero_value - v) / (zero_value - t))  # noqa: E731
        branches += [(beyond, lambda: (b.text("beyond_zero"), b.num(0))), (True, lambda: (b.text("linear"), linear()))]
    branches += [
        (positive, lambda: (b.text("ratio"), b.cases((lambda: t > b.num(0), lambda: b.max(w * v / t, b.num(0))), default=b.num(0)))),
        (lambda: b.any(v <= b.num(0), t < b.num(0)), lambda: (b.text("zero"), b.num(0))),
    ]
    case, score = b.cases(*branches, default=lambda: (b.text("ratio"), w * t / v))
    score = b.let(score)
    data = {
        "direction": b.cases((positive, b.text("正向")), default=b.text("反向")),
        "weight": b.plain(w, 2),
        "value": b.show(value.q, c.digits),
        "target": b.show(target.q, c.digits),
        "case": b.let(case),
        "met": met,
        "zero": b.show(b.qty(zero_value, target.q.dim, target.q.unit, b.text("")), c.digits) if zero is not None and zero.at is None else (b.show(z, c.digits) if z is not None else b.null),
        "target_is_unit": b.all(b.eq(target.q.unit, b.text("%")), lambda: b.eq(t, b.num(1))),
        "raw": b.plain(score, c.digits + 2),
        "score": b.plain(c.round(score), c.digits),
        "label": _label(b, c, value),
    }
    return Outcome(None, score, b.text("scored"), [*value.steps, Step("proportional", data)])


# ---- 达标 -------------------------------------------------------------------------------------
def target_met(b, c, value: Valued, target: Valued, op) -> Outcome:
    """op: the comparison sign as text (">=", "<=", ">", "<", "=")."""
    return outcome(
        b,
        value.problem,
        target.problem,
        lambda: b.cases((lambda: b.not_(b.eq(value.q.dim, target.q.dim)), lambda: same_dim(b, value.q, target.q, "实际值与目标")), default=None),
        then=lambda: _target_met(b, c, value, target, op),
    )


def _target_met(b, c, value: Valued, target: Valued, op) -> Outcome:
    met = b.let(b.compare(value.q, op, target.q))
    shown_value, shown_target = distinct(b, value.q, target.q, c.digits)
    data = {"value": shown_value, "op": op, "target": shown_target, "met": met, "weight": b.plain(c.w, 2), "label": _label(b, c, value)}
    return Outcome(None, b.cases((met, c.w), default=b.num(0)), b.text("scored"), [*value.steps, Step("target", data)])


# ---- 清单 -------------------------------------------------------------------------------------
def checklist(b, c, items: tuple[ir.Item, ...]) -> Outcome:
    r = c.rec
    names = [i.name for i in items]
    return outcome(
        b,
        lambda: b.cases((b.not_(b.any(r.met_given, r.unmet_given)), lambda: missing(b, b.text("清单指标缺少评价记录"), b.text("写 {满足: 全部} 或 {未满足: [条目名, …]}"))), default=None),
        lambda: b.cases((lambda: b.not_(b.is_null(r.met_dups)), lambda: invalid(b, b.concat(b.text("“满足”中条目重复："), r.met_dups))), default=None),
        lambda: b.cases((lambda: b.not_(b.is_null(r.unmet_dups)), lambda: invalid(b, b.concat(b.text("“未满足”中条目重复："), r.unmet_dups))), default=None),
        lambda: b.cases((b.all(r.met_all, r.unmet_listed), lambda: invalid(b, b.text("评价记录既写“满足: 全部”又列出了未满足的条目"), b.text("只写其一：{满足: 全部} 或 {未满足: [条目…]}"))), default=None),
        lambda: b.cases((b.all(b.not_(r.met_all), r.unmet_given, r.met_given, lambda: b.not_(b.is_null(r.overlap))), lambda: invalid(b, b.concat(b.text("条目既记为满足又记为未满足："), r.overlap))), default=None),
        lambda: _unknown_item(b, b.all(b.not_(r.met_all), b.not_(r.unmet_given)), lambda: r.unknown_met(names), names),
        lambda: _unknown_item(b, b.all(b.not_(r.met_all), r.unmet_given), lambda: r.unknown_unmet(names), names),
        then=lambda: _checklist(b, c, items),
    )


def _unknown_item(b, applies, unknown, names) -> Problem | None:
    hint = b.text("条目：" + "、".join(names))
    return b.cases(
        (lambda: b.all(applies, lambda: b.not_(b.is_null(unknown()))), lambda: invalid(b, b.concat(b.text("清单中没有条目“"), unknown(), b.text("”")), hint, b.text("item"), unknown())),
        default=None,
    )


def _checklist(b, c, items) -> Outcome:
    r = c.rec
    lost_flags = [b.let(b.cases((r.met_all, b.flag(False)), (r.unmet_given, lambda i=i: r.in_unmet(i.name)), default=lambda i=i: b.not_(r.in_met(i.name)))) for i in items]
    lost = b.sum(*[b.cases((flag, b.num(i.points)), default=b.num(0)) for flag, i in zip(lost_flags, items)])
    score = b.let(c.w - lost)
    data = {"items": [(b.text(i.name), b.plain(b.num(i.points), 2), flag) for i, flag in zip(items, lost_flags)], "count": b.num(len(items)), "score": b.plain(score, 2), "lost": b.plain(lost, 2)}
    return Outcome(None, score, b.text("scored"), [Step("checklist", data)])


# ---- 档次 -------------------------------------------------------------------------------------
def interval(b, t: ir.Tier, w):
    """A tier's interval in points: ``1 分`` or ``(2, 3] 分``."""
    lo, hi = _points_of(b, t, w)
    if t.is_point:
        return b.concat(b.plain(lo, 2), b.text(" 分"))
    return b.concat(b.text("[" if t.low_closed else "("), b.plain(lo, 2), b.text(", "), b.plain(hi, 2), b.text(("]" if t.high_closed else ")") + " 分"))


def _points_of(b, t: ir.Tier, w):
    if t.of_weight:
        return b.num(t.low) * w, b.num(t.high) * w
    lo, hi = tier_points(t, 0)
    return b.num(lo), b.num(hi)


def inside(b, score, t: ir.Tier, w):
    lo, hi = _points_of(b, t, w)
    return b.all(score >= lo if t.low_closed else score > lo, lambda: score <= hi if t.high_closed else score < hi)


def tiers(b, c, levels: tuple[ir.Tier, ...]) -> Outcome:
    r, w = c.rec, c.w
    chosen_name = r.tier
    given_text = r.score
    given, bad_score = points(b, c, given_text)
    first = levels[0]
    ask = f"写 {{档次: {first.name}}}" + ("" if first.is_point else "，区间档次还要写 得分")
    by_name = [(lambda t=t: b.eq(chosen_name, b.text(t.name)), b.num(n)) for n, t in enumerate(levels)]
    by_score = [(lambda t=t: inside(b, given, t, w), b.num(n)) for n, t in enumerate(levels)]
    index = b.let(b.cases(
        (lambda: b.not_(b.is_null(chosen_name)), lambda: b.cases(*by_name, default=b.null)),
        (lambda: b.all(b.not_(b.is_null(given_text)), lambda: b.is_null(bad_score)), lambda: b.cases(*by_score, default=b.null)),
        default=b.null,
    ))

    def pick(f):
        return b.cases(*[(lambda n=n: b.eq(index, b.num(n)), lambda t=t: f(t)) for n, t in enumerate(levels)], default=b.null)

    point = pick(lambda t: b.flag(True) if t.is_point else (b.eq(w, b.num(0)) if t.of_weight else b.flag(False)))
    return outcome(
        b,
        lambda: b.cases((b.all(b.is_null(chosen_name), b.is_null(given_text)), lambda: missing(b, b.text("缺少评价人选择的档次"), b.text(ask))), default=None),
        lambda: b.cases((lambda: b.not_(b.is_null(given_text)), lambda: bad_score), default=None),
        lambda: b.cases((b.all(lambda: b.not_(b.is_null(chosen_name)), lambda: b.is_null(index)), lambda: invalid(
            b, b.concat(b.text("没有名为“"), chosen_name, b.text("”的档次")), b.text("档次：" + "、".join(t.name for t in levels)), b.text("tier"), chosen_name,
        )), default=None),
        lambda: b.cases((lambda: b.is_null(index), lambda: invalid(b, b.concat(b.text("评价得分 "), b.plain(given, 2), b.text(" 不在任何档次内")))), default=None),
        lambda: b.cases((b.all(b.is_null(given_text), lambda: b.not_(point)), lambda: missing(
            b, b.concat(b.text("档次“"), pick(lambda t: b.text(t.name)), b.text("”是区间 "), pick(lambda t: interval(b, t, w)), b.text("，需要评价人给出得分")),
            b.concat(b.text("写 {档次: "), pick(lambda t: b.text(t.name)), b.text(", 得分: …}")),
        )), default=None),
        lambda: b.cases((b.all(lambda: b.not_(b.is_null(given_text)), lambda: b.not_(pick(lambda t: inside(b, given, t, w)))), lambda: invalid(
            b, b.concat(b.text("评价得分 "), b.plain(given, 2), b.text(" 不在档次“"), pick(lambda t: b.text(t.name)), b.text("”的区间 "), pick(lambda t: interval(b, t, w)), b.text(" 内")),
        )), default=None),
        then=lambda: _tiers(b, c, levels, pick, given, point),
    )


def _tiers(b, c, levels, pick, given, point) -> Outcome:
    score = b.let(b.cases((lambda: b.is_null(c.rec.score), lambda: pick(lambda t: _points_of(b, t, c.w)[0])), default=lambda: given))
    span = lambda t: b.concat(*(lambda lo, hi: (b.plain(lo, 2), b.text("～"), b.plain(hi, 2), b.text("分")))(*_points_of(b, t, c.w)))  # noqa: E731
    data = {"tier": pick(lambda t: b.text(t.name)), "interval": pick(span), "point": point, "score": b.plain(score, 2), "full": b.eq(score, c.w)}
    return Outcome(None, score, b.text("scored"), [Step("tier", data)])


# ---- 分段 -------------------------------------------------------------------------------------
def bands(b, c, value: Valued, thresholds: list[Valued], rule: ir.Bands) -> Outcome:
    """The first band the value satisfies; a band's threshold is read only if the ones before failed."""
    v = value.q
    branches = []
    for n, (band, th) in enumerate(zip(rule.bands, thresholds)):
        prev = _previous_bound(rule.bands, thresholds, n)
        branches.append((lambda th=th: b.not_(b.is_null(th.problem)), lambda th=th: (th.problem, None, None, None, None)))
        branches.append((lambda th=th: b.not_(b.is_null(same_dim(b, v, th.q, "取值与分段界限"))), lambda th=th: (same_dim(b, v, th.q, "取值与分段界限"), None, None, None, None)))
        branches.append((lambda band=band, th=th: b.compare(v, b.text(band.cmp.value), th.q), lambda band=band, th=th, prev=prev: (None, b.num(band.points), b.text(band.cmp.value), th.q, prev)))
    if rule.otherwise is None:
        default = lambda: (missing(b, b.concat(b.text("取值 "), b.show(v, 2), b.text(" 不在任何分段内，且规则没有写“否则”"))), None, None, None, None)  # noqa: E731
    else:
        default = lambda: (None, b.num(rule.otherwise), b.null, None, None)  # noqa: E731
    return outcome(b, value.problem, then=lambda: _bands(b, c, value, b.cases(*branches, default=default)))


def _previous_bound(bands, thresholds, n: int):
    """The bound of the band before, when both bound the value from the same side (``≥2%`` after
    ``≥4%``: the band is 2%～4%); None for the first band or a change of side."""
    if n == 0:
        return None
    low = {">=", ">"}
    if (bands[n].cmp.value in low) != (bands[n - 1].cmp.value in low) or "=" == bands[n].cmp.value or "=" == bands[n - 1].cmp.value:
        return None
    return thresholds[n - 1].q


def _bands(b, c, value: Valued, picked) -> Outcome:
    problem, score, op, threshold, prev = picked
    shown_value, shown_threshold = (b.show(value.q, c.digits), b.null) if threshold is None else distinct(b, value.q, threshold, c.digits)
    shown_prev = b.null if prev is None else b.show(prev, c.digits)
    data = {"value": shown_value, "op": op, "threshold": shown_threshold, "prev": shown_prev, "score": b.plain(score, 2) if score is not None else b.null, "label": _label(b, c, value)}
    return b.outcome(problem, lambda: Outcome(None, score, b.text("scored"), [*value.steps, Step("band", data)]))


# ---- 扣分 -------------------------------------------------------------------------------------
def deduction(b, c, rule: ir.Deduction) -> Outcome:
    r = c.rec
    return outcome(
        b,
        lambda: b.cases((b.not_(b.any(r.findings_given, r.count_given)), lambda: missing(b, b.text("扣分指标缺少评价记录"), b.text("写 {发现: [问题1, 问题2]}，没有问题写 {发现: []}"))), default=None),
        lambda: b.cases((b.all(r.findings_given, lambda: b.not_(b.is_null(r.findings_bad))), lambda: invalid(b, b.concat(b.text("“发现”应是问题的列表（没有问题写 []），实际是“"), r.findings_bad, b.text("”")))), default=None),
        lambda: b.cases((b.all(b.not_(r.findings_given), lambda: b.is_null(b.count(r.count_text))), lambda: invalid(b, b.concat(b.text("“次数”应为非负整数，实际是“"), r.count_text, b.text("”")))), default=None),
        then=lambda: _deduction(b, c, rule),
    )


def _deduction(b, c, rule: ir.Deduction) -> Outcome:
    r = c.rec
    count = b.let(b.cases((r.findings_given, lambda: r.findings_count), default=lambda: b.count(r.count_text)))
    lost = b.num(rule.per) * count
    raw = c.w - lost
    score = b.let(b.max(raw, b.num(0)))
    data = {
        "count": count,
        "findings": b.cases((r.findings_given, lambda: r.findings_text), default=b.null),
        "per": b.plain(b.num(rule.per), 4),
        "lost": b.plain(b.min(lost, c.w), 4),
        "floored": raw < b.num(0),
        "score": b.plain(score, 4),
    }
    return Outcome(None, score, b.text("scored"), [Step("deduction", data)])


# ---- 得分公式、酌情 -----------------------------------------------------------------------------
def formula(b, c, value: Valued, expr: ir.Expr, env: dict) -> Outcome:
    has_unit = lambda: b.not_(b.any(b.eq(value.q.dim, b.text("")), b.eq(value.q.dim, b.text("分"))))  # noqa: E731
    return outcome(
        b,
        value.problem,
        lambda: b.cases((has_unit, lambda: invalid(b, b.text("得分公式的结果带有单位，应是分数"))), default=None),
        then=lambda: Outcome(None, value.q.value, b.text("scored"), [*value.steps, Step("formula", {
            "formula": b.text(formula_text(expr)),
            "substituted": substituted(b, expr, env, c.digits),
            "raw": b.plain(value.q.value, c.digits + 2),
        })]),
    )


def judgement(b, c) -> Outcome:
    given, problem = points(b, c, c.rec.score)
    return outcome(
        b,
        lambda: b.cases((b.is_null(c.rec.score), lambda: missing(b, b.text("酌情计分的指标缺少评价人给出的得分"), b.text("写 {得分: 7.8, 说明: …}"))), default=None),
        lambda: problem,
        then=lambda: Outcome(None, given, b.text("scored"), [Step("judgement", {"score": b.plain(given, 6)})]),
    )
