"""The summary workbook of many projects, written with XlsxWriter: 汇总 (one row per project,
filterable), 等级分布 (COUNTIF formulas with cached values, a native chart, the histogram of totals),
一级指标得分率, and the detail — one sheet per project for a small batch, else one long 明细 sheet.

Thousands of projects are streamed: each Result is written as it comes (``constant_memory``: a row
at a time per sheet) and only what the aggregate sheets need is kept (``Tally``).  Nothing is
recomputed: the numbers are the Results', rounded only where shown.
"""
from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterable, Iterator
from fractions import Fraction
from pathlib import Path

import attrs

from jxdsl.errors import UsageError
from jxdsl.evaluate import IndicatorResult, Result
from jxdsl.explain import STATUS_WORDS, explanation, number
from jxdsl.link import Rulebook
from jxdsl.render import safe_cell
from jxdsl.report import (
    BUDGET,
    Styles,
    _book,
    _clean,
    _display_width,
    _grade_order,
    _number_format,
    _write_binary,
    execution_rate,
    first_levels,
    histogram,
    level_names,
    project_sheet,
    sheet_name,
)
from jxdsl.units import plain, to_decimal

PER_PROJECT_SHEETS = 20  # up to this many projects: a sheet (and an HTML section) per project; above it 明细
PROGRESS_FROM = 200  # projects from which report writing shows a progress bar (on a terminal)
LOW_RATE = Fraction(6, 10)  # 得分率 below 60%: counted on the 一级指标得分率 sheet
UNGRADED = "未评定"
SUMMARY, GRADES, LEVELS, DETAIL = "汇总", "等级分布", "一级指标得分率", "明细"


def split_batch(results) -> tuple[list[Result], Iterator[Result]]:
    """The first ``PER_PROJECT_SHEETS + 1`` results and the rest, unread: whether a batch is small is
    known without holding thousands of Results."""
    it = iter([results] if isinstance(results, Result) else results)
    head = list(itertools.islice(it, PER_PROJECT_SHEETS + 1))
    if not head:
        raise ValueError("没有可输出的项目")
    return head, it


def rate_levels(book: Rulebook | None) -> set[str]:
    """一级 leaves whose rate gets a column beside their score: 预算执行率, as the 自评表's funds block
    prints it (``report.execution_rate``: 全年执行数 ÷ 全年预算数, the same from every engine)."""
    if book is None:  # several rulebooks: their 一级 indicators need not mean the same
        return set()
    return {BUDGET} & {i.name for i in book.indicators if not i.children}


# ---- what the aggregate sheets and the HTML digest need ----------------------------------------
@attrs.define
class LevelStats:
    """One 一级指标 over all projects, exact."""

    name: str
    weights: set = attrs.field(factory=set)
    scored: int = 0
    score_sum: Fraction = Fraction(0)
    rate_sum: Fraction = Fraction(0)
    rated: int = 0
    low: Fraction | None = None
    high: Fraction | None = None
    below: int = 0

    def add(self, r: IndicatorResult) -> None:
        self.weights.add(r.weight)
        if r.score is None:
            return
        self.scored += 1
        self.score_sum += r.score
        self.low = r.score if self.low is None else min(self.low, r.score)
        self.high = r.score if self.high is None else max(self.high, r.score)
        applicable = r.weight - r.excluded
        if applicable > 0:
            rate = r.score / applicable
            self.rated += 1
            self.rate_sum += rate
            self.below += rate < LOW_RATE

    @property
    def weight(self) -> Fraction | str | None:
        """The common 分值, or its range where projects differ (满意度 并入 产出)."""
        if len(self.weights) == 1:
            return next(iter(self.weights))
        return f"{plain(min(self.weights), 4)}–{plain(max(self.weights), 4)}" if self.weights else None

    @property
    def mean(self) -> Fraction | None:
        return self.score_sum / self.scored if self.scored else None

    @property
    def mean_rate(self) -> Fraction | None:
        return self.rate_sum / self.rated if self.rated else None


