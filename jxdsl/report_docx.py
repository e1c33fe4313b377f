"""The score report as a Word document: the 得分表 laid out as in a published report's attachment,
with the 综合评定 overview for several projects.  Renders the same table as the other writers
(``report.score_table``, ``report.grid``, ``report.summary_rows``).

Fonts and sizes live in the document's styles (every paragraph names one, no run sets a font), as
an attachment a bureau prints: a 黑体 title, 仿宋 text, 宋体 tables, Times New Roman for digits and
Latin letters, “— 1 —” page numbers.  Column widths are fitted to the content so that numbers never
wrap."""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import attrs

from jxdsl.evaluate import Result
from jxdsl.explain import total_tail
from jxdsl.report import (
    TEXT_COLUMNS,
    ScoreTable,
    _book,
    _clean,
    _display_width,
    _fmt,
    _results,
    _write_binary,
    first_levels,
    grade_counts,
    grid,
    rate_text,
    score_table,
    summary_rows,
)
from jxdsl.units import plain

EMU_PER_PT = 12700
EMU_PER_CM = 360000
PAGE = (29.7, 21.0)  # A4 landscape, cm: the 得分表 has nine or more columns
MARGIN = 2.0  # cm on every side; the footer sits 1 cm above the paper's edge
LATIN = "Times New Roman"
# The title in 黑体, not 方正小标宋简体: 小标宋 is the 公文 title font (GB/T 9704), but it is not
# installed with Windows or WPS, and a missing font falls back to whatever the machine picks; the
# attachments of published evaluation reports title their tables in 黑体, which every Chinese
# system has.  仿宋 (the 仿宋_GB2312 of 公文, under the name Windows and WPS ship) for text, 宋体
# for tables.
TITLE_FONT, BODY_FONT, TABLE_FONT = "黑体", "仿宋", "宋体"
TITLE_PT, BODY_PT, TABLE_PT, SUMMARY_PT, NOTE_PT, PAGE_NUMBER_PT = 16, 12, 9, 10.5, 9, 14
# Style names: what a user sees in Word's style list.
TITLE, BODY, CELL, SUMMARY_CELL, NOTE, PAGE_NUMBER = "表格标题", "正文", "表格文字", "综合评定表格文字", "表注", "页码"
CELL_PADDING = 0.38 * EMU_PER_CM + 2 * EMU_PER_PT  # Word's default 0.19 cm left and right, and a border
# Latin characters (digits above all) measured at 0.64 em, not Times New Roman's 0.5: a machine
# without Times New Roman substitutes a wider font (DejaVu Serif's digits are 0.64 em), and a
# number too wide for its cell breaks in the middle (92.6/6).
NARROW_EM = 0.64
LEVEL_CHARS = (5, 6)  # an indicator name wraps after five or six characters; its （N分） never wraps
SUMMARY_MIN_CM = 2.2


def text_width(text: str, pt: float) -> int:
    """The width in EMU of ``text`` on one line at ``pt`` points: CJK characters one em, others
    ``NARROW_EM``.

    >>> text_width("92.66", 9) == round(5 * 0.64 * 9 * 12700)
    True
    """
    wide = _display_width(text) - len(text)  # characters counted twice by _display_width
    return round((wide + (len(text) - wide) * NARROW_EM) * pt * EMU_PER_PT)


def cell_width(text: str, pt: float) -> int:
    """The narrowest cell holding each line of ``text`` unbroken."""
    return max((text_width(line, pt) for line in text.split("\n")), default=0) + round(CELL_PADDING)


@attrs.frozen
class Column:
    """What one table column needs: ``need`` EMU at least (``firm``: never less, as for numbers),
    and ``share``, the amount of wrapping text it holds, for its part of the width left over."""

    need: int
    share: int = 0
    firm: bool = False


