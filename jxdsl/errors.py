"""One exception hierarchy for every user-facing problem.

Errors carry a source span; the source text is attached once, at the API/CLI boundary,
so that messages can show the offending line with a caret under the column.
"""
from __future__ import annotations

import difflib
import os
from collections.abc import Iterable

import attrs

from jxdsl.files import read_regular


@attrs.frozen
class Span:
    """Where something is in a rulebook or facts file (1-based line and column)."""

    file: str
    line: int
    column: int
    end_line: int | None = None
    end_column: int | None = None

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


def suggest(word: str, candidates: Iterable[str], cutoff: float = 0.5) -> str | None:
    """The closest candidate to a misspelt word, if one is close enough."""
    pool = sorted({c for c in candidates if c and c != word})
    found = difflib.get_close_matches(word, pool, n=1, cutoff=cutoff)
    if found:
        return found[0]
    # Chinese words are short: one wrong character in two is a 0.5 ratio, so also accept
    # same-length words differing in one character.
    for cand in pool:
        if len(cand) == len(word) >= 2 and sum(a != b for a, b in zip(cand, word)) == 1:
            return cand
    return None


class JxError(Exception):
    """Base of every error jxdsl reports to a user."""

    kind = "错误"

    def __init__(self, message: str, span: Span | None = None, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.span = span
        self.hint = hint

    def render(self, sources: dict[str, str] | None = None) -> str:
        """The message as a user reads it: location, Chinese text, source line and caret."""
        head = f"{self.span}: " if self.span else ""
        lines = [f"{head}{self.kind}：{self.message}"]
        text = _source_text(self.span.file, sources) if self.span else None
        if text is not None and self.span and self.span.line >= 1:
            src_lines = text.splitlines()
            if self.span.line <= len(src_lines):
                src = src_lines[self.span.line - 1]
                lines.append(f"  {self.span.line} | {src}")
                pad = " " * (len(str(self.span.line)) + 3)
                lines.append(f"  {pad}{_caret_offset(src, self.span.column)}^")
        if self.hint:
            lines.append(f"  提示：{self.hint}")
        return "\n".join(lines)

    def with_sources(self, sources: dict[str, str]) -> "JxError":
        """Attach source texts so that ``str(error)`` shows the caret excerpt."""
        self.sources = dict(sources)
        return self

    def __str__(self) -> str:
        return self.render(getattr(self, "sources", None))


# files the tool itself read as facts (documents and tables): their lines may be shown in errors
_LOADED: set[str] = set()
MAX_EXCERPT_BYTES = {".jx": 2_000_000}  # rulebooks; other loaded files: DEFAULT_EXCERPT_BYTES
DEFAULT_EXCERPT_BYTES = 500_000_000  # facts tables the tool has just read (documents are at most 50 MB)


def remember_source(file: str) -> None:
    """Mark a file the tool read as facts text, so that an error may show its lines."""
    _LOADED.add(str(file))


def _source_text(file: str, sources: dict[str, str] | None) -> str | None:
    """The text of the file an error points into: given, or read from disk when it is a file the
    tool read as facts or a rulebook (.jx, also after following links), a regular file within the
    size limit.  Anything else (an absolute 继承 path to a system file) is never excerpted."""
    if sources and file in sources:
        return sources[file]
    try:
        real = os.path.realpath(file)
    except (OSError, ValueError):
        return None
    rulebook = file.endswith(".jx") and real.endswith(".jx")
    if not (rulebook or file in _LOADED):
        return None
    try:
        raw, longer = read_regular(real, MAX_EXCERPT_BYTES[".jx"] if rulebook else DEFAULT_EXCERPT_BYTES)
        return None if longer else raw.decode("utf-8-sig")
    except (OSError, UnicodeDecodeError, ValueError):
        return None


def _caret_offset(src: str, column: int) -> str:
    """Spaces up to the column, counting wide (CJK, full-width) characters as two cells."""
    out = []
    for ch in src[: max(column - 1, 0)]:
        if ch == "\t":
            out.append("\t")
        elif _is_wide(ch):
            out.append("  ")
        else:
            out.append(" ")
    return "".join(out)


def _is_wide(ch: str) -> bool:
    import unicodedata

    return unicodedata.east_asian_width(ch) in ("W", "F")


class RulebookSyntaxError(JxError):
    """The rulebook text does not follow the language."""

    kind = "语法错误"


class LinkError(JxError):
    """The rulebook parses but its parts do not fit together (weights, names, inheritance)."""

    kind = "规则错误"


class RulebookWarning(JxError):
    """Something in a rulebook that is legal but easily a slip; ``check`` prints it and exits 0."""

    kind = "注意"


class FactError(JxError):
    """A fact or evaluator record is missing, malformed or contradicts the rule."""

    kind = "数据错误"


class UsageError(JxError):
    """The command was called wrongly (missing file, unknown format)."""

    kind = "用法错误"


class ErrorGroup(JxError):
    """Several errors found in one pass; checks report all of them, not just the first."""

    kind = "错误"

    def __init__(self, errors: list[JxError]):
        self.errors = list(errors)
        super().__init__(f"共 {len(self.errors)} 处错误", None)

    def render(self, sources: dict[str, str] | None = None, limit: int = 50) -> str:
        sources = sources or getattr(self, "sources", None)
        shown = [e.render(sources) for e in self.errors[:limit]]
        if len(self.errors) > limit:
            shown.append(f"……另有 {len(self.errors) - limit} 处错误未列出")
        return "\n\n".join(shown)


class CompileError(JxError):
    """A rulebook uses rules the batch (SQL) engine does not compile; use the interpreter."""

    kind = "编译错误"
