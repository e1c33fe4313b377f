"""Files people open in spreadsheets: CSV in the audit-table format, written safely.

A cell that starts with = + - @ would be run as a formula by Excel; such text is prefixed
with an apostrophe. (Files are written through ``outfile.staged``: a temporary renamed into place.)
"""
from __future__ import annotations

import csv
import io
import re

_NUMBER = re.compile(r"^-?[0-9]+(\.[0-9]+)?\Z")  # ASCII digits to the very end (compile/csvout.NUMBER_RE)


def safe_cell(value) -> str:
    """Text that a spreadsheet shows as text: formulas are neutralised, numbers kept.

    >>> safe_cell("=HYPERLINK(\\"x\\")"), safe_cell("-5"), safe_cell("@SUM(A1)"), safe_cell("决策")
    ('\\'=HYPERLINK("x")', '-5', "'@SUM(A1)", '决策')
    """
    text = "" if value is None else str(value)
    if text and text[0] in "=+-@\t\r" and not _NUMBER.match(text):
        return "'" + text
    return text


def csv_text(rows: list[dict], columns: list[str]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for r in rows:
        writer.writerow([safe_cell(r.get(c, "")) for c in columns])
    return buf.getvalue()
