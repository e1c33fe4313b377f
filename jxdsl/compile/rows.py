"""Target-table rows in SQL: each row scored by the kernel (``kernel.rows.score_row``), then summed
into its 二级指标 group and its 来自目标表 indicator, as ``evaluate._Run._table`` does."""
from __future__ import annotations

from sqlglot import exp

from jxdsl import ir
from jxdsl.compile.plan import Plan
from jxdsl.compile.scope import SqlScope
from jxdsl.compile.source import keyed_source
from jxdsl.compile.sqlb import agg, big, case, col, fn, is_null, lit, not_null
from jxdsl.kernel import sqltext as T
from jxdsl.kernel.rows import DETAILS, RowTexts, detail_part, score_row, scored_method
from jxdsl.kernel import tree
from jxdsl.kernel.sentences import leaf_explanation, parent_explanation
from jxdsl.kernel.sql import Caps, Program, SBool, SNum, SText, expr_of
from jxdsl.kernel.sqlops import SqlOps

KEY_RE = r"^((?s:.*?))(?:指标)?\z"


def table_index(plan: Plan, first) -> exp.Expression:
    """The 来自目标表 indicator a row's 一级指标 names (lower.table_key), as its target index."""
    key = T.extract(T.clean(first), KEY_RE, 1)
    tables = [t for t in plan.targets if t.kind == "table"]
    return case(*[(key.eq(lit(t.node.key)), lit(t.index)) for t in tables]) if tables else exp.null()


def _blank(b, name: str):
    c = exp.column(name)
    return SText(b, case((exp.or_(is_null(c), T.strip(c).eq(lit(""))), exp.null()), default=c))


ROW_TEXTS = ("weight", "target", "actual", "tier", "score", "note", "method")  # what a row's score reads


def row_program(plan: Plan, caps: Caps) -> tuple[Program, SqlOps, dict, list[str]]:
    """The scoring of every distinct row text combination (``ROW_TEXTS``): the score reads only
    a row's texts and the rulebook, so a table whose rows repeat (``≥95%`` against ``96%`` in
    every project) scores each combination once; ``jx_rows`` joins them back.  When the rows'
    rules read a project's facts, the project id joins the key.  Returns the program, its ops,
    its outputs and the key it is computed per."""
    from jxdsl.compile.lexicon import reading_columns

    readings = {"weight": ("q_",), "target": ("c_", "b_", "n_"), "actual": ("c_", "b_", "n_"), "score": ("q_",)}
    reading_cols = [f"{name}_{r}" for name, kinds in readings.items() for r in reading_columns("", kinds)]
    p = Program(None, list(ROW_TEXTS), prefix="w")
    b = SqlOps(p, caps)
    b.guard_widths("w_wide")  # rows too long for 38 digits compute no numbers (→ interpreter)
    for name in readings:
        b.lexicon_column(name, f"{name}_")
    scope = SqlScope(b, plan)
    row = RowTexts(*[SText(b, exp.column(c)) for c in ROW_TEXTS])
    got, weight = score_row(scope, row)
    d = plan.scheme.digits
    scale = 10**plan.scale
    score = b.let(got.score)
    weight = b.let(weight)
    lost = b.all(b.not_(b.is_null(score)), lambda: (weight - score) > b.num(0), b.not_(b.eq(got.status, b.text("not_applicable"))))
    explanation = leaf_explanation(b, [(s.when, s.kind, s.payload()) for s in got.steps], lost, b.plain(weight - score, d), got.evidence)
    w_exact = b.let(b.all(b.not_(b.is_null(weight)), lambda: _divides(b, weight, scale)))
    outputs = {
        "s": SText(b, b.to_scale(score, scale)),
        "w": SText(b, case((w_exact.e, T.idiv(T.mul(weight.num, big(scale)), weight.den)))),
        "st": got.status,
        "x": explanation,
        "pm": got.problem.message if got.problem is not None else b.null,
        "ph": got.problem.hint if got.problem is not None else b.null,
        "pc": got.problem.code if got.problem is not None else b.null,
        "pa": got.problem.arg if got.problem is not None else b.null,
        "ws": b.plain(weight, 4),
        "mt": scored_method(b, got.steps),
        "ss": b.plain(score, d),
        "ds": tree.shown_deduction(b, weight, score, b.num(0), got.status, d),
        # what its group or table aggregates (``tree.parent_of``): see ``_aggregates``
        "un": tree.counts_unscored(b, score, got.status),
        "na": b.eq(got.status, b.text("not_applicable")),
        "sz": SText(b, b.to_scale(b.coalesce(score, b.num(0)), scale)),
    }
    check = b.width_check()
    b.too_wide = check is None
    outputs["ovf"] = b.any(*[SBoolOf(b, f) for f in b.overflow], b.not_(w_exact), SBoolOf(b, check if check is not None else lit(True)))
    outputs = {name: expr_of(v) for name, v in outputs.items()}
    read = _reads(p, outputs) - set(ROW_TEXTS) - set(reading_cols)
    key = ["pid", *ROW_TEXTS] if read else list(ROW_TEXTS)
    texts = exp.select(*[col(c) for c in key]).distinct().from_("jx_targets")
    base = exp.select(*[col(c, "t") for c in key], *[col(r, name).as_(f"{name}_{r}") for name, kinds in readings.items() for r in reading_columns("", kinds)]).from_(
        texts.subquery("t"))
    for name in readings:
        base = base.join(exp.alias_(exp.to_table("jx_lex"), name), on=col("x", name).eq(col(name, "t")), join_type="left")
    p.source = keyed_source(plan, base, col("pid", "t"), [*key, *reading_cols])
    p.base = list(key)
    return p, b, outputs, key


