"""Rulebook + Facts → Result: the interpreter, which runs the staged kernel on exact Python values.

Evaluation is pure: it never prints and never reads files.  Every score is an exact fraction,
rounded as the rulebook says; parents add up their children's rounded scores, as published score
tables do.  Explanations, JSON and reports are rendered from the steps recorded here.
"""
from __future__ import annotations

from fractions import Fraction

import attrs

from jxdsl import ir
from jxdsl.errors import FactError, Span, suggest
from jxdsl.facts import Facts, TargetRow
from jxdsl.inputs import ProjectInputs, as_text, from_facts
from jxdsl.rowrecords import fold_row_records
from jxdsl.kernel import hints, tree
from jxdsl.kernel.leaf import run_leaf
from jxdsl.kernel.pyscope import EMPTY, PyRecord, PyScope, record_index, record_key
from jxdsl.kernel.rows import DETAILS, RowTexts, detail_part, score_row
from jxdsl.kernel.stage import PY
from jxdsl.kernel.values import Problem
from jxdsl.link import Rulebook
from jxdsl.lower import lower, table_key


@attrs.frozen
class Step:
    """One recorded evaluation step: what was computed, from what, with which numbers."""

    kind: str
    data: dict = attrs.field(factory=dict, hash=False)


@attrs.frozen
class IndicatorResult:
    """The outcome for one indicator (parents include their children)."""

    path: tuple[str, ...]
    weight: Fraction
    score: Fraction | None
    status: str  # scored | not_applicable | missing | invalid | vetoed
    steps: tuple[Step, ...] = ()
    evidence: str | None = None
    origin: Span | None = None
    children: tuple["IndicatorResult", ...] = ()
    excluded: Fraction = Fraction(0)  # weight left out by 按比例折算
    text: str | None = None  # the explanation when an engine computed it (SQL), else rendered from steps

    @property
    def name(self) -> str:
        return self.path[-1]

    @property
    def deduction(self) -> Fraction | None:
        if self.score is None:
            return None
        return self.weight - self.score - self.excluded

    def walk(self):
        yield self
        for c in self.children:
            yield from c.walk()


@attrs.frozen
class ItemResult:
    """A bonus, penalty or veto item and what the evaluator recorded for it."""

    name: str
    points: Fraction
    awarded: Fraction | None
    evidence: str | None = None
    status: str = "scored"


FUNDS = ("年初预算数", "全年预算数", "全年执行数")  # the facts a 自评表's funds block shows


def _with_record(steps: tuple[Step, ...], row: TargetRow) -> tuple[Step, ...]:
    """The row step with the row's 档次 and 评价得分 as written, so that a report can write them back."""
    record = {k: None if v is None else as_text(v) for k, v in (("tier", row.tier), ("given", row.score))}
    return tuple(Step("row", {**s.data, **record}) if s.kind == "row" else s for s in steps)


@attrs.frozen
class Result:
    """Everything about one project's score, traceable to the exact rules used."""

    rulebook: str
    version: str | None
    content_hash: str
    files: tuple[str, ...]
    project: str
    max: Fraction
    subtotal: Fraction | None
    total: Fraction | None
    grade: str | None
    bonus: Fraction
    penalty: Fraction
    indicators: tuple[IndicatorResult, ...]
    bonus_items: tuple[ItemResult, ...] = ()
    penalty_items: tuple[ItemResult, ...] = ()
    veto_items: tuple[ItemResult, ...] = ()
    total_steps: tuple[Step, ...] = ()
    errors: tuple[FactError, ...] = ()
    warnings: tuple[str, ...] = ()
    digits: int = 2
    rounding: str = "四舍五入"
    bonus_cap: Fraction | None = None
    grade_max: Fraction | None = None  # 等级 按得分率: the grade is on total ÷ this
    partial_total: Fraction | None = None  # tree.partial: the points of the scored top-level indicators,
    partial_max: Fraction | None = None  # out of the weight they cover, when others have no score
    unscored: str | None = None
    funds: tuple[tuple[str, str], ...] = ()  # FUNDS as written, for the 自评表's funds block

    def walk(self):
        for i in self.indicators:
            yield from i.walk()


