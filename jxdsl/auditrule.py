"""Does a published leaf score follow the rule?  The expected score is the kernel's own row scoring
(``kernel.rows.score_row``, the definition every engine uses), rounded as the rulebook says.

Rounding.  With a rulebook the score must be exactly the rulebook's rounded score: the only slack
is the table's printed precision, when the whole table prints fewer decimals than the rulebook
keeps (every score an integer while the rulebook keeps 2 decimals), and then the row is a
``rounding`` note, not silently accepted.  Without a rulebook the rounding is unknown: the score
must be the rule's score rounded half up to the table's precision (the national 2 decimals also
pass); a score that another rounding of the same value explains (截断 1.8972 to 1.8) is a
``rounding`` note naming that rounding; anything else is a ``rule`` finding.
"""
from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import attrs

from jxdsl import ast, ir
from jxdsl.audit import NATIONAL_TIERS, Finding, Row, _fmt, decimals
from jxdsl.link import LinkedIndicator, Rulebook, tier_points
from jxdsl.lower import lower
from jxdsl.units import DATE, TEXT, Quantity, normalize, number_problem, parse_quantity, plain, split_cmp

NATIONAL = Path(__file__).resolve().parents[1] / "rulebooks" / "national" / "self-eval.jx"
HALF_UP, TRUNCATE, UP = "四舍五入", "截断", "进一"
ROUNDINGS = (HALF_UP, TRUNCATE, UP)  # the order a mismatch is explained in: the usual one first
RAW_DIGITS = 40  # the rule's score before rounding: exact far beyond any printed digit


def round_to(x: Fraction, digits: int, mode: str) -> Fraction:
    """``x`` (a score, ≥ 0) rounded to ``digits`` decimals by 四舍五入, 截断 or 进一."""
    scaled = x * 10**digits
    n = math.floor(scaled) if mode == TRUNCATE else math.ceil(scaled) if mode == UP else math.floor(scaled + Fraction(1, 2))
    return Fraction(n, 10**digits)


def places_words(digits: int) -> str:
    return "整数" if digits == 0 else f" {digits} 位小数"


def _exact_decimals(x: Fraction, limit: int = 12) -> int:
    """How many decimals ``x`` needs (at most ``limit``): 4.8 → 1, 5 → 0."""
    k = 0
    while k < limit and (x * 10**k).denominator != 1:
        k += 1
    return k


def other_rounding(published: Fraction, raw: Fraction, most: int) -> str | None:
    """The rounding of the rule's exact score that prints as the published score, in words.  进一
    to whole points is not an explanation: it turns any fraction (0.01 of 5) into a whole point."""
    for k in range(_exact_decimals(published), max(most, _exact_decimals(published)) + 1):
        for mode in ROUNDINGS:
            if (mode, k) != (UP, 0) and round_to(raw, k, mode) == published:
                return f"按{mode}到{places_words(k)}即为 {_fmt(published)}"
    return None


# ---- rule checks ------------------------------------------------------------------------------
def rule_findings(r: Row, ind: LinkedIndicator | None, book: Rulebook | None, places: int) -> list[Finding]:
    """The leaf row's score against its rule; ``places`` is the most decimals any score of the
    table prints (its printed precision)."""
    if r.score is None or r.weight is None or not 0 <= r.score <= r.weight:
        return []  # out of range is reported once, as such
    if ind is not None and isinstance(ind.rule, ast.Tiers):
        return _tier_rule(r, ind)
    if ind is not None and isinstance(ind.rule, ast.Checklist):
        return _checklist_rule(r, ind)
    if not r.target or not r.actual:
        return []
    unreadable = number_problem(r.target) or number_problem(r.actual)
    if unreadable:  # 1,50人 is not read as 1 (nor as words): the row cannot be checked
        return [Finding(r.key, "unreadable_number", r.score_text, None, f"{unreadable}，无法按规则核对得分", r.line)]
    target = _quantity(r.target)
    actual = _quantity(r.actual)
    if target.dim == TEXT or actual.dim == TEXT or r.method == "定性":
        return _qualitative(r, target, actual, book)
    bare = actual.dim == "" and actual.unit == "" and target.dim not in ("", DATE)
    if not bare and actual.dim != target.dim:
        return [Finding(r.key, "unit_mismatch", r.score_text, None, f"指标值 {r.target} 与实际值 {r.actual} 单位不同，无法按规则核对得分", r.line)]
    # a bare number is read in the target's unit (tables often print 98 for 98%)
    got = _expected(r, r.actual.strip() + target.unit if bare else r.actual, ind, book)
    if got is None:
        return []
    return _judge(r, got, book is not None, max(places, decimals(r.score_text)))


