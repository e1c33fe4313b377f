"""Rulebook + Facts → Result: a pure function that records every step it takes.

Explanations, JSON and reports are rendered from the recorded steps, never recomputed.
Scores are exact fractions; each indicator score is rounded as the rulebook says and parents
add up their children's rounded scores, as published score tables do.
"""
from __future__ import annotations

import copy
import re
from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction
from typing import Any

import attrs

from jxdsl import ast
from jxdsl.errors import FactError, JxError, Span, suggest
from jxdsl.facts import Facts, TargetRow
from jxdsl.formulas import evaluate as eval_expr
from jxdsl.formulas import formula_text, literal, show, substituted
from jxdsl.link import WEIGHT_NAME, LinkedIndicator, Rulebook, tier_points
from jxdsl.parse import number_from
from jxdsl.units import DATE, TEXT, Quantity, normalize, parse_quantity, percent, plain, round_fraction

YES = {"是", "有", "true", "True", "yes", "1", True, 1}
MAX_PERCENT = Fraction(10)  # 1000%: a rate beyond this is a typo, not a measurement
NO = {"否", "无", "false", "False", "no", "0", False, 0}


@attrs.frozen
class Step:
    """One recorded evaluation step: what was computed, from what, with which numbers."""

    kind: str
    data: dict = attrs.field(factory=dict, hash=False)


@attrs.frozen
class IndicatorResult:
    """The outcome for one indicator (parents include their children)."""

    path: tuple[str, ...]
    weight: Fraction
    score: Fraction | None
    status: str  # scored | not_applicable | missing | vetoed
    steps: tuple[Step, ...] = ()
    evidence: str | None = None
    origin: Span | None = None
    children: tuple["IndicatorResult", ...] = ()
    excluded: Fraction = Fraction(0)  # weight left out by 按比例折算

    @property
    def name(self) -> str:
        return self.path[-1]

    @property
    def deduction(self) -> Fraction | None:
        if self.score is None:
            return None
        return self.weight - self.score - self.excluded

    def walk(self):
        yield self
        for c in self.children:
            yield from c.walk()


@attrs.frozen
class ItemResult:
    """A bonus, penalty or veto item and what the evaluator recorded for it."""

    name: str
    points: Fraction
    awarded: Fraction | None
    evidence: str | None = None
    status: str = "scored"


@attrs.frozen
class Result:
    """Everything about one project's score, traceable to the exact rules used."""

    rulebook: str
    version: str | None
    content_hash: str
    files: tuple[str, ...]
    project: str
    max: Fraction
    subtotal: Fraction | None
    total: Fraction | None
    grade: str | None
    bonus: Fraction
    penalty: Fraction
    indicators: tuple[IndicatorResult, ...]
    bonus_items: tuple[ItemResult, ...] = ()
    penalty_items: tuple[ItemResult, ...] = ()
    veto_items: tuple[ItemResult, ...] = ()
    total_steps: tuple[Step, ...] = ()
    errors: tuple[FactError, ...] = ()
    warnings: tuple[str, ...] = ()
    digits: int = 2
    rounding: str = "四舍五入"
    bonus_cap: Fraction | None = None

    def walk(self):
        for i in self.indicators:
            yield from i.walk()


