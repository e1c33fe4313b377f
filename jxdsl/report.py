"""Score reports people open: the 得分表 as XLSX and DOCX, one self-contained HTML page, Markdown.

Every writer renders the same table, built once from a ``Result`` (and the rulebook's 解释 and
标准 texts): one row per leaf indicator, one column per indicator level with parents spanning
their children's rows, then 指标解释, 评价标准, 分值, 得分 and 扣分说明, a 合计 row and the grade —
the layout of the published 绩效评价得分表. Nothing is recomputed here; the lost-points text is
``explain.explanation``. Files are written beside the target under a temporary name and renamed.
"""
from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable, Iterable
from fractions import Fraction
from pathlib import Path

import attrs

from jxdsl.evaluate import IndicatorResult, Result
from jxdsl.explain import STATUS_WORDS, _total_sentence, explanation, number, total_sum
from jxdsl.link import LinkedIndicator, Rulebook
from jxdsl.outfile import safe_text, staged
from jxdsl.render import safe_cell
from jxdsl.units import plain, to_decimal

TEXT_COLUMNS = ("指标解释", "评价标准", "分值", "得分", "扣分说明")
TOTAL = "合计"
GRADE = "评价等级"
FONT_STACK = '"Noto Sans CJK SC", "WenQuanYi Micro Hei", "Microsoft YaHei", "PingFang SC", sans-serif'
_DIGITS = "一二三四五六七八九十"
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")  # not allowed in XML (xlsx/docx)


def level_names(depth: int) -> list[str]:
    """一级指标, 二级指标, … as deep as the table goes.

    >>> level_names(4)
    ['一级指标', '二级指标', '三级指标', '四级指标']
    """
    out = []
    for i in range(1, depth + 1):
        n = _DIGITS[i - 1] if i <= 10 else (f"十{_DIGITS[i - 11]}" if i < 20 else str(i))
        out.append(f"{n}级指标")
    return out


# ---- the table every writer renders -----------------------------------------------------------
@attrs.frozen
class Line:
    """One row of the 得分表: a leaf indicator, or a bonus, penalty or veto item."""

    path: tuple[str, ...]
    weight: Fraction | None
    score: Fraction | None
    score_text: str = ""  # shown when there is no number: 缺数据, 不适用, 发生 …
    explain: str = ""
    standard: str = ""
    note: str = ""


@attrs.frozen
class Group:
    """A parent indicator (or the 加分/扣分 block): one level cell spanning its rows."""

    level: int
    first: int
    last: int
    name: str
    weight: Fraction | None
    score: Fraction | None


@attrs.frozen
class ScoreTable:
    """The 得分表 of one project."""

    result: Result
    lines: tuple[Line, ...]
    groups: tuple[Group, ...]
    depth: int
    grade_bands: str
    notes: tuple[str, ...]

    @property
    def columns(self) -> list[str]:
        return [*level_names(self.depth), *TEXT_COLUMNS]

    @property
    def has_text(self) -> tuple[bool, bool]:
        """Whether any row has 指标解释 / 评价标准 text: empty text columns are drawn narrow."""
        return any(line.explain for line in self.lines), any(line.standard for line in self.lines)

    @property
    def total_note(self) -> str:
        r = self.result
        d = r.digits
        parts = [_total_sentence(s) for s in r.total_steps]
        summed = total_sum(r)
        if summed is not None:
            parts.append(summed)
        elif r.bonus or r.penalty:
            parts.append(f"含加分 {plain(r.bonus, d)}，扣分 {plain(r.penalty, d)}")
        if r.total is None:
            parts.append("有指标无法计分，总分无法计算")
        return "；".join(parts)


