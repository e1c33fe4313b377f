"""Evaluator records in SQL: matched to their indicator by path suffix, then read field by field.

``records`` holds one row per field entry (``inputs.Record`` flattened: a scalar field has
``item`` NULL, list entries 1…n, an empty list one row with ``item`` 0).  A record is matched the
way the interpreter matches it (``evaluate._Run._match_records``): its key, full-width forms
normalized, must be a suffix of the indicator's path; the longest match wins, then the first
record.  The result is one row per project with the ``r{t}_…`` columns ``RecordView`` reads.
"""
from __future__ import annotations

from sqlglot import exp

from jxdsl import ir
from jxdsl.compile.plan import Plan
from jxdsl.compile.sqlb import agg, asc, big, case, coalesce, col, desc, fn, is_null, lit, not_null, row_number, values
from jxdsl.kernel import sqltext as T

ALL_WORDS = ("全部", "all")
READINGS = [f"q_{f}" for f in ("dim", "unit", "num", "den", "start", "text", "words", "ndig", "ddig", "over")] + ["k_num", "k_ndig", "k_over"]


def _key_parts(e) -> exp.Expression:
    return T.length(e) - T.length(fn("replace", e, lit("/"), lit(""))) + lit(1)


def suffix_tables(plan: Plan) -> tuple[exp.Expression, exp.Expression]:
    """(sfx: key → path, with its parts and the path's full length; tgt: path → targets)."""
    rows, seen = [], set()
    for t in plan.targets:
        pathkey = "/".join(T_norm(p) for p in t.path)
        parts = [T_norm(p) for p in t.path]
        for k in range(1, len(parts) + 1):
            key = "/".join(parts[-k:])
            if (key, pathkey) not in seen:
                seen.add((key, pathkey))
                rows.append((key, pathkey, k, len(parts), t.index))
    firsts = {}
    for key, pathkey, k, full, index in rows:
        firsts.setdefault(pathkey, index)
    sfx = values([(key, pathkey, k, full, firsts[pathkey]) for key, pathkey, k, full, _ in rows], ["nkey", "pathkey", "parts", "full", "porder"], "s")
    tgt = values([("/".join(T_norm(p) for p in t.path), t.index, "/".join(t.path)) for t in plan.targets], ["pathkey", "target", "path"], "t")
    return sfx, tgt


def T_norm(text: str) -> str:
    from jxdsl.units import normalize

    return normalize(text)


