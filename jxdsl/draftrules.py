"""Recognisers for a 评分标准 text: the rule it states, only when it states one unambiguously.

``jxdsl draft`` turns each leaf's 评分标准 into a rule of the language.  Each recogniser is a
small set of regular expressions over the text (made comparable with NFKC: full-width commas,
brackets and digits become ASCII); nothing is evaluated.  When no recogniser or more than one
matches, the caller writes ``酌情`` with a ``# 待确认：`` comment quoting the standard.

Recognised:

* proportional — ``得分=到位率×分值``, ``指标分值=资金到位率Y×指标满分值``, ``按照满分乘以执行率计算得分``:
  ``正向 满分=100%`` on the ratio; a definition ``资金到位率=实际到位/计划投入×100%`` (in the
  standard or the 指标解释) becomes a derived value over two facts;
* deduction — ``每发现一处…扣0.5分，扣完为止``: ``扣分 每处0.5 扣完为止``;
* tiers — ``有效得1分，较有效得0.5分，无效得0分``, ``效果显著得(2,3]分``, ``优…得100%，良…得80%``,
  ``较差不得分``: ``档次``;
* bands — ``Y≥4%得2分；3%≤Y<4%得1.5分；…；Y<0%得0分`` (contiguous, down to a lowest band): ``分段``.
"""
from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field
from fractions import Fraction

_NUM = r"\d+(?:\.\d+)?"
_CJK = r"[\u3400-\u4dbf\u4e00-\u9fff]"
_RATIO_END = r"(?:率|比例|比率|占比)"
_RATIO = rf"(?P<ratio>{_CJK}{{0,20}}?{_RATIO_END})\s*[YXyx]?"
_WEIGHT_WORD = r"(?:指标)?(?:满分值|满分|分值|权重|标准分)"
_SCORE = [
    re.compile(rf"(?:得分|指标分值|得分值|分值)\s*=\s*{_RATIO}\s*[×*xX]\s*{_WEIGHT_WORD}"),
    re.compile(rf"(?:得分|指标分值|得分值)\s*=\s*{_WEIGHT_WORD}\s*[×*xX]\s*{_RATIO}"),
    re.compile(rf"(?:按|按照)?(?:指标)?(?:满分|分值|满分值)\s*乘以\s*{_RATIO}\s*计(?:算)?得?分"),
    re.compile(rf"(?:按|按照)?{_RATIO}\s*乘以\s*(?:指标)?(?:满分|分值|满分值)\s*计(?:算)?得?分"),
]
_DEFINE = re.compile(
    rf"(?P<name>{_CJK}{{0,20}}?{_RATIO_END})\s*[YXyx]?\s*=\s*\[?\(?\s*(?P<num>{_CJK}{{1,30}})\s*[/÷]\s*(?P<den>{_CJK}{{1,30}})\s*\)?\]?\s*[×*xX]\s*100\s*%"
)
_FULL_MARK = re.compile(rf"满分值?\s*(?P<n>{_NUM})\s*分|得分不(?:超过|高于|得超过)\s*(?P<m>{_NUM})\s*分")
_DEDUCT = re.compile(rf"每(?:发现|出现|存在|有)?(?:一|1)(?:处|项|次|个|例|笔)[^;。]{{0,30}}?扣(?:除|减)?\s*(?P<n>{_NUM})\s*分")
_UNTIL_ZERO = re.compile(r"扣完为止|扣至0分|扣满为止|最低(?:为|得)?0分|扣完即止")
_INTERVAL = re.compile(rf"(?P<o>[(\[])\s*(?P<a>{_NUM})\s*,\s*(?P<b>{_NUM})\s*(?P<c>[)\]])")
_TIER = re.compile(rf"^(?P<label>.*?)(?:的|者)?得\s*(?:(?P<pct>{_NUM})\s*%|(?P<pts>{_NUM})\s*分?|(?P<iv>@\d+@)\s*分?)$")
_NONE = re.compile(r"^(?P<label>.*?)(?:的|者)?(?:不得分|得0分|不计分)$")
_LABEL_TRIM = re.compile(r"^(?:则|如|若|即|为|其中)+|(?:的|者|时|为)+$")


@dataclass
class Recognised:
    """A rule in the language's words, the facts and derived values it needs, and notes to confirm."""

    rule: str
    kind: str
    facts: list[tuple[str, str, str]] = field(default_factory=list)  # (name, type or "", description)
    derived: list[tuple[str, str]] = field(default_factory=list)  # (name, "a / b")
    notes: list[str] = field(default_factory=list)


