"""Evaluator records in SQL: matched to their indicator by path suffix, then read field by field.

``records`` holds one row per field entry (``inputs.Record`` flattened: a scalar field has
``item`` NULL, list entries 1…n, an empty list one row with ``item`` 0).  A record is matched the
way the interpreter matches it (``evaluate._Run._match_records``): its key, full-width forms
normalized, must be a suffix of the indicator's path; the longest match wins, then the first
record.  The result, ``jx_recl``, is one row per project and target with the record's features;
``source.py`` joins the ones a program reads.
"""
from __future__ import annotations

import re

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
        exp.alias_(exp.to_table("jx_lex"), "l"), on=exp.and_(col("x", "l").eq(col("value", "e")), is_null(col("item", "e")), col("field", "e").isin(lit("得分"), lit("次数"), lit("分值"))), join_type="left")
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
        ("jx_counted", counted), ("jx_both", both), ("jx_recl", long_statement(plan)),
    ]


def _field(name: str, scalar: bool = False) -> exp.Expression:
    cond = col("field").eq(lit(name))
    return exp.and_(cond, is_null(col("item"))) if scalar else cond


def _sizes(plan: Plan) -> tuple[int, int]:
    """(most items of a checklist, most options of a survey) in the rulebook."""
    items = options = 0
    for t in plan.targets:
        rule = t.node.rule if isinstance(t.node, ir.Leaf) else None
        if isinstance(rule, ir.Checklist):
            items = max(items, len(rule.items))
        source = getattr(rule, "value", None) if rule is not None else None
        if isinstance(source, ir.SurveyValue):
            options = max(options, len(source.options))
    return items, options


def names_table(plan: Plan) -> exp.Expression:
    """(target, kind, name, j): the checklist items and survey options of each target, numbered."""
    rows = []
    for t in plan.targets:
        rule = t.node.rule if isinstance(t.node, ir.Leaf) else None
        if isinstance(rule, ir.Checklist):
            rows += [(t.index, "item", item.name, j) for j, item in enumerate(rule.items)]
        source = getattr(rule, "value", None) if rule is not None else None
        if isinstance(source, ir.SurveyValue):
            rows += [(t.index, "option", o.name, j) for j, o in enumerate(source.options)]
    return values(rows, ["target", "kind", "name", "j"], "n")


def long_statement(plan: Plan) -> exp.Expression:
    """One row per project and target with a record: the record's features (see ``record_feature``)."""
    n_items, n_options = _sizes(plan)
    survey = col("field").eq(lit("问卷"))
    cols: list[exp.Expression] = [
        col("pid"), col("target"), lit(True).as_("p"), fn("min", col("rline")).as_("l"),
        *[agg("max", col("value"), where=_field(field, True)).as_(short) for field, short in SCALARS],
        *[agg("max", col(r), where=_field("得分", True)).as_(f"score_{r}") for r in READINGS if r.startswith("q_")],
        *[agg("max", col(r), where=_field("分值", True)).as_(f"wt_{r}") for r in READINGS if r.startswith("q_")],
        *[agg("max", col(r), where=_field("次数", True)).as_(f"cnt_{r}") for r in READINGS if r.startswith("k_")],
        # 扣分
        agg("bool_or", lit(True), where=_field("发现")).as_("fg"),
        agg("max", col("value"), where=_field("发现", True)).as_("fb"),
        agg("count", exp.Star(), where=exp.and_(_field("发现"), col("item") >= lit(1))).as_("fc"),
        agg("string_agg", col("value"), lit("；"), where=exp.and_(_field("发现"), col("item") >= lit(1)), order=col("item")).as_("ft"),
        # 清单
        agg("bool_or", lit(True), where=_field("满足")).as_("mg"),
        agg("bool_or", lit(True), where=_field("未满足")).as_("ug"),
        agg("bool_or", col("value").isin(*[lit(w) for w in ALL_WORDS]), where=_field("满足", True)).as_("ma"),
        agg("bool_or", lit(True), where=exp.and_(_field("未满足"), exp.or_(is_null(col("item")), col("item") >= lit(1)))).as_("ul"),
        agg("arg_min", col("value"), col("item"), where=exp.and_(_field("满足"), col("entry"), is_null(col("j")))).as_("mu"),
        agg("arg_min", col("value"), col("item"), where=exp.and_(_field("未满足"), col("entry"), is_null(col("j")))).as_("uu"),
    ]
    for j in range(n_items):
        cols += [
            agg("bool_or", lit(True), where=exp.and_(_field("满足"), col("entry"), col("j").eq(lit(j)))).as_(f"im{j}"),
            agg("bool_or", lit(True), where=exp.and_(_field("未满足"), col("entry"), col("j").eq(lit(j)))).as_(f"iu{j}"),
        ]
    if n_options:
        cols += _survey(survey, n_options)
    named = (
        exp.select(col("*", "e"), col("j", "n"))
        .from_(exp.alias_(exp.to_table("jx_e"), "e"))
        .join(
            exp.alias_(names_table(plan).subquery(), "n"),
            on=exp.and_(
                col("target", "n").eq(col("target", "e")),
                col("kind", "n").eq(case((col("field", "e").eq(lit("问卷")), lit("option")), default=lit("item"))),
                col("name", "n").eq(case((col("field", "e").eq(lit("问卷")), col("option", "e")), default=col("value", "e"))),
            ),
            join_type="left",
        )
    )
    features = exp.select(*cols).from_(named.subquery("e")).group_by(col("pid"), col("target"))
    dups = exp.select(
        col("pid"), col("target"),
        *[agg("string_agg", col("value"), lit("、"), where=exp.and_(col("field").eq(lit(f)), col("c") > lit(1)), order=col("value")).as_(a) for f, a in (("满足", "md"), ("未满足", "ud"))],
    ).from_("jx_counted").group_by(col("pid"), col("target"))
    overlaps = exp.select(col("pid"), col("target"), agg("string_agg", col("value"), lit("、"), where=exp.and_(col("inm"), col("inu")), order=col("value")).as_("ov")).from_("jx_both").group_by(col("pid"), col("target"))
    return (
        exp.select(col("*", "a"), col("md", "d"), col("ud", "d"), col("ov", "o"))
        .from_(exp.alias_(features.subquery(), "a"))
        .join(exp.alias_(dups.subquery(), "d"), using=["pid", "target"], join_type="left")
        .join(exp.alias_(overlaps.subquery(), "o"), using=["pid", "target"], join_type="left")
    )


