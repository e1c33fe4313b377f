"""What value of one fact reaches a goal (a grade, a total, full marks on an indicator), exactly.

The project is scored by the same kernel with the chosen fact as an unknown x (``kernel.symbolic``):
the result is a set of (region of x, total) pieces.  The values of x that reach the goal are the
union of each piece's ``satisfying`` set — exact, found by solving, not by trying values.  The
answer is the point of that set nearest to the fact's current value; it is checked by rescoring the
project with the ordinary interpreter (``with_fact``), so a wrong answer is an error, not a report.
"""
from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING

import attrs

from jxdsl import ir
from jxdsl.errors import FactError, UsageError, suggest
from jxdsl.inputs import Fact, ProjectInputs
from jxdsl.units import DATE, TEXT, parse_quantity, plain, to_decimal, with_unit

if TYPE_CHECKING:
    from jxdsl.evaluate import Result

KINDS = ("grade", "next", "total", "full", "indicator")


@attrs.frozen
class Goal:
    """grade: reach the grade ``grade``; next: the grade above the current one; total: ``points``;
    full: full marks on ``path``; indicator: ``points`` on ``path``."""

    kind: str
    grade: str | None = None
    points: Fraction | None = None
    path: tuple[str, ...] = ()


@attrs.frozen
class Solution:
    fact: str
    goal: Goal
    wanted: str  # the goal in words: 总分达到 90（优）
    reachable: bool
    met: bool  # the current value already reaches the goal
    value: Fraction | None  # in the fact's written unit
    side: str | None  # 至少 / 至多 / 大于 / 小于
    text: str | None  # the value as a fact is written (at enough decimals to reach the goal)
    unit: str
    total: Fraction | None  # rescored with ``text`` (the best reachable total when unreachable)
    grade: str | None
    reached: Fraction | None  # what the goal measures, rescored
    current: str | None  # the fact as it is now
    note: str


def goal_of(obj) -> Goal:
    """A goal as the JSON API writes it (docs/api.md): {"kind": "grade", "grade": "优"},
    {"kind": "next"}, {"kind": "total", "points": "90"}, {"kind": "full", "indicator": [路径]},
    {"kind": "indicator", "indicator": [路径], "points": "4"}."""
    from jxdsl.units import plain_number

    if not isinstance(obj, dict) or obj.get("kind") not in KINDS:
        raise UsageError("目标应是 {\"kind\": …}，kind 为 " + "、".join(KINDS) + " 之一")
    kind = obj["kind"]
    grade = obj.get("grade")
    if kind == "grade" and not (isinstance(grade, str) and grade):
        raise UsageError("目标“grade”须写出等级，如 {\"kind\": \"grade\", \"grade\": \"优\"}")
    points = None
    if kind in ("total", "indicator"):
        raw = obj.get("points")
        points = plain_number(str(raw).strip()) if isinstance(raw, (str, int)) and not isinstance(raw, bool) else None
        if points is None:
            raise UsageError(f"目标“{kind}”须写出分数 points，如 \"90\"")
    path = obj.get("indicator") or ()
    if kind in ("full", "indicator"):
        if isinstance(path, str):
            path = path.split("/")
        if not path or not all(isinstance(p, str) and p for p in path):
            raise UsageError(f"目标“{kind}”须写出指标路径 indicator，如 [\"产出\", \"产出数量\"]")
    return Goal(kind, grade=grade if kind == "grade" else None, points=points, path=tuple(path) if kind in ("full", "indicator") else ())


def with_fact(inputs: ProjectInputs, name: str, text: str) -> ProjectInputs:
    """The same project with one fact written as ``text`` (kept at its line)."""
    old = inputs.facts.get(name)
    facts = {**inputs.facts, name: Fact(text, old.line if old is not None else None)}
    return attrs.evolve(inputs, facts=facts)


