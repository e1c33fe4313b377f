"""A scored indicator from its rule: 不适用, 否决条件, the rule, the evaluator's 得分, capping and rounding.

``run_leaf`` scores a rulebook leaf; ``finish`` is shared with target-table rows (``rows.py``), so an
evaluator's override, the cap at the weight and the rounding are the same wherever a score is made.
"""
from __future__ import annotations

from typing import Any

import attrs

from jxdsl import ir
from jxdsl.kernel import rules
from jxdsl.kernel.rules import Outcome, Zero
from jxdsl.kernel.sources import _steps, expression, value_of
from jxdsl.kernel.values import Step, Valued, bare, bare_problem, formula_text, invalid, missing, substituted
from jxdsl.units import plain
from jxdsl.lower import names


@attrs.define
class LeafCtx:
    """What a rule sees of its indicator: backend, scope, weight, record and rulebook settings."""

    b: Any
    scope: Any
    w: Any
    rec: Any
    digits: int  # the rulebook's: how scores and values are shown
    zero_target: ir.ZeroTarget
    over_target: ir.OverTarget
    rounds: list = attrs.Factory(list)  # (condition, ir.Round) tried in order; else the rulebook's

    def by_round(self, f):
        """``f(round)`` under the rounding that applies: the indicator's own, a target row's 默认规则
        line's (which depends on the row, so staged as a choice), else the rulebook's."""
        b, base = self.b, self.scope.scheme.base_round
        if not self.rounds:
            return f(base)
        return b.cases(*[(cond, lambda r=r: f(r)) for cond, r in self.rounds], default=lambda: f(base))

    def rounded(self, x):
        return self.by_round(lambda r: self.b.round(x, r.digits, r.mode.value))
    label: str = ""  # the value's own name in sentences (成本节约率0.13%); "" on a target-table row

    def round(self, x):
        """Rounded as the rulebook says, never below zero (the shown score of a rule step)."""
        return self.b.max(self.rounded(x), self.b.num(0))

    def capped(self, x):
        """Rounded, within [0, weight] (小数 0 位 would turn 2.5 of 2.5 into 3)."""
        b = self.b
        r = b.let(self.rounded(x))
        return b.bounded(b.cases((r > self.w, self.w), (r < b.num(0), b.num(0)), default=r), self.w)


def context(scope, w, rec, own: ir.Round | None = None, rounds: list | None = None) -> LeafCtx:
    """``own``: the indicator's rounding; ``rounds``: (condition, rounding) choices (a target row's)."""
    s = scope.scheme
    choices = [(scope.b.flag(True), own)] if own is not None else list(rounds or [])
    choices = [(cond, r) for cond, r in choices if r != s.base_round]
    return LeafCtx(scope.b, scope, w, rec, s.digits, s.zero_target, s.over_target, choices)


@attrs.define
class LeafResult:
    """A leaf's score (rounded), status, problem, steps as (when, Step), and weight left out."""

    score: Any
    status: Any
    problem: Any
    steps: list
    excluded: Any
    evidence: Any


# ---- rule dispatch ------------------------------------------------------------------------------
def _proportional(c: LeafCtx, rule: ir.Proportional) -> Outcome:
    b, scope = c.b, c.scope
    zero = None
    if isinstance(rule.zero, ir.Multiple):
        zero = Zero(factor=rule.zero.factor)
    value = value_of(scope, c.rec, rule.value)
    if isinstance(rule.zero, ir.ZeroAt):
        zero = Zero(at=_against(c, value, rule.zero.expr, rule.value))
    positive = b.flag(rule.direction is ir.Direction.POSITIVE)
    return rules.proportional(b, c, value, _against(c, value, rule.target, rule.value), positive, zero)


def _target_met(c: LeafCtx, rule: ir.TargetMet) -> Outcome:
    value = value_of(c.scope, c.rec, rule.value)
    return rules.target_met(c.b, c, value, _against(c, value, rule.target, rule.value), c.b.text(rule.cmp.value))


