"""Recorded steps → Chinese sentences, staged: the interpreter and the SQL engines word them alike.

One function per step kind, from the step's data (already formatted numbers and texts).  A
sentence may be NULL: the step needs no words of its own (rounding is stated once in the header).
"""
from __future__ import annotations

SIGN = {">=": "≥", "<=": "≤", ">": ">", "<": "<", "=": "="}


def _sign(b, op):
    return b.cases(*[(b.eq(op, b.text(k)), b.text(v)) for k, v in SIGN.items()], default=op)


def _value(b, d):
    return b.concat(d["name"], b.text(" = "), d["substituted"], b.text(" = "), d["value"])


def _survey(b, d):
    many = b.cases((d["questions"] > b.num(1), lambda: b.concat(b.text("（"), b.int_text(d["questions"]), b.text(" 题合计）"))), default=b.text(""))
    return b.concat(d["name"], b.text(" = ("), d["terms"], b.text(") ÷ "), d["total"], many, b.text(" = "), d["value"])


def _proportional(b, d):
    w, v, t, case = d["weight"], d["value"], d["target"], d["case"]
    positive = b.eq(d["direction"], b.text("正向"))

    def when(name):
        return b.eq(case, b.text(name))

    ratio = b.cases(
        (positive, lambda: b.cases((d["target_is_unit"], lambda: b.concat(w, b.text(" × "), v)), default=lambda: b.concat(w, b.text(" × "), v, b.text(" ÷ "), t))),
        default=lambda: b.concat(w, b.text(" × "), t, b.text(" ÷ "), v),
    )
    return b.cases(
        (when("full"), lambda: b.concat(v, b.text(" "), b.cases((positive, b.text("达到")), default=b.text("未超过")), b.text("满分值 "), t, b.text("，得满分 "), w)),
        (when("zero_target"), lambda: b.concat(b.text("满分值为 "), t, b.text("，按达标计：实际 "), v, b.text("，"), b.cases((d["met"], lambda: b.concat(b.text("达到，得满分 "), w)), default=b.text("未达到，得 0")))),
        (when("zero_target_full"), lambda: b.concat(b.text("满分值为 "), t, b.text("，按规则集“目标为零 满分”得满分 "), w)),
        (when("over"), lambda: b.concat(v, b.text(" 超过满分值 "), t, b.text("，按偏离扣减：得分 = "), w, b.text(" × (1 - ("), v, b.text(" - "), t, b.text(") ÷ "), t, b.text(") = "), d["score"])),
        (when("beyond_zero"), lambda: b.concat(b.text("实际 "), v, b.text(" "), b.cases((positive, b.text("不高于")), default=b.text("不低于")), b.text("零分点 "), d["zero"], b.text("，得 0"))),
        (when("linear"), lambda: b.cases(
            (positive, lambda: b.concat(b.text("得分 = "), w, b.text(" × ("), v, b.text(" - "), d["zero"], b.text(") ÷ ("), t, b.text(" - "), d["zero"], b.text(") = "), d["score"])),
            default=lambda: b.concat(b.text("得分 = "), w, b.text(" × ("), d["zero"], b.text(" - "), v, b.text(") ÷ ("), d["zero"], b.text(" - "), t, b.text(") = "), d["score"]),
        )),
        (when("zero"), lambda: b.concat(b.text("实际 "), v, b.text("，得 0"))),
        default=lambda: b.concat(b.text("得分 = "), ratio, b.text(" = "), d["score"]),
    )


def _target(b, d):
    verdict = b.cases((d["met"], lambda: b.concat(b.text("达标，得 "), d["weight"], b.text(" 分"))), default=b.text("未达标，得 0 分"))
    return b.concat(b.text("实际 "), d["value"], b.text("，目标 "), _sign(b, d["op"]), d["target"], b.text("，"), verdict)


def _checklist(b, d):
    unmet = b.join("；", [b.cases((lost, lambda n=n, p=p: b.concat(b.text("“"), n, b.text("”未满足（"), p, b.text(" 分）"))), default=b.null) for n, p, lost in d["items"]])
    return b.cases((b.eq(unmet, b.text("")), lambda: b.concat(b.text("清单 "), b.int_text(d["count"]), b.text(" 项全部满足"))), default=unmet)


def _tier(b, d):
    return b.cases(
        (d["point"], lambda: b.concat(b.text("评价档次“"), d["tier"], b.text("”，得 "), d["score"], b.text(" 分"))),
        default=lambda: b.concat(b.text("评价档次“"), d["tier"], b.text("”（"), d["interval"], b.text("），评价人给分 "), d["score"]),
    )


