"""``jxdsl lsp``: a language server over stdio, so that an editor shows what ``jxdsl check`` shows,
while the rulebook is typed.

Diagnostics come from ``workbench.check`` (the same errors as ``check``, for unsaved text); hover,
go-to-definition and completion read the linked rulebook and its parent.  "Which name is under the
cursor" is answered from the AST's spans (``occurrences``), not from regexes over the text.  Every
position inside is a 1-based line and character column, as ``Span`` has it; the client's units
(UTF-16 by default) are converted only at the protocol's edge.  pygls is imported by ``serve`` alone,
so the other commands never load it.
"""
from __future__ import annotations

import functools
import os
from pathlib import Path

import attrs

from jxdsl import ast, trees, workbench
from jxdsl.errors import JxError, Span, UsageError
from jxdsl.link import LinkedIndicator, Linker, Rulebook
from jxdsl.resolve import Resolver, parent_span, shown

_QUOTES = {'"': '"', "“": "”", "「": "」"}
_PATH_KEYWORDS = ("调整", "替换", "删除", "新增")  # lines whose path names an indicator of the parent


@attrs.frozen
class Occurrence:
    """A name written in the document: where (1-based line, columns [start, end)), what it names."""

    line: int
    start: int
    end: int
    kind: str  # "indicator" | "fact" | "derived" | "value" (a name read in a formula) | "parent"
    key: tuple[str, ...]  # an indicator's path; for the others, the name alone
    in_parent: bool = False  # a path after 调整/替换/删除/新增: it names the parent's indicator


# ---- the names of a document --------------------------------------------------------------------
def occurrences(doc: ast.Document, text: str) -> list[Occurrence]:
    """Every indicator, fact, derived value and parent name written in ``doc``, in order."""
    lines = text.replace("\r\n", "\n").split("\n")
    out: list[Occurrence] = []
    for st in doc.statements:
        _visit(st, (), lines, out)
    return out


def _line(lines: list[str], n: int) -> str:
    return lines[n - 1] if 0 < n <= len(lines) else ""


def _extent(src: str, column: int, name: str) -> int:
    """The column after ``name`` written at ``column``, with its quotes when it is quoted."""
    i = column - 1
    if src[i:i + 1] in _QUOTES:
        close = src.find(_QUOTES[src[i]], i + 1)
        return close + 2 if close >= 0 else column + len(name)
    return column + len(name)


def _name_at(span: Span | None, name: str, kind: str, key: tuple[str, ...], lines, out) -> None:
    if span is not None:
        out.append(Occurrence(span.line, span.column, _extent(_line(lines, span.line), span.column, name), kind, key))


def _path_at(span: Span | None, keyword: str, path: tuple[str, ...], lines, out) -> None:
    """The segments of the path after ``keyword`` on the statement's first line, each naming the
    parent's indicator at that depth."""
    if span is None:
        return
    src = _line(lines, span.line)
    i = span.column - 1 + len(keyword)
    for depth, name in enumerate(path, 1):
        while i < len(src) and (src[i].isspace() or src[i] in "/／÷"):
            i += 1
        if src[i:i + 1] not in _QUOTES and not src.startswith(name, i):
            found = src.find(name, i)  # a separator the loop above does not know: take the name itself
            if found < 0:
                return
            i = found
        end = _extent(src, i + 1, name)
        out.append(Occurrence(span.line, i + 1, end, "indicator", path[:depth], in_parent=True))
        i = end - 1


@functools.singledispatch
def _visit(node, prefix: tuple[str, ...], lines, out) -> None:
    """Any other node: its names are in its fields (formulas' references, rules, children)."""
    if isinstance(node, tuple):
        for item in node:
            _visit(item, prefix, lines, out)
    elif attrs.has(type(node)):
        for field in attrs.fields(type(node)):
            if field.name != "span":
                _visit(getattr(node, field.name), prefix, lines, out)


@_visit.register
def _(node: ast.Ref, prefix, lines, out) -> None:
    _name_at(node.span, node.name, "value", (node.name,), lines, out)


@_visit.register
def _(node: ast.Indicator, prefix, lines, out) -> None:
    path = (*prefix, node.name)
    _name_at(node.span, node.name, "indicator", path, lines, out)
    _body(node, path, lines, out)


