"""Scheme → SQL: the statements the batch engines run, as sqlglot trees, for DuckDB or Spark.

The statements read the input relations of ``tables.py`` (projects, facts, records, targets,
problems) and create, in order: the facts and records of each project as columns, the scored
target rows and their groups, the project query (every rulebook indicator, items, total, grade),
the indicators in output order (``jx_nodes``) and the errors in the order the interpreter reports
them (``jx_errors``).  Every rule is the kernel's (``jxdsl/kernel``): this package only arranges
where its inputs come from and where its outputs go.
"""
from __future__ import annotations

import gc

import attrs
from sqlglot import exp
from sqlglot.dialects.duckdb import DuckDB
from sqlglot.dialects.spark import Spark

from jxdsl import ir
from jxdsl.compile import lexicon, output
from jxdsl.compile.plan import Plan, make_plan
from jxdsl.compile.project import project_program
from jxdsl.compile.records import statements as record_statements
from jxdsl.compile.rows import rows_statement
from jxdsl.compile.sqlb import col, fn, lit
from jxdsl.errors import CompileError, UsageError
from jxdsl.kernel.pyscope import fact_problem
from jxdsl.kernel.sql import Caps, Program, SText
from jxdsl.kernel.sqlops import SqlOps
from jxdsl.kernel.sqltext import BIG

DIALECTS = ("duckdb", "spark")
INPUTS = ("projects", "facts", "records", "targets", "problems")


@attrs.frozen
class Compiled:
    plan: Plan
    caps: Caps
    statements: tuple[tuple[str, exp.Expression], ...]
    project_columns: tuple[str, ...]
    total_steps: tuple  # (kind, data keys) of the total's steps, in order (columns ts{n}_…)


def plan(book) -> Plan:
    """The compiler's view of a rulebook (every rulebook compiles; kept for the engines' API)."""
    from jxdsl.lower import lower

    scheme = book if isinstance(book, ir.Scheme) else lower(book)
    return make_plan(scheme)


_CACHE: dict[tuple, Compiled] = {}


def compile_scheme(book, dialect: str = "duckdb") -> Compiled:
    """The statements for a rulebook; the input digit caps are the widest that keep it exact."""
    pl = plan(book)
    key = (pl.scheme.content_hash, pl.scheme.files, dialect)
    if key in _CACHE:
        return _CACHE[key]
    collecting = gc.isenabled()
    gc.disable()  # the build makes millions of short-lived nodes and no cycles worth collecting
    try:
        built = _build(pl, Caps(), dialect)
    finally:
        if collecting:
            gc.enable()
    if built is None:
        raise CompileError(f"规则集“{pl.scheme.name}”中的数值太长，SQL 引擎无法精确计算", None, "请用 --engine interpreter")
    _CACHE[key] = built
    return built


def _build(pl: Plan, caps: Caps, dialect: str) -> Compiled | None:
    stmts: list[tuple[str, exp.Expression]] = [("jx_targets", _targets())]
    stmts += lexicon.statements(caps)
    stmts += _facts(pl, caps)
    stmts += record_statements(pl)
    rows, rb = rows_statement(pl, caps)
    stmts += rows
    p, b, outs = project_program(pl, caps)
    if outs.get("ovf") is None or rows_too_wide(rb):
        return None
    total_steps = tuple((k, tuple(keys)) for k, keys in outs.pop("__total_steps__"))
    bound = {name: _expr(v) for name, v in outs.items()}
    stmts += p.statements("jx_proj", bound, ["pid"])
    stmts += output.statements(pl, set(bound))
    return Compiled(pl, caps, tuple(stmts), tuple(bound), total_steps)


def rows_too_wide(b) -> bool:
    return getattr(b, "too_wide", False)


def _expr(v) -> exp.Expression:
    from jxdsl.kernel.sql import expr_of

    return expr_of(v)


