"""AST + parents → a validated, immutable Rulebook.

Inheritance, overrides, name resolution and every static check happen here, so that
evaluation never meets an undefined name, a broken weight sum or a conflicting override.
Checks collect every problem in one pass.
"""
from __future__ import annotations

import hashlib
import os
from fractions import Fraction
from pathlib import Path

import attrs

from jxdsl import ast
from jxdsl.errors import ErrorGroup, JxError, LinkError, Span, suggest
from jxdsl.formulas import check_dimensions, literal, references
from jxdsl import trees
from jxdsl.resolve import MAX_INHERITANCE, Resolver, parent_span
from jxdsl.resolve import shown as _shown
from jxdsl.graph import check_behind, order_derived
from jxdsl.reach import check_bands, check_names, check_vetoes
from jxdsl.scale import check_default_rounding, check_grades, check_max, check_rounding
from jxdsl.unitcheck import check_book
from jxdsl.units import DATE, MONEY, PERCENT, TEXT, normalize

MAX_INDICATORS = 5000
FACT_TYPES = {"金额": "元", "百分比": "", "数值": "", "日期": DATE, "文本": TEXT, "数量": None}
WEIGHT_NAME = "分值"  # inside 得分 = … formulas, the indicator's own weight


@attrs.frozen
class LinkedIndicator:
    """One indicator of a linked rulebook, with where it was defined or last changed."""

    path: tuple[str, ...]
    weight: Fraction
    rule: ast.Rule | None
    na_mode: str | None
    children: tuple["LinkedIndicator", ...]
    items: tuple[ast.ChecklistItem, ...]
    vetoes: tuple[ast.VetoCondition, ...]
    survey: ast.Survey | None
    texts: tuple[ast.TextField, ...]
    origin: Span | None
    value_name: str | None = None  # the fact or derived value its rule reads
    rounding: ast.Rounding | None = None  # its own 小数 (or a parent's), else the header's
    merge_into: str | None = None  # 未设置时 并入: the sibling that takes its weight when a project has no rows

    @property
    def name(self) -> str:
        return self.path[-1]

    def text(self, kind: str) -> str | None:
        for t in self.texts:
            if t.kind == kind:
                return t.text
        return None

    def walk(self):
        yield self
        for c in self.children:
            yield from c.walk()


@attrs.frozen
class Rulebook:
    """A linked rulebook: header, facts, derived values in dependency order, indicator tree."""

    name: str
    parent: str | None
    title: str | None
    basis: str | None
    years: tuple[int, int] | None
    version: str | None
    grades: tuple[tuple[str, str, Fraction], ...]
    lowest_grade: str
    digits: int
    rounding: str
    na_default: str | None
    facts: dict[str, ast.FactDecl]
    derived: tuple[ast.Derived, ...]
    indicators: tuple[LinkedIndicator, ...]
    bonus_cap: Fraction | None
    bonus: tuple[ast.BonusItem, ...]
    penalty_cap: Fraction | None
    penalty: tuple[ast.BonusItem, ...]
    vetoes: tuple[str, ...]
    quantitative_defaults: dict[str, ast.QuantitativeDefault]
    qualitative_tiers: tuple[ast.Tier, ...]
    files: tuple[str, ...]
    sources: dict[str, str]
    content_hash: str
    zero_target: str = "按达标"  # 目标为零: 按达标 (compare) | 满分
    over_target: str = "封顶"  # 超过满分值: 封顶 | 按偏离扣减
    qualitative_rounding: ast.Rounding | None = None  # 定性 … 小数 N 位: its own rounding
    grade_rates: tuple[Fraction, ...] | None = None  # 等级 按得分率: the bands as written (0.9 for 90%)
    declared_max: Fraction | None = None  # 满分 N in the header
    warnings: tuple[JxError, ...] = ()  # printed by check; scoring goes on

    def in_force(self, year: int) -> bool:
        """Whether the rulebook declares itself in force for this year (no 年度: always)."""
        return self.years is None or self.years[0] <= year <= self.years[1]

    @property
    def max(self) -> Fraction:
        return sum((i.weight for i in self.indicators), Fraction(0))

    def walk(self):
        for i in self.indicators:
            yield from i.walk()

    def implicit_facts(self) -> set[str]:
        derived = {d.name for d in self.derived}
        return {i.value_name for i in self.walk() if i.value_name and i.value_name not in derived}


