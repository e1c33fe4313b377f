"""The score report as a Word document: the 得分表 laid out as in a published report's attachment,
with the 综合评定 overview for several projects.  Renders the same table as the other writers
(``report.score_table``, ``report.grid``)."""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path

from jxdsl.evaluate import Result
from jxdsl.explain import total_tail
from jxdsl.report import (
    TEXT_COLUMNS,
    ScoreTable,
    _book,
    _clean,
    _fmt,
    _results,
    _write_binary,
    first_levels,
    grade_counts,
    grid,
    score_table,
)
from jxdsl.units import plain

def write_docx(results, books, path: str | Path, inputs=()) -> None:
    """The 得分表 as a Word document: landscape A4, one heading and one table per project."""
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    results = _results(results)
    doc = Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Cm(29.7), Cm(21)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(1.5))
    normal = doc.styles["Normal"]
    normal.font.size = Pt(10.5)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "宋体")
    if len(results) > 1:
        doc.add_heading(f"绩效评价结果汇总（{len(results)} 个项目）", level=1)
        _docx_overview(doc, results, books)
    for i, r in enumerate(results):
        if i or len(results) > 1:
            doc.add_page_break()
        table = score_table(r, _book(r, books))
        doc.add_heading(_clean(f"{r.project} 绩效评价得分表"), level=1)
        total = plain(r.total, r.digits) if r.total is not None else "无法计算"
        doc.add_paragraph(_clean(f"总分 {total}{total_tail(r)}，等级 {r.grade or '—'}"))
        _docx_table(doc, table)
        for note in table.notes:
            p = doc.add_paragraph(_clean(note))
            for run in p.runs:
                run.font.size = Pt(9)
    _write_binary(path, doc.save, inputs)


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


def _docx_cell(cell, text: str, bold: bool = False, align: str = "left", size: float = 9) -> None:
    from docx.enum.table import WD_ALIGN_VERTICAL
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    p = cell.paragraphs[0]
    p.alignment = {"left": WD_ALIGN_PARAGRAPH.LEFT, "center": WD_ALIGN_PARAGRAPH.CENTER, "right": WD_ALIGN_PARAGRAPH.RIGHT}[align]
    run = p.add_run(_clean(text))
    run.font.size = Pt(size)
    run.bold = bold
    cell.vertical_alignment = WD_ALIGN_VERTICAL.CENTER


def _docx_table(doc, table: ScoreTable) -> None:
    from docx.shared import Cm

    r = table.result
    depth = table.depth
    cells = grid(table)
    ncols = depth + len(TEXT_COLUMNS)
    has_text = table.has_text
    rel = [2.2] * depth + [4.5 if has_text[0] else 1.6, 5.5 if has_text[1] else 1.6, 1.3, 1.3, 6.0]
    scale = 26.7 / sum(rel)
    widths = [Cm(w * scale) for w in rel]
    t = doc.add_table(rows=len(cells), cols=ncols)
    t.style = "Table Grid"
    t.autofit = False
    for column, width in zip(t.columns, widths):
        column.width = width  # the table grid: LibreOffice reads these, Word the cell widths
    rows = list(t.rows)
    for i, (row, doc_row) in enumerate(zip(cells, rows)):
        doc_cells = doc_row.cells
        for c, cell in enumerate(row):
            doc_cells[c].width = widths[c]
            if cell is None or cell.value in (None, ""):
                continue
            if isinstance(cell.value, Fraction):
                text = plain(cell.value, 4 if c == depth + 2 else r.digits)
            else:
                text = str(cell.value)
            bold = cell.role in ("head", "total") or (cell.role == "label")
            align = "center" if cell.role in ("head", "level", "total", "label") else ("right" if cell.role == "num" else "left")
            _docx_cell(doc_cells[c], text, bold, align)
        _no_split(doc_row)
    _repeat_header(rows[0])
    for i, row in enumerate(cells):
        for c, cell in enumerate(row):
            if cell is not None and (cell.rowspan > 1 or cell.colspan > 1):
                t.cell(i, c).merge(t.cell(i + cell.rowspan - 1, c + cell.colspan - 1))


def _docx_overview(doc, results: list[Result], books) -> None:
    levels = first_levels(results)
    heads = ["项目", "总分", "等级", *levels]
    t = doc.add_table(rows=len(results) + 1, cols=len(heads))
    t.style = "Table Grid"
    rows = list(t.rows)
    for c, head in enumerate(heads):
        _docx_cell(rows[0].cells[c], head, True, "center")
    _repeat_header(rows[0])
    for r, row in zip(results, rows[1:]):
        by_name = {x.name: x.score for x in r.indicators}
        values = [r.project, _fmt(r.total, r.digits) or "—", r.grade or "—", *(_fmt(by_name.get(n), r.digits) for n in levels)]
        for c, v in enumerate(values):
            _docx_cell(row.cells[c], v, align="left" if c == 0 else "center")
    doc.add_paragraph("")
    counts = grade_counts(results, books)
    t = doc.add_table(rows=len(counts) + 1, cols=2)
    t.style = "Table Grid"
    for c, head in enumerate(("等级", "项目数")):
        _docx_cell(t.rows[0].cells[c], head, True, "center")
    for (grade, count), row in zip(counts, list(t.rows)[1:]):
        _docx_cell(row.cells[0], grade, align="center")
        _docx_cell(row.cells[1], str(count), align="center")


