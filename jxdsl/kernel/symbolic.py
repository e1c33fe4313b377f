"""The symbolic backend: the kernel run with one fact as an unknown ``x`` (sympy), for what-if solving.

Partial evaluation of the one kernel (``rules.py``, ``leaf.py``, ``tree.py``): a value that does not
depend on ``x`` is exactly what ``PY`` computes; one that does is a sympy expression — rational in
``x``, with ``floor``/``ceiling`` where ``b.round`` rounds it.  A condition that depends on ``x`` is
not merged into a Piecewise value but decided by *path splitting*: ``Paths`` keeps the region of the
real line the current run is in and, at such a condition, takes one side (the region shrinks to where
it holds) and remembers to run again on the other side.  The runs together are the Piecewise function:
(region, value) pieces whose regions partition the line, each piece's value free of conditions.  No
rule kind is described twice: the kernel's own ``b.cases`` decides which branch a region takes.

A condition with ``floor`` terms is decided exactly by ``satisfying`` (see there); one this module
cannot decide exactly is refused with a UsageError, never guessed.  sympy is imported here only:
nothing that scores a project without a what-if imports this module.
"""
from __future__ import annotations

from fractions import Fraction

import sympy
from sympy import Interval, S, ceiling, floor

from jxdsl.errors import UsageError
from jxdsl.kernel.stage import Py, force

PLACEHOLDER = "…"  # text made from a value that depends on the unknown: only scores matter here
MAX_CELLS = 20_000  # rounding steps examined in one region before refusing
MAX_PATHS = 2_000

X = sympy.Symbol("x", real=True)


def symbolic(v) -> bool:
    return isinstance(v, sympy.Basic) and bool(v.free_symbols)


def exact(v):
    """A sympy number as a Fraction (the PY type), anything else unchanged."""
    if isinstance(v, sympy.Basic) and not v.free_symbols and v.is_Rational:
        return Fraction(int(v.p), int(v.q))
    return v


def refuse(why: str):
    raise UsageError(f"无法精确求解：{why}", None, "换一个数据项或目标；或用滑块逐个试算")


# ---- exact sets where a relation holds ------------------------------------------------------------
_FLIP = {">=": "<=", ">": "<", "<=": ">=", "<": ">", "==": "==", "!=": "!="}


def _rel(lhs, op: str, rhs=0):
    return {">=": sympy.Ge, ">": sympy.Gt, "<=": sympy.Le, "<": sympy.Lt, "==": sympy.Eq, "!=": sympy.Ne}[op](lhs, rhs)


def satisfying(cond, region):
    """The part of ``region`` where ``cond`` (a relation in x, possibly with floor/ceiling) holds.

    - No rounding in it: decided between the roots of a rational function (``_rational``), sympy's
      ``solveset`` for anything else.
    - One rounded term ``a·floor(u) + c`` (a, c constants): rounding is monotone, so for an integer
      bound the step and its argument agree — floor(u) ≥ k ⟺ u ≥ ⌈k⌉, ceiling(u) ≤ k ⟺ u ≤ ⌊k⌋ …
      — and the relation becomes one on ``u`` (solved the same way, rounding inside included).
    - A sum of rounded terms (a total of rounded scores): see ``cells``.
    """
    if cond in (True, False) or isinstance(cond, sympy.logic.boolalg.BooleanAtom):
        return region if bool(cond) else S.EmptySet
    if isinstance(cond, sympy.Not):
        return region - satisfying(cond.args[0], region)
    if isinstance(cond, sympy.And):
        for c in cond.args:
            region = satisfying(c, region)
        return region
    if isinstance(cond, sympy.Or):
        return sympy.Union(*[satisfying(c, region) for c in cond.args])
    if not isinstance(cond, sympy.core.relational.Relational):
        refuse(f"条件“{cond}”")
    op, e = cond.rel_op, sympy.expand(cond.lhs - cond.rhs)
    if not e.free_symbols:
        return region if bool(_rel(e, op)) else S.EmptySet
    steps = e.atoms(floor, ceiling)
    if not steps:
        return _rational(e, op, region) if e.is_rational_function(X) else sympy.solveset(_rel(e, op), X, region)
    if len(steps) == 1:
        (f,) = steps
        a = e.coeff(f)
        c = sympy.expand(e - a * f)
        if not a.free_symbols and not c.free_symbols and a != 0:
            k = -c / a
            if a < 0:
                op = _FLIP[op]
            return satisfying(_unround(f, op, k), region)
    if op == "!=":
        return region - satisfying(_rel(e, "=="), region)
    if op == "==":
        return satisfying(_rel(e, ">="), satisfying(_rel(e, "<="), region))
    found = bounds(e)
    if found is None:
        refuse(f"条件“{cond}”中的舍入")
    low, high = found if op in (">=", ">") else found[::-1]
    sure = satisfying(_rel(low, op), region)  # holds even for the least e can be
    band = satisfying(_rel(high, op), region) - sure  # may hold: cut where the steps are
    return sympy.Union(sure, *[part for part, value in cells(e, band) if bool(_rel(value, op))])


