"""Target-table rows (单位自评) desugared into rules, staged.

A row's 年度指标值 decides its rule: words are qualitative (the rulebook's 定性 tiers, or full marks
when the actual value says the same words); a number or date takes the 默认规则 for its comparator
(≥ 正向, ≤ 反向, = 达标, dates 达标).  The row is then scored by the same rule functions as a
rulebook leaf (``rules.py``) and finished by the same ``leaf.finish``.
"""
from __future__ import annotations

from typing import Any

import attrs

from jxdsl import ir
from jxdsl.kernel import rules
from jxdsl.kernel.leaf import LeafResult, context, finish
from jxdsl.kernel.rules import Outcome, Zero
from jxdsl.kernel.sources import expression
from jxdsl.kernel.values import Step, Valued, bare_problem, invalid, missing
from jxdsl.units import DATE, NUMBER_HINT, TEXT

OPS = (">=", "<=", ">", "<", "=")
METHODS = ("正向", "反向", "达标", "定性")  # a row's 计分方法 (facts.METHODS)
METHOD_HINT = "计分方法只能是：正向、反向、达标、定性；不写时按规则集的默认规则"


@attrs.frozen
class RowTexts:
    """A target row's texts as ``score_row`` reads them (NULL/None when blank): Python strings for
    the interpreter and audit, staged SQL texts for the compiler."""

    weight: Any
    target: Any
    actual: Any
    tier: Any
    score: Any
    note: Any
    method: Any = None  # 计分方法: overrides the 默认规则 for this row

    @classmethod
    def of(cls, row) -> "RowTexts":
        """From an ``inputs.TargetRow`` (cells as written: numbers, or a YAML list, become text)."""
        from jxdsl.inputs import as_text

        return cls(*[None if v is None else as_text(v) for v in (row.weight, row.target, row.actual, row.tier, row.score, row.note, row.method)])


@attrs.define
class RowRecord:
    """A row's evaluator columns, seen as a record (档次, 评价得分, 说明)."""

    tier: Any
    score: Any
    note: Any


def score_row(scope, row) -> tuple[LeafResult, Any]:
    """(result, weight) of one row; ``row`` has the staged texts weight, target, actual, tier,
    score and note (NULL when blank)."""
    b = scope.b
    defaults = scope.scheme.defaults
    wq = b.parse(row.weight)
    w_ok = b.let(b.all(
        b.not_(b.is_null(wq)), lambda: b.any(b.eq(wq.dim, b.text("")), b.eq(wq.dim, b.text("分"))),
        lambda: b.not_(b.eq(wq.unit, b.text("%"))), lambda: wq.value >= b.num(0),
    ))
    w = b.let(b.cases((w_ok, lambda: wq.value), default=b.null))
    bad_weight = LeafResult(
        b.null, b.text("missing"), missing(b, b.concat(b.text("分值“"), b.coalesce(row.weight, b.text("")), b.text("”不是有效的分数"))), [], b.num(0), row.note,
    )
    method = b.let(b.cases((b.any(b.is_null(row.method), lambda: b.eq(b.normalize(row.method), b.text(""))), b.null), default=lambda: b.normalize(row.method)))
    bad_method = LeafResult(
        b.null, b.text("invalid"), invalid(b, b.concat(b.text("计分方法“"), b.coalesce(row.method, b.text("")), b.text("”无法识别")), b.text(METHOD_HINT), b.text("method"), method),
        [Step("row", {"target": b.coalesce(row.target, b.text("")), "actual": b.coalesce(row.actual, b.text(""))})], b.num(0), row.note,
    )  # the row step: the score table prints the row's target and actual also when its 计分方法 is wrong
    result = b.cases(
        (b.not_(w_ok), lambda: bad_weight),
        (b.all(b.not_(b.is_null(method)), lambda: b.not_(b.in_(method, METHODS))), lambda: bad_method),
        default=lambda: _scored(scope, defaults, row, w, method),
    )
    return result, b.cases((w_ok, w), default=b.num(0))