def _body(node: ast.Indicator, path: tuple[str, ...], lines, out) -> None:
    for field in attrs.fields(ast.Indicator):
        if field.name not in ("span", "name"):
            _visit(getattr(node, field.name), path, lines, out)


@_visit.register
def _(node: ast.Replace, prefix, lines, out) -> None:
    _path_at(node.span, "替换", node.path, lines, out)
    _body(node.indicator, node.path, lines, out)


@_visit.register
def _(node: ast.Adjust, prefix, lines, out) -> None:
    _path_at(node.span, "调整", node.path, lines, out)
    _visit((node.rule,), node.path, lines, out)


@_visit.register
def _(node: ast.Remove, prefix, lines, out) -> None:
    _path_at(node.span, "删除", node.path, lines, out)


@_visit.register
def _(node: ast.Add, prefix, lines, out) -> None:
    _path_at(node.span, "新增", node.parent, lines, out)
    _visit(node.indicators, node.parent, lines, out)


@_visit.register
def _(node: ast.FactDecl, prefix, lines, out) -> None:
    _name_at(node.span, node.name, "fact", (node.name,), lines, out)


@_visit.register
def _(node: ast.Derived, prefix, lines, out) -> None:
    _name_at(node.span, node.name, "derived", (node.name,), lines, out)
    _visit(node.expr, prefix, lines, out)


@_visit.register
def _(node: ast.RulebookDecl, prefix, lines, out) -> None:
    if node.parent is None or node.span is None:
        return
    text = "\n".join(lines)
    at = parent_span(node.span, node.parent, text)
    if at is not None and at.column != node.span.column:
        out.append(Occurrence(at.line, at.column, _extent(_line(lines, at.line), at.column, node.parent), "parent", (node.parent,)))


def occurrence_at(found: list[Occurrence], line: int, column: int) -> Occurrence | None:
    """The name under the cursor (1-based); a cursor just after a name still means it."""
    for occ in found:
        if occ.line == line and occ.start <= column <= occ.end:
            return occ
    return None


# ---- one open document -------------------------------------------------------------------------
class Analysis:
    """One version of an open rulebook: its check, its syntax tree (without the statements that do
    not parse), and its linked rulebook, the last one that linked while the text has errors."""

    def __init__(self, path: str, text: str, before: "Analysis | None" = None):
        self.path, self.text = path, text
        self.checked = workbench.check(path, text)
        try:
            self.doc: ast.Document = trees.load(shown(Path(path)), text)[0]  # named as the linker names it: its cached tree
        except JxError:
            self.doc = _parse_around_errors(path, text)
        self.book: Rulebook | None = self.checked.book or (before.book if before else None)
        self.stale = self.checked.book is None  # the book is the last one that linked, not this text

    @functools.cached_property
    def occurrences(self) -> list[Occurrence]:
        return occurrences(self.doc, self.text)

    @functools.cached_property
    def parent(self) -> Rulebook | None:
        """The parent rulebook as saved (``check`` reads parents from disk)."""
        where = self.parent_file
        if where is None:
            return None
        try:
            return workbench.link(where)
        except JxError:
            return None

    @functools.cached_property
    def parent_file(self) -> str | None:
        if self.book is not None and self.book.parent is not None and len(self.book.files) >= 2:
            return self.book.files[-2]
        decl = self.decl
        if decl is None or decl.parent is None:
            return None
        try:
            return str(Resolver(Linker().search_paths).find(decl.parent, Path(self.path), None))
        except JxError:
            return None

    @property
    def decl(self) -> ast.RulebookDecl | None:
        return next((s for s in self.doc.statements if isinstance(s, ast.RulebookDecl)), None)

    @functools.cached_property
    def rows(self) -> dict[tuple[str, ...], dict]:
        """``workbench.tree_json``'s rows by path: status, changes and sums as the workbench shows them."""
        if self.book is None:
            return {}
        return {tuple(r["path"]): r for r in workbench.tree_json(self.book, self.path)["indicators"]}

    @functools.cached_property
    def needs(self):
        from jxdsl.template import needs

        return needs(self.book) if self.book is not None else None