def statements(plan: Plan) -> list[tuple[str, exp.Expression]]:
    """(name, query) of the record relations: keys, matches, claims (errors) and the pivot."""
    sfx, tgt = suffix_tables(plan)
    rk = exp.select(col("pid"), col("rec"), col("key"), fn("min", col("line")).as_("line"), T.normalize(col("key")).as_("nkey")).from_("records").group_by(col("pid"), col("rec"), col("key"))
    matched = (
        exp.select(col("pid", "k"), col("rec", "k"), col("line", "k"), col("pathkey", "s"), col("parts", "s"))
        .from_(exp.alias_(exp.to_table("jx_rk"), "k"))
        .join(exp.alias_(exp.to_table("jx_sfx"), "s"), on=col("nkey", "k").eq(col("nkey", "s")))
    )
    ranked = exp.select(exp.Star(), row_number([col("pid"), col("pathkey")], [desc(col("parts")), asc(col("rec"))]).as_("rn")).from_("jx_match")
    best = (
        exp.select(col("pid", "m"), col("rec", "m"), col("line", "m"), col("target", "t"))
        .from_(exp.alias_(exp.select(exp.Star()).from_(ranked.subquery("r")).where(col("rn").eq(lit(1))).subquery(), "m"))
        .join(exp.alias_(exp.to_table("jx_tgt"), "t"), on=col("pathkey", "m").eq(col("pathkey", "t")))
    )
    claims = (
        exp.select(
            col("pid", "k"), col("rec", "k"), col("key", "k"), col("line", "k"),
            fn("count", exp.Distinct(expressions=[col("pathkey", "s")])).as_("n"),
            coalesce(agg("bool_or", col("full", "s").eq(_key_parts(col("nkey", "k")))), lit(False)).as_("exact"),
        )
        .from_(exp.alias_(exp.to_table("jx_rk"), "k"))
        .join(exp.alias_(exp.to_table("jx_sfx"), "s"), on=col("nkey", "k").eq(col("nkey", "s")), join_type="left")
        .group_by(col("pid", "k"), col("rec", "k"), col("key", "k"), col("line", "k"))
    )
    paths = (
        exp.select(col("pid", "k"), col("rec", "k"), agg("string_agg", col("path", "t"), lit("；"), order=col("porder", "s")).as_("paths"))
        .from_(exp.alias_(exp.to_table("jx_rk"), "k"))
        .join(exp.alias_(exp.to_table("jx_sfx"), "s"), on=col("nkey", "k").eq(col("nkey", "s")))
        .join(exp.alias_(exp.select(col("pathkey"), fn("min", col("path")).as_("path")).from_("jx_tgt").group_by(col("pathkey")).subquery(), "t"), on=col("pathkey", "s").eq(col("pathkey", "t")))
        .group_by(col("pid", "k"), col("rec", "k"))
    )
    entries = (
        exp.select(col("pid", "b"), col("target", "b"), col("line", "b").as_("rline"), col("field", "r"), col("question", "r"), col("item", "r"), col("option", "r"), col("value", "r"))
        .from_(exp.alias_(exp.to_table("jx_best"), "b"))
        .join(exp.alias_(exp.to_table("records"), "r"), on=exp.and_(col("pid", "r").eq(col("pid", "b")), col("rec", "r").eq(col("rec", "b"))))
    )
    listed = exp.or_(col("item", "e") >= lit(1), exp.and_(is_null(col("item", "e")), col("field", "e").isin(lit("满足"), lit("未满足")), exp.not_(col("value", "e").isin(*[lit(w) for w in ALL_WORDS]))))
    with_entry = exp.select(col("*", "e"), *[col(c, "l") for c in READINGS], exp.func("coalesce", listed, lit(False)).as_("entry")).from_(exp.alias_(exp.to_table("jx_entries"), "e")).join(
        exp.alias_(exp.to_table("jx_lex"), "l"), on=exp.and_(col("x", "l").eq(col("value", "e")), is_null(col("item", "e")), col("field", "e").isin(lit("得分"), lit("次数"))), join_type="left")
    counted = (
        exp.select(col("pid"), col("target"), col("field"), col("value"), fn("count", exp.Star()).as_("c"))
        .from_("jx_e").where(col("entry")).group_by(col("pid"), col("target"), col("field"), col("value"))
    )
    both = (
        exp.select(col("pid"), col("target"), col("value"), agg("bool_or", col("field").eq(lit("满足"))).as_("inm"), agg("bool_or", col("field").eq(lit("未满足"))).as_("inu"))
        .from_("jx_counted").group_by(col("pid"), col("target"), col("value"))
    )
    return [
        ("jx_sfx", sfx), ("jx_tgt", tgt), ("jx_rk", rk), ("jx_match", matched), ("jx_best", best),
        ("jx_claim_n", claims), ("jx_claim_paths", paths), ("jx_entries", entries), ("jx_e", with_entry),
        ("jx_counted", counted), ("jx_both", both), ("jx_rec", pivot(plan)),
    ]


def _f(t: int, field: str):
    return exp.and_(col("target").eq(lit(t)), col("field").eq(lit(field)))