def evaluate(book: Rulebook | ir.Scheme, facts: Facts | ProjectInputs) -> Result:
    """Score one project. Problems with the facts are collected in ``Result.errors``."""
    scheme = book if isinstance(book, ir.Scheme) else lower(book)
    inputs = facts if isinstance(facts, ProjectInputs) else from_facts(facts)
    return _Run(scheme, inputs).result()


def _steps(kernel_steps) -> tuple[Step, ...]:
    return tuple(Step(s.kind, s.payload()) for s in kernel_steps if s.when)


class _Run:
    """One project through the kernel: errors are kept in the order every engine reports them."""

    def __init__(self, scheme: ir.Scheme, inputs: ProjectInputs):
        self.scheme, self.inputs = scheme, fold_row_records(scheme, inputs)
        self.errors: list[FactError] = []
        self.claims: list[tuple[str, str | None, int | None]] = []
        self.scope = PyScope(scheme, inputs)
        self.records = self._match_records()

    def error(self, message: str, path: tuple[str, ...] | None = None, hint: str | None = None, line: int | None = None) -> None:
        where = f"项目“{self.inputs.project}”" + (f"，指标“{'/'.join(path)}”" if path else "")
        span = self.inputs.span(line) or Span(self.inputs.source or "<事实>", 1, 1)
        self.errors.append(FactError(f"{where}：{message}", span, hint))

    # -- records
    def _match_records(self) -> dict[tuple[str, ...], PyRecord]:
        """Each record to the leaf, table or item it names; a key naming none, or several, is an error."""
        index, targets = _index(self.scheme)
        best: dict[tuple[str, ...], tuple[int, object]] = {}
        for rec in self.inputs.records:
            suffix = record_key(rec.key)
            matches = index.get(suffix, [])
            if not matches:
                pool = ["/".join(p) for p in targets] + [p[-1] for p in targets]
                close = suggest(rec.key, pool)
                self.claims.append((f"评价记录“{rec.key}”没有对应的指标", f"是否应为“{close}”？" if close else None, rec.line))
            elif len(set(matches)) > 1 and not any(len(m) == len(suffix) for m in matches):
                self.claims.append((
                    f"评价记录“{rec.key}”对应多个指标：{'；'.join('/'.join(m) for m in matches)}",
                    "用完整路径写评价记录，如 过程/资金管理/资金到位率/资金到位率",
                    rec.line,
                ))
            for path in matches:
                if path not in best or len(suffix) > best[path][0]:
                    best[path] = (len(suffix), rec)
        return {path: PyRecord(rec) for path, (_, rec) in best.items()}

    def record(self, path: tuple[str, ...]) -> PyRecord:
        return self.records.get(path, EMPTY)

    # -- the run
    def result(self) -> Result:
        scheme, inputs = self.scheme, self.inputs
        for p in inputs.problems:
            self.error(p.message, None, p.hint, p.line)
        for message, hint, line in self.scope.problems:
            self.error(message, None, hint, line)
        self._stray_rows()
        for message, hint, line in self.claims:
            self.error(message, None, hint, line)
        roots = tuple(self._node(n) for n in scheme.roots)
        bonus = [self._item(i, "加分") for i in scheme.bonus]
        penalty = [self._item(i, "扣分") for i in scheme.penalty]
        vetoes = [self._veto(v) for v in scheme.vetoes]
        t = tree.total(PY, scheme, [(r.score, r.excluded) for r in roots], [o for o, _ in bonus], [o for o, _ in penalty], [o for o, _ in vetoes])
        if t.problem is not None:
            self.error(t.problem.message)
        part = tree.partial(PY, [(r.name, r.score, r.weight, r.excluded) for r in roots])
        warnings = []
        if inputs.year is not None and not scheme.in_force(inputs.year):
            a, b = scheme.years
            span = f"{a} 年" if a == b else f"{a}–{b} 年"
            warnings.append(f"规则集“{scheme.name}”适用于 {span}，项目年度为 {inputs.year} 年")
        return Result(
            rulebook=scheme.name,
            version=scheme.version,
            content_hash=scheme.content_hash,
            files=scheme.files,
            project=inputs.project,
            max=scheme.max,
            subtotal=t.subtotal,
            total=t.total,
            grade=t.grade,
            bonus=t.bonus,
            penalty=t.penalty,
            indicators=roots,
            bonus_items=tuple(r for _, r in bonus),
            penalty_items=tuple(r for _, r in penalty),
            veto_items=tuple(r for _, r in vetoes),
            total_steps=_steps(t.steps),
            errors=tuple(self.errors),
            warnings=tuple(warnings),
            digits=scheme.digits,
            rounding=scheme.rounding_text(), grade_max=scheme.grade_max,
            bonus_cap=scheme.bonus_cap,
            partial_total=part.total,
            partial_max=part.max,
            unscored=part.unscored,
            funds=tuple((n, f.text) for n in FUNDS if (f := inputs.facts.get(n)) is not None and f.text),
        )

    def _node(self, node: ir.Node) -> IndicatorResult:
        if isinstance(node, ir.Group):
            kids = tuple(self._node(c) for c in node.children)
            return _parent(node.path, node.weight, kids, node.origin)
        if isinstance(node, ir.TargetTable):
            return self._table(node)
        rec = self.record(node.path)
        got = run_leaf(self.scope, node, rec)
        if got.problem is not None:
            line = rec.line or self.scope.line(_value_name(node)) or self.inputs.facts_line
            self._leaf_error(node.path, got.problem, line, node)
        return IndicatorResult(node.path, node.weight, got.score, got.status, _steps(got.steps), got.evidence, node.origin, (), got.excluded)

    def _leaf_error(self, path, problem, line, node=None) -> None:
        hint = hints.refine(problem, node, self.scheme, self.inputs)
        self.error(problem.message, path, hint, line)

    # -- 来自目标表
    def _stray_rows(self) -> None:
        """Every target row must belong to a 来自目标表 indicator: none is dropped silently."""
        tables = self.scheme.tables()
        keys = {t.key for t in tables}
        homes = [t.name for t in tables]
        for row in self.inputs.targets:
            if table_key(row.first) not in keys:
                message = f"目标表中一级指标“{row.first}”（{row.third}）不在规则集中（规则集中没有同名的“来自目标表”指标）"
                problem = Problem("invalid", message, f"可用：{'、'.join(homes) or '（规则集没有来自目标表的指标）'}", "table", row.first)
                self.error(message, None, hints.refine(problem, None, self.scheme, self.inputs), row.span.line if row.span else None)

    def _table(self, node: ir.TargetTable) -> IndicatorResult:
        rows = [r for r in self.inputs.targets if table_key(r.first) == node.key and not r.detail]
        groups: dict[str, list[TargetRow]] = {}
        order: list = []  # each 二级指标 where its first row is, each row without one where it is
        for r in rows:
            if not r.second:
                order.append(r)
            elif r.second not in groups:
                groups[r.second] = [r]
                order.append(r.second)
            else:
                groups[r.second].append(r)
        kids = []
        for kid in order:
            if isinstance(kid, str):
                leaves = tuple(self._row(node.path + (kid,), r) for r in groups[kid])
                kids.append(_parent(node.path + (kid,), sum((leaf.weight for leaf in leaves), Fraction(0)), leaves, groups[kid][0].span))
            else:
                kids.append(self._row(node.path, kid))
        d = self.scheme.digits
        parts = " + ".join(tree.child_part(PY, k.name, k.score, d) for k in kids)
        total = sum((k.weight for k in kids), Fraction(0))
        s = tree.parent(PY, [(k.score, k.status, k.excluded) for k in kids])
        rec = self.record(node.path)
        moved = [not self._has_rows(m) and not self.record(m.path).na for m in node.merged_from]
        got = tree.target_table(PY, node, bool(rows), total, False, s, parts, d, rec.na, moved, self.scheme.na_default)
        if got.problem is not None:
            line = rows[0].span.line if rows and rows[0].span else (rec.line or self.inputs.facts_line)  # as the SQL engines
            self.error(got.problem.message, node.path, got.problem.hint, line)
        return IndicatorResult(node.path, got.weight, got.score, got.status, (), None, node.origin, tuple(kids), got.excluded, text=got.explanation)

    def _has_rows(self, node: ir.TargetTable) -> bool:
        return any(table_key(r.first) == node.key for r in self.inputs.targets)

    def _row(self, parent: tuple[str, ...], row: TargetRow) -> IndicatorResult:
        path = (*parent, row.third)
        got, weight, steps, text = _score_row(self.scope, RowTexts.of(row))
        line = row.span.line if row.span else None
        details = [detail_part(PY, d.third, *[None if v is None else as_text(v) for v in (d.target, d.actual)]) for d in self.inputs.targets if d.detail and d.parent == line]
        text = text + DETAILS + "；".join(details) if details and line is not None else text
        if got.problem is not None:
            hint = hints.refine(got.problem, None, self.scheme, self.inputs)
            self.error(got.problem.message, path, hint, line)
        return IndicatorResult(path, weight, got.score, got.status, _with_record(steps, row), got.evidence, row.span, text=text)

    # -- items
    def _item(self, item: ir.Item, kind: str):
        got = tree.bonus_item(PY, item, self.record((item.name,)), kind)
        if got.problem is not None:
            self.error(got.problem.message, None, got.problem.hint)
        return got, ItemResult(item.name, item.points, got.awarded, got.evidence, got.status)

    def _veto(self, name: str):
        got = tree.veto_item(PY, name, self.record((name,)))
        if got.problem is not None:
            self.error(got.problem.message, None, got.problem.hint)
        return got, ItemResult(name, Fraction(0), got.awarded, got.evidence, got.status)