def _scored(scope, defaults: ir.RowDefaults, row, w, method) -> LeafResult:
    b = scope.b
    target_text = b.coalesce(row.target, b.text(""))
    actual_text = b.coalesce(row.actual, b.text(""))
    t_op, t_body = b.split_cmp(row.target)
    a_op, a_body = b.split_cmp(row.actual)
    target = b.let(b.cases((b.any(b.is_null(t_body), b.eq(t_body, b.text(""))), b.null_qty), default=lambda: b.parse(t_body)))
    actual = b.let(b.cases((b.any(b.is_null(a_body), b.eq(a_body, b.text(""))), b.null_qty), default=lambda: b.parse(a_body)))
    unreadable = b.let(b.coalesce(b.number_problem(t_body), b.number_problem(a_body)))  # 1,50人: never misread
    words_target = b.all(b.is_null(method), b.is_null(unreadable), b.any(b.is_null(target), lambda: b.eq(target.dim, b.text(TEXT))))
    qualitative = b.let(b.any(b.eq(method, b.text("定性")), lambda: words_target))
    pre = [Step("row", {"target": target_text, "actual": actual_text}), Step("row_method", {"method": b.coalesce(method, b.text(""))}, b.not_(b.is_null(method)))]
    bound = b.all(b.not_(b.is_null(a_op)), b.not_(b.is_null(actual)), lambda: b.not_(b.eq(actual.dim, b.text(TEXT))))
    side = lambda: b.cases((b.in_(a_op, (">=", ">")), b.text("下限")), (b.in_(a_op, ("<=", "<")), b.text("上限")), default=b.text(""))  # noqa: E731
    pre.append(Step("actual_bound", lambda: {"actual": actual_text, "value": b.show(actual, scope.digits), "side": side()}, bound))
    rec = RowRecord(row.tier, row.score, row.note)
    c = context(scope, w, rec, rounds=_row_rounds(b, defaults, qualitative, t_op, target))
    same_words = b.all(b.not_(b.is_null(actual)), b.not_(b.is_null(target)), lambda: b.eq(b.normalize(actual_text), b.normalize(target_text)))
    no_choice = b.all(b.is_null(row.tier), b.is_null(row.score))
    met = b.let(b.all(qualitative, no_choice, same_words)) if defaults.qualitative is not None else b.flag(False)

    def words() -> Outcome:
        if defaults.qualitative is None:
            return Outcome(missing(b, b.text("定性指标没有默认规则"), b.text("在规则集的 默认规则 中写 定性 : 三档 …")))
        return b.cases(
            (no_choice, lambda: Outcome(missing(b, b.text("定性指标的实际完成值与指标值不一致，需要评价人给出档次和得分"), b.text("在 档次、评价得分 两列填写")))),
            default=lambda: rules.tiers(b, c, defaults.qualitative.tiers),
        )

    ruled = b.cases(
        (qualitative, words),
        (b.not_(b.is_null(unreadable)), lambda: Outcome(invalid(b, unreadable, b.text(NUMBER_HINT)))),
        default=lambda: _quantitative(scope, c, defaults, t_op, t_body, target, actual, target_text, method),
    )
    finished = finish(c, ruled, b.not_(qualitative), pre, row.note)
    full = LeafResult(c.capped(w), b.text("scored"), None, [*pre, Step("qualitative_met", {"score": b.plain(w, 2)})], b.num(0), row.note)
    return b.cases((met, lambda: full), default=lambda: finished)


def _row_rounds(b, defaults: ir.RowDefaults, qualitative, t_op, target) -> list:
    """(condition, rounding) of the 默认规则 lines that round otherwise than the rulebook: the 定性
    line's for rows with words, the line of the row's comparator for the others."""
    out = []
    if defaults.qualitative_round is not None:
        out.append((qualitative, defaults.qualitative_round))
    own = {o: d.round for o in OPS if (d := defaults.for_cmp(ir.Cmp(o))) is not None and d.round is not None}
    if own:
        date = b.all(b.not_(b.is_null(target)), lambda: b.eq(target.dim, b.text(DATE)))  # blank target: by a 计分方法
        op = b.let(b.coalesce(t_op, b.cases((date, b.text("<=")), default=b.text(">="))))
        out += [(b.all(b.not_(qualitative), b.eq(op, b.text(o))), r) for o, r in own.items()]
    return out


