"""The SQL that turns a table file (``raw``: line + text columns) into the input relations.

Self-evaluation table: one row per project × indicator (``contracts.md``); its 预算执行率 row gives
the facts 全年预算数 and 全年执行数.  Facts table: one row per project × fact or evaluator record
(``docs/facts-table.md``).  A row that cannot belong to a project is a problem located at its line,
never dropped silently; the other rows of the table are read as usual.
"""
from __future__ import annotations

from sqlglot import exp

from jxdsl.compile.sqlb import agg, case, coalesce, col, fn, is_null, lit, not_null, row_number
from jxdsl.kernel import sqltext as T

from jxdsl.facts import BUDGET_FACTS, BUDGET_ROW, DETAIL_HINT, DETAIL_WORDS, DUPLICATE_BUDGET, FACT_COLUMNS, FACT_PREFIXES
from jxdsl.inputs import DETAIL_ORPHAN, DETAIL_ORPHAN_HINT
YEAR_RE = r"^([0-9]{4})(?:年度|年|度)?\z"
RECORD_FIELDS = ("档次", "得分", "说明", "次数", "不适用", "发生", "分值")
LIST_FIELDS = ("发现", "满足", "未满足")
ALL_WORDS = ("全部", "all")
NONE_WORDS = ("无", "没有", "none")


def _c(name: str, header: set[str]) -> exp.Expression:
    """A column of the table, NULL when the table has no such column or the cell is blank."""
    if name not in header:
        return exp.cast(exp.null(), "VARCHAR")
    c = exp.column(name, quoted=True)
    return case((exp.or_(is_null(c), T.strip(c).eq(lit(""))), exp.null()), default=c)


def _year_checks(year: exp.Expression) -> tuple[exp.Expression, exp.Expression]:
    """(valid year as text, or NULL; whether a year was written but is not one)."""
    y = T.clean(year)
    digits = T.extract(y, YEAR_RE, 1)
    ok = exp.and_(T.matches(y, YEAR_RE), exp.cast(digits, "INT").between(lit(1900), lit(2200)))
    return case((ok, digits)), exp.and_(not_null(year), exp.not_(coalesce(ok, lit(False))))


PART = "jx:part"  # forms.PART: the form a row came from, when the table was read from forms
PART_ROWS = 2**21  # more than a sheet's rows: (part, line) ordered as one number


def _projects(source: str, label: str, kind: str, order: exp.Expression | None = None) -> list[tuple[str, exp.Expression]]:
    """pid by first appearance of each project name (``order``: by form, then line); the year
    its rows last give."""
    first = exp.select(col("project"), fn("min", order if order is not None else col("line")).as_("first_line")).from_(source).where(exp.not_(col("project").eq(lit("")))).group_by(col("project"))
    pids = exp.select(col("project"), row_number([], [exp.Ordered(this=col("first_line"))]).as_("pid")).from_(first.subquery("f"))
    years = exp.select(col("project"), agg("arg_max", col("year_ok"), col("line"), where=not_null(col("year_ok"))).as_("year")).from_(source).group_by(col("project"))
    projects = exp.select(col("pid", "p"), col("project", "p"), col("year", "y"), lit(label).as_("source"), exp.cast(exp.null(), "BIGINT").as_("facts_line"), lit(kind).as_("kind")).from_(
        exp.alias_(exp.to_table("jx_pid"), "p")).join(exp.alias_(years.subquery(), "y"), on=col("project", "y").eq(col("project", "p")), join_type="left")
    return [("jx_pid", pids), ("projects", projects)]


def _with_pid(select: exp.Select, source: str) -> exp.Select:
    return select.from_(exp.alias_(exp.to_table(source), "r")).join(exp.alias_(exp.to_table("jx_pid"), "p"), on=col("project", "p").eq(col("project", "r")), join_type="left")


def fact_columns(header: set[str]) -> dict[str, str]:
    """Fact name → column: the budget columns a self-evaluation table may have (年初预算数 …),
    and ``事实:名称`` for any other fact of the rulebook."""
    out = {c: c for c in FACT_COLUMNS if c in header}
    for c in sorted(header):
        for prefix in FACT_PREFIXES:
            if c.startswith(prefix) and c[len(prefix):].strip():
                out.setdefault(c[len(prefix):].strip(), c)
    return out


