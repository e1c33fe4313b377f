"""What changed between two linked rulebooks, indicator by indicator.

A variant against its parent lists exactly its overrides; two years of the same scheme
list what a policy officer must know before re-scoring: weights, rules, texts, added and
removed indicators, grade bands, rounding and the other header settings.
"""
from __future__ import annotations

from typing import Any

import attrs

from jxdsl import ast
from jxdsl.formulas import CMP_SIGN, formula_text
from jxdsl.link import LinkedIndicator, Rulebook
from jxdsl.printer import rule as print_rule
from jxdsl.printer import tier
from jxdsl.units import plain


@attrs.frozen
class Change:
    """One difference: where, what kind, and the old and new value in rulebook words."""

    kind: str  # added | removed | weight | rule | na | rounding | text | items | vetoes | survey | setting | derived | fact | item
    path: tuple[str, ...]
    old: Any = None
    new: Any = None
    field: str | None = None

    def as_json(self) -> dict:
        return {"kind": self.kind, "path": list(self.path), "field": self.field, "old": self.old, "new": self.new}


def diff(old: Rulebook, new: Rulebook) -> list[Change]:
    """Every difference, header first, then indicators in the new rulebook's order."""
    changes = _settings(old, new)
    changes += _named("derived", {d.name: formula_text(d.expr) for d in old.derived}, {d.name: formula_text(d.expr) for d in new.derived})
    changes += _named("fact", {f.name: _fact(f) for f in old.facts.values()}, {f.name: _fact(f) for f in new.facts.values()})
    old_index = {i.path: i for i in old.walk()}
    new_index = {i.path: i for i in new.walk()}
    for path, ind in new_index.items():
        before = old_index.get(path)
        if before is None:
            if path[:-1] not in new_index or path[:-1] in old_index:  # report the top of an added subtree only
                changes.append(Change("added", path, None, _summary(ind)))
            continue
        changes += _indicator(before, ind)
    for path, ind in old_index.items():
        if path not in new_index and (path[:-1] not in old_index or path[:-1] in new_index):
            changes.append(Change("removed", path, _summary(ind), None))
    changes += _named("item", _items(old), _items(new))
    return changes


def _fact(f: ast.FactDecl) -> str:
    return " ".join(x for x in (f.type, f.description) if x) or "（未注明类型）"


def _summary(ind: LinkedIndicator) -> str:
    rule = f" {print_rule(ind.rule)}" if ind.rule is not None else ""
    below = f"（含 {len(list(ind.walk())) - 1} 个下级指标）" if ind.children else ""
    return f"权重 {plain(ind.weight, 4)}{rule}{below}"


def _indicator(a: LinkedIndicator, b: LinkedIndicator) -> list[Change]:
    out = []
    if a.weight != b.weight:
        out.append(Change("weight", b.path, plain(a.weight, 4), plain(b.weight, 4)))
    if a.rule != b.rule:
        out.append(Change("rule", b.path, print_rule(a.rule) if a.rule else None, print_rule(b.rule) if b.rule else None))
    if a.na_mode != b.na_mode:
        out.append(Change("na", b.path, a.na_mode, b.na_mode))
    if _rounding(a.rounding) != _rounding(b.rounding):  # its own 小数, or a parent's it follows
        out.append(Change("rounding", b.path, _rounding(a.rounding), _rounding(b.rounding), "小数"))
    if a.merge_into != b.merge_into:
        out.append(Change("merge", b.path, a.merge_into, b.merge_into))
    for kind in ("解释", "标准"):
        if a.text(kind) != b.text(kind):
            out.append(Change("text", b.path, a.text(kind), b.text(kind), kind))
    if a.items != b.items:
        out.append(Change("items", b.path, [f"{i.name} {i.points.text}" for i in a.items], [f"{i.name} {i.points.text}" for i in b.items]))
    if a.vetoes != b.vetoes:
        show = lambda vs: [f"若 {formula_text(v.condition)} 则 {v.score.text}" for v in vs]  # noqa: E731
        out.append(Change("vetoes", b.path, show(a.vetoes), show(b.vetoes)))
    if a.survey != b.survey:
        show_s = lambda s: " ".join(f"{o.name}={o.weight.text}" for o in s.options) if s else None  # noqa: E731
        out.append(Change("survey", b.path, show_s(a.survey), show_s(b.survey)))
    return out


def _rounding(r: ast.Rounding | None) -> str | None:
    return f"{r.digits} 位 {r.mode}" if r is not None else None


def _grades(book: Rulebook) -> str:
    if book.grade_rates is not None:
        bands = " ".join(f"{n} {CMP_SIGN[op]}{plain(rate * 100, 4)}%" for (n, op, _), rate in zip(book.grades, book.grade_rates))
        return f"按得分率 {bands} {book.lowest_grade}"
    return " ".join(f"{n} {CMP_SIGN[op]}{plain(bound)}" for n, op, bound in book.grades) + f" {book.lowest_grade}"