# ---- which leaves read the fact ---------------------------------------------------------------------
def _names(obj, out: set) -> set:
    if isinstance(obj, ir.Name):
        out.add(obj.name)
    elif isinstance(obj, ir.OwnValue):
        out.add(obj.name)
    if isinstance(obj, (tuple, list)):
        for o in obj:
            _names(o, out)
    elif attrs.has(type(obj)):
        for f in attrs.fields(type(obj)):
            _names(getattr(obj, f.name), out)
    return out


def _reading(scheme: ir.Scheme, fact: str) -> set[str]:
    """The fact and every derived value computed from it."""
    touched, grew = {fact}, True
    while grew:
        grew = False
        for d in scheme.derived:
            if d.name not in touched and _names(d.expr, set()) & touched:
                touched.add(d.name)
                grew = True
    return touched


# ---- the symbolic run -------------------------------------------------------------------------------
def _runner(scheme: ir.Scheme, inputs: ProjectInputs, fact: str, factor: Fraction, fixed: Result, path: tuple[str, ...]):
    """A function of the backend scoring the project: its total, or the score of ``path`` when given.
    Only the leaves that read the fact (or a value derived from it) run on the backend; the others,
    the target tables and the items keep the interpreter's scores."""
    from jxdsl.evaluate import _Run
    from jxdsl.kernel import tree
    from jxdsl.kernel.leaf import run_leaf
    from jxdsl.kernel.pyscope import PyScope
    from jxdsl.kernel.stage import PY
    from jxdsl.kernel.symbolic import X
    from jxdsl.units import Quantity

    ready = _Run(scheme, inputs)
    touched = _reading(scheme, fact)
    reading = {n.path for n in scheme.walk() if isinstance(n, ir.Leaf) and _names(n, set()) & touched}
    known = {r.path: r for r in fixed.walk()}
    ungraded = attrs.evolve(scheme, grades=())  # the total is what is solved; its grade is not needed
    bonus = [tree.bonus_item(PY, i, ready.record((i.name,)), "加分") for i in scheme.bonus]
    penalty = [tree.bonus_item(PY, i, ready.record((i.name,)), "扣分") for i in scheme.penalty]
    vetoes = [tree.veto_item(PY, v, ready.record((v,))) for v in scheme.vetoes]

    class Scope(PyScope):
        def __init__(self, b):
            self.b = b
            super().__init__(scheme, ready.inputs)

        def quantity(self, name, text):
            q = parse_quantity(text)
            return Quantity(X * factor, q.dim, q.unit, text) if name == fact else q

    def run(b):
        scope = Scope(b)
        scores = {}

        def node(n):
            if isinstance(n, ir.Group):
                kids = [node(c) for c in n.children]
                got = tree.parent(b, kids)
                out = (got.score, got.status, got.excluded)
            elif n.path in reading:
                got = run_leaf(scope, n, ready.record(n.path))
                out = (got.score, got.status, got.excluded)
            else:
                r = known[n.path]
                out = (r.score, r.status, r.excluded)
            scores[n.path] = out[0]
            return out

        roots = [node(n) for n in scheme.roots]
        t = tree.total(b, ungraded, [(sc, ex) for sc, _, ex in roots], bonus, penalty, vetoes)
        return t.total if not path else scores.get(path)

    return run


