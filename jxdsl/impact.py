"""What a rulebook change does to a table of projects, before it is adopted.

Both rulebooks score the same table with the batch engine (``batch.open_run``); the two runs'
Results are read side by side, a project at a time, and only what the report shows is kept: the
projects whose total or grade changes (with the leaf indicators that moved most), the projects that
cannot be scored under one rulebook or both, the grade transition matrix, and each side's grade
counts and score statistics.  Nothing is recomputed: totals, grades and indicator scores are the
Results' (already rounded as each rulebook says); only the mean is derived, exactly, and rounded
where it is shown.  The JSON shape (``to_json``) is documented in docs/impact.md.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from fractions import Fraction
from pathlib import Path

import attrs

from jxdsl import diff as diff_mod
from jxdsl.evaluate import Result
from jxdsl.explain import number
from jxdsl.link import Rulebook
from jxdsl.units import plain

FAILED = "无法计分"  # the matrix's row and column for a project without a total
UNGRADED = "未评定"  # a total without a grade
MOVES = 3  # indicators shown per changed project


@attrs.frozen
class Side:
    """One project under one rulebook: its total and grade, or why it has none."""

    total: Fraction | None
    grade: str | None
    error: str | None = None  # the first data problem, when there is no total

    @property
    def label(self) -> str:
        """The matrix category: the grade, 未评定, or 无法计分.

        >>> Side(Fraction(95), "优").label, Side(Fraction(95), None).label, Side(None, None, "缺少数据").label
        ('优', '未评定', '无法计分')
        """
        if self.total is None:
            return FAILED
        return self.grade or UNGRADED


@attrs.frozen
class Move:
    """A leaf indicator's score under each rulebook (None: absent from that tree, or no score)."""

    path: tuple[str, ...]
    old: Fraction | None
    new: Fraction | None

    @property
    def delta(self) -> Fraction | None:
        """None when one side has no score (the indicator is new, removed, or could not be scored)."""
        if self.old is None or self.new is None:
            return None
        return self.new - self.old


@attrs.frozen
class ProjectImpact:
    """A project whose total or grade changes, or that fails under one rulebook or both."""

    project: str
    old: Side
    new: Side
    moves: tuple[Move, ...] = ()  # the leaves that moved most, largest |Δ| first

    @property
    def delta(self) -> Fraction | None:
        if self.old.total is None or self.new.total is None:
            return None
        return self.new.total - self.old.total


@attrs.frozen
class Stats:
    """One rulebook's results over the table: counts per matrix category and score statistics."""

    count: int  # projects with a total
    mean: Fraction | None
    low: Fraction | None
    high: Fraction | None
    grades: tuple[tuple[str, int], ...]  # every category of the matrix, in its order


@attrs.frozen
class Impact:
    """The rule differences and their effect on every project of the table."""

    old: Rulebook
    new: Rulebook
    changes: tuple[diff_mod.Change, ...]
    table: str
    engine: str
    projects: int
    changed: tuple[ProjectImpact, ...]  # scored under both, total or grade changed; largest |Δ total| first
    failed: tuple[ProjectImpact, ...]  # no total under at least one rulebook, in table order
    categories: tuple[str, ...]  # the grades of both rulebooks (best first), then 未评定 and 无法计分 when they occur
    matrix: tuple[tuple[int, ...], ...]  # [old category][new category] → projects
    before: Stats
    after: Stats
    stray_rows: int = 0  # rows of the table that belong to no project (no name): scored by neither

    @property
    def unchanged(self) -> int:
        """Scored under both rulebooks with the same total and grade."""
        return self.projects - len(self.changed) - len(self.failed)

    @property
    def grade_changed(self) -> int:
        return sum(1 for p in self.changed if p.old.label != p.new.label)

    @property
    def digits(self) -> int:
        """Decimals for a difference of totals: the finer of the two rulebooks."""
        return max(self.old.digits, self.new.digits)


def impact(old_book: Rulebook, new_book: Rulebook, table_path: str | Path, engine: str = "duckdb", sheet: str | None = None) -> Impact:
    """Score the table with both rulebooks (in memory or from files) and compare them project by project."""
    from jxdsl.batch import memory_guard, open_run

    with memory_guard(str(table_path)):
        runs = [open_run(book, table_path, engine, sheet=sheet) for book in (old_book, new_book)]
        pairs = _sql_pairs(*runs) if engine == "duckdb" else zip(runs[0].results(), runs[1].results(), strict=True)
        im = compare(old_book, new_book, pairs, str(table_path), engine)
        return attrs.evolve(im, stray_rows=len(runs[0].table_problems()))


