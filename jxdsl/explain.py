"""Render results: Chinese explanations, JSON, and the indicator tree of a rulebook.

Every sentence is built from the steps the evaluator recorded; nothing is recomputed here.
"""
from __future__ import annotations

import json
from fractions import Fraction

import attrs

from jxdsl.evaluate import IndicatorResult, Result, Step
from jxdsl.formulas import formula_text
from jxdsl.link import LinkedIndicator, Rulebook
from jxdsl.printer import rule
from jxdsl.units import plain, to_decimal

STATUS_WORDS = {"scored": "", "not_applicable": "不适用", "missing": "缺数据", "invalid": "数据有误", "vetoed": "否决"}


def number(value: Fraction | None, digits: int = 2):
    """A score as a JSON number: an int when whole, else a float of the rounded value."""
    if value is None:
        return None
    text = plain(value, digits)
    return int(text) if "." not in text else float(text)


# ---- step sentences -------------------------------------------------------------------------
def sentence(step: Step) -> str | None:
    """One recorded step in Chinese (None: the step needs no sentence of its own)."""
    from jxdsl.kernel.sentences import sentence as staged
    from jxdsl.kernel.stage import PY

    return staged(PY, step.kind, step.data)


def explanation(r: IndicatorResult, digits: int = 2) -> str:
    """The one-line explanation of an indicator, as stored in JSON (the kernel's wording)."""
    from jxdsl.kernel import tree
    from jxdsl.kernel.sentences import leaf_explanation, parent_explanation
    from jxdsl.kernel.stage import PY

    if r.text is not None:
        return r.text
    if r.children:
        parts = " + ".join(tree.child_part(PY, c.name, c.score, digits) for c in r.children)
        return parent_explanation(PY, parts, plain(r.score, digits) if r.score is not None else None)
    ded = r.deduction
    lost = r.score is not None and ded is not None and ded > 0 and r.status != "not_applicable"
    return leaf_explanation(PY, [(True, s.kind, s.data) for s in r.steps], lost, plain(ded, digits) if lost else None, r.evidence)


def blank_full_notes(result: Result) -> Result:
    """The result with full-score leaves' explanations and 说明 left blank, as published 得分表
    leave their 扣分说明 empty (``--no-full-notes``); parents, items and totals are kept."""
    def blank(r: IndicatorResult) -> IndicatorResult:
        if r.children:
            return attrs.evolve(r, children=tuple(blank(c) for c in r.children))
        if r.status == "scored" and r.score is not None and r.deduction == 0:
            return attrs.evolve(r, text="", evidence=None)
        return r

    return attrs.evolve(result, indicators=tuple(blank(r) for r in result.indicators))


# ---- JSON --------------------------------------------------------------------------------
def to_json(result: Result) -> dict:
    """The JSON result of contracts.md, with provenance fields added."""
    d = result.digits
    indicators = []
    for r in result.walk():
        indicators.append(
            {
                "path": list(r.path),
                "weight": number(r.weight, 4),
                "score": number(r.score, d),
                "deduction": number(r.deduction, d) if r.status != "not_applicable" else 0,
                "status": r.status,
                "explanation": explanation(r, d),
                "source": str(r.origin) if r.origin else None,
            }
        )
    out = {
        "rulebook": result.rulebook,
        "project": result.project,
        "max": number(result.max, 4),
        "total": number(result.total, d),
        "grade": result.grade,
        "bonus": number(result.bonus, d),
        "penalty": number(result.penalty, d),
        "indicators": indicators,
        "rulebook_version": result.version,
        "rulebook_hash": result.content_hash,
        "rulebook_files": list(result.files),
    }
    if result.bonus_cap is not None:
        out["bonus_cap"] = number(result.bonus_cap)
    if result.partial_total is not None:
        out["partial"] = {"total": number(result.partial_total, d), "max": number(result.partial_max, 4), "unscored": result.unscored}
    if result.bonus_items or result.penalty_items or result.veto_items:
        out["items"] = [
            {"kind": kind, "name": i.name, "points": number(i.points), "awarded": number(i.awarded), "status": i.status, "evidence": i.evidence}
            for kind, items in (("加分", result.bonus_items), ("扣分", result.penalty_items), ("否决", result.veto_items))
            for i in items
        ]
    if result.errors:
        out["errors"] = [e.message for e in result.errors]
    if result.warnings:
        out["warnings"] = list(result.warnings)
    return out