def _facts(pl: Plan, caps: Caps) -> list[tuple[str, exp.Expression]]:
    """Each fact given, per project and name (``jx_factl``: text when given once, times given, first
    line, readings; ``source.fact_feature``); and the problems of every fact given
    (``kernel.pyscope.fact_problem``), long, with their line."""
    grouped = exp.select(
        col("pid"), col("name"), fn("count", exp.Star()).as_("n"), fn("min", col("line")).as_("l"),
        exp.case().when(fn("count", exp.Star()).eq(lit(1)), fn("max", col("value"))).else_(exp.null()).as_("v"),
    ).from_("facts").group_by(col("pid"), col("name"))
    readings = [col(r, "x") for r in lexicon.reading_columns("", ("q_", "p_"))]
    long = exp.select(col("*", "g"), *readings).from_(exp.alias_(grouped.subquery(), "g")).join(
        exp.alias_(exp.to_table("jx_lex"), "x"), on=col("x", "x").eq(col("v", "g")), join_type="left")
    types = [(name, t.value) for name, t in pl.scheme.facts.items() if t is not None]
    ftype = exp.case()
    for name, t in types:
        ftype = ftype.when(col("name").eq(lit(name)), lit(t))
    source = exp.select(exp.Star(), (ftype.else_(exp.null()) if types else exp.cast(exp.null(), "VARCHAR")).as_("ftype")).from_(
        exp.alias_(exp.to_table("facts"), "f")).join(exp.alias_(exp.to_table("jx_lex"), "l"), on=col("x", "l").eq(col("value", "f")), join_type="left").where(
        exp.not_(exp.Is(this=col("value"), expression=exp.null())))
    p = Program(source.subquery("src"), ["pid", "name", "value", "line", "seq", "ftype"], prefix="q")
    b = SqlOps(p, caps)
    b.lexicon_column("value", "")
    q = b.parse(SText(b, col("value")))
    bad = fact_problem(b, SText(b, col("name")), SText(b, col("ftype")), q, SText(b, col("value")))
    message, hint = (bad if bad is not None else (b.null, b.null))
    q = p.query("jx_fpk", {"message": _expr(message), "hint": _expr(hint)}, ["pid", "seq", "line"])
    problems = exp.select(exp.Star()).from_(q.subquery("fp")).where(exp.not_(exp.Is(this=col("message"), expression=exp.null())))
    return [("jx_factl", long), ("jx_fact_problems", problems)]


def _targets() -> exp.Expression:
    """Target rows with blank cells as NULL (a cell of spaces says nothing)."""
    from jxdsl.kernel import sqltext as T

    def blank(c):
        return exp.case().when(exp.or_(exp.Is(this=col(c), expression=exp.null()), T.strip(col(c)).eq(lit(""))), exp.null()).else_(col(c)).as_(c)

    keep = [col(c) for c in ("pid", "line", "first", "second", "third")]
    scored = exp.Is(this=col("parent"), expression=exp.null())  # breakdown rows (明细) are only shown
    return exp.select(*keep, *[blank(c) for c in ("weight", "target", "actual", "tier", "score", "note", "method")]).from_("targets").where(scored)


# ---- dialects -----------------------------------------------------------------------------------
class _DuckDB(DuckDB):
    """DuckDB keeps the exact integers (DECIMAL(38,0) in the trees, Spark's type) in HUGEINT.
    Its ordered string_agg sorts every value with its keys, group by group (9 s for the JSON of
    100,000 projects); collecting values and keys as two lists and picking the values in the keys'
    order (``list_grade_up``) moves only the keys (4 s)."""

    class Generator(DuckDB.Generator):
        def datatype_sql(self, expression: exp.DataType) -> str:
            if expression.this == exp.DataType.Type.DECIMAL and [x.sql() for x in expression.expressions] == ["38", "0"]:
                return "HUGEINT"
            return super().datatype_sql(expression)

        def ordered_concat_sql(self, expression: exp.GroupConcat, where: exp.Where | None = None) -> str:
            order = expression.this
            if not isinstance(order, exp.Order) or any(o.args.get("desc") for o in order.expressions):
                return DuckDB.Generator.TRANSFORMS[exp.GroupConcat](self, expression) if where is None else self.filter_sql(exp.Filter(this=expression, expression=where))
            fields = []
            for i, o in enumerate(order.expressions):  # NULL keys last, as ORDER BY puts them
                fields += [exp.PropertyEQ(this=exp.to_identifier(f"n{i}"), expression=o.this.is_(exp.null())), exp.PropertyEQ(this=exp.to_identifier(f"k{i}"), expression=o.this)]

            def collected(e):
                got = exp.Anonymous(this="list", expressions=[e])
                return exp.Filter(this=got, expression=where) if where is not None else got

            keys = collected(exp.Anonymous(this="struct_pack", expressions=fields))
            values = exp.Anonymous(this="list_select", expressions=[collected(order.this), exp.Anonymous(this="list_grade_up", expressions=[keys])])
            # array_to_string skips NULLs as string_agg does; string_agg of no values is NULL
            joined = exp.Anonymous(this="array_to_string", expressions=[values, expression.args.get("separator")])
            return self.sql(exp.case().when(collected_count(order.this, where).eq(0), exp.null()).else_(joined))

        def filtered_sql(self, expression: exp.Filter) -> str:
            if isinstance(expression.this, exp.GroupConcat):
                return self.ordered_concat_sql(expression.this, expression.expression)
            return self.filter_sql(expression)

        TRANSFORMS = {**DuckDB.Generator.TRANSFORMS, exp.GroupConcat: ordered_concat_sql, exp.Filter: filtered_sql}