def _rational(e, op: str, region):
    """Where ``e op 0`` holds for a rational function e of x: e changes sign only at the real roots
    of its numerator and denominator, so it is decided at each root and in each gap between them
    (exact roots; much faster than ``solveset``'s general inequality solver)."""
    num, den = sympy.fraction(sympy.together(e))
    roots = set()
    for poly in (num, den):
        if poly.has(X):
            roots |= set(sympy.Poly(poly, X).real_roots())
    holds = []
    for part, value in _cut(e, region, sorted(roots), lambda p: den.subs(X, p) == 0):
        if bool(_rel(value, op)):
            holds.append(part)
    return sympy.Union(*holds).intersect(region)


def _unround(f, op: str, k):
    """``f op k`` for f = floor(u) or ceiling(u), as an equivalent relation on u."""
    u, up = f.args[0], isinstance(f, ceiling)
    lo, hi = floor(k), ceiling(k)
    if op == "==":
        if k != lo:
            return sympy.false
        return sympy.And(_rel(u, ">", k - 1), _rel(u, "<=", k)) if up else sympy.And(_rel(u, ">=", k), _rel(u, "<", k + 1))
    if op == "!=":
        return sympy.Not(_unround(f, "==", k))
    if not up:
        return {">=": _rel(u, ">=", hi), ">": _rel(u, ">=", lo + 1), "<=": _rel(u, "<", lo + 1), "<": _rel(u, "<", hi)}[op]
    return {">=": _rel(u, ">", hi - 1), ">": _rel(u, ">", lo), "<=": _rel(u, "<=", lo), "<": _rel(u, "<=", hi - 1)}[op]


def bounds(e):
    """(L, U): continuous functions with L ≤ e ≤ U, for e built from sums, positive multiples and
    rounding (floor(z) ∈ (z − 1, z], ceiling(z) ∈ [z, z + 1)); None when e is of another shape."""
    if not e.has(floor, ceiling):
        return e, e
    if isinstance(e, (floor, ceiling)):
        inner = bounds(e.args[0])
        if inner is None:
            return None
        lo, hi = inner
        return (lo - 1, hi) if isinstance(e, floor) else (lo, hi + 1)
    if isinstance(e, sympy.Add):
        parts = [bounds(a) for a in e.args]
        if any(p is None for p in parts):
            return None
        return sympy.Add(*[p[0] for p in parts]), sympy.Add(*[p[1] for p in parts])
    if isinstance(e, sympy.Mul):
        const, rest = e.as_independent(X, floor, ceiling, as_Add=False)
        if const.free_symbols or not const.is_positive:
            return None
        inner = bounds(rest)
        return None if inner is None else (const * inner[0], const * inner[1])
    return None


def _innermost(e) -> set:
    """The arguments of rounding terms that contain no rounding themselves."""
    out = set()
    for f in e.atoms(floor, ceiling):
        if not f.args[0].has(floor, ceiling):
            out.add(f.args[0])
    return out


def cells(e, region) -> list[tuple[object, object]]:
    """``region`` cut where the step function ``e`` (a sum of rounded terms) is constant, as
    (part, value) pairs — within the band where the rounding can matter.

    Why this is exact: with L ≤ e ≤ U (``bounds``, continuous), e ≥ g holds wherever L ≥ g and
    nowhere U < g; only the band between needs cutting.  There every rounding step changes where an
    innermost argument u(x) crosses an integer: the solutions of the equations u(x) = n, n between
    the least and greatest u on the band (``function_range``; an outer rounding of rounded terms
    steps only where they do).  Between consecutive such points every rounded term is constant, so
    e is constant on each open gap and at each point; its value there is computed exactly (at the
    point, or at the gap's midpoint).  The cells cover ``region``, which callers keep to that band.
    """
    found = []
    for piece in intervals(region):
        points = set()
        for u in _innermost(e):
            span = sympy.calculus.util.function_range(u, X, piece)
            lo, hi = span.inf, span.sup
            if not (lo.is_finite and hi.is_finite):
                refuse("取值范围无界，舍入的台阶无穷多")
            if hi - lo > MAX_CELLS:
                refuse(f"舍入的台阶超过 {MAX_CELLS} 个")
            for n in range(int(ceiling(lo)), int(floor(hi)) + 1):
                sols = sympy.solveset(sympy.Eq(u, n), X, S.Reals)
                if not isinstance(sols, sympy.FiniteSet):
                    refuse(f"方程 {u} = {n}")
                points |= {p for p in sols if piece.contains(p) is S.true}
        ends = sorted(points | {p for p in (piece.inf, piece.sup) if p.is_finite and piece.contains(p) is S.true})
        found += _cut(e, piece, ends)
    return found


def _cut(e, piece, points, pole=lambda p: False):
    """The cells of ``piece`` (any set of x) between and at ``points`` (sorted), with e's value on
    each; a pole is no cell (e is not defined there)."""
    out = []
    for start, end in zip([S.NegativeInfinity, *points], [*points, S.Infinity]):
        whole = Interval(start, end, True, True)
        gap = whole.intersect(piece)
        if gap is not S.EmptySet:  # e is the same all along ``whole``: sampled inside the piece if it can be
            out.append((gap, e.subs(X, _sample(gap if isinstance(gap, Interval) else whole))))
        if end in points and piece.contains(end) is S.true and not pole(end):
            out.append((sympy.FiniteSet(end), e.subs(X, end)))
    return out