# ---- mutable tree used while applying overrides ---------------------------------------
@attrs.define
class _Node:
    name: str
    weight: Fraction
    weight_span: Span | None
    rule: ast.Rule | None
    na_mode: str | None
    children: list["_Node"]
    items: tuple
    vetoes: tuple
    survey: ast.Survey | None
    texts: tuple
    origin: Span | None
    rounding: ast.Rounding | None = None
    merge_into: str | None = None

    @classmethod
    def of(cls, ind: ast.Indicator) -> "_Node":
        return cls(
            ind.name,
            ind.weight.magnitude,
            ind.weight.span,
            ind.rule,
            ind.na_mode,
            [cls.of(c) for c in ind.children],
            ind.items,
            ind.vetoes,
            ind.survey,
            ind.texts,
            ind.span,
            ind.rounding,
            ind.merge_into,
        )


@attrs.define
class _State:
    name: str = ""
    parent: str | None = None
    decl_span: Span | None = None
    settings: dict = attrs.Factory(dict)
    grades: ast.Grades | None = None
    facts: dict = attrs.Factory(dict)
    derived: dict = attrs.Factory(dict)
    roots: list = attrs.Factory(list)
    bonus: ast.BonusBlock | None = None
    penalty: ast.PenaltyBlock | None = None
    vetoes: ast.VetoBlock | None = None
    defaults: ast.DefaultsBlock | None = None
    files: list = attrs.Factory(list)
    sources: dict = attrs.Factory(dict)


class Linker:
    """Links rulebook files, finding parents by name or path inside the rulebook roots (resolve.py)."""

    def __init__(self, search_paths: list[str | Path] | None = None, anywhere: bool | None = None,
                 edited: dict[str | Path, str] | None = None):
        """``edited``: texts that stand for files being edited and not saved (path → text)."""
        self.search_paths = [Path(p) for p in (search_paths or [])]
        self.edited = {Path(p).resolve(): t for p, t in (edited or {}).items()}
        env = os.environ.get("JXDSL_PATH")
        if env:
            self.search_paths += [Path(p) for p in env.split(os.pathsep) if p]
        self.anywhere = anywhere

    # -- public
    def load(self, path: str | Path) -> Rulebook:
        """Parse, inherit and check one rulebook file."""
        errors: list[JxError] = []
        self._resolver = Resolver(self.search_paths, self.anywhere)  # files may change between loads
        state = self._state_for(Path(path), [], errors)
        book = _freeze(state, errors) if not errors else None
        if book is not None and not errors:
            return book
        group = ErrorGroup(errors).with_sources(state.sources)
        group.linked = book  # linked but failing its checks (weights not adding up): an editor still shows its tree
        raise group

    # -- inheritance
    def _state_for(self, path: Path, chain: list[Path], errors: list[JxError]) -> _State:
        path = _shown(path)
        doc, text = trees.load(path, self.edited.get(path.resolve()))
        decls = [s for s in doc.statements if isinstance(s, ast.RulebookDecl)]
        if not decls:
            raise LinkError("规则集缺少名称行", Span(str(path), 1, 1), "第一行写：规则集 名称").with_sources({str(path): text})
        if len(decls) > 1:
            raise LinkError("一个文件只能有一个“规则集”名称行", decls[1].span).with_sources({str(path): text})
        decl = decls[0]
        if decl.parent:
            if len(chain) + 1 > MAX_INHERITANCE:
                raise LinkError(
                    f"继承层级过深（超过 {MAX_INHERITANCE} 层）", decl.span, "直接继承更上层的规则集，减少中间层"
                ).with_sources({str(path): text})
            try:
                parent_path = self._resolver.find(decl.parent, path, parent_span(decl.span, decl.parent, text))
            except LinkError as e:
                raise e.with_sources({str(path): text}) from None
            if parent_path.resolve() in [p.resolve() for p in [*chain, path]]:
                raise LinkError(
                    f"继承关系形成循环：{' → '.join(p.name for p in [*chain, path, parent_path])}", decl.span
                ).with_sources({str(path): text})
            state = self._state_for(parent_path, [*chain, path], errors)
            state.parent = state.name
        else:
            state = _State()
        state.name, state.decl_span = decl.name, decl.span
        state.files.append(str(path))
        state.sources[str(path)] = text
        _apply(state, doc, inherited=decl.parent is not None, errors=errors)
        return state