SCALARS = (("档次", "tier"), ("得分", "score"), ("说明", "note"), ("不适用", "na"), ("发生", "occ"), ("次数", "cnt"), ("分值", "wt"))
_FLAGS = {"p", "fg", "mg", "ug", "ma", "ul", "sg", "sx"}
_COUNT = {"fc": 0, "q": 0, "sd": 1, "sn": 1}


def record_feature(alias: str, suffix: str) -> exp.Expression:
    """A record's feature as the kernel's ``SqlRecord`` reads it, with its value when the project
    has no record for the target (flags false, counts zero)."""
    c = col(suffix, alias)
    if suffix in _FLAGS or re.fullmatch(r"i[mu]\d+", suffix):
        return coalesce(c, lit(False))
    if suffix in _COUNT:
        return coalesce(c, lit(_COUNT[suffix]))
    if re.fullmatch(r"o\d+", suffix):
        return coalesce(c, big(0))
    return c


def _survey(f: exp.Expression, n_options: int) -> list[exp.Expression]:
    v = T.clean(col("value"))
    counted = exp.and_(T.matches(v, T.COUNT_RE), T.length(v) <= lit(18))
    order = col("item")
    kind = case(
        (is_null(col("option")), lit("group")),
        (is_null(col("j")), lit("option")),
        (exp.not_(fn("coalesce", T.matches(v, T.COUNT_RE), lit(False))), lit("count")),
    )
    bad = exp.and_(f, not_null(kind))
    out = [
        agg("bool_or", lit(True), where=f).as_("sg"),
        agg("arg_min", kind, order, where=bad).as_("sk"),
        agg("arg_min", col("option"), order, where=bad).as_("so"),
        agg("arg_min", col("value"), order, where=bad).as_("st"),
        agg("count", exp.Distinct(expressions=[col("question")]), where=f).as_("q"),
        agg("bool_or", exp.and_(T.matches(v, T.COUNT_RE), T.length(v) > lit(18)), where=f).as_("sx"),
    ]
    for j in range(n_options):
        out.append(agg("sum", case((counted, exp.cast(v, T.BIG)), default=big(0)), where=exp.and_(f, col("j").eq(lit(j)))).as_(f"o{j}"))
    # digits of the longest count, plus those of how many were added: the totals' digits
    out.append(coalesce(agg("max", T.length(v), where=exp.and_(f, counted)), lit(1)).as_("sd"))
    out.append(coalesce(T.length(T.text_of(agg("count", exp.Star(), where=f))), lit(1)).as_("sn"))
    return out
