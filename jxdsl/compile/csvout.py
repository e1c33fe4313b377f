"""``score TABLE --format csv -o OUT`` written by DuckDB: each project's rows of the audit table
(``audit.result_rows``) as CSV lines built in SQL, so that a large table is not assembled project
by project in Python.  The cells are those of ``result_rows``; ``csv_field`` and ``safe_cell`` are
the SQL twins of Python's ``csv.writer`` (QUOTE_MINIMAL, ``\\n`` line ends) and
``render.safe_cell``; ``tests/test_engines.py`` holds the two outputs to the same bytes
(``test_output_files_equal_in_every_engine``) and the twins to Python's on generated texts
(``test_csv_cells_in_sql_are_pythons``).
"""
from __future__ import annotations

from sqlglot import exp

from jxdsl.compile.sqlb import big, case, coalesce, col, lit
from jxdsl.kernel import sqltext as T
from jxdsl.kernel.sql import Caps, Program, SNum, expr_of
from jxdsl.kernel.sqlops import SqlOps
from jxdsl.units import plain

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # render.safe_cell
NUMBER_RE = r"^-?[0-9]+(\.[0-9]+)?\z"  # render._NUMBER


def safe_cell(x: exp.Expression) -> exp.Expression:
    """render.safe_cell: a text a spreadsheet would read as a formula gets a leading '."""
    first = exp.func("substr", x, lit(1), lit(1))
    formula = exp.and_(first.isin(*[lit(c) for c in FORMULA_START]), exp.not_(T.matches(x, NUMBER_RE)))
    return case((formula, T.concat(lit("'"), x)), default=x)


def csv_field(x: exp.Expression) -> exp.Expression:
    """A cell as csv.writer writes it: quoted (quotes doubled) when it holds , " or a line feed."""
    quoted = T.concat(lit('"'), exp.func("replace", x, lit('"'), lit('""')), lit('"'))
    return case((T.matches(x, r'[,"\n]'), quoted), default=x)


def csv_lines_sql(compiled, lo: int, hi: int) -> str:
    """(pid, line) for projects lo..hi in output order: every indicator, then 合计 (no 加分/扣分
    rows: a rulebook with bonus or penalty items is written by Python)."""
    plan = compiled.plan
    scheme = plan.scheme
    digits = max(scheme.digits, 4)  # result_rows: a capped 10.75 under 小数 1 位 stays 10.75
    within = exp.column("pid").between(lit(int(lo)), lit(int(hi)))
    nodes = exp.select(
        col("pid", "n"), lit(0).as_("part"), col("k", "n"), col("g", "n"), col("r", "n"), col("project", "p"),
        exp.func("array_to_string", exp.func("from_json", col("path", "n"), lit('["VARCHAR"]')), lit("/")).as_("path"),
        col("weight", "n").as_("w"), col("s_int", "n").as_("s"), coalesce(col("target", "n"), lit("")).as_("t"),
        coalesce(col("actual", "n"), lit("")).as_("a"), lit("").as_("grade"), coalesce(col("method", "n"), lit("")).as_("m"),
    ).from_(exp.alias_(exp.select(exp.Star()).from_("jx_nodes").where(within).subquery(), "n")).join(exp.alias_(exp.to_table("projects"), "p"), using=["pid"])
    total = exp.select(
        col("pid", "j"), lit(1).as_("part"), lit(0).as_("k"), lit(0).as_("g"), lit(0).as_("r"), col("project", "p"), lit("合计").as_("path"),
        lit(plain(scheme.max)).as_("w"), exp.cast(col("total_s", "j"), "DECIMAL(38,0)").as_("s"), lit("").as_("t"), lit("").as_("a"),
        coalesce(col("grade", "j"), lit("")).as_("grade"), lit("").as_("m"),
    ).from_(exp.alias_(exp.select(exp.Star()).from_("jx_proj").where(within).subquery(), "j")).join(exp.alias_(exp.to_table("projects"), "p"), using=["pid"])
    rows = exp.union(nodes, total, distinct=False)
    base = ["pid", "part", "k", "g", "r", "project", "path", "w", "s", "t", "a", "grade", "m"]
    p = Program(rows.subquery("c"), base, prefix="v")
    b = SqlOps(p, Caps())
    scale = 10**plan.scale
    score = SNum(b, exp.column("s"), big(scale), 38, len(str(scale)), dc=scale)
    shown = b.cases((b.is_null(score), b.text("")), default=lambda: b.plain(score, digits))
    cells = [exp.column(c) for c in ("project", "path", "w")] + [expr_of(shown)] + [exp.column(c) for c in ("t", "a", "grade", "m")]
    line = exp.func("concat_ws", lit(","), *[csv_field(safe_cell(coalesce(c, lit("")))) for c in cells])
    q = p.query("jx_csv_k", {"line": line}, ["pid", "part", "k", "g", "r"])
    from jxdsl.compile import _DuckDB

    return exp.select(col("line")).from_(q.subquery("l")).order_by(col("pid"), col("part"), col("k"), col("g"), col("r")).sql(dialect=_DuckDB, copy=False)


__all__ = ["csv_lines_sql", "csv_field", "safe_cell"]