class _Context:
    """Per-project evaluation state: facts as quantities, evaluator records, errors."""

    def __init__(self, book: Rulebook, facts: Facts):
        self.book = book
        self.facts = facts
        self.errors: list[FactError] = []
        self.warnings: list[str] = []
        self.env: dict[str, Quantity] = {}
        self.value_steps: dict[str, Step] = {}
        self.used_records: set[str] = set()
        self.rejected: set[str] = set(facts.unusable)  # facts given but unusable: reported once, as such
        self._records = self._index_records()

    # -- facts
    def error(self, message: str, path: tuple[str, ...] | None = None, hint: str | None = None, span: Span | None = None):
        where = f"项目“{self.facts.project}”" + (f"，指标“{'/'.join(path)}”" if path else "")
        self.errors.append(FactError(f"{where}：{message}", span or Span(self.facts.source or "<事实>", 1, 1), hint))

    def load_values(self) -> None:
        for name, raw in self.facts.values.items():
            q = self.quantity(raw, name)
            if q is not None:
                problem = self._implausible(name, q, raw)
                if problem:
                    self.error(problem[0], None, problem[1], span=self._fact_span(name))
                    self.rejected.add(name)
                    continue
                self.env[name] = q
        for d in self.book.derived:
            if all(r in self.env for r in _names(d.expr)):
                try:
                    q = eval_expr(d.expr, self.env)
                except FactError as e:
                    self.error(f"计算派生值“{d.name}”时：{e.message}")
                    continue
                self.env[d.name] = q
                self.value_steps[d.name] = Step(
                    "value",
                    {
                        "name": d.name,
                        "formula": formula_text(d.expr),
                        "substituted": substituted(d.expr, self.env, self.book.digits),
                        "value": show(q, self.book.digits),
                    },
                )

    def _implausible(self, name: str, q: Quantity, raw: Any) -> tuple[str, str | None] | None:
        """A value of the wrong kind or beyond any sane bound: an error, never a guess."""
        decl = self.book.facts.get(name)
        want = decl.type if decl is not None else None
        if want == "金额" and q.dim != "元":
            return f"数据“{name}”应为金额（元、万元或亿元），实际写的是“{raw}”", "例如 3180.30万元"
        if want == "百分比" and not (q.dim == "" and q.unit in ("%", "‰")):
            return f"数据“{name}”应为百分数，实际写的是“{raw}”", "例如 98.82%"
        if want in ("数值", "数量", "百分比") and q.dim == TEXT:
            return f"数据“{name}”需要数值，实际是文字“{raw}”", "写成数字和单位，如 24人"
        if want == "日期" and q.dim != DATE:
            return f"数据“{name}”应为日期，实际写的是“{raw}”", "例如 2021年12月 或 2022年底"
        if q.dim == "元" and q.value < 0:
            return f"金额“{name}”不能为负数：{raw}", None
        if q.unit in ("%", "‰") and abs(q.value) > MAX_PERCENT:
            return f"百分数“{name}”为 {raw}，超出合理范围（±{plain(MAX_PERCENT * 100)}%）", "是否多写了一位或漏了小数点？"
        return None

    def _fact_span(self, name: str) -> Span:
        line = self.facts.lines.get(("事实", name)) or self.facts.lines.get(("事实",)) or 1
        return Span(self.facts.source or "<事实>", line, 1)

    def quantity(self, raw: Any, name: str) -> Quantity | None:
        if isinstance(raw, bool) or raw is None:
            self.error(f"数据“{name}”的值“{raw}”不是数值")
            self.rejected.add(name)
            return None
        if isinstance(raw, (int, float)):
            return parse_quantity(as_text(raw))
        if isinstance(raw, str):
            return parse_quantity(raw)
        if isinstance(raw, dict) and raw:  # a survey given as a fact
            return None
        self.error(f"数据“{name}”应为数值或带单位的文字，实际是 {type(raw).__name__}")
        return None

    def with_value(self, name: str, value: Quantity) -> "_Context":
        """A view of this project where ``name`` is the row's own actual value (target tables)."""
        local = copy.copy(self)
        local.env = {**self.env, name: value}
        local.value_steps = {}
        return local

    def absent_facts(self, name: str) -> list[str]:
        """The facts that are really missing behind a value (a derived value names its inputs)."""
        derived = {d.name: d for d in self.book.derived}
        if name in self.env:
            return []
        if name not in derived:
            return [name]
        out: list[str] = []
        for r in _names(derived[name].expr):
            out += [f for f in self.absent_facts(r) if f not in out]
        return out or [name]

    def line_of(self, path: tuple[str, ...], fact: str | None = None) -> Span | None:
        """Where the facts file records this indicator or its fact, else where its facts begin."""
        lines = self.facts.lines
        for key in (("评价", "/".join(path)), ("评价", path[-1]), ("事实", fact or path[-1]), *(("事实", f) for f in self.absent_facts(fact or path[-1]))):
            if key in lines:
                return Span(self.facts.source, lines[key], 1)
        if ("事实",) in lines:
            return Span(self.facts.source, lines[("事实",)], 1)
        return None

    # -- evaluator records
    def _index_records(self) -> dict[tuple[str, ...], str]:
        return {tuple(normalize(k).split("/")): k for k in self.facts.evaluations}

    def record(self, path: tuple[str, ...]) -> dict | None:
        """The evaluator's record for this indicator, keyed by its name or any path suffix."""
        hits = [k for suffix, k in self._records.items() if path[-len(suffix):] == suffix]
        if not hits:
            return None
        key = max(hits, key=lambda k: len(k.split("/")))
        self.used_records.add(key)
        rec = self.facts.evaluations[key]
        if not isinstance(rec, dict):
            self.error(f"评价记录应是映射（如 {{档次: 有效, 说明: …}}），实际是“{rec}”", path)
            return {}
        return rec

    def claim_records(self, book: Rulebook, leaves: list[tuple[str, ...]]) -> None:
        """Every record must name exactly one indicator or item: typos are errors, not silence."""
        items = [(b.name,) for b in (*book.bonus, *book.penalty)] + [(v,) for v in book.vetoes]
        targets = leaves + items
        for suffix, key in self._records.items():
            matches = [p for p in targets if p[-len(suffix):] == suffix]
            if not matches:
                close = suggest(key, ["/".join(p) for p in targets] + [p[-1] for p in targets])
                self.error(f"评价记录“{key}”没有对应的指标", None, f"是否应为“{close}”？" if close else None)
            elif len(matches) > 1 and len({m for m in matches}) > 1:
                exact = [m for m in matches if len(m) == len(suffix)]
                if not exact:
                    self.error(
                        f"评价记录“{key}”对应多个指标：{'；'.join('/'.join(m) for m in matches)}",
                        None,
                        "用完整路径写评价记录，如 过程/资金管理/资金到位率/资金到位率",
                    )


def as_text(raw: Any) -> str:
    """A YAML/Excel cell as written: floats in positional notation (5e-05 → 0.00005)."""
    if isinstance(raw, float):
        return format(Decimal(repr(raw)), "f")
    return str(raw)


def _names(expr) -> list[str]:
    from jxdsl.formulas import references

    return [r.name for r in references(expr)]


def evaluate(book: Rulebook, facts: Facts) -> Result:
    """Score one project. Errors in the facts are collected in ``Result.errors``."""
    ctx = _Context(book, facts)
    for problem in facts.problems:
        ctx.error(problem.message, None, problem.hint, span=problem.span)
    ctx.load_values()
    _check_table_rows(book, facts, ctx)
    leaves = [i.path for i in book.walk() if not i.children]
    ctx.claim_records(book, leaves)
    results = tuple(_indicator(ind, ctx) for ind in book.indicators)
    return _totals(book, facts, ctx, results)