def _bands(c: LeafCtx, rule: ir.Bands) -> Outcome:
    value = value_of(c.scope, c.rec, rule.value)
    return rules.bands(c.b, c, value, [_against(c, value, band.threshold, rule.value) for band in rule.bands], rule)


def _against(c: LeafCtx, value: Valued, target: ir.Expr, rule_value: ir.ValueSource) -> Valued:
    """A target, threshold or zero point written in the rulebook, as the value it is compared with:
    a bare number against a percentage is a problem (never 20 against 25%)."""
    b = c.b
    got = expression(c.scope, target)
    if bare(target) is None:
        return got
    what = _what(rule_value)
    wrong = b.cases((lambda: b.is_null(value.problem), lambda: bare_problem(b, value.q, target, what)), default=None)
    return Valued(got.q, b.problems(lambda: got.problem, lambda: wrong), got.steps)


def _label(source) -> str:
    """The name a value goes by in the evaluator's sentence: the fact or derived value it reads."""
    if isinstance(source, ir.OwnValue):
        return source.name
    if isinstance(source, ir.ExprValue) and isinstance(source.expr, ir.Name):
        return source.expr.name
    if isinstance(source, ir.SurveyValue):
        return source.label or "满意度"
    return ""


def _what(source: ir.ValueSource) -> str:
    if isinstance(source, ir.OwnValue):
        return f"“{source.name}”"
    if isinstance(source, ir.ExprValue):
        return f"“{formula_text(source.expr)}”"
    return "问卷满意度"


def _formula(c: LeafCtx, rule: ir.Formula) -> Outcome:
    b, scope = c.b, c.scope
    refs = names(rule.expr)
    got = expression(scope, rule.expr, c.w)
    env = {n: Valued(scope.q(n)) for n in dict.fromkeys(refs)}
    env["分值"] = Valued(b.qty(c.w, b.text(""), b.text(""), b.plain(c.w, 2)))
    return rules.formula(b, c, Valued(got.q, got.problem, _steps(scope, refs)), rule.expr, env)


RULES = {
    ir.Proportional: _proportional,
    ir.TargetMet: _target_met,
    ir.Checklist: lambda c, rule: rules.checklist(c.b, c, rule.items),
    ir.Tiers: lambda c, rule: rules.tiers(c.b, c, rule.tiers),
    ir.Bands: _bands,
    ir.Deduction: lambda c, rule: rules.deduction(c.b, c, rule),
    ir.Formula: _formula,
    ir.Judgement: lambda c, rule: rules.judgement(c.b, c),
}


# ---- 否决条件 ----------------------------------------------------------------------------------
def _vetoes(c: LeafCtx, vetoes: tuple[ir.Veto, ...]):
    """(problem, index of the veto that holds or NULL, steps as (when, Step)) — tried in order."""
    b, scope = c.b, c.scope
    branches, checked = [], []
    for n, v in enumerate(vetoes):
        refs = list(dict.fromkeys(names(v.condition)))
        lacking = b.join("、", [b.cases((b.not_(scope.present(r)), b.text(r)), default=b.null) for r in refs])
        lacking = b.let(lacking)
        env = {r: Valued(scope.q(r)) for r in refs}
        got = b.cases((lambda lacking=lacking: b.eq(lacking, b.text("")), lambda v=v, env=env: rules_eval(b, v, env)), default=lambda: Valued(b.null_qty, None))
        holds = b.let(b.all(b.eq(lacking, b.text("")), lambda got=got: b.is_null(got.problem), lambda got=got: b.eq(got.q.value, b.num(1))))
        branches += [
            (lambda lacking=lacking: b.not_(b.eq(lacking, b.text(""))), lambda lacking=lacking: (missing(b, b.concat(b.text("否决条件需要数据："), lacking)), b.null)),
            (lambda got=got: b.not_(b.is_null(got.problem)), lambda got=got: (got.problem, b.null)),
            (holds, lambda n=n: (None, b.num(n))),
        ]
        data = lambda v=v, env=env, holds=holds: _veto_data(c, v, env, holds)  # noqa: E731
        checked.append((n, Step("veto", data)))
    problem, index = b.cases(*branches, default=(None, b.null))
    return b.let(problem), b.let(index), checked


