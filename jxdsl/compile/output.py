"""The batch engines' outputs as relations: indicators in output order, errors in the order the
interpreter reports them, and (DuckDB) each project's JSON object as ``explain.to_json`` writes it."""
from __future__ import annotations

from sqlglot import exp

from jxdsl import ir
from jxdsl.compile.plan import Plan
from jxdsl.compile.project import moves_weight
from jxdsl.compile.sqlb import agg, case, coalesce, col, fn, lit, not_null
from jxdsl.kernel import sqltext as T
from jxdsl.units import plain

GROUP_SPAN = 10**10  # errors of a target row sort by (its group's first line, its line)


def _str(node) -> str | None:
    return str(node.origin) if getattr(node, "origin", None) else None


def statements(plan: Plan, columns: set[str]) -> list[tuple[str, exp.Expression]]:
    from jxdsl.compile.jsonout import json_statements

    return [*helper_statements(plan), ("jx_nodes", nodes(plan)), ("jx_errors", errors(plan, columns)), *json_statements(plan, columns)]


# ---- indicators ---------------------------------------------------------------------------------
def nodes(plan: Plan) -> exp.Expression:
    """(pid, k, g, r, path, weight, score, deduction, status, explanation, source, …, target, actual,
    method, tier, given, note), one per indicator; target, actual, method (计分方法) and the row's
    record (档次, 评价得分, 说明) only on a target-table row.

    ``path`` is a JSON array; weight, score and deduction are texts as JSON numbers (NULL: null)."""
    selects = []
    for k, node in enumerate(plan.nodes):
        selects.append(exp.select(
            col("pid"), lit(k).as_("k"), lit(0).as_("g"), lit(0).as_("r"),
            lit(_path_json(node.path)).as_("path"), (col(f"n{k}_w") if moves_weight(node) else lit(plain(node.weight, 4))).as_("weight"),
            col(f"n{k}_ss").as_("score"), col(f"n{k}_ds").as_("deduction"), col(f"n{k}_st").as_("status"),
            col(f"n{k}_x").as_("explanation"), lit(_str(node)).as_("source"),
            exp.cast(col(f"n{k}_s"), "DECIMAL(38,0)").as_("s_int"), exp.cast(col(f"n{k}_wi") if moves_weight(node) else lit(str(int(node.weight * 10**plan.scale))), "DECIMAL(38,0)").as_("w_int"),
            exp.cast(col(f"n{k}_ex"), "DECIMAL(38,0)").as_("ex_int"), exp.cast(exp.null(), "VARCHAR").as_("target"), exp.cast(exp.null(), "VARCHAR").as_("actual"),
            exp.cast(exp.null(), "VARCHAR").as_("method"), *_no_record(),
        ).from_("jx_proj"))
    for t in plan.targets:
        if t.kind != "table":
            continue
        k = plan.order(t.node)
        base = _path_json(t.path)[:-1]
        groups = exp.select(
            col("pid", "g"), lit(k).as_("k"), col("gline", "g").as_("g"), lit(0).as_("r"),
            T.concat(lit(base + ", "), T.json_string(col("second", "g")), lit("]")).as_("path"),
            col("ws", "g").as_("weight"), col("ss", "g").as_("score"),
            col("ds", "g").as_("deduction"),
            col("st", "g").as_("status"), col("x", "g").as_("explanation"),
            T.concat(col("source", "p"), lit(":"), T.text_of(col("gline", "g")), lit(":1")).as_("source"),
            exp.cast(col("s", "g"), "DECIMAL(38,0)").as_("s_int"), exp.cast(col("w", "g"), "DECIMAL(38,0)").as_("w_int"), exp.cast(lit("0"), "DECIMAL(38,0)").as_("ex_int"),
            exp.cast(exp.null(), "VARCHAR").as_("target"), exp.cast(exp.null(), "VARCHAR").as_("actual"), exp.cast(exp.null(), "VARCHAR").as_("method"), *_no_record(),
        ).from_(exp.alias_(exp.to_table("jx_groups"), "g")).join(exp.alias_(exp.to_table("projects"), "p"), using=["pid"]).where(col("tk", "g").eq(lit(t.index)))
        group_line = exp.select(col("pid"), col("second"), fn("min", col("line")).as_("gline")).from_("jx_rows").where(col("tk").eq(lit(t.index))).group_by(col("pid"), col("second"))
        second = case((col("second", "w").eq(lit("")), lit("")), default=T.concat(T.json_string(col("second", "w")), lit(", ")))
        rows = exp.select(
            col("pid", "w"), lit(k).as_("k"), case((col("second", "w").eq(lit("")), col("line", "w")), default=col("gline", "gl")).as_("g"), col("line", "w").as_("r"),
            T.concat(lit(base + ", "), second, T.json_string(col("third", "w")), lit("]")).as_("path"),
            col("ws", "w").as_("weight"), col("ss", "w").as_("score"), col("ds", "w").as_("deduction"),
            col("st", "w").as_("status"), col("x", "w").as_("explanation"),
            T.concat(col("source", "p"), lit(":"), T.text_of(col("line", "w")), lit(":1")).as_("source"),
            exp.cast(col("s", "w"), "DECIMAL(38,0)").as_("s_int"), exp.cast(col("w", "w"), "DECIMAL(38,0)").as_("w_int"), exp.cast(lit("0"), "DECIMAL(38,0)").as_("ex_int"),
            coalesce(col("target", "w"), lit("")).as_("target"), coalesce(col("actual", "w"), lit("")).as_("actual"), col("mt", "w").as_("method"),
            col("tier", "w"), col("given", "w"), col("note", "w"),
        ).from_(exp.alias_(exp.to_table("jx_rows"), "w")).join(
            exp.alias_(group_line.subquery(), "gl"), on=exp.and_(col("pid", "gl").eq(col("pid", "w")), col("second", "gl").eq(col("second", "w"))),
        ).join(exp.alias_(exp.to_table("projects"), "p"), on=col("pid", "p").eq(col("pid", "w"))).where(col("tk", "w").eq(lit(t.index)))
        selects += [groups, rows]
    out = selects[0]
    for s in selects[1:]:
        out = exp.union(out, s, distinct=False, copy=False)
    return out