# ---- indicators ---------------------------------------------------------------------------
def _indicator(ind: LinkedIndicator, ctx: _Context) -> IndicatorResult:
    if ind.children:
        kids = tuple(_indicator(c, ctx) for c in ind.children)
        return _parent(ind.path, ind.weight, kids, ind.origin)
    if isinstance(ind.rule, ast.FromTargets):
        return _from_targets(ind, ctx)
    rec = ctx.record(ind.path)
    evidence = _evidence(rec)
    if rec and _flag(rec.get("不适用")):
        return _not_applicable(ind, ctx, evidence)
    handler = RULES[type(ind.rule)]
    try:
        score, steps, status = handler(ind, rec or {}, ctx)
    except _Missing as m:
        if rec and "得分" in rec and not isinstance(ind.rule, (ast.Tiers, ast.Judgement)):
            try:
                given = _points(rec["得分"], ind, ctx)
            except _Missing as bad:
                m = bad
            else:
                steps = (Step("override", {"rule_score": f"无法计算（{m.message}）", "given": plain(given)}),)
                return IndicatorResult(ind.path, ind.weight, _round(given, ctx), "scored", steps, evidence, ind.origin)
        ctx.error(m.message, ind.path, m.hint, span=ctx.line_of(ind.path, ind.value_name))
        return IndicatorResult(ind.path, ind.weight, None, m.status, (Step("missing", {"message": m.message}),), evidence, ind.origin)
    steps = list(steps)
    if status != "vetoed" and rec and "得分" in rec and not isinstance(ind.rule, (ast.Tiers, ast.Judgement)):
        try:
            given = _points(rec["得分"], ind, ctx)
        except _Missing as m:
            ctx.error(m.message, ind.path, m.hint, span=ctx.line_of(ind.path))
            return IndicatorResult(ind.path, ind.weight, None, m.status, (*steps, Step("missing", {"message": m.message})), evidence, ind.origin)
        steps.append(Step("override", {"rule_score": plain(_round(score, ctx)), "given": plain(given)}))
        score = given
    if not 0 <= score <= ind.weight:
        clamped = min(max(score, Fraction(0)), ind.weight)
        steps.append(Step("clamp", {"raw": plain(score, 4), "score": plain(clamped)}))
        score = clamped
    rounded = _round(score, ctx, ind.weight)
    if rounded != score:
        steps.append(Step("rounding", {"raw": plain(score, 6), "score": plain(rounded, ctx.book.digits), "digits": ctx.book.digits}))
    return IndicatorResult(ind.path, ind.weight, rounded, status, tuple(steps), evidence, ind.origin)


def _parent(path, weight, kids, origin) -> IndicatorResult:
    if any(k.score is None for k in kids if k.status != "not_applicable"):
        return IndicatorResult(path, weight, None, "missing", (), None, origin, kids)
    score = sum((k.score for k in kids if k.score is not None), Fraction(0))
    excluded = sum((k.excluded for k in kids), Fraction(0))
    status = "not_applicable" if kids and all(k.status == "not_applicable" for k in kids) else "scored"
    return IndicatorResult(path, weight, score, status, (), None, origin, kids, excluded)


def _round(value: Fraction, ctx: _Context, weight: Fraction | None = None) -> Fraction:
    rounded = round_fraction(value, ctx.book.digits, ctx.book.rounding)
    if weight is not None and rounded > weight:
        return weight  # 小数 0 位 would turn 2.5 of 2.5 into 3: a score never exceeds its weight
    return max(rounded, Fraction(0))


class _Missing(Exception):
    """A value the rule needs is absent: the indicator is marked ``missing``."""

    status = "missing"

    def __init__(self, message: str, hint: str | None = None):
        self.message, self.hint = message, hint


class _Invalid(_Missing):
    """A value is present but unusable (out of range, wrong unit, unknown tier): ``invalid``."""

    status = "invalid"


def _evidence(rec: dict | None) -> str | None:
    if not rec:
        return None
    note = rec.get("说明")
    return str(note) if note not in (None, "") else None


def _flag(v) -> bool:
    """是/有/true → True; anything else (including lists and maps from a broken file) → False."""
    return _yes_no(v) is True


def _yes_no(v) -> bool | None:
    if isinstance(v, bool):
        return v
    if isinstance(v, (int, str)):
        word = str(v).strip()
        if word in {str(x) for x in YES}:
            return True
        if word in {str(x) for x in NO}:
            return False
    return None


def _not_applicable(ind: LinkedIndicator, ctx: _Context, evidence: str | None) -> IndicatorResult:
    mode = ind.na_mode or ctx.book.na_default
    if mode is None:
        ctx.error("评价记录标为不适用，但规则集没有规定不适用时如何计分", ind.path, "在指标行末写 不适用时 满分 或 不适用时 按比例折算")
        return IndicatorResult(ind.path, ind.weight, None, "missing", (), evidence, ind.origin)
    if mode == "满分":
        step = Step("not_applicable", {"mode": mode, "score": plain(ind.weight)})
        return IndicatorResult(ind.path, ind.weight, ind.weight, "not_applicable", (step,), evidence, ind.origin)
    step = Step("not_applicable", {"mode": mode, "score": None})
    return IndicatorResult(ind.path, ind.weight, Fraction(0), "not_applicable", (step,), evidence, ind.origin, (), ind.weight)


def _points(raw, ind: LinkedIndicator, ctx: _Context) -> Fraction:
    q = parse_quantity(as_text(raw))
    if q.dim not in ("", "分") or q.unit == "%":
        raise _Invalid(f"评价得分“{raw}”不是分数")
    if not 0 <= q.value <= ind.weight:
        raise _Invalid(f"评价得分 {raw} 超出 [0, {plain(ind.weight)}]")
    return q.value


# ---- values ------------------------------------------------------------------------------
def _value(ind: LinkedIndicator, rule, rec: dict, ctx: _Context) -> tuple[Quantity, list[Step]]:
    """The value the indicator's rule reads: a survey, a 取 expression, or the same-named fact."""
    if ind.survey is not None:
        return _survey(ind, rec, ctx)
    source = getattr(rule, "source", None)
    if source is not None:
        missing = [f for n in _names(source) if n not in ctx.env for f in ctx.absent_facts(n)]
        if missing:
            raise _Missing(f"缺少数据“{'”“'.join(dict.fromkeys(missing))}”", "在事实文件的“事实”下填写，数值带单位")
        try:
            q = eval_expr(source, ctx.env)
        except FactError as e:
            raise _Invalid(e.message) from None
        steps = [ctx.value_steps[n] for n in dict.fromkeys(_names(source)) if n in ctx.value_steps]
        if not isinstance(source, ast.Ref):
            steps.append(Step("value", {"name": "取值", "formula": formula_text(source), "substituted": substituted(source, ctx.env, ctx.book.digits), "value": show(q, ctx.book.digits)}))
        return q, steps
    name = ind.value_name or ind.name
    if name not in ctx.env:
        absent = ctx.absent_facts(name)
        bad = [f for f in absent if f in ctx.rejected]
        if bad:
            raise _Invalid(f"数据“{'”“'.join(bad)}”有误，无法计分（见上）")
        unused = [k for k in ctx.facts.values if k not in ctx.book.facts and k not in ctx.book.implicit_facts()]
        close = suggest(absent[0], unused) if len(absent) == 1 else None
        hint = f"事实文件中的“{close}”是否就是它？" if close else "在事实文件的“事实”下填写，数值带单位"
        via = f"（计算“{name}”需要）" if absent != [name] else ""
        raise _Missing(f"缺少数据“{'”“'.join(absent)}”{via}", hint)
    # a derived value shows its formula; a plain fact appears in the score sentence itself
    return ctx.env[name], [ctx.value_steps[name]] if name in ctx.value_steps else []


