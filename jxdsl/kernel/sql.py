"""The SQL backend: the kernel's staged code builds sqlglot expression trees over a row.

Values are wrappers of sqlglot expressions: ``SNum`` (an exact rational, a pair of BIG integers
with bounds on their digits), ``SBool``, ``SText`` and ``SQty`` (a quantity's fields).  ``b.cases``
becomes CASE; a list of steps returned by several branches is kept whole, each step guarded by the
branch that made it.  ``b.let`` gives a value a column of its own in the next stage of the query,
so a value used many times is computed once.

Exactness: every integer the query forms has a bound ``Form`` on its digits, in terms of the row's
longest input numerator and denominator; ``width_check`` turns the widest bounds into a test on the
row, and a row that fails it (or holds a number too long to read) is scored by the interpreter.
"""
from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import attrs
from sqlglot import exp

from jxdsl.kernel import sqlnodes as N
from jxdsl.kernel.program import Program  # noqa: F401  (the backend's program)
from jxdsl.kernel.sqlnodes import big, case, lit
from jxdsl.kernel.stage import force
from jxdsl.kernel.values import Step
from jxdsl.kernel.widths import DEN_DIGITS, NUM_DIGITS, Form, _join  # noqa: F401  (re-exported)

MAX_DIGITS = 38


@attrs.frozen
class Caps:
    """The most digits an input numerator and denominator are read with (longer: interpreter)."""

    num: int = 30
    den: int = 20


def _digits(n: int) -> int:
    return len(str(abs(n))) if n else 1


# ---- staged values --------------------------------------------------------------------------------
class SVal:
    """A staged SQL value."""

    __slots__ = ("b", "e")

    def __init__(self, b: "Sql", e: exp.Expression):
        self.b, self.e = b, e

    def __bool__(self):
        raise TypeError("a staged SQL value has no truth value: use b.cases / b.all / b.any")


class SBool(SVal):
    @property
    def const(self):
        """True/False when a literal, else None."""
        return self.e.this if isinstance(self.e, exp.Boolean) else None


_NO = object()


class SText(SVal):
    @property
    def const(self):
        """The text when a literal, None for a NULL literal, else ``_NO``."""
        if isinstance(self.e, exp.Literal) and self.e.is_string:
            return self.e.this
        if isinstance(self.e, exp.Null):
            return None
        return _NO


class SNull:
    """NULL of any type: takes the shape of the values it is merged with."""

    def __bool__(self):
        raise TypeError("a staged SQL NULL has no truth value")


NULL = SNull()


class SNum:
    """An exact rational num/den (den > 0) with static bounds on the digits of each.

    ``dc`` is the denominator when it is a constant (scores rounded to 2 digits have 100), so sums
    of such values keep one denominator instead of multiplying them."""

    __slots__ = ("b", "num", "den", "nb", "db", "const", "dc")

    def __init__(self, b, num, den, nb, db, const: Fraction | None = None, dc: int | None = None):
        if const is None:  # a value that folded to literals (a CASE whose branches agree) is a constant
            n, d = N.int_value(num), N.int_value(den)
            if n is not None and d is not None and d > 0:
                const = Fraction(n, d)
        self.b, self.num, self.den, self.nb, self.db, self.const = b, num, den, Form.of(nb), Form.of(db), const
        self.dc = const.denominator if const is not None else dc

    def __bool__(self):
        raise TypeError("a staged SQL number has no truth value")

    # arithmetic
    def _other(self, o) -> "SNum":
        return o if isinstance(o, SNum) else self.b.num(o)

    def __add__(self, o):
        return self.b.arith("+", self, self._other(o))

    def __radd__(self, o):
        return self.b.arith("+", self._other(o), self)

    def __sub__(self, o):
        return self.b.arith("-", self, self._other(o))

    def __rsub__(self, o):
        return self.b.arith("-", self._other(o), self)

    def __mul__(self, o):
        return self.b.arith("*", self, self._other(o))

    def __rmul__(self, o):
        return self.b.arith("*", self._other(o), self)

    def __truediv__(self, o):
        return self.b.arith("/", self, self._other(o))

    def __neg__(self):
        return self.b.arith("*", self, self.b.num(-1))

    # comparisons
    def __lt__(self, o):
        return self.b.order("<", self, self._other(o))

    def __le__(self, o):
        return self.b.order("<=", self, self._other(o))

    def __gt__(self, o):
        return self.b.order(">", self, self._other(o))

    def __ge__(self, o):
        return self.b.order(">=", self, self._other(o))