def score_table(result: Result, book: Rulebook | None = None) -> ScoreTable:
    """The 得分表 of one result; ``book`` supplies each indicator's 解释 and 标准 texts."""
    index: dict[tuple[str, ...], LinkedIndicator] = {i.path: i for i in book.walk()} if book is not None else {}
    d = result.digits
    lines: list[Line] = []
    groups: list[Group] = []

    def visit(r: IndicatorResult) -> None:
        if r.children:
            first = len(lines)
            for c in r.children:
                visit(c)
            groups.append(Group(len(r.path) - 1, first, len(lines) - 1, r.name, r.weight, r.score))
            return
        ind = index.get(r.path)
        lines.append(
            Line(
                r.path,
                r.weight,
                None if _score_hidden(r) else r.score,
                _status_text(r),
                (ind.text("解释") or "") if ind else "",
                (ind.text("标准") or "") if ind else "",
                _leaf_note(r, d),
            )
        )

    for r in result.indicators:
        visit(r)
    if result.bonus_items:
        first = len(lines)
        for i in result.bonus_items:
            lines.append(Line(("加分", i.name), i.points, i.awarded, "" if i.awarded is not None else "缺记录", note=i.evidence or ""))
        cap = result.bonus_cap if result.bonus_cap is not None else sum((i.points for i in result.bonus_items), Fraction(0))
        groups.append(Group(0, first, len(lines) - 1, "加分", cap, result.bonus))
    if result.penalty_items:
        first = len(lines)
        for i in result.penalty_items:
            happened = f"发生，扣{plain(i.awarded, d)}分" if i.awarded else ""
            note = "；".join(x for x in (happened, i.evidence and f"说明：{i.evidence}" if happened else i.evidence) if x)
            lines.append(Line(("扣分", i.name), i.points, -i.awarded if i.awarded is not None else None, "" if i.awarded is not None else "缺记录", note=note))
        points = sum((i.points for i in result.penalty_items), Fraction(0))
        groups.append(Group(0, first, len(lines) - 1, "扣分", points, -result.penalty))
    if result.veto_items:
        first = len(lines)
        for i in result.veto_items:
            state = "发生" if i.awarded else ("缺记录" if i.status == "missing" else "未发生")
            lines.append(Line(("一票否决", i.name), None, None, state, note=("发生一票否决，总分为0分" if i.awarded else "") + (f"；说明：{i.evidence}" if i.evidence else "")))
        groups.append(Group(0, first, len(lines) - 1, "一票否决", None, None))
    groups.sort(key=lambda g: (g.first, g.level))
    depth = max((len(line.path) for line in lines), default=1)
    notes = [f"注意：{w}" for w in result.warnings]
    notes += [f"数据问题：{e.message}" + (f"（{e.hint}）" if e.hint else "") for e in result.errors]
    notes.append(
        f"规则集：{result.rulebook}" + (f"（版本 {result.version}）" if result.version else "")
        + f"，内容摘要 {result.content_hash[:12]}；每项得分保留 {d} 位小数（{result.rounding}），上级得分为下级得分之和"
    )
    return ScoreTable(result, tuple(lines), tuple(groups), depth, _bands(book), tuple(notes))


def _score_hidden(r: IndicatorResult) -> bool:
    """按比例折算 leaves score 0 but are left out of the total: show 不适用, not 0."""
    return r.status == "not_applicable" and bool(r.excluded)


def _status_text(r: IndicatorResult) -> str:
    if r.score is None or _score_hidden(r):
        return STATUS_WORDS.get(r.status) or "—"
    return ""


def _leaf_note(r: IndicatorResult, digits: int) -> str:
    """Why points were lost (the explanation line), else the evaluator's 说明."""
    lost = r.deduction is not None and r.deduction > 0
    if lost or r.status != "scored":
        return explanation(r, digits)
    return r.evidence or ""


def _bands(book: Rulebook | None) -> str:
    if book is None or not book.grades:
        return ""
    if book.grade_rates is not None:  # 等级 按得分率: the bands as written, not in points
        parts = [f"{name} 得分率{'≥' if op == '>=' else '>'}{plain(rate * 100, 4)}%" for (name, op, _), rate in zip(book.grades, book.grade_rates)]
    else:
        parts = [f"{name} {'≥' if op == '>=' else '>'}{plain(bound)}" for name, op, bound in book.grades]
    return "；".join(parts + [f"{book.lowest_grade} 其余"])


def _book(result: Result, books) -> Rulebook | None:
    if isinstance(books, Rulebook):
        return books
    if isinstance(books, dict):
        return books.get(result.rulebook)
    return None


def _results(results) -> list[Result]:
    out = [results] if isinstance(results, Result) else list(results)
    if not out:
        raise ValueError("没有可输出的项目")
    return out


# ---- cells: the table as a grid with spans, shared by the xlsx, docx and html writers ---------
@attrs.frozen
class Cell:
    value: object  # str, Fraction or None
    role: str  # head | level | text | num | note | total | label
    rowspan: int = 1
    colspan: int = 1