@attrs.define
class Tally:
    """Per project only (name, total, grade, digits); per 一级指标 running sums."""

    books: object
    projects: list[tuple[str, Fraction | None, str, int]] = attrs.field(factory=list)
    levels: dict[str, LevelStats] = attrs.field(factory=dict)
    grades_seen: list[str] = attrs.field(factory=list)
    failed: int = 0  # projects with data problems

    def add(self, r: Result) -> None:
        grade = r.grade or UNGRADED
        self.failed += bool(r.errors)
        self.projects.append((r.project, r.total, grade, r.digits))
        if r.grade and r.grade not in self.grades_seen:
            self.grades_seen.append(r.grade)
        for i in r.indicators:
            self.levels.setdefault(i.name, LevelStats(i.name)).add(i)

    def grade_counts(self, first: list[Result]) -> list[tuple[str, int]]:
        """Like ``report.grade_counts``: the rulebook's grades best first (with zeros), then 未评定."""
        order = _grade_order(first, self.books)
        order += [g for g in self.grades_seen if g not in order]
        counts = {g: 0 for g in order}
        missing = 0
        for _, _, grade, _ in self.projects:
            if grade == UNGRADED:
                missing += 1
            else:
                counts[grade] += 1
        return list(counts.items()) + ([(UNGRADED, missing)] if missing else [])

    def ranked(self, n: int = 10) -> tuple[list, list]:
        """The ``n`` best and ``n`` worst totals (input order among equals)."""
        scored = [p for p in self.projects if p[1] is not None]
        best = sorted(scored, key=lambda p: -p[1])[:n]
        worst = sorted(scored, key=lambda p: p[1])[:n]
        return best, worst

    @property
    def totals(self) -> list[Fraction]:
        return [p[1] for p in self.projects if p[1] is not None]


def progress(enabled: bool, total: int | None):
    """The rich bar of ``batch`` (on stderr), labelled for report writing."""
    from jxdsl.batch import _Progress

    return _Progress(enabled, total, "写出报告")


# ---- the workbook ----------------------------------------------------------------------------
class _Formats:
    """XlsxWriter formats, made once per workbook (each add_format is a new style record)."""

    def __init__(self, wb):
        base = {"font_name": "宋体", "font_size": 10, "valign": "vcenter", "border": 1, "border_color": "#808080"}
        self.wb, self.base, self._made = wb, base, {}
        self.head = self.get(bold=True, bg_color="#D9E1F2", align="center", text_wrap=True)
        self.text = self.get()
        self.center = self.get(align="center")
        self.wrap = self.get(text_wrap=True)
        self.pct = self.get(num_format="0.00%")
        self.link = self.get(font_color="#1F4E79", underline=1)
        self.title = self.wb.add_format({"font_name": "宋体", "font_size": 14, "bold": True, "align": "center", "valign": "vcenter"})

    def get(self, **extra):
        key = tuple(sorted(extra.items()))
        if key not in self._made:
            self._made[key] = self.wb.add_format({**self.base, **extra})
        return self._made[key]

    def num(self, digits: int):
        return self.get(num_format=_number_format(digits))


class _Widths:
    """Column widths fitted to what was written (CJK counts double), capped."""

    def __init__(self, heads: list[str], cap: int = 60):
        self.cap = cap
        self.w = [_display_width(h) + 2 for h in heads]

    def see(self, col: int, text: str) -> None:
        if col < len(self.w):
            self.w[col] = min(self.cap, max(self.w[col], _display_width(text) + 2))

    def apply(self, ws) -> None:
        for c, w in enumerate(self.w):
            ws.set_column(c, c, max(w, 8))


def _text(ws, row: int, col: int, value, fmt, widths: _Widths | None = None) -> None:
    text = safe_cell(_clean(value))
    ws.write_string(row, col, text, fmt)
    if widths is not None:
        widths.see(col, text)


def _num(ws, row: int, col: int, value: Fraction | None, digits: int, fmt, widths: _Widths | None = None) -> None:
    if value is None:
        ws.write_blank(row, col, None, fmt)
        return
    shown = number(value, digits)
    ws.write_number(row, col, shown, fmt)
    if widths is not None:
        widths.see(col, str(shown))