def _quantitative(scope, c, defaults: ir.RowDefaults, t_op, t_body, target, actual, target_text, method) -> Outcome:
    """A number or date against its target, by the row's 计分方法 when it names one (正向 and 反向
    then take the 零分 of the first 默认规则 line of that kind), else by the 默认规则 of its comparator."""
    b = scope.b
    date = b.let(b.all(b.not_(b.is_null(target)), lambda: b.eq(target.dim, b.text(DATE))))  # blank: only by a 计分方法
    op = b.let(b.coalesce(t_op, b.cases((date, b.text("<=")), default=b.text(">="))))
    kinds = {op_: defaults.for_cmp(ir.Cmp(op_)) for op_ in OPS}
    by_op = b.cases(*[(b.eq(op, b.text(o)), b.text(d.kind.value)) for o, d in kinds.items() if d is not None], default=b.null)
    kind = b.let(b.coalesce(method, by_op))
    own: dict = {}
    for d in defaults.quantitative.values():
        own.setdefault(d.kind, d.zero)
    number = b.target_number(t_body)
    target_q = b.cases((date, target), default=number)
    configs: dict = {}
    for o, d in kinds.items():
        if d is not None and d.kind is not ir.RowKind.MET:
            configs.setdefault(d.zero, []).append(o)
    value, goal = Valued(actual), Valued(target_q)

    def proportional(zero) -> Outcome:
        z = None
        if isinstance(zero, ir.Multiple):
            z = Zero(factor=zero.factor)
        elif isinstance(zero, ir.ZeroAt):
            at = expression(scope, zero.expr)
            wrong = bare_problem(b, target_q, zero.expr, "年度指标值")  # 零分=60 against ≥95%
            z = Zero(at=at if wrong is None else Valued(at.q, b.problems(lambda: at.problem, lambda: wrong), at.steps))
        return rules.proportional(b, c, value, goal, b.eq(kind, b.text("正向")), z)

    branches = [
        (b.is_null(actual), lambda: Outcome(missing(b, b.text("缺少实际完成值")))),
        (lambda: b.is_null(kind), lambda: Outcome(missing(b, b.concat(b.text("规则集没有“定量 "), op, b.text("”的默认规则")), b.text("在规则集的 默认规则 中补上这一条，或在本行的“计分方法”列写明计分方法")))),
        (lambda: b.all(b.not_(date), b.is_null(number)), lambda: Outcome(invalid(b, b.concat(b.text("年度指标值“"), target_text, b.text("”无法识别")), b.text("写成比较符号加数值和单位，如 ≥1734人、≤4.99万元")))),
        (lambda: b.any(date, b.eq(kind, b.text("达标"))), lambda: rules.target_met(b, c, value, goal, op)),
    ]
    for k in (ir.RowKind.POSITIVE, ir.RowKind.NEGATIVE):
        branches.append((lambda k=k: b.eq(method, b.text(k.value)), lambda k=k: proportional(own.get(k))))
    for zero, ops in configs.items():
        branches.append((lambda ops=ops: b.in_(op, tuple(ops)), lambda zero=zero: proportional(zero)))
    return b.cases(*branches, default=lambda: Outcome(missing(b, b.text("规则集没有对应的默认规则"))))


def scored_method(b, steps):
    """The 计分方法 a row was scored by, as the score table prints it (blank: the 默认规则, or a
    misspelt word, which is an error of its own): every engine reads it from the row_method step."""
    found = [s for s in steps if s.kind == "row_method"]
    return b.cases(*[(s.when, lambda s=s: s.payload()["method"]) for s in found], default=b.text(""))


DETAILS = "；明细（不另计分）："  # between a row's explanation and its breakdown rows (明细)


def detail_part(b, third, target, actual):
    """A breakdown row as its parent row's explanation lists it: ``名称：年度指标值 …，实际完成值 …``."""
    shown = lambda t: b.cases((b.any(b.is_null(t), lambda: b.eq(b.strip(t), b.text(""))), b.text("—")), default=lambda: b.strip(t))  # noqa: E731
    return b.concat(third, b.text("：年度指标值 "), shown(target), b.text("，实际完成值 "), shown(actual))