def _sample(gap):
    lo, hi = gap.inf, gap.sup
    if lo.is_finite and hi.is_finite:
        return (lo + hi) / 2
    if lo.is_finite:
        return lo + 1
    if hi.is_finite:
        return hi - 1
    return S.Zero


def intervals(region) -> list:
    if region is S.EmptySet:
        return []
    if isinstance(region, sympy.Union):
        return [p for a in region.args for p in intervals(a)]
    if isinstance(region, sympy.FiniteSet):
        return [sympy.FiniteSet(p) for p in region]
    if isinstance(region, Interval):
        return [region]
    refuse(f"区域 {region}")


# ---- the paths ------------------------------------------------------------------------------------
class Paths:
    """Depth-first over the decisions a run takes on conditions that depend on x: each run follows a
    script of choices (True first), and ``next`` flips the last True that has an untried False."""

    def __init__(self, domain):
        self.domain, self.script, self.pos, self.region = domain, [], 0, domain

    def start(self) -> None:
        self.pos, self.region = 0, self.domain

    def decide(self, cond) -> bool:
        if not symbolic(cond):
            return bool(cond)
        yes = satisfying(cond, self.region)
        if yes is S.EmptySet:
            return False
        no = self.region - yes
        if no is S.EmptySet:
            return True
        if self.pos == len(self.script):
            self.script.append(True)
        choice = self.script[self.pos]
        self.pos += 1
        self.region = yes if choice else no
        return choice

    def next(self) -> bool:
        del self.script[self.pos:]
        while self.script and not self.script[-1]:
            self.script.pop()
        if not self.script:
            return False
        self.script[-1] = False
        return True


def pieces(domain, run) -> list[tuple[object, object]]:
    """(region, run's value) for every path: the regions partition ``domain``."""
    backend = Sym(Paths(domain))
    out = []
    while True:
        backend.paths.start()
        value = run(backend)
        out.append((backend.paths.region, value))
        if len(out) > MAX_PATHS:
            refuse(f"分支超过 {MAX_PATHS} 个")
        if not backend.paths.next():
            return out


class Sym(Py):
    """``PY`` with numbers that may be sympy expressions in x; conditions on x are decided by the
    path (``Paths``)."""

    name = "symbolic"

    def __init__(self, paths: Paths):
        self.paths = paths

    def truth(self, c) -> bool:
        return self.paths.decide(force(c))

    def num(self, value):
        if isinstance(value, sympy.Basic):
            return exact(value)
        return value if isinstance(value, Fraction) else Fraction(value)

    def cases(self, *branches, default=None):
        for cond, value in branches:
            if self.truth(cond):
                return force(value)
        return force(default)

    def all(self, *conds) -> bool:
        return all(self.truth(c) for c in conds)

    def any(self, *conds) -> bool:
        return any(self.truth(c) for c in conds)

    def not_(self, cond):
        return sympy.Not(cond) if symbolic(cond) else not cond

    def unless(self, bad, value):
        return None if self.truth(bad) else force(value)

    def count_true(self, *conds) -> Fraction:
        return Fraction(sum(1 for c in conds if self.truth(c)))

    def eq(self, a, b):
        if symbolic(a) or symbolic(b):
            return sympy.Eq(a, b)
        return exact(a) == exact(b)

    def has_more_decimals(self, x, digits: int) -> bool:
        return False if symbolic(x) else Py.has_more_decimals(exact(x), digits)

    def too_big(self, x) -> bool:
        return False if symbolic(x) else Py.too_big(exact(x))

    def min(self, a, b):
        return self.cases((a <= b, a), default=b)

    def max(self, a, b):
        return self.cases((a >= b, a), default=b)

    def round(self, x, digits: int, mode: str):
        """Exactly as ``units.round_fraction``: on the magnitude, half away from zero."""
        if not symbolic(x):
            return Py.round(exact(x), digits, mode)
        scale = sympy.Integer(10) ** digits
        if self.truth(x >= 0):
            return _step(x * scale, mode) / scale
        return -_step(-x * scale, mode) / scale

    def compare(self, value, op, target):
        got = Py.compare(value, op, target)
        return got if symbolic(got) else bool(got)

    def plain(self, x, digits: int) -> str:
        return PLACEHOLDER if symbolic(x) else Py.plain(exact(x), digits)

    def percent(self, x, digits: int) -> str:
        return PLACEHOLDER if symbolic(x) else Py.percent(exact(x), digits)

    def show(self, q, digits: int) -> str:
        return PLACEHOLDER if q is not None and symbolic(q.value) else Py.show(q, digits)


def _step(y, mode: str):
    """A nonnegative y rounded to an integer in each mode."""
    if mode == "截断":
        return floor(y)
    if mode == "进一":
        return ceiling(y)
    return floor(y + sympy.Rational(1, 2))
