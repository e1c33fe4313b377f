"""The workbench's questions about a rulebook being edited: its errors, its indicator tree, and a
project's score under it, for text that is not saved yet.

The web workbench (``serve.py``) and the language server (``lsp.py``) both ask here, so an editor
shows exactly what ``jxdsl check`` and ``jxdsl explain`` print for the same text.  Everything
returned is JSON-ready (docs/api.md).
"""
from __future__ import annotations

import copy
import os
from fractions import Fraction
from pathlib import Path

import attrs

from jxdsl.errors import ErrorGroup, FactError, JxError, UsageError
from jxdsl.link import LinkedIndicator, Linker, Rulebook
from jxdsl.units import plain


@attrs.frozen
class Checked:
    """A linked rulebook (None when it has errors), its errors and warnings, and the texts they point into;
    ``tree`` is the rulebook whose indicator tree the editor shows: ``book``, or the one linked before
    its checks failed (a weight changed and its sums no longer agree), else None."""

    book: Rulebook | None
    errors: tuple[JxError, ...]
    warnings: tuple[JxError, ...]
    sources: dict[str, str]
    tree: Rulebook | None = None


def link(path: str | Path, text: str | None = None, search_paths: list[Path] | None = None) -> Rulebook:
    """The rulebook at ``path`` linked with ``text`` standing for its unsaved content (its parents
    are read from disk, as ``check`` reads them)."""
    edited = {path: text} if text is not None else None
    return Linker(search_paths, edited=edited).load(path)


def check(path: str | Path, text: str, search_paths: list[Path] | None = None) -> Checked:
    """``jxdsl check`` on unsaved text: every error the linker finds, or the rulebook and its warnings."""
    try:
        book = link(path, text, search_paths)
    except ErrorGroup as group:
        return Checked(None, tuple(group.errors), (), _sources(group, path, text), getattr(group, "linked", None))
    except JxError as err:
        return Checked(None, (err,), (), _sources(err, path, text))
    return Checked(book, (), tuple(book.warnings), dict(book.sources), book)


def _sources(err: JxError, path, text: str) -> dict[str, str]:
    """The texts an error may point into; the edited file's is the unsaved text, never the disk's."""
    from jxdsl.resolve import shown

    got = dict(getattr(err, "sources", None) or {})
    got[str(shown(Path(path)))] = text
    return got


def problem_json(err: JxError, sources: dict[str, str], shown=lambda file: file) -> dict:
    """An error as the editor underlines it: kind, message, hint, 1-based start and end (the end
    is the span's own, else the end of the word under the start), and the text ``check`` prints;
    ``shown`` maps file names to those the editor uses."""
    span = err.span
    if span is not None:
        shown_err = copy.copy(err)
        shown_err.span = attrs.evolve(span, file=shown(span.file))
        text = shown_err.render({shown(k): v for k, v in sources.items()})
    else:
        text = err.render(sources)
    out = {"kind": err.kind, "message": err.message, "hint": err.hint, "text": text,
           "file": None, "line": None, "column": None, "end_line": None, "end_column": None}
    if span is None:
        return out
    line, column = max(span.line, 1), max(span.column, 1)
    end_line, end_column = span.end_line, span.end_column
    if end_line is None or end_column is None or (end_line, end_column) <= (line, column):
        end_line, end_column = line, _word_end(_line_of(sources.get(span.file), line), column)
    out.update(file=shown(span.file), line=line, column=column, end_line=end_line, end_column=end_column)
    return out


def _line_of(text: str | None, line: int) -> str:
    lines = (text or "").splitlines()
    return lines[line - 1] if 0 < line <= len(lines) else ""


def _word_end(src: str, column: int) -> int:
    """The column just after the word that starts at ``column`` (at least one character)."""
    i = column - 1
    if i >= len(src):
        return column + 1
    if not (src[i].isalnum() or src[i] in "_%.·★"):
        return column + 1
    j = i
    while j < len(src) and (src[j].isalnum() or src[j] in "_%.·★"):
        j += 1
    return j + 1