def _parse_around_errors(path: str, text: str) -> ast.Document:
    """The document without the top-level statements that do not parse: the names of the others
    stay under the cursor while one line is being typed.  Each statement is parsed on its own at its
    own lines (and kept: between two keystrokes only the edited one is parsed again)."""
    lines = text.replace("\r\n", "\n").split("\n")
    starts = [n for n, line in enumerate(lines) if line[:1] not in ("", " ", "\t", "\u3000", "#", "＃")] + [len(lines)]
    statements = []
    for start, end in zip(starts, starts[1:]):
        statements += _statements(path, start, "\n".join(lines[start:end]))
    return ast.Document(tuple(statements), file=path)


@functools.lru_cache(maxsize=1024)
def _statements(path: str, start: int, chunk: str) -> tuple:
    from jxdsl.parse import parse

    try:
        return parse("\n" * start + chunk, path).statements
    except JxError:
        return ()


def _find(book: Rulebook | None, path: tuple[str, ...]) -> LinkedIndicator | None:
    if book is None:
        return None
    return next((i for i in book.walk() if i.path == path), None)


# ---- what the server answers ---------------------------------------------------------------------
def problems(a: Analysis) -> list[dict]:
    """The check's errors and warnings as diagnostics in this document (1-based): an error in a
    parent is shown at the 继承 line, with where it is as related information."""
    out = []
    for severity, errs in (("error", a.checked.errors), ("warning", a.checked.warnings)):
        for err in errs:
            p = workbench.problem_json(err, a.checked.sources)
            message = p["message"] + (f"\n提示：{p['hint']}" if p["hint"] else "")
            d = {"severity": severity, "message": message, "kind": p["kind"], "related": None}
            if p["file"] is None or _same_file(p["file"], a.path):
                d.update(line=p["line"] or 1, column=p["column"] or 1, end_line=p["end_line"] or 1, end_column=p["end_column"] or 2)
            else:
                d.update(_inherit_line(a))
                d["message"] = f"被继承的规则集有错误（{p['file']}:{p['line']}）：{message}"
                d["related"] = {"file": p["file"], "line": p["line"] or 1, "column": p["column"] or 1, "message": p["message"]}
            out.append(d)
    return out


def _inherit_line(a: Analysis) -> dict:
    parent = next((o for o in a.occurrences if o.kind == "parent"), None)
    if parent is not None:
        return {"line": parent.line, "column": parent.start, "end_line": parent.line, "end_column": parent.end}
    return {"line": 1, "column": 1, "end_line": 1, "end_column": 2}


def _same_file(a: str, b: str) -> bool:
    return os.path.realpath(a) == os.path.realpath(b)


def hover(a: Analysis, occ: Occurrence) -> str | None:
    """Markdown for the name under the cursor."""
    if occ.kind == "indicator":
        return _indicator_hover(a, occ)
    if occ.kind == "parent":
        return f"**{occ.key[0]}**（被继承的规则集）\n\n文件：{a.parent_file}" if a.parent_file else None
    return _value_hover(a, occ.key[0])


_STATUS = {"own": "本文件定义", "inherited": "继承自父规则集，未改", "changed": "本文件修改", "added": "本文件新增"}


def _indicator_hover(a: Analysis, occ: Occurrence) -> str | None:
    row = a.rows.get(occ.key)
    if row is None:  # a removed indicator, or a path that does not link: the parent's
        ind = _find(a.parent, occ.key)
        if ind is None:
            return None
        return "\n\n".join([f"**{'/'.join(ind.path)}**（父规则集中的指标）", f"权重 {_plain(ind.weight)}", f"定义于 {ind.origin}"])
    parts = [f"**{'/'.join(row['path'])}**", f"权重 {row['weight']}"]
    if row["children_sum"] is not None:
        parts[-1] += f"，下级合计 {row['children_sum']}" + ("" if row["sum_ok"] else "（与权重不等）")
    if row["rule"]:
        parts.append(f"计分规则：{row['rule']}")
    where = f"定义于 {row['source']}（{_STATUS[row['status']]}"
    where += "：" + "；".join(_short(c) for c in row["changes"]) + "）" if row["changes"] else "）"
    parts.append(where)
    if a.stale:
        parts.append("（按上一次没有错误的文本）")
    return "\n\n".join(parts)


def _short(change: str, limit: int = 80) -> str:
    """A change as a hover line: a changed 标准 text can run to hundreds of characters."""
    return change if len(change) <= limit else change[: limit - 1] + "…"


