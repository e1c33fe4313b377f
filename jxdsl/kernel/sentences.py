"""Recorded steps → Chinese sentences, staged: the interpreter and the SQL engines word them alike.

One function per step kind, from the step's data (already formatted numbers and texts).  A
sentence may be NULL: the step needs no words of its own (rounding is stated once in the header).
"""
from __future__ import annotations

SIGN = {">=": "≥", "<=": "≤", ">": ">", "<": "<", "=": "="}


def _sign(b, op):
    return b.cases(*[(b.eq(op, b.text(k)), b.text(v)) for k, v in SIGN.items()], default=op)


def _empty(b, x):
    return b.any(b.is_null(x), lambda: b.eq(x, b.text("")))


def _lead(b, d):
    """``完成率100%，`` before a verdict; nothing when the value was stated before (a derived value's
    step, a target-table row's 实际完成值)."""
    return b.cases((_empty(b, d["label"]), b.text("")), default=lambda: b.concat(d["label"], d["value"], b.text("，")))


def _got(b, score):
    """``得2分``, or ``不得分`` for nothing (as the published tables say)."""
    return b.cases((b.eq(score, b.text("0")), b.text("不得分")), default=lambda: b.concat(b.text("得"), score, b.text("分")))


def _value(b, d):
    return b.concat(d["name"], b.text(" = "), d["substituted"], b.text(" = "), d["value"])


def _survey(b, d):
    many = b.cases((d["questions"] > b.num(1), lambda: b.concat(b.text("（"), b.int_text(d["questions"]), b.text("题合计）"))), default=b.text(""))
    return b.concat(d["name"], b.text(" = ("), d["terms"], b.text(") ÷ "), d["total"], many, b.text(" = "), d["value"])


def _proportional(b, d):
    w, v, t, case = d["weight"], d["value"], d["target"], d["case"]
    positive = b.eq(d["direction"], b.text("正向"))
    raw = b.concat(d["raw"], b.text("分"))

    def when(name):
        return b.eq(case, b.text(name))

    ratio = b.cases(
        (positive, lambda: b.cases((d["target_is_unit"], lambda: b.concat(w, b.text(" × "), v)), default=lambda: b.concat(w, b.text(" × "), v, b.text(" ÷ "), t))),
        default=lambda: b.concat(w, b.text(" × "), t, b.text(" ÷ "), v),
    )
    target_shown = b.cases((b.eq(v, t), b.text("")), default=t)
    return b.cases(
        (when("full"), lambda: b.concat(_lead(b, d), b.cases((positive, b.text("达到")), default=b.text("未超过")), b.text("目标值"), target_shown, b.text("，得满分"), w, b.text("分"))),
        (when("zero_target"), lambda: b.concat(b.text("目标值为"), t, b.text("，按达标计："), _lead(b, d), b.cases((d["met"], lambda: b.concat(b.text("达到，得满分"), w, b.text("分"))), default=b.text("未达到，不得分")))),
        (when("zero_target_full"), lambda: b.concat(b.text("目标值为"), t, b.text("，按规则集“目标为零 满分”得满分"), w, b.text("分"))),
        (when("over"), lambda: b.concat(_lead(b, d), b.text("超过目标值"), t, b.text("，按偏离扣减："), w, b.text(" × (1 - ("), v, b.text(" - "), t, b.text(") ÷ "), t, b.text(") = "), raw)),
        (when("beyond_zero"), lambda: b.concat(_lead(b, d), b.cases((positive, b.text("不高于")), default=b.text("不低于")), b.text("零分点"), d["zero"], b.text("，不得分"))),
        (when("linear"), lambda: b.concat(_lead(b, d), b.text("按零分点"), d["zero"], b.text("线性计分："), b.cases(
            (positive, lambda: b.concat(w, b.text(" × ("), v, b.text(" - "), d["zero"], b.text(") ÷ ("), t, b.text(" - "), d["zero"], b.text(") = "), raw)),
            default=lambda: b.concat(w, b.text(" × ("), d["zero"], b.text(" - "), v, b.text(") ÷ ("), d["zero"], b.text(" - "), t, b.text(") = "), raw),
        ))),
        (when("zero"), lambda: b.concat(_lead(b, d), b.text("不得分"))),
        default=lambda: b.concat(_lead(b, d), b.cases((positive, b.text("未达到目标值")), default=b.text("超过目标值")), t, b.text("，按比例计分："), ratio, b.text(" = "), raw),
    )