def _reads(p: Program, outputs: dict[str, exp.Expression]) -> set[str]:
    """The source columns a program reads (those none of its definitions name)."""
    names = {x.name for e in [*p.defs.values(), *outputs.values()] for x in e.find_all(exp.Column)}
    return names - set(p.defs)


def _joined(plan: Plan, caps: Caps, key: list[str], outputs: list[str]) -> exp.Expression:
    """Every row of a 来自目标表 indicator with the scoring of its texts, and its part in its
    parent's explanation (``tree.child_part``, from the scored texts' shown score)."""
    on = [exp.NullSafeEQ(this=col(c, "t"), expression=col(c, "r")) if c in ROW_TEXTS else col(c, "t").eq(col(c, "r")) for c in key]
    row_columns = ["pid", "line", "first", "second", "third", "target", "actual"]
    record = [col("tier", "t"), col("score", "t").as_("given"), col("note", "t")]  # the row's own record, for reports (assemble)
    with_details = case((is_null(col("dx", "d")), col("x", "r")), default=T.concat(col("x", "r"), lit(DETAILS), col("dx", "d"))).as_("x")
    joined = exp.select(
        *[col(c, "t") for c in row_columns], *record, table_index(plan, col("first", "t")).as_("tk"), *[with_details if c == "x" else col(c, "r") for c in outputs],
    ).from_(exp.alias_(exp.to_table("jx_targets"), "t")).join(exp.alias_(exp.to_table("jx_rk"), "r"), on=exp.and_(*on), join_type="inner").join(
        exp.alias_(exp.to_table("jx_details"), "d"), on=exp.and_(col("pid", "d").eq(col("pid", "t")), col("parent", "d").eq(col("line", "t"))), join_type="left")
    row_columns += ["tier", "given", "note"]
    p = Program(joined.subquery("j"), [*row_columns, "tk", *outputs], prefix="v")
    b = SqlOps(p, caps)
    part = tree.named_part(b, SText(b, exp.column("third")), SText(b, exp.column("ss")))
    q = p.query("jx_rows_k", {"part": expr_of(part)}, [*row_columns, "tk", *outputs])
    return exp.select(exp.Star()).from_(q.subquery("rk")).where(not_null(col("tk")))


def SBoolOf(b, e):
    from jxdsl.kernel.sql import SBool

    return SBool(b, e)


def _divides(b, x, scale: int):
    """Whether x is a multiple of 1/scale (so that x·scale is a whole number)."""
    from jxdsl.kernel.sql import SBool

    return SBool(b, T.func("coalesce", T.eq(T.mod(T.mul(x.num, big(scale)), x.den), big(0)), lit(False)))


def _details(caps: Caps) -> exp.Expression:
    """Each row's breakdown rows (明细), listed as ``kernel.rows.detail_part`` words them."""
    cols = ["pid", "line", "parent", "third", "target", "actual"]
    src = exp.select(*[col(c) for c in cols]).from_("targets").where(not_null(col("parent")))
    p = Program(src.subquery("dt0"), cols, prefix="dt")
    b = SqlOps(p, caps)
    part = detail_part(b, SText(b, exp.column("third")), SText(b, exp.column("target")), SText(b, exp.column("actual")))
    q = p.query("jx_details_k", {"part": expr_of(part)}, ["pid", "line", "parent"])
    return exp.select(col("pid"), col("parent"), agg("string_agg", col("part"), lit("；"), order=col("line")).as_("dx")).from_(q.subquery("dp")).group_by(col("pid"), col("parent"))