def _no_record() -> list[exp.Expression]:
    return [exp.cast(exp.null(), "VARCHAR").as_(c) for c in ("tier", "given", "note")]


def _path_json(path) -> str:
    import json

    return json.dumps(list(path), ensure_ascii=False)


# ---- errors -----------------------------------------------------------------------------------
ERROR_COLUMNS = ("pid", "phase", "k", "sub", "path", "message", "hint", "code", "arg", "line", "node")


def _err(source: str, phase: int, k, sub, path, message, hint, code, arg, line, node, where=None):
    values = [col("pid"), lit(phase), k, sub, path, message, hint, code, arg, line, node]
    q = exp.select(*[_typed(v, n).as_(n) for v, n in zip(values, ERROR_COLUMNS)]).from_(source)
    return q.where(where) if where is not None else q


def _typed(v, name):
    if isinstance(v, exp.Null) or (isinstance(v, exp.Literal) and name not in ("phase",)):
        target = "BIGINT" if name in ("k", "sub", "line", "node", "phase") else "VARCHAR"
        return exp.cast(v, target)
    if name in ("k", "sub", "line", "node"):
        return exp.cast(v, "BIGINT")
    return v


def errors(plan: Plan, columns: set[str]) -> exp.Expression:
    scheme = plan.scheme
    null = exp.null()
    parts = [
        _err("problems", 0, col("seq"), lit(0), null, col("message"), col("hint"), null, null, col("line"), null, where=not_null(col("pid"))),
        _err("jx_fact_problems", 1, col("seq"), lit(0), null, col("message"), col("hint"), null, null, col("line"), null),
    ]
    for j, _ in enumerate(scheme.derived):
        if f"d{j}_pm" in columns:
            parts.append(_err("jx_proj_line", 1, lit(10**12 + j), lit(0), null, col(f"d{j}_pm"), null, null, null, coalesce(col(f"d{j}_pl"), col("facts_line")), null, where=not_null(col(f"d{j}_pm"))))
    homes = [t.node.name for t in plan.targets if t.kind == "table"]
    stray = T.concat(lit("目标表中一级指标“"), T.strip(col("first")), lit("”（"), T.strip(col("third")), lit("）不在规则集中（规则集中没有同名的“来自目标表”指标）"))
    hint = lit(f"可用：{'、'.join(homes) or '（规则集没有来自目标表的指标）'}")
    parts.append(_err("jx_stray", 2, col("line"), lit(0), null, stray, hint, lit("table"), T.strip(col("first")), col("line"), null))
    none = T.concat(lit("评价记录“"), col("key"), lit("”没有对应的指标"))
    many = T.concat(lit("评价记录“"), col("key"), lit("”对应多个指标："), col("paths"))
    parts.append(_err("jx_claims", 3, col("rec"), lit(0), null, case((col("n").eq(lit(0)), none), default=many),
                      case((col("n").eq(lit(0)), null), default=lit("用完整路径写评价记录，如 过程/资金管理/资金到位率/资金到位率")),
                      case((col("n").eq(lit(0)), lit("record")), default=null), col("key"), col("line"), null))
    for k, node in enumerate(plan.nodes):
        if f"n{k}_pm" not in columns:
            continue
        parts.append(_err("jx_proj_line", 4, lit(k), lit(0 if not isinstance(node, ir.TargetTable) else 10**18), lit("/".join(node.path)), col(f"n{k}_pm"),
                          col(f"n{k}_ph"), col(f"n{k}_pc"), col(f"n{k}_pa"), coalesce(exp.cast(col(f"n{k}_pl"), "BIGINT"), col("facts_line")), lit(k), where=not_null(col(f"n{k}_pm"))))
        if isinstance(node, ir.TargetTable):
            parts[-1] = _table_errors(plan, k, node, parts[-1])
    for t in plan.targets:
        if t.kind in ("加分", "扣分", "否决") and f"i{t.index}_pm" in columns:
            parts.append(_err("jx_proj_line", 5, lit(t.index), lit(0), null, col(f"i{t.index}_pm"), col(f"i{t.index}_ph"), null, null, null, null, where=not_null(col(f"i{t.index}_pm"))))
    parts.append(_err("jx_proj_line", 6, lit(0), lit(0), null, col("total_pm"), null, null, null, null, null, where=not_null(col("total_pm"))))
    for t in plan.targets:
        if t.kind != "table":
            continue
        k = plan.order(t.node)
        parts.append(_err("jx_row_errors", 4, lit(k), col("gline") * lit(GROUP_SPAN) + col("line"), col("path"), col("pm"), col("ph"), col("pc"), col("pa"), col("line"), lit(k), where=col("tk").eq(lit(t.index))))
    out = parts[0]
    for p in parts[1:]:
        out = exp.union(out, p, distinct=False, copy=False)
    return out