def _quoted(sheet: str) -> str:
    return "'" + sheet.replace("'", "''") + "'"


def write_book(results: Iterable[Result], books, path: str | Path, inputs: Iterable = (), show_progress: bool = False, total: int | None = None) -> None:
    """The summary workbook of several projects (see the module docstring)."""
    import xlsxwriter

    head, rest = split_batch(results)
    small = len(head) <= PER_PROJECT_SHEETS
    if isinstance(books, Rulebook):
        levels, book = [i.name for i in books.indicators], books
        extra = [n for n, on in (("加分", bool(books.bonus)), ("扣分", bool(books.penalty))) if on]
    else:  # several rulebooks: their 一级 names as the results show them
        head, rest = head + list(rest), iter(())
        levels, book = first_levels(head), None
        extra = [n for n, on in (("加分", any(r.bonus_items for r in head)), ("扣分", any(r.penalty_items for r in head))) if on]
    if total is not None and total >= EXCEL_ROWS:
        raise UsageError(f"xlsx 工作表最多 {EXCEL_ROWS - 1:,} 行，汇总表容不下 {total:,} 个项目", None, "改用 --format csv、jsonl 或 parquet，或分批计分")
    rated = rate_levels(book)
    columns = ["项目", "总分", "等级"]
    for n in levels:
        columns += [f"{n}得分", n] if n in rated else [n]
    columns += [*extra, "问题数", "问题"]

    def save(tmp: str) -> None:
        wb = xlsxwriter.Workbook(tmp, {"constant_memory": not small, "strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False})
        try:
            fill(wb)
        except BaseException:
            with contextlib.suppress(Exception):  # closes the row files of constant_memory; the staged file is discarded
                wb.close()
            raise
        wb.close()

    def fill(wb) -> None:
        fm = _Formats(wb)
        styles = Styles(wb)
        summary = wb.add_worksheet(SUMMARY)
        grades_ws = wb.add_worksheet(GRADES)
        levels_ws = wb.add_worksheet(LEVELS)
        used = {n.lower() for n in (SUMMARY, GRADES, LEVELS, DETAIL)}
        widths = _Widths(columns)
        for c, h in enumerate(columns):
            summary.write_string(0, c, h, fm.head)
        tally = Tally(books)
        # 明细's level columns: the rulebook's depth, at least 三级 (target-table rows add 二级 and 三级 below 一级)
        paths = (i.path for i in book.walk()) if book is not None else (i.path for r in head for i in r.walk())
        depth = max([3, *(len(p) for p in paths)])
        detail_writer = None if small else _Detail(wb, fm, depth)
        bar = progress(show_progress, total)
        try:
            for row, r in enumerate(itertools.chain(head, rest), start=1):
                if row == EXCEL_ROWS:
                    raise UsageError(f"xlsx 工作表最多 {EXCEL_ROWS - 1:,} 行，汇总表容不下这么多项目", None, "改用 --format csv、jsonl 或 parquet，或分批计分")
                link = None
                if small:
                    name = sheet_name(r.project, used)
                    project_sheet(wb.add_worksheet(name), styles, r, _book(r, books))
                    link = f"internal:{_quoted(name)}!A1"
                _summary_row(summary, fm, widths, row, r, levels, rated, extra, link)
                if detail_writer is not None:
                    detail_writer.add(r)
                tally.add(r)
                bar.advance()
        finally:
            bar.close()
        n = len(tally.projects)
        summary.autofilter(0, 0, n, len(columns) - 1)
        summary.freeze_panes(1, 1)
        widths.apply(summary)
        _grade_sheet(wb, grades_ws, fm, tally.grade_counts(head), n, columns.index("等级"), tally.totals)
        _level_sheet(levels_ws, fm, [tally.levels[x] for x in levels if x in tally.levels], max((p[3] for p in tally.projects), default=2))
        if detail_writer is not None:
            detail_writer.close()

    _write_binary(path, save, inputs)


def _summary_row(ws, fm: _Formats, widths: _Widths, row: int, r: Result, levels: list[str], rated: set[str], extra: list[str], link: str | None) -> None:
    d = r.digits
    num = fm.num(d)
    if link is not None:
        ws.write_url(row, 0, link, fm.link, safe_cell(_clean(r.project)), "打开该项目的得分表")
        widths.see(0, r.project)
    else:
        _text(ws, row, 0, r.project, fm.text, widths)
    _num(ws, row, 1, r.total, d, num, widths)
    _text(ws, row, 2, r.grade or UNGRADED, fm.center, widths)
    by_name = {i.name: i for i in r.indicators}
    c = 3
    for name in levels:
        i = by_name.get(name)
        _num(ws, row, c, i.score if i is not None else None, d, num, widths)
        c += 1
        if name in rated:
            rate = execution_rate(r) if i is not None else None
            if rate is None:
                ws.write_blank(row, c, None, fm.pct)
            else:
                ws.write_number(row, c, float(to_decimal(rate, 6)), fm.pct)
            c += 1
    for name in extra:
        _num(ws, row, c, r.bonus if name == "加分" else -r.penalty, d, num, widths)
        c += 1
    ws.write_number(row, c, len(r.errors), fm.center)
    _text(ws, row, c + 1, r.errors[0].message if r.errors else "", fm.text, widths)


def _grade_sheet(wb, ws, fm: _Formats, counts: list[tuple[str, int]], n: int, grade_col: int, totals: list[Fraction]) -> None:
    """Grades counted by COUNTIF over 汇总 (cached values: the file reads right before Excel
    recalculates), 占比, a column chart; then the histogram of totals and its chart."""
    from xlsxwriter.utility import xl_col_to_name

    col = xl_col_to_name(grade_col)
    grades = f"{_quoted(SUMMARY)}!${col}$2:${col}${n + 1}"
    for c, h in enumerate(("等级", "项目数", "占比")):
        ws.write_string(0, c, h, fm.head)
    for k, (grade, count) in enumerate(counts, start=1):
        _text(ws, k, 0, grade, fm.center)
        ws.write_formula(k, 1, f"=COUNTIF({grades},A{k + 1})", fm.center, count)
        ws.write_formula(k, 2, f"=IF(COUNTA({grades})=0,0,B{k + 1}/COUNTA({grades}))", fm.pct, count / n if n else 0)
    last = len(counts)
    ws.write_string(last + 1, 0, "合计", fm.head)
    ws.write_formula(last + 1, 1, f"=SUM(B2:B{last + 1})", fm.head, sum(c for _, c in counts))
    ws.set_column(0, 0, 14)
    ws.set_column(1, 2, 10)
    chart = wb.add_chart({"type": "column"})
    chart.add_series({"name": "项目数", "categories": [GRADES, 1, 0, last, 0], "values": [GRADES, 1, 1, last, 1], "data_labels": {"value": True}, "fill": {"color": "#3B6EA5"}})
    chart.set_title({"name": "等级分布"})
    chart.set_legend({"none": True})
    ws.insert_chart(0, 4, chart, {"x_scale": 1.1, "y_scale": 1.0})
    bins = histogram(totals)
    if not bins:
        return
    top = max(last + 3, 17)
    ws.write_string(top, 0, f"总分分布（每 {bins[0][1] - bins[0][0]} 分一组；含下限、不含上限，最后一组含上限）", fm.get(bold=True, border=0))
    for c, h in enumerate(("总分区间", "项目数")):
        ws.write_string(top + 1, c, h, fm.head)
    for k, (lo, hi, count) in enumerate(bins, start=top + 2):
        ws.write_string(k, 0, f"{lo}–{hi}", fm.center)
        ws.write_number(k, 1, count, fm.center)
    chart = wb.add_chart({"type": "column"})
    chart.add_series({"name": "项目数", "categories": [GRADES, top + 2, 0, top + 1 + len(bins), 0], "values": [GRADES, top + 2, 1, top + 1 + len(bins), 1],
                      "gap": 20, "fill": {"color": "#3B6EA5"}})
    chart.set_title({"name": "总分分布"})
    chart.set_legend({"none": True})
    ws.insert_chart(top, 4, chart, {"x_scale": 1.5, "y_scale": 1.0})


LEVEL_COLUMNS = ("一级指标", "分值", "计分项目数", "平均得分", "平均得分率", "最低得分", "最高得分", "得分率低于60%的项目数")


def _level_sheet(ws, fm: _Formats, stats: list[LevelStats], digits: int) -> None:
    num = fm.num(digits)
    for c, h in enumerate(LEVEL_COLUMNS):
        ws.write_string(0, c, h, fm.head)
    for k, s in enumerate(stats, start=1):
        _text(ws, k, 0, s.name, fm.text)
        w = s.weight
        if isinstance(w, Fraction):
            _num(ws, k, 1, w, 4, fm.num(0) if w.denominator == 1 else num)
        else:
            _text(ws, k, 1, w or "", fm.center)
        ws.write_number(k, 2, s.scored, fm.center)
        _num(ws, k, 3, s.mean, digits, num)
        if s.mean_rate is None:
            ws.write_blank(k, 4, None, fm.pct)
        else:
            ws.write_number(k, 4, float(to_decimal(s.mean_rate, 6)), fm.pct)
        _num(ws, k, 5, s.low, digits, num)
        _num(ws, k, 6, s.high, digits, num)
        ws.write_number(k, 7, s.below, fm.center)
    ws.set_column(0, 0, max([12, *(_display_width(s.name) + 2 for s in stats)]))
    ws.set_column(1, 6, 11)
    ws.set_column(7, 7, 22)
    ws.freeze_panes(1, 1)


DETAIL_TEXT = ("分值", "得分", "扣分", "状态", "说明")
EXCEL_ROWS = 1_048_576


class _Detail:
    """明细: one row per project × indicator (every level, as ``walk`` gives them), filterable; past
    Excel's last row it goes on in 明细(2), 明细(3), …"""

    def __init__(self, wb, fm: _Formats, depth: int):
        self.wb, self.fm, self.depth, self.sheets = wb, fm, depth, 0
        self.heads = ["项目", *level_names(depth), *DETAIL_TEXT]
        self._next()

    def _next(self) -> None:
        self.sheets += 1
        self.ws = self.wb.add_worksheet(DETAIL if self.sheets == 1 else f"{DETAIL}({self.sheets})")
        self.row = 0
        for c, h in enumerate(self.heads):
            self.ws.write_string(0, c, h, self.fm.head)

    def add(self, r: Result) -> None:
        fm, d = self.fm, self.depth
        num = fm.num(r.digits)
        project = safe_cell(_clean(r.project))
        for i in r.walk():  # ~10 rows a project: cells written directly, empty ones skipped (60,000 rows for 6,000)
            if self.row == EXCEL_ROWS - 1:
                self.close()
                self._next()
            ws = self.ws
            self.row += 1
            row = self.row
            ws.write_string(row, 0, project, fm.text)
            path = list(i.path[: d - 1]) + (["／".join(i.path[d - 1 :])] if len(i.path) >= d else [])
            for c, name in enumerate(path):
                _text(ws, row, 1 + c, name, fm.text)
            _num(ws, row, d + 1, i.weight, 4, num)
            hidden = i.status == "not_applicable" and bool(i.excluded)
            _num(ws, row, d + 2, None if hidden else i.score, r.digits, num)
            lost = i.deduction if i.status != "not_applicable" else Fraction(0)
            _num(ws, row, d + 3, lost, r.digits, num)
            _text(ws, row, d + 4, STATUS_WORDS.get(i.status) or "已计分", fm.center)
            note = explanation(i, r.digits)
            if note:
                _text(ws, row, d + 5, note, fm.text)

    def close(self) -> None:
        ws, d = self.ws, self.depth
        ws.autofilter(0, 0, max(self.row, 1), len(self.heads) - 1)
        ws.freeze_panes(1, 1)
        ws.set_column(0, 0, 30)
        ws.set_column(1, d, 16)
        ws.set_column(d + 1, d + 3, 8)
        ws.set_column(d + 4, d + 4, 8)
        ws.set_column(d + 5, d + 5, 80)


# ---- one sheet per project (small batches) ---------------------------------------------------
