"""What one project supplies, in the one shape every engine reads.

A facts file (YAML/JSON), a facts table and a self-evaluation table all become ``ProjectInputs``:
facts as written (name → text), evaluator records with typed fields, target-table rows, and the
problems met while reading.  The interpreter evaluates these directly; the SQL engines read the
same content as relations (``tables.py``).  Structure is settled here (a record is a mapping, a
list is a list); meaning (is this a number, an item of the checklist?) is the kernel's.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

import attrs

from jxdsl.errors import FactError, Span, suggest
from jxdsl.facts import BUDGET_FACTS, BUDGET_ROW, DUPLICATE_BUDGET, Facts, TargetRow
from jxdsl.units import MAX_DIGITS

# evaluator record fields and whether they hold a list
SCALAR_FIELDS = ("档次", "得分", "说明", "次数", "不适用", "发生", "分值")
LIST_FIELDS = ("发现", "满足", "未满足", "问卷")
FIELDS = SCALAR_FIELDS + LIST_FIELDS
NOTE_FIELD = "备注"  # an evaluator's working note in a record or a table: read past, never printed
ALL = "全部"


@attrs.frozen
class Entry:
    """One element of a list field: a finding or item name, or one survey answer count.

    ``question`` numbers survey questions from 1 (0 for other lists); ``option`` is the survey
    option (None elsewhere, and for a survey question that is not a mapping, whose text is ``value``)."""

    question: int
    option: str | None
    value: str | None


@attrs.frozen
class Record:
    """An evaluator record: the key it was written under, and its fields.

    A scalar field holds its text; a list field holds its entries, or its text when it was
    written as a single value (``满足: 全部``, or a malformed ``发现: 3``)."""

    key: str
    fields: dict[str, Any] = attrs.field(factory=dict, hash=False)
    line: int | None = None
    ordinal: int = 0

    def text(self, name: str) -> str | None:
        v = self.fields.get(name)
        return v if isinstance(v, str) else None

    def entries(self, name: str) -> tuple[Entry, ...] | None:
        v = self.fields.get(name)
        return v if isinstance(v, tuple) else None

    def has(self, name: str) -> bool:
        return name in self.fields


@attrs.frozen
class Fact:
    """A fact as written; ``text`` is None when it was given but cannot be read (see the problems)."""

    text: str | None
    line: int | None = None


@attrs.frozen
class Problem:
    """Something wrong with the input itself, found while reading, at a line of the file."""

    message: str
    line: int | None = None
    hint: str | None = None


@attrs.frozen
class ProjectInputs:
    project: str
    source: str = ""
    year: int | None = None
    facts: dict[str, Fact] = attrs.field(factory=dict, hash=False)
    records: tuple[Record, ...] = ()
    targets: tuple[TargetRow, ...] = ()
    problems: tuple[Problem, ...] = ()
    facts_line: int | None = None  # where the facts begin (for errors about absent facts)
    kind: str = "facts"  # what it was read from: a facts file, a "self-eval" table or a "facts-table"

    def span(self, line: int | None) -> Span | None:
        return Span(self.source or "<事实>", line, 1) if line else None


def as_text(raw: Any) -> str:
    """A YAML/Excel cell as written: floats in positional notation (5e-05 → 0.00005); a number
    beyond units.MAX_DIGITS digits, infinity or NaN as Python writes it (1E+999999999, Infinity),
    for ``units.number_problem`` to refuse — never expanded to a billion digits."""
    if isinstance(raw, float):
        raw = Decimal(repr(raw))
    if isinstance(raw, int) and not isinstance(raw, bool) and raw.bit_length() > 1000:
        return format(Decimal(raw), "f")  # str() stops at 4300 digits; number_problem refuses it
    if isinstance(raw, Decimal):
        if not raw.is_finite() or raw.adjusted() >= MAX_DIGITS or raw.as_tuple().exponent < -MAX_DIGITS:
            return str(raw)
        return format(raw, "f")
    return str(raw)


# ---- from a parsed facts file -------------------------------------------------------------------
def from_facts(facts: Facts) -> ProjectInputs:
    """The canonical inputs of a ``Facts`` (a YAML/JSON file, or built in code)."""
    problems: list[Problem] = [Problem(p.message, p.span.line if p.span else None, p.hint) for p in facts.problems]
    values: dict[str, Fact] = {}
    for name, raw in facts.values.items():
        line = facts.lines.get(("事实", name)) or facts.lines.get(("事实",))
        text, problem = _fact_text(name, raw)
        if problem:
            problems.append(Problem(problem, line))
        if text is None and problem is None:
            continue
        values[name] = Fact(text, line)
    for name in facts.unusable:
        values[name] = Fact(None, facts.lines.get(("事实", name)))
    records = []
    for n, (key, raw) in enumerate(facts.evaluations.items()):
        line = facts.lines.get(("评价", key))
        rec, found = _record(key, raw, line, n, lambda field, key=key: facts.lines.get(("评价", key, field)))
        problems += found
        records.append(rec)
    targets, budget = _budget_rows(facts.targets, values, records, problems)
    return ProjectInputs(
        facts.project, facts.source, facts.year, values, tuple(records), with_parents(targets, problems), tuple(problems), facts.lines.get(("事实",))
    )


def _budget_rows(rows, values: dict, records: list, problems: list) -> tuple[list[TargetRow], list[TargetRow]]:
    """The 预算执行率 row of a 目标表, read as a self-evaluation table reads it (``tablesql``): its
    年度指标值 and 实际完成值 are the facts 全年预算数 and 全年执行数, its 档次, 评价得分 and 说明 the
    evaluator record of 预算执行率 with its 分值 (checked against the rulebook's weight); the same
    fact or record written twice is a problem."""
    budget = [r for r in rows if r.third == BUDGET_ROW]
    rest = [r for r in rows if r.third != BUDGET_ROW]
    line = lambda r: r.span.line if r.span else None  # noqa: E731
    if len(budget) > 1:
        for r in budget:
            problems.append(Problem(DUPLICATE_BUDGET.format(len(budget)), line(r), "每个项目只能有一行预算执行率：删去多余的行"))
        for name in BUDGET_FACTS:
            values.setdefault(name, Fact(None, line(budget[0])))
        return rest, budget
    for r in budget:
        for name, raw in zip(BUDGET_FACTS, (r.target, r.actual)):
            if raw is None:
                continue
            text = as_text(raw)
            if name in values and values[name].text != text:
                problems.append(Problem(f"数据“{name}”写了两个不同的值（“{values[name].text}”和预算执行率行的“{text}”），无法确定用哪一个",
                                        line(r), f"只写一处：事实下的“{name}”或预算执行率行"))
                values[name] = Fact(None, values[name].line)
            elif name not in values:
                values[name] = Fact(text, line(r))
        fields = {k: as_text(v) for k, v in (("档次", r.tier), ("得分", r.score), ("说明", r.note), ("分值", r.weight)) if v is not None}
        if fields:
            if any(rec.key == BUDGET_ROW for rec in records):
                problems.append(Problem(f"评价记录“{BUDGET_ROW}”写了两次（评价下和目标表的预算执行率行），只用评价下的", line(r), "只写一处"))
            else:
                records.append(Record(BUDGET_ROW, fields, line(r), len(records)))
    return rest, budget


DETAIL_ORPHAN = "明细行“{}”上面没有它所属的指标行（同一一级指标下的非明细行）"
DETAIL_ORPHAN_HINT = "把明细行放在它所属的行下面，或去掉“明细”"


def with_parents(rows, problems: list) -> tuple[TargetRow, ...]:
    """Each breakdown row (明细) with its parent, the nearest row above it of the same 一级指标
    that is not itself a breakdown (``tablesql`` says the same in SQL); one without is a problem."""
    out, last = [], {}
    for r in rows:
        line = r.span.line if r.span else None
        if not r.detail:
            last[r.first] = line
            out.append(r)
        elif r.first in last and last[r.first] is not None:
            out.append(attrs.evolve(r, parent=last[r.first]))
        else:
            problems.append(Problem(DETAIL_ORPHAN.format(r.third), line, DETAIL_ORPHAN_HINT))
    return tuple(out)


def _fact_text(name: str, raw: Any) -> tuple[str | None, str | None]:
    if isinstance(raw, bool) or raw is None:
        return None, f"数据“{name}”的值“{raw}”不是数值"
    if isinstance(raw, (int, float, Decimal, str)):
        return as_text(raw), None
    kind = "列表" if isinstance(raw, list) else "映射" if isinstance(raw, dict) else f" {type(raw).__name__}"
    return None, f"数据“{name}”应为数值或带单位的文字，实际是{kind}"


def _record(key: str, raw: Any, line: int | None, ordinal: int, field_line=lambda field: None) -> tuple[Record, list[Problem]]:
    """A record's fields; an unknown field is a problem at its own line (a misspelt 得分 would
    otherwise leave the record without its score)."""
    where = f"评价记录“{key}”"
    if not isinstance(raw, dict):
        return Record(key, {}, line, ordinal), [Problem(f"{where}应是映射（如 {{档次: 有效, 说明: …}}），实际是“{raw}”", line)]
    fields: dict[str, Any] = {}
    problems = []
    for field, value in raw.items():
        field = str(field)
        if field == NOTE_FIELD:
            continue  # working notes: never scored, explained or reported
        if field not in FIELDS:
            close = suggest(field, FIELDS)
            hint = f"是否应为“{close}”？" if close else f"可用：{'、'.join(FIELDS)}"
            problems.append(Problem(f"{where}中有未知的项“{field}”", field_line(field) or line, hint))
            continue
        if value is None:
            continue
        fields[field] = _field(field, value)
    return Record(key, fields, line, ordinal), problems


def _field(field: str, value: Any):
    if field in SCALAR_FIELDS:
        return as_text(value) if not isinstance(value, (list, dict)) else str(value)
    if field == "问卷":
        groups = value if isinstance(value, list) else [value]
        out = []
        for q, g in enumerate(groups, 1):
            if not isinstance(g, dict):
                out.append(Entry(q, None, str(g)))
                continue
            out += [Entry(q, str(k), _count_text(v)) for k, v in g.items()]
        return tuple(out)
    if isinstance(value, list):
        return tuple(Entry(0, None, str(x)) for x in value)
    return as_text(value)


def _count_text(v: Any) -> str:
    """A survey count as written; anything but a whole number stays recognisably not one."""
    if isinstance(v, bool):
        return str(v)
    return as_text(v)


def read_error(inputs: ProjectInputs, problem: Problem) -> FactError:
    return FactError(f"项目“{inputs.project}”：{problem.message}", inputs.span(problem.line) or Span(inputs.source or "<事实>", 1, 1), problem.hint)