def _target(b, d):
    verdict = b.cases((d["met"], lambda: b.concat(b.text("达标，得"), d["weight"], b.text("分"))), default=b.text("未达标，不得分"))
    sign = b.cases((b.eq(d["op"], b.text("=")), b.text("")), default=lambda: _sign(b, d["op"]))
    return b.concat(_lead(b, d), b.text("目标"), sign, d["target"], b.text("，"), verdict)


def _checklist(b, d):
    unmet = b.join("、", [b.cases((lost, lambda n=n, p=p: b.concat(b.text("“"), n, b.text("”（"), p, b.text("分）"))), default=b.null) for n, p, lost in d["items"]])
    return b.cases(
        (b.eq(unmet, b.text("")), lambda: b.concat(b.text("清单"), b.int_text(d["count"]), b.text("项全部满足，不扣分"))),
        default=lambda: b.concat(unmet, b.text("未满足，扣"), d["lost"], b.text("分")),
    )


def _tier(b, d):
    chosen = b.concat(b.text("评价为“"), d["tier"], b.text("”"))
    return b.cases(
        (b.all(d["point"], d["full"]), lambda: b.concat(chosen, b.text("，得"), d["score"], b.text("分"))),
        (d["point"], lambda: chosen),  # the points lost follow (leaf_explanation)
        default=lambda: b.concat(chosen, b.text("（"), d["interval"], b.text("档），评价人给"), d["score"], b.text("分")),
    )


def _band(b, d):
    sign = b.cases((b.eq(d["op"], b.text("=")), b.text("")), default=lambda: _sign(b, d["op"]))
    low_first = b.in_(d["op"], [">=", ">"])
    between = lambda: b.cases((low_first, lambda: b.concat(d["threshold"], b.text("～"), d["prev"])), default=lambda: b.concat(d["prev"], b.text("～"), d["threshold"]))  # noqa: E731
    band = lambda: b.cases((b.is_null(d["prev"]), lambda: b.concat(b.text("“"), sign, d["threshold"], b.text("”"))), default=between)  # noqa: E731
    return b.cases(
        (b.is_null(d["op"]), lambda: b.concat(_lead(b, d), b.text("不在前列各档，按“否则”"), _got(b, d["score"]))),
        default=lambda: b.concat(_lead(b, d), b.text("在"), band(), b.text("档，"), _got(b, d["score"])),
    )


def _deduction(b, d):
    found = b.cases((_empty(b, d["findings"]), b.text("")), default=lambda: b.concat(b.text("（"), d["findings"], b.text("）")))
    floor = b.cases((d["floored"], b.text("，扣完为止")), default=b.text(""))
    return b.cases(
        (b.eq(d["count"], b.num(0)), b.text("未发现问题，不扣分")),
        default=lambda: b.concat(b.text("发现"), b.int_text(d["count"]), b.text("处问题"), found, b.text("，每处扣"), d["per"], b.text("分"), floor, b.text("，扣"), d["lost"], b.text("分")),
    )


HOLDS = {">=": "达到", ">": "超过", "<=": "不高于", "<": "低于", "=": "等于"}
FAILS = {">=": "未达", ">": "未超过", "<=": "高于", "<": "不低于", "=": "不等于"}


def _veto(b, d):
    op = d["op"]
    word = b.cases(*[(b.all(d["holds"], b.eq(op, b.text(k))), b.text(v)) for k, v in HOLDS.items()], *[(b.eq(op, b.text(k)), b.text(v)) for k, v in FAILS.items()], default=op)
    clause = b.concat(b.text("“"), _got(b, d["score"]), b.text("”条款"))
    stated = b.concat(d["left"], d["left_value"], b.text("，"), word, d["right"])
    return b.cases(
        (d["holds"], lambda: b.concat(stated, b.text("，按"), clause, b.text("该指标"), _got(b, d["score"]))),
        default=lambda: b.concat(stated, b.text("，不触发"), clause),
    )


def _formula(b, d):
    return b.concat(b.text("得分 = "), d["formula"], b.text(" = "), d["substituted"], b.text(" = "), d["raw"], b.text("分"))


def _judgement(b, d):
    return b.concat(b.text("评价人给"), d["score"], b.text("分"))


