"""Files people open in spreadsheets: CSV in the audit-table format, written safely.

A cell that starts with = + - @ would be run as a formula by Excel; such text is prefixed
with an apostrophe. Files are written to a temporary name and renamed, so an interrupted
run never leaves half a file.
"""
from __future__ import annotations

import csv
import io
import os
import re
from pathlib import Path

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


def write_atomic(path: str | Path, text: str, encoding: str = "utf-8") -> None:
    """Write to a temporary file beside the target, then rename over it."""
    target = Path(path)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding=encoding)
        tmp.replace(target)
    finally:
        if tmp.exists():
            tmp.unlink()