def _quantity(text: str) -> Quantity:
    """A target or actual value without its comparison (≥95% → 95%, 不少于12种 → 12种), as the engines read it."""
    return parse_quantity(split_cmp(text)[1])


@attrs.frozen
class Expected:
    score: Fraction  # rounded as the rulebook (or, without one, the national rulebook) says
    raw: Fraction  # before rounding
    how: str  # the kernel's sentences for it


def _judge(r: Row, got: Expected, stated: bool, places: int) -> list[Finding]:
    """Compare the published score with the expected one (see the module's docstring)."""
    p, e, raw = r.score, got.score, got.raw
    if p == e:
        return []
    if stated:
        if _exact_decimals(e) > places and abs(p - e) <= Fraction(1, 2 * 10**places):
            return [Finding(r.key, "rounding", r.score_text, _fmt(e), f"{got.how}，按规则集应得 {_fmt(e)}；表中得分只印到{places_words(places)}，印作 {r.score_text}", r.line)]
        other = other_rounding(p, raw, places)
        extra = f"（{other}，与规则集的舍入不同）" if other else ""
        return [Finding(r.key, "rule", r.score_text, _fmt(e), f"{got.how}，按规则集应得 {_fmt(e)}，公布为 {r.score_text}{extra}", r.line)]
    if p == round_to(raw, places, HALF_UP):
        return []
    other = other_rounding(p, raw, places)
    if other:
        return [Finding(r.key, "rounding", r.score_text, _fmt(raw), f"{got.how}，{other}：表中未说明舍入方式（用 --rulebook 指明规则集即按其舍入核对）", r.line)]
    return [Finding(r.key, "rule", r.score_text, _fmt(e), f"{got.how}，应得 {_fmt(e)}，公布为 {r.score_text}", r.line)]


# ---- the expected score: the kernel's own row scoring -------------------------------------------
def _expected(r: Row, actual_text: str, ind: LinkedIndicator | None, book: Rulebook | None) -> Expected | None:
    """The score the rulebook gives the row's target and actual, by ``kernel.rows.score_row`` (the
    interpreter's and the SQL engines' definition, with the rulebook's rounding), the same before
    rounding, and the kernel's sentences for it.  A tree indicator's 正向/反向/达标 rule scores the
    row whatever its sign; without a rulebook the national self-evaluation defaults (财预〔2020〕10号)
    apply."""
    from jxdsl.evaluate import _steps
    from jxdsl.explain import sentence

    rounded, steps = _score(r, actual_text, _row_scheme(book, ind, exact=False))
    raw, _ = _score(r, actual_text, _row_scheme(book, ind, exact=True))
    if rounded is None or raw is None:
        return None
    from jxdsl.kernel.sentences import FOLLOWS

    said = [(s.kind in FOLLOWS, t) for s in _steps(steps) if (t := sentence(s))]
    how = "；".join(t for follows, t in said if not follows)  # as the explanation joins them
    how = "，".join(x for x in [how, *(t for follows, t in said if follows)] if x)
    return Expected(rounded, raw, how or f"实际 {actual_text}，指标值 {r.target}")


def _score(r: Row, actual_text: str, scheme: ir.Scheme):
    from jxdsl.inputs import ProjectInputs
    from jxdsl.kernel.pyscope import PyScope
    from jxdsl.kernel.rows import RowTexts, score_row

    texts = RowTexts(plain(r.weight, 8), r.target, actual_text, None, None, None, r.method)
    got, _ = score_row(PyScope(scheme, ProjectInputs("核对")), texts)
    if got.problem is not None or got.score is None:
        return None, []
    return got.score, got.steps


_SCHEMES: dict = {}