@attrs.define
class SQty:
    """A quantity: dimension, unit as written, exact value (and first day for dates), text, words.

    ``py`` is the Python ``Quantity`` (or None) when the quantity is a constant."""

    dim: Any
    unit: Any
    value: Any
    start: Any
    text: Any
    words: Any
    py: Any = attrs.field(default=_NO, eq=False)

    @property
    def kind(self):
        b = self.dim.b
        return b.cases((b.eq(self.dim, b.text("日期")), b.text("date")), (b.eq(self.dim, b.text("文本")), b.text("text")), default=b.text("num"))


class Sql:
    """The staged backend over one program's rows."""

    name = "sql"
    null = NULL

    def __init__(self, program: Program, caps: Caps = Caps()):
        self.p = program
        self.caps = caps
        self.widths: dict[tuple, Form] = {}  # bounds of every integer the query forms
        self.num_digits: list[exp.Expression] = []  # digits of each input numerator read
        self.den_digits: list[exp.Expression] = []
        self.digit_vars: list[exp.Expression] = []  # Form variable i: the digits of one input number
        self.guard: str | None = None  # the width check's column, when input numbers are guarded by it
        self.overflow: list[exp.Expression] = []  # rows the query cannot compute exactly (→ interpreter)

    # -- constants
    def num(self, value) -> SNum:
        if isinstance(value, SNum):
            return value
        if value is None or isinstance(value, SNull):
            return SNum(self, exp.null(), exp.null(), 1, 1)
        f = value if isinstance(value, Fraction) else Fraction(value)
        return SNum(self, big(f.numerator), big(f.denominator), _digits(f.numerator), _digits(f.denominator), f)

    def to_scale(self, x: SNum, to: int) -> exp.Expression:
        """x × ``to`` as a whole number (an inexact one marks the row for the interpreter)."""
        x = self.num(x)
        if x.dc is not None and to % x.dc == 0:
            return self.scaled(x, to)
        self.overflow.append(N.coalesce(N.not_(N.eq(N.mod(N.mul(x.num, big(to)), x.den), big(0))), lit(False)))
        self._width(x.nb + _digits(to))
        return N.idiv(N.mul(x.num, big(to)), x.den)

    def scaled(self, x: SNum, to: int) -> exp.Expression:
        """x's numerator over the constant denominator ``to`` (a multiple of x.dc)."""
        k = to // x.dc
        if x.const is not None:
            return big(x.const.numerator * k)
        return x.num if k == 1 else N.mul(x.num, big(k))

    def text(self, value: str) -> SText:
        return SText(self, lit(value))

    def flag(self, value: bool) -> SBool:
        return SBool(self, lit(bool(value)))

    def column_text(self, name: str) -> SText:
        return SText(self, N.column(name))

    # -- coercion
    def _bool(self, x) -> exp.Expression:
        x = force(x)
        if isinstance(x, bool):
            return lit(x)
        if isinstance(x, SBool):
            return lit(False) if isinstance(x.e, exp.Null) else x.e
        if x is None or isinstance(x, SNull):
            return lit(False)
        raise TypeError(f"not a condition: {type(x).__name__}")

    def _text(self, x) -> exp.Expression:
        if isinstance(x, str):
            return lit(x)
        if isinstance(x, SText):
            return x.e
        if x is None or isinstance(x, SNull):
            return exp.null()
        raise TypeError(f"not text: {type(x).__name__}")

    # -- control
    def all(self, *conds) -> SBool:
        parts = [self._bool(c) for c in conds]
        if any(p == lit(False) for p in parts):
            return self.flag(False)
        parts = [fn_coalesce(p) for p in parts if p != lit(True)]
        if not parts:
            return self.flag(True)
        return SBool(self, N.and_(*parts))

    def any(self, *conds) -> SBool:
        parts = [self._bool(c) for c in conds]
        if any(p == lit(True) for p in parts):
            return self.flag(True)
        parts = [fn_coalesce(p) for p in parts if p != lit(False)]
        if not parts:
            return self.flag(False)
        return SBool(self, N.or_(*parts))

    def not_(self, cond) -> SBool:
        e = self._bool(cond)
        if e == lit(True):
            return self.flag(False)
        if e == lit(False):
            return self.flag(True)
        return SBool(self, N.not_(fn_coalesce(e)))

    def cases(self, *branches, default=None):
        conds, values = [], []
        for cond, value in branches:
            c = self._bool(cond)
            if c == lit(False):
                continue
            if c == lit(True):
                default = value
                break
            conds.append(self.p.bind(c))
            values.append(force(value))
        default = force(default)
        if not conds:
            return default
        return self._merge(conds, values, default)

    def problems(self, *checks):
        """The first problem that is there: a CASE over the problems' presence."""
        found = [force(c) for c in checks]
        found = [p for p in found if p is not None and not isinstance(p, SNull)]
        if not found:
            return None
        return self.cases(*[(self.not_(self.is_null(p)), p) for p in found], default=None)

    def outcome(self, problem, then):
        from jxdsl.kernel.rules import Outcome

        got = then()
        if problem is None:
            return got
        if got.problem is not None:  # a problem found inside (a 分段 threshold) comes after ours
            problem = self.problems(problem, got.problem)
        return Outcome(problem, got.score, got.status, got.steps)

    def unless(self, bad, value):
        return force(value)

    def let(self, value):
        return _map(value, self._bind_leaf)

    def _bind_leaf(self, x):
        if isinstance(x, SNum):
            if x.const is not None:
                return x
            return SNum(self, self.p.bind(x.num), x.den if x.dc is not None else self.p.bind(x.den), x.nb, x.db, dc=x.dc)
        if isinstance(x, (SBool, SText)):
            return type(x)(self, self.p.bind(x.e))
        return x

    # -- merging the branches of a CASE
    def _merge(self, conds, values, default):
        samples = [v for v in [*values, default] if v is not None and not isinstance(v, SNull)]
        if not samples:
            return default if default is not None else None
        first = samples[0]
        if isinstance(first, (bool,)) or isinstance(first, SBool):
            e = case(*[(c, self._bool(v) if v is not None and not isinstance(v, SNull) else N.null()) for c, v in zip(conds, values)], default=_or_null(default, self._bool))
            return SBool(self, self.p.bind(e))
        if isinstance(first, (str, SText)):
            return SText(self, self.p.bind(case(*[(c, self._text(v)) for c, v in zip(conds, values)], default=self._text(default))))
        if isinstance(first, (SNum, int, Fraction)):
            nums = [self.num(v) if v is not None and not isinstance(v, SNull) else None for v in values]
            dn = self.num(default) if default is not None and not isinstance(default, SNull) else None
            kept = [n for n in [*nums, dn] if n is not None]
            if all(n.dc is not None for n in kept):
                common = math.lcm(*[n.dc for n in kept])
                nb = _join(n.nb + _digits(common // n.dc) for n in kept)
                num = case(*[(c, self.scaled(n, common) if n is not None else N.null()) for c, n in zip(conds, nums)], default=self.scaled(dn, common) if dn is not None else N.null())
                return SNum(self, self.p.bind(num), big(common), nb, _digits(common), dc=common)
            nb, db = _join(n.nb for n in kept), _join(n.db for n in kept)
            num = case(*[(c, n.num if n is not None else N.null()) for c, n in zip(conds, nums)], default=dn.num if dn is not None else N.null())
            den = case(*[(c, n.den if n is not None else N.null()) for c, n in zip(conds, nums)], default=dn.den if dn is not None else N.null())
            return SNum(self, self.p.bind(num), self.p.bind(den), nb, db)
        if isinstance(first, tuple):
            width = len(first)
            parts = []
            for i in range(width):
                parts.append(self._merge(conds, [_at(v, i) for v in values], _at(default, i)))
            return tuple(parts)
        if isinstance(first, list):
            return self._concat(conds, values, default)
        if attrs.has(type(first)):
            cls = type(first)
            out = {}
            for f in attrs.fields(cls):
                if f.name == "py":
                    continue
                out[f.name] = self._merge(conds, [_field(v, f.name) for v in values], _field(default, f.name))
            return cls(**out)
        if isinstance(first, Fraction):
            return self._merge(conds, [self.num(v) if v is not None else None for v in values], self.num(default) if default is not None else None)
        raise TypeError(f"cannot merge {type(first).__name__} in a CASE")

    def _concat(self, conds, values, default):
        """Lists of steps from several branches: all of them, each guarded by its branch."""
        out = []
        earlier = []
        for c, v in zip(conds, values):
            reached = self.all(SBool(self, c), *[self.not_(SBool(self, e)) for e in earlier])
            earlier.append(c)
            out += [Step(s.kind, s.data, self.all(reached, s.when)) for s in (v or [])]
        rest = self.all(*[self.not_(SBool(self, e)) for e in earlier])
        out += [Step(s.kind, s.data, self.all(rest, s.when)) for s in (default or [])]
        return out

    # -- comparisons
    def eq(self, a, b) -> SBool:
        """Equality that treats NULL as a value (as Python's ``==`` treats None)."""
        ca, cb = _const(a), _const(b)
        if ca is not _NO and cb is not _NO:
            return self.flag(ca == cb)
        if isinstance(a, SNum) or isinstance(b, SNum) or isinstance(a, (int, Fraction)) or isinstance(b, (int, Fraction)):
            if a is None or isinstance(a, SNull) or b is None or isinstance(b, SNull):
                other = b if a is None or isinstance(a, SNull) else a
                return SBool(self, N.is_null(self.num(other).num))
            x, y = self.num(a), self.num(b)
            if x.const is not None and y.const is not None:
                return self.flag(x.const == y.const)
            self._width(x.nb + y.db, y.nb + x.db)
            if x.dc is not None and y.dc is not None:
                common = math.lcm(x.dc, y.dc)
                return SBool(self, N.nseq(self.scaled(x, common), self.scaled(y, common)))
            same = N.eq(_mul(x.num, y.den), _mul(y.num, x.den))
            return SBool(self, case((N.or_(N.is_null(x.num), N.is_null(y.num)), N.and_(N.is_null(x.num), N.is_null(y.num))), default=same))
        if isinstance(a, (SBool, bool)) or isinstance(b, (SBool, bool)):
            return SBool(self, N.nseq(self._bool_or_null(a), self._bool_or_null(b)))
        return SBool(self, N.nseq(self._text(a), self._text(b)))

    def _bool_or_null(self, x):
        return exp.null() if x is None or isinstance(x, SNull) else self._bool(x)

    def order(self, op: str, a: SNum, b: SNum) -> SBool:
        if _const(a) is None or _const(b) is None:
            return SBool(self, N.null())
        if a.const is not None and b.const is not None:
            return self.flag({"<": a.const < b.const, "<=": a.const <= b.const, ">": a.const > b.const, ">=": a.const >= b.const}[op])
        self._width(a.nb + b.db, b.nb + a.db)
        if a.dc is not None and b.dc is not None:
            common = math.lcm(a.dc, b.dc)
            left, right = self.scaled(a, common), self.scaled(b, common)
        else:
            left, right = _mul(a.num, b.den), _mul(b.num, a.den)
        cls = {"<": exp.LT, "<=": exp.LTE, ">": exp.GT, ">=": exp.GTE}[op]
        return SBool(self, N.binary(cls, left, right))

    def in_(self, x, words) -> SBool:
        c = _const(x)
        if c is not _NO:
            return self.flag(c in words)
        return SBool(self, N.coalesce(N.isin(self._text(x), *[lit(w) for w in words]), lit(False)))

    def is_null(self, x) -> SBool:
        x = force(x)
        if x is None or isinstance(x, SNull):
            return self.flag(True)
        c = _const(x)
        if c is not _NO and not isinstance(x, SQty):
            return self.flag(c is None)
        if isinstance(x, SNum):
            return SBool(self, N.is_null(x.num)) if x.const is None else self.flag(False)
        if isinstance(x, (SBool, SText)):
            return SBool(self, N.is_null(x.e))
        if isinstance(x, SQty):
            return SBool(self, N.is_null(x.dim.e))
        if isinstance(x, (str, bool, int, Fraction)):
            return self.flag(False)
        if attrs.has(type(x)):  # a Problem: present when it has a status
            return self.is_null(attrs.astuple(x, recurse=False)[0])
        raise TypeError(type(x).__name__)

    def coalesce(self, *xs):
        xs = [x for x in xs if x is not None and not isinstance(x, SNull) and _const(x) is not None]
        if not xs:
            return NULL
        if len(xs) == 1 or _const(xs[0]) is not _NO:
            return xs[0]
        if isinstance(xs[0], SNum):
            present = [(SBool(self, N.not_null(x.num)), x) for x in xs]
            return self.cases(*present, default=NULL)
        if isinstance(xs[0], SBool) or isinstance(xs[0], bool):
            return SBool(self, N.coalesce(*[self._bool(x) for x in xs]))
        return SText(self, N.coalesce(*[self._text(x) for x in xs]))

    # -- numbers
    def _width(self, *digits) -> None:
        for d in digits:
            f = Form.of(d)
            self.widths[f.key()] = f

    def guard_widths(self, name: str) -> None:
        """Make every input number read NULL in a row whose numbers are too long (the column
        ``name``, the width check, defined by ``width_check``): the interpreter scores that row,
        and the query must not overflow its integers computing it anyway."""
        self.guard = name
        self.p.pinned.add(name)

    def guarded(self, e: exp.Expression) -> exp.Expression:
        return e if self.guard is None else case((N.column(self.guard), N.null()), default=e)

    def digits_of(self, digits: exp.Expression, numerator: bool) -> Form:
        """A Form variable for the digits of one input number read (its numerator or denominator)."""
        (self.num_digits if numerator else self.den_digits).append(digits)
        self.digit_vars.append(digits)
        return Form.var(len(self.digit_vars) - 1, numerator)

    def width_check(self):
        """Whether a row's numbers are too long for the query to stay exact (it then goes to the
        interpreter): the widest integers formed, for the row's own digits, against 38 digits."""
        forms = list(self.widths.values())
        frontier = [f for f in forms if not any(g is not f and f.within(g) and g.key() != f.key() for g in forms)]
        if any(not f.n and not f.d and f.c > MAX_DIGITS for f in frontier):
            if self.guard is not None:
                self.p.defs[self.guard] = lit(True)
            return None  # constants alone are too long: no row can be computed exactly
        bound: dict = {}

        def var(v):
            if v not in bound:
                if v in ("N", "D"):
                    es = self.num_digits if v == "N" else self.den_digits
                    e = N.func("greatest", lit(1), *[N.coalesce(x, lit(0)) for x in es]) if es else lit(1)
                else:  # at least one digit (``_below``)
                    e = N.func("greatest", N.coalesce(self.digit_vars[v], lit(1)), lit(1))
                bound[v] = self.p.bind(e)
            return bound[v]

        def linear(pairs, c):
            t = lit(c)
            for v, k in pairs:
                t = N.add(N.mul(lit(k), var(v)) if k != 1 else var(v), t)
            return t

        terms = []
        for f in frontier:
            coarse = linear([(v, k) for v, k in (("N", f.n), ("D", f.d)) if k], f.c)
            if all({v for v, _ in vs} <= {"N", "D"} for vs, _ in f.parts):
                terms.append(coarse)
                continue
            fine = [linear(vs, c) for vs, c in f.parts]
            terms.append(N.func("least", N.func("greatest", *fine) if len(fine) > 1 else fine[0], coarse))
        check = N.gt(N.func("greatest", *terms) if len(terms) > 1 else terms[0], lit(MAX_DIGITS)) if terms else lit(False)
        if self.guard is None:
            return check
        self.p.defs[self.guard] = check
        return N.column(self.guard)

    def arith(self, op: str, a: SNum, b: SNum) -> SNum:
        if _const(a) is None or _const(b) is None:
            return SNum(self, N.null(), N.null(), 1, 1)
        if a.const is not None and b.const is not None and not (op == "/" and b.const == 0):
            return self.num({"+": a.const + b.const, "-": a.const - b.const, "*": a.const * b.const, "/": a.const / b.const if op == "/" else 0}[op])
        if op == "*":
            dc = a.dc * b.dc if a.dc is not None and b.dc is not None else None
            out = SNum(self, _mul(a.num, b.num), big(dc) if dc else _mul(a.den, b.den), a.nb + b.nb, a.db + b.db, dc=dc)
        elif op == "/" and b.const is not None:
            k = b.const
            dc = a.dc * abs(k.numerator) if a.dc is not None else None
            num = _mul(a.num, big(k.denominator)) if k > 0 else N.mul(a.num, big(-k.denominator))
            out = SNum(self, num, big(dc) if dc else _mul(a.den, big(abs(k.numerator))), a.nb + _digits(k.denominator), a.db + _digits(k.numerator), dc=dc)
        elif op == "/":
            sign = N.func("sign", b.num)
            out = SNum(self, _mul(_mul(a.num, b.den), sign), _mul(a.den, N.func("abs", b.num)), a.nb + b.db, a.db + b.nb)
        elif a.dc is not None and b.dc is not None:
            common = math.lcm(a.dc, b.dc)
            left, right = self.scaled(a, common), self.scaled(b, common)
            e = N.add(left, right) if op == "+" else N.sub(left, right)
            nb = (a.nb + _digits(common // a.dc)).join(b.nb + _digits(common // b.dc)) + 1
            out = SNum(self, e, big(common), nb, _digits(common), dc=common)
        else:
            left, right = _mul(a.num, b.den), _mul(b.num, a.den)
            e = N.add(left, right) if op == "+" else N.sub(left, right)
            out = SNum(self, e, _mul(a.den, b.den), (a.nb + b.db).join(b.nb + a.db) + 1, a.db + b.db)
        self._width(out.nb, out.db)
        return self._bind_leaf(out)

    def sum(self, *xs) -> SNum:
        """x1 + x2 + …: the digits grow by the digits of their count, not by one per term."""
        xs = [self.num(x) for x in xs]
        if not xs:
            return self.num(0)
        if any(_const(x) is None for x in xs):
            return SNum(self, N.null(), N.null(), 1, 1)
        if all(x.dc is not None for x in xs):
            common = math.lcm(*[x.dc for x in xs])
            total = None
            for x in xs:
                term = self.scaled(x, common)
                total = term if total is None else N.add(total, term)
            nb = _join(x.nb + _digits(common // x.dc) for x in xs) + _digits(len(xs))
            self._width(nb)
            return self._bind_leaf(SNum(self, total, big(common), nb, _digits(common), dc=common))
        out = xs[0]
        for x in xs[1:]:
            out = out + x
        return out

    def bounded(self, x, bound) -> SNum:
        """x, known to lie within [-bound, bound] (a score capped at its weight): its digits are
        bounded by the constant, whatever the inputs were."""
        x = self.num(x)
        b = _const(bound)
        if x.const is not None or b is _NO or b is None:
            return x
        if x.dc is None:  # |num| ≤ bound × den
            return SNum(self, x.num, x.den, x.db + _digits(math.ceil(abs(b))) + 1, x.db)
        return SNum(self, x.num, x.den, _digits(int(abs(b) * x.dc)) + 1, x.db, dc=x.dc)

    def has_more_decimals(self, x, digits: int) -> SBool:
        """Whether x has more than ``digits`` decimals (rounding it would change it)."""
        x = self.num(x)
        if x.const is not None:
            return self.flag((x.const * 10**digits).denominator != 1)
        self._width(x.nb + digits)
        return SBool(self, N.not_(N.eq(N.mod(N.mul(N.func("abs", x.num), big(10**digits)), x.den), big(0))))

    def min(self, a, b) -> SNum:
        return self.cases((self.order("<=", self.num(a), self.num(b)), a), default=b)

    def max(self, a, b) -> SNum:
        return self.cases((self.order(">=", self.num(a), self.num(b)), a), default=b)

    def round(self, x: SNum, digits: int, mode: str) -> SNum:
        x = self.num(x)
        if _const(x) is None:
            return x
        if x.const is not None:
            from jxdsl.units import round_fraction

            return self.num(round_fraction(x.const, digits, mode))
        scale = big(10**digits)
        mag = N.func("abs", x.num)
        if mode == "截断":
            q = N.idiv(N.mul(mag, scale), x.den)
        elif mode == "进一":  # away from zero: ceil(|num|·10^d / den)
            q = N.idiv(N.sub(N.add(N.mul(mag, scale), x.den), big(1)), x.den)
        else:
            q = N.idiv(N.add(N.mul(N.mul(big(2), mag), scale), x.den), N.mul(big(2), x.den))
        self._width(x.nb + digits + 1, x.db + 1)
        return SNum(self, self.p.bind(N.mul(N.func("sign", x.num), q)), scale, x.nb + digits, digits + 1, dc=10**digits)

    def count_true(self, *conds) -> SNum:
        ones = [case((fn_coalesce(self._bool(c)), big(1)), default=big(0)) for c in conds]
        total = N.fold(N.add, ones) if ones else big(0)
        return SNum(self, total, big(1), _digits(len(conds)), 1, dc=1)


def _const(x):
    """A staged value's Python value when it is a constant, else ``_NO``."""
    if x is None or isinstance(x, SNull):
        return None
    if isinstance(x, (str, bool, Fraction, int)):
        return x
    if isinstance(x, SText):
        return x.const
    if isinstance(x, SBool):
        c = x.const
        return _NO if c is None else c
    if isinstance(x, SNum):
        if x.const is not None:
            return x.const
        return None if isinstance(x.num, exp.Null) else _NO
    if isinstance(x, SQty):
        return x.py if x.py is not _NO else _NO
    return _NO


def expr_of(v) -> exp.Expression:
    """The SQL expression of a staged value (NULL for None; a number's numerator)."""
    if v is None or isinstance(v, SNull):
        return exp.null()
    if isinstance(v, bool):
        return lit(v)
    if isinstance(v, (SBool, SText)):
        return v.e
    if isinstance(v, SNum):
        return v.num
    if isinstance(v, exp.Expression):
        return v
    raise TypeError(type(v).__name__)


def fn_coalesce(e: exp.Expression) -> exp.Expression:
    """A condition that is never NULL (NULL counts as false, as None does in Python)."""
    if isinstance(e, (exp.Boolean, exp.Is, exp.NullSafeEQ, exp.Not)) or (isinstance(e, exp.Column)):
        return e
    if isinstance(e, exp.Coalesce):
        return e
    return N.coalesce(e, lit(False))


def _one(e) -> bool:
    return isinstance(e, exp.Cast) and isinstance(e.this, exp.Literal) and e.this.this == "1"


def _mul(a, b):
    if _one(a):
        return b
    if _one(b):
        return a
    return N.mul(a, b)


def _or_null(x, conv):
    return exp.null() if x is None or isinstance(x, SNull) else conv(x)


def _at(v, i):
    if v is None or isinstance(v, SNull):
        return None
    return v[i]


def _field(v, name):
    if v is None or isinstance(v, SNull):
        return None
    if isinstance(v, SQty) and name != "py" and v.py is None:
        return None  # the NULL quantity
    return getattr(v, name)


def _map(value, f):
    """Apply ``f`` to every staged leaf of a structure (tuples, lists, attrs classes)."""
    if isinstance(value, tuple):
        return tuple(_map(v, f) for v in value)
    if isinstance(value, list):
        return [_map(v, f) for v in value]
    if isinstance(value, Step):
        return value
    if attrs.has(type(value)):
        return type(value)(**{a.name: _map(getattr(value, a.name), f) for a in attrs.fields(type(value))})
    return f(value)