def rows_statement(plan: Plan, caps: Caps) -> list[tuple[str, exp.Expression]]:
    p, b, outputs, key = row_program(plan, caps)
    stmts = [("jx_details", _details(caps)), *p.statements("jx_rk", outputs, key)]
    stmts.append(("jx_rows", _joined(plan, caps, key, list(outputs))))
    stmts += _aggregates(plan, caps)
    return stmts, b


def _aggregates(plan: Plan, caps: Caps) -> list[tuple[str, exp.Expression]]:
    """Groups (二级指标) and tables (来自目标表) per project: the children's aggregates in SQL
    (GROUP BY), the parent computed from them by the kernel (``tree.parent_of``), as the
    interpreter's ``_parent``/``_table`` do from the same children."""
    raw = exp.select(
        col("pid"), col("tk"), col("second"), fn("min", col("line")).as_("gline"),
        fn("sum", exp.cast(col("w"), "DECIMAL(38,0)")).as_("w"), agg("bool_or", is_null(col("w"))).as_("wbad"),
        agg("bool_or", col("un")).as_("unscored"), fn("sum", exp.cast(col("sz"), "DECIMAL(38,0)")).as_("total"),
        agg("bool_and", col("na")).as_("all_na"),
        agg("string_agg", col("part"), lit(" + "), order=col("line")).as_("parts"), agg("bool_or", col("ovf")).as_("ovf"),
    ).from_("jx_rows").where(exp.not_(col("second").eq(lit("")))).group_by(col("pid"), col("tk"), col("second"))
    p = Program(exp.to_table("jx_groups0"), ["pid", "tk", "second", "gline", "w", "wbad", "unscored", "total", "all_na", "parts", "ovf"], prefix="g")
    b = SqlOps(p, caps)
    d = plan.scheme.digits
    scale = 10**plan.scale

    def num(name):
        return SNum(b, exp.column(name), big(scale), 20, len(str(scale)), dc=scale)

    flag = lambda name: SBool(b, exp.func("coalesce", exp.column(name), exp.false()))  # noqa: E731
    got = tree.parent_of(b, flag("unscored"), num("total"), b.num(0), flag("all_na"))
    score, weight = b.let(got.score), num("w")
    shown = b.cases((b.is_null(score), b.null), default=lambda: b.plain(score, d))
    outputs = {
        "s": SText(b, b.to_scale(score, scale)), "st": got.status, "ws": b.plain(weight, 4), "ss": b.plain(score, d),
        "ds": tree.shown_deduction(b, weight, score, b.num(0), got.status, d),
        "x": parent_explanation(b, SText(b, exp.column("parts")), shown),
        "un": tree.counts_unscored(b, score, got.status), "na": b.eq(got.status, b.text("not_applicable")),
        "sz": SText(b, b.to_scale(b.coalesce(score, b.num(0)), scale)),
        "part": tree.child_part(b, SText(b, exp.column("second")), score, d),
    }
    groups = p.statements("jx_groups", {k: expr_of(v) for k, v in outputs.items()}, ["pid", "tk", "second", "gline", "w", "ovf"])
    # a table's children: its groups and its rows without a 二级指标, in the order they first appear
    kid_columns = ["w", "un", "na", "sz", "part", "ovf"]
    kids = exp.union(
        exp.select(col("pid"), col("tk"), col("gline").as_("kline"), *[col(c) for c in kid_columns]).from_("jx_groups"),
        exp.select(col("pid"), col("tk"), col("line").as_("kline"), *[col(c) for c in kid_columns]).from_("jx_rows").where(col("second").eq(lit(""))),
        distinct=False,
    )
    tables = (
        exp.select(
            col("pid"), col("tk"), fn("min", col("kline")).as_("tline"),
            fn("sum", exp.cast(col("w"), "DECIMAL(38,0)")).as_("w"), agg("bool_or", is_null(col("w"))).as_("wbad"),
            agg("bool_or", col("un")).as_("unscored"), fn("sum", exp.cast(col("sz"), "DECIMAL(38,0)")).as_("total"),
            agg("bool_and", col("na")).as_("all_na"),
            agg("string_agg", col("part"), lit(" + "), order=col("kline")).as_("parts"), agg("bool_or", col("ovf")).as_("ovf"),
        )
        .from_(kids.subquery("k"))
        .group_by(col("pid"), col("tk"))
    )
    return [("jx_groups0", raw), *groups, ("jx_tables0", tables)]


__all__ = ["rows_statement", "table_index", "ir"]