# ---- solving ----------------------------------------------------------------------------------------
def _target(scheme: ir.Scheme, goal: Goal, now: Result) -> tuple[str, Fraction, str]:
    """(relation, bound, the goal in words) on the total or on the indicator of ``goal.path``."""
    grades = list(scheme.grades)
    if goal.kind in ("grade", "next"):
        if goal.kind == "next":
            names = [g.name for g in grades] + [scheme.lowest_grade]
            at = names.index(now.grade) if now.grade in names else len(names)
            if at == 0:
                raise UsageError(f"项目已是最高等级“{now.grade}”，没有更高的等级")
            g = grades[at - 1]
        else:
            g = next((g for g in grades if g.name == goal.grade), None)
            if g is None:
                pool = [x.name for x in grades] + [scheme.lowest_grade]
                close = suggest(goal.grade or "", pool)
                if goal.grade == scheme.lowest_grade:
                    raise UsageError(f"“{goal.grade}”是最低等级，任何总分都达到", None, "选一个更高的等级")
                raise UsageError(f"规则集没有等级“{goal.grade}”", None, f"是否应为“{close}”？" if close else f"等级：{'、'.join(pool)}")
        op = ">" if g.strict else ">="
        return op, g.bound, f"总分{'高于' if g.strict else '达到'} {plain(g.bound, 6)}（{g.name}）"
    if goal.kind == "total":
        return ">=", goal.points, f"总分达到 {plain(goal.points, 6)}"
    node = next((n for n in scheme.walk() if n.path == goal.path), None)
    if node is None:
        pool = ["/".join(n.path) for n in scheme.walk()]
        close = suggest("/".join(goal.path), pool)
        raise UsageError(f"规则集没有指标“{'/'.join(goal.path)}”", None, f"是否应为“{close}”？" if close else "写指标的完整路径，如 产出/产出数量/完成率")
    if goal.kind == "full":
        return ">=", node.weight, f"“{node.path[-1]}”得满分 {plain(node.weight, 2)}"
    return ">=", goal.points, f"“{node.path[-1]}”得分达到 {plain(goal.points, 6)}"


def _fact_of(scheme: ir.Scheme, inputs: ProjectInputs, fact: str):
    """The fact's current quantity (None when not given), refusing a name that is no numeric fact."""
    given = inputs.facts.get(fact)
    if given is None and fact not in scheme.facts:
        tiers = {n.path[-1] for n in scheme.walk() if isinstance(n, ir.Leaf) and isinstance(n.rule, (ir.Tiers, ir.Judgement, ir.Checklist, ir.Deduction))}
        if fact in tiers:
            raise FactError(f"“{fact}”的得分来自评价人的选择（档次、酌情、清单或扣分），不是可连续变化的数据", None, "选一个数值数据，如 实际支出")
        if fact in {d.name for d in scheme.derived}:
            raise FactError(f"“{fact}”是派生值，由其他数据算出", None, "选它所用的数据之一")
        close = suggest(fact, [*inputs.facts, *scheme.facts])
        raise FactError(f"项目“{inputs.project}”没有数据“{fact}”", None, f"是否应为“{close}”？" if close else "数据名见事实文件的“事实:”部分")
    if given is None or given.text is None:
        return None
    q = parse_quantity(given.text)
    if q.dim in (TEXT, DATE):
        kind = "文字" if q.dim == TEXT else "日期"
        raise FactError(f"数据“{fact}”是{kind}（“{given.text}”），不是数值，无法求解", None, "选一个数值数据，如 实际支出、满意度")
    return q


