"""Suggestions for misspelt words in the inputs, added to a problem's hint after scoring.

A rule says what was not found (a tier, a checklist item, a survey option, a fact) and offers the
full list; here the closest candidate, if one is close, replaces that list — the same pass for
every engine, since fuzzy matching is not something SQL does.
"""
from __future__ import annotations

from jxdsl import ir
from jxdsl.errors import suggest


def refine(problem, leaf: ir.Leaf | None, scheme: ir.Scheme, inputs) -> str | None:
    """The problem's hint, with a suggestion when the word it names is close to a known one."""
    code, arg, hint = problem.code, problem.arg, problem.hint
    if code == "fact" and getattr(inputs, "kind", "facts") != "facts":
        close = suggest(str(arg), candidates(code, leaf, scheme, inputs)) if arg is not None else None
        return (f"表中的“{close}”是否就是它？若不是，" if close else "") + where_to_fill(inputs, arg)
    if code is None or arg is None:
        return hint
    pool = candidates(code, leaf, scheme, inputs)
    close = suggest(str(arg), pool) if pool else None
    if close is None:
        return hint
    if code == "fact":
        return f"事实文件中的“{close}”是否就是它？"
    return f"是否应为“{close}”？"


def where_to_fill(inputs, name: str | None) -> str:
    """Where a missing fact goes in the input actually read: a table has no 事实 section."""
    from jxdsl.facts import BUDGET_FACTS, FACT_COLUMNS

    kind = getattr(inputs, "kind", "facts")
    what = f"“{name}”" if name else "缺少的数据"
    if kind == "self-eval":
        column = name if name is None or name in FACT_COLUMNS else f"事实:{name}"
        budget = "（或填在预算执行率行：年度指标值 = 全年预算数，实际完成值 = 全年执行数）" if name in BUDGET_FACTS else ""
        return f"在自评表中加一列“{column or '事实:名称'}”，在该项目的行上填写{what}的值，数值带单位{budget}"
    return f"在事实表中为该项目加一行：名称 {what if name else '写数据名'}，值 写数值和单位"


def candidates(code: str, leaf: ir.Leaf | None, scheme: ir.Scheme, inputs) -> list[str]:
    if code == "fact":
        known = set(scheme.facts) | implicit_facts(scheme) | {d.name for d in scheme.derived}
        return [k for k in inputs.facts if k not in known]
    if code == "table":
        return [t.name for t in scheme.tables()]
    if code == "method":
        from jxdsl.kernel.rows import METHODS

        return list(METHODS)
    rule = leaf.rule if leaf is not None else (scheme.defaults.qualitative if code == "tier" else None)
    if code == "tier" and isinstance(rule, ir.Tiers):
        return [t.name for t in rule.tiers]
    if code == "item" and isinstance(rule, ir.Checklist):
        return [i.name for i in rule.items]
    if code == "option" and isinstance(getattr(rule, "value", None), ir.SurveyValue):
        return [o.name for o in rule.value.options]
    return []


def implicit_facts(scheme: ir.Scheme) -> set[str]:
    """Facts no 事实 block declares but an indicator reads by its own name."""
    derived = {d.name for d in scheme.derived}
    out = set()
    for leaf in scheme.leaves():
        source = getattr(leaf.rule, "value", None)
        if isinstance(source, ir.OwnValue) and source.name not in derived:
            out.add(source.name)
    return out
