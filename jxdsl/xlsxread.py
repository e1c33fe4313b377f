"""One sheet of an XLSX workbook as rows of text, streamed (``tables.py`` gives them to every engine).

Which sheet: the one ``--sheet`` names, else the active sheet when it is visible, else the first
visible one — never a hidden sheet without being asked.  Rows are read with openpyxl's read-only
parser, never trusting the ``<dimension>`` tag (a sheet claiming ten million rows costs nothing
until they are there); a row number past Excel's own limit is refused.  Cells become text as
Excel shows them: whole numbers without ``.0``, dates as ``2022-12-31``, TRUE/FALSE; a formula
Excel never calculated is an error that says to open and save the file.  Merged cells (a project
name or an indicator spanning its rows, the usual layout of a self-evaluation form) are filled
from their top-left cell, in every row and column of the range below the header.
"""
from __future__ import annotations

import datetime
from bisect import insort
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

from jxdsl.errors import FactError, Span, UsageError, suggest

EXCEL_ROWS = 1_048_576  # rows of an Excel sheet; a larger row number is not a sheet Excel wrote
EXCEL_COLUMNS = 16_384
MAX_UNPACKED = 8 * 2**30  # a sheet of Excel's million rows unpacks to a few GB at most
_NO_VALUE = object()  # a formula cell whose value was never calculated


def open_book(path: Path):
    """The workbook, read-only; a file that is not a readable workbook is a located FactError."""
    import openpyxl

    _check_size(path)
    fh = open(path, "rb")  # ours to close: openpyxl leaves its own open when a broken file stops it
    try:
        wb = openpyxl.load_workbook(fh, read_only=True, data_only=True)
        wb._jx_file = fh
        return wb
    except Exception as e:  # noqa: BLE001 - openpyxl and zipfile raise many kinds for a broken file
        fh.close()
        raise FactError(
            f"无法读取 Excel 文件：文件已损坏，或不是 Excel 工作簿（.xlsx）（{type(e).__name__}）", Span(str(path), 1, 1),
            "请用 Excel 或 WPS 打开后另存为“Excel 工作簿（.xlsx）”（旧的 .xls 文件也请这样另存）",
        ) from None


def _check_size(path: Path) -> None:
    """A workbook whose parts unpack to more than ``MAX_UNPACKED`` bytes is refused before reading
    (openpyxl holds every shared string in memory; a small zip can unpack to many gigabytes)."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as z:
            size = sum(i.file_size for i in z.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return  # openpyxl reports a file that is not a workbook
    if size > MAX_UNPACKED:
        raise FactError(f"Excel 文件解压后有 {size:,} 字节，超过上限 {MAX_UNPACKED:,} 字节", Span(str(path), 1, 1),
                        "请把表格分成几个文件，或另存为 CSV")


def close_book(wb) -> None:
    """Close the workbook and its file."""
    wb.close()
    wb._jx_file.close()


def choose_sheet(wb, path: Path, name: str | None):
    """The sheet to read: ``name``, else the active sheet if visible, else the first visible one."""
    sheets = list(wb.worksheets)
    if name is not None:
        found = [ws for ws in sheets if ws.title == name]
        if not found:
            titles = [ws.title for ws in sheets]
            close = suggest(name, titles)
            raise UsageError(f"Excel 文件“{path}”中没有工作表“{name}”",
                             None, (f"是否应为“{close}”？" if close else "") + f"文件中的工作表：{'、'.join(titles) or '（无）'}")
        return found[0]
    visible = [ws for ws in sheets if ws.sheet_state == "visible"]
    if not visible:
        raise FactError("Excel 文件中没有可读的工作表" + ("（工作表都已隐藏）" if sheets else ""), Span(str(path), 1, 1),
                        "用 --sheet 工作表名 指定要读的工作表" if sheets else "请在 Excel 中把表格放在一个工作表里再保存")
    active = wb.active
    return active if active in visible else visible[0]


def cell_text(value) -> str:
    """A cell as Excel shows it in the General format, as text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):  # Excel shows at most 15 significant digits: 0.30000000000000004 is 0.3
        d = Decimal(f"{value:.15g}")
        if not d.is_finite():
            return str(value)
        return format(d.to_integral_value() if d == d.to_integral_value() else d.normalize(), "f")
    if isinstance(value, datetime.datetime):
        if value.time() == datetime.time(0):
            return value.date().isoformat()
        return value.replace(microsecond=0).isoformat(sep=" ")
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    return str(value)