def _years(book: Rulebook) -> str | None:
    if book.years is None:
        return None
    a, b = book.years
    return str(a) if a == b else f"{a}-{b}"


def _defaults(book: Rulebook) -> dict[str, str]:
    out = {}
    for op, d in book.quantitative_defaults.items():
        zero = f" 零分={formula_text(d.zero)}" if d.zero is not None else ""
        own = f" 小数 {_rounding(d.rounding)}" if d.rounding is not None else ""
        out[f"定量 {CMP_SIGN[op]}"] = f"{d.kind}{zero}{own}"
    if book.qualitative_tiers:
        own = f" 小数 {_rounding(book.qualitative_rounding)}" if book.qualitative_rounding is not None else ""
        out["定性"] = "三档 " + " ".join(tier(t) for t in book.qualitative_tiers) + own
    return out


SETTINGS = (
    ("标题", lambda b: b.title),
    ("依据", lambda b: b.basis),
    ("年度", _years),
    ("版本", lambda b: b.version),
    ("等级", _grades),
    ("小数", lambda b: f"{b.digits} 位 {b.rounding}"),
    ("满分", lambda b: plain(b.declared_max) if b.declared_max is not None else None),
    ("不适用", lambda b: b.na_default),
    ("目标为零", lambda b: b.zero_target),
    ("超过满分值", lambda b: b.over_target),
    ("加分上限", lambda b: plain(b.bonus_cap) if b.bonus_cap is not None else None),
    ("扣分上限", lambda b: plain(b.penalty_cap) if b.penalty_cap is not None else None),
)


def _settings(old: Rulebook, new: Rulebook) -> list[Change]:
    out = [Change("setting", (), get(old), get(new), name) for name, get in SETTINGS if get(old) != get(new)]
    a, b = _defaults(old), _defaults(new)
    for key in dict.fromkeys([*a, *b]):
        if a.get(key) != b.get(key):
            out.append(Change("setting", (), a.get(key), b.get(key), f"默认规则 {key}"))
    return out


def _items(book: Rulebook) -> dict[str, str]:
    out = {f"加分项 {i.name}": f"加 {i.points.text}" for i in book.bonus}
    out.update({f"扣分项 {i.name}": f"扣 {i.points.text}" for i in book.penalty})
    out.update({f"一票否决 {v}": "发生即总分为 0" for v in book.vetoes})
    return out


def _named(kind: str, old: dict[str, str], new: dict[str, str]) -> list[Change]:
    out = []
    for name in dict.fromkeys([*old, *new]):
        if old.get(name) != new.get(name):
            out.append(Change(kind, (), old.get(name), new.get(name), name))
    return out


# ---- rendering ---------------------------------------------------------------------------
KIND_WORDS = {"weight": "权重", "rule": "计分规则", "na": "不适用时", "merge": "未设置时 并入", "rounding": "小数", "items": "清单条目", "vetoes": "否决条件", "survey": "问卷选项"}
NAMED_WORDS = {"derived": "派生值", "fact": "数据", "item": "", "setting": ""}


def render(old: Rulebook, new: Rulebook, changes: list[Change]) -> str:
    """The differences in sentences a policy officer reads."""
    head = f"规则集对比：{old.name} → {new.name}"
    if not changes:
        return head + "\n  两个规则集的指标、权重、计分规则和设置完全相同"
    lines = [head, f"  共 {len(changes)} 处不同："]
    for c in changes:
        lines.append("  " + sentence(c))
    return "\n".join(lines)


def _v(value) -> str:
    if value is None:
        return "（无）"
    if isinstance(value, list):
        return "、".join(value) if value else "（无）"
    return str(value)


def sentence(c: Change) -> str:
    where = "/".join(c.path)
    if c.kind == "added":
        return f"新增 {where}：{c.new}"
    if c.kind == "removed":
        return f"删除 {where}（原为 {c.old}）"
    if c.kind in NAMED_WORDS:
        label = f"{NAMED_WORDS[c.kind]}“{c.field}”" if NAMED_WORDS[c.kind] else c.field
        if c.old is None:
            return f"新增{label}：{c.new}"
        if c.new is None:
            return f"删除{label}（原为 {c.old}）"
        return f"{label}：{_v(c.old)} → {_v(c.new)}"
    if c.kind == "text":
        return f"{where} 的{c.field}文字改为：{_v(c.new)}"
    return f"{where} {KIND_WORDS[c.kind]}：{_v(c.old)} → {_v(c.new)}"


def to_json(old: Rulebook, new: Rulebook, changes: list[Change]) -> dict:
    return {"old": old.name, "new": new.name, "changes": [c.as_json() for c in changes]}