def self_eval_statements(header: set[str], label: str) -> list[tuple[str, exp.Expression]]:
    year_ok, year_bad = _year_checks(_c("年度", header))
    third = T.strip(coalesce(_c("三级指标", header), lit("")))
    detail = T.clean(coalesce(_c("明细", header), lit("")))
    columns = fact_columns(header)
    rows = exp.select(
        col("line"), T.strip(coalesce(_c("项目", header), lit(""))).as_("project"),
        _c("一级指标", header).as_("first"), _c("二级指标", header).as_("second"), third.as_("third"),
        _c("分值", header).as_("weight"), _c("年度指标值", header).as_("target"), _c("实际完成值", header).as_("actual"),
        _c("档次", header).as_("tier"), _c("评价得分", header).as_("score"), _c("说明", header).as_("note"),
        _c("年度", header).as_("year"), year_ok.as_("year_ok"), year_bad.as_("year_bad"), third.eq(lit(BUDGET_ROW)).as_("budget"),
        T.strip(_c("计分方法", header)).as_("method"), detail.as_("detail_text"), detail.eq(lit("是")).as_("is_detail"),
        coalesce(exp.TryCast(this=_c(PART, header), to=exp.DataType.build("BIGINT")), lit(0)).as_("part"),
        *[T.strip(_c(c, header)).as_(f"f_{i}") for i, c in enumerate(columns.values())],
    ).from_("raw")
    checks = [
        (col("project").eq(lit("")), lit("自评表缺少项目名称"), None),
        (col("year_bad"), T.concat(lit("“年度”应是四位年份，如 2021，实际是“"), col("year"), lit("”")), None),
        (col("budget"), exp.null(), None),
        (exp.not_(col("detail_text").isin(lit(""), *[lit(w) for w in DETAIL_WORDS])), T.concat(lit("“明细”应为“是”或“否”，实际是“"), col("detail_text"), lit("”")), DETAIL_HINT),
        (is_null(col("first")), lit("缺少“一级指标”"), None),
        (col("third").eq(lit("")), lit("缺少“三级指标”"), None),
        (exp.and_(is_null(col("weight")), exp.not_(col("is_detail"))), lit("缺少“分值”"), None),
    ]
    reason = case(*[(c, m) for c, m, _ in checks])
    reason_hint = case(*[(c, lit(h) if h else exp.null()) for c, _, h in checks])
    checked0 = exp.select(exp.Star(), reason.as_("reason0"), reason_hint.as_("hint0")).from_("jx_raw_rows")
    ordinary = case((exp.and_(is_null(col("reason0")), exp.not_(col("budget")), exp.not_(col("is_detail"))), col("line")))
    above = exp.Window(this=fn("max", ordinary), partition_by=[col("project"), T.strip(col("first"))], order=exp.Order(expressions=[exp.Ordered(this=col("line"))]))
    checked1 = exp.select(exp.Star(), case((exp.and_(col("is_detail"), exp.not_(col("budget"))), above)).as_("parent")).from_("jx_checked0")
    orphan = exp.and_(col("is_detail"), exp.not_(col("budget")), is_null(col("parent")))
    orphan_text = T.concat(lit(DETAIL_ORPHAN.split("{}")[0]), col("third"), lit(DETAIL_ORPHAN.split("{}")[1]))
    checked = exp.select(exp.Star(), coalesce(col("reason0"), case((orphan, orphan_text))).as_("reason"),
                         case((exp.and_(is_null(col("reason0")), orphan), lit(DETAIL_ORPHAN_HINT)), default=col("hint0")).as_("reason_hint")).from_("jx_checked1")
    stmts = [("jx_raw_rows", rows), ("jx_checked0", checked0), ("jx_checked1", checked1), ("jx_checked", checked)]
    stmts += _projects("jx_checked", label, "self-eval", col("part") * lit(PART_ROWS) + col("line"))
    stmts.append(("jx_budget_n", _pid_budget()))
    stmts.append(("jx_fact_cells", _fact_cells(columns)))
    stmts.append(("jx_fact_values", _fact_values()))
    dup = exp.and_(col("budget", "r"), is_null(col("reason", "r")), col("n", "b") > lit(1))
    problem_rows = _with_pid(exp.select(
        col("pid", "p"), col("line", "r"),
        case((dup, T.concat(lit(DUPLICATE_BUDGET.split("{}")[0]), T.text_of(col("n", "b")), lit(DUPLICATE_BUDGET.split("{}")[1]))), default=col("reason", "r")).as_("message"),
        case((dup, lit("每个项目只能有一行预算执行率：删去多余的行")), default=col("reason_hint", "r")).as_("hint"),
    ), "jx_checked").join(exp.alias_(exp.to_table("jx_budget_n"), "b"), on=col("pid", "b").eq(col("pid", "p")), join_type="left").where(exp.or_(not_null(col("reason", "r")), dup))
    conflicts = exp.select(col("pid"), col("line"), col("message"), col("hint")).from_("jx_fact_values").where(not_null(col("message")))
    problem_rows = exp.union(problem_rows, conflicts, distinct=False)
    problems = exp.select(col("pid"), row_number([col("pid")], [exp.Ordered(this=col("line"))]).as_("seq"), col("line"), col("message"), col("hint")).from_(problem_rows.subquery("q"))
    facts = exp.select(col("pid"), row_number([col("pid")], [exp.Ordered(this=col("line")), exp.Ordered(this=col("k"))]).as_("seq"), col("name"), col("value"), col("line")).from_("jx_fact_values")
    targets = _with_pid(exp.select(
        col("pid", "p"), col("line", "r"), T.strip(col("first", "r")).as_("first"), T.strip(coalesce(col("second", "r"), lit(""))).as_("second"), col("third", "r"),
        col("weight", "r"), col("target", "r"), col("actual", "r"), T.strip(col("tier", "r")).as_("tier"), col("score", "r"), col("note", "r"),
        col("method", "r"), col("parent", "r"),
    ), "jx_checked").where(exp.and_(is_null(col("reason", "r")), exp.not_(col("budget", "r"))))
    stmts += [
        ("problems", problems),
        ("facts", facts),
        ("records", _budget_record()),
        ("targets", targets),
    ]
    return stmts


