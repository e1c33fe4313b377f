"""Render results: Chinese explanations, JSON, and the indicator tree of a rulebook.

Every sentence is built from the steps the evaluator recorded; nothing is recomputed here.
"""
from __future__ import annotations

import json
from fractions import Fraction

from jxdsl.evaluate import IndicatorResult, Result, Step
from jxdsl.formulas import CMP_SIGN, formula_text
from jxdsl.link import LinkedIndicator, Rulebook
from jxdsl.printer import rule
from jxdsl.units import plain

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
    return SENTENCES[step.kind](step.data)


def _value(d: dict) -> str | None:
    if "formula" in d:
        return f"{d['name']} = {d['substituted']} = {d['value']}"
    return f"{d['name']}：{d['value']}"


def _survey(d: dict) -> str | None:
    q = f"（{d['questions']} 题合计）" if d["questions"] > 1 else ""
    return f"{d['name']} = ({d['terms']}) ÷ {d['total']}{q} = {d['value']}"


def _proportional(d: dict) -> str | None:
    w, v, t = d["weight"], d["value"], d["target"]
    if d["case"] == "full":
        cmp = "达到" if d["direction"] == "正向" else "未超过"
        return f"{v} {cmp}满分值 {t}，得满分 {w}"
    if d["case"] == "zero_target":
        verdict = f"达到，得满分 {w}" if d["met"] else "未达到，得 0"
        return f"满分值为 {t}，按达标计：实际 {v}，{verdict}"
    if d["case"] == "zero_target_full":
        return f"满分值为 {t}，按规则集“目标为零 满分”得满分 {w}"
    if d["case"] == "over":
        return f"{v} 超过满分值 {t}，按偏离扣减：得分 = {w} × (1 - ({v} - {t}) ÷ {t}) = {d['score']}"
    if d["case"] == "beyond_zero":
        side = "不高于" if d["direction"] == "正向" else "不低于"
        return f"实际 {v} {side}零分点 {d['zero']}，得 0"
    if d["case"] == "linear":
        if d["direction"] == "正向":
            return f"得分 = {w} × ({v} - {d['zero']}) ÷ ({t} - {d['zero']}) = {d['score']}"
        return f"得分 = {w} × ({d['zero']} - {v}) ÷ ({d['zero']} - {t}) = {d['score']}"
    if d["case"] == "zero":
        return f"实际 {v}，得 0"
    if d["direction"] == "正向":
        expr = f"{w} × {v}" if d["target_is_unit"] else f"{w} × {v} ÷ {t}"
    else:
        expr = f"{w} × {t} ÷ {v}"
    return f"得分 = {expr} = {d['score']}"


def _target(d: dict) -> str | None:
    verdict = f"达标，得 {d['weight']} 分" if d["met"] else "未达标，得 0 分"
    return f"实际 {d['value']}，目标 {CMP_SIGN[d['op']]}{d['target']}，{verdict}"


def _checklist(d: dict) -> str | None:
    if not d["unmet"]:
        return f"清单 {d['count']} 项全部满足"
    return "；".join(f"“{n}”未满足（{p} 分）" for n, p in d["unmet"])


def _tier(d: dict) -> str | None:
    if d["point"]:
        return f"评价档次“{d['tier']}”，得 {d['score']} 分"
    return f"评价档次“{d['tier']}”（{d['interval']}），评价人给分 {d['score']}"


def _band(d: dict) -> str | None:
    if d["op"] is None:
        return f"取值 {d['value']} 不在前列各分段，按“否则”得 {d['score']} 分"
    return f"取值 {d['value']} {CMP_SIGN[d['op']]} {d['threshold']}，得 {d['score']} 分"


def _deduction(d: dict) -> str | None:
    if d["count"] == 0:
        return "未发现问题，不扣分"
    found = f"（{'；'.join(d['findings'])}）" if d["findings"] else ""
    floor = "，扣完为止" if d["floored"] else ""
    return f"发现 {d['count']} 处问题{found}，每处扣 {d['per']} 分{floor}"


def _veto(d: dict) -> str | None:
    if d["holds"]:
        return f"否决条件 {d['condition']}（{d['substituted']}）成立，该指标得 {d['score']} 分"
    return f"否决条件 {d['condition']}（{d['substituted']}）不成立"


def _formula(d: dict) -> str | None:
    return f"得分 = {d['formula']} = {d['substituted']} = {d['raw']}"