def _veto_data(c: LeafCtx, v: ir.Veto, env: dict, holds) -> dict:
    """A veto's sides apart, for ``不规范资金占比0%，未达20%``; an expression on the left shows its terms."""
    b, left = c.b, v.condition.left
    shown = substituted(b, left, env, c.digits)
    return {
        "condition": b.text(formula_text(v.condition)),
        "substituted": substituted(b, v.condition, env, c.digits),
        "left": b.text(formula_text(left)),
        "left_value": shown if isinstance(left, ir.Name) else b.concat(b.text("（"), shown, b.text("）")),
        "op": b.text(v.condition.op.value),
        "right": substituted(b, v.condition.right, env, c.digits),
        "holds": holds,
        "score": b.plain(b.num(v.score), 2),
    }


def rules_eval(b, v: ir.Veto, env: dict):
    from jxdsl.kernel.values import evaluate

    return evaluate(b, v.condition, env)


# ---- a leaf -------------------------------------------------------------------------------------
def guarded(b, cond, steps: list[Step]) -> list[Step]:
    """The steps, each applying only when ``cond`` holds as well."""
    return [Step(s.kind, s.data, b.all(cond, s.when)) for s in steps]


def run_leaf(scope, leaf: ir.Leaf, rec) -> LeafResult:
    """Score one rulebook leaf for one project."""
    b = scope.b
    w = b.num(leaf.weight)
    c = context(scope, w, rec, leaf.round)
    c.label = _label(getattr(leaf.rule, "value", None))
    mode = leaf.na_mode or scope.scheme.na_default
    na = b.let(rec.na)
    if leaf.vetoes:
        problem, index, checked = _vetoes(c, leaf.vetoes)
    else:
        problem, index, checked = None, b.null, []
    vetoed = b.let(b.not_(b.is_null(index)))
    veto_score = b.cases(*[(b.eq(index, b.num(n)), b.num(v.score)) for n, v in enumerate(leaf.vetoes)], default=b.null)
    ruled = b.cases(
        (na, lambda: Outcome(None)),
        (lambda: b.not_(b.is_null(problem)), lambda: Outcome(problem)),
        (vetoed, lambda: Outcome(None, veto_score, b.text("vetoed"))),
        default=lambda: RULES[type(leaf.rule)](c, leaf.rule),
    )
    reached = b.all(b.not_(na), b.is_null(problem))
    steps = [Step(s.kind, s.data, b.all(reached, b.any(b.not_(vetoed), b.eq(index, b.num(n))))) for n, s in checked]
    steps += guarded(b, b.all(reached, b.not_(vetoed)), ruled.steps)  # the vetoes are weighed first
    result = lambda: finish(c, Outcome(ruled.problem, ruled.score, ruled.status, steps), b.flag(leaf.overridable), [], rec.note)  # noqa: E731
    if mode is None:
        na_result = LeafResult(b.null, b.text("missing"), missing(b, b.text("评价记录标为不适用，但规则集没有规定不适用时如何计分"), b.text("在指标行末写 不适用时 满分 或 不适用时 按比例折算")), [], b.num(0), rec.note)
    elif mode is ir.NaMode.FULL:
        na_result = LeafResult(w, b.text("not_applicable"), None, [Step("not_applicable", {"mode": b.text(mode.value), "score": b.plain(w, 2)})], b.num(0), rec.note)
    else:
        na_result = LeafResult(b.num(0), b.text("not_applicable"), None, [Step("not_applicable", {"mode": b.text(mode.value), "score": b.null})], w, rec.note)
    wrong = b.let(_form_weight_wrong(b, w, rec.weight_text))
    wrong_result = lambda: LeafResult(b.null, b.text("invalid"), invalid(  # noqa: E731
        b, b.concat(b.text("所填分值“"), rec.weight_text, b.text(f"”与规则集规定的权重 {plain(leaf.weight, 4)} 不符")), b.text("改正所填的分值（自评表预算执行率行的“分值”或评价记录的“分值”），或换用与之相符的规则集"),
    ), [], b.num(0), rec.note)
    return b.cases((wrong, wrong_result), (na, lambda: na_result), default=result)