def _survey(ind: LinkedIndicator, rec: dict, ctx: _Context) -> tuple[Quantity, list[Step]]:
    survey = ind.survey
    raw = rec.get("问卷")
    if raw is None:
        raise _Missing("缺少问卷结果", "评价记录写 问卷: {满意: 258, 一般: 2, 不满意: 0}")
    groups = raw if isinstance(raw, list) else [raw]
    weights = {o.name: literal(o.weight).value for o in survey.options}
    counts: dict[str, Fraction] = {o.name: Fraction(0) for o in survey.options}
    for g in groups:
        if not isinstance(g, dict):
            raise _Invalid(f"问卷结果应是“选项: 人数”的映射，实际是“{g}”")
        for k, v in g.items():
            if k not in weights:
                close = suggest(str(k), weights)
                raise _Invalid(f"问卷选项“{k}”不在规则集的选项中", f"是否应为“{close}”？" if close else f"选项：{'、'.join(weights)}")
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise _Invalid(f"问卷选项“{k}”的人数应为非负整数，实际是“{v}”")
            counts[k] += v
    total = sum(counts.values(), Fraction(0))
    if total == 0:
        raise _Missing("问卷有效人数为 0，无法计算满意度")
    value = sum((counts[k] * weights[k] for k in counts), Fraction(0)) / total
    label = survey.label or "满意度"
    terms = " + ".join(f"{plain(counts[k])}×{plain(weights[k], 4)}" for k in counts)
    step = Step("survey", {"name": label, "terms": terms, "total": plain(total), "value": percent(value, ctx.book.digits), "questions": len(groups)})
    return Quantity(value, "", "%", ""), [step]


def _target(expr, ctx: _Context) -> Quantity:
    missing = [f for n in _names(expr) if n not in ctx.env for f in ctx.absent_facts(n)]
    if missing:
        raise _Missing(f"缺少数据“{'”“'.join(dict.fromkeys(missing))}”", "在事实文件的“事实”下填写，数值带单位")
    try:
        return eval_expr(expr, ctx.env)
    except FactError as e:
        raise _Invalid(e.message) from None


def _same_dim(value: Quantity, target: Quantity, what: str) -> None:
    from jxdsl.units import describe_dim

    if TEXT in (value.dim, target.dim) and value.dim != target.dim:
        words = value if value.dim == TEXT else target
        raise _Invalid(f"{what}：需要数值，实际是文字“{words.words or words.text}”", "写成数字和单位，如 24人、98%")
    if value.dim != target.dim:
        raise _Invalid(f"{what}的单位不一致：实际值是{describe_dim(value.dim)}（{show(value)}），目标是{describe_dim(target.dim)}（{show(target)}）")


# ---- rule kinds ---------------------------------------------------------------------------
Handler = Callable[[LinkedIndicator, dict, _Context], tuple[Fraction, list[Step], str]]


def _proportional(ind: LinkedIndicator, rec: dict, ctx: _Context):
    rule: ast.Proportional = ind.rule
    value, steps = _value(ind, rule, rec, ctx)
    target = _target(rule.target, ctx)
    _same_dim(value, target, "取值与满分值")
    w = ind.weight
    v, t = value.value, target.value
    book = ctx.book
    data = {"direction": rule.direction, "weight": plain(w), "value": show(value, book.digits), "target": show(target, book.digits)}
    zero = _zero_point(rule, target, ctx)
    positive = rule.direction == "正向"
    if t == 0 and book.zero_target == "满分":
        score, data["case"] = w, "zero_target_full"
    elif t == 0:
        met = v >= t if positive else v <= t
        score, data["case"] = (w if met else Fraction(0)), "zero_target"
        data["met"] = met
    elif positive and v > t and book.over_target == "按偏离扣减":
        score = w * max(Fraction(0), 1 - (v - t) / t)
        data["case"] = "over"
    elif (v >= t) if positive else (v <= t):
        score, data["case"] = w, "full"
    elif zero is not None:
        z = zero.value
        data["zero"] = show(zero, book.digits)
        if (v <= z) if positive else (v >= z):
            score, data["case"] = Fraction(0), "beyond_zero"
        else:
            score = w * ((v - z) / (t - z) if positive else (z - v) / (z - t))
            data["case"] = "linear"
    elif positive:
        score, data["case"] = (max(w * v / t, Fraction(0)) if t > 0 else Fraction(0)), "ratio"
    elif v <= 0 or t < 0:
        score, data["case"] = Fraction(0), "zero"
    else:
        score, data["case"] = w * t / v, "ratio"
    data["target_is_unit"] = target.unit == "%" and t == 1
    data["raw"] = plain(score, 6)
    data["score"] = plain(_round(score, ctx), ctx.book.digits)
    steps.append(Step("proportional", data))
    return score, steps, "scored"


def _zero_point(rule: ast.Proportional, target: Quantity, ctx: _Context) -> Quantity | None:
    """零分=2倍 (a multiple of the target) or 零分=<value>: where the score reaches 0."""
    if rule.zero is None:
        return None
    if isinstance(rule.zero, ast.Number) and rule.zero.unit == "倍":
        return attrs.evolve(target, value=target.value * rule.zero.magnitude, text="")
    zero = _target(rule.zero, ctx)
    _same_dim(zero, target, "零分点与满分值")
    if (zero.value >= target.value) if rule.direction == "正向" else (zero.value <= target.value):
        raise _Invalid(f"零分点 {show(zero)} 应在满分值 {show(target)} 的{'下方' if rule.direction == '正向' else '上方'}")
    return zero