def load(path: str | Path) -> Rulebook:
    """Link one rulebook file (parents are found by name under its rulebooks/ directory)."""
    return Linker().load(path)


# ---- applying one document's statements -------------------------------------------------
def _apply(state: _State, doc: ast.Document, inherited: bool, errors: list[JxError]) -> None:
    touched: dict[tuple[str, ...], Span | None] = {}
    own_derived: set[str] = set()
    for st in doc.statements:
        try:
            _apply_one(state, st, inherited, touched, own_derived)
        except JxError as e:
            errors.append(e)


def _apply_one(state: _State, st, inherited: bool, touched: dict, own_derived: set) -> None:
    if isinstance(st, ast.RulebookDecl):
        return
    if isinstance(st, ast.Setting):
        state.settings[st.key] = st
    elif isinstance(st, ast.Grades):
        state.grades = st
    elif isinstance(st, ast.FactsBlock):
        for f in st.facts:
            if f.type is not None and f.type not in FACT_TYPES:
                close = suggest(f.type, FACT_TYPES)
                raise LinkError(
                    f"未知的数据类型“{f.type}”", f.span, f"是否应为“{close}”？" if close else f"可用类型：{'、'.join(FACT_TYPES)}"
                )
            state.facts[f.name] = f
    elif isinstance(st, ast.Derived):
        if st.name in own_derived:
            raise LinkError(f"派生值“{st.name}”重复定义", st.span)
        own_derived.add(st.name)
        state.derived[st.name] = st
    elif isinstance(st, ast.Indicator):
        if _find_named(state.roots, st.name) is not None:
            how = "继承的规则集已有此指标，请用“替换”或“调整”" if inherited else "同一级指标不能重名"
            raise LinkError(f"一级指标“{st.name}”重复", st.span, how)
        state.roots.append(_Node.of(st))
    elif isinstance(st, (ast.Adjust, ast.Replace, ast.Remove)):
        _claim(touched, st.path, st.span, wholesale=not isinstance(st, ast.Adjust))
        siblings, node = _locate(state.roots, st.path, st.span)
        if isinstance(st, ast.Remove):
            siblings.remove(node)
        elif isinstance(st, ast.Replace):
            siblings[siblings.index(node)] = _Node.of(st.indicator)
        else:
            if st.weight is not None:
                node.weight, node.weight_span = st.weight.magnitude, st.weight.span
            if st.rule is not None:
                node.rule = st.rule
            if st.na_mode is not None:
                node.na_mode = st.na_mode
            if st.rounding is not None:
                node.rounding = st.rounding
            if st.merge_into is not None:
                node.merge_into = st.merge_into
            if st.texts:
                changed = {t.kind for t in st.texts}
                node.texts = tuple(t for t in node.texts if t.kind not in changed) + st.texts
            node.origin = st.span
    elif isinstance(st, ast.Add):
        if st.parent:
            _, parent = _locate(state.roots, st.parent, st.span)
            if parent.rule is not None and not parent.children:
                raise LinkError(f"“{'/'.join(st.parent)}”有计分规则，不能在其下新增指标", st.span)
            target = parent.children
        else:
            target = state.roots
        for ind in st.indicators:
            _claim(touched, (*st.parent, ind.name), ind.span)
            if _find_named(target, ind.name) is not None:
                raise LinkError(f"“{'/'.join(st.parent)}”下已有指标“{ind.name}”", ind.span, "修改已有指标请用“替换”或“调整”")
            target.append(_Node.of(ind))
    elif isinstance(st, ast.BonusBlock):
        state.bonus = st
    elif isinstance(st, ast.PenaltyBlock):
        state.penalty = st
    elif isinstance(st, ast.VetoBlock):
        state.vetoes = st
    elif isinstance(st, ast.DefaultsBlock):
        # a child restates only the default rules it changes; the others are inherited
        merged = {("定量", d.op) if isinstance(d, ast.QuantitativeDefault) else ("定性",): d for d in (state.defaults.rules if state.defaults else ())}
        for d in st.rules:
            merged[("定量", d.op) if isinstance(d, ast.QuantitativeDefault) else ("定性",)] = d
        state.defaults = ast.DefaultsBlock(tuple(merged.values()), span=st.span)
    else:  # pragma: no cover - the parser produces no other statements
        raise TypeError(type(st).__name__)