def grid(table: ScoreTable, label_sep: str = "\n") -> list[list[Cell | None]]:
    """Header, one row per line, 合计 and 评价等级; ``None`` where a span covers the cell."""
    depth = table.depth
    width = depth + len(TEXT_COLUMNS)
    rows: list[list[Cell | None]] = [[Cell(c, "head") for c in table.columns]]
    body: list[list[Cell | None]] = [[None] * width for _ in table.lines]
    for g in table.groups:
        label = g.name + (f"{label_sep}（{plain(g.weight, 4)}分）" if g.weight is not None else "")
        body[g.first][g.level] = Cell(label, "level", rowspan=g.last - g.first + 1)
    for i, line in enumerate(table.lines):
        col = len(line.path) - 1
        row = body[i]
        row[col] = Cell(line.path[-1], "level", colspan=depth - col)
        row[depth:] = [
            Cell(line.explain, "text"),
            Cell(line.standard, "text"),
            Cell(line.weight, "num"),
            Cell(line.score if line.score is not None else line.score_text, "num"),
            Cell(line.note, "note"),
        ]
    rows += body
    r = table.result
    rows.append([Cell(TOTAL, "total", colspan=depth + 2), *[None] * (depth + 1), Cell(r.max, "num"), Cell(r.total if r.total is not None else "—", "num"), Cell(table.total_note, "note")])
    rows.append([Cell(GRADE, "total", colspan=depth + 2), *[None] * (depth + 1), Cell(None, "num"), Cell(r.grade or "—", "label"), Cell(table.grade_bands and f"等级划分：{table.grade_bands}", "note")])
    return rows


def _fmt(value, digits: int) -> str:
    if value is None:
        return ""
    if isinstance(value, Fraction):
        return plain(value, digits)
    return str(value)


# ---- the 综合评定得分表: 一级指标, 分值, 得分, 得分率 -----------------------------------------
@attrs.frozen
class SummaryRow:
    name: str
    weight: Fraction | None
    score: Fraction | None
    rate: Fraction | None


def summary_rows(result: Result) -> list[SummaryRow]:
    """One row per 一级指标 (plus 加分, 扣分) and 合计, as in the seeds' 综合评定得分表."""
    out = []
    for r in result.indicators:
        applicable = r.weight - r.excluded
        rate = r.score / applicable if r.score is not None and applicable > 0 else None
        out.append(SummaryRow(r.name, r.weight, r.score, rate))
    if result.bonus_items:
        cap = result.bonus_cap if result.bonus_cap is not None else sum((i.points for i in result.bonus_items), Fraction(0))
        out.append(SummaryRow("加分", cap, result.bonus, result.bonus / cap if cap else None))
    if result.penalty_items:
        out.append(SummaryRow("扣分", None, -result.penalty, None))
    rate = result.total / result.max if result.total is not None and result.max else None
    if result.bonus_items:
        rate = None  # 110 of 100 with 加分 is not a 得分率 of 110%
    out.append(SummaryRow(TOTAL, result.max, result.total, rate))
    return out


def rate_text(rate: Fraction | None) -> str:
    """得分率 as the seeds print it: 94.44%.

    >>> rate_text(Fraction(17, 18)), rate_text(Fraction(1)), rate_text(None)
    ('94.44%', '100.00%', '—')
    """
    if rate is None:
        return "—"
    return f"{to_decimal(rate * 100, 2)}%"


def _grade_order(results: list[Result], books) -> list[str]:
    order: list[str] = []
    for r in results:
        book = _book(r, books)
        if book is not None:
            for g in [*(name for name, _, _ in book.grades), book.lowest_grade]:
                if g not in order:
                    order.append(g)
    for r in results:
        if r.grade and r.grade not in order:
            order.append(r.grade)
    return order


def grade_counts(results: list[Result], books=None) -> list[tuple[str, int]]:
    """How many projects got each grade, best grade first; ``未评定`` for totals that failed."""
    counts = [(g, sum(1 for r in results if r.grade == g)) for g in _grade_order(results, books)]
    missing = sum(1 for r in results if r.grade is None)
    return counts + ([("未评定", missing)] if missing else [])


MAX_BINS = 30  # bars of the histogram of totals, whatever the weights (a chart of bounded size)