def compare(value: Quantity, op: str, target: Quantity) -> bool:
    """value op target; dates compare as periods (≤2021年12月 means by the end of that month)."""
    if value.dim == DATE:
        vs, ve, ts, te = value.start, value.value, target.start, target.value
        return {
            ">=": vs >= ts,
            ">": vs > te,
            "<=": ve <= te,
            "<": ve < ts,
            "=": ts <= vs and ve <= te,
        }[op]
    if value.dim == TEXT:
        same = normalize(value.words or "") == normalize(target.words or "")
        return same if op == "=" else False
    v, t = value.value, target.value
    return {">=": v >= t, "<=": v <= t, ">": v > t, "<": v < t, "=": v == t}[op]


def _target_met(ind: LinkedIndicator, rec: dict, ctx: _Context):
    rule: ast.TargetMet = ind.rule
    value, steps = _value(ind, rule, rec, ctx)
    target = _target(rule.target, ctx)
    if value.dim != target.dim:
        _same_dim(value, target, "实际值与目标")  # words against words compare as words; otherwise units must agree
    met = compare(value, rule.op, target) if value.dim == target.dim else False
    score = ind.weight if met else Fraction(0)
    shown_value, shown_target = _distinct(value, target, ctx.book.digits)
    steps.append(Step("target", {"value": shown_value, "op": rule.op, "target": shown_target, "met": met, "weight": plain(ind.weight)}))
    return score, steps, "scored"


def _distinct(value: Quantity, target: Quantity, digits: int) -> tuple[str, str]:
    """Both sides shown with enough digits that unequal values never print the same."""
    for d in range(digits, 9):
        a, b = show(value, d), show(target, d)
        if a != b or value.value == target.value or value.dim in (DATE, TEXT):
            return a, b
    return a, b


def _checklist(ind: LinkedIndicator, rec: dict, ctx: _Context):
    items = {i.name: i.points.magnitude for i in ind.items}
    if "满足" not in rec and "未满足" not in rec:
        raise _Missing("清单指标缺少评价记录", "写 {满足: 全部} 或 {未满足: [条目名, …]}")
    met_raw, unmet_raw = rec.get("满足"), rec.get("未满足")
    for key, raw in (("满足", met_raw), ("未满足", unmet_raw)):
        listed = _as_list(raw) if raw not in ("全部", "all") else []
        twice = sorted({n for n in listed if listed.count(n) > 1})
        if twice:
            raise _Invalid(f"“{key}”中条目重复：{'、'.join(twice)}")
    if met_raw in ("全部", "all") and unmet_raw not in (None, []):
        raise _Invalid("评价记录既写“满足: 全部”又列出了未满足的条目", "只写其一：{满足: 全部} 或 {未满足: [条目…]}")
    if met_raw in ("全部", "all"):
        unmet: list[str] = []
    elif unmet_raw is not None:
        unmet = _as_list(unmet_raw)
        if met_raw is not None:
            both = set(_as_list(met_raw)) & set(unmet)
            if both:
                raise _Invalid(f"条目既记为满足又记为未满足：{'、'.join(sorted(both))}")
    else:
        met = _as_list(met_raw)
        _check_items(met, items)
        unmet = [n for n in items if n not in met]
    _check_items(unmet, items)
    lost = sum((items[n] for n in unmet), Fraction(0))
    score = ind.weight - lost
    step = Step("checklist", {"unmet": [(n, plain(items[n])) for n in items if n in unmet], "count": len(items), "score": plain(score)})
    return score, [step], "scored"


def _as_list(v) -> list[str]:
    if v is None:
        return []
    if isinstance(v, list):
        return [str(x) for x in v]
    return [str(v)]


def _check_items(names: list[str], items: dict) -> None:
    for n in names:
        if n not in items:
            close = suggest(n, items)
            raise _Invalid(f"清单中没有条目“{n}”", f"是否应为“{close}”？" if close else f"条目：{'、'.join(items)}")


def _tiers(ind: LinkedIndicator, rec: dict, ctx: _Context, tiers=None, qualitative=None):
    rule = ind.rule
    tiers = tiers if tiers is not None else rule.tiers
    w = ind.weight
    chosen_name = rec.get("档次")
    given = rec.get("得分")
    if chosen_name is None and given is None:
        raise _Missing("缺少评价人选择的档次", f"写 {{档次: {tiers[0].name}}}" + ("，区间档次还要写 得分" if not tiers[0].is_point else ""))
    score = _points(given, ind, ctx) if given is not None else None
    by_name = {t.name: t for t in tiers}
    if chosen_name is not None:
        chosen = by_name.get(str(chosen_name))
        if chosen is None:
            close = suggest(str(chosen_name), by_name)
            raise _Invalid(f"没有名为“{chosen_name}”的档次", f"是否应为“{close}”？" if close else f"档次：{'、'.join(by_name)}")
    else:
        chosen = next((t for t in tiers if _inside(score, t, w)), None)
        if chosen is None:
            raise _Invalid(f"评价得分 {plain(score)} 不在任何档次内")
    lo, hi = tier_points(chosen, w)
    if score is None:
        if lo != hi:
            raise _Missing(f"档次“{chosen.name}”是区间 {_interval(chosen, w)}，需要评价人给出得分", f"写 {{档次: {chosen.name}, 得分: …}}")
        score = lo
    elif not _inside(score, chosen, w):
        raise _Invalid(f"评价得分 {plain(score)} 不在档次“{chosen.name}”的区间 {_interval(chosen, w)} 内")
    step = Step("tier", {"tier": chosen.name, "interval": _interval(chosen, w), "point": lo == hi, "score": plain(score)})
    return score, [step], "scored"


def _inside(score: Fraction, t: ast.Tier, w: Fraction) -> bool:
    lo, hi = tier_points(t, w)
    lo_ok = score >= lo if t.low_closed else score > lo
    hi_ok = score <= hi if t.high_closed else score < hi
    return lo_ok and hi_ok