def _fact_cells(columns: dict[str, str]) -> exp.Expression:
    """Every fact a project's rows give: the 预算执行率 row's two (NULL when the project has two
    such rows: ``bad``), then each fact column's non-blank cells; k orders the names."""
    one = exp.and_(col("budget", "r"), is_null(col("reason", "r")))
    parts = []
    for n, (fact, column) in enumerate(zip(BUDGET_FACTS, ("target", "actual"))):
        parts.append(_with_pid(exp.select(
            col("pid", "p"), lit(n).as_("k"), lit(fact).as_("name"), T.strip(col(column, "r")).as_("value"), col("line", "r"), (col("n", "b") > lit(1)).as_("bad"),
        ), "jx_checked").join(exp.alias_(exp.to_table("jx_budget_n"), "b"), on=col("pid", "b").eq(col("pid", "p"))).where(
            exp.and_(one, col("line", "r").eq(col("first_line", "b")), exp.or_(col("n", "b") > lit(1), not_null(col(column, "r"))))))
    for i, name in enumerate(columns):
        parts.append(_with_pid(exp.select(
            col("pid", "p"), lit(len(BUDGET_FACTS) + i).as_("k"), lit(name).as_("name"), col(f"f_{i}", "r").as_("value"), col("line", "r"), lit(False).as_("bad"),
        ), "jx_checked").where(exp.and_(not_null(col(f"f_{i}", "r")), not_null(col("pid", "p")), exp.not_(col("project", "r").eq(lit(""))))))
    out = parts[0]
    for q in parts[1:]:
        out = exp.union(out, q, distinct=False)
    return out