def histogram(totals: list[Fraction], width: int | None = None, max_bins: int = MAX_BINS) -> list[tuple[int, int, int]]:
    """Totals counted in bins: (low, high, count); the last bin includes its top.  Bins are 5 points
    wide, or wider (10, 20, 50, 100, …) when the totals spread over more than ``max_bins`` of them.

    >>> histogram([Fraction(83), Fraction(99), Fraction(100), Fraction(95)])
    [(80, 85, 1), (85, 90, 0), (90, 95, 0), (95, 100, 3)]
    >>> len(histogram([Fraction(0), Fraction(10**15)])), histogram([Fraction(0), Fraction(10**15)])[-1]
    (20, (950000000000000, 1000000000000000, 1))
    """
    if not totals:
        return []
    width = width or bin_width(max(totals) - min(totals), max_bins)
    lo = math.floor(min(totals) / width) * width
    hi = max(math.ceil(max(totals) / width) * width, lo + width)
    counts = [0] * ((hi - lo) // width)
    for t in totals:
        counts[min(math.floor((t - lo) / width), len(counts) - 1)] += 1
    return [(lo + k * width, lo + (k + 1) * width, c) for k, c in enumerate(counts)]


def bin_width(spread: Fraction, max_bins: int = MAX_BINS) -> int:
    """The narrowest of 5, 10, 20, 50, 100, 200, 500, … points that covers ``spread`` in at most
    ``max_bins - 1`` bins (the ends round outwards: one bin more).

    >>> bin_width(Fraction(100)), bin_width(Fraction(200)), bin_width(Fraction(10**6))
    (5, 10, 50000)
    """
    need = max(5, math.ceil(spread / max(max_bins - 1, 1)))
    step = 10 ** (len(str(need)) - 1)
    return next(m * step for m in (1, 2, 5, 10) if m * step >= need)


def first_levels(results: list[Result]) -> list[str]:
    names: list[str] = []
    for r in results:
        for i in r.indicators:
            if i.name not in names:
                names.append(i.name)
    return names


# ---- files --------------------------------------------------------------------------------
def _clean(text) -> str:
    """Text an XML file (xlsx, docx) can hold: no control characters, no lone surrogates."""
    return safe_text(_ILLEGAL.sub("", "" if text is None else str(text)))


def _write_binary(path: str | Path, save: Callable[[str], None], inputs: Iterable = ()) -> None:
    """Save to a temporary file beside the target, then rename over it (``outfile.staged``)."""
    with staged(path, inputs) as tmp:
        save(str(tmp))


def _display_width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def _lines_needed(text: str, width: float) -> int:
    if not text:
        return 1
    usable = max(width * 1.15 - 1, 1)  # column widths count Latin digits; 10-pt CJK runs a little narrower than two
    return sum(max(1, math.ceil(_display_width(seg) / usable)) for seg in text.split("\n"))


# ---- XLSX ---------------------------------------------------------------------------------
_INVALID_SHEET = re.compile(r"[\[\]:*?/\\]")


def sheet_name(name: str, used: set[str]) -> str:
    """A worksheet name Excel accepts: ≤31 characters, none of []:*?/\\, unique (case-insensitive).

    >>> used = set()
    >>> sheet_name("a/b:c", used), sheet_name("A_B_C", used), sheet_name("x" * 40, used)
    ('a_b_c', 'A_B_C(2)', 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx')
    """
    base = _INVALID_SHEET.sub("_", _clean(name)).strip().strip("'") or "项目"
    base = base[:31]
    candidate, n = base, 1
    while candidate.lower() in used or candidate.lower() == "history":
        n += 1
        suffix = f"({n})"
        candidate = base[: 31 - len(suffix)] + suffix
    used.add(candidate.lower())
    return candidate


def _number_format(digits: int) -> str:
    return "0." + "0" * digits if digits > 0 else "0"


def write_xlsx(results, books, path: str | Path, inputs: Iterable = (), show_progress: bool = False, total: int | None = None) -> None:
    """The 得分表 as a workbook: one sheet for one project (plus 综合评定); for several, the summary
    workbook of ``report_book`` (results may be a stream)."""
    from openpyxl import Workbook

    from jxdsl import report_book

    head, rest = report_book.split_batch(results)
    if len(head) > 1:
        return report_book.write_book(itertools.chain(head, rest), books, path, inputs, show_progress, total)
    r = head[0]
    wb = Workbook()
    wb.remove(wb.active)
    used: set[str] = set()
    _score_sheet(wb.create_sheet(sheet_name("得分表", used)), score_table(r, _book(r, books)))
    _summary_sheet(wb.create_sheet(sheet_name("综合评定", used)), r)
    _write_binary(path, wb.save, inputs)


def _styles():
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

    thin = Side(style="thin", color="808080")
    return {
        "border": Border(left=thin, right=thin, top=thin, bottom=thin),
        "head_font": Font(name="宋体", bold=True, size=10),
        "font": Font(name="宋体", size=10),
        "bold": Font(name="宋体", bold=True, size=10),
        "title": Font(name="宋体", bold=True, size=14),
        "fill": PatternFill("solid", fgColor="D9E1F2"),
        "total_fill": PatternFill("solid", fgColor="F2F2F2"),
        "center": Alignment(horizontal="center", vertical="center", wrap_text=True),
        "left": Alignment(horizontal="left", vertical="center", wrap_text=True),
        "top": Alignment(horizontal="left", vertical="top", wrap_text=True),
        "right": Alignment(horizontal="right", vertical="center"),
    }


def _print_setup(ws, header_row: int) -> None:
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = f"{header_row}:{header_row}"
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.5
    ws.freeze_panes = ws.cell(row=header_row + 1, column=1).coordinate


def _score_sheet(ws, table: ScoreTable) -> None:
    from openpyxl.utils import get_column_letter

    st = _styles()
    r = table.result
    depth = table.depth
    cells = grid(table)
    ncols = depth + len(TEXT_COLUMNS)
    has_text = table.has_text
    widths = [14] * depth + [36 if has_text[0] else 12, 40 if has_text[1] else 12, 8, 8, 48]
    for c, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(c)].width = w
    title = ws.cell(row=1, column=1, value=safe_cell(_clean(f"{r.project} 绩效评价得分表")))
    title.font, title.alignment = st["title"], st["center"]
    ws.row_dimensions[1].height = 24
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=ncols)
    num_format = _number_format(r.digits)
    merges = []
    heights: dict[int, int] = {}
    for i, row in enumerate(cells):
        excel_row = i + 2
        for c, cell in enumerate(row):
            if cell is None:
                continue
            xc = ws.cell(row=excel_row, column=c + 1)
            value = cell.value
            if isinstance(value, Fraction):
                xc.value = number(value, max(r.digits, 4) if c == depth + 2 else r.digits)
                xc.number_format = num_format
                xc.alignment = st["right"]
            else:
                xc.value = safe_cell(_clean(value)) if value not in (None, "") else None
                xc.alignment = st["center"] if cell.role in ("head", "level", "num", "label", "total") else st["left"]
            xc.border = st["border"]
            xc.font = st["head_font"] if cell.role in ("head", "total") else st["font"]
            if cell.role == "head":
                xc.fill = st["fill"]
            elif i >= len(cells) - 2:
                xc.fill = st["total_fill"]
                if cell.role == "label":
                    xc.font = st["bold"]
            if cell.rowspan > 1 or cell.colspan > 1:
                merges.append((excel_row, c + 1, excel_row + cell.rowspan - 1, c + cell.colspan))
            if cell.rowspan == 1 and isinstance(value, str):
                width = sum(widths[c : c + cell.colspan])
                heights[excel_row] = max(heights.get(excel_row, 1), _lines_needed(value, width))
        for c in range(ncols):  # covered cells keep the grid's borders
            if row[c] is None:
                ws.cell(row=excel_row, column=c + 1).border = st["border"]
    for excel_row, n in heights.items():
        if n > 1:
            ws.row_dimensions[excel_row].height = min(409, 14 * n + 4)
    for sr, sc, er, ec in merges:
        ws.merge_cells(start_row=sr, start_column=sc, end_row=er, end_column=ec)
    note_row = len(cells) + 3
    for note in table.notes:
        xc = ws.cell(row=note_row, column=1, value=safe_cell(_clean(note)))
        xc.font, xc.alignment = st["font"], st["left"]
        ws.merge_cells(start_row=note_row, start_column=1, end_row=note_row, end_column=ncols)
        n = _lines_needed(note, sum(widths))
        if n > 1:
            ws.row_dimensions[note_row].height = min(409, 14 * n + 4)
        note_row += 1
    _print_setup(ws, 2)


