"""Rulebook files read and parsed, with their syntax trees kept between runs.

Parsing needs Lark: importing it, loading its LALR tables and compiling the lexer's regexes cost
~60 ms, and parsing Qixia and its parent ~30 ms more — most of a single project's ``explain``.  The
tree of a file parsed before is kept, pickled, in the user's cache folder (``data.cache_dir``, like
the parser tables, never a shared temporary folder), one file per rulebook, under a key of all the
tree depends on: the text, the name the file was read as (spans show it), the grammar, jxdsl's own
modules, Lark and Python.  A missing, stale, damaged or unwritable entry only means parsing again.
"""
from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import pickle
import re
import sys
from pathlib import Path

from jxdsl import ast
from jxdsl.errors import RulebookSyntaxError, Span
from jxdsl.files import read_regular

MAX_FILE_BYTES = 2_000_000


def read_rulebook(path: str | Path, limit: int = MAX_FILE_BYTES) -> str:
    """A rulebook file's text: a regular file, UTF-8 (a BOM allowed), at most ``limit`` bytes."""
    try:
        raw, longer = read_regular(path, limit)
    except OSError as e:
        raise RulebookSyntaxError(f"无法读取规则集文件：{e.strerror or e}", Span(str(path), 1, 1)) from None
    if longer:
        raise RulebookSyntaxError(f"规则集文件过大（超过 {limit // 1_000_000} MB）", Span(str(path), 1, 1))
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise RulebookSyntaxError("规则集文件不是 UTF-8 编码", Span(str(path), 1, e.start + 1)) from None


def load(path: str | Path, text: str | None = None) -> tuple[ast.Document, str]:
    """Read and parse a rulebook file (``parse.parse``), or take its tree from the cache.  ``text``
    stands for the file's content when it is being edited and not saved (the workbench)."""
    if text is None:
        text = read_rulebook(path)
    elif len(text.encode("utf-8", "surrogatepass")) > MAX_FILE_BYTES:
        raise RulebookSyntaxError(f"规则集文件过大（超过 {MAX_FILE_BYTES // 1_000_000} MB）", Span(str(path), 1, 1))
    key = hashlib.sha256("\0".join([_code_stamp(), str(path), text]).encode("utf-8", "surrogatepass")).digest()
    entry = _entry(path)
    doc = _cached(entry, key) if entry is not None else None
    if doc is None:
        from jxdsl.parse import parse

        doc = parse(text, str(path))
        if entry is not None:
            _store(entry, key, doc)
    return doc, text


def _entry(path: str | Path) -> Path | None:
    from jxdsl.data import cache_dir

    name = hashlib.sha256(os.path.abspath(path).encode("utf-8", "surrogatepass")).hexdigest()[:24]
    return cache_dir() / "trees" / f"{name}.pickle"


def _cached(entry: Path, key: bytes) -> ast.Document | None:
    try:
        with entry.open("rb") as fh:
            if fh.read(len(key)) != key:
                return None
            doc = pickle.load(fh)
    except Exception:  # noqa: BLE001 - a cache entry that cannot be read is parsed again, whatever went wrong
        return None
    return doc if isinstance(doc, ast.Document) else None


def _store(entry: Path, key: bytes, doc: ast.Document) -> None:
    try:
        data = key + pickle.dumps(doc, protocol=pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, RecursionError):  # pragma: no cover - frozen attrs nodes and Fractions pickle
        return
    _write(entry, data)


def _write(entry: Path, data: bytes) -> None:
    """Written beside and renamed into place, so a reader never sees half an entry; a read-only
    folder or a full disk only means working it out again next time."""
    tmp = entry.with_name(f"{entry.name}.{os.getpid()}.tmp")
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(data)
        os.replace(tmp, entry)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)


# ---- names as a rulebook writes them ---------------------------------------------------------------
def name_text(name: str) -> str:
    """A name as the rulebook must write it: bare when the grammar reads it as one name, else quoted."""
    pattern, words = bare_name()
    if pattern.fullmatch(name) and name not in words:
        return name
    for left, right in (("“", "”"), ("「", "」"), ('"', '"')):
        if right not in name:
            return f"{left}{name}{right}"
    return f"“{name}”"  # pragma: no cover - a parsed name never holds all three closing quotes


@functools.cache
def bare_name() -> tuple[re.Pattern, frozenset[str]]:
    """The NAME terminal's pattern and every keyword (``parse.bare_name``), kept beside the trees
    under the same stamp: the linker's checks print formulas, which would otherwise load Lark."""
    from jxdsl.data import cache_dir

    entry = cache_dir() / "trees" / "names.json"
    stamp = hashlib.sha256(_code_stamp().encode("utf-8", "surrogatepass")).hexdigest()
    try:
        kept = json.loads(entry.read_text(encoding="utf-8"))
        if kept["stamp"] == stamp:
            return re.compile(kept["name"]), frozenset(kept["words"])
    except (OSError, ValueError, KeyError, TypeError, re.error):
        pass
    from jxdsl.parse import bare_name as from_grammar

    pattern, words = from_grammar()
    _write(entry, json.dumps({"stamp": stamp, "name": pattern, "words": words}, ensure_ascii=False).encode("utf-8"))
    return re.compile(pattern), frozenset(words)


@functools.cache
def _code_stamp() -> str:
    """What, besides the text, decides a tree: jxdsl's modules (the parser and all it imports are
    in the package's top folder) and grammar, by size and time as Python checks its bytecode;
    Lark's package; Python's version."""
    from importlib.util import find_spec

    from jxdsl.data import grammar_file

    lark = find_spec("lark")
    files = [*sorted(Path(__file__).parent.glob("*.py")), grammar_file(), *([Path(lark.origin)] if lark and lark.origin else [])]
    parts = [sys.version]
    for f in files:
        try:
            st = f.stat()
            parts.append(f"{f}:{st.st_size}:{st.st_mtime_ns}")
        except OSError:
            parts.append(f"{f}:-")
    return "\n".join(parts)