def dumps(obj) -> str:
    return json.dumps(obj, ensure_ascii=False, indent=2)


# ---- text ---------------------------------------------------------------------------------
def rate_shown(rate: Fraction) -> str:
    """得分率 cut (not rounded) to two decimals, so that 89.996% never reads as the 90% of a band."""
    return f"{to_decimal(rate * 100, 2, '截断')}%"


def total_sum(result: Result) -> str | None:
    """``基础分 100 + 加分 10 − 扣分 0 = 110`` for a scheme with 加分/扣分 items (a total over 100 is
    not a share of 100); None when there are none, or when a floor or a veto set the total."""
    if not (result.bonus_items or result.penalty_items) or result.total is None:
        return None
    if any(s.kind in ("floor", "veto_total") for s in result.total_steps):
        return None
    d = result.digits
    base = result.total - result.bonus + result.penalty
    return f"基础分 {plain(base, d)} + 加分 {plain(result.bonus, d)} − 扣分 {plain(result.penalty, d)} = {plain(result.total, d)}"


def total_tail(result: Result) -> str:
    """What a report prints after the total: `` / 100``, or ``（基础分 100 + 加分 10 − 扣分 0）`` for a
    scheme with 加分/扣分 items (never 110 / 100)."""
    if result.bonus_items or result.penalty_items:
        summed = total_sum(result)
        return f"（{summed.rsplit(' = ', 1)[0]}）" if summed else ""
    return f" / {plain(result.max)}"


def summary_line(result: Result) -> str:
    d = result.digits
    grade = f"，等级 {result.grade or '—'}"
    if result.grade_max is not None and result.total is not None:
        grade += f"（按得分率定级：{plain(result.total, d)} ÷ {plain(result.grade_max, 4)} = {rate_shown(result.total / result.grade_max)}）"
    summed = total_sum(result)
    if summed is not None:
        return f"{result.project}：总分：{summed}{grade}"
    if result.total is None:
        part = ""
        if result.partial_total is not None:
            part = f"（已计分部分 {plain(result.partial_total, d)} / {plain(result.partial_max, 4)}，未计分：{result.unscored}）"
        return f"{result.project}：总分 无法计算 / {plain(result.max)}{part}{grade}"
    if result.bonus_items or result.penalty_items:
        return f"{result.project}：总分 {plain(result.total, d)}{grade}"
    return f"{result.project}：总分 {plain(result.total, d)} / {plain(result.max)}{grade}"


def render_text(result: Result) -> str:
    """A short score table: one line per indicator."""
    lines = [summary_line(result)]
    for r in result.walk():
        indent = "  " * (len(r.path) - 1)
        lines.append(f"{indent}{r.name}  {_score(r, result.digits)} / {plain(r.weight, 4)}{_status(r)}")
    lines += _item_lines(result)
    lines += _errors(result)
    return "\n".join(lines)


def render_explanation(result: Result) -> str:
    """Line by line: every indicator's score out of its weight, and why points were lost."""
    d = result.digits
    lines = [
        summary_line(result),
        f"规则集：{result.rulebook}" + (f"（版本 {result.version}）" if result.version else "") + f"，内容摘要 {result.content_hash[:12]}",
        f"每项得分保留 {result.digits} 位小数（{result.rounding}），上级得分为下级得分之和",
        "",
    ]
    for r in result.walk():
        indent = "  " * (len(r.path) - 1)
        head = f"{indent}{r.name}：{_score(r, d)} / {plain(r.weight, 4)}{_status(r)}"
        if r.children:
            ded = r.deduction
            lines.append(head + (f"（扣{plain(ded, d)}分）" if ded else ""))
            continue
        body = explanation(r, d)
        lines.append(f"{head}　{body}" if body else head)
    lines += _item_lines(result, evidence=True)
    for st in result.total_steps:
        lines.append(_total_sentence(st))
    lines += _errors(result)
    return "\n".join(lines)