def _plain(v) -> str:
    from jxdsl.units import plain

    return plain(v, 4)


def _value_hover(a: Analysis, name: str) -> str | None:
    book = a.book
    if book is None:
        return None
    derived = next((d for d in book.derived if d.name == name), None)
    if derived is not None:
        from jxdsl.formulas import formula_text

        return f"**{name}**（派生值）\n\n= {formula_text(derived.expr)}\n\n定义于 {derived.span}"
    fact = book.facts.get(name)
    implicit = name in book.implicit_facts()
    if fact is None and not implicit:
        return None
    parts = [f"**{name}**（事实，{fact.type if fact and fact.type else '类型未注明'}）"]
    if fact is not None and fact.description:
        parts.append(fact.description)
    readers = a.needs.facts.get(name, (None, []))[1] if a.needs is not None else []
    parts.append("读取它的指标：" + ("、".join(readers) if readers else "（无）"))
    if fact is not None and fact.span is not None:
        parts.append(f"声明于 {fact.span}")
    return "\n\n".join(parts)


def definition(a: Analysis, occ: Occurrence) -> Span | None:
    """Where the name under the cursor is defined: the parent's indicator for a path after
    调整/替换/删除/新增, the parent's file for the 继承 name, a fact's or derived value's declaration."""
    if occ.kind == "parent":
        return Span(a.parent_file, 1, 1) if a.parent_file else None
    if occ.kind == "indicator":
        ind = _find(a.parent if occ.in_parent else a.book, occ.key)
        return ind.origin if ind is not None else None
    book = a.book
    if book is None:
        return None
    derived = next((d for d in book.derived if d.name == occ.key[0]), None)
    if derived is not None:
        return derived.span
    fact = book.facts.get(occ.key[0])
    return fact.span if fact is not None else None


def completions(a: Analysis, line: str) -> list[tuple[str, str, str]]:
    """(label, kind, detail) for the cursor's line: the language's keywords, the indicator paths of
    the linked rulebook (and of the parent after 调整/替换/删除/新增), the facts and derived values."""
    from jxdsl.parse import keywords
    from jxdsl.printer import path_text

    out = [(k, "keyword", "关键字") for k in sorted(keywords())]
    books = [a.book]
    if line.lstrip(" \t\u3000").startswith(_PATH_KEYWORDS):
        books.append(a.parent)
    seen: set[str] = set()
    for book, detail in zip(books, ("指标", "父规则集的指标")):
        for ind in book.walk() if book is not None else ():
            label = path_text(ind.path)
            if label not in seen:
                seen.add(label)
                out.append((label, "indicator", f"{detail}，权重 {_plain(ind.weight)}"))
    if a.book is not None:
        out += [(name, "fact", f"事实，{f.type or '类型未注明'}") for name, f in a.book.facts.items()]
        out += [(d.name, "derived", "派生值") for d in a.book.derived]
    return out