def _claim(touched: dict, path: tuple[str, ...], span: Span | None, wholesale: bool = False) -> None:
    """One change per indicator per file. Changing a parent and a child is fine, but not a
    change inside a subtree that the same file removes or replaces wholesale."""
    for other, (other_span, other_wholesale) in touched.items():
        inside = path[: len(other)] == other and other_wholesale
        encloses = other[: len(path)] == path and wholesale
        if other == path or inside or encloses:
            where = f"（第 {other_span.line} 行）" if other_span else ""
            raise LinkError(
                f"对“{'/'.join(path)}”的修改与前面对“{'/'.join(other)}”的修改{where}冲突",
                span,
                "同一指标在一个规则集里只能修改一次；删除或替换整枝后不能再改其中的指标",
            )
    touched[path] = (span, wholesale)


def _find_named(nodes: list[_Node], name: str) -> _Node | None:
    """Names are compared as records and tables compare them (units.normalize): 其他试验(水稻) is
    其他试验（水稻）."""
    key = normalize(name)
    return next((n for n in nodes if normalize(n.name) == key), None)


def _locate(roots: list[_Node], path: tuple[str, ...], span: Span | None) -> tuple[list[_Node], _Node]:
    siblings = roots
    node = None
    for depth, name in enumerate(path):
        node = _find_named(siblings, name)
        if node is None:
            close = suggest(name, [n.name for n in siblings])
            where = "/".join(path[:depth]) or "一级指标"
            raise LinkError(
                f"找不到指标“{'/'.join(path[: depth + 1])}”（{where}下没有“{name}”）",
                span,
                f"是否应为“{close}”？" if close else f"{where}下有：{'、'.join(n.name for n in siblings[:12])}",
            )
        if depth < len(path) - 1:
            siblings = node.children
    assert node is not None
    return siblings, node


def _check_merges(siblings, errors: list[JxError]) -> None:
    """未设置时 并入 X: on a 来自目标表 indicator, X a 来自目标表 sibling that merges nowhere itself."""
    from jxdsl.lower import table_key

    for ind in siblings:
        _check_merges(ind.children, errors)
        if ind.merge_into is None:
            continue
        into = next((c for c in siblings if table_key(c.name) == table_key(ind.merge_into)), None)
        where = f"“{ind.name}”的“未设置时 并入 {ind.merge_into}”"
        if not isinstance(ind.rule, ast.FromTargets):
            errors.append(LinkError(f"{where}：只有“来自目标表”的指标才会“未设置”", ind.origin, "去掉“未设置时 并入 …”，或改用 不适用时 按比例折算"))
        elif into is None or into is ind:
            close = suggest(ind.merge_into, [c.name for c in siblings if c is not ind])
            errors.append(LinkError(f"{where}：同一级没有别的指标叫“{ind.merge_into}”", ind.origin, f"是否应为“{close}”？" if close else "并入的指标须与它同属一个上级"))
        elif not isinstance(into.rule, ast.FromTargets) or into.merge_into is not None:
            errors.append(LinkError(f"{where}：“{into.name}”须是“来自目标表”的指标，且自己不再并入别处", ind.origin, "权重只能并入由目标表给出各行分值的同级指标"))


