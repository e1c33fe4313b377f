"""The score report as one self-contained HTML page: inline CSS and SVG charts, no external
resource (it opens offline on a bureau's intranet).  Renders the same table as the other writers
(``report.score_table``, ``report.grid``)."""
from __future__ import annotations

import html
import itertools
import json
from fractions import Fraction
from pathlib import Path

from jxdsl.evaluate import Result
from jxdsl.explain import render_explanation, total_tail
from jxdsl.link import Rulebook
from jxdsl.outfile import write_text
from jxdsl.report import (
    _ILLEGAL,
    FONT_STACK,
    TOTAL,
    ScoreTable,
    _book,
    _display_width,
    _fmt,
    first_levels,
    grade_counts,
    grid,
    histogram,
    rate_text,
    score_table,
    summary_rows,
)
from jxdsl.units import plain

_CSS = """
:root { color-scheme: light; }
body { font-family: %(font)s; margin: 24px; color: #1a1a1a; line-height: 1.5; }
h1 { font-size: 22px; margin: 0 0 8px; }
h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 2px solid #3b6ea5; padding-bottom: 4px; }
h3 { font-size: 15px; margin: 20px 0 6px; }
.meta { color: #555; font-size: 13px; }
.total { font-size: 16px; }
.total strong { font-size: 20px; color: #1f4e79; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 13px; }
th, td { border: 1px solid #9a9a9a; padding: 4px 6px; vertical-align: middle; }
th { background: #d9e1f2; position: sticky; top: 0; white-space: nowrap; }
td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
td.level { text-align: center; min-width: 5em; }
td.text { min-width: 12em; font-size: 12px; color: #333; }
td.note { min-width: 16em; font-size: 12px; }
tr.sum td { background: #f2f2f2; font-weight: bold; }
td.lost { color: #b03a2e; }
pre.explain { white-space: pre-wrap; background: #f7f7f7; border: 1px solid #ddd; padding: 12px; font-size: 13px; font-family: %(font)s; }
svg text { font-family: %(font)s; font-size: 13px; fill: #1a1a1a; }
svg .bar { fill: #3b6ea5; }
svg .bar.low { fill: #c0504d; }
svg .grid { stroke: #ddd; stroke-width: 1; }
svg .axis { stroke: #888; stroke-width: 1; }
svg .small { font-size: 11px; fill: #555; }
.notes { font-size: 12px; color: #555; }
nav ol { columns: 2; font-size: 13px; }
@media print { th { position: static; } section.project { page-break-before: always; } }
@page { size: A4 landscape; margin: 12mm; }
""" % {"font": FONT_STACK}


def _e(value) -> str:
    return html.escape(_ILLEGAL.sub("", "" if value is None else str(value)), quote=True)