def _fact_values() -> exp.Expression:
    """One fact per project and name; cells that disagree make it unusable and a problem at the
    first of them, naming each value with the first line that gives it."""
    firsts = exp.select(col("pid"), col("name"), col("value"), fn("min", col("line")).as_("vline"), fn("min", col("k")).as_("k"), agg("bool_or", col("bad")).as_("bad")).from_(
        "jx_fact_cells").group_by(col("pid"), col("name"), col("value"))
    shown = T.concat(lit("第 "), T.text_of(col("vline")), lit(" 行“"), coalesce(col("value"), lit("")), lit("”"))
    grouped = exp.select(
        col("pid"), col("name"), fn("min", col("k")).as_("k"), fn("min", col("vline")).as_("line"), fn("count", col("value")).as_("n"), agg("bool_or", col("bad")).as_("bad"),
        fn("min", col("value")).as_("one"), agg("string_agg", shown, lit("、"), order=col("vline")).as_("listed"),
    ).from_(firsts.subquery("f")).group_by(col("pid"), col("name"))
    clash = exp.and_(exp.not_(col("bad")), col("n") > lit(1))
    return exp.select(
        col("pid"), col("name"), col("k"), col("line"), case((exp.or_(col("bad"), col("n") > lit(1)), exp.null()), default=col("one")).as_("value"),
        case((clash, T.concat(lit("数据“"), col("name"), lit("”写了不同的值（"), col("listed"), lit("），无法确定用哪一个")))).as_("message"),
        case((clash, T.concat(lit("同一项目的“"), col("name"), lit("”只能有一个值：改正或删去不同的那个")))).as_("hint"),
    ).from_(grouped.subquery("g"))


def _budget_record() -> exp.Expression:
    """The 预算执行率 row's 档次, 评价得分, 说明 and 分值: the evaluator record of 预算执行率, as a facts
    file's ``评价: 预算执行率: {得分: …, 分值: …}`` (only when the project has one such row)."""
    fields = (("档次", "tier"), ("得分", "score"), ("说明", "note"), ("分值", "weight"))
    src = _with_pid(exp.select(col("pid", "p"), col("line", "r"), *[col(c, "r") for _, c in fields]), "jx_checked").join(
        exp.alias_(exp.to_table("jx_budget_n"), "b"), on=col("pid", "b").eq(col("pid", "p"))).where(
        exp.and_(col("budget", "r"), is_null(col("reason", "r")), col("n", "b").eq(lit(1)), exp.or_(*[not_null(col(c, "r")) for _, c in fields])))
    base = [col("pid"), col("line").as_("rec"), lit(BUDGET_ROW).as_("key"), col("line")]
    nulls = [exp.cast(exp.null(), "INT").as_("question"), exp.cast(exp.null(), "INT").as_("item"), exp.cast(exp.null(), "VARCHAR").as_("option")]
    out = exp.select(*base, exp.cast(exp.null(), "VARCHAR").as_("field"), *nulls, exp.cast(exp.null(), "VARCHAR").as_("value")).from_(src.subquery("s"))
    for field, c in fields:
        value = T.strip(col(c)) if field == "档次" else col(c)
        out = exp.union(out, exp.select(*base, lit(field).as_("field"), *nulls, value.as_("value")).from_(src.subquery("s")).where(not_null(col(c))), distinct=False)
    return out


def _pid_budget() -> exp.Expression:
    return (
        exp.select(col("pid", "p"), fn("count", exp.Star()).as_("n"), fn("min", col("line", "r")).as_("first_line"))
        .from_(exp.alias_(exp.to_table("jx_checked"), "r"))
        .join(exp.alias_(exp.to_table("jx_pid"), "p"), on=col("project", "p").eq(col("project", "r")))
        .where(exp.and_(col("budget", "r"), is_null(col("reason", "r"))))
        .group_by(col("pid", "p"))
    )