# ---- checks and freezing -------------------------------------------------------------------
def _freeze(state: _State, errors: list[JxError]) -> Rulebook:
    s = state.settings
    digits, rounding = (s["小数"].value if "小数" in s else (2, "四舍五入"))
    grades, rates = check_grades(state.grades, state.roots, errors, s.get("满分"))
    derived_names = set(state.derived)
    count = [0]

    def freeze(node: _Node, parent: tuple[str, ...], inherited: ast.Rounding | None) -> LinkedIndicator:
        count[0] += 1
        path = (*parent, node.name)
        rounding = node.rounding or inherited
        kids = tuple(freeze(c, path, rounding) for c in node.children)
        value_name = _value_name(node)
        ind = LinkedIndicator(
            path, node.weight, node.rule, node.na_mode, kids, node.items, node.vetoes, node.survey, node.texts, node.origin, value_name, rounding,
            node.merge_into,
        )
        _check_indicator(ind, node, errors)
        check_rounding(node, ind, digits, errors)
        return ind

    _check_unique(state.roots, (), errors)
    check_names(state.grades, [n for r in state.roots for n in _nodes(r)], state.bonus, state.penalty, state.vetoes, errors)
    roots = tuple(freeze(n, (), None) for n in state.roots)
    _check_merges(roots, errors)
    if count[0] > MAX_INDICATORS:
        errors.append(LinkError(f"指标过多（{count[0]} 个，上限 {MAX_INDICATORS}）", state.decl_span))
    book = Rulebook(
        name=state.name,
        parent=state.parent,
        title=s["标题"].value[0] if "标题" in s else None,
        basis=s["依据"].value[0] if "依据" in s else None,
        years=tuple(s["年度"].value) if "年度" in s else None,
        version=s["版本"].value[0] if "版本" in s else None,
        grades=grades,
        lowest_grade=state.grades.lowest if state.grades else "差",
        digits=digits,
        rounding=rounding,
        na_default=s["不适用"].value[0] if "不适用" in s else None,
        facts=dict(state.facts),
        derived=check_behind(order_derived(state.derived, errors), errors),
        indicators=roots,
        bonus_cap=state.bonus.cap.magnitude if state.bonus and state.bonus.cap else None,
        bonus=state.bonus.items if state.bonus else (),
        penalty_cap=state.penalty.cap.magnitude if state.penalty and state.penalty.cap else None,
        penalty=state.penalty.items if state.penalty else (),
        vetoes=state.vetoes.items if state.vetoes else (),
        quantitative_defaults={d.op: d for d in (state.defaults.rules if state.defaults else ()) if isinstance(d, ast.QuantitativeDefault)},
        qualitative_tiers=next(
            (d.tiers for d in (state.defaults.rules if state.defaults else ()) if isinstance(d, ast.QualitativeDefault)), ()
        ),
        files=tuple(state.files),
        sources=dict(state.sources),
        content_hash=_hash(state),
        zero_target=s["目标为零"].value[0] if "目标为零" in s else "按达标",
        over_target=s["超过满分值"].value[0] if "超过满分值" in s else "封顶",
        qualitative_rounding=next(
            (d.rounding for d in (state.defaults.rules if state.defaults else ()) if isinstance(d, ast.QualitativeDefault)), None
        ),
        grade_rates=rates,
        declared_max=s["满分"].value[0].magnitude if "满分" in s else None,
    )
    book = attrs.evolve(book, warnings=check_max(book, s.get("满分"), state.decl_span, errors))
    check_default_rounding(state.defaults, digits, errors)
    _check_references(book, derived_names, errors)
    _check_targets(book, errors)
    check_book(book, errors)
    return book