def _band(b, d):
    return b.cases(
        (b.is_null(d["op"]), lambda: b.concat(b.text("取值 "), d["value"], b.text(" 不在前列各分段，按“否则”得 "), d["score"], b.text(" 分"))),
        default=lambda: b.concat(b.text("取值 "), d["value"], b.text(" "), _sign(b, d["op"]), b.text(" "), d["threshold"], b.text("，得 "), d["score"], b.text(" 分")),
    )


def _deduction(b, d):
    found = b.cases((b.any(b.is_null(d["findings"]), lambda: b.eq(d["findings"], b.text(""))), b.text("")), default=lambda: b.concat(b.text("（"), d["findings"], b.text("）")))
    floor = b.cases((d["floored"], b.text("，扣完为止")), default=b.text(""))
    return b.cases(
        (b.eq(d["count"], b.num(0)), b.text("未发现问题，不扣分")),
        default=lambda: b.concat(b.text("发现 "), b.int_text(d["count"]), b.text(" 处问题"), found, b.text("，每处扣 "), d["per"], b.text(" 分"), floor),
    )


def _veto(b, d):
    return b.cases(
        (d["holds"], lambda: b.concat(b.text("否决条件 "), d["condition"], b.text("（"), d["substituted"], b.text("）成立，该指标得 "), d["score"], b.text(" 分"))),
        default=lambda: b.concat(b.text("否决条件 "), d["condition"], b.text("（"), d["substituted"], b.text("）不成立")),
    )


def _formula(b, d):
    return b.concat(b.text("得分 = "), d["formula"], b.text(" = "), d["substituted"], b.text(" = "), d["raw"])


def _judgement(b, d):
    return b.concat(b.text("评价人给分 "), d["score"])


def _override(b, d):
    return b.cases(
        (d["failed"], lambda: b.concat(b.text("按规则无法计算（"), d["rule_score"], b.text("），评价人酌定 "), d["given"], b.text(" 分"))),
        (b.eq(d["rule_score"], d["given"]), b.null),
        default=lambda: b.concat(b.text("按规则应得 "), d["rule_score"], b.text(" 分，评价人酌定 "), d["given"], b.text(" 分")),
    )


def _clamp(b, d):
    return b.concat(b.text("计算结果 "), d["raw"], b.text(" 超出分值范围，按 "), d["score"], b.text(" 计"))


def _rounding(b, d):
    return b.null  # the rounding rule is stated once, in the explanation's header


def _not_applicable(b, d):
    return b.cases(
        (b.is_null(d["score"]), b.text("不适用，不计入总分，总分按适用指标分值折算")),
        default=lambda: b.concat(b.text("不适用，按满分 "), d["score"], b.text(" 计")),
    )


def _row(b, d):
    dash = lambda x: b.cases((b.any(b.is_null(x), lambda: b.eq(x, b.text(""))), b.text("—")), default=x)  # noqa: E731
    return b.concat(b.text("指标值 "), dash(d["target"]), b.text("，实际完成值 "), dash(d["actual"]))


def _actual_bound(b, d):
    return b.concat(b.text("实际完成值写作“"), d["actual"], b.text("”，按下限 "), d["value"], b.text(" 计"))


def _row_method(b, d):
    return b.concat(b.text("按本行计分方法“"), d["method"], b.text("”计分"))


def _qualitative_met(b, d):
    return b.concat(b.text("实际完成值与指标值一致，按“达成”得满分 "), d["score"])


def _missing(b, d):
    return b.concat(b.text("无法计分："), d["message"])


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
    "row_method": _row_method,
    "qualitative_met": _qualitative_met,
    "missing": _missing,
}


def sentence(b, kind: str, data: dict):
    """One step in words (NULL when the step needs none)."""
    return SENTENCES[kind](b, data)


def leaf_explanation(b, steps, deduction, shown_deduction, evidence):
    """A leaf's explanation: its steps' sentences, the points lost, and the evaluator's note.

    ``steps`` are (when, kind, data); ``deduction`` a flag (points were lost), ``shown_deduction``
    its text."""
    parts = [b.cases((when, lambda k=kind, d=data: sentence(b, k, d)), default=b.null) for when, kind, data in steps]
    parts.append(b.cases((deduction, lambda: b.concat(b.text("扣 "), shown_deduction, b.text(" 分"))), default=b.null))
    parts.append(b.cases((b.any(b.is_null(evidence), lambda: b.eq(evidence, b.text(""))), b.null), default=lambda: b.concat(b.text("说明："), evidence)))
    return b.join("；", parts)


def parent_explanation(b, parts, score):
    """``下级合计：a 1 + b 2 = 3`` from the children's ``name score`` parts (already joined)."""
    total = b.cases((b.is_null(score), b.text("")), default=lambda: b.concat(b.text(" = "), score))
    return b.concat(b.text("下级合计："), parts, total)
