"""The score report as Markdown, for text review: summary, the 得分表 as a pipe table, the
explanation.  Renders the same table as the other writers (``report.score_table``, ``report.grid``).

Text from the inputs (project names, evaluator notes, indicator texts) is shown as written and
never as markup: HTML is escaped (``<script>`` is text, not a tag; a ``<`` that cannot start a
tag, as in ``Y<4%``, stays as written), Markdown's punctuation is
backslash-escaped (``*`` ``_`` ``[`` … neither emphasise nor link), ``|`` stays inside its cell and
a line break becomes ``<br>`` so a cell never breaks its table row.  The explanation is a fenced
code block whose fence is longer than any run of backticks in it.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from jxdsl.evaluate import Result
from jxdsl.explain import render_explanation, total_tail
from jxdsl.link import Rulebook
from jxdsl.outfile import safe_text, write_text
from jxdsl.report import (
    _ILLEGAL,
    TEXT_COLUMNS,
    _book,
    _fmt,
    _results,
    first_levels,
    grade_counts,
    grid,
    level_names,
    rate_text,
    score_table,
    summary_rows,
)
from jxdsl.units import plain

_PUNCTUATION = re.compile(r"([\\`*_\[|~#])")  # inline markup; links, images, footnotes all need an unescaped [
_TAG = re.compile(r"<(?=[A-Za-z/!?])")  # raw HTML and autolinks start so; "Y<4%" stays as written
_ENTITY = re.compile(r"&(?=#?[0-9A-Za-z]+;)")  # "&lt;" in the input shows as "&lt;", not "<"
# a line starting a list item, a rule, a setext underline or a quote (- + = >), an ordered item (1.)
_BLOCK_START = re.compile(r"\A(\s*)(?:([-+=>])(?=[\s\-=>]|\Z)|(\d+)\.(?=\s|\Z))")


class Md(str):
    """Text that is already Markdown (bold totals): table cells pass it through unescaped."""


def md_text(value) -> str:
    """Text from the inputs as Markdown that shows it literally, on one line.

    >>> print(md_text('<img src=x onerror=alert(1)> | *甲*\\n1. 乙'), md_text('1. 甲'), md_text('- 乙'))
    &lt;img src=x onerror=alert(1)> \\| \\*甲\\*<br>1. 乙 1\\. 甲 \\- 乙
    """
    if isinstance(value, Md):
        return value
    text = safe_text(_ILLEGAL.sub("", "" if value is None else str(value)))
    text = _TAG.sub("&lt;", _ENTITY.sub("&amp;", text))
    text = _PUNCTUATION.sub(r"\\\1", text)
    text = _BLOCK_START.sub(lambda m: m[1] + (f"\\{m[2]}" if m[2] else f"{m[3]}\\."), text)
    return re.sub(r"\r\n|[\r\n\u2028\u2029\x85]", "<br>", text)


def _md_table(heads: list[str], rows: Iterable[list[str]], align: list[str]) -> list[str]:
    sep = {"l": "---", "r": "---:", "c": ":---:"}
    out = ["| " + " | ".join(md_text(h) for h in heads) + " |", "|" + "|".join(sep[a] for a in align) + "|"]
    out += ["| " + " | ".join(md_text(c) for c in row) + " |" for row in rows]
    return out


def _fence(text: str) -> str:
    """A code fence longer than any run of backticks in ``text`` (which then cannot close it)."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def render_md(results, books) -> str:
    """Markdown for text review: summary, the 得分表 as a pipe table, the explanation."""
    results = _results(results)
    out: list[str] = []
    if len(results) > 1:
        out.append(f"# 绩效评价结果汇总（{len(results)} 个项目）")
        levels = first_levels(results)
        rows = []
        for r in results:
            by_name = {x.name: x.score for x in r.indicators}
            rows.append([r.project, _fmt(r.total, r.digits) or "—", r.grade or "—", *(_fmt(by_name.get(n), r.digits) or "—" for n in levels)])
        out += ["", *_md_table(["项目", "总分", "等级", *levels], rows, ["l", "r", "c", *"r" * len(levels)])]
        out += ["", "## 等级分布", "", *_md_table(["等级", "项目数"], [[g, str(c)] for g, c in grade_counts(results, books)], ["c", "r"])]
        out.append("")
    head = "#" if len(results) == 1 else "##"
    for r in results:
        out += _md_project(r, _book(r, books), head)
    return "\n".join(out).rstrip("\n") + "\n"


def _md_project(r: Result, book: Rulebook | None, h: str) -> list[str]:
    d = r.digits
    table = score_table(r, book)
    total = plain(r.total, d) if r.total is not None else "无法计算"
    out = [f"{h} {md_text(r.project)} 绩效评价得分表", "", f"总分 **{md_text(total)}**{md_text(total_tail(r))}，等级 **{md_text(r.grade or '—')}**", ""]
    out += [f"{h}# 综合评定得分表", ""]
    out += _md_table(["一级指标", "分值", "得分", "得分率"], [[s.name, _fmt(s.weight, 4), _fmt(s.score, d) or "—", rate_text(s.rate)] for s in summary_rows(r)], ["l", "r", "r", "r"])
    out += ["", f"{h}# 得分表", ""]
    keep = [bool(any(line.explain for line in table.lines)), bool(any(line.standard for line in table.lines))]
    heads = [*level_names(table.depth)] + [n for n, k in zip(TEXT_COLUMNS[:2], keep) if k] + list(TEXT_COLUMNS[2:])
    rows = []
    for row in grid(table, label_sep=""):
        if row[0] is not None and row[0].role == "head":
            continue
        cells = []
        for c, cell in enumerate(row):
            if table.depth <= c < table.depth + 2 and not keep[c - table.depth]:
                continue
            value = "" if cell is None else _fmt(cell.value, 4 if c == table.depth + 2 else d)
            if cell is not None and cell.role == "total":
                value = Md(f"**{md_text(value)}**")
            cells.append(value)
        rows.append(cells)
    out += _md_table(heads, rows, ["l"] * table.depth + ["l"] * sum(keep) + ["r", "r", "l"])
    out += [""] + [f"- {md_text(n)}" for n in table.notes]
    explanation = safe_text(render_explanation(r))
    fence = _fence(explanation)
    out += ["", f"{h}# 逐条说明", "", f"{fence}text", explanation, fence, ""]
    return out


def write_md(results, books, path: str | Path, inputs: Iterable = ()) -> None:
    write_text(path, render_md(results, books), inputs=inputs)
