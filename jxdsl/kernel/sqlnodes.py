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


# Peephole simplifications below keep SQL's NULL semantics exactly (x + 0 is x, NULL too; a CASE
# whose branches all give x is x); the kernel writes rules generally and leaves these to the builders.
def int_value(e) -> int | None:
    """The integer a literal (or a literal cast to BIG) stands for, else None."""
    if isinstance(e, exp.Cast) and e.to is BIG:
        e = e.this
    if isinstance(e, exp.Literal):
        text = e.this
        if text.lstrip("-").isdigit():
            return int(text)
    return None


def bool_value(e) -> bool | None:
    return e.this if isinstance(e, exp.Boolean) else None


def is_constant(e) -> bool:
    return isinstance(e, (exp.Literal, exp.Boolean)) or int_value(e) is not None


def _fold(op, a, b):
    x, y = int_value(a), int_value(b)
    if x is None or y is None:
        return None
    return big(op(x, y))


def add(a, b):
    folded = _fold(lambda x, y: x + y, a, b)
    if folded is not None:
        return folded
    if int_value(b) == 0:
        return a
    if int_value(a) == 0:
        return b
    return binary(exp.Add, a, b)


def sub(a, b):
    folded = _fold(lambda x, y: x - y, a, b)
    if folded is not None:
        return folded
    return a if int_value(b) == 0 else binary(exp.Sub, a, b)


def mul(a, b):
    folded = _fold(lambda x, y: x * y, a, b)
    if folded is not None:
        return folded
    if int_value(b) == 1:
        return a
    if int_value(a) == 1:
        return b
    return binary(exp.Mul, a, b)


def idiv(a, b):
    return a if int_value(b) == 1 else binary(exp.IntDiv, a, b)


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


def _logic(cls, absorbing: bool, xs):
    kept = []
    for x in xs:
        v = bool_value(x)
        if v is absorbing:
            return exp.Boolean(this=absorbing)
        if v is None:
            kept.append(x)
    if not kept:
        return exp.Boolean(this=not absorbing)
    return fold(lambda a, b: binary(cls, a, b), kept)


FOLD_FLAT = 16  # terms chained left to right; longer lists are split in halves


def fold(combine, xs: list):
    """x1 ∘ x2 ∘ … : left to right for a few terms, as a balanced tree for many, so the SQL text
    of a long list (the facts behind a chain of derived values) is log-deep, not list-deep."""
    if len(xs) <= FOLD_FLAT:
        out = xs[0]
        for x in xs[1:]:
            out = combine(out, x)
        return out
    half = len(xs) // 2
    return combine(fold(combine, xs[:half]), fold(combine, xs[half:]))


def and_(*xs):
    return _logic(exp.And, False, xs)


def or_(*xs):
    return _logic(exp.Or, True, xs)


def not_(x):
    v = bool_value(x)
    if v is not None:
        return exp.Boolean(this=not v)
    if isinstance(x, exp.Not):
        inner = x.this
        return inner.this if isinstance(inner, exp.Paren) else inner
    return _mark(exp.Not(this=paren(x)), x)


def is_null(x):
    if isinstance(x, exp.Null):
        return exp.Boolean(this=True)
    if is_constant(x):
        return exp.Boolean(this=False)
    return _mark(exp.Is(this=paren(x), expression=exp.Null()), x)


def not_null(x):
    return not_(is_null(x))


def isin(x, *values):
    return _mark(exp.In(this=paren(x), expressions=list(values)), x, *values)


def case(*whens, default=None):
    d = default if default is not None else exp.Null()
    kept = []
    for c, v in whens:
        test = bool_value(c)
        if test is False or isinstance(c, exp.Null):
            continue
        if test is True:
            d = v
            break
        kept.append((c, v))
    while kept and same(kept[-1][1], d):  # a last branch that gives the default is the default
        kept.pop()
    if not kept:
        return d
    ifs = [_mark(exp.If(this=c, true=v), c, v) for c, v in kept]
    return _mark(exp.Case(ifs=ifs, default=d), *ifs, d)


def same(a, b) -> bool:
    """Whether two trees are the same expression (exact: sqlglot's own equality folds case)."""
    return a is b or key(a) == key(b)


def key(e, memo: dict | None = None) -> tuple:
    """A structural key of a tree, exact (strings keep their case)."""
    memo = {} if memo is None else memo
    if not isinstance(e, exp.Expression):
        return (type(e).__name__, tuple(key(x, memo) for x in e)) if isinstance(e, list) else (type(e).__name__, e)
    got = memo.get(id(e))
    if got is None:
        got = memo[id(e)] = (e.key, tuple((k, key(v, memo)) for k, v in sorted(e.args.items()) if v is not None))
    return got


def func(name: str, *args) -> exp.Expression:
    return _mark(exp.func(name, *args, copy=False, dialect="duckdb"), *args)


def coalesce(*args) -> exp.Expression:
    if is_constant(args[0]) or len(args) == 1:
        return args[0]
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
    return fold(lambda out, p: _mark(exp.DPipe(this=out, expression=paren(p), safe=True), out, p), list(parts))


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
