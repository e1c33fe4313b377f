"""The staged backend protocol, and its exact Python backend.

Every rule kind is written once, as a function of a backend ``b`` and of staged values.  The
interpreter passes ``PY`` (values are Python objects: ``Fraction``, ``str``, ``bool``,
``units.Quantity`` or ``None`` for absent); the SQL engines pass ``kernel.sql.Sql`` (values are
sqlglot expressions over a project's row).  A rule therefore means the same thing in every engine,
and a rule kind is added in one place.

The rules for writing staged code:

- no Python ``if``/``and``/``or``/``not`` on staged values: use ``b.cases``, ``b.all``, ``b.any``,
  ``b.not_``; a branch or condition that must not be evaluated unless the ones before it failed is
  passed as a function (a thunk), which ``PY`` calls lazily;
- ``b.let(x)`` marks a value used several times (SQL computes it once);
- numbers are exact rationals; text is built with ``b.concat``/``b.join`` and the formatting
  primitives ``b.plain``, ``b.percent``, ``b.show``.

``PY`` crashes on ``None`` where SQL would quietly compute NULL: the tests therefore run the same
inputs through both, so a missing guard shows up as an error, not as a silent difference.
"""
from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from typing import Any

from jxdsl.units import (
    DATE,
    TEXT,
    Quantity,
    count_of,
    describe_dim,
    normalize,
    number_problem,
    parse_quantity,
    percent,
    plain,
    round_fraction,
    split_cmp,
    target_number,
)


def force(x):
    """A thunk's value, or the value itself."""
    return x() if callable(x) else x


MAX_VALUE_DIGITS = 1000  # digits of a computed value's numerator and denominator together
MAX_VALUE_BITS = 3322 * MAX_VALUE_DIGITS // 1000