def _nodes(node: _Node):
    """The node and every node under it, without recursion (a tree is at most 12 levels deep)."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(reversed(n.children))


def _value_name(node: _Node) -> str | None:
    rule = node.rule
    if isinstance(rule, (ast.Proportional, ast.TargetMet, ast.Bands)) and rule.source is None and node.survey is None:
        return node.name
    return None


def _hash(state: _State) -> str:
    h = hashlib.sha256()
    for f in state.files:
        h.update(state.sources[f].encode("utf-8"))
        h.update(b"\0")
    return h.hexdigest()


def _check_unique(nodes: list[_Node], parent: tuple[str, ...], errors: list[JxError]) -> None:
    seen: dict[str, str] = {}
    for n in nodes:
        first = seen.get(normalize(n.name))
        seen.setdefault(normalize(n.name), n.name)
        if first is not None:
            same = "同一级指标不能重名" + ("" if first == n.name else f"（“{first}”与“{n.name}”只差全角、半角符号，视为同名）")
            errors.append(LinkError(f"“{'/'.join(parent) or '一级指标'}”下有两个“{n.name}”", n.origin, same))
        _check_unique(n.children, (*parent, n.name), errors)


def _fmt(f: Fraction) -> str:
    from jxdsl.units import plain

    return plain(f, 4)


def _check_indicator(ind: LinkedIndicator, node: _Node, errors: list[JxError]) -> None:
    span = node.origin
    name = "/".join(ind.path)
    w = ind.weight
    if w < 0:
        errors.append(LinkError(f"“{name}”的权重不能为负数", node.weight_span))
    if ind.children:
        if ind.rule is not None:
            errors.append(LinkError(f"“{name}”既有计分规则又有下级指标", span, "上级指标的得分是下级之和，不写计分规则"))
        total = sum((c.weight for c in ind.children), Fraction(0))
        if total != w:
            parts = " + ".join(_fmt(c.weight) for c in ind.children)
            errors.append(
                LinkError(f"“{name}”的下级指标权重之和 {parts} = {_fmt(total)}，与本级权重 {_fmt(w)} 不符", node.weight_span or span)
            )
        return
    rule = ind.rule
    if rule is None:
        if ind.na_mode is None or ind.items or ind.survey:
            errors.append(LinkError(f"指标“{name}”缺少计分规则", span, "例如：正向 满分=100%、达标 ≥24人、档次 有效=1 无效=0、酌情"))
        else:
            errors.append(LinkError(f"指标“{name}”缺少计分规则（不适用时也需要规定适用时如何计分）", span, "可写 酌情"))
        return
    if ind.items and not isinstance(rule, ast.Checklist):
        errors.append(LinkError(f"“{name}”下有清单条目，但计分规则不是“清单”", ind.items[0].span))
    if isinstance(rule, ast.Checklist):
        if not ind.items:
            errors.append(LinkError(f"清单指标“{name}”下没有条目", span, "在下一行缩进写条目和分数，如：经过科学论证 1"))
        total = sum((i.points.magnitude for i in ind.items), Fraction(0))
        if ind.items and total != w:
            errors.append(LinkError(f"清单“{name}”各条分数之和 {_fmt(total)} 与权重 {_fmt(w)} 不符", span))
        seen = set()
        for it in ind.items:
            if it.name in seen:
                errors.append(LinkError(f"清单条目“{it.name}”重复", it.span))
            seen.add(it.name)
    if isinstance(rule, ast.Tiers):
        _check_tiers(rule.tiers, w, name, errors, percent_of_weight=rule.qualitative)
    if isinstance(rule, ast.Bands):
        check_bands(rule, errors)
        for b in rule.bands:
            if not 0 <= b.points.magnitude <= w:
                errors.append(LinkError(f"分段得分 {b.points.text} 超出 [0, {_fmt(w)}]", b.points.span))
        if rule.otherwise is not None and not 0 <= rule.otherwise.magnitude <= w:
            errors.append(LinkError(f"“否则”得分 {rule.otherwise.text} 超出 [0, {_fmt(w)}]", rule.otherwise.span))
    if isinstance(rule, ast.Deduction) and rule.per_finding.magnitude <= 0:
        errors.append(LinkError("每处扣分应大于 0", rule.per_finding.span))
    if ind.vetoes and not isinstance(rule, (ast.Deduction, ast.Checklist, ast.Tiers, ast.Judgement)):
        pass  # a veto condition may sit under any rule kind
    check_vetoes(ind.vetoes, errors)
    for v in ind.vetoes:
        if not 0 <= v.score.magnitude <= w:
            errors.append(LinkError(f"否决条件的得分 {v.score.text} 超出 [0, {_fmt(w)}]", v.score.span))
        if not isinstance(v.condition, ast.Compare):
            errors.append(LinkError("“若”后应写一个比较，如：若 不规范资金占比 ≥20% 则 0", v.condition.span))
    if ind.survey is not None:
        for o in ind.survey.options:
            val = literal(o.weight)
            if val.dim != "" or not 0 <= val.value <= 1:
                errors.append(LinkError(f"问卷选项“{o.name}”的权重应在 0 到 1（或 0% 到 100%）之间", o.weight.span))
        if isinstance(rule, (ast.Checklist, ast.Tiers, ast.Deduction, ast.Judgement, ast.FromTargets)):
            errors.append(LinkError(f"“{name}”有问卷，但计分规则不读取数值", ind.survey.span, "问卷算出的满意度配合 正向、达标 或 分段 使用"))


def _check_tiers(tiers, w: Fraction, name: str, errors: list[JxError], percent_of_weight: bool) -> None:
    seen = set()
    spans = []
    for t in tiers:
        if t.name in seen:
            errors.append(LinkError(f"档次“{t.name}”重复", t.span))
        seen.add(t.name)
        lo, hi = _tier_points(t, w)
        if lo > hi or (lo == hi and not (t.low_closed and t.high_closed)):
            errors.append(LinkError(f"档次“{t.name}”的区间为空（下限应小于上限）", t.span))
            continue
        if lo < 0 or hi > w:
            errors.append(LinkError(f"档次“{t.name}”的分数 {_fmt(lo)}–{_fmt(hi)} 超出 [0, {_fmt(w)}]", t.span))
        spans.append((lo, hi, t))
    spans.sort(key=lambda x: (x[0], x[1]))
    for (lo1, hi1, t1), (lo2, hi2, t2) in zip(spans, spans[1:]):
        overlap = lo2 < hi1 or (lo2 == hi1 and t1.high_closed and t2.low_closed)
        if overlap:
            errors.append(LinkError(f"档次“{t2.name}”与“{t1.name}”的区间重叠", t2.span, "相邻档次用半开区间，如 (1,2] 与 (2,3]"))


def _tier_points(t: ast.Tier, w: Fraction) -> tuple[Fraction, Fraction]:
    lo, hi = literal(t.low), literal(t.high)
    f = (lambda q: q.value * w) if t.low.unit in PERCENT or t.high.unit in PERCENT else (lambda q: q.value)
    return f(lo), f(hi)


def tier_points(t: ast.Tier, w: Fraction) -> tuple[Fraction, Fraction]:
    """The tier's interval in points for an indicator of weight w (percent tiers scale)."""
    return _tier_points(t, w)