@attrs.frozen
class _Head:
    """A project's total and grade read from the SQL relations: all ``compare`` needs of a project
    whose total and grade are the same under both rulebooks."""

    total: Fraction | None
    grade: str | None
    errors: tuple = ()


def _sql_pairs(a, b) -> Iterator[tuple[Result | _Head, Result | _Head]]:
    """Both runs' projects in order: Results where the total or grade differs or is missing (or the
    interpreter scored the project), the SQL's total and grade elsewhere.  Assembling a Result costs
    far more than scoring it, and a small change leaves most projects as they were."""
    from jxdsl.assemble import totals
    from jxdsl.batch import CHUNK

    heads = [totals(run.con, run.compiled) for run in (a, b)]
    exact = a.exact | b.exact
    for i in range(0, len(a.pids), CHUNK):
        chunk = a.pids[i : i + CHUNK]
        whole = [p for p in chunk if heads[0][p] != heads[1][p] or heads[0][p][0] is None or p in exact]
        got = dict(zip(whole, zip(a.results(whole), b.results(whole), strict=True)))
        for p in chunk:
            yield got[p] if p in got else (_Head(*heads[0][p]), _Head(*heads[1][p]))


def compare(old_book: Rulebook, new_book: Rulebook, pairs: Iterable[tuple[Result, Result]], table: str, engine: str) -> Impact:
    """The impact from each project's Results under the old and the new rulebook, in table order."""
    categories = [g for book in (old_book, new_book) for g in (*(name for name, _, _ in book.grades), book.lowest_grade)]
    categories = list(dict.fromkeys(categories))
    cells: dict[tuple[str, str], int] = {}
    counts: tuple[dict[str, int], dict[str, int]] = ({}, {})  # counted apart from the matrix, which must agree with them
    scores = (_Scores(), _Scores())  # running, so that a large table's totals are not all held
    changed, failed = [], []
    n = 0
    for a, b in pairs:
        n += 1
        old, new = _side(a), _side(b)
        cells[old.label, new.label] = cells.get((old.label, new.label), 0) + 1
        for side, got, tally in zip((old, new), scores, counts):
            tally[side.label] = tally.get(side.label, 0) + 1
            got.add(side.total)
        if old.total is None or new.total is None:
            failed.append(ProjectImpact(b.project, old, new, _moves(a, b) if old.total is not None or new.total is not None else ()))
        elif old.total != new.total or old.label != new.label:
            changed.append(ProjectImpact(b.project, old, new, _moves(a, b)))
    for extra in (UNGRADED, FAILED):  # shown only when some project lands there
        if any(extra in pair for pair in cells):
            categories.append(extra)
    for pair in cells:
        for label in pair:
            if label not in categories:  # a grade no rulebook names (never expected; kept, not lost)
                categories.append(label)
    changed.sort(key=lambda p: (-abs(p.delta), p.old.label == p.new.label))  # stable: table order within ties
    matrix = tuple(tuple(cells.get((r, c), 0) for c in categories) for r in categories)
    before, after = (got.stats(tally, categories) for got, tally in zip(scores, counts))
    return Impact(old_book, new_book, tuple(diff_mod.diff(old_book, new_book)), table, engine, n, tuple(changed), tuple(failed),
                  tuple(categories), matrix, before, after)


def _side(r: Result | _Head) -> Side:
    if r.total is None:
        return Side(None, None, r.errors[0].message if r.errors else "总分无法计算")
    return Side(r.total, r.grade)


def _moves(a: Result, b: Result) -> tuple[Move, ...]:
    """The leaf indicators whose score differs, largest change first (at most ``MOVES``)."""
    old = {i.path: i.score for i in a.walk() if not i.children}
    new = {i.path: i.score for i in b.walk() if not i.children}
    moves = [Move(p, old.get(p), new.get(p)) for p in dict.fromkeys([*new, *old]) if old.get(p) != new.get(p)]
    moves.sort(key=lambda m: (m.delta is not None, -abs(m.delta or 0)))  # a score gained or lost first
    return tuple(moves[:MOVES])


@attrs.define
class _Scores:
    """Count, exact sum, lowest and highest of the totals seen."""

    count: int = 0
    sum: Fraction = Fraction(0)
    low: Fraction | None = None
    high: Fraction | None = None

    def add(self, total: Fraction | None) -> None:
        if total is None:
            return
        self.count += 1
        self.sum += total
        self.low = total if self.low is None else min(self.low, total)
        self.high = total if self.high is None else max(self.high, total)

    def stats(self, counts: dict[str, int], categories: list[str]) -> Stats:
        mean = self.sum / self.count if self.count else None
        return Stats(self.count, mean, self.low, self.high, tuple((c, counts.get(c, 0)) for c in categories))