def _table_errors(plan, k, node, q):
    """A 来自目标表 indicator's own error (no rows: first; weights not adding up: after its rows)."""
    sub = case((col(f"n{k}_st").eq(lit("missing")), lit(0)), default=lit(10**18))
    q.expressions[3] = exp.cast(sub, "BIGINT").as_("sub")
    return q


def helper_statements(plan: Plan) -> list[tuple[str, exp.Expression]]:
    """Relations the error union reads: projects with their lines, stray rows, claims, row errors."""
    proj_line = exp.select(exp.Star()).from_(exp.alias_(exp.to_table("jx_proj"), "j")).join(
        exp.alias_(exp.select(col("pid"), col("facts_line")).from_("projects").subquery(), "pl"), using=["pid"])
    from jxdsl.compile.rows import table_index

    stray = exp.select(col("pid"), col("line"), col("first"), col("third")).from_("targets").where(exp.Is(this=table_index(plan, col("first")), expression=exp.null()))
    claims = exp.select(col("pid", "c"), col("rec", "c"), col("key", "c"), col("line", "c"), col("n", "c"), col("paths", "p")).from_(exp.alias_(exp.to_table("jx_claim_n"), "c")).join(
        exp.alias_(exp.to_table("jx_claim_paths"), "p"), on=exp.and_(col("pid", "p").eq(col("pid", "c")), col("rec", "p").eq(col("rec", "c"))), join_type="left",
    ).where(exp.or_(col("n", "c").eq(lit(0)), exp.and_(col("n", "c") > lit(1), exp.not_(col("exact", "c")))))
    gl = exp.select(col("pid"), col("tk"), col("second"), fn("min", col("line")).as_("gline")).from_("jx_rows").group_by(col("pid"), col("tk"), col("second"))
    table_paths = case(*[(col("tk", "w").eq(lit(t.index)), lit("/".join(t.path))) for t in plan.targets if t.kind == "table"]) if any(t.kind == "table" for t in plan.targets) else lit("")
    path = T.concat(table_paths, case((col("second", "w").eq(lit("")), lit("")), default=T.concat(lit("/"), col("second", "w"))), lit("/"), col("third", "w"))
    own = case((col("second", "w").eq(lit("")), col("line", "w")), default=col("gline", "g"))  # a row without 二级指标 is its own group, where it is
    row_errors = exp.select(col("pid", "w"), col("tk", "w"), col("line", "w"), own.as_("gline"), path.as_("path"), col("pm", "w"), col("ph", "w"), col("pc", "w"), col("pa", "w")).from_(
        exp.alias_(exp.to_table("jx_rows"), "w")).join(exp.alias_(gl.subquery(), "g"), on=exp.and_(col("pid", "g").eq(col("pid", "w")), col("tk", "g").eq(col("tk", "w")), col("second", "g").eq(col("second", "w")))).where(not_null(col("pm", "w")))
    return [("jx_proj_line", proj_line), ("jx_stray", stray), ("jx_claims", claims), ("jx_row_errors", row_errors)]


__all__ = ["statements", "helper_statements", "nodes", "errors", "agg", "coalesce"]