def fit(columns: list[Column], total: int, fill: bool = True) -> list[int]:
    """Column widths in EMU summing to ``total`` (or less, when ``fill`` is false and no column
    holds wrapping text): every column gets its ``need`` and the rest goes by ``share``; when the
    needs exceed ``total``, the columns that are not firm shrink.

    >>> fit([Column(100, firm=True), Column(100, 3), Column(100, 1)], 700)
    [100, 400, 200]
    >>> fit([Column(100, firm=True), Column(300), Column(100)], 300)
    [100, 150, 50]
    """
    widths = [c.need for c in columns]
    rest = total - sum(widths)
    if rest >= 0:
        shares = [c.share for c in columns]
        if not any(shares):
            if not fill:
                return widths
            shares = [0 if c.firm else 1 for c in columns]
        if not any(shares):
            shares = [1] * len(columns)
        given = [rest * s // sum(shares) for s in shares]
        given[max(range(len(shares)), key=shares.__getitem__)] += rest - sum(given)
        return [w + g for w, g in zip(widths, given)]
    firm = sum(c.need for c in columns if c.firm)
    soft = sum(c.need for c in columns if not c.firm)
    if firm >= total or not soft:  # absurd numbers: everything shrinks alike
        return [c.need * total // sum(widths) for c in columns]
    return [c.need if c.firm else c.need * (total - firm) // soft for c in columns]


def wrap_chars(names: list[str]) -> int:
    """How many characters a line of an indicator-name column holds: all of the longest name if it
    is short, else the fewest of ``LEVEL_CHARS`` that leave no name a last line of one character
    (立项依据充分 / 性), else the one that leaves fewest.

    >>> wrap_chars(["决策", "过程"]), wrap_chars(["立项依据充分性", "申请程序的合规性"]), wrap_chars(["资金到位率"])
    (2, 5, 5)
    """
    longest = -(-max((_display_width(n) for n in names), default=0) // 2)  # in CJK characters
    low, high = LEVEL_CHARS
    if longest <= low:
        return longest
    return min(range(low, min(high, longest) + 1), key=lambda k: (_orphans(names, k), k))


def _orphans(names: list[str], chars: int) -> int:
    """Names whose last line holds a single character when lines hold ``chars`` characters."""
    count = 0
    for name in names:
        units = _display_width(name)  # two units a CJK character
        if units > 2 * chars and (units - 1) % (2 * chars) < 2:
            count += 1
    return count


def score_columns(table: ScoreTable, cells=None) -> list[Column]:
    """The needs of the 得分表's columns: levels as wide as their headers and （N分） labels and
    ``wrap_chars`` of their names, 分值 and 得分 as wide as their widest number, the text columns
    sharing the rest by the amount of text they hold."""
    cells = grid(table) if cells is None else cells
    depth = table.depth
    ncols = depth + len(TEXT_COLUMNS)
    need = [0] * ncols
    share = [0] * ncols
    names: list[list[str]] = [[] for _ in range(depth)]
    for row in cells:
        for c, cell in enumerate(row):
            if cell is None or cell.colspan > 1:
                continue
            text = _cell_text(cell.value, c, depth, table.result.digits)
            if cell.role in ("head", "num", "label"):
                need[c] = max(need[c], cell_width(text, TABLE_PT))
            elif cell.role == "level":
                name, _, label = text.rpartition("\n") if "\n" in text else (text, "", "")
                names[c].append(name)
                need[c] = max(need[c], cell_width(label, TABLE_PT))
            else:
                share[c] += _display_width(text)
    for c in range(depth):
        need[c] = max(need[c], cell_width("字" * wrap_chars(names[c]), TABLE_PT))
    firm = [False] * depth + [False, False, True, True, False]
    return [Column(n, s, f) for n, s, f in zip(need, share, firm)]


def write_docx(results, books, path: str | Path, inputs=()) -> None:
    """The 得分表 as a Word document: landscape A4; for several projects the 汇总 first; each project
    on a new page with its 得分表, 总分 and grade, notes, and 综合评定得分表."""
    from docx import Document
    from docx.shared import Pt

    results = _results(results)
    doc = Document()
    _styles(doc)
    _page(doc)
    width = round((PAGE[0] - 2 * MARGIN) * EMU_PER_CM)
    if len(results) > 1:
        _paragraph(doc, f"绩效评价结果汇总（{len(results)} 个项目）", TITLE)
        _docx_overview(doc, results, books, width)
    for i, r in enumerate(results):
        table = score_table(r, _book(r, books))
        title = _paragraph(doc, f"{r.project} 绩效评价得分表", TITLE)
        title.paragraph_format.page_break_before = len(results) > 1
        total = plain(r.total, r.digits) if r.total is not None else "无法计算"
        _paragraph(doc, f"总分 {total}{total_tail(r)}，等级 {r.grade or '—'}", BODY).paragraph_format.keep_with_next = True
        _docx_table(doc, table, width)
        for note in table.notes:
            _paragraph(doc, note, NOTE)
        _paragraph(doc, "综合评定得分表", TITLE).paragraph_format.space_before = Pt(18)
        _docx_summary(doc, r, width)
    _write_binary(path, doc.save, inputs)


# ---- page and styles ------------------------------------------------------------------------
def _page(doc) -> None:
    """Landscape A4 and, in every section's footer, the page number as “— 1 —” (GB/T 9704)."""
    from docx.enum.section import WD_ORIENT
    from docx.shared import Cm

    for section in doc.sections:
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = Cm(PAGE[0]), Cm(PAGE[1])
        for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
            setattr(section, side, Cm(MARGIN))
        section.header_distance = section.footer_distance = Cm(1)
        footer = section.footer
        footer.is_linked_to_previous = False
        p = footer.paragraphs[0]
        p.style = doc.styles[PAGE_NUMBER]
        p.add_run("— ")
        _field(p, "PAGE", "1")
        p.add_run(" —")


def _field(paragraph, instruction: str, shown: str) -> None:
    """A Word field (PAGE, NUMPAGES) with a cached result for readers that do not compute fields."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    def char(kind: str):
        el = OxmlElement("w:fldChar")
        el.set(qn("w:fldCharType"), kind)
        return el

    paragraph.add_run()._r.append(char("begin"))
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = f" {instruction} "
    paragraph.add_run()._r.append(instr)
    paragraph.add_run()._r.append(char("separate"))
    paragraph.add_run(shown)
    paragraph.add_run()._r.append(char("end"))


def _fonts(style, east_asia: str, pt: float, bold: bool = False) -> None:
    """Latin and East Asian fonts, size and weight on a style (w:ascii/w:hAnsi and w:eastAsia)."""
    from docx.oxml.ns import qn
    from docx.shared import Pt

    style.font.name = LATIN
    style.font.size = Pt(pt)
    style.font.bold = bold
    style.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), east_asia)


def _styles(doc) -> None:
    """The document defaults and Normal without theme fonts (Word would show Calibri/等线), the
    language zh-CN, and one paragraph style per kind of text."""
    from docx.enum.style import WD_STYLE_TYPE
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
    from docx.oxml.ns import qn
    from docx.shared import Pt

    defaults = doc.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    fonts = defaults.find(qn("w:rFonts"))
    for theme in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(theme), None)
    for attr, name in (("w:ascii", LATIN), ("w:hAnsi", LATIN), ("w:eastAsia", BODY_FONT), ("w:cs", LATIN)):
        fonts.set(qn(attr), name)
    defaults.find(qn("w:lang")).set(qn("w:eastAsia"), "zh-CN")
    normal = doc.styles["Normal"]
    _fonts(normal, BODY_FONT, BODY_PT)
    normal.paragraph_format.space_after = 0
    # Small text at an exact line height (1.3 em): the table's length then does not depend on
    # which font a machine substitutes (CJK fallback fonts differ widely in their line gaps).
    # Cells get 2 pt of air above and below their text.
    specs = (
        (BODY, BODY_FONT, BODY_PT, False, WD_ALIGN_PARAGRAPH.LEFT, 0, 6, None),
        (TITLE, TITLE_FONT, TITLE_PT, True, WD_ALIGN_PARAGRAPH.CENTER, 0, 6, None),
        (NOTE, BODY_FONT, NOTE_PT, False, WD_ALIGN_PARAGRAPH.LEFT, 0, 0, 1.3),
        (CELL, TABLE_FONT, TABLE_PT, False, None, 2, 2, 1.3),
        (SUMMARY_CELL, TABLE_FONT, SUMMARY_PT, False, None, 2, 2, 1.3),
        (PAGE_NUMBER, TABLE_FONT, PAGE_NUMBER_PT, False, WD_ALIGN_PARAGRAPH.CENTER, 0, 0, None),  # GB/T 9704: 4号宋体
    )
    for name, font, pt, bold, align, before, after, line in specs:
        style = doc.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        style.base_style = normal
        style.quick_style = True
        _fonts(style, font, pt, bold)
        fmt = style.paragraph_format
        fmt.alignment = align
        fmt.space_before, fmt.space_after = Pt(before), Pt(after)
        if line is None:
            fmt.line_spacing_rule = WD_LINE_SPACING.SINGLE
        else:
            fmt.line_spacing, fmt.line_spacing_rule = Pt(pt * line), WD_LINE_SPACING.EXACTLY
    doc.styles[TITLE].paragraph_format.keep_with_next = True


def _paragraph(doc, text: str, style: str):
    p = doc.add_paragraph(style=doc.styles[style])
    p.add_run(_clean(text))
    return p


# ---- tables ----------------------------------------------------------------------------------
def _cell_text(value, c: int, depth: int, digits: int) -> str:
    if isinstance(value, Fraction):
        return plain(value, 4 if c == depth + 2 else digits)  # 分值 as written, 得分 as rounded
    return "" if value is None else str(value)


def _new_table(doc, rows: int, widths: list[int]):
    """A bordered, fixed-layout table: the widths in the grid (LibreOffice reads these) and in each
    cell (Word does)."""
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.oxml.ns import qn

    t = doc.add_table(rows=rows, cols=len(widths))
    t.style = "Table Grid"
    t.autofit = False  # w:tblLayout fixed: Word keeps the widths instead of fitting to content
    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    tbl_w = t._tbl.tblPr.find(qn("w:tblW"))
    tbl_w.set(qn("w:type"), "dxa")
    tbl_w.set(qn("w:w"), str(sum(widths) // 635))  # EMU → twentieths of a point
    for column, width in zip(t.columns, widths):
        column.width = width
    for row in t.rows:
        for cell, width in zip(row.cells, widths):
            cell.width = width
    return t


def _docx_cell(cell, text: str, style, bold: bool = False, align: str = "left") -> None:
    from docx.enum.table import WD_ALIGN_VERTICAL
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    p = cell.paragraphs[0]
    p._p.style = style.style_id  # by id: python-docx's style setter scans every style per call
    p.alignment = {"left": WD_ALIGN_PARAGRAPH.LEFT, "center": WD_ALIGN_PARAGRAPH.CENTER, "right": WD_ALIGN_PARAGRAPH.RIGHT}[align]
    if text:
        run = p.add_run(_clean(text))
        run.bold = bold or None
    cell.vertical_alignment = WD_ALIGN_VERTICAL.CENTER


def _repeat_header(row) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    tr_pr = row._tr.get_or_add_trPr()
    el = OxmlElement("w:tblHeader")
    el.set(qn("w:val"), "true")
    tr_pr.append(el)


def _no_split(row) -> None:
    from docx.oxml import OxmlElement

    row._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))


def _docx_table(doc, table: ScoreTable, width: int) -> None:
    r = table.result
    depth = table.depth
    cells = grid(table)
    widths = fit(score_columns(table, cells), width)
    t = _new_table(doc, len(cells), widths)
    style = doc.styles[CELL]
    rows = list(t.rows)
    doc_cells = [doc_row.cells for doc_row in rows]  # before merging: the table is a plain grid
    for row, doc_row, row_cells in zip(cells, rows, doc_cells):
        for c, cell in enumerate(row):
            if cell is None:
                row_cells[c].paragraphs[0]._p.style = style.style_id  # covered cells: no 12-pt empty line
                continue
            text = _cell_text(cell.value, c, depth, r.digits)
            bold = cell.role in ("head", "total", "label")
            align = "center" if cell.role in ("head", "level", "total", "label") else ("right" if cell.role == "num" else "left")
            _docx_cell(row_cells[c], text, style, bold, align)
        _no_split(doc_row)
    _repeat_header(rows[0])
    for i, row in enumerate(cells):
        for c, cell in enumerate(row):
            if cell is not None and (cell.rowspan > 1 or cell.colspan > 1):
                doc_cells[i][c].merge(doc_cells[i + cell.rowspan - 1][c + cell.colspan - 1])  # spans are disjoint


def _docx_summary(doc, result: Result, width: int) -> None:
    """The 综合评定得分表 as the seeds print it: the 一级指标 across, rows 分值, 综合评定得分, 得分率."""
    rows = summary_rows(result)
    d = result.digits
    lines = [
        ["指标", *(s.name for s in rows)],
        ["分值", *(_fmt(s.weight, 4) or "—" for s in rows)],
        ["综合评定得分", *(_fmt(s.score, d) or "—" for s in rows)],
        ["得分率", *(rate_text(s.rate) for s in rows)],
    ]
    floor = round(SUMMARY_MIN_CM * EMU_PER_CM)
    columns = [Column(cell_width(lines[2][0], SUMMARY_PT), firm=True)]
    for c in range(1, len(lines[0])):
        numbers = max(cell_width(line[c], SUMMARY_PT) for line in lines[1:])
        name = cell_width("字" * wrap_chars([lines[0][c]]), SUMMARY_PT)
        columns.append(Column(max(numbers, name, floor), firm=True))
    t = _new_table(doc, len(lines), fit(columns, width, fill=False))
    style = doc.styles[SUMMARY_CELL]
    for line, doc_row in zip(lines, t.rows):
        for c, (text, cell) in enumerate(zip(line, doc_row.cells)):
            _docx_cell(cell, text, style, bold=line is lines[0] or c in (0, len(line) - 1), align="center")
        _no_split(doc_row)


def _docx_overview(doc, results: list[Result], books, width: int) -> None:
    """项目, 总分, 等级 and each 一级 score per project, then the count per grade."""
    levels = first_levels(results)
    heads = ["项目", "总分", "等级", *levels]
    lines = [heads]
    for r in results:
        by_name = {x.name: x.score for x in r.indicators}
        lines.append([r.project, _fmt(r.total, r.digits) or "—", r.grade or "—", *(_fmt(by_name.get(n), r.digits) for n in levels)])
    columns = [Column(cell_width("字" * 4, TABLE_PT), share=1)]
    for c in range(1, len(heads)):
        columns.append(Column(max(cell_width(line[c], TABLE_PT) for line in lines), firm=True))
    t = _new_table(doc, len(lines), fit(columns, width))
    style = doc.styles[CELL]
    for i, (line, doc_row) in enumerate(zip(lines, t.rows)):
        for c, (text, cell) in enumerate(zip(line, doc_row.cells)):
            _docx_cell(cell, text, style, bold=not i, align="left" if c == 0 and i else "center")
        _no_split(doc_row)
    _repeat_header(t.rows[0])
    _paragraph(doc, "", BODY)
    counts = grade_counts(results, books)
    lines = [["等级", "项目数"], *([grade, str(count)] for grade, count in counts)]
    columns = [Column(max(cell_width(line[c], TABLE_PT) for line in lines) + round(EMU_PER_CM), firm=True) for c in range(2)]
    t = _new_table(doc, len(lines), fit(columns, width, fill=False))
    for i, (line, doc_row) in enumerate(zip(lines, t.rows)):
        for text, cell in zip(line, doc_row.cells):
            _docx_cell(cell, text, style, bold=not i, align="center")