def _check_references(book: Rulebook, derived_names: set[str], errors: list[JxError]) -> None:
    facts = set(book.facts) | book.implicit_facts()
    known = facts | derived_names
    dims = {n: FACT_TYPES.get(f.type) or "" for n, f in book.facts.items() if FACT_TYPES.get(f.type) is not None}

    def check(expr, allow_weight: bool = False) -> None:
        for r in references(expr):
            if r.name in known or (allow_weight and r.name == WEIGHT_NAME):
                continue
            pool = known | ({WEIGHT_NAME} if allow_weight else set())
            close = suggest(r.name, pool)
            errors.append(
                LinkError(
                    f"“{r.name}”既不是已声明的数据，也不是派生值",
                    r.span,
                    f"是否应为“{close}”？" if close else "在“事实”块中声明它，或定义为派生值：名称 = 公式",
                )
            )

    for d in book.derived:
        if d.name in book.facts:
            errors.append(LinkError(f"“{d.name}”既声明为数据又定义为派生值", d.span))
        check(d.expr)
        # units can be checked statically when every input has a declared type
        if all(r.name in dims for r in references(d.expr)):
            try:
                check_dimensions(d.expr, dims)
                from jxdsl.formulas import dimension

                dims[d.name] = dimension(d.expr, dims)
            except LinkError as e:
                errors.append(e)
    for ind in book.walk():
        rule = ind.rule
        if isinstance(rule, (ast.Proportional, ast.TargetMet, ast.Bands)):
            if rule.source is not None:
                check(rule.source)
            target = rule.target if not isinstance(rule, ast.Bands) else None
            if target is not None:
                check(target)
            if isinstance(rule, ast.Bands):
                for b in rule.bands:
                    check(b.threshold)
        if isinstance(rule, ast.Formula):
            check(rule.expr, allow_weight=True)
        for v in ind.vetoes:
            check(v.condition)