def _interval(t: ast.Tier, w: Fraction) -> str:
    lo, hi = tier_points(t, w)
    if lo == hi:
        return f"{plain(lo)} 分"
    return f"{'[' if t.low_closed else '('}{plain(lo)}, {plain(hi)}{']' if t.high_closed else ')'} 分"


def _bands(ind: LinkedIndicator, rec: dict, ctx: _Context):
    rule: ast.Bands = ind.rule
    value, steps = _value(ind, rule, rec, ctx)
    for band in rule.bands:
        threshold = _target(band.threshold, ctx)
        _same_dim(value, threshold, "取值与分段界限")
        if compare(value, band.op, threshold):
            points = band.points.magnitude
            shown_value, shown_threshold = _distinct(value, threshold, ctx.book.digits)
            steps.append(Step("band", {"value": shown_value, "op": band.op, "threshold": shown_threshold, "score": plain(points)}))
            return points, steps, "scored"
    if rule.otherwise is None:
        raise _Missing(f"取值 {show(value)} 不在任何分段内，且规则没有写“否则”")
    points = rule.otherwise.magnitude
    steps.append(Step("band", {"value": show(value, ctx.book.digits), "op": None, "threshold": None, "score": plain(points)}))
    return points, steps, "scored"


def _deduction(ind: LinkedIndicator, rec: dict, ctx: _Context):
    rule: ast.Deduction = ind.rule
    checked: list[Step] = []
    veto = _vetoes(ind, ctx, checked)
    if veto is not None:
        return veto
    if "发现" not in rec and "次数" not in rec:
        raise _Missing("扣分指标缺少评价记录", "写 {发现: [问题1, 问题2]}，没有问题写 {发现: []}")
    if "发现" in rec:
        found = rec["发现"]
        if not isinstance(found, list):
            raise _Invalid(f"“发现”应是问题的列表（没有问题写 []），实际是“{found}”")
        findings = [str(x) for x in found]
        count = len(findings)
    else:
        count = rec["次数"]
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise _Invalid(f"“次数”应为非负整数，实际是“{count}”")
        findings = []
    per = rule.per_finding.magnitude
    lost = per * count
    raw = ind.weight - lost
    score = max(raw, Fraction(0))
    step = Step(
        "deduction",
        {"count": count, "findings": findings, "per": plain(per, 4), "lost": plain(lost, 4), "floored": raw < 0, "score": plain(score, 4)},
    )
    return score, [step, *checked], "scored"


def _vetoes(ind: LinkedIndicator, ctx: _Context, checked: list[Step] | None = None):
    checked = [] if checked is None else checked
    for v in ind.vetoes:
        missing = [n for n in _names(v.condition) if n not in ctx.env]
        if missing:
            raise _Missing(f"否决条件需要数据：{'、'.join(missing)}")
        try:
            holds = eval_expr(v.condition, ctx.env).value == 1
        except FactError as e:
            raise _Invalid(e.message) from None
        step = Step("veto", {"condition": formula_text(v.condition), "substituted": substituted(v.condition, ctx.env, ctx.book.digits), "holds": holds, "score": plain(v.score.magnitude)})
        if holds:
            return v.score.magnitude, [step], "vetoed"
        checked.append(step)
    return None


def _formula(ind: LinkedIndicator, rec: dict, ctx: _Context):
    rule: ast.Formula = ind.rule
    env = dict(ctx.env)
    env[WEIGHT_NAME] = Quantity(ind.weight, "", "", plain(ind.weight))
    missing = [n for n in _names(rule.expr) if n not in env]
    if missing:
        raise _Missing(f"缺少数据：{'、'.join(missing)}")
    try:
        q = eval_expr(rule.expr, env)
    except FactError as e:
        raise _Invalid(e.message) from None
    if q.dim not in ("", "分"):
        raise _Invalid("得分公式的结果带有单位，应是分数")
    steps = [ctx.value_steps[n] for n in _names(rule.expr) if n in ctx.value_steps]
    steps.append(Step("formula", {"formula": formula_text(rule.expr), "substituted": substituted(rule.expr, env, ctx.book.digits), "raw": plain(q.value, 6)}))
    return q.value, steps, "scored"


def _judgement(ind: LinkedIndicator, rec: dict, ctx: _Context):
    if "得分" not in rec:
        raise _Missing("酌情计分的指标缺少评价人给出的得分", "写 {得分: 7.8, 说明: …}")
    score = _points(rec["得分"], ind, ctx)
    return score, [Step("judgement", {"score": plain(score)})], "scored"


def _with_vetoes(handler: Handler) -> Handler:
    def run(ind, rec, ctx):
        checked: list[Step] = []
        veto = _vetoes(ind, ctx, checked)
        if veto is not None:
            return veto
        score, steps, status = handler(ind, rec, ctx)
        return score, [*steps, *checked], status

    return run


RULES: dict[type, Handler] = {
    ast.Proportional: _with_vetoes(_proportional),
    ast.TargetMet: _with_vetoes(_target_met),
    ast.Checklist: _with_vetoes(_checklist),
    ast.Tiers: _with_vetoes(_tiers),
    ast.Bands: _with_vetoes(_bands),
    ast.Deduction: _deduction,
    ast.Formula: _with_vetoes(_formula),
    ast.Judgement: _with_vetoes(_judgement),
}


# ---- indicators as data -----------------------------------------------------------------
def _check_table_rows(book: Rulebook, facts: Facts, ctx: _Context) -> None:
    """Every target-table row must belong to a 来自目标表 indicator: none is dropped silently."""
    homes = [i.name for i in book.walk() if isinstance(i.rule, ast.FromTargets)]
    keys = {_key(h) for h in homes}
    for row in facts.targets:
        if _key(row.first) not in keys:
            close = suggest(row.first, homes)
            ctx.error(
                f"目标表中一级指标“{row.first}”（{row.third}）不在规则集中（规则集中没有同名的“来自目标表”指标）",
                None,
                f"是否应为“{close}”？" if close else f"可用：{'、'.join(homes) or '（规则集没有来自目标表的指标）'}",
                span=row.span,
            )