def _form_weight_wrong(b, w, text):
    """Whether the 分值 a record carries (a form's 预算执行率 row, ``评价: …: {分值: …}``) is not the
    rulebook's weight: a form scored on other weights than the rulebook's is not silently rescored."""
    q = b.let(b.cases((b.is_null(text), b.null_qty), default=lambda: b.parse(text)))
    return b.all(b.not_(b.is_null(text)), lambda: b.any(
        b.is_null(q), lambda: b.not_(b.any(b.eq(q.dim, b.text("")), b.eq(q.dim, b.text("分")))), lambda: b.eq(q.unit, b.text("%")), lambda: b.not_(b.eq(q.value, w)),
    ))


def finish(c: LeafCtx, ruled: Outcome, overridable, pre: list[Step], evidence) -> LeafResult:
    """The evaluator's 得分 (when the rule allows it), the cap at the weight, and rounding.

    ``pre`` are context steps (a target row's values), kept even when scoring fails.  A score the
    rule could not compute is replaced by the evaluator's, when given; a vetoed score is not."""
    b, w = c.b, c.w
    failed = b.let(b.not_(b.is_null(ruled.problem)))
    given_text = b.let(b.cases((overridable, lambda: c.rec.score), default=b.null))
    given, bad = rules.points(b, c, given_text)
    applies = b.let(b.all(b.not_(b.is_null(given_text)), b.any(failed, lambda: b.not_(b.eq(ruled.status, b.text("vetoed"))))))
    problem = b.let(b.cases(
        (lambda: b.all(applies, lambda: b.not_(b.is_null(bad))), lambda: bad),
        (b.all(failed, b.not_(applies)), lambda: ruled.problem),
        default=None,
    ))
    ok = b.let(b.is_null(problem))
    override = b.let(b.all(applies, ok))
    raw = b.let(b.cases((override, lambda: given), default=lambda: ruled.score))
    clamp = b.let(b.all(ok, b.not_(override), lambda: b.any(raw < b.num(0), raw > w)))
    clamped = b.let(b.cases((clamp, lambda: b.min(b.max(raw, b.num(0)), w)), default=lambda: raw))
    rounded = b.let(b.cases((ok, lambda: c.capped(clamped)), default=b.null))
    rule_score = lambda: b.cases((failed, lambda: ruled.problem.message), default=lambda: b.plain(c.round(ruled.score), c.digits))  # noqa: E731
    steps = [*pre, *guarded(b, b.not_(failed), ruled.steps)]
    steps += [
        Step("override", lambda: {"failed": failed, "rule_score": rule_score(), "given": b.plain(given, 6)}, override),
        Step("clamp", lambda: {"raw": b.plain(raw, 4), "score": b.plain(clamped, 2)}, clamp),
        Step("rounding", lambda: {"raw": b.plain(clamped, 6), "score": b.plain(rounded, c.digits), "digits": c.by_round(lambda r: b.num(r.digits)), "mode": c.by_round(lambda r: b.text(r.mode.value))}, b.all(ok, lambda: b.any(c.by_round(lambda r: b.has_more_decimals(clamped, r.digits)), clamped > w))),
        Step("missing", lambda: {"message": problem.message}, b.not_(ok)),
    ]
    status = b.cases((ok, lambda: b.cases((failed, b.text("scored")), default=ruled.status)), default=lambda: problem.status)
    return LeafResult(rounded, status, problem, steps, b.num(0), evidence)