def _summary_sheet(ws, result: Result) -> None:
    """The 综合评定得分表 of one project: 一级指标, 分值, 得分, 得分率."""
    st = _styles()
    ws.cell(row=1, column=1, value=safe_cell(_clean(f"{result.project} 综合评定得分表"))).font = st["title"]
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=4)
    fmt = _number_format(result.digits)
    for c, head in enumerate(("一级指标", "分值", "得分", "得分率"), start=1):
        xc = ws.cell(row=2, column=c, value=head)
        xc.font, xc.fill, xc.border, xc.alignment = st["head_font"], st["fill"], st["border"], st["center"]
    for i, s in enumerate(summary_rows(result), start=3):
        values = [safe_cell(_clean(s.name)), number(s.weight, 4), number(s.score, result.digits), float(to_decimal(s.rate, 6)) if s.rate is not None else None]
        for c, v in enumerate(values, start=1):
            xc = ws.cell(row=i, column=c, value=v)
            xc.border, xc.font = st["border"], st["bold"] if s.name == TOTAL else st["font"]
            xc.number_format = "0.00%" if c == 4 else fmt
            xc.alignment = st["center"] if c == 1 else st["right"]
    ws.column_dimensions["A"].width = 20
    for col in "BCD":
        ws.column_dimensions[col].width = 12
    _print_setup(ws, 2)