class SheetRows:
    """The rows of one sheet, ``(row number, cells)``, blank rows left out; after iterating,
    ``merges`` holds the merged ranges as (min_col, min_row, max_col, max_row)."""

    def __init__(self, wb, ws, path: Path):
        self.wb, self.ws, self.path = wb, ws, path
        self.merges: list[tuple[int, int, int, int]] = []
        self.at = 0  # the row being read

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        try:
            with self.ws._get_source() as src:
                yield from self._rows(_parser(self.wb, self.ws, src))
        except (FactError, UsageError, GeneratorExit):
            raise
        except Exception as e:  # noqa: BLE001 - broken XML, a shared string that is not there, a bad zip member
            raise FactError(
                f"Excel 文件已损坏：工作表“{self.ws.title}”读到第 {self.at + 1} 行时出错（{type(e).__name__}）", Span(str(self.path), max(self.at, 1), 1),
                "请用 Excel 或 WPS 打开后另存为“Excel 工作簿（.xlsx）”",
            ) from None

    def _rows(self, parser) -> Iterator[tuple[int, list[str]]]:
        from openpyxl.worksheet.cell_range import CellRange

        for idx, row in parser.parse():
            self.at = idx
            if idx > EXCEL_ROWS:
                raise FactError(f"工作表“{self.ws.title}”的行号 {idx} 超过 Excel 的上限 {EXCEL_ROWS}", Span(str(self.path), idx, 1),
                                "文件不是 Excel 保存的工作表：请用 Excel 或 WPS 打开后另存")
            cells = self._cells(idx, row)
            if cells:
                yield idx, cells
        ranges = parser.merged_cells.mergeCell if parser.merged_cells is not None else []
        self.merges = [CellRange(r.ref).bounds for r in ranges]

    def _cells(self, idx: int, row: list[dict]) -> list[str]:
        """The row's cells as text, from column A; [] when every cell is blank."""
        out: list[str] = []
        for cell in row:
            col = cell["column"]
            value = cell["value"]
            if value is _NO_VALUE:
                from openpyxl.utils import get_column_letter

                raise FactError(
                    f"单元格 {get_column_letter(col)}{idx} 是公式，但文件中没有保存公式的计算结果", Span(str(self.path), idx, col),
                    "请用 Excel 或 WPS 打开此文件、保存一次（让它算出公式的值），再计分",
                )
            text = cell_text(value)
            if not text.strip() or col > EXCEL_COLUMNS:
                continue
            out.extend([""] * (col - len(out)))
            out[col - 1] = text
        return out


def _parser(wb, ws, src):
    """openpyxl's streaming sheet parser (what its read-only sheets use), telling a formula
    without a calculated value apart from a blank cell."""
    from openpyxl.worksheet._reader import FORMULA_TAG, WorkSheetParser

    class Parser(WorkSheetParser):
        def parse_cell(self, element):
            cell = super().parse_cell(element)
            if cell["value"] is None and element.find(FORMULA_TAG) is not None:
                cell["value"] = _NO_VALUE
            return cell

    return Parser(src, ws._shared_strings, data_only=True, epoch=wb.epoch,
                  date_formats=wb._date_formats, timedelta_formats=wb._timedelta_formats)


def fill_merged(rows: Iterator[tuple[int, list[str]]], merges: list[tuple[int, int, int, int]], header_line: int) -> Iterator[tuple[int, list[str]]]:
    """Rows (in row order) with each merged range below the header filled from its top-left cell."""
    pending = sorted((m for m in merges if m[1] > header_line), key=lambda m: m[1])
    active: list[tuple[int, int, int, int, str]] = []  # (max_row, min_col, max_col, min_row, value)
    i = 0
    for line, cells in rows:
        while i < len(pending) and pending[i][1] <= line:
            min_col, min_row, max_col, max_row = pending[i]
            i += 1
            if min_row == line and min_col <= len(cells) and cells[min_col - 1].strip():
                insort(active, (max_row, min_col, max_col, min_row, cells[min_col - 1]))
        active = [a for a in active if a[0] >= line]
        for _, min_col, max_col, _, value in active:
            for c in range(min_col, min(max_col, len(cells)) + 1):
                if not cells[c - 1].strip():
                    cells[c - 1] = value
        yield line, cells
