"""The SQL backend: the kernel's staged code builds sqlglot expression trees over a row.

Values are wrappers of sqlglot expressions: ``SNum`` (an exact rational, a pair of BIG integers
with bounds on their digits), ``SBool``, ``SText`` and ``SQty`` (a quantity's fields).  ``b.cases``
becomes CASE; a list of steps returned by several branches is kept whole, each step guarded by the
branch that made it.  ``b.let`` gives a value a column of its own in the next stage of the query,
so a value used many times is computed once.

Exactness: every input number is read as integers of at most ``caps.num``/``caps.den`` digits (a
row with a longer one is marked for exact re-scoring by the interpreter), and every product the
query forms is bounded statically; ``Sql.widest`` is checked against 38 digits by the compiler.
"""
from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import attrs
from sqlglot import exp

from jxdsl.kernel import sqltext as T
from jxdsl.kernel.sqltext import BIG, big, case, lit
from jxdsl.kernel.stage import force
from jxdsl.kernel.values import Step

MAX_DIGITS = 38


@attrs.frozen
class Caps:
    """Digits an input number may have (numerator, denominator) for the query to stay exact."""

    num: int = 18
    den: int = 10


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
    pass


class SText(SVal):
    pass


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

    def __init__(self, b, num, den, nb: int, db: int, const: Fraction | None = None, dc: int | None = None):
        self.b, self.num, self.den, self.nb, self.db, self.const = b, num, den, nb, db, const
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
    """A quantity: dimension, unit as written, exact value (and first day for dates), text, words."""

    dim: Any
    unit: Any
    value: Any
    start: Any
    text: Any
    words: Any

    @property
    def kind(self):
        b = self.dim.b
        return b.cases((b.eq(self.dim, b.text("日期")), b.text("date")), (b.eq(self.dim, b.text("文本")), b.text("text")), default=b.text("num"))


# ---- the program: stages of computed columns ----------------------------------------------------------
class Program:
    """Columns computed in stages over a source relation; a column may read only earlier stages."""

    def __init__(self, source: exp.Expression, base: list[str], prefix: str = "k"):
        self.source = source
        self.base = list(base)
        self.stage_of: dict[str, int] = {c: 0 for c in base}
        self.stages: list[dict[str, exp.Expression]] = []
        self.prefix = prefix
        self.count = 0

    def stage(self, e: exp.Expression) -> int:
        return max((self.stage_of.get(c.name, 0) for c in e.find_all(exp.Column)), default=0)

    def bind(self, e: exp.Expression) -> exp.Column:
        if isinstance(e, (exp.Column, exp.Literal, exp.Null, exp.Boolean)) or (isinstance(e, exp.Cast) and isinstance(e.this, exp.Literal)):
            return e
        at = self.stage(e) + 1
        while len(self.stages) < at:
            self.stages.append({})
        self.count += 1
        name = f"{self.prefix}{self.count}"
        self.stages[at - 1][name] = e
        self.stage_of[name] = at
        return exp.column(name)

    def ctes(self, name: str) -> list[tuple[str, exp.Expression]]:
        """(name, query) of every stage; the last is ``name``."""
        out = []
        prev = self.source
        for n, cols in enumerate(self.stages):
            alias = name if n == len(self.stages) - 1 else f"{name}_{n}"
            select = exp.select(exp.Star(), *[e.as_(c) for c, e in cols.items()]).from_(prev)
            out.append((alias, select))
            prev = exp.to_table(alias)
        if not out:
            out.append((name, exp.select(exp.Star()).from_(self.source)))
        return out