# ---- facts tables ---------------------------------------------------------------------------------
def facts_table_statements(header: set[str], label: str) -> list[tuple[str, exp.Expression]]:
    year_ok, year_bad = _year_checks(_c("年度", header))
    record_cols = [c for c in (*RECORD_FIELDS, *LIST_FIELDS, "问卷") if c in header]
    any_record = exp.or_(*[not_null(_c(c, header)) for c in record_cols]) if record_cols else lit(False)
    kind = T.clean(coalesce(_c("类别", header), lit("")))
    is_record = case((kind.eq(lit("事实")), lit(False)), (kind.eq(lit("评价")), lit(True)), default=coalesce(any_record, lit(False)))
    rows = exp.select(
        col("line"), T.strip(coalesce(_c("项目", header), lit(""))).as_("project"), T.strip(coalesce(_c("名称", header), lit(""))).as_("name"),
        _c("值", header).as_("value"), kind.as_("kind"), is_record.as_("is_record"), _c("年度", header).as_("year"), year_ok.as_("year_ok"), year_bad.as_("year_bad"),
        *[_c(c, header).as_(f"c_{i}") for i, c in enumerate(record_cols)],
    ).from_("raw")
    reason = case(
        (col("project").eq(lit("")), lit("事实表缺少项目名称")),
        (col("year_bad"), T.concat(lit("“年度”应是四位年份，如 2021，实际是“"), col("year"), lit("”"))),
        (col("name").eq(lit("")), lit("缺少“名称”")),
        (exp.and_(exp.not_(col("kind").isin(lit(""), lit("事实"), lit("评价")))), T.concat(lit("“类别”应为“事实”或“评价”，实际是“"), col("kind"), lit("”"))),
        (exp.and_(exp.not_(col("is_record")), is_null(col("value"))), lit("缺少“值”")),
    )
    checked = exp.select(exp.Star(), reason.as_("reason")).from_("jx_raw_rows")
    stmts = [("jx_raw_rows", rows), ("jx_checked", checked)]
    stmts += _projects("jx_checked", label, "facts-table")
    ok = is_null(col("reason", "r"))
    named = _with_pid(exp.select(col("pid", "p"), col("line", "r"), col("name", "r"), col("is_record", "r"), col("value", "r"), *[col(f"c_{i}", "r") for i in range(len(record_cols))]), "jx_checked").where(ok)
    counted = exp.select(exp.Star(), exp.Window(this=fn("count", exp.Star()), partition_by=[col("pid"), col("name"), col("is_record")]).as_("times"),
                         exp.Window(this=fn("min", col("line")), partition_by=[col("pid"), col("name"), col("is_record")]).as_("first_line"),
                         exp.Window(this=agg("string_agg", T.text_of(col("line")), lit("、"), order=col("line")), partition_by=[col("pid"), col("name"), col("is_record")]).as_("lines")).from_(named.subquery("n"))
    stmts.append(("jx_named", counted))
    dup_fact = exp.and_(exp.not_(col("is_record")), col("times") > lit(1))
    dup_record = exp.and_(col("is_record"), col("times") > lit(1), col("line") > col("first_line"))
    dup_message = case(
        (dup_fact, T.concat(lit("数据“"), col("name"), lit("”重复（第 "), col("lines"), lit(" 行），无法确定用哪一个"))),
        default=T.concat(lit("评价记录“"), col("name"), lit("”重复（第 "), col("lines"), lit(" 行），只用第一条")),
    )
    duplicates = exp.select(col("pid"), col("line"), dup_message.as_("message"), lit("每个名称只写一行").as_("hint")).from_("jx_named").where(
        exp.or_(exp.and_(dup_fact, col("line").eq(col("first_line"))), dup_record))
    problem_rows = exp.union(
        _with_pid(exp.select(col("pid", "p"), col("line", "r"), col("reason", "r").as_("message"), exp.cast(exp.null(), "VARCHAR").as_("hint")), "jx_checked").where(not_null(col("reason", "r"))),
        duplicates,
        distinct=False,
    )
    problems = exp.select(col("pid"), row_number([col("pid")], [exp.Ordered(this=col("line"))]).as_("seq"), col("line"), col("message"), col("hint")).from_(problem_rows.subquery("q"))
    facts = exp.select(col("pid"), col("line").as_("seq"), col("name"), case((col("times").eq(lit(1)), col("value"))).as_("value"), col("line")).from_("jx_named").where(
        exp.and_(exp.not_(col("is_record")), col("line").eq(col("first_line"))))
    stmts += [("problems", problems), ("facts", facts), ("records", _records(record_cols)), ("targets", _empty_targets())]
    return stmts


def _records(record_cols: list[str]) -> exp.Expression:
    """One row per field entry of each (first) record: scalars, list items one per line, survey answers."""
    base = [col("pid"), col("line").as_("rec"), col("name").as_("key"), col("line")]
    src = exp.select(exp.Star()).from_("jx_named").where(exp.and_(col("is_record"), col("line").eq(col("first_line"))))
    parts = [exp.select(*base, exp.cast(exp.null(), "VARCHAR").as_("field"), exp.cast(exp.null(), "INT").as_("question"), exp.cast(exp.null(), "INT").as_("item"),
                        exp.cast(exp.null(), "VARCHAR").as_("option"), exp.cast(exp.null(), "VARCHAR").as_("value")).from_(src.subquery("s"))]
    for i, field in enumerate(record_cols):
        c = col(f"c_{i}")
        if field in RECORD_FIELDS or field not in (*LIST_FIELDS, "问卷"):
            parts.append(exp.select(*base, lit(field).as_("field"), exp.cast(exp.null(), "INT").as_("question"), exp.cast(exp.null(), "INT").as_("item"),
                                    exp.cast(exp.null(), "VARCHAR").as_("option"), c.as_("value")).from_(src.subquery("s")).where(not_null(c)))
        elif field in LIST_FIELDS:
            parts += _list_field(base, src, field, c)
        else:
            parts.append(_survey_field(base, src, c))
    out = parts[0]
    for p in parts[1:]:
        out = exp.union(out, p, distinct=False)
    return out