def pivot(plan: Plan) -> exp.Expression:
    """One row per project, the features of each target's record as ``r{t}_…`` columns."""
    cols: list[exp.Expression] = []
    dup_cols: list[exp.Expression] = []
    for t in plan.targets:
        i = t.index
        r = f"r{i}_"
        cols += [
            coalesce(agg("bool_or", lit(True), where=col("target").eq(lit(i))), lit(False)).as_(r + "p"),
            agg("min", col("rline"), where=col("target").eq(lit(i))).as_(r + "l"),
        ]
        for field, short in (("档次", "tier"), ("得分", "score"), ("说明", "note"), ("不适用", "na"), ("发生", "occ"), ("次数", "cnt")):
            cols.append(agg("max", col("value"), where=exp.and_(_f(i, field), is_null(col("item")))).as_(r + short))
        for reading in READINGS:
            if reading.startswith("q_"):
                cols.append(agg("max", col(reading), where=exp.and_(_f(i, "得分"), is_null(col("item")))).as_(f"{r}score_{reading}"))
            else:
                cols.append(agg("max", col(reading), where=exp.and_(_f(i, "次数"), is_null(col("item")))).as_(f"{r}cnt_{reading}"))
        rule = t.node.rule if isinstance(t.node, ir.Leaf) else None
        if isinstance(rule, ir.Deduction):
            cols += [
                coalesce(agg("bool_or", lit(True), where=_f(i, "发现")), lit(False)).as_(r + "fg"),
                agg("max", col("value"), where=exp.and_(_f(i, "发现"), is_null(col("item")))).as_(r + "fb"),
                agg("count", exp.Star(), where=exp.and_(_f(i, "发现"), col("item") >= lit(1))).as_(r + "fc"),
                agg("string_agg", col("value"), lit("；"), where=exp.and_(_f(i, "发现"), col("item") >= lit(1)), order=col("item")).as_(r + "ft"),
            ]
        if isinstance(rule, ir.Checklist):
            names = [lit(item.name) for item in rule.items]
            cols += [
                coalesce(agg("bool_or", lit(True), where=_f(i, "满足")), lit(False)).as_(r + "mg"),
                coalesce(agg("bool_or", lit(True), where=_f(i, "未满足")), lit(False)).as_(r + "ug"),
                coalesce(agg("bool_or", col("value").isin(*[lit(w) for w in ALL_WORDS]), where=exp.and_(_f(i, "满足"), is_null(col("item")))), lit(False)).as_(r + "ma"),
                coalesce(agg("bool_or", lit(True), where=exp.and_(_f(i, "未满足"), exp.or_(is_null(col("item")), col("item") >= lit(1)))), lit(False)).as_(r + "ul"),
                agg("arg_min", col("value"), col("item"), where=exp.and_(_f(i, "满足"), col("entry"), exp.not_(col("value").isin(*names)))).as_(r + "mu"),
                agg("arg_min", col("value"), col("item"), where=exp.and_(_f(i, "未满足"), col("entry"), exp.not_(col("value").isin(*names)))).as_(r + "uu"),
            ]
            for j, item in enumerate(rule.items):
                cols += [
                    coalesce(agg("bool_or", lit(True), where=exp.and_(_f(i, "满足"), col("entry"), col("value").eq(lit(item.name)))), lit(False)).as_(f"{r}im{j}"),
                    coalesce(agg("bool_or", lit(True), where=exp.and_(_f(i, "未满足"), col("entry"), col("value").eq(lit(item.name)))), lit(False)).as_(f"{r}iu{j}"),
                ]
            dup_cols += [(i, "满足", r + "md"), (i, "未满足", r + "ud")]
        source = getattr(rule, "value", None) if rule is not None else None
        if isinstance(source, ir.SurveyValue):
            cols += _survey(i, r, [o.name for o in source.options])
    dups = [
        agg("string_agg", col("value"), lit("、"), where=exp.and_(col("target").eq(lit(i)), col("field").eq(lit(field)), col("c") > lit(1)), order=col("value")).as_(name)
        for i, field, name in dup_cols
    ]
    overlaps = [
        agg("string_agg", col("value"), lit("、"), where=exp.and_(col("target").eq(lit(i)), col("inm"), col("inu")), order=col("value")).as_(f"r{i}_ov")
        for i, field, _ in dup_cols if field == "满足"
    ]
    base = exp.select(col("pid"), *cols).from_("jx_e").group_by(col("pid"))
    if not dup_cols:
        return base
    d = exp.select(col("pid"), *dups).from_("jx_counted").group_by(col("pid"))
    o = exp.select(col("pid"), *overlaps).from_("jx_both").group_by(col("pid"))
    return (
        exp.select(exp.Star())
        .from_(exp.alias_(base.subquery(), "a"))
        .join(exp.alias_(d.subquery(), "d"), using=["pid"], join_type="left")
        .join(exp.alias_(o.subquery(), "o"), using=["pid"], join_type="left")
    )


def _survey(i: int, r: str, options: list[str]) -> list[exp.Expression]:
    f = _f(i, "问卷")
    v = T.clean(col("value"))
    counted = exp.and_(T.matches(v, T.COUNT_RE), T.length(v) <= lit(18))
    order = col("item")
    kind = case(
        (is_null(col("option")), lit("group")),
        (exp.not_(col("option").isin(*[lit(o) for o in options])), lit("option")),
        (exp.not_(fn("coalesce", T.matches(v, T.COUNT_RE), lit(False))), lit("count")),
    )
    bad = exp.and_(f, not_null(kind))
    out = [
        coalesce(agg("bool_or", lit(True), where=f), lit(False)).as_(r + "sg"),
        agg("arg_min", kind, order, where=bad).as_(r + "sk"),
        agg("arg_min", col("option"), order, where=bad).as_(r + "so"),
        agg("arg_min", col("value"), order, where=bad).as_(r + "st"),
        coalesce(agg("count", exp.Distinct(expressions=[col("question")]), where=f), lit(0)).as_(r + "q"),
        coalesce(agg("bool_or", exp.and_(T.matches(v, T.COUNT_RE), T.length(v) > lit(18)), where=f), lit(False)).as_(r + "sx"),
    ]
    for j, o in enumerate(options):
        out.append(coalesce(agg("sum", case((counted, exp.cast(v, T.BIG)), default=big(0)), where=exp.and_(f, col("option").eq(lit(o)))), big(0)).as_(f"{r}o{j}"))
    # digits of the longest count, plus those of how many were added: the totals' digits
    out.append(coalesce(agg("max", T.length(v), where=exp.and_(f, counted)), lit(1)).as_(r + "sd"))
    out.append(coalesce(T.length(T.text_of(agg("count", exp.Star(), where=f))), lit(1)).as_(r + "sn"))
    return out