def solve(book, inputs: ProjectInputs, fact: str, goal: Goal) -> Solution:
    """The value of ``fact`` nearest to its current one at which the project reaches ``goal``."""
    import sympy

    from jxdsl.evaluate import evaluate
    from jxdsl.kernel.symbolic import exact, pieces, satisfying, symbolic
    from jxdsl.lower import lower

    scheme = book if isinstance(book, ir.Scheme) else lower(book)
    if goal.kind not in KINDS:
        raise UsageError(f"未知的目标“{goal.kind}”", None, "可用：" + "、".join(KINDS))
    q0 = _fact_of(scheme, inputs, fact)
    declared = scheme.facts.get(fact)
    unit = q0.unit if q0 is not None else {"金额": "万元", "百分比": "%"}.get(declared.value if declared else "", "")
    factor = with_unit(Fraction(1), unit).value
    now = evaluate(scheme, inputs)
    op, bound, wanted = _target(scheme, goal, now)
    x0 = q0.value / factor if q0 is not None else Fraction(0)
    given = inputs if q0 is not None else with_fact(inputs, fact, f"0{unit}")  # the unknown goes where the fact is read
    run = _runner(scheme, given, fact, factor, now, goal.path if goal.kind in ("full", "indicator") else ())
    parts = [(region, exact(v)) for region, v in pieces(sympy.S.Reals, run) if v is not None]
    rel = {">=": sympy.Ge, ">": sympy.Gt}[op]
    good = sympy.Union(*[satisfying(rel(v, bound), region) if symbolic(v) else (region if (v >= bound if op == ">=" else v > bound) else sympy.S.EmptySet) for region, v in parts])
    if good is sympy.S.EmptySet:
        best = max((_best(v, region) for region, v in parts), default=None)
        return Solution(fact, goal, wanted, False, False, None, None, None, unit, best, None, None, _shown(q0), _unreachable(fact, wanted, best))
    met = good.contains(sympy.Rational(x0.numerator, x0.denominator)) is sympy.S.true
    defined = sympy.Union(*[region for region, _ in parts])
    value, side, inside = _nearest(good, x0, met, defined)
    if value is None:
        return Solution(fact, goal, wanted, True, True, None, None, _shown(q0), unit, now.total, now.grade, None, _shown(q0),
                        f"{fact} 取任何值都能{wanted}（其他指标已足够）")
    text = _written(good, value, inside, side in ("至少", "大于"), q0, unit)
    after = evaluate(scheme, with_fact(inputs, fact, text))
    reached = after.total if goal.kind in ("grade", "next", "total") else next((r.score for r in after.walk() if r.path == goal.path), None)
    if reached is None or not (reached >= bound if op == ">=" else reached > bound):
        raise FactError(f"求解结果 {text} 复算未达到目标（{wanted}）：这是 jxdsl 的错误，请报告", None, None)
    note = _note(fact, wanted, met, side, value, text, q0, unit)
    return Solution(fact, goal, wanted, True, met, value, side, text, unit, after.total, after.grade, reached, _shown(q0), note)


def _best(v, region):
    """The greatest value v takes on region (v a step function of x, or a number): it is taken
    where the upper bound U reaches the lower bound L's supremum (there U ≥ v ≥ sup L)."""
    import sympy

    from jxdsl.kernel.symbolic import X, bounds, cells, exact, intervals, refuse, satisfying, symbolic

    if not symbolic(v):
        return v
    found = bounds(v)
    if found is None:
        refuse("无法求出可达到的最高分")
    lo, hi = found
    top = max(sympy.calculus.util.function_range(lo, X, piece).sup for piece in intervals(region))
    return max(exact(value) for _, value in cells(v, satisfying(sympy.Ge(hi, top), region)))


def _nearest(good, x0: Fraction, met: bool, defined):
    """(boundary, side, whether the boundary itself reaches the goal) nearest to x0.  When the goal
    is met, an end where the project stops being scorable (0 for an amount, ±1000% for a
    percentage) says nothing: the boundary is where the score, not the data, gives out."""
    import sympy

    from jxdsl.kernel.symbolic import exact, intervals

    here = sympy.Rational(x0.numerator, x0.denominator)
    edges = {e for piece in intervals(defined) for e in (piece.inf, piece.sup) if e.is_finite}
    found = []
    for piece in intervals(good):
        lo, hi = piece.inf, piece.sup
        if met and piece.contains(here) is not sympy.S.true:
            continue
        for end, left in ((lo, True), (hi, False)):
            if not end.is_finite or (met and (lo == hi or end in edges)):
                continue
            closed = piece.contains(end) is sympy.S.true
            if met or (left and end >= here) or (not left and end <= here):
                found.append((abs(end - here), exact(end), ("至少" if closed else "大于") if left else ("至多" if closed else "小于"), closed))
    if not found:  # met everywhere around x0 (no end), or only at single points
        points = [(abs(p.inf - here), exact(p.inf), "等于", True) for p in intervals(good) if p.inf == p.sup]
        if not points:
            return None, None, True
        found = points
    _, value, side, closed = min(found, key=lambda f: f[0])
    return value, side, closed