def _lines(c) -> exp.Expression:
    """The non-blank lines of a cell, stripped (Excel writes a list one item per line)."""
    return fn("list_filter", fn("list_transform", fn("string_split", fn("replace", c, lit("\r"), lit("")), lit("\n")),
                                exp.Lambda(this=T.strip(exp.column("s")), expressions=[exp.to_identifier("s")])),
              exp.Lambda(this=exp.not_(exp.column("s").eq(lit(""))), expressions=[exp.to_identifier("s")]))


def _list_field(base, src, field, c) -> list[exp.Expression]:
    scalar = T.clean(c).isin(*[lit(w) for w in ALL_WORDS]) if field in ("满足", "未满足") else lit(False)
    none = T.clean(c).isin(*[lit(w) for w in NONE_WORDS])
    nulls = [exp.cast(exp.null(), "INT").as_("question")]
    out = [
        exp.select(*base, lit(field).as_("field"), *nulls, exp.cast(exp.null(), "INT").as_("item"), exp.cast(exp.null(), "VARCHAR").as_("option"), T.clean(c).as_("value"))
        .from_(src.subquery("s")).where(exp.and_(not_null(c), scalar)),
        exp.select(*base, lit(field).as_("field"), *nulls, lit(0).as_("item"), exp.cast(exp.null(), "VARCHAR").as_("option"), exp.cast(exp.null(), "VARCHAR").as_("value"))
        .from_(src.subquery("s")).where(exp.and_(not_null(c), none)),
    ]
    items = exp.select(*base, lit(field).as_("field"), *nulls, exp.cast(fn("generate_subscripts", _lines(c), lit(1)), "INT").as_("item"),
                       exp.cast(exp.null(), "VARCHAR").as_("option"), exp.Unnest(expressions=[_lines(c)]).as_("value")).from_(src.subquery("s")).where(
        exp.and_(not_null(c), exp.not_(scalar), exp.not_(none)))
    out.append(items)
    return out


def _survey_field(base, src, c) -> exp.Expression:
    """问卷: one question per line, each ``选项=人数`` pair separated by ，、；or spaces."""
    questions = exp.select(*base, exp.cast(fn("generate_subscripts", _lines(c), lit(1)), "INT").as_("question"), exp.Unnest(expressions=[_lines(c)]).as_("q")).from_(
        src.subquery("s")).where(not_null(c))
    split = fn("regexp_split_to_array", T.normalize(col("q")), lit(r"[,，；;、\s]+"))
    pairs = exp.select(exp.Star(), exp.Unnest(expressions=[split]).as_("pair"), fn("generate_subscripts", split, lit(1)).as_("pos")).from_(questions.subquery("qs"))
    pairs2 = exp.select(exp.Star(), (col("question") * lit(10000) + col("pos")).as_("item")).from_(pairs.subquery("p")).where(exp.not_(col("pair").eq(lit(""))))
    has = T.matches(col("pair"), "=")
    return exp.select(col("pid"), col("rec"), col("key"), col("line"), lit("问卷").as_("field"), col("question"), exp.cast(col("item"), "INT").as_("item"),
                      case((has, T.strip(T.extract(col("pair"), r"^([^=]*)=", 1)))).as_("option"),
                      case((has, T.strip(T.extract(col("pair"), r"=(.*)$", 1))), default=col("pair")).as_("value")).from_(pairs2.subquery("p2"))


def _empty_targets() -> exp.Expression:
    cols = [("pid", "BIGINT"), ("line", "BIGINT")] + [(c, "VARCHAR") for c in ("first", "second", "third", "weight", "target", "actual", "tier", "score", "note", "method")] + [("parent", "BIGINT")]
    return exp.select(*[exp.cast(exp.null(), t).as_(n) for n, t in cols]).where(lit(False))