# ---- text ---------------------------------------------------------------------------------
def _width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def _pad(text: str, width: int, right: bool = False) -> str:
    space = " " * max(0, width - _width(text))
    return space + text if right else text + space


def _signed(value: Fraction, digits: int) -> str:
    text = plain(value, digits)
    return text if text.startswith("-") or text == "0" else "+" + text


def _total(side: Side, digits: int) -> str:
    if side.total is None:
        return FAILED
    return f"{plain(side.total, digits)}（{side.grade or UNGRADED}）"


def _table(rows: list[list[str]]) -> list[str]:
    """Rows of cells aligned in columns (CJK counts double); the first column left, the rest right."""
    widths = [max(_width(r[c]) for r in rows) for c in range(len(rows[0]))]
    return ["  " + "  ".join(_pad(cell, widths[c], right=c > 0) for c, cell in enumerate(r)) for r in rows]


def render(im: Impact) -> str:
    """The rule differences, then what they do to the table, in Chinese."""
    lines = [diff_mod.render(im.old, im.new, list(im.changes)), ""]
    lines.append(f"对表格“{im.table}”中 {im.projects} 个项目的影响（计分引擎 {im.engine}）：")
    one_side = sum(1 for p in im.failed if (p.old.total is None) != (p.new.total is None))
    counts = [f"总分或等级变化 {len(im.changed)} 个（其中等级变化 {im.grade_changed} 个）", f"不变 {im.unchanged} 个"]
    counts += [f"{what} {n} 个" for what, n in (("只在一个规则集下无法计分", one_side), ("两个规则集下都无法计分", len(im.failed) - one_side)) if n]
    lines.append("  " + "，".join(counts))
    if im.stray_rows:
        lines.append(f"  表中另有 {im.stray_rows} 行没有项目名称，不属于任何项目，两个规则集都没有计分（jxdsl score 列出这些行）")
    lines += ["", "等级变化（行：原规则集，列：新规则集；项目数）"]
    head = ["原＼新", *im.categories, "合计"]
    rows = [head] + [[cat, *(str(x) for x in row), str(sum(row))] for cat, row in zip(im.categories, im.matrix)]
    rows.append(["合计", *(str(sum(col)) for col in zip(*im.matrix)), str(im.projects)])
    lines += _table(rows)
    lines += ["", "等级分布与得分"]
    d_old, d_new = im.old.digits, im.new.digits
    rows = [["", "原规则集", "新规则集", "变化"]]
    for (cat, a), (_, b) in zip(im.before.grades, im.after.grades):
        rows.append([cat, str(a), str(b), _signed(Fraction(b - a), 0)])
    for label, key in (("平均分", "mean"), ("最低分", "low"), ("最高分", "high")):
        a, b = getattr(im.before, key), getattr(im.after, key)
        change = _signed(b - a, im.digits) if a is not None and b is not None else "—"
        rows.append([label, "—" if a is None else plain(a, d_old), "—" if b is None else plain(b, d_new), change])
    rows.append(["有总分的项目", str(im.before.count), str(im.after.count), _signed(Fraction(im.after.count - im.before.count), 0)])
    lines += _table(rows)
    if im.changed:
        lines += ["", "总分或等级变化的项目（按总分变化的大小排列）："]
        for k, p in enumerate(im.changed, start=1):
            lines.append(f"  {k}. {p.project}：{_total(p.old, d_old)} → {_total(p.new, d_new)}，{_signed(p.delta, im.digits)} 分"
                         + _moves_text(p.moves, im.digits))
    if im.failed:
        lines += ["", "无法计分的项目："]
        for p in im.failed:
            lines.append(f"  {p.project}：原规则集 {_total(p.old, d_old)}，新规则集 {_total(p.new, d_new)}")
            for name, side in (("原规则集", p.old), ("新规则集", p.new)):
                if side.error is not None:
                    lines.append(f"    {name}：{side.error}")
    return "\n".join(lines)


def _score(value: Fraction | None, digits: int) -> str:
    return "—" if value is None else plain(value, digits)


