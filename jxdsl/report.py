"""Score reports people open: the 得分表 as XLSX and DOCX, one self-contained HTML page, Markdown.

Every writer renders the same table, built once from a ``Result`` (and the rulebook's 解释 and
标准 texts): one row per leaf indicator, one column per indicator level with parents spanning
their children's rows, then 指标解释, 评价标准, 分值, 得分 and 扣分说明, a 合计 row and the grade —
the layout of the published 绩效评价得分表; a unit's self-evaluation goes to Excel as the
项目支出绩效自评表 it hands in. Nothing is recomputed here; the lost-points text is
``explain.explanation``; the workbook's sums are formulas only where the engine's number is that sum.
Files are written beside the target under a temporary name and renamed.
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
        return total_note(self.result)


def total_note(r: Result) -> str:
    """The 合计 row's note: caps, floors and vetoes applied, the sum, or why there is no total."""
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
    return ScoreTable(result, tuple(lines), tuple(groups), depth, _bands(book), table_notes(result))


def table_notes(result: Result) -> tuple[str, ...]:
    """The lines under a table: warnings, data problems, the rulebook and how scores are rounded."""
    notes = [f"注意：{w}" for w in result.warnings]
    notes += [f"数据问题：{e.message}" + (f"（{e.hint}）" if e.hint else "") for e in result.errors]
    notes.append(
        f"规则集：{result.rulebook}" + (f"（版本 {result.version}）" if result.version else "")
        + f"，内容摘要 {result.content_hash[:12]}；每项得分保留 {result.digits} 位小数（{result.rounding}），上级得分为下级得分之和"
    )
    return tuple(notes)


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
    """The 得分表 as a workbook: for one project its 得分表 and 综合评定 sheets (a self-evaluation:
    the 项目支出绩效自评表 alone, which ``forms`` reads back); for several, the summary workbook of
    ``report_book`` (results may be a stream).

    XlsxWriter writes each subtotal as a formula with its cached value (``Sheet.total``), so the
    file shows numbers in every reader and recalculates when a score is edited."""
    import xlsxwriter

    from jxdsl import report_book

    first, rest = report_book.split_batch(results)
    if len(first) > 1:
        return report_book.write_book(itertools.chain(first, rest), books, path, inputs, show_progress, total)
    r = first[0]
    book = _book(r, books)

    def save(tmp: str) -> None:
        wb = xlsxwriter.Workbook(tmp, {"strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False})
        st = Styles(wb)
        used: set[str] = set()
        if is_self_eval(r):
            _self_eval_sheet(wb.add_worksheet(sheet_name("自评表", used)), st, r, book)
        else:
            name = sheet_name("得分表", used)
            leaves = _score_sheet(wb.add_worksheet(name), st, score_table(r, book))
            _summary_sheet(wb.add_worksheet(sheet_name("综合评定", used)), st, r, name, leaves)
        wb.close()

    _write_binary(path, save, inputs)


def project_sheet(ws, st: "Styles", result: Result, book: Rulebook | None) -> None:
    """One project's sheet in a workbook of several (``report_book``): its 自评表 or its 得分表."""
    if is_self_eval(result):
        _self_eval_sheet(ws, st, result, book)
    else:
        _score_sheet(ws, st, score_table(result, book))


def is_self_eval(result: Result) -> bool:
    """Whether a result scores a unit's 自评表: its leaves carry the rows' 年度指标值 and 实际完成值."""
    return any(s.kind == "row" for r in result.walk() for s in r.steps)


class Styles:
    """XlsxWriter formats made once per workbook: 宋体 10 pt, thin grey borders, wrapped text."""

    BASE = {"font_name": "宋体", "font_size": 10, "border": 1, "border_color": "#808080", "valign": "vcenter", "text_wrap": True}

    def __init__(self, wb):
        self.wb = wb
        self.made: dict[tuple, object] = {}

    def __call__(self, **props):
        key = tuple(sorted(props.items()))
        if key not in self.made:
            self.made[key] = self.wb.add_format({**self.BASE, **props})
        return self.made[key]

    def title(self):
        return self(bold=True, font_size=14, align="center", border=0)

    def head(self, fill: str = "#D9E1F2"):
        return self(bold=True, align="center", bg_color=fill)


OUTSIDE_FILL = "#FFF2CC"  # columns the tool adds to the 自评表: not part of the form units fill in


@attrs.frozen
class Sheet:
    """Where a table's numbers are: the excel rows (from 0) of its lines, and the score column."""

    rows: tuple[int, ...]
    weight_col: int
    score_col: int


def _a1(row: int, col: int, sheet: str | None = None) -> str:
    from xlsxwriter.utility import xl_rowcol_to_cell

    ref = xl_rowcol_to_cell(row, col)
    return f"'{sheet}'!{ref}" if sheet else ref


def _sum_of(cells: list[str]) -> str:
    """The cells added up: each run of adjacent cells in a column as ``SUM(F8:F13)``, joined by ``+``.

    >>> _sum_of(["F6", "F8", "F9", "F10"]), _sum_of(["'得分表'!G3", "'得分表'!G4"]), _sum_of([])
    ('F6+SUM(F8:F10)', "SUM('得分表'!G3:G4)", '0')
    """
    from xlsxwriter.utility import xl_cell_to_rowcol

    runs: list[list[tuple[str, str, int, int]]] = []
    for ref in cells:
        sheet, _, cell = ref.rpartition("!")
        r, c = xl_cell_to_rowcol(cell)
        last = runs[-1][-1] if runs else None
        if last is not None and (last[0], last[3], last[2] + 1) == (sheet, c, r):
            runs[-1].append((sheet, cell, r, c))
        else:
            runs.append([(sheet, cell, r, c)])
    terms = []
    for run in runs:
        prefix = f"{run[0][0]}!" if run[0][0] else ""
        terms.append(f"SUM({prefix}{run[0][1]}:{run[-1][1]})" if len(run) > 1 else prefix + run[0][1])
    return "+".join(terms) or "0"


def _shown(value: Fraction | None, digits: int) -> Fraction | None:
    """A number as its cell holds it (rounded as the report shows it)."""
    n = number(value, digits)
    return None if n is None else Fraction(str(n))


def _total(ws, row: int, col: int, value: Fraction | None, digits: int, parts: list[tuple[str, Fraction | None]], fmt, exact: bool = True) -> None:
    """A subtotal cell: ``=SUM(parts)`` with ``value`` cached when the engine's number is exactly
    the sum of the parts' cells (``exact``: no cap, veto, rescaling or rule of its own), else the number."""
    shown = _shown(value, digits)
    if shown is None:
        ws.write_string(row, col, "—", fmt)
        return
    numbers = [v for _, v in parts]
    if exact and parts and None not in numbers and sum(numbers, Fraction(0)) == shown:
        ws.write_formula(row, col, "=" + _sum_of([ref for ref, _ in parts]), fmt, number(value, digits))
    else:
        ws.write_number(row, col, number(value, digits), fmt)


def _exact_total(r: Result) -> bool:
    """Whether the total is the plain sum of the indicators, 加分 and 扣分 (no cap, floor, veto, rescaling)."""
    return (not r.total_steps and r.partial_total is None and not any(i.awarded for i in r.veto_items)
            and (r.bonus_cap is None or r.bonus == sum((i.awarded or 0 for i in r.bonus_items), Fraction(0))))


def _sums_children(r: IndicatorResult) -> bool:
    """A parent whose score is its children's sum (no rule of its own, nothing left out)."""
    return not r.steps and not r.excluded and r.status == "scored"


def _print_setup(ws, header_row: int) -> None:
    """Landscape A4 fitted to the width, the header row repeated and frozen (rows from 0)."""
    ws.set_landscape()
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(header_row)
    ws.center_horizontally()
    ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.5)
    ws.freeze_panes(header_row + 1, 0)


def _text_value(value) -> str | None:
    return safe_cell(_clean(value)) if value not in (None, "") else None


def _put(ws, row: int, col: int, value, fmt, last_row: int | None = None, last_col: int | None = None) -> None:
    """A text, a number or a blank, merged over a range when it spans one."""
    if isinstance(value, Fraction):
        value = number(value, 4)
    elif value is not None and not isinstance(value, (int, float)):
        value = _text_value(value)
    last_row, last_col = last_row if last_row is not None else row, last_col if last_col is not None else col
    if (last_row, last_col) != (row, col):
        ws.merge_range(row, col, last_row, last_col, None, fmt)
    if value is None:
        ws.write_blank(row, col, None, fmt)
    elif isinstance(value, str):
        ws.write_string(row, col, value, fmt)
    else:
        ws.write_number(row, col, value, fmt)


def _height(ws, row: int, lines: int) -> None:
    if lines > 1:
        ws.set_row(row, min(409, 14 * lines + 4))


def _notes(ws, st: Styles, row: int, notes, ncols: int, width: float) -> None:
    fmt = st(align="left", border=0)
    for note in notes:
        _put(ws, row, 0, note, fmt, row, ncols - 1)
        _height(ws, row, _lines_needed(note, width))
        row += 1


def _score_sheet(ws, st: Styles, table: ScoreTable) -> Sheet:
    """The 得分表: the grid with merged level cells; 合计's 分值 and 得分 are sums of the rows."""
    r = table.result
    d = r.digits
    depth = table.depth
    cells = grid(table)
    ncols = depth + len(TEXT_COLUMNS)
    has_text = table.has_text
    widths = [14] * depth + [36 if has_text[0] else 12, 40 if has_text[1] else 12, 8, 8, 48]
    for c, w in enumerate(widths):
        ws.set_column(c, c, w)
    _put(ws, 0, 0, f"{r.project} 绩效评价得分表", st.title(), 0, ncols - 1)
    ws.set_row(0, 24)
    total_rows = {len(cells) - 2, len(cells) - 1}
    line_rows = tuple(range(2, 2 + len(table.lines)))
    for i, row in enumerate(cells):
        xr = i + 1
        tall = 1
        for c, cell in enumerate(row):
            if cell is None or (i == len(cells) - 2 and c in (depth + 2, depth + 3)):
                continue
            total = i in total_rows
            fill = {"bg_color": "#F2F2F2"} if total else {}
            if cell.role == "head":
                fmt = st.head()
            elif isinstance(cell.value, Fraction) or cell.role == "num":
                fmt = st(align="right" if isinstance(cell.value, Fraction) else "center", num_format=_number_format(d), bold=total, **fill)
            else:
                bold = cell.role in ("total", "label")
                fmt = st(align="center" if cell.role in ("level", "label", "total") else "left", bold=bold, **fill)
            value = cell.value
            if isinstance(value, Fraction):
                value = number(value, max(d, 4) if c == depth + 2 else d)
            _put(ws, xr, c, value, fmt, xr + cell.rowspan - 1, c + cell.colspan - 1)
            if cell.rowspan == 1 and isinstance(value, str):
                tall = max(tall, _lines_needed(value, sum(widths[c : c + cell.colspan])))
        _height(ws, xr, tall)
    # 合计: 分值 over the indicators' rows, 得分 over every scored row (indicators, 加分, 扣分)
    xr = len(cells) - 1
    fill = {"bg_color": "#F2F2F2", "bold": True}
    indicator_rows = [n for n, line in zip(line_rows, table.lines) if line.path[0] not in ("加分", "扣分", "一票否决")]
    wd = max(d, 4)
    _total(ws, xr, depth + 2, r.max, wd, [(_a1(n, depth + 2), _shown(line.weight, wd)) for n, line in zip(line_rows, table.lines) if n in indicator_rows],
           st(align="right", num_format=_number_format(d), **fill))
    scored = [(_a1(n, depth + 3), _shown(line.score, d)) for n, line in zip(line_rows, table.lines) if line.path[0] != "一票否决"]
    _total(ws, xr, depth + 3, r.total, d, scored, st(align="right", num_format=_number_format(d), **fill), _exact_total(r))
    _notes(ws, st, len(cells) + 2, table.notes, ncols, sum(widths))
    _print_setup(ws, 1)
    return Sheet(line_rows, depth + 2, depth + 3)


def _summary_sheet(ws, st: Styles, result: Result, score_sheet: str, at: Sheet) -> None:
    """The 综合评定得分表 of one project: 一级指标, 分值, 得分 (sums of the 得分表's rows), 得分率."""
    d = result.digits
    _put(ws, 0, 0, f"{result.project} 综合评定得分表", st.title(), 0, 3)
    for c, head in enumerate(("一级指标", "分值", "得分", "得分率")):
        ws.write_string(1, c, head, st.head())
    # each 一级指标's rows on the 得分表: leaves are listed in tree order, a run per 一级指标
    runs: dict[str, list[tuple[int, IndicatorResult]]] = {}
    k = 0
    for top in result.indicators:
        leaves = [x for x in top.walk() if not x.children]
        runs[top.name] = list(zip(at.rows[k : k + len(leaves)], leaves))
        k += len(leaves)
    rows = summary_rows(result)
    top_by_name = {t.name: t for t in result.indicators}
    for i, s in enumerate(rows, start=2):
        bold = s.name == TOTAL
        name_fmt = st(align="center", bold=bold)
        num = st(align="right", num_format=_number_format(d), bold=bold)
        ws.write_string(i, 0, _text_value(s.name) or "", name_fmt)
        top = top_by_name.get(s.name)
        if s.name == TOTAL:
            firsts = [(_a1(j, 1), _shown(x.weight, 4)) for j, x in enumerate(rows[:-1], start=2) if x.name in top_by_name]
            _total(ws, i, 1, s.weight, 4, firsts, st(align="right", num_format=_number_format(d), bold=True))
            parts = [(_a1(j, 2), _shown(x.score, d)) for j, x in enumerate(rows[:-1], start=2)]
            _total(ws, i, 2, s.score, d, parts, num, _exact_total(result))
        elif top is not None and top.children:
            leaves = runs[top.name]
            _total(ws, i, 1, s.weight, 4, [(_a1(j, at.weight_col, score_sheet), _shown(x.weight, 4)) for j, x in leaves], num, not top.excluded)
            hidden = any(_score_hidden(x) for _, x in leaves)
            _total(ws, i, 2, s.score, d, [(_a1(j, at.score_col, score_sheet), _shown(x.score, d)) for j, x in leaves], num,
                   not hidden and all(_sums_children(p) for p in top.walk() if p.children))
        else:
            _put(ws, i, 1, number(s.weight, 4), num)
            _put(ws, i, 2, number(s.score, d), num)
        rate = float(to_decimal(s.rate, 6)) if s.rate is not None else None
        _put(ws, i, 3, rate, st(align="right", num_format="0.00%", bold=bold))
    ws.set_column(0, 0, 20)
    ws.set_column(1, 3, 12)
    _print_setup(ws, 1)


# ---- the 项目支出绩效自评表 ---------------------------------------------------------------------
SELF_EVAL_TITLE = "项目支出绩效自评表"
SELF_EVAL_COLUMNS = ("一级指标", "二级指标", "三级指标", "年度指标值（A）", "实际完成值（B）", "分值", "得分", "偏差原因分析及改进措施", "扣分说明")
SELF_EVAL_RECORDS = ("档次", "评价得分")  # the evaluator's records, when a row has them (forms reads them back)
BUDGET = "预算执行率"


def _row_step(r: IndicatorResult) -> dict:
    return next((s.data for s in r.steps if s.kind == "row"), {})


def _funds(result: Result) -> tuple[str, dict[str, object], Fraction | None]:
    """The funds block's unit label, its amounts (numbers in the unit when all are written in one
    money unit, else the texts) and the execution rate 全年执行数 ÷ 全年预算数, exact."""
    from jxdsl.units import MONEY, parse_quantity

    texts = dict(result.funds)
    quantities = {n: parse_quantity(t) for n, t in texts.items()}
    units = {q.unit for q in quantities.values()}
    money = quantities and all(q.dim == "元" for q in quantities.values())
    if money and len(units) == 1:
        unit = units.pop()
        amounts: dict[str, object] = {n: number(q.value / MONEY[unit], 6) for n, q in quantities.items()}
        label = f"项目资金（{unit}）"
    else:
        amounts, label = dict(texts), "项目资金"
    plan, spent = quantities.get("全年预算数"), quantities.get("全年执行数")
    rate = spent.value / plan.value if money and plan is not None and spent is not None and plan.value else None
    return label, amounts, rate


def execution_rate(result: Result) -> Fraction | None:
    """执行率 as the 自评表 prints it (全年执行数 ÷ 全年预算数, exact); None without both amounts in money."""
    return _funds(result)[2]


def _grade_marks(grade: str | None, book: Rulebook | None) -> str:
    """优 □ 良 ☑ 中 □ 差 □: the form's boxes with the grade's ticked."""
    names = [*(n for n, _, _ in book.grades), book.lowest_grade] if book is not None and book.grades else ["优", "良", "中", "差"]
    if grade is not None and grade not in names:
        names.append(grade)
    return "  ".join(f"{n} {'☑' if n == grade else '□'}" for n in names)


def _self_eval_sheet(ws, st: Styles, result: Result, book: Rulebook | None) -> None:
    """The 项目支出绩效自评表 as units fill it in (labels as ``forms`` reads them): header, funds
    block, one row per indicator with its 年度指标值 and 实际完成值, 总分 (a formula) and the
    grade ticked; 扣分说明 (and the evaluator's 档次/评价得分) are the tool's columns beside the form."""
    d = result.digits
    leaves = [x for x in result.walk() if not x.children]
    budget = next((x for x in result.indicators if x.name == BUDGET and not x.children), None)
    rows = [x for x in leaves if x is not budget]
    keys = [key for key in ("tier", "given") if any(_row_step(x).get(key) for x in rows)]
    records = [SELF_EVAL_RECORDS[("tier", "given").index(key)] for key in keys]
    heads = [*SELF_EVAL_COLUMNS, *records]
    ncols = len(heads)
    widths = [14, 14, 22, 14, 14, 8, 8, 40, 40, *[8] * len(records)]
    for c, w in enumerate(widths):
        ws.set_column(c, c, w)
    center, left = st(align="center"), st(align="left")
    num = st(align="right", num_format=_number_format(d))
    outside = st.head(OUTSIDE_FILL)

    _put(ws, 0, 0, SELF_EVAL_TITLE, st.title(), 0, ncols - 1)
    ws.set_row(0, 24)
    year = book.years[0] if book is not None and book.years and book.years[0] == book.years[1] else None
    _put(ws, 1, 0, f"（{year}年度）" if year else None, st(align="center", border=0), 1, ncols - 1)
    _put(ws, 2, 0, "项目名称", st.head())
    _put(ws, 2, 1, result.project, left, 2, ncols - 1)
    _put(ws, 3, 0, "主管部门", st.head())
    _put(ws, 3, 1, None, left, 3, 3)
    _put(ws, 3, 4, "实施单位", st.head())
    _put(ws, 3, 5, None, left, 3, ncols - 1)

    label, amounts, rate = _funds(result)
    for c, head in enumerate(("年初预算数", "全年预算数（A）", "全年执行数（B）", "分值", "执行率", "得分"), start=2):
        _put(ws, 4, c, head, st.head())
    _put(ws, 4, 0, label, st.head(), 4, 1)
    _put(ws, 4, 8, "扣分说明", outside, 4, ncols - 1)
    _put(ws, 5, 0, "年度资金总额", center, 5, 1)
    amount = st(align="right", num_format="#,##0.00####")
    for c, name in enumerate(("年初预算数", "全年预算数", "全年执行数"), start=2):
        _put(ws, 5, c, amounts.get(name), amount if isinstance(amounts.get(name), (int, float)) else center)
    _put(ws, 5, 5, budget.weight if budget else None, num)
    _put(ws, 5, 6, float(to_decimal(rate, 6)) if rate is not None else None, st(align="right", num_format="0.00%"))
    _put(ws, 5, 7, _score_cell(budget, d) if budget else None, num)
    note = _lost(budget, d) if budget else ""
    _put(ws, 5, 8, note, left, 5, ncols - 1)
    _height(ws, 5, _lines_needed(note, sum(widths[8:])))

    head_row = 6
    for c, h in enumerate(heads):
        ws.write_string(head_row, c, h, outside if c >= len(SELF_EVAL_COLUMNS) - 1 else st.head())
    first = head_row + 1
    for k, x in enumerate(rows):
        xr = first + k
        step = _row_step(x)
        values = [x.path[-1], step.get("target"), step.get("actual"), x.weight, _score_cell(x, d), x.evidence, _lost(x, d), *[step.get(key) for key in keys]]
        fmts = [center, center, center, num, num, left, left, *[center] * len(records)]
        for c, (v, f) in enumerate(zip(values, fmts), start=2):
            _put(ws, xr, c, v, f)
        tall = max(_lines_needed(str(v), widths[c]) for c, v in enumerate(values, start=2) if isinstance(v, str))
        _height(ws, xr, tall)
    # 一级 and 二级 cells span their rows
    for level in (0, 1):
        k = 0
        while k < len(rows):
            key_ = rows[k].path[: level + 1] if len(rows[k].path) > level + 1 else None
            j = k
            while j + 1 < len(rows) and key_ is not None and rows[j + 1].path[: level + 1] == key_:
                j += 1
            if key_ is None:
                _put(ws, first + k, level, None, center)
            else:
                node = _node(result, key_)
                label = key_[-1] + (f"（{plain(node.weight, 4)}分）" if level == 0 and node is not None else "")
                _put(ws, first + k, level, label, center, first + j, level)
            k = j + 1

    total_row = first + len(rows)
    bold = st(align="right", num_format=_number_format(d), bold=True, bg_color="#F2F2F2")
    _put(ws, total_row, 0, "总分", st(align="center", bold=True, bg_color="#F2F2F2"), total_row, 4)
    budget_parts = [(_a1(5, 5), _shown(budget.weight, 4))] if budget else []
    _total(ws, total_row, 5, result.max, 4, budget_parts + [(_a1(first + k, 5), _shown(x.weight, 4)) for k, x in enumerate(rows)], bold)
    budget_parts = [(_a1(5, 7), _shown(budget.score, d))] if budget else []
    _total(ws, total_row, 6, result.total, d, budget_parts + [(_a1(first + k, 6), _shown(x.score, d)) for k, x in enumerate(rows)], bold,
           _exact_total(result) and not result.bonus_items and not result.penalty_items and not any(_score_hidden(x) for x in leaves)
           and all(_sums_children(p) for p in result.walk() if p.children))
    _put(ws, total_row, 7, None, st(bg_color="#F2F2F2"))
    _put(ws, total_row, 8, total_note(result), left, total_row, ncols - 1)
    _put(ws, total_row + 1, 0, "项目用款单位自我评定", st(align="center", bold=True), total_row + 1, 1)
    _put(ws, total_row + 1, 2, _grade_marks(result.grade, book), st(align="left", bold=True), total_row + 1, 7)
    bands = _bands(book)
    _put(ws, total_row + 1, 8, bands and f"等级划分：{bands}", left, total_row + 1, ncols - 1)
    notes = [*table_notes(result), "扣分说明" + ("、" + "、".join(records) if records else "") + "：本工具的计分说明和评价人的记录，不属于自评表。"]
    _notes(ws, st, total_row + 3, notes, ncols, sum(widths))
    _print_setup(ws, head_row)


def _node(result: Result, path: tuple[str, ...]) -> IndicatorResult | None:
    return next((x for x in result.walk() if x.path == path), None)


def _score_cell(r: IndicatorResult, digits: int):
    """A leaf's 得分: the number, or the word for no number (缺数据, 不适用)."""
    return number(r.score, digits) if r.score is not None and not _score_hidden(r) else _status_text(r)


def _lost(r: IndicatorResult, digits: int) -> str:
    """Why points were lost, in the engine's words (blank when the leaf got its weight)."""
    lost = r.deduction is not None and r.deduction > 0
    return explanation(r, digits) if lost or r.status != "scored" else ""
