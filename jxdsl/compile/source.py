"""The row a program reads: its base relation, joined to the facts, records and target tables it reads.

Facts (``jx_factl``: one row per project and fact name), records (``jx_recl``: per project and
target) and target-table aggregates (``jx_tables0``: per project and table) stay long.  A program
names what it reads as columns (``f{i}_…``, ``r{t}_…``, ``t{k}_…``, see ``scope.py``); the source
gets one LEFT JOIN per fact, record or table actually read and selects only those columns, so a
rulebook with sixty indicators neither pivots sixty-wide relations nor carries unread columns.
"""
from __future__ import annotations

import re
from collections.abc import Callable

from sqlglot import exp

from jxdsl.compile.plan import Plan
from jxdsl.compile.records import record_feature
from jxdsl.compile.sqlb import coalesce, col, lit

_KEYED = re.compile(r"^([frt])(\d+)_(.+)$")


def fact_feature(alias: str, suffix: str) -> exp.Expression:
    """A fact's column: ``v`` its text (when given once), ``n`` times given, ``l`` first line,
    ``v_q_…`` the lexicon's reading of the text."""
    if suffix == "n":
        return coalesce(col("n", alias), lit(0))
    if suffix.startswith("v_"):
        return col(suffix[2:], alias)
    return col(suffix, alias)


def table_feature(alias: str, suffix: str) -> exp.Expression:
    """A 来自目标表 indicator's aggregate of its rows (``rows._aggregates``); ``p``: has rows."""
    if suffix == "p":
        return exp.not_(exp.Is(this=col("tk", alias), expression=exp.null()))
    return col("tline" if suffix == "l" else suffix, alias)


def keyed_source(plan: Plan, base: exp.Select, on: exp.Expression, base_columns: list[str]) -> Callable[[set[str]], exp.Expression]:
    """A source builder for ``Program``: ``base`` (selecting ``base_columns``) joined, for each
    keyed column read, to its long relation on the project id ``on``."""

    def build(read: set[str]) -> exp.Expression:
        q = base.copy()
        joined: set[str] = set()
        extra = []
        for name in sorted(read - set(base_columns)):
            m = _KEYED.match(name)
            if m is None:
                continue
            kind, key, suffix = m.group(1), int(m.group(2)), m.group(3)
            alias = f"{kind}{key}"
            if alias not in joined:
                joined.add(alias)
                q = q.join(exp.alias_(exp.to_table(_RELATION[kind]), alias), on=exp.and_(col("pid", alias).eq(on.copy()), _match(plan, kind, key, alias)), join_type="left", copy=False)
            feature = {"f": fact_feature, "r": record_feature, "t": table_feature}[kind](alias, suffix)
            extra.append(exp.alias_(feature, name))
        return q.select(*extra, copy=False).subquery("src")

    return build


_RELATION = {"f": "jx_factl", "r": "jx_recl", "t": "jx_tables0"}


def _match(plan: Plan, kind: str, key: int, alias: str) -> exp.Expression:
    if kind == "f":
        return col("name", alias).eq(lit(plan.facts[key]))
    return col("target" if kind == "r" else "tk", alias).eq(lit(key))