def _moves_text(moves: tuple[Move, ...], digits: int) -> str:
    if not moves:
        return ""
    return "；变化最大的指标：" + "、".join(
        f"{'/'.join(m.path)} {_score(m.old, digits)} → {_score(m.new, digits)}" + (f"（{_signed(m.delta, digits)}）" if m.delta is not None else "")
        for m in moves)


# ---- JSON ---------------------------------------------------------------------------------
def to_json(im: Impact) -> dict:
    """The impact as the JSON object docs/impact.md describes (numbers rounded as shown)."""
    d = im.digits

    def side(s: Side, digits: int) -> dict:
        return {"total": number(s.total, digits), "grade": s.grade, "category": s.label, "error": s.error}

    def project(p: ProjectImpact) -> dict:
        return {
            "project": p.project,
            "old": side(p.old, im.old.digits),
            "new": side(p.new, im.new.digits),
            "delta": number(p.delta, d),
            "indicators": [{"path": list(m.path), "old": number(m.old, d), "new": number(m.new, d), "delta": number(m.delta, d)} for m in p.moves],
        }

    def stats(s: Stats, digits: int) -> dict:
        return {"count": s.count, "mean": number(s.mean, digits), "min": number(s.low, digits), "max": number(s.high, digits), "grades": dict(s.grades)}

    return {
        **diff_mod.to_json(im.old, im.new, list(im.changes)),
        "table": im.table,
        "engine": im.engine,
        "projects": im.projects,
        "changed": len(im.changed),
        "grade_changed": im.grade_changed,
        "unchanged": im.unchanged,
        "failed": len(im.failed),
        "stray_rows": im.stray_rows,
        "categories": list(im.categories),
        "matrix": {r: dict(zip(im.categories, row)) for r, row in zip(im.categories, im.matrix)},
        "before": stats(im.before, im.old.digits),
        "after": stats(im.after, im.new.digits),
        "changed_projects": [project(p) for p in im.changed],
        "failed_projects": [project(p) for p in im.failed],
    }


# ---- xlsx ---------------------------------------------------------------------------------
OVERVIEW, CHANGED, RULES = "概况", "变化的项目", "规则差异"
CHANGED_COLUMNS = ("项目", "原总分", "原等级", "新总分", "新等级", "总分变化", "变化最大的指标", "无法计分的原因")
RULES_COLUMNS = ("位置", "类别", "原规则集", "新规则集", "说明")
KINDS = {**diff_mod.KIND_WORDS, "added": "新增指标", "removed": "删除指标", "text": "文字", "setting": "设置", "derived": "派生值", "fact": "数据", "item": "加分扣分项"}