_CMP_PREFIX = re.compile(r"^\s*(>=|<=|≥|≤|≧|≦|＞＝|＜＝|>|<|＞|＜|=|＝)\s*")
_CMP_NORMAL = {"≥": ">=", "≧": ">=", "＞＝": ">=", "≤": "<=", "≦": "<=", "＜＝": "<=", "＞": ">", "＜": "<", "＝": "="}


def _key(name: str) -> str:
    n = normalize(name).strip()
    return n[:-2] if n.endswith("指标") else n


def _from_targets(ind: LinkedIndicator, ctx: _Context) -> IndicatorResult:
    rows = [r for r in ctx.facts.targets if _key(r.first) == _key(ind.name)]
    if not rows:
        ctx.error(f"目标表中没有一级指标为“{ind.name}”的行", ind.path)
        return IndicatorResult(ind.path, ind.weight, None, "missing", (Step("missing", {"message": "目标表中没有对应的行"}),), None, ind.origin)
    groups: dict[str, list[TargetRow]] = {}
    for r in rows:
        groups.setdefault(r.second, []).append(r)
    kids = []
    for second, group in groups.items():
        leaves = tuple(_target_row(ind.path + ((second,) if second else ()), r, ctx) for r in group)
        if second:
            w = sum((leaf.weight for leaf in leaves), Fraction(0))
            kids.append(_parent(ind.path + (second,), w, leaves, group[0].span))
        else:
            kids.extend(leaves)
    total = sum((k.weight for k in kids), Fraction(0))
    if total != ind.weight:
        message = f"目标表中“{ind.name}”各行分值之和 {plain(total)} 与规则集规定的 {plain(ind.weight)} 不符"
        ctx.error(message, ind.path, span=rows[0].span)
        return IndicatorResult(ind.path, ind.weight, None, "invalid", (Step("missing", {"message": message}),), None, ind.origin, tuple(kids))
    return _parent(ind.path, ind.weight, tuple(kids), ind.origin)


def _target_row(parent: tuple[str, ...], row: TargetRow, ctx: _Context) -> IndicatorResult:
    path = (*parent, row.third)
    book = ctx.book
    wq = parse_quantity(as_text(row.weight))
    if wq.dim not in ("", "分") or wq.unit == "%" or wq.value < 0:
        ctx.error(f"分值“{row.weight}”不是有效的分数", path, span=row.span)
        return IndicatorResult(path, Fraction(0), None, "missing", (), row.note, row.span)
    w = wq.value
    target_text = "" if row.target is None else as_text(row.target)
    actual_text = "" if row.actual is None else as_text(row.actual)
    m = _CMP_PREFIX.match(normalize(target_text))
    op = _CMP_NORMAL.get(m.group(1), m.group(1)) if m else None
    body = (normalize(target_text)[m.end():] if m else normalize(target_text)).strip()
    target = parse_quantity(body) if body else None
    am = _CMP_PREFIX.match(normalize(actual_text))
    actual_body = normalize(actual_text)[am.end():] if am else actual_text
    actual = parse_quantity(actual_body) if actual_body else None
    rec = {}
    if row.tier is not None:
        rec["档次"] = row.tier
    if row.score is not None:
        rec["得分"] = row.score
    pseudo_rule: ast.Rule
    qualitative = target is None or target.dim == TEXT
    steps: list[Step] = [Step("row", {"target": target_text, "actual": actual_text})]
    if am and actual is not None and actual.dim != TEXT:
        steps.append(Step("actual_bound", {"actual": actual_text, "value": show(actual, book.digits)}))
    try:
        if qualitative:
            tiers = book.qualitative_tiers
            if not tiers:
                raise _Missing("定性指标没有默认规则", "在规则集的 默认规则 中写 定性 : 三档 …")
            pseudo = _pseudo(path, w, ast.Tiers(tiers, True), row)
            if "得分" not in rec and "档次" not in rec:
                if actual is not None and target is not None and normalize(actual_text) == normalize(target_text):
                    steps.append(Step("qualitative_met", {"score": plain(w)}))
                    return IndicatorResult(path, w, _round(w, ctx, w), "scored", tuple(steps), row.note, row.span)
                raise _Missing("定性指标的实际完成值与指标值不一致，需要评价人给出档次和得分", "在 档次、评价得分 两列填写")
            score, more, _ = _tiers(pseudo, rec, ctx, tiers)
            steps += more
        else:
            if actual is None:
                raise _Missing("缺少实际完成值")
            if op is None:
                op = "<=" if target.dim == DATE else ">="
            default = book.quantitative_defaults.get(op) or book.quantitative_defaults.get(">=" if op == ">" else "<=" if op == "<" else op)
            if default is None:
                raise _Missing(f"规则集没有“定量 {op}”的默认规则")
            kind = default.kind
            try:
                target_node = ast.DateLiteral(body) if target.dim == DATE else number_from(body)
            except JxError:
                raise _Invalid(f"年度指标值“{target_text}”无法识别", "写成比较符号加数值和单位，如 ≥1734人、≤4.99万元") from None
            rule = ast.Proportional(kind, target_node, None, default.zero) if kind in ("正向", "反向") else ast.TargetMet(op, target_node)
            pseudo = _pseudo(path, w, rule, row)
            if target.dim == DATE and kind != "达标":
                pseudo = _pseudo(path, w, ast.TargetMet(op, target_node), row)
            score, more, _ = RULES[type(pseudo.rule)](pseudo, {}, ctx.with_value(row.third, actual))
            steps += more
            if "得分" in rec:
                given = _points(rec["得分"], pseudo, ctx)
                steps.append(Step("override", {"rule_score": plain(_round(score, ctx)), "given": plain(given)}))
                score = given
    except _Missing as e:
        if "得分" in rec and not qualitative:
            try:
                given = _points(rec["得分"], _pseudo(path, w, None, row), ctx)
            except _Missing:
                pass
            else:
                steps.append(Step("override", {"rule_score": f"无法计算（{e.message}）", "given": plain(given)}))
                return IndicatorResult(path, w, _round(given, ctx), "scored", tuple(steps), row.note, row.span)
        ctx.error(e.message, path, e.hint, span=row.span)
        return IndicatorResult(path, w, None, e.status, (*steps, Step("missing", {"message": e.message})), row.note, row.span)
    rounded = _round(score, ctx, w)
    if rounded != score:
        steps.append(Step("rounding", {"raw": plain(score, 6), "score": plain(rounded, book.digits), "digits": book.digits}))
    return IndicatorResult(path, w, rounded, "scored", tuple(steps), row.note, row.span)


