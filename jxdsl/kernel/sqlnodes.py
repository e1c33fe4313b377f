"""sqlglot nodes built without copies, each knowing the query stage its columns come from.

The staged kernel shares sub-expressions between many parents; sqlglot's builders copy their
arguments, which would make building a rulebook's query quadratic.  These constructors never
copy, and record in ``meta["stage"]`` the latest stage any column below them was computed in,
so that ``Program.bind`` places a new column without walking its expression.
"""
from __future__ import annotations

from sqlglot import exp

BIG = exp.DataType.build("DECIMAL(38,0)")


def stage_of(e) -> int:
    return e.meta.get("stage", 0) if isinstance(e, exp.Expression) and e._meta else 0


def _mark(e: exp.Expression, *children) -> exp.Expression:
    s = max((stage_of(c) for c in children), default=0)
    if s:
        e.meta["stage"] = s
    return e


def column(name: str, stage: int = 0, table: str | None = None) -> exp.Column:
    c = exp.Column(this=exp.to_identifier(name), table=exp.to_identifier(table) if table else None)
    if stage:
        c.meta["stage"] = stage
    return c


def lit(value) -> exp.Expression:
    if value is None:
        return exp.Null()
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, int):
        return exp.Literal.number(value)
    return exp.Literal.string(str(value))


def null() -> exp.Null:
    return exp.Null()


def paren(e: exp.Expression) -> exp.Expression:
    """Parentheses around an operation used as an operand (sqlglot prints the tree as built)."""
    if isinstance(e, (exp.Binary, exp.Not, exp.Neg)) and not isinstance(e, exp.Dot):
        return _mark(exp.Paren(this=e), e)
    return e


def binary(cls, a, b) -> exp.Expression:
    return _mark(cls(this=paren(a), expression=paren(b)), a, b)


def add(a, b):
    return binary(exp.Add, a, b)


def sub(a, b):
    return binary(exp.Sub, a, b)


def mul(a, b):
    return binary(exp.Mul, a, b)


def idiv(a, b):
    return binary(exp.IntDiv, a, b)


def mod(a, b):
    return binary(exp.Mod, a, b)


def eq(a, b):
    return binary(exp.EQ, a, b)


def nseq(a, b):
    """a IS NOT DISTINCT FROM b: equality that holds for two NULLs."""
    return binary(exp.NullSafeEQ, a, b)


def lt(a, b):
    return binary(exp.LT, a, b)


def le(a, b):
    return binary(exp.LTE, a, b)


def gt(a, b):
    return binary(exp.GT, a, b)


def ge(a, b):
    return binary(exp.GTE, a, b)


def and_(*xs):
    out = xs[0]
    for x in xs[1:]:
        out = binary(exp.And, out, x)
    return out


def or_(*xs):
    out = xs[0]
    for x in xs[1:]:
        out = binary(exp.Or, out, x)
    return out


def not_(x):
    return _mark(exp.Not(this=paren(x)), x)


def is_null(x):
    return _mark(exp.Is(this=paren(x), expression=exp.Null()), x)


def not_null(x):
    return not_(is_null(x))


def isin(x, *values):
    return _mark(exp.In(this=paren(x), expressions=list(values)), x, *values)


def case(*whens, default=None):
    ifs = [_mark(exp.If(this=c, true=v), c, v) for c, v in whens]
    d = default if default is not None else exp.Null()
    return _mark(exp.Case(ifs=ifs, default=d), *ifs, d)


def func(name: str, *args) -> exp.Expression:
    return _mark(exp.func(name, *args, copy=False, dialect="duckdb"), *args)


def coalesce(*args) -> exp.Expression:
    return _mark(exp.Coalesce(this=args[0], expressions=list(args[1:])), *args)


def cast(e, to) -> exp.Expression:
    dt = to if isinstance(to, exp.DataType) else exp.DataType.build(to)
    return _mark(exp.Cast(this=e, to=dt), e)


def big(value) -> exp.Expression:
    """An integer as BIG (so that no product overflows a small type)."""
    if isinstance(value, int):
        return exp.Cast(this=exp.Literal.string(str(value)), to=BIG)
    return cast(value, BIG)


def concat(*parts) -> exp.Expression:
    """NULL-propagating concatenation (``||``)."""
    out = parts[0]
    for p in parts[1:]:
        out = _mark(exp.DPipe(this=out, expression=paren(p), safe=True), out, p)
    return out


def extract(e, pattern: str, group: int) -> exp.Expression:
    return _mark(exp.RegexpExtract(this=e, expression=lit(pattern), group=lit(group)), e)


def matches(e, pattern: str) -> exp.Expression:
    return func("regexp_matches", e, lit(pattern))


def text_of(e) -> exp.Expression:
    return cast(e, "VARCHAR")


def length(e) -> exp.Expression:
    return _mark(exp.Length(this=e), e)


def substring(e, start: int, count: int | None = None) -> exp.Expression:
    return _mark(exp.Substring(this=e, start=lit(start), length=lit(count) if count is not None else None), e)


def substring_expr(e, start, count) -> exp.Expression:
    return _mark(exp.Substring(this=e, start=start, length=count), e, start, count)


def trim(e, chars: str, position: str) -> exp.Expression:
    return _mark(exp.Trim(this=e, expression=lit(chars), position=position), e)