def write_xlsx(im: Impact, path: str | Path, inputs: Iterable = ()) -> None:
    """The impact as a workbook in the house style of report_book: 概况 (counts, the transition
    matrix, the distribution), 变化的项目 (changed, then unscorable projects; filterable), 规则差异.
    Written beside ``path`` and renamed over it (``outfile.staged``), never onto one of ``inputs``."""
    import xlsxwriter

    from jxdsl.report_book import _Formats, _num, _text, _Widths, _write_binary

    def save(tmp: str) -> None:
        wb = xlsxwriter.Workbook(tmp, {"strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False})
        fm = _Formats(wb)
        _overview(wb, wb.add_worksheet(OVERVIEW), fm, im)
        ws = wb.add_worksheet(CHANGED)
        widths = _Widths(list(CHANGED_COLUMNS))
        for c, h in enumerate(CHANGED_COLUMNS):
            ws.write_string(0, c, h, fm.head)
        for row, p in enumerate([*im.changed, *im.failed], start=1):
            _text(ws, row, 0, p.project, fm.text, widths)
            for c, (s, digits) in ((1, (p.old, im.old.digits)), (3, (p.new, im.new.digits))):
                _num(ws, row, c, s.total, digits, fm.num(digits), widths)
                _text(ws, row, c + 1, s.label, fm.center, widths)
            _num(ws, row, 5, p.delta, im.digits, fm.num(im.digits), widths)
            _text(ws, row, 6, _moves_text(p.moves, im.digits).removeprefix("；变化最大的指标："), fm.wrap, widths)
            errors = [f"{name}：{s.error}" for name, s in (("原规则集", p.old), ("新规则集", p.new)) if s.error is not None]
            _text(ws, row, 7, "\n".join(errors), fm.wrap, widths)
        ws.autofilter(0, 0, max(len(im.changed) + len(im.failed), 1), len(CHANGED_COLUMNS) - 1)
        ws.freeze_panes(1, 1)
        widths.apply(ws)
        ws = wb.add_worksheet(RULES)
        widths = _Widths(list(RULES_COLUMNS))
        for c, h in enumerate(RULES_COLUMNS):
            ws.write_string(0, c, h, fm.head)
        for row, ch in enumerate(im.changes, start=1):
            where = "/".join(ch.path) or ch.field or ""
            cells = (where, KINDS.get(ch.kind, ch.kind), diff_mod._v(ch.old), diff_mod._v(ch.new), diff_mod.sentence(ch))
            for c, value in enumerate(cells):
                _text(ws, row, c, value, fm.wrap, widths)
        ws.autofilter(0, 0, max(len(im.changes), 1), len(RULES_COLUMNS) - 1)
        ws.freeze_panes(1, 1)
        widths.apply(ws)
        wb.close()

    _write_binary(path, save, inputs)


def _overview(wb, ws, fm, im: Impact) -> None:
    """Counts, then the matrix, then the distribution and statistics, one block under another; a
    chart of the grade counts before and after beside them."""
    from jxdsl.report_book import _num, _text

    ws.write_string(0, 0, f"规则集对比：{im.old.name} → {im.new.name}", fm.get(bold=True, font_size=14, border=0))
    ws.write_string(1, 0, f"表格“{im.table}”，{im.projects} 个项目，计分引擎 {im.engine}", fm.get(border=0))
    counts = (("总分或等级变化", len(im.changed)), ("其中等级变化", im.grade_changed), ("不变", im.unchanged), ("无法计分（至少一个规则集下）", len(im.failed)))
    counts += (("没有项目名称、未计分的行", im.stray_rows),) if im.stray_rows else ()
    for c, h in enumerate(("项目", "项目数")):
        ws.write_string(3, c, h, fm.head)
    for k, (label, n) in enumerate(counts, start=4):
        _text(ws, k, 0, label, fm.text)
        ws.write_number(k, 1, n, fm.center)
    top = 4 + len(counts) + 1
    ws.write_string(top, 0, "等级变化（行：原规则集，列：新规则集）", fm.get(bold=True, border=0))
    heads = ["原＼新", *im.categories, "合计"]
    for c, h in enumerate(heads):
        ws.write_string(top + 1, c, h, fm.head)
    for k, (cat, row) in enumerate(zip(im.categories, im.matrix), start=top + 2):
        _text(ws, k, 0, cat, fm.head)
        for c, n in enumerate([*row, sum(row)], start=1):
            ws.write_number(k, c, n, fm.center)
    last = top + 2 + len(im.categories)
    _text(ws, last, 0, "合计", fm.head)
    for c, n in enumerate([*(sum(col) for col in zip(*im.matrix)), im.projects], start=1):
        ws.write_number(last, c, n, fm.center)
    top = last + 2
    ws.write_string(top, 0, "等级分布与得分", fm.get(bold=True, border=0))
    for c, h in enumerate(("", "原规则集", "新规则集")):
        ws.write_string(top + 1, c, h, fm.head)
    k = top + 2
    for (cat, a), (_, b) in zip(im.before.grades, im.after.grades):
        _text(ws, k, 0, cat, fm.text)
        ws.write_number(k, 1, a, fm.center)
        ws.write_number(k, 2, b, fm.center)
        k += 1
    for label, key in (("平均分", "mean"), ("最低分", "low"), ("最高分", "high")):
        _text(ws, k, 0, label, fm.text)
        _num(ws, k, 1, getattr(im.before, key), im.old.digits, fm.num(im.old.digits))
        _num(ws, k, 2, getattr(im.after, key), im.new.digits, fm.num(im.new.digits))
        k += 1
    _text(ws, k, 0, "有总分的项目", fm.text)
    ws.write_number(k, 1, im.before.count, fm.center)
    ws.write_number(k, 2, im.after.count, fm.center)
    chart = wb.add_chart({"type": "column"})  # the grade counts before and after, side by side
    first, last = top + 2, top + 1 + len(im.categories)
    for col, color in ((1, "#A6A6A6"), (2, "#3B6EA5")):
        chart.add_series({"name": [OVERVIEW, top + 1, col], "categories": [OVERVIEW, first, 0, last, 0], "values": [OVERVIEW, first, col, last, col],
                          "data_labels": {"value": True}, "fill": {"color": color}})
    chart.set_title({"name": "等级分布：原规则集与新规则集"})
    ws.insert_chart(3, len(heads) + 1, chart, {"x_scale": 1.1, "y_scale": 1.0})
    ws.set_column(0, 0, 30)
    ws.set_column(1, len(heads), 10)
