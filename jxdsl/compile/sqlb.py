"""Small builders for the compiler's queries: sqlglot trees, never SQL text."""
from __future__ import annotations

from sqlglot import exp

from jxdsl.kernel.sqltext import BIG, big, case, concat, fn, is_null, lit, not_null, paren  # noqa: F401


def col(name: str, table: str | None = None) -> exp.Column:
    if name == "*":
        return exp.Column(this=exp.Star(), table=exp.to_identifier(table) if table else None)
    return exp.column(name, table=table)


def agg(name: str, *args, where=None, order=None, distinct: bool = False) -> exp.Expression:
    """An aggregate, with FILTER (WHERE …); ``order`` only for string_agg."""
    if name == "string_agg":
        value, sep = args
        keys = order if isinstance(order, (list, tuple)) else [order]
        this = exp.Order(this=value, expressions=[exp.Ordered(this=k, nulls_first=False) for k in keys]) if order is not None else value
        e = exp.GroupConcat(this=this, separator=sep)
    elif distinct:
        e = fn(name, exp.Distinct(expressions=list(args)))
    else:
        e = fn(name, *args)
    return exp.Filter(this=e, expression=exp.Where(this=where)) if where is not None else e


def row_number(partition: list, order: list) -> exp.Expression:
    return exp.Window(this=exp.RowNumber(), partition_by=partition, order=exp.Order(expressions=order))


def desc(e) -> exp.Ordered:
    return exp.Ordered(this=e, desc=True, nulls_first=False)


def asc(e) -> exp.Ordered:
    return exp.Ordered(this=e, nulls_first=False)


def values(rows: list[tuple], names: list[str], alias: str) -> exp.Expression:
    """A constant relation (VALUES … AS alias(names)); at least one row (a NULL row when empty)."""
    if not rows:
        rows = [tuple(None for _ in names)]
        where_false = True
    else:
        where_false = False
    tuples = [exp.Tuple(expressions=[lit(v) for v in r]) for r in rows]
    v = exp.Values(expressions=tuples, alias=exp.TableAlias(this=exp.to_identifier(alias), columns=[exp.to_identifier(n) for n in names]))
    q = exp.select(*[col(n) for n in names]).from_(v)
    return q.where(lit(False)) if where_false else q


def star() -> exp.Star:
    return exp.Star()


def coalesce(*xs) -> exp.Expression:
    return fn("coalesce", *xs)