# ---- the indicator tree -------------------------------------------------------------------------
def tree_json(book: Rulebook, path: str | Path, search_paths: list[Path] | None = None, shown=lambda file: file) -> dict:
    """The linked indicator tree as the editor shows it beside the text: weights, the sum of each
    group's children, the rule, where each indicator was last defined (file:line), and whether this
    file added it, changed it (with what changed, as ``diff`` words it) or inherits it unchanged."""
    from jxdsl.diff import diff
    from jxdsl.explain import describe_rule

    parent = _parent(book, search_paths)
    changes: dict[tuple[str, ...], list[str]] = {}
    removed = []
    if parent is not None:
        for c in diff(parent, book):
            if c.kind == "removed":
                removed.append({"path": list(c.path), "was": c.old})
            elif c.path:
                changes.setdefault(tuple(c.path), []).append(_change_words(c))
    own_file = _same_file(path)
    parent_paths = {i.path for i in parent.walk()} if parent is not None else set()
    rows = []

    def walk(ind: LinkedIndicator, depth: int) -> None:
        here = ind.origin is not None and own_file(ind.origin.file)
        if parent is None:
            status = "own"
        elif ind.path not in parent_paths:
            status = "added"
        elif here or ind.path in changes:
            status = "changed"
        else:
            status = "inherited"
        kids = sum((c.weight for c in ind.children), Fraction(0))
        rows.append({
            "path": list(ind.path), "name": ind.name, "depth": depth, "weight": plain(ind.weight, 4),
            "children_sum": plain(kids, 4) if ind.children else None,
            "sum_ok": kids == ind.weight if ind.children else None,
            "rule": describe_rule(ind.rule) if ind.rule is not None else None,
            "status": status, "changes": changes.get(ind.path, []),
            "file": shown(ind.origin.file) if ind.origin else None, "line": ind.origin.line if ind.origin else None,
            "source": f"{shown(ind.origin.file)}:{ind.origin.line}" if ind.origin else None,
        })
        for c in ind.children:
            walk(c, depth + 1)

    for ind in book.indicators:
        walk(ind, 0)
    return {
        "name": book.name, "parent": book.parent, "version": book.version, "max": plain(book.max, 4),
        "declared_max": plain(book.declared_max, 4) if book.declared_max is not None else None,
        "grades": [{"grade": g, "op": op, "bound": plain(b, 4)} for g, op, b in book.grades] + [{"grade": book.lowest_grade, "op": None, "bound": None}],
        "files": [shown(f) for f in book.files], "indicators": rows, "removed": removed,
    }


def _parent(book: Rulebook, search_paths) -> Rulebook | None:
    if book.parent is None or len(book.files) < 2:
        return None
    try:
        return Linker(search_paths).load(book.files[-2])
    except JxError:
        return None


def _same_file(path):
    want = os.path.realpath(path)
    return lambda f: os.path.realpath(f) == want


def _change_words(c) -> str:
    label = {"weight": "权重", "rule": "计分规则", "na": "不适用", "rounding": "小数", "merge": "并入", "text": c.field or "文字",
             "items": "清单", "vetoes": "否决条件", "survey": "问卷", "added": "新增"}.get(c.kind, c.kind)
    if c.kind == "added":
        return f"新增：{c.new}"
    return f"{label}：{_words(c.old)} → {_words(c.new)}"


def _words(v) -> str:
    if v is None:
        return "（无）"
    if isinstance(v, list):
        return "；".join(map(str, v)) or "（无）"
    return str(v)


# ---- scoring one project ------------------------------------------------------------------------
def project_inputs(book: Rulebook, facts_path: str | Path, project: str | None = None):
    """(project names in the file, the chosen project's ``ProjectInputs``): the first project when
    none is named, read as ``explain`` reads it (the interpreter's path)."""
    from jxdsl.batch import open_run

    run = open_run(book, facts_path, engine="interpreter", project=project)
    try:
        if not run.pids:
            raise FactError(f"“{facts_path}”中没有项目")
        names = [p.project for p in run.inputs(run.pids)] if project is None else [project]
        return names, run.inputs(run.pids[:1])[0]
    finally:
        if run.con is not None:
            run.con.close()


def score(book: Rulebook, inputs, overrides: dict[str, str] | None = None) -> dict:
    """The project's result as the JSON contract gives it, and the explanation ``explain`` prints;
    ``overrides`` replace facts by name (the what-if slider)."""
    from jxdsl.evaluate import evaluate
    from jxdsl.explain import render_explanation, to_json
    from jxdsl.lower import lower

    from jxdsl.whatif import with_fact

    for name, value in (overrides or {}).items():
        if len(value) > 200:
            raise UsageError(f"事实“{name}”的值过长（超过 200 个字符）")
        inputs = with_fact(inputs, name, value)
    result = evaluate(lower(book), inputs)
    return {"result": to_json(result), "explanation": render_explanation(result)}


def numeric_facts(book: Rulebook, inputs) -> list[dict]:
    """The project's facts that the rulebook reads and that are numbers: what a what-if can vary."""
    from jxdsl.units import DATE, TEXT, parse_quantity

    out = []
    for name, fact in inputs.facts.items():
        if fact.text is None:
            continue
        try:
            q = parse_quantity(fact.text)
        except JxError:
            continue
        if q is None or q.dim in (TEXT, DATE) or not isinstance(q.value, Fraction):
            continue
        out.append({"name": name, "text": fact.text, "unit": q.unit, "value": str(q.value)})
    return out