def _item_lines(result: Result, evidence: bool = False) -> list[str]:
    """Bonus, penalty and veto items, one line each."""
    d = result.digits
    lines = []
    for kind, items in (("加分", result.bonus_items), ("扣分", result.penalty_items), ("一票否决", result.veto_items)):
        for i in items:
            if i.awarded is None:
                state = "缺记录"
            elif kind == "一票否决":
                state = "发生，总分为0分" if i.awarded else "未发生"
            elif kind == "加分":
                state = f"加{plain(i.awarded, d)}分" if i.awarded else "未加分"
            else:
                state = f"扣{plain(i.awarded, d)}分" if i.awarded else "未发生，不扣分"
            note = f"；说明：{i.evidence}" if evidence and i.evidence else ""
            lines.append(f"{kind}项 {i.name}：{state}{note}")
    return lines


def _total_sentence(step: Step) -> str:
    d = step.data
    if step.kind == "rescale":
        return f"不适用指标按比例折算：{d['subtotal']} ÷ {d['applicable']} × {d['max']} = {d['raw']}"
    if step.kind == "bonus_cap":
        return f"加分合计{d['bonus']}分，超过上限，按{d['cap']}分计"
    if step.kind == "penalty_cap":
        return f"扣分合计{d['penalty']}分，超过上限，按{d['cap']}分计"
    if step.kind == "floor":
        return f"总分{d['raw']}分低于0分，按0分计"
    if step.kind == "veto_total":
        return f"发生一票否决项（{d['items']}），总分为0分"
    return step.kind


def _score(r: IndicatorResult, digits: int) -> str:
    return plain(r.score, digits) if r.score is not None else "—"


def _status(r: IndicatorResult) -> str:
    word = STATUS_WORDS.get(r.status, "")
    return f"［{word}］" if word else ""


def _errors(result: Result) -> list[str]:
    notes = [f"注意：{w}" for w in result.warnings]
    if not result.errors:
        return notes
    return notes + ["", f"数据问题 {len(result.errors)} 处："] + [f"  - {e.message}" + (f"（{e.hint}）" if e.hint else "") for e in result.errors]


# ---- rulebook tree (check) ----------------------------------------------------------------
describe_rule = rule  # rules print as they are written in a rulebook (printer.py)


def render_tree(book: Rulebook) -> str:
    """The indicator tree with weights and rules, as ``check`` prints it."""
    years = f"{book.years[0]}–{book.years[1]}" if book.years and book.years[0] != book.years[1] else (str(book.years[0]) if book.years else "未注明")
    lines = [
        f"规则集 {book.name}" + (f"（继承 {book.parent}）" if book.parent else "") + f"：{len(list(book.walk()))} 个指标，满分 {plain(book.max)}，适用年度 {years}",
    ]

    def walk(ind: LinkedIndicator, depth: int) -> None:
        rule = f"  {describe_rule(ind.rule)}" if ind.rule is not None else ""
        na = f"  不适用时 {ind.na_mode}" if ind.na_mode else ""
        own = f"  小数 {ind.rounding.digits} 位 {ind.rounding.mode}" if ind.rounding is not None and not ind.children else ""
        na += f"  未设置时 并入 {ind.merge_into}" if ind.merge_into else ""
        lines.append(f"{'  ' * depth}{ind.name}  权重 {plain(ind.weight, 4)}{rule}{own}{na}")
        pad = "  " * (depth + 1)
        for it in ind.items:
            lines.append(f"{pad}· {it.name} {it.points.text}")
        for v in ind.vetoes:
            lines.append(f"{pad}若 {formula_text(v.condition)} 则 {v.score.text}")
        if ind.survey is not None:
            lines.append(f"{pad}{ind.survey.label or ''} 问卷 " + " ".join(f"{o.name}={o.weight.text}" for o in ind.survey.options))
        for c in ind.children:
            walk(c, depth + 1)

    for ind in book.indicators:
        walk(ind, 1)
    if book.bonus:
        lines.append("  加分" + (f" 上限 {plain(book.bonus_cap)}" if book.bonus_cap is not None else "") + "：" + "、".join(f"{b.name} {b.points.text}" for b in book.bonus))
    if book.penalty:
        lines.append("  扣分：" + "、".join(f"{b.name} {b.points.text}" for b in book.penalty))
    if book.vetoes:
        lines.append("  一票否决：" + "、".join(book.vetoes))
    return "\n".join(lines)