def _parent(path, weight, kids, origin) -> IndicatorResult:
    s = tree.parent(PY, [(k.score, k.status, k.excluded) for k in kids])
    return IndicatorResult(path, weight, s.score, s.status, (), None, origin, kids, s.excluded)


def _value_name(leaf: ir.Leaf) -> str | None:
    source = getattr(leaf.rule, "value", None)
    return source.name if isinstance(source, ir.OwnValue) else None


_INDEX: dict[str, tuple] = {}
_ROWS: dict[str, dict] = {}  # per rulebook: a row's texts → its score_row result
ROW_MEMO = 200_000  # entries kept per rulebook before starting over


def _score_row(scope, texts: RowTexts):
    """``score_row`` with the row's steps and explanation, once per distinct row (a row's score
    reads only its texts and the rulebook, and tables repeat rows: ``≥95%`` against ``96%`` in
    every project); the results are not mutated."""
    scheme = scope.scheme
    memo = _ROWS.setdefault(scheme.content_hash + "/".join(scheme.files), {})
    key = (texts.weight, texts.target, texts.actual, texts.tier, texts.score, texts.note, texts.method)
    got = memo.get(key)
    if got is None:
        if len(memo) >= ROW_MEMO:
            memo.clear()
        from jxdsl.explain import explanation

        result, weight = score_row(scope, texts)
        steps = _steps(result.steps)
        leaf = IndicatorResult((), weight, result.score, result.status, steps, result.evidence)
        got = memo[key] = (result, weight, steps, explanation(leaf, scheme.digits))
    return got


def _index(scheme: ir.Scheme):
    key = scheme.content_hash + "/".join(scheme.files)
    if key not in _INDEX:
        _INDEX[key] = record_index(scheme)
    return _INDEX[key]


