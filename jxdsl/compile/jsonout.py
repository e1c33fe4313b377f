"""Each project's JSON object, built by DuckDB: ``explain.to_json`` written as SQL, for output that
streams (``score TABLE --format jsonl``).  The tests hold the two to the same bytes."""
from __future__ import annotations

import json

from sqlglot import exp

from jxdsl import ir
from jxdsl.compile.plan import Plan
from jxdsl.compile.sqlb import agg, case, coalesce, col, is_null, lit, not_null
from jxdsl.kernel import sqltext as T
from jxdsl.units import plain


def _j(e) -> exp.Expression:
    """A text as a JSON string (NULL: null)."""
    return coalesce(T.json_string(e), lit("null"))


def _n(e) -> exp.Expression:
    """A shown number as a JSON number (NULL: null)."""
    return T.json_number(e)


def _number(value, digits: int = 2) -> str:
    from jxdsl.explain import number

    return json.dumps(number(value, digits))


def indicator_json() -> exp.Expression:
    return T.concat(
        lit('{"path": '), col("path"), lit(', "weight": '), _n(col("weight")), lit(', "score": '), _n(col("score")),
        lit(', "deduction": '), _n(col("deduction")), lit(', "status": '), _j(col("status")), lit(', "explanation": '), _j(col("explanation")),
        lit(', "source": '), _j(col("source")), lit("}"),
    )


def json_statements(plan: Plan, columns: set[str]) -> list[tuple[str, exp.Expression]]:
    scheme = plan.scheme
    indicators = (
        exp.select(col("pid"), agg("string_agg", indicator_json(), lit(", "), order=[col("k"), col("g"), col("r")]).as_("indicators"))
        .from_("jx_nodes").group_by(col("pid"))
    )
    where = case((not_null(col("path", "e")), T.concat(lit("，指标“"), col("path", "e"), lit("”"))), default=lit(""))
    message = T.concat(lit("项目“"), col("project", "p"), lit("”"), where, lit("："), col("message", "e"))
    errors = (
        exp.select(col("pid", "e"), agg("string_agg", T.json_string(message), lit(", "), order=[col("phase", "e"), col("k", "e"), col("sub", "e")]).as_("errors"))
        .from_(exp.alias_(exp.to_table("jx_errors"), "e")).join(exp.alias_(exp.to_table("projects"), "p"), on=col("pid", "p").eq(col("pid", "e")))
        .group_by(col("pid", "e"))
    )
    head = T.concat(
        lit('{"rulebook": ' + json.dumps(scheme.name, ensure_ascii=False) + ', "project": '), _j(col("project", "p")),
        lit(', "max": ' + _number(scheme.max, 4) + ', "total": '), _n(col("total", "j")), lit(', "grade": '), _j(col("grade", "j")),
        lit(', "bonus": '), _n(col("bonus", "j")), lit(', "penalty": '), _n(col("penalty", "j")), lit(', "indicators": ['), coalesce(col("indicators", "i"), lit("")),
        lit("], " + ", ".join(f"{json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}" for k, v in (
            ("rulebook_version", scheme.version), ("rulebook_hash", scheme.content_hash), ("rulebook_files", list(scheme.files)))) +
            (f', "bonus_cap": {_number(scheme.bonus_cap)}' if scheme.bonus_cap is not None else "")),
        case((not_null(col("ptotal", "j")), T.concat(
            lit(', "partial": {"total": '), _n(col("ptotal", "j")), lit(', "max": '), _n(col("pmax", "j")), lit(', "unscored": '), _j(col("punscored", "j")), lit("}"),
        )), default=lit("")),
    )
    items = _items(plan)
    tail = [items] if items is not None else []
    tail.append(case((not_null(col("errors", "e")), T.concat(lit(', "errors": ['), col("errors", "e"), lit("]"))), default=lit("")))
    tail.append(_warnings(scheme))
    line = T.concat(head, *tail, lit("}"))
    out = (
        exp.select(col("pid", "p"), line.as_("json"))
        .from_(exp.alias_(exp.to_table("projects"), "p"))
        .join(exp.alias_(exp.to_table("jx_proj"), "j"), on=col("pid", "j").eq(col("pid", "p")))
        .join(exp.alias_(indicators.subquery(), "i"), on=col("pid", "i").eq(col("pid", "p")), join_type="left")
        .join(exp.alias_(errors.subquery(), "e"), on=col("pid", "e").eq(col("pid", "p")), join_type="left")
    )
    return [("jx_json", out)]


def _items(plan: Plan) -> exp.Expression | None:
    parts = []
    for t in plan.targets:
        if t.kind not in ("加分", "扣分", "否决"):
            continue
        points = _number(t.node.points) if t.kind != "否决" else "0"
        name = t.node.name if t.kind != "否决" else t.node
        parts.append(T.concat(
            lit('{"kind": ' + json.dumps(t.kind, ensure_ascii=False) + ', "name": ' + json.dumps(name, ensure_ascii=False) + ', "points": ' + points + ', "awarded": '),
            _n(col(f"i{t.index}_a", "j")), lit(', "status": '), _j(col(f"i{t.index}_st", "j")), lit(', "evidence": '), _j(col(f"i{t.index}_ev", "j")), lit("}"),
        ))
    if not parts:
        return None
    body = parts[0]
    for p in parts[1:]:
        body = T.concat(body, lit(", "), p)
    return T.concat(lit(', "items": ['), body, lit("]"))


def _warnings(scheme: ir.Scheme) -> exp.Expression:
    if scheme.years is None:
        return lit("")
    a, b = scheme.years
    span = f"{a} 年" if a == b else f"{a}–{b} 年"
    year = exp.cast(col("year", "p"), "INT")
    out_of = exp.and_(not_null(col("year", "p")), exp.or_(year < lit(a), year > lit(b)))
    text = T.concat(lit(f"规则集“{scheme.name}”适用于 {span}，项目年度为 "), col("year", "p"), lit(" 年"))
    return case((out_of, T.concat(lit(', "warnings": ['), T.json_string(text), lit("]"))), default=lit(""))


__all__ = ["json_statements", "is_null", "plain"]
