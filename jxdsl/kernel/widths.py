"""Bounds on the digits of the integers an SQL query forms (``Form``), so that a row is computed
in SQL only when every integer provably fits in 38 digits (``Sql.width_check``); the others are
scored by the interpreter.  ``tests/test_widths.py`` tests the bounds and both paths."""
from __future__ import annotations


class Form:
    """A bound on the digits of an integer the query forms, in two ways, both true for every row:

    - ``parts``: the largest of a few sums Σ kᵢ·Vᵢ + c over the digits Vᵢ of each input number
      read (an int i, ``Sql.digits_of``): a big amount's numerator is never counted with a
      percentage's denominator it does not meet, and ``a·d − c·b`` stays max(A+D, C+B), not the
      sum of all four;
    - ``n``/``d``/``c``: n·N + d·D + c over the most digits of any input numerator (N) and
      denominator (D), the fallback when the sums are merged (at most ``PARTS`` are kept).

    The row's bound is the smaller of the two."""

    __slots__ = ("parts", "c", "n", "d")
    PARTS = 4

    def __init__(self, parts=((), 0), c: int = 0, n: int = 0, d: int = 0, *, pieces: tuple | None = None):
        self.parts = pieces if pieces is not None else (parts,)
        self.c, self.n, self.d = c, n, d

    @staticmethod
    def of(x) -> "Form":
        if isinstance(x, Form):
            return x
        return Form(((), int(x)), int(x))

    @staticmethod
    def var(v, numerator: bool) -> "Form":
        return Form((((v, 1),), 0), 0, 1 if numerator else 0, 0 if numerator else 1)

    def __add__(self, other) -> "Form":
        o = Form.of(other)
        pieces = [(_sum(a, b), ca + cb) for a, ca in self.parts for b, cb in o.parts]
        return Form(c=self.c + o.c, n=self.n + o.n, d=self.d + o.d, pieces=_prune(pieces))

    __radd__ = __add__

    def join(self, other) -> "Form":
        """An upper bound of both."""
        o = Form.of(other)
        return Form(c=max(self.c, o.c), n=max(self.n, o.n), d=max(self.d, o.d), pieces=_prune([*self.parts, *o.parts]))

    def within(self, other: "Form") -> bool:
        """Whether ``other`` bounds this form for every row, in both ways."""
        return (other.c >= self.c and other.n >= self.n and other.d >= self.d
                and all(any(_below(p, q) for q in other.parts) for p in self.parts))

    def key(self) -> tuple:
        return self.parts, self.c, self.n, self.d


def _sum(a: tuple, b: tuple) -> tuple:
    k = dict(a)
    for v, m in b:
        k[v] = k.get(v, 0) + m
    return tuple(sorted(k.items(), key=lambda kv: str(kv[0])))


def _below(p, q) -> bool:
    """Whether the sum p is at most the sum q for every row: a number has at least one digit
    (``width_check`` counts a missing one as 1), so q − p ≥ Σ(q's extra coefficients) + q.c − p.c."""
    qk, pk = dict(q[0]), dict(p[0])
    if any(qk.get(v, 0) < m for v, m in pk.items()):
        return False
    return sum(m - pk.get(v, 0) for v, m in qk.items()) + q[1] - p[1] >= 0


def _prune(pieces: list) -> tuple:
    """The sums not bounded by another, merged into one (their largest coefficients) beyond PARTS."""
    kept: list = []
    for p in sorted(set(pieces), key=lambda p: (-sum(m for _, m in p[0]), -p[1], str(p[0]))):
        if not any(_below(p, q) for q in kept):
            kept.append(p)
    if len(kept) > Form.PARTS:
        k: dict = {}
        for vs, _ in kept:
            for v, m in vs:
                k[v] = max(k.get(v, 0), m)
        kept = [(tuple(sorted(k.items(), key=lambda kv: str(kv[0]))), max(c for _, c in kept))]
    return tuple(sorted(kept, key=str))


NUM_DIGITS, DEN_DIGITS = Form.var("N", True), Form.var("D", False)


def _join(forms) -> Form:
    out = Form.of(0)
    for f in forms:
        out = out.join(f)
    return out