def _pseudo(path, w, rule, row: TargetRow) -> LinkedIndicator:
    return LinkedIndicator(path, w, rule, None, (), (), (), None, (), row.span, path[-1])


# ---- totals --------------------------------------------------------------------------------
def _items(items, ctx: _Context, kind: str) -> list[ItemResult]:
    out = []
    for it in items:
        rec = ctx.record((it.name,))
        if rec is None:
            ctx.error(f"{kind}项“{it.name}”缺少评价记录", None, "写 {发生: 是} 或 {发生: 否}" + ("，加分项也可写 {得分: 3}" if kind == "加分" else ""))
            out.append(ItemResult(it.name, it.points.magnitude, None, None, "missing"))
            continue
        points = it.points.magnitude
        if kind == "加分" and "得分" in rec:
            q = parse_quantity(as_text(rec["得分"]))
            if q.dim != "" or not 0 <= q.value <= points:
                ctx.error(f"加分项“{it.name}”的得分“{rec['得分']}”应在 0 到 {plain(points)} 之间")
                out.append(ItemResult(it.name, points, None, _evidence(rec), "missing"))
                continue
            out.append(ItemResult(it.name, points, q.value, _evidence(rec)))
        elif "发生" in rec and _yes_no(rec["发生"]) is not None:
            out.append(ItemResult(it.name, points, points if _flag(rec["发生"]) else Fraction(0), _evidence(rec)))
        else:
            ctx.error(f"{kind}项“{it.name}”的评价记录应写 发生: 是/否")
            out.append(ItemResult(it.name, points, None, _evidence(rec), "missing"))
    return out


def _totals(book: Rulebook, facts: Facts, ctx: _Context, results: tuple[IndicatorResult, ...]) -> Result:
    bonus_items = _items(book.bonus, ctx, "加分")
    penalty_items = _items(book.penalty, ctx, "扣分")
    veto_items = [ItemResult(v, Fraction(0), None) for v in book.vetoes]
    veto_results = []
    for v in veto_items:
        rec = ctx.record((v.name,))
        if rec is None:
            ctx.error(f"否决项“{v.name}”缺少评价记录", None, "写 {发生: 否}")
            veto_results.append(attrs.evolve(v, status="missing"))
        else:
            veto_results.append(attrs.evolve(v, awarded=Fraction(1) if _flag(rec.get("发生")) else Fraction(0), evidence=_evidence(rec)))
    steps: list[Step] = []
    max_ = book.max
    if any(r.score is None for r in results):
        subtotal = total = None
    else:
        subtotal = sum((r.score for r in results), Fraction(0))
        excluded = sum((r.excluded for r in results), Fraction(0))
        if excluded:
            if excluded >= max_:
                ctx.error("全部指标都不适用，无法按比例折算总分")
                subtotal = None
            else:
                rescaled = subtotal * max_ / (max_ - excluded)
                steps.append(Step("rescale", {"subtotal": plain(subtotal), "applicable": plain(max_ - excluded), "max": plain(max_), "raw": plain(rescaled, 6)}))
                subtotal = round_fraction(rescaled, book.digits, book.rounding)
        total = subtotal
    bonus = sum((b.awarded for b in bonus_items if b.awarded is not None), Fraction(0))
    if book.bonus_cap is not None and bonus > book.bonus_cap:
        steps.append(Step("bonus_cap", {"bonus": plain(bonus), "cap": plain(book.bonus_cap)}))
        bonus = book.bonus_cap
    penalty = sum((p.awarded for p in penalty_items if p.awarded is not None), Fraction(0))
    if book.penalty_cap is not None and penalty > book.penalty_cap:
        steps.append(Step("penalty_cap", {"penalty": plain(penalty), "cap": plain(book.penalty_cap)}))
        penalty = book.penalty_cap
    if any(b.status == "missing" for b in (*bonus_items, *penalty_items, *veto_results)):
        total = None
    if total is not None:
        total = total + bonus - penalty
        if total < 0:
            steps.append(Step("floor", {"raw": plain(total)}))
            total = Fraction(0)
        vetoed = [v.name for v in veto_results if v.awarded]
        if vetoed:
            steps.append(Step("veto_total", {"items": vetoed}))
            total = Fraction(0)
    grade = _grade(book, total) if total is not None else None
    warnings = list(ctx.warnings)
    if facts.year is not None and not book.in_force(facts.year):
        a, b = book.years
        span = f"{a} 年" if a == b else f"{a}–{b} 年"
        warnings.append(f"规则集“{book.name}”适用于 {span}，项目年度为 {facts.year} 年")
    return Result(
        rulebook=book.name,
        version=book.version,
        content_hash=book.content_hash,
        files=book.files,
        project=facts.project,
        max=max_,
        subtotal=subtotal,
        total=total,
        grade=grade,
        bonus=bonus,
        penalty=penalty,
        indicators=results,
        bonus_items=tuple(bonus_items),
        penalty_items=tuple(penalty_items),
        veto_items=tuple(veto_results),
        total_steps=tuple(steps),
        errors=tuple(ctx.errors),
        warnings=tuple(warnings),
        digits=book.digits,
        rounding=book.rounding,
        bonus_cap=book.bonus_cap,
    )


def _grade(book: Rulebook, total: Fraction) -> str:
    for name, op, bound in book.grades:
        if (total >= bound) if op == ">=" else (total > bound):
            return name
    return book.lowest_grade