def _override(b, d):
    return b.cases(
        (d["failed"], lambda: b.concat(b.text("按规则无法计算（"), d["rule_score"], b.text("），评价人酌定"), d["given"], b.text("分"))),
        (b.eq(d["rule_score"], d["given"]), b.null),
        default=lambda: b.concat(b.text("按规则应得"), d["rule_score"], b.text("分，评价人酌定"), d["given"], b.text("分")),
    )


def _clamp(b, d):
    return b.concat(b.text("计算结果"), d["raw"], b.text("分超出分值范围，按"), d["score"], b.text("分计"))


def _rounding(b, d):
    """Said only when it changes the score (the rule is also stated once in the header)."""
    kept = b.cases((b.eq(d["digits"], b.num(0)), b.text("取整")), default=lambda: b.concat(b.text("保留"), b.int_text(d["digits"]), b.text("位小数")))
    return b.cases(
        (b.eq(d["raw"], d["score"]), b.null),
        default=lambda: b.concat(b.text("按"), d["mode"], kept, b.text("为"), d["score"], b.text("分")),
    )


def _not_applicable(b, d):
    return b.cases(
        (b.is_null(d["score"]), b.text("不适用，不计入总分，总分按适用指标分值折算")),
        default=lambda: b.concat(b.text("不适用，按满分"), d["score"], b.text("分计")),
    )


def _row(b, d):
    dash = lambda x: b.cases((_empty(b, x), b.text("—")), default=x)  # noqa: E731
    return b.concat(b.text("指标值"), dash(d["target"]), b.text("，实际完成值"), dash(d["actual"]))


def _actual_bound(b, d):
    """≥750人 is counted as its lower bound 750人, ≤5% (5%以内) as its upper bound."""
    return b.concat(b.text("实际完成值写作“"), d["actual"], b.text("”，按"), d["side"], d["value"], b.text("计"))


def _row_method(b, d):
    return b.concat(b.text("按本行计分方法“"), d["method"], b.text("”计分"))


def _qualitative_met(b, d):
    return b.concat(b.text("实际完成值与指标值一致，按“达成”得满分"), d["score"], b.text("分"))


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


FOLLOWS = {"rounding"}  # said last, in the same sentence as the score (``= 2.1548分，按四舍五入保留2位小数为2.15分``)


def leaf_explanation(b, steps, deduction, shown_deduction, evidence):
    """A leaf's explanation: its steps' sentences, the points lost, and the evaluator's note.

    ``steps`` are (when, kind, data); ``deduction`` a flag (points were lost), ``shown_deduction``
    its text.  The points lost are said once: not again when a sentence or the evaluator's 说明
    already says ``扣N分``."""
    parts = [b.cases((when, lambda k=kind, d=data: sentence(b, k, d)), default=b.null) for when, kind, data in steps]
    main = b.let(b.join("；", [p for p, (_, kind, _) in zip(parts, steps) if kind not in FOLLOWS]))
    after = b.let(b.join("，", [p for p, (_, kind, _) in zip(parts, steps) if kind in FOLLOWS]))
    said = b.let(b.join("，", [b.cases((b.eq(main, b.text("")), b.null), default=main), b.cases((b.eq(after, b.text("")), b.null), default=after)]))
    lost = lambda: b.concat(b.text("扣"), shown_deduction, b.text("分"))  # noqa: E731  (only when points were lost)
    told = lambda: b.any(b.contains(said, lost()), lambda: b.contains(evidence, lost()))  # noqa: E731
    tail = b.cases((b.all(deduction, lambda: b.not_(told())), lambda: b.concat(b.cases((b.eq(said, b.text("")), b.text("")), default=b.text("，")), lost())), default=b.text(""))
    head = b.let(b.concat(said, tail))
    note = b.cases((_empty(b, evidence), b.null), default=lambda: b.concat(b.text("说明："), evidence))
    return b.join("；", [b.cases((b.eq(head, b.text("")), b.null), default=head), note])


def parent_explanation(b, parts, score):
    """``下级合计：a 1 + b 2 = 3`` from the children's ``name score`` parts (already joined)."""
    total = b.cases((b.is_null(score), b.text("")), default=lambda: b.concat(b.text(" = "), score))
    return b.concat(b.text("下级合计："), parts, total)