def _check_zero(direction: str, target, zero, errors: list[JxError]) -> None:
    """零分=k倍 or a value on the far side of the target: 反向 above it, 正向 below it."""
    if not isinstance(zero, ast.Number):
        return
    if zero.unit == "倍":
        k = zero.magnitude
        if (direction == "反向" and k <= 1) or (direction == "正向" and not 0 <= k < 1):
            want = "大于 1 倍（如 2倍）" if direction == "反向" else "小于 1 倍（如 0.6倍）"
            errors.append(LinkError(f"{direction}指标的零分点应{want}", zero.span))
        return
    if isinstance(target, ast.Number):
        t, z = literal(target), literal(zero)
        if t.dim != z.dim:
            errors.append(LinkError("零分点与满分值的单位不一致", zero.span))
        elif (direction == "反向" and z.value <= t.value) or (direction == "正向" and z.value >= t.value):
            side = "大于" if direction == "反向" else "小于"
            errors.append(LinkError(f"{direction}指标的零分点应{side}满分值 {target.text}", zero.span))


def _check_targets(book: Rulebook, errors: list[JxError]) -> None:
    table = next((i for i in book.walk() if isinstance(i.rule, ast.FromTargets)), None)
    if table is not None:
        if not book.quantitative_defaults and not book.qualitative_tiers:
            errors.append(LinkError("有“来自目标表”的指标，但没有“默认规则”", table.origin, "写出 默认规则 块：定量 ≥ : 正向 等"))
        if book.qualitative_tiers:
            _check_tiers(book.qualitative_tiers, Fraction(100), "定性", errors, percent_of_weight=True)
    for d in book.quantitative_defaults.values():
        if d.zero is not None:
            _check_zero(d.kind, None, d.zero, errors)
    for ind in book.walk():
        rule = ind.rule
        if isinstance(rule, ast.Proportional):
            t = rule.target
            if isinstance(t, ast.Number) and literal(t).dim in (DATE, TEXT):
                errors.append(LinkError("比例计分的满分值应是数值、百分数、金额或数量", t.span))
            if rule.zero is not None:
                _check_zero(rule.direction, t, rule.zero, errors)
        if isinstance(rule, ast.TargetMet) and isinstance(rule.target, ast.Number):
            pass
    _ = MONEY