class Sql:
    """The staged backend over one program's rows."""

    name = "sql"
    null = NULL

    def __init__(self, program: Program, caps: Caps = Caps()):
        self.p = program
        self.caps = caps
        self.widest = 0  # digits of the widest integer the query forms
        self.overflow: list[exp.Expression] = []  # inputs too long to read exactly (→ interpreter)

    # -- constants
    def num(self, value) -> SNum:
        if isinstance(value, SNum):
            return value
        f = value if isinstance(value, Fraction) else Fraction(value)
        return SNum(self, big(f.numerator), big(f.denominator), _digits(f.numerator), _digits(f.denominator), f)

    def scaled(self, x: SNum, to: int) -> exp.Expression:
        """x's numerator over the constant denominator ``to`` (a multiple of x.dc)."""
        k = to // x.dc
        return x.num if k == 1 else x.num * big(k)

    def text(self, value: str) -> SText:
        return SText(self, lit(value))

    def flag(self, value: bool) -> SBool:
        return SBool(self, lit(bool(value)))

    def column_text(self, name: str) -> SText:
        return SText(self, exp.column(name))

    # -- coercion
    def _bool(self, x) -> exp.Expression:
        x = force(x)
        if isinstance(x, bool):
            return lit(x)
        if isinstance(x, SBool):
            return x.e
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
        return SBool(self, exp.and_(*parts) if len(parts) > 1 else parts[0])

    def any(self, *conds) -> SBool:
        parts = [self._bool(c) for c in conds]
        if any(p == lit(True) for p in parts):
            return self.flag(True)
        parts = [fn_coalesce(p) for p in parts if p != lit(False)]
        if not parts:
            return self.flag(False)
        return SBool(self, exp.or_(*parts) if len(parts) > 1 else parts[0])

    def not_(self, cond) -> SBool:
        e = self._bool(cond)
        if e == lit(True):
            return self.flag(False)
        if e == lit(False):
            return self.flag(True)
        return SBool(self, exp.not_(fn_coalesce(e)))

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
            return SBool(self, case(*[(c, self._bool(v) if v is not None and not isinstance(v, SNull) else exp.null()) for c, v in zip(conds, values)], default=_or_null(default, self._bool)))
        if isinstance(first, (str, SText)):
            return SText(self, case(*[(c, self._text(v)) for c, v in zip(conds, values)], default=self._text(default)))
        if isinstance(first, (SNum, int, Fraction)):
            nums = [self.num(v) if v is not None and not isinstance(v, SNull) else None for v in values]
            dn = self.num(default) if default is not None and not isinstance(default, SNull) else None
            kept = [n for n in [*nums, dn] if n is not None]
            if all(n.dc is not None for n in kept):
                common = math.lcm(*[n.dc for n in kept])
                nb = max(n.nb + _digits(common // n.dc) for n in kept)
                num = case(*[(c, self.scaled(n, common) if n else exp.null()) for c, n in zip(conds, nums)], default=self.scaled(dn, common) if dn else exp.null())
                return SNum(self, num, big(common), nb, _digits(common), dc=common)
            nb, db = max(n.nb for n in kept), max(n.db for n in kept)
            num = case(*[(c, n.num if n else exp.null()) for c, n in zip(conds, nums)], default=dn.num if dn else exp.null())
            den = case(*[(c, n.den if n else exp.null()) for c, n in zip(conds, nums)], default=dn.den if dn else exp.null())
            return SNum(self, num, den, nb, db)
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
        if isinstance(a, SNum) or isinstance(b, SNum) or isinstance(a, (int, Fraction)) or isinstance(b, (int, Fraction)):
            if a is None or isinstance(a, SNull) or b is None or isinstance(b, SNull):
                other = b if a is None or isinstance(a, SNull) else a
                return SBool(self, T.is_null(self.num(other).num))
            x, y = self.num(a), self.num(b)
            if x.const is not None and y.const is not None:
                return self.flag(x.const == y.const)
            self._width(x.nb + y.db, y.nb + x.db)
            same = (x.num * y.den).eq(y.num * x.den)
            return SBool(self, case((exp.or_(T.is_null(x.num), T.is_null(y.num)), exp.and_(T.is_null(x.num), T.is_null(y.num))), default=same))
        if isinstance(a, (SBool, bool)) or isinstance(b, (SBool, bool)):
            return SBool(self, exp.NullSafeEQ(this=self._bool_or_null(a), expression=self._bool_or_null(b)))
        return SBool(self, exp.NullSafeEQ(this=self._text(a), expression=self._text(b)))

    def _bool_or_null(self, x):
        return exp.null() if x is None or isinstance(x, SNull) else self._bool(x)

    def order(self, op: str, a: SNum, b: SNum) -> SBool:
        if a.const is not None and b.const is not None:
            return self.flag({"<": a.const < b.const, "<=": a.const <= b.const, ">": a.const > b.const, ">=": a.const >= b.const}[op])
        self._width(a.nb + b.db, b.nb + a.db)
        left, right = a.num * b.den, b.num * a.den
        cls = {"<": exp.LT, "<=": exp.LTE, ">": exp.GT, ">=": exp.GTE}[op]
        return SBool(self, T.binary(cls, left, right))

    def in_(self, x, words) -> SBool:
        return SBool(self, exp.func("coalesce", self._text(x).isin(*[lit(w) for w in words]), lit(False)))

    def is_null(self, x) -> SBool:
        x = force(x)
        if x is None or isinstance(x, SNull):
            return self.flag(True)
        if isinstance(x, SNum):
            return SBool(self, T.is_null(x.num)) if x.const is None else self.flag(False)
        if isinstance(x, (SBool, SText)):
            return SBool(self, T.is_null(x.e))
        if isinstance(x, SQty):
            return SBool(self, T.is_null(x.dim.e))
        if isinstance(x, (str, bool, int, Fraction)):
            return self.flag(False)
        if attrs.has(type(x)):  # a Problem: present when it has a status
            return self.is_null(attrs.astuple(x, recurse=False)[0])
        raise TypeError(type(x).__name__)

    def coalesce(self, *xs):
        xs = [x for x in xs if x is not None and not isinstance(x, SNull)]
        if not xs:
            return NULL
        if len(xs) == 1:
            return xs[0]
        if isinstance(xs[0], SNum):
            present = [(SBool(self, T.not_null(x.num)), x) for x in xs]
            return self.cases(*present, default=NULL)
        if isinstance(xs[0], SBool) or isinstance(xs[0], bool):
            return SBool(self, exp.func("coalesce", *[self._bool(x) for x in xs]))
        return SText(self, exp.func("coalesce", *[self._text(x) for x in xs]))

    # -- numbers
    def _width(self, *digits: int) -> None:
        self.widest = max(self.widest, *digits)

    def arith(self, op: str, a: SNum, b: SNum) -> SNum:
        if a.const is not None and b.const is not None and not (op == "/" and b.const == 0):
            return self.num({"+": a.const + b.const, "-": a.const - b.const, "*": a.const * b.const, "/": a.const / b.const if op == "/" else 0}[op])
        if op == "*":
            dc = a.dc * b.dc if a.dc is not None and b.dc is not None else None
            out = SNum(self, _mul(a.num, b.num), big(dc) if dc else _mul(a.den, b.den), a.nb + b.nb, a.db + b.db, dc=dc)
        elif op == "/" and b.const is not None:
            k = b.const
            dc = a.dc * abs(k.numerator) if a.dc is not None else None
            num = _mul(a.num, big(k.denominator * (1 if k > 0 else -1)))
            out = SNum(self, num, big(dc) if dc else _mul(a.den, big(abs(k.numerator))), a.nb + _digits(k.denominator), a.db + _digits(k.numerator), dc=dc)
        elif op == "/":
            sign = exp.func("sign", b.num)
            out = SNum(self, _mul(_mul(a.num, b.den), sign), _mul(a.den, exp.func("abs", b.num)), a.nb + b.db, a.db + b.nb)
        elif a.dc is not None and b.dc is not None:
            common = math.lcm(a.dc, b.dc)
            left, right = self.scaled(a, common), self.scaled(b, common)
            e = (left + right) if op == "+" else (left - right)
            nb = max(a.nb + _digits(common // a.dc), b.nb + _digits(common // b.dc)) + 1
            out = SNum(self, e, big(common), nb, _digits(common), dc=common)
        else:
            left, right = _mul(a.num, b.den), _mul(b.num, a.den)
            e = (left + right) if op == "+" else (left - right)
            out = SNum(self, e, _mul(a.den, b.den), max(a.nb + b.db, b.nb + a.db) + 1, a.db + b.db)
        self._width(out.nb, out.db)
        if _size(out.num) + _size(out.den) > 40:
            out = self._bind_leaf(out)
        return out

    def min(self, a, b) -> SNum:
        return self.cases((self.order("<=", self.num(a), self.num(b)), a), default=b)

    def max(self, a, b) -> SNum:
        return self.cases((self.order(">=", self.num(a), self.num(b)), a), default=b)

    def round(self, x: SNum, digits: int, mode: str) -> SNum:
        x = self.num(x)
        if x.const is not None:
            from jxdsl.units import round_fraction

            return self.num(round_fraction(x.const, digits, mode))
        scale = big(10**digits)
        mag = exp.func("abs", x.num)
        if mode == "截断":
            q = T.idiv(mag * scale, x.den)
        else:
            q = T.idiv(big(2) * mag * scale + x.den, big(2) * x.den)
        self._width(x.nb + digits + 1, x.db + 1)
        return SNum(self, exp.func("sign", x.num) * q, scale, x.nb + digits, digits + 1, dc=10**digits)

    def count_true(self, *conds) -> SNum:
        total = None
        for c in conds:
            one = case((fn_coalesce(self._bool(c)), big(1)), default=big(0))
            total = one if total is None else total + one
        return SNum(self, total if total is not None else big(0), big(1), _digits(len(conds)), 1, dc=1)


def fn_coalesce(e: exp.Expression) -> exp.Expression:
    """A condition that is never NULL (NULL counts as false, as None does in Python)."""
    if isinstance(e, (exp.Boolean, exp.Is, exp.NullSafeEQ, exp.Not)) or (isinstance(e, exp.Column)):
        return e
    if isinstance(e, exp.Coalesce):
        return e
    return exp.func("coalesce", e, lit(False))


def _one(e) -> bool:
    return isinstance(e, exp.Cast) and isinstance(e.this, exp.Literal) and e.this.this == "1"


def _mul(a, b):
    if _one(a):
        return b
    if _one(b):
        return a
    return a * b


def _size(e: exp.Expression) -> int:
    n = 0
    for _ in e.walk():
        n += 1
        if n > 64:
            break
    return n


def _or_null(x, conv):
    return exp.null() if x is None or isinstance(x, SNull) else conv(x)


def _at(v, i):
    if v is None or isinstance(v, SNull):
        return None
    return v[i]


def _field(v, name):
    if v is None or isinstance(v, SNull):
        return None
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
