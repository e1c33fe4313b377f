"""Which encoding a text file is in: UTF-8 (with or without BOM), else GB18030.

Chinese Excel saves “CSV (逗号分隔)” in GBK, and Notepad on older Windows saves GBK too; GB18030
is GBK's superset, so one fallback reads both.  Every reader of a user's text file (tables for
every engine, YAML/JSON facts files, audit tables) asks here, so a file reads the same everywhere.
"""
from __future__ import annotations

import codecs
from pathlib import Path

from jxdsl.errors import FactError, Span

UTF8, GB18030 = "UTF-8", "GB18030"
_BOM = codecs.BOM_UTF8
_CHUNK = 1 << 20


def detect(path: str | Path) -> str:
    """``UTF8`` when the whole file is valid UTF-8 (a BOM is allowed), else ``GB18030``; a file that
    is neither is a located FactError."""
    dec = codecs.getincrementaldecoder("utf-8")()
    with open(path, "rb") as fh:
        if fh.read(2) in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
            raise FactError("文件是 UTF-16 编码（Excel 的“Unicode 文本”），无法按表格读取", Span(str(path), 1, 1),
                            "请在 Excel 中“另存为”→“CSV UTF-8（逗号分隔）”")
        fh.seek(0)
        lines = 0
        try:
            while chunk := fh.read(_CHUNK):
                dec.decode(chunk)
                lines += chunk.count(b"\n")
            dec.decode(b"", final=True)
            return UTF8
        except UnicodeDecodeError as e:
            bad = (chunk, e.start, lines)  # where UTF-8 failed: the place to show if GB18030 fails too
        fh.seek(0)
        gb = codecs.getincrementaldecoder("gb18030")()
        try:
            while chunk := fh.read(_CHUNK):
                gb.decode(chunk)
            gb.decode(b"", final=True)
        except UnicodeDecodeError:
            _not_text(path, *bad)
    return GB18030


def codec(encoding: str) -> str:
    """The Python codec that reads a file of ``encoding`` (UTF-8's BOM dropped)."""
    return "utf-8-sig" if encoding == UTF8 else "gb18030"


def read_text(path: str | Path) -> tuple[str, str]:
    """The whole text of a small file and its encoding (``UTF8`` or ``GB18030``)."""
    data = Path(path).read_bytes()
    try:
        return data.decode("utf-8-sig"), UTF8
    except UnicodeDecodeError as e:
        bad = e.start
    try:
        return data.decode("gb18030"), GB18030
    except UnicodeDecodeError:
        _not_text(path, data, bad)
    raise AssertionError("unreachable")


def note(encoding: str) -> str:
    """What a summary says about the encoding: nothing for UTF-8."""
    return "" if encoding == UTF8 else f"按 {encoding} 编码读取"


def _not_text(path, data: bytes, at: int, lines_before: int = 0) -> None:
    """A file that is neither UTF-8 nor GB18030: located where UTF-8 failed (most such files are
    UTF-8 with a damaged byte)."""
    head = data[: max(at, 0)]
    line = lines_before + head.count(b"\n") + 1
    column = len(head[head.rfind(b"\n") + 1 :].decode("utf-8", "replace")) + 1
    raise FactError(
        "文件既不是 UTF-8 编码也不是 GBK/GB18030 编码，无法读取", Span(str(path), line, column),
        "请在 Excel 中“另存为”→“CSV UTF-8（逗号分隔）”，或用记事本另存为 UTF-8",
    )