def norm(text: str) -> str:
    """Text comparable across full- and half-width forms, without spaces."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text or ""))


def number(f: Fraction) -> str:
    """A weight or score as written in a rulebook: 2, 0.5, 1.25."""
    if f.denominator == 1:
        return str(f.numerator)
    from decimal import Decimal

    return format(Decimal(f.numerator) / Decimal(f.denominator), "f").rstrip("0").rstrip(".")


def recognise(standard: str, explain: str, leaf: str, weight: Fraction) -> tuple[Recognised | None, str]:
    """The rule the standard states, or (None, why not) when it states none or several."""
    text = norm(standard)
    if not text:
        return None, "没有评分标准"
    found = [r for r in (proportional(text, norm(explain), leaf), deduction(text), tiers(text, weight), bands(text, leaf))
             if r is not None]
    if len(found) == 1:
        found[0].notes.extend(_full_mark_notes(text, weight))
        return found[0], ""
    if not found:
        return None, "未能确定计分规则"
    kinds = "、".join(r.kind for r in found)
    return None, f"同时像{kinds}，不能确定是哪一种"


_PCT = rf"{_NUM}%"
_BAND_VAR = r"[^≥≤<>=;。]*?"
_BAND_TAIL = rf"时?,?(?:得(?P<p>{_NUM})分|(?P<none>不得分|得0分))$"
_BAND_TOP = re.compile(rf"^(?:当)?(?P<var>{_BAND_VAR})(?:≥|>=)(?P<a>{_PCT}){_BAND_TAIL}")
_BAND_MID = re.compile(rf"^(?:当)?(?P<a>{_PCT})(?:≤|<=)(?P<var>{_BAND_VAR})<(?P<b>{_PCT}){_BAND_TAIL}")
_BAND_LOW = re.compile(rf"^(?:当)?(?:(?P<var>{_BAND_VAR})<(?P<a>{_PCT})|(?P<a2>{_PCT})>(?P<var2>{_BAND_VAR})){_BAND_TAIL}")


def bands(text: str, leaf: str) -> Recognised | None:
    """``Y≥4%得2分；3%≤Y<4%得1.5分；…；Y<0%得0分``: 分段, when the bands are contiguous from the top
    down (each band's upper bound the lower bound of the one above) on one variable, in percent."""
    clauses = [c for c in re.split(r"[;。]", text) if c]
    if len(clauses) < 2:
        return None
    top = _BAND_TOP.match(clauses[0])
    if top is None:
        return None
    out, lower, names = [f"≥{top['a']}:{_points(top)}"], top["a"], {top["var"]}
    for i, clause in enumerate(clauses[1:], start=1):
        if (m := _BAND_MID.match(clause)) and Fraction(m["b"][:-1]) == Fraction(lower[:-1]):
            out.append(f"≥{m['a']}:{_points(m)}")
            lower = m["a"]
            names.add(m["var"])
        elif (m := _BAND_LOW.match(clause)) and i == len(clauses) - 1 and Fraction((m["a"] or m["a2"])[:-1]) == Fraction(lower[:-1]):
            out.append(f"否则:{_points(m)}")
            names.add(m["var"] or m["var2"])
        else:
            return None
    if len(names) != 1 or not out[-1].startswith("否则"):
        return None  # one variable, and every value in some band (the text states the lowest one)
    var = names.pop()
    clean = var.replace("|", "").rstrip("YXyx")
    notes = [f"评分标准按“{clean}”分段，起草为读取数据“{leaf}”（百分数）"] if clean and clean != norm(leaf) else []
    if "|" in var:
        notes.append(f"评分标准写的是绝对值“{var}”，起草为按数值本身（负数即超支时落入最低一档），请确认")
    return Recognised("分段 " + " ".join(out), "分段", [(leaf, "百分比", f"本指标的{clean or '数值'}（分段计分）")], notes=notes)


def _points(m: re.Match) -> str:
    return "0" if m["none"] else number(Fraction(m["p"]))


def _full_mark_notes(text: str, weight: Fraction) -> list[str]:
    """A 满分值 / 得分不超过 number in the standard that is not the weight (Qixia: 满分值2分, weight 3)."""
    for m in _FULL_MARK.finditer(text):
        if Fraction(m.group("n") or m.group("m")) != weight:
            return [f"评分标准写“{m.group(0)}”，而分值是 {number(weight)} 分；按分值 {number(weight)} 分起草"]
    return []


def proportional(text: str, explain: str, leaf: str) -> Recognised | None:
    """``得分 = 比率 × 分值`` (either order, or 满分乘以比率): a proportional rule on the ratio."""
    m = next((m for p in _SCORE if (m := p.search(text))), None)
    if m is None:
        return None
    ratio, own = m.group("ratio"), norm(leaf)
    stated = {d.group("name"): d for d in _DEFINE.finditer(text)}  # in this leaf's own standard
    shared = {d.group("name"): d for d in _DEFINE.finditer(explain)}  # 解释 may be a merged cell of many leaves
    defined = next((d for name, d in stated.items() if name == ratio or name.endswith(ratio)), None)
    if defined is None and own in shared and own.endswith(ratio):
        defined = shared[own]
    if defined is not None:
        name = defined.group("name")
        num, den = defined.group("num"), defined.group("den")
        facts = [(num, "", f"{name}的分子（评分标准：{name}={num}/{den}×100%）"), (den, "", f"{name}的分母")]
        rule = "正向 满分=100%" + ("" if own == name else f" 取 {name}")
        return Recognised(rule, "按比例计分", facts, [(name, f"{num} / {den}")])
    fact = [(leaf, "百分比", f"本指标的{ratio}，得分 = {ratio} × 分值")]
    if own == ratio or own.endswith(ratio):
        return Recognised("正向 满分=100%", "按比例计分", fact)
    return Recognised("正向 满分=100%", "按比例计分", fact,
                      notes=[f"评分标准按“{ratio}”计分，起草为读取数据“{leaf}”（填本指标的{ratio}，如 98.5%）"])


def deduction(text: str) -> Recognised | None:
    """``每发现一处…扣N分``: the deduction rule; a missing ``扣完为止`` and other clauses are noted."""
    found = list(_DEDUCT.finditer(text))
    if not found:
        return None
    per = {Fraction(m.group("n")) for m in found}
    if len(per) > 1:
        return None  # two different deductions per finding: not one rule
    notes = []
    if not _UNTIL_ZERO.search(text):
        notes.append("原文未写“扣完为止”；起草为扣至 0 分为止")
    rest = [c for c in re.split(r"[;。]", text) if "不得分" in c or "得0分" in c]
    notes.extend(f"评分标准中“{c}”没有写成规则（可加 若 条件 则 0）" for c in rest)
    return Recognised(f"扣分 每处{number(per.pop())} 扣完为止", "扣分", notes=notes)


def tiers(text: str, weight: Fraction) -> Recognised | None:
    """``甲得N分，乙得M分…`` (points, % of the weight, or an interval): 档次, when at least two tiers."""
    intervals: list[re.Match] = []

    def keep(m: re.Match) -> str:
        intervals.append(m)
        return f"@{len(intervals) - 1}@"

    clauses = [c for c in re.split(r"[,;。:]", _INTERVAL.sub(keep, text)) if c]
    out: list[tuple[str, str]] = []
    previous = ""
    for clause in clauses:
        tier = _tier(clause, previous, weight, intervals)
        if tier is not None:
            out.append(tier)
        previous = clause
    labels = [label for label, _ in out]
    if len(out) < 2 or len(set(labels)) != len(labels) or any(not ok_label(label) for label in labels):
        return None
    top = max(_top(spec) for _, spec in out)
    notes = [f"最高一档 {number(top)} 分，不等于分值 {number(weight)} 分"] if top != weight else []
    notes += [f"档次名称“{label}”照抄评分标准，可改短" for label in labels if len(label) > 12]
    return Recognised("档次 " + " ".join(f"{label}{spec}" for label, spec in out), "档次", notes=notes)


def _top(spec: str) -> Fraction:
    """The most points a tier gives: ``=2`` → 2, ``(1,2]`` → 2."""
    return Fraction(spec[1:]) if spec.startswith("=") else Fraction(spec[1:-1].split(",")[1])


def _tier(clause: str, previous: str, weight: Fraction, intervals: list[re.Match]) -> tuple[str, str] | None:
    """(label, "=2" or "(1,2]") of one clause, or None."""
    m = _TIER.match(clause)
    if m:
        label = m.group("label")
        if m.group("pct") is not None:
            spec = "=" + number(weight * Fraction(m.group("pct")) / 100)
        elif m.group("pts") is not None:
            spec = "=" + m.group("pts")
        else:
            iv = intervals[int(m.group("iv").strip("@"))]
            spec = f"{iv.group('o')}{iv.group('a')},{iv.group('b')}{iv.group('c')}"
    elif (m := _NONE.match(clause)):
        label, spec = m.group("label"), "=0"
    else:
        return None
    label = _LABEL_TRIM.sub("", label or "") or _LABEL_TRIM.sub("", previous)
    if "@" in label or not label:
        return None
    return label, spec


def ok_label(label: str) -> bool:
    """A tier name the language can hold (the grammar takes only bare names there), and short."""
    return 0 < len(label) <= 40 and plain(label)


@functools.cache
def _name_pattern() -> re.Pattern:
    """The grammar's own NAME terminal: what a rulebook may write without quotes."""
    from jxdsl.parse import _parser

    return re.compile(next(t for t in _parser().terminals if t.name == "NAME").pattern.to_regexp())


def plain(name: str) -> bool:
    """Whether ``name`` can be written bare (a NAME that is not a keyword)."""
    from jxdsl.parse import keywords

    return bool(_name_pattern().fullmatch(name)) and name not in keywords()


def quote_name(name: str) -> str:
    """A name as a rulebook writes it: bare when plain, else in the first quotes it does not hold."""
    return name if plain(name) else quote_text(name)


def quote_text(text: str) -> str:
    """Text in the first kind of quotes it does not contain (a ``"`` in it becomes ``＂`` otherwise)."""
    for left, right in (("“", "”"), ('"', '"'), ("「", "」")):
        if right not in text and left not in text:
            return f"{left}{text}{right}"
    return '"' + text.replace('"', "＂") + '"'
