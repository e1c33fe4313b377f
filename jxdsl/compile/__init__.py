"""Scheme → SQL: the statements the batch engines run, as sqlglot trees, for DuckDB or Spark.

The statements read the input relations of ``tables.py`` (projects, facts, records, targets,
problems) and create, in order: the facts and records of each project as columns, the scored
target rows and their groups, the project query (every rulebook indicator, items, total, grade),
the indicators in output order (``jx_nodes``) and the errors in the order the interpreter reports
them (``jx_errors``).  Every rule is the kernel's (``jxdsl/kernel``): this package only arranges
where its inputs come from and where its outputs go.
"""
from __future__ import annotations

import attrs
from sqlglot import exp

from jxdsl import ir
from jxdsl.compile import lexicon, output
from jxdsl.compile.plan import Plan, make_plan
from jxdsl.compile.project import project_program
from jxdsl.compile.records import statements as record_statements
from jxdsl.compile.rows import rows_statement, tables_pivot
from jxdsl.compile.sqlb import agg, col, fn, lit
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
    built = _build(pl, Caps(), dialect)
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
    stmts.append(("jx_tables", tables_pivot(pl)))
    stmts.append(("jx_p0", _p0(pl)))
    p, b, outs = project_program(pl, caps)
    if outs.get("ovf") is None or rows_too_wide(rb):
        return None
    total_steps = tuple((k, tuple(keys)) for k, keys in outs.pop("__total_steps__"))
    bound = {name: _expr(v) for name, v in outs.items()}
    stmts.append(("jx_proj", p.query("jx_pk", bound, ["pid"])))
    stmts += output.statements(pl, set(bound), dialect)
    return Compiled(pl, caps, tuple(stmts), tuple(bound), total_steps)


def rows_too_wide(b) -> bool:
    return getattr(b, "too_wide", False)


def _expr(v) -> exp.Expression:
    from jxdsl.kernel.sql import expr_of

    return expr_of(v)


def _facts(pl: Plan, caps: Caps) -> list[tuple[str, exp.Expression]]:
    """Each fact a rule reads as columns f{i}_v (text), _n (times given), _l (line); and the
    problems of every fact given (``kernel.pyscope.fact_problem``), long, with their line."""
    cols = []
    for i, name in enumerate(pl.facts):
        is_it = col("name", "f").eq(lit(name))
        n = agg("count", exp.Star(), where=is_it)
        one = lambda e: exp.case().when(n.eq(lit(1)), agg("max", e, where=is_it)).else_(exp.null())  # noqa: E731
        cols += [one(col("value", "f")).as_(f"f{i}_v"), n.as_(f"f{i}_n"), agg("min", col("line", "f"), where=is_it).as_(f"f{i}_l")]
        cols += [one(col(r, "l")).as_(f"f{i}_v_{r}") for r in lexicon.reading_columns("", ("q_",))]
    wide = exp.select(col("pid", "f"), *cols).from_(exp.alias_(exp.to_table("facts"), "f")).join(
        exp.alias_(exp.to_table("jx_lex"), "l"), on=col("x", "l").eq(col("value", "f")), join_type="left").group_by(col("pid", "f"))
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
    return [("jx_facts", wide), ("jx_fact_problems", problems)]


def _targets() -> exp.Expression:
    """Target rows with blank cells as NULL (a cell of spaces says nothing)."""
    from jxdsl.kernel import sqltext as T

    def blank(c):
        return exp.case().when(exp.or_(exp.Is(this=col(c), expression=exp.null()), T.strip(col(c)).eq(lit(""))), exp.null()).else_(col(c)).as_(c)

    keep = [col(c) for c in ("pid", "line", "first", "second", "third")]
    return exp.select(*keep, *[blank(c) for c in ("weight", "target", "actual", "tier", "score", "note")]).from_("targets")


def _p0(pl: Plan) -> exp.Expression:
    return (
        exp.select(exp.Star())
        .from_(exp.alias_(exp.to_table("projects"), "pr"))
        .join(exp.alias_(exp.to_table("jx_facts"), "fa"), using=["pid"], join_type="left")
        .join(exp.alias_(exp.to_table("jx_rec"), "re"), using=["pid"], join_type="left")
        .join(exp.alias_(exp.to_table("jx_tables"), "ta"), using=["pid"], join_type="left")
    )


# ---- dialects -----------------------------------------------------------------------------------
def to_dialect(tree: exp.Expression, dialect: str) -> exp.Expression:
    """DuckDB keeps exact integers in HUGEINT; Spark in DECIMAL(38,0), without CTE hints."""
    if dialect == "duckdb":
        def swap(node):
            if isinstance(node, exp.DataType) and node.this == exp.DataType.Type.DECIMAL and node.sql("duckdb") == "DECIMAL(38, 0)":
                return exp.DataType.build("HUGEINT", dialect="duckdb")
            return node

        return tree.transform(swap)
    return tree


def sql_statements(book, dialect: str = "duckdb") -> list[tuple[str, str]]:
    """(relation, SELECT text) in the order the engine creates them."""
    if dialect not in DIALECTS:
        raise UsageError(f"不支持的 SQL 方言“{dialect}”", None, "可用：duckdb、spark")
    c = compile_scheme(book, dialect)
    return [(name, to_dialect(q, dialect).sql(dialect=dialect)) for name, q in c.statements]


def to_sql(book, dialect: str = "duckdb", pretty: bool = True) -> str:
    """The whole batch computation as SQL text: one CREATE per relation, in order."""
    parts = []
    for name, text in sql_statements(book, dialect):
        parts.append(f"-- {name}\nCREATE OR REPLACE TABLE {name} AS\n{text};" if dialect == "duckdb" else f"-- {name}\nCREATE OR REPLACE TEMPORARY VIEW {name} AS\n{text};")
    return "\n\n".join(parts)


__all__ = ["plan", "compile_scheme", "sql_statements", "to_sql", "DIALECTS", "BIG", "fn"]