# ---- the protocol --------------------------------------------------------------------------------
def serve() -> None:
    """Run the language server on stdin/stdout until the client says exit."""
    try:
        from lsprotocol import types as lsp
        from pygls.lsp.server import LanguageServer
    except ImportError as e:  # only this command needs pygls
        raise UsageError(f"语言服务器需要 Python 包 pygls（缺少 {e.name}）：请运行 pip install pygls") from None
    from importlib.metadata import version

    server = LanguageServer("jxdsl", version("jxdsl"), text_document_sync_kind=lsp.TextDocumentSyncKind.Full)
    docs: dict[str, Analysis] = {}

    def codec():
        return server.workspace.position_codec

    def lines_of(text: str) -> list[str]:
        return text.replace("\r\n", "\n").split("\n")

    def position(lines: list[str], line: int, column: int):
        """1-based character line and column → the client's Position."""
        src = lines[line - 1] if 0 < line <= len(lines) else ""
        return lsp.Position(line=max(line - 1, 0), character=codec().client_num_units(src[: max(column - 1, 0)]))

    def rng(lines, line, column, end_line, end_column):
        return lsp.Range(start=position(lines, line, column), end=position(lines, end_line, end_column))

    def location(span: Span):
        path = Path(span.file).resolve()
        try:
            lines = lines_of(path.read_text(encoding="utf-8-sig"))
        except OSError:
            lines = []
        end = span.column
        if span.line <= len(lines):
            src = lines[span.line - 1]
            end = span.column + len(src[span.column - 1:].split(maxsplit=1)[0]) if src[span.column - 1:].strip() else span.column
        return lsp.Location(uri=path.as_uri(), range=rng(lines, span.line, span.column, span.line, end))

    def cursor(uri: str, pos) -> tuple[Analysis, int, int] | None:
        a = docs.get(uri)
        if a is None:
            return None
        lines = lines_of(a.text)
        src = lines[pos.line] if pos.line < len(lines) else ""
        column, units = 0, 0
        while column < len(src) and units < pos.character:  # client units → characters
            units += codec().client_num_units(src[column])
            column += 1
        return a, pos.line + 1, column + 1

    def refresh(uri: str, version: int | None) -> None:
        doc = server.workspace.get_text_document(uri)
        a = docs[uri] = Analysis(doc.path, doc.source, docs.get(uri))
        lines = lines_of(a.text)
        diagnostics = []
        for p in problems(a):
            related = None
            if p["related"]:
                r = p["related"]
                related = [lsp.DiagnosticRelatedInformation(location=location(Span(r["file"], r["line"], r["column"])), message=r["message"])]
            diagnostics.append(lsp.Diagnostic(
                range=rng(lines, p["line"], p["column"], p["end_line"], p["end_column"]),
                message=p["message"], source="jxdsl", code=p["kind"], related_information=related,
                severity=lsp.DiagnosticSeverity.Error if p["severity"] == "error" else lsp.DiagnosticSeverity.Warning,
            ))
        server.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics, version=version))

    @server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls, params: lsp.DidOpenTextDocumentParams):
        refresh(params.text_document.uri, params.text_document.version)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls, params: lsp.DidChangeTextDocumentParams):
        refresh(params.text_document.uri, params.text_document.version)

    @server.feature(lsp.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls, params: lsp.DidSaveTextDocumentParams):
        refresh(params.text_document.uri, None)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls, params: lsp.DidCloseTextDocumentParams):
        docs.pop(params.text_document.uri, None)
        server.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri=params.text_document.uri, diagnostics=[]))

    @server.feature(lsp.TEXT_DOCUMENT_HOVER)
    def on_hover(ls, params: lsp.HoverParams):
        at = cursor(params.text_document.uri, params.position)
        occ = occurrence_at(at[0].occurrences, at[1], at[2]) if at else None
        text = hover(at[0], occ) if occ else None
        if text is None:
            return None
        lines = lines_of(at[0].text)
        return lsp.Hover(contents=lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=text),
                         range=rng(lines, occ.line, occ.start, occ.line, occ.end))

    @server.feature(lsp.TEXT_DOCUMENT_DEFINITION)
    def on_definition(ls, params: lsp.DefinitionParams):
        at = cursor(params.text_document.uri, params.position)
        occ = occurrence_at(at[0].occurrences, at[1], at[2]) if at else None
        span = definition(at[0], occ) if occ else None
        return location(span) if span is not None else None

    kinds = {"keyword": lsp.CompletionItemKind.Keyword, "indicator": lsp.CompletionItemKind.Field,
             "fact": lsp.CompletionItemKind.Variable, "derived": lsp.CompletionItemKind.Function}

    @server.feature(lsp.TEXT_DOCUMENT_COMPLETION, lsp.CompletionOptions(trigger_characters=["/"]))
    def on_completion(ls, params: lsp.CompletionParams):
        at = cursor(params.text_document.uri, params.position)
        if at is None:
            return None
        a, line, column = at
        lines = lines_of(a.text)
        src = lines[line - 1] if line <= len(lines) else ""
        start = column - 1  # the word being typed: back to the last space, so a whole path is replaced
        while start > 0 and not src[start - 1].isspace():
            start -= 1
        replace = rng(lines, line, start + 1, line, column)
        items = [lsp.CompletionItem(label=label, kind=kinds[kind], detail=detail, filter_text=label,
                                    text_edit=lsp.TextEdit(range=replace, new_text=label))
                 for label, kind, detail in completions(a, src)]
        return lsp.CompletionList(is_incomplete=False, items=items)

    server.start_io()