class Py:
    """Exact evaluation in Python: the interpreter's backend."""

    name = "python"
    null = None

    # -- constants
    @staticmethod
    def num(value) -> Fraction:
        return value if isinstance(value, Fraction) else Fraction(value)

    @staticmethod
    def text(value: str) -> str:
        return value

    @staticmethod
    def flag(value: bool) -> bool:
        return bool(value)

    # -- control
    @staticmethod
    def cases(*branches: tuple[Any, Any], default: Any = None) -> Any:
        """The value of the first branch whose condition holds (conditions tried in order)."""
        for cond, value in branches:
            if force(cond):
                return force(value)
        return force(default)

    @staticmethod
    def all(*conds) -> bool:
        return all(force(c) for c in conds)

    @staticmethod
    def any(*conds) -> bool:
        return any(force(c) for c in conds)

    @staticmethod
    def not_(cond) -> bool:
        return not cond

    @staticmethod
    def let(value):
        return value

    @staticmethod
    def unless(bad, value):
        """NULL when ``bad`` holds, else the value (a thunk PY calls only then)."""
        return None if force(bad) else force(value)

    @staticmethod
    def coalesce(*xs):
        return next((x for x in xs if x is not None), None)

    @staticmethod
    def problems(*checks):
        """The first problem that is there (checks are problems or thunks, tried in order)."""
        for c in checks:
            p = force(c)
            if p is not None:
                return p
        return None

    @staticmethod
    def outcome(problem, then):
        """An outcome with this problem, or ``then()`` when there is none."""
        from jxdsl.kernel.rules import Outcome

        return Outcome(problem) if problem is not None else then()

    # -- comparisons
    @staticmethod
    def eq(a, b) -> bool:
        return a == b

    @staticmethod
    def in_(x, words) -> bool:
        return x in words

    @staticmethod
    def count_true(*conds) -> Fraction:
        return Fraction(sum(1 for c in conds if force(c)))

    @staticmethod
    def is_null(x) -> bool:
        return x is None

    @staticmethod
    def sum(*xs) -> Fraction:
        return sum(xs, Fraction(0))

    @staticmethod
    def bounded(x, bound):
        return x

    @staticmethod
    def has_more_decimals(x: Fraction, digits: int) -> bool:
        return (x * 10**digits).denominator != 1

    @staticmethod
    def too_big(x: Fraction) -> bool:
        """An exact value too long to be a score's input (a squaring chain of derived values)."""
        return x.numerator.bit_length() + x.denominator.bit_length() > MAX_VALUE_BITS

    @staticmethod
    def min(a: Fraction, b: Fraction) -> Fraction:
        return min(a, b)

    @staticmethod
    def max(a: Fraction, b: Fraction) -> Fraction:
        return max(a, b)

    @staticmethod
    def round(x: Fraction, digits: int, mode: str) -> Fraction:
        return round_fraction(x, digits, mode)

    @staticmethod
    def compare(value: Quantity, op: str, target: Quantity) -> bool:
        """value op target; dates compare as periods (≤2021年12月: by the end of that month)."""
        if value.dim == DATE:
            vs, ve, ts, te = value.start, value.value, target.start, target.value
            if op == ">=":
                return vs >= ts
            if op == ">":
                return vs > te
            if op == "<=":
                return ve <= te
            if op == "<":
                return ve < ts
            return ts <= vs and ve <= te
        if value.dim == TEXT:
            return op == "=" and normalize(value.words or "") == normalize(target.words or "")
        v, t = value.value, target.value
        if op == ">=":
            return v >= t
        if op == "<=":
            return v <= t
        if op == ">":
            return v > t
        if op == "<":
            return v < t
        return v == t

    # -- text
    @staticmethod
    def concat(*parts: str) -> str:
        return "".join(parts)

    @staticmethod
    def join(sep: str, parts) -> str:
        """The parts that are not NULL, joined (empty when none is left)."""
        return sep.join(p for p in parts if p is not None)

    @staticmethod
    def plain(x: Fraction, digits: int) -> str:
        return plain(x, digits)

    @staticmethod
    def percent(x: Fraction, digits: int) -> str:
        return percent(x, digits)

    @staticmethod
    def show(q: Quantity, digits: int) -> str:
        from jxdsl.formulas import show

        return show(q, digits)

    @staticmethod
    def contains(text: str | None, part: str | None) -> bool:
        """Whether ``part`` occurs in ``text`` (NULL in either: no)."""
        return text is not None and part is not None and part in text

    @staticmethod
    def int_text(n) -> str:
        return str(int(n))

    @staticmethod
    def strip(text: str) -> str:
        return text.strip()

    @staticmethod
    def normalize(text: str) -> str:
        return normalize(text).strip()

    @staticmethod
    def describe_dim(dim: str) -> str:
        return describe_dim(dim)

    @staticmethod
    def dims_text(dims) -> str:
        return "、".join(describe_dim(d) for d in sorted(set(dims)))

    # -- quantities
    null_qty = None

    @staticmethod
    def parse(text: str | None) -> Quantity | None:
        return None if text is None else parse_quantity(text)

    @staticmethod
    def number_problem(text: str | None) -> str | None:
        return None if text is None else number_problem(text)

    @staticmethod
    def split_cmp(text: str | None) -> tuple[str | None, str | None]:
        return (None, None) if text is None else split_cmp(text)

    @staticmethod
    def target_number(body: str) -> Quantity | None:
        return target_number(body)

    @staticmethod
    def count(text: str | None) -> Fraction | None:
        return count_of(text)

    @staticmethod
    def const_qty(c) -> Quantity:
        return Quantity(c.value, c.dim, c.unit, c.text, c.start)

    @staticmethod
    def qty(value: Fraction, dim: str, unit: str, text: str) -> Quantity:
        return Quantity(value, dim, unit, text)

    # -- lists (record fields written as lists)
    @staticmethod
    def length(xs) -> int:
        return len(xs)


PY = Py()

Thunk = Callable[[], Any]