def _written(good, value: Fraction, closed: bool, up: bool, q0, unit: str) -> str:
    """The value as a fact is written: exact when it has at most 12 decimals and reaches the goal,
    else at the fewest decimals (at least the fact's own) that still reach it."""
    import re

    import sympy

    own = len(m.group(1)) if q0 is not None and (m := re.search(r"\.(\d+)", q0.text or "")) else 0
    needed = next((d for d in range(13) if (value * 10**d).denominator == 1), None)
    if closed and needed is not None:
        return f"{_decimal(value, max(needed, min(own, 2)))}{unit}"
    for d in range(max(own, 2), 13):
        v = Fraction(to_decimal(value, d, "进一" if up else "截断"))  # toward the side that reaches
        if v == value:
            v += Fraction(1 if up else -1, 10**d)
        if good.contains(sympy.Rational(v.numerator, v.denominator)) is sympy.S.true:
            return f"{_decimal(v, d)}{unit}"
    raise UsageError(f"“{value}”无法用 12 位以内的小数写出", None, "换一个目标")


def _decimal(v: Fraction, d: int) -> str:
    s = format(to_decimal(v, d), "f")
    return s.rstrip("0").rstrip(".") if "." in s else s


def _shown(q0) -> str | None:
    return None if q0 is None else q0.text


def _bound(value: Fraction, unit: str) -> str:
    """The boundary exactly: a decimal when it ends within 12 places, else ≈ a decimal and the fraction."""
    if next((d for d in range(13) if (value * 10**d).denominator == 1), None) is not None:
        return f"{plain(value, 12)}{unit}"
    return f"{_decimal(value, 6)}…{unit}（精确值 {value}）"


def _head(fact, side, value, text, unit) -> str:
    """``实际支出 至少为 812.35万元 时``; a boundary that is no decimal, or not reached itself, with
    the value written as a fact that reaches the goal."""
    verb = f"{side}为" if side in ("至少", "至多") else side
    exact_text = _bound(value, unit)
    if side == "等于":
        return f"{fact} 为 {text} 时"
    if exact_text == text:
        return f"{fact} {verb} {text} 时"
    return f"{fact} {verb} {exact_text}{'' if exact_text.endswith('）') else ' '}时（如 {text}）"


def _note(fact, wanted, met, side, value, text, q0, unit) -> str:
    head = _head(fact, side, value, text, unit)
    if met:
        return f"现值 {q0.text if q0 else '—'} 已{wanted}；{head}仍能达到"
    return f"{head}，{wanted}"


def _unreachable(fact, wanted, best) -> str:
    shown = "无法计分" if best is None else plain(best, 6)  # a total has the rulebook's digits: shown as it is
    return f"改变“{fact}”无法使{wanted}：其他指标限制了总分，{fact} 取任何值时最高只能达到 {shown}"


def sentence(s: Solution) -> str:
    """The answer as one Chinese sentence."""
    if not s.reachable or s.value is None:
        return s.note
    grade = f"（{s.grade}）" if s.grade else ""
    shown = f"总分 {plain(s.total, 6)}{grade}" if s.total is not None else "总分无法计算"
    head = f"{_head(s.fact, s.side, s.value, s.text, s.unit)}，{shown}"
    if s.met:
        return f"{s.fact} 现为 {s.current}，已{s.wanted}；{head}"
    return head


def to_json(s: Solution) -> dict:
    """The answer for the API (numbers as exact decimal strings)."""
    def num(x):
        return None if x is None else str(x) if isinstance(x, str) else plain(x, 12)

    return {
        "fact": s.fact,
        "goal": {"kind": s.goal.kind, "grade": s.goal.grade, "points": num(s.goal.points), "path": list(s.goal.path)},
        "wanted": s.wanted,
        "reachable": s.reachable,
        "met": s.met,
        "value": num(s.value),
        "exact": None if s.value is None else f"{s.value.numerator}/{s.value.denominator}",
        "side": s.side,
        "text": s.text,
        "unit": s.unit,
        "total": num(s.total),
        "grade": s.grade,
        "reached": num(s.reached),
        "current": s.current,
        "sentence": sentence(s),
    }