def collected_count(value: exp.Expression, where: exp.Where | None) -> exp.Expression:
    """COUNT(value) [FILTER (WHERE …)]: the values an aggregate collects."""
    n = exp.Count(this=value.copy())
    return exp.Filter(this=n, expression=where.copy()) if where is not None else n


class _Spark(Spark):
    """Spark's SIGN returns a DOUBLE (the exact arithmetic needs an integer), and its ordered
    string_agg (LISTAGG) fails inside the optimizer: the values are collected with their order
    keys as structs, sorted, and joined."""

    class Generator(Spark.Generator):
        def sign_sql(self, expression: exp.Sign) -> str:
            return self.sql(exp.cast(exp.Anonymous(this="SIGN", expressions=[expression.this]), "INT"))

        def ordered_concat_sql(self, expression: exp.GroupConcat, where: exp.Where | None = None) -> str:
            order = expression.this
            if not isinstance(order, exp.Order):
                return Spark.Generator.TRANSFORMS[exp.GroupConcat](self, expression)
            keys = [o.this for o in order.expressions]
            fields = [exp.alias_(k, f"k{i}") for i, k in enumerate(keys)] + [exp.alias_(order.this, "v")]
            collected = exp.Anonymous(this="collect_list", expressions=[exp.Anonymous(this="struct", expressions=fields)])
            if where is not None:
                collected = exp.Filter(this=collected, expression=where)
            value = exp.Lambda(this=exp.column("v", "x"), expressions=[exp.to_identifier("x")])
            values = exp.Anonymous(this="transform", expressions=[exp.Anonymous(this="array_sort", expressions=[collected]), value])
            present = exp.Lambda(this=exp.column("y").is_(exp.null()).not_(), expressions=[exp.to_identifier("y")])
            values = exp.Anonymous(this="filter", expressions=[values, present])
            # string_agg of no values is NULL, array_join of an empty array ''
            joined = exp.Anonymous(this="array_join", expressions=[values, expression.args.get("separator")])
            return self.sql(exp.case().when(exp.Anonymous(this="size", expressions=[values]).eq(0), exp.null()).else_(joined))

        def filtered_sql(self, expression: exp.Filter) -> str:
            if isinstance(expression.this, exp.GroupConcat):
                return self.ordered_concat_sql(expression.this, expression.expression)
            return self.filter_sql(expression)

        TRANSFORMS = {**Spark.Generator.TRANSFORMS, exp.GroupConcat: ordered_concat_sql, exp.Filter: filtered_sql, exp.Sign: sign_sql}


_TEXTS: dict[tuple, tuple[tuple[str, str], ...]] = {}


def sql_statements(book, dialect: str = "duckdb") -> tuple[tuple[str, str], ...]:
    """(relation, SELECT text) in the order the engine creates them."""
    if dialect not in DIALECTS:
        raise UsageError(f"不支持的 SQL 方言“{dialect}”", None, "可用：duckdb、spark")
    c = compile_scheme(book, dialect)
    key = (id(c), dialect)
    if key not in _TEXTS:
        gen = _DuckDB if dialect == "duckdb" else _Spark
        # copy=False: the trees are written once (cached here); copying them first cost 8 of Qixia's 9.5 s
        _TEXTS[key] = tuple((name, q.sql(dialect=gen, copy=False)) for name, q in c.statements)
    return _TEXTS[key]


JSON_SOURCES = ("projects", "jx_proj", "jx_nodes", "jx_errors")


def json_range_sql(book) -> str:
    """The body of DuckDB's table macro ``jx_json_of(lo, hi)``: the ``jx_json`` statement with each
    relation it reads narrowed to the projects lo..hi, so that the JSON lines are computed a chunk
    of projects at a time (a filter on the outer query does not reach into its LEFT JOINs)."""
    c = compile_scheme(book, "duckdb")
    query = dict(c.statements)["jx_json"].copy()

    def narrow(node):
        if isinstance(node, exp.Table) and node.name in JSON_SOURCES and not node.args.get("db"):
            alias = node.alias or node.name
            inner = exp.select(exp.Star()).from_(node.name).where(exp.column("pid").between(exp.column("lo"), exp.column("hi")))
            return inner.subquery(alias)
        return node

    return query.transform(narrow, copy=False).sql(dialect=_DuckDB)


def to_sql(book, dialect: str = "duckdb", pretty: bool = True) -> str:
    """The whole batch computation as SQL text: one CREATE per relation, in order."""
    parts = []
    for name, text in sql_statements(book, dialect):
        parts.append(f"-- {name}\nCREATE OR REPLACE TABLE {name} AS\n{text};" if dialect == "duckdb" else f"-- {name}\nCREATE OR REPLACE TEMPORARY VIEW {name} AS\n{text};")
    return "\n\n".join(parts)


__all__ = ["plan", "compile_scheme", "sql_statements", "to_sql", "DIALECTS", "BIG", "fn"]