def render_html(results, books, show_progress: bool = False, total: int | None = None) -> str:
    """One self-contained page: no scripts, fonts, images or styles from anywhere else.  Up to
    ``report_book.PER_PROJECT_SHEETS`` projects: each project in full; more: the summary-first digest
    (results may then be a stream)."""
    from jxdsl import report_book

    head, rest = report_book.split_batch(results)
    many = len(head) > report_book.PER_PROJECT_SHEETS
    title = f"{head[0].project} 绩效评价报告" if len(head) == 1 else f"绩效评价结果汇总（{len(head)} 个项目）"
    parts = ['<!DOCTYPE html>\n<html lang="zh-CN">\n<head>\n<meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             "", f"<style>{_CSS}</style>\n</head>\n<body>"]
    if many:
        tally = report_book.Tally(books)
        bar = report_book.progress(show_progress, total)
        try:
            for r in itertools.chain(head, rest):
                tally.add(r)
                bar.advance()
        finally:
            bar.close()
        title = f"绩效评价结果汇总（{len(tally.projects)} 个项目）"
        parts.append(f"<h1>{_e(title)}</h1>")
        parts.append(_html_digest(tally, head, books))
    elif len(head) == 1:
        parts.append(_html_project(head[0], _book(head[0], books), 1, single=True))
    else:
        parts.append(f"<h1>{_e(title)}</h1>")
        parts.append(_html_overview(head, books))
        for i, r in enumerate(head, start=1):
            parts.append(_html_project(r, _book(r, books), i, single=False))
    parts[2] = f"<title>{_e(title)}</title>"
    parts.append("</body>\n</html>\n")
    return "\n".join(parts)


def write_html(results, books, path: str | Path, inputs=(), show_progress: bool = False, total: int | None = None) -> None:
    write_text(path, render_html(results, books, show_progress, total), inputs=inputs)


def _html_project(r: Result, book: Rulebook | None, index: int, single: bool) -> str:
    d = r.digits
    h, sub = ("h1", "h2") if single else ("h2", "h3")
    total = plain(r.total, d) if r.total is not None else "无法计算"
    out = [f'<section class="project" id="p{index}">', f"<{h}>{_e(r.project)} 绩效评价报告</{h}>"]
    out.append(f'<p class="total">总分 <strong>{_e(total)}</strong>{_e(total_tail(r))}，等级 <strong>{_e(r.grade or "—")}</strong></p>')
    version = f"（版本 {r.version}）" if r.version else ""
    out.append(f'<p class="meta">规则集：{_e(r.rulebook)}{_e(version)}，内容摘要 {_e(r.content_hash[:12])}</p>')
    out.append(f"<{sub}>综合评定得分表</{sub}>")
    out.append(_html_summary(r))
    out.append(_svg_rates(r))
    table = score_table(r, book)
    out.append(f"<{sub}>绩效评价得分表</{sub}>")
    out.append(_html_score_table(table))
    out.append(f"<{sub}>逐条说明</{sub}>")
    out.append(f'<pre class="explain">{_e(render_explanation(r))}</pre>')
    out.append("</section>")
    return "\n".join(out)


def _html_summary(r: Result) -> str:
    rows = ['<table class="summary">',
            "<thead><tr><th>一级指标</th><th>分值</th><th>得分</th><th>得分率</th></tr></thead><tbody>"]
    for s in summary_rows(r):
        cls = ' class="sum"' if s.name == TOTAL else ""
        rows.append(
            f"<tr{cls}><td>{_e(s.name)}</td><td class=\"num\">{_e(_fmt(s.weight, 4))}</td>"
            f"<td class=\"num\">{_e(_fmt(s.score, r.digits) or '—')}</td><td class=\"num\">{_e(rate_text(s.rate))}</td></tr>"
        )
    rows.append("</tbody></table>")
    return "\n".join(rows)


def _html_score_table(table: ScoreTable) -> str:
    d = table.result.digits
    cells = grid(table, label_sep="\n")
    depth = table.depth
    out = ['<table class="score">']
    for i, row in enumerate(cells):
        tag = "th" if i == 0 else "td"
        if i == 0:
            out.append("<thead>")
        elif i == 1:
            out.append("<tbody>")
        cls = ' class="sum"' if i >= len(cells) - 2 else ""
        tds = []
        for c, cell in enumerate(row):
            if cell is None:
                continue
            attrs_ = ""
            if cell.rowspan > 1:
                attrs_ += f' rowspan="{cell.rowspan}"'
            if cell.colspan > 1:
                attrs_ += f' colspan="{cell.colspan}"'
            if i:
                klass = {"num": "num", "level": "level", "text": "text", "note": "note", "total": "level", "label": "num"}[cell.role]
                if cell.role == "num" and c == depth + 3 and i < len(cells) - 2:
                    line = table.lines[i - 1]
                    if line.weight is not None and line.score is not None and line.score < line.weight:
                        klass += " lost"
                attrs_ += f' class="{klass}"'
            text = _fmt(cell.value, 4 if c == depth + 2 else d)
            tds.append(f"<{tag}{attrs_}>{_e(text).replace(chr(10), '<br>')}</{tag}>")
        out.append(f"<tr{cls}>{''.join(tds)}</tr>")
        if i == 0:
            out.append("</thead>")
    out.append("</tbody></table>")
    if table.notes:
        out.append('<div class="notes">' + "".join(f"<p>{_e(n)}</p>" for n in table.notes) + "</div>")
    return "\n".join(out)


def _label(text: str, limit: int = 12) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _svg_rates(r: Result) -> str:
    """Horizontal bars: 得分率 of each 一级指标, 0–100%."""
    items = [(x.name, x.score / (x.weight - x.excluded) if x.score is not None and x.weight - x.excluded > 0 else None) for x in r.indicators]
    label_w = min(max((_display_width(_label(n)) for n, _ in items), default=4) * 7 + 16, 200)
    bar_h, gap, chart_w, top = 22, 10, 420, 28
    width = label_w + chart_w + 80
    height = top + len(items) * (bar_h + gap) + 24
    out = [f'<svg class="chart" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" aria-label="各一级指标得分率">',
           "<title>各一级指标得分率</title>", f'<text x="{label_w}" y="16">各一级指标得分率</text>']
    bottom = top + len(items) * (bar_h + gap)
    for pct in (0, 25, 50, 75, 100):
        x = label_w + chart_w * pct / 100
        out.append(f'<line class="grid" x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{bottom}"/>')
        out.append(f'<text class="small" x="{x:.1f}" y="{bottom + 16}" text-anchor="middle">{pct}%</text>')
    for k, (name, rate) in enumerate(items):
        y = top + k * (bar_h + gap)
        w = chart_w * float(min(max(rate, Fraction(0)), Fraction(1))) if rate is not None else 0
        low = " low" if rate is not None and rate < Fraction(6, 10) else ""
        out.append(f'<text x="{label_w - 8}" y="{y + bar_h * 0.7:.1f}" text-anchor="end">{_e(_label(name))}<title>{_e(name)}</title></text>')
        out.append(f'<rect class="bar{low}" x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h}"><title>{_e(name)}：{_e(rate_text(rate))}</title></rect>')
        out.append(f'<text x="{label_w + w + 6:.1f}" y="{y + bar_h * 0.7:.1f}">{_e(rate_text(rate))}</text>')
    out.append(f'<line class="axis" x1="{label_w}" y1="{top - 4}" x2="{label_w}" y2="{bottom}"/>')
    out.append("</svg>")
    return "\n".join(out)


def _grade_section(counts: list[tuple[str, int]], n: int) -> list[str]:
    """等级分布: the table of grades with their counts and shares, and its column chart."""
    out = ["<h2>等级分布</h2>", '<table class="grades"><thead><tr><th>等级</th><th>项目数</th><th>占比</th></tr></thead><tbody>']
    for grade, count in counts:
        out.append(f'<tr><td class="level">{_e(grade)}</td><td class="num">{count}</td><td class="num">{_e(rate_text(Fraction(count, n)))}</td></tr>')
    return [*out, "</tbody></table>", _svg_columns("等级分布", counts)]


def _svg_columns(title: str, bars: list[tuple[str, int]], unit: str = "个") -> str:
    """Vertical bars with a count on each (grade distribution, histogram of totals)."""
    n = max(len(bars), 1)
    col_w, gap, chart_h, top, left = 56, 14, 180, 44, 36
    width = max(left + n * (col_w + gap) + 20, left + _display_width(title) * 7 + 20)
    height = top + chart_h + 44
    peak = max((c for _, c in bars), default=0) or 1
    base = top + chart_h
    out = [f'<svg class="chart" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" aria-label="{_e(title)}">',
           f"<title>{_e(title)}</title>", f'<text x="{left}" y="16">{_e(title)}</text>',
           f'<line class="axis" x1="{left}" y1="{base}" x2="{width - 10}" y2="{base}"/>']
    for k, (name, count) in enumerate(bars):
        x = left + gap / 2 + k * (col_w + gap)
        h = chart_h * count / peak
        out.append(f'<rect class="bar" x="{x:.1f}" y="{base - h:.1f}" width="{col_w}" height="{h:.1f}"><title>{_e(name)}：{count} {unit}</title></rect>')
        out.append(f'<text x="{x + col_w / 2:.1f}" y="{base - h - 4:.1f}" text-anchor="middle">{count}</text>')
        out.append(f'<text class="small" x="{x + col_w / 2:.1f}" y="{base + 16}" text-anchor="middle">{_e(name)}</text>')
    out.append("</svg>")
    return "\n".join(out)


def _html_overview(results: list[Result], books) -> str:
    levels = first_levels(results)
    out = ["<h2>各项目得分</h2>", '<table class="overview"><thead><tr><th>项目</th><th>总分</th><th>等级</th>']
    out.append("".join(f"<th>{_e(n)}</th>" for n in levels) + "</tr></thead><tbody>")
    for i, r in enumerate(results, start=1):
        by_name = {x.name: x.score for x in r.indicators}
        cells = "".join(f'<td class="num">{_e(_fmt(by_name.get(n), r.digits) or "—")}</td>' for n in levels)
        out.append(
            f'<tr><td><a href="#p{i}">{_e(r.project)}</a></td><td class="num">{_e(_fmt(r.total, r.digits) or "—")}</td>'
            f'<td class="level">{_e(r.grade or "—")}</td>{cells}</tr>'
        )
    out.append("</tbody></table>")
    out += _grade_section(grade_counts(results, books), len(results))
    totals = [r.total for r in results if r.total is not None]
    bins = histogram(totals)
    if bins:
        labels = [(f"{a}–{b}", c) for a, b, c in bins]
        out.append("<h2>总分分布</h2>")
        out.append(_svg_columns(f"总分分布（每 {bins[0][1] - bins[0][0]} 分一组）", labels))
        out.append('<p class="meta">每组含下限、不含上限，最后一组含上限。</p>')
    return "\n".join(out)




# ---- many projects: the summary first, small whatever the number of projects --------------------
_SEARCH_JS = """
(function () {
  var data = JSON.parse(document.getElementById("projects").textContent);
  var box = document.getElementById("search");
  var input = box.querySelector("input"), body = box.querySelector("tbody"), info = box.querySelector(".found");
  function show() {
    var q = input.value.trim(), low = q.toLowerCase(), n = 0, shown = 0;
    while (body.firstChild) body.removeChild(body.firstChild);
    for (var i = 0; i < data.length; i++) {
      var p = data[i];
      if (q && p[0].toLowerCase().indexOf(low) < 0 && p[2] !== q && (p[1] === null || p[1].indexOf(q) !== 0)) continue;
      n++;
      if (shown >= 100) continue;
      shown++;
      var tr = document.createElement("tr");
      [i + 1, p[0], p[1] === null ? "\u2014" : p[1], p[2]].forEach(function (v, k) {
        var td = document.createElement("td");
        td.textContent = v;
        if (k !== 1) td.className = k === 3 ? "level" : "num";
        tr.appendChild(td);
      });
      body.appendChild(tr);
    }
    info.textContent = "\u5171 " + n + " \u4e2a\u9879\u76ee\u7b26\u5408" + (n > shown ? "\uff0c\u663e\u793a\u524d " + shown + " \u4e2a" : "");
  }
  box.hidden = false;
  input.addEventListener("input", show);
  show();
})();
"""


def _json_data(tally) -> str:
    """[[项目, 总分, 等级], …] for the search box; ``<`` escaped so no text closes the script."""
    rows = [[name, plain(total, d) if total is not None else None, grade] for name, total, grade, d in tally.projects]
    text = json.dumps(rows, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _ranked_table(cls: str, rows: list) -> str:
    out = [f'<table class="{cls}"><thead><tr><th>项目</th><th>总分</th><th>等级</th></tr></thead><tbody>']
    for name, total, grade, d in rows:
        out.append(f'<tr><td>{_e(name)}</td><td class="num">{_e(plain(total, d))}</td><td class="level">{_e(grade)}</td></tr>')
    out.append("</tbody></table>")
    return "\n".join(out)


def _html_digest(tally, head: list[Result], books) -> str:
    """Counts, grade distribution, histogram, 一级指标得分率, the best and worst ten, and a search over
    every project's name, total and grade (the page's only script; the rest reads without it)."""
    from jxdsl.report_book import LEVEL_COLUMNS

    n = len(tally.projects)
    digits = max((p[3] for p in tally.projects), default=2)
    out = [f'<p class="meta">共 {n} 个项目：{n - tally.failed} 个计分完成，{tally.failed} 个有数据问题。'
           "各项目的逐项得分见 xlsx 报告的“明细”表，或用 <code>jxdsl explain --project 项目名</code> 查看。</p>"]
    out += _grade_section(tally.grade_counts(head), n)
    bins = histogram(tally.totals)
    if bins:
        out.append("<h2>总分分布</h2>")
        out.append(_svg_columns(f"总分分布（每 {bins[0][1] - bins[0][0]} 分一组）", [(f"{a}–{b}", c) for a, b, c in bins]))
        out.append('<p class="meta">每组含下限、不含上限，最后一组含上限。</p>')
    out.append("<h2>一级指标得分率</h2>")
    out.append('<table class="levels"><thead><tr>' + "".join(f"<th>{_e(h)}</th>" for h in LEVEL_COLUMNS) + "</tr></thead><tbody>")
    for s in tally.levels.values():
        w = s.weight
        cells = [_fmt(w, 4) if w is not None else "—", str(s.scored), _fmt(s.mean, digits) or "—", rate_text(s.mean_rate),
                 _fmt(s.low, digits) or "—", _fmt(s.high, digits) or "—", str(s.below)]
        out.append(f"<tr><td>{_e(s.name)}</td>" + "".join(f'<td class="num">{_e(c)}</td>' for c in cells) + "</tr>")
    out.append("</tbody></table>")
    best, worst = tally.ranked(10)
    out.append(f"<h2>总分最高的 {len(best)} 个项目</h2>")
    out.append(_ranked_table("top", best))
    out.append(f"<h2>总分最低的 {len(worst)} 个项目</h2>")
    out.append(_ranked_table("bottom", worst))
    out.append("<h2>查找项目</h2>")
    out.append("<noscript><p class=\"meta\">查找需要启用脚本；各项目的得分见 xlsx 报告。</p></noscript>")
    out.append('<div id="search" hidden><p><input type="search" placeholder="项目名称、总分或等级" aria-label="查找项目" size="40"></p>'
               '<p class="meta found"></p><table class="found"><thead><tr><th>序号</th><th>项目</th><th>总分</th><th>等级</th></tr></thead><tbody></tbody></table></div>')
    out.append(f'<script type="application/json" id="projects">{_json_data(tally)}</script>')
    out.append(f"<script>{_SEARCH_JS}</script>")
    return "\n".join(out)