def _judgement(d: dict) -> str | None:
    return f"评价人给分 {d['score']}"


def _override(d: dict) -> str | None:
    if d["rule_score"] == d["given"]:
        return None
    if d["rule_score"].startswith("无法计算"):
        return f"按规则{d['rule_score']}，评价人酌定 {d['given']} 分"
    return f"按规则应得 {d['rule_score']} 分，评价人酌定 {d['given']} 分"


def _clamp(d: dict) -> str | None:
    return f"计算结果 {d['raw']} 超出分值范围，按 {d['score']} 计"


def _rounding(d: dict) -> str | None:
    return None  # the rounding rule is stated once, in the explanation's header


def _not_applicable(d: dict) -> str | None:
    if d["score"] is None:
        return "不适用，不计入总分，总分按适用指标分值折算"
    return f"不适用，按满分 {d['score']} 计"


def _row(d: dict) -> str | None:
    return f"指标值 {d['target'] or '—'}，实际完成值 {d['actual'] or '—'}"


def _actual_bound(d: dict) -> str | None:
    return f"实际完成值写作“{d['actual']}”，按下限 {d['value']} 计"


def _qualitative_met(d: dict) -> str | None:
    return f"实际完成值与指标值一致，按“达成”得满分 {d['score']}"


def _missing(d: dict) -> str | None:
    return f"无法计分：{d['message']}"


SENTENCES = {
    "value": _value,
    "survey": _survey,
    "proportional": _proportional,
    "target": _target,
    "checklist": _checklist,
    "tier": _tier,
    "band": _band,
    "deduction": _deduction,
    "veto": _veto,
    "formula": _formula,
    "judgement": _judgement,
    "override": _override,
    "clamp": _clamp,
    "rounding": _rounding,
    "not_applicable": _not_applicable,
    "row": _row,
    "actual_bound": _actual_bound,
    "qualitative_met": _qualitative_met,
    "missing": _missing,
}


def explanation(r: IndicatorResult, digits: int = 2) -> str:
    """The one-line explanation of an indicator, as stored in JSON."""
    if r.children:
        parts = [f"{c.name} {plain(c.score, digits) if c.score is not None else '—'}" for c in r.children]
        return "下级合计：" + " + ".join(parts) + (f" = {plain(r.score, digits)}" if r.score is not None else "")
    parts = [s for s in (sentence(st) for st in r.steps) if s]
    ded = r.deduction
    if r.score is not None and ded is not None and ded > 0 and r.status != "not_applicable":
        parts.append(f"扣 {plain(ded, digits)} 分")
    if r.evidence:
        parts.append(f"说明：{r.evidence}")
    return "；".join(parts)


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
def summary_line(result: Result) -> str:
    d = result.digits
    total = plain(result.total, d) if result.total is not None else "无法计算"
    extra = ""
    if result.bonus or result.penalty:
        extra = f"（含加分 {plain(result.bonus, d)}，扣分 {plain(result.penalty, d)}）"
    return f"{result.project}：总分 {total} / {plain(result.max)}{extra}，等级 {result.grade or '—'}"


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
            lines.append(head + (f"（扣 {plain(ded, d)} 分）" if ded else ""))
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
            if kind == "一票否决":
                state = "发生" if i.awarded else ("缺记录" if i.status == "missing" else "未发生")
            else:
                state = f"{plain(i.awarded, d) if i.awarded is not None else '缺记录'} / {plain(i.points)}"
            note = f"　说明：{i.evidence}" if evidence and i.evidence else ""
            lines.append(f"{kind}项 {i.name}：{state}{note}")
    return lines


def _total_sentence(step: Step) -> str:
    d = step.data
    if step.kind == "rescale":
        return f"不适用指标按比例折算：{d['subtotal']} ÷ {d['applicable']} × {d['max']} = {d['raw']}"
    if step.kind == "bonus_cap":
        return f"加分合计 {d['bonus']} 超过上限，按 {d['cap']} 计"
    if step.kind == "penalty_cap":
        return f"扣分合计 {d['penalty']} 超过上限，按 {d['cap']} 计"
    if step.kind == "floor":
        return f"总分 {d['raw']} 低于 0，按 0 计"
    if step.kind == "veto_total":
        return f"发生一票否决项（{'、'.join(d['items'])}），总分为 0"
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
        lines.append(f"{'  ' * depth}{ind.name}  权重 {plain(ind.weight, 4)}{rule}{na}")
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