def _row_scheme(book: Rulebook | None, ind: LinkedIndicator | None, exact: bool) -> ir.Scheme:
    """The scheme a row is scored with: the rulebook's (its defaults, or the indicator's own rule
    as the row's default); ``exact``: the same without rounding."""
    from jxdsl.link import Linker

    key = (id(book), ind.path if ind is not None else None, exact)
    if key in _SCHEMES:
        return _SCHEMES[key][1]
    scheme = lower(book if book is not None else Linker().load(NATIONAL))
    defaults = scheme.defaults
    leaf = next((x for x in scheme.leaves() if x.path == ind.path), None) if ind is not None else None
    rule = leaf.rule if leaf is not None else None
    if isinstance(rule, ir.Proportional):
        kind = ir.RowKind.POSITIVE if rule.direction is ir.Direction.POSITIVE else ir.RowKind.NEGATIVE
        defaults = ir.RowDefaults({op: ir.RowDefault(kind, rule.zero, leaf.round) for op in ir.Cmp}, defaults.qualitative)
    elif isinstance(rule, ir.TargetMet):
        defaults = ir.RowDefaults({op: ir.RowDefault(ir.RowKind.MET, None, leaf.round) for op in ir.Cmp}, defaults.qualitative)
    elif not defaults.quantitative:
        defaults = lower(Linker().load(NATIONAL)).defaults
    got = attrs.evolve(scheme, defaults=defaults)
    if exact:  # no rounding anywhere: the header's is replaced, every line's own removed
        unrounded = {op: attrs.evolve(d, round=None) for op, d in defaults.quantitative.items()}
        got = attrs.evolve(got, digits=RAW_DIGITS, rounding=ir.Rounding.HALF_UP, defaults=attrs.evolve(defaults, quantitative=unrounded, qualitative_round=None))
    _SCHEMES[key] = (book, got)  # the book is kept so that its id is not reused
    return got


def _qualitative(r: Row, target: Quantity, actual: Quantity, book: Rulebook | None) -> list[Finding]:
    if normalize(r.target).strip() != normalize(r.actual).strip():
        return []  # not achieved as written: the evaluator's tier cannot be checked from the table
    tiers = book.qualitative_tiers if book is not None and book.qualitative_tiers else None
    if tiers:
        low, high = tier_points(tiers[0], r.weight)
        name = tiers[0].name
    else:
        low, high = r.weight * NATIONAL_TIERS[0][0], r.weight
        name = "达成"
    if low <= r.score <= high:
        return []
    return [
        Finding(r.key, "tier", r.score_text, f"{_fmt(low)}–{_fmt(high)}", f"实际完成值与指标值一致（{r.actual}），属“{name}”档，得分应在 {_fmt(low)} 到 {_fmt(high)} 之间，公布为 {r.score_text}", r.line)
    ]


def _tier_rule(r: Row, ind: LinkedIndicator) -> list[Finding]:
    from jxdsl.kernel.rules import inside
    from jxdsl.kernel.stage import PY
    from jxdsl.lower import tier

    if any(inside(PY, r.score, tier(t), ind.weight) for t in ind.rule.tiers):
        return []
    allowed = "；".join(f"{t.name} {_interval(t, ind.weight)}" for t in ind.rule.tiers)
    return [Finding(r.key, "tier", r.score_text, allowed, f"得分 {r.score_text} 不在任何档次内（{allowed}）", r.line)]


def _interval(t: ast.Tier, w: Fraction) -> str:
    lo, hi = tier_points(t, w)
    if lo == hi:
        return _fmt(lo)
    return f"{'[' if t.low_closed else '('}{_fmt(lo)},{_fmt(hi)}{']' if t.high_closed else ')'}"


def _checklist_rule(r: Row, ind: LinkedIndicator) -> list[Finding]:
    possible = {Fraction(0)}
    for item in ind.items:
        possible |= {p + item.points.magnitude for p in possible}
    if r.score in possible:
        return []
    shown = "、".join(_fmt(p) for p in sorted(possible))
    return [Finding(r.key, "checklist", r.score_text, shown, f"清单各条得分组合只能得 {shown}，公布为 {r.score_text}", r.line)]
