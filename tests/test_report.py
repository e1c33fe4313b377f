"""Report outputs (jxdsl/report.py): the 得分表 as XLSX and DOCX, the HTML page, Markdown.

Every published case's workbook is read back with openpyxl and compared, leaf by leaf, with the
published table (examples/<case>/published.csv), apart from the report's own recorded
discrepancies, where the computed value is expected (as in test_cases.py).
"""
from __future__ import annotations

import csv
import functools
import re
import shutil
import struct
import subprocess
import zlib
from fractions import Fraction
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

from jxdsl import report, report_docx, report_html, report_md
from jxdsl.errors import UsageError
from jxdsl.evaluate import evaluate
from jxdsl.facts import Facts
from jxdsl.facts import load as load_facts
from jxdsl.link import Linker

ROOT = Path(__file__).resolve().parent.parent
CASES = yaml.safe_load((ROOT / "examples" / "cases.yaml").read_text(encoding="utf-8"))
SINGLE = [c for c in CASES if "facts" in c and not str(c["facts"]).endswith((".csv", ".xlsx"))]
GENERIC = [c for c in SINGLE if "继承 单位自评" not in (ROOT / c["rulebook"]).read_text(encoding="utf-8")]  # 自评表: test_report_xlsx.py
TABLE_CASE = next(c for c in CASES if str(c.get("table") or c.get("facts", "")).endswith("self-eval.csv"))
LABEL = re.compile(r"^(?P<name>.*?)(?:\n（(?P<weight>[\d.]+)分）)?$", re.S)


@functools.cache
def _book(rulebook: str):
    return Linker().load(ROOT / rulebook)


@functools.cache
def _scored(case_id: str):
    case = next(c for c in CASES if c["id"] == case_id)
    book = _book(case["rulebook"])
    source = case.get("table") or case["facts"]
    return book, [evaluate(book, f) for f in load_facts(ROOT / source)]


def _published(case) -> dict[str, tuple[Fraction, Fraction, str]]:
    """path → (分值, 得分, 等级) as published, corrected where cases.yaml records a discrepancy."""
    known = {d["path"]: d for d in case.get("discrepancies", [])}
    out = {}
    with (ROOT / Path(case["facts"]).parent / "published.csv").open(encoding="utf-8-sig", newline="") as fh:
        for row in csv.DictReader(fh):
            path = row["路径"]
            weight, score = Fraction(row["分值"]), Fraction(row["得分"])
            if path in known:
                score = Fraction(str(known[path]["computed"]))
                if "weight" in known[path]:
                    weight = Fraction(str(known[path]["weight"]))
            out[path] = (weight, score, row.get("等级") or "")
    return out


# ---- reading an xlsx back ------------------------------------------------------------------------
def _merged(ws) -> dict[tuple[int, int], object]:
    """(row, col) → the merged range that covers it (rows and columns from 1)."""
    out = {}
    for rng in ws.merged_cells.ranges:
        for r in range(rng.min_row, rng.max_row + 1):
            for c in range(rng.min_col, rng.max_col + 1):
                out[(r, c)] = rng
    return out


def _value(ws, merged, r, c):
    rng = merged.get((r, c))
    return ws.cell(row=rng.min_row, column=rng.min_col).value if rng else ws.cell(row=r, column=c).value


def _read_score_sheet(ws):
    """Header, and for each data row: (row number, path, label weights, 分值, 得分, 扣分说明)."""
    merged = _merged(ws)
    header = [c.value for c in ws[2]]
    depth = sum(1 for h in header if h and h.endswith("级指标"))
    rows = []
    r = 3
    while ws.cell(row=r, column=1).value != "合计":
        path, weights = [], {}
        for c in range(1, depth + 1):
            rng = merged.get((r, c))
            if rng is not None and c > 1 and merged.get((r, c - 1)) is rng:
                continue  # a leaf spanning the deeper level columns
            m = LABEL.match(_value(ws, merged, r, c))
            path.append(m["name"])
            if m["weight"]:
                weights["/".join(path)] = Fraction(m["weight"])
        rows.append((r, tuple(path), weights, ws.cell(row=r, column=depth + 3), ws.cell(row=r, column=depth + 4), ws.cell(row=r, column=depth + 5).value))
        r += 1
        assert r < 1000, "no 合计 row"
    return header, depth, rows, r


@pytest.mark.parametrize("case", GENERIC, ids=[c["id"] for c in GENERIC])
def test_xlsx_score_table_matches_the_published_table(case, tmp_path):
    book, (result,) = _scored(case["id"])
    out = tmp_path / "得分表.xlsx"
    report.write_xlsx([result], book, out)
    assert [p.name for p in tmp_path.iterdir()] == [out.name], "temporary file left behind"
    from openpyxl import load_workbook

    wb = load_workbook(out, data_only=True)  # subtotals are formulas: read their cached values
    assert wb.sheetnames == ["得分表", "综合评定"]
    ws = wb["得分表"]
    published = _published(case)
    header, depth, rows, total_row = _read_score_sheet(ws)
    want_depth = max(len(p.split("/")) for p in published if p != "合计")
    assert depth >= want_depth
    assert header == [*report.level_names(depth), "指标解释", "评价标准", "分值", "得分", "扣分说明"]
    assert ws.freeze_panes == "A3" and ws.print_title_rows == "$2:$2"
    assert ws.page_setup.orientation == "landscape" and int(ws.page_setup.paperSize) == 9  # A4
    assert ws.page_setup.fitToWidth in (None, 1) and ws.sheet_properties.pageSetUpPr.fitToPage  # 1 is OOXML's default, left out

    # every leaf: 分值 and 得分 are numbers formatted 0.00 and equal the published ones
    seen = set()
    for r, path, weights, weight, score, note in rows:
        key = "/".join(path)
        seen.add(key)
        assert weight.number_format == "0.00" and score.number_format == "0.00", key
        if key in published:
            pw, ps, _ = published[key]
            assert isinstance(weight.value, (int, float)) and isinstance(score.value, (int, float)), key
            assert Fraction(str(weight.value)) == pw, key
            assert Fraction(str(score.value)) == ps, key
            if ps < pw and not key.startswith("扣分"):
                assert note and "扣" in note, f"{key}: no explanation of the lost points"
        for parent, w in weights.items():  # parents' labels carry their published weights
            if parent in published and parent != key:
                assert w == published[parent][0], parent
    leaves = {p for p in published if p != "合计" and not any(q.startswith(p + "/") for q in published)}
    assert leaves <= seen, f"published leaves missing from the sheet: {leaves - seen}"

    # parents span exactly their children's rows with one merged cell
    merged = _merged(ws)
    prefixes = {path[:k] for _, path, *_ in rows for k in range(1, len(path))}
    for prefix in prefixes:
        span = [r for r, path, *_ in rows if path[: len(prefix)] == prefix]
        assert span == list(range(span[0], span[-1] + 1)), prefix
        rng = merged.get((span[0], len(prefix)))
        if len(span) > 1:
            assert rng is not None and (rng.min_row, rng.max_row, rng.min_col, rng.max_col) == (span[0], span[-1], len(prefix), len(prefix)), prefix

    # 合计 and grade
    pw, ps, grade = published["合计"]
    assert Fraction(str(ws.cell(row=total_row, column=depth + 3).value)) == pw
    assert Fraction(str(ws.cell(row=total_row, column=depth + 4).value)) == ps == Fraction(str(case["published"]["total"]))
    assert ws.cell(row=total_row + 1, column=1).value == "评价等级"
    assert ws.cell(row=total_row + 1, column=depth + 4).value == case["published"]["grade"]
    assert grade in ("", case["published"]["grade"])

    # 综合评定: 一级指标, 分值, 得分, 得分率
    summary = wb["综合评定"]
    assert [c.value for c in summary[2]] == ["一级指标", "分值", "得分", "得分率"]
    got = {row[0]: row[1:] for row in summary.iter_rows(min_row=3, values_only=True)}
    for name in [i.name for i in result.indicators] + ["合计"]:
        w, s, rate = got[name]
        pw, ps, _ = published[name]
        assert (Fraction(str(w)), Fraction(str(s))) == (pw, ps), name
        if name == "合计" and result.bonus_items:
            assert rate is None  # 110 with 加分 is not 110% of 100 (issue 13)
        else:
            assert rate == pytest.approx(float(ps / pw), abs=1e-6)


def test_xlsx_leaf_shallower_than_the_table_spans_the_deeper_columns(tmp_path):
    """预算执行率 is a 一级 leaf in a three-level table: one cell across 一级…三级."""
    book = Linker().load(_write(tmp_path, "规则集 浅\n预算执行率 权重 20 酌情\n产出 权重 80\n  数量 权重 80\n    甲 权重 80 酌情\n"))
    results = [evaluate(book, Facts(project="浅", values={}, evaluations={"预算执行率": {"得分": 20}, "产出/数量/甲": {"得分": 70}}))]
    report.write_xlsx(results, book, tmp_path / "x.xlsx")
    from openpyxl import load_workbook

    ws = load_workbook(tmp_path / "x.xlsx").active
    assert ws["A3"].value == "预算执行率"
    assert "A3:C3" in {str(r) for r in ws.merged_cells.ranges}


def test_xlsx_text_is_neutralised_and_errors_are_shown(tmp_path):
    book = Linker().load(_write(tmp_path, "规则集 注入\n主体 权重 60 酌情\n其他 权重 40 酌情\n"))
    facts = Facts(project="=cmd|' /C calc'!A0", values={}, evaluations={"主体": {"得分": 60, "说明": '=HYPERLINK("http://x","点")'}})
    result = evaluate(book, facts)
    assert result.errors and result.total is None
    report.write_xlsx([result], book, tmp_path / "x.xlsx")
    from openpyxl import load_workbook

    ws = load_workbook(tmp_path / "x.xlsx", data_only=True).active  # the subtotals' formulas are the tool's own
    values = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert not [v for v in values if v[:1] in "=+-@"], values
    assert ws["A1"].value.startswith("'=cmd")
    assert any(v.startswith("'=HYPERLINK") for v in values)
    rows = {row[0]: row for row in ws.iter_rows(min_row=3, values_only=True)}
    assert rows["其他"][3] == 40 and rows["其他"][4] == "缺数据" and "无法计分" in rows["其他"][5]
    assert rows["合计"][4] == "—"
    assert any(v.startswith("数据问题：") for v in values)


def _write(directory: Path, text: str) -> Path:
    path = directory / "book.jx"
    path.write_text(text, encoding="utf-8")
    return path


def test_sheet_names_are_valid_and_unique():
    used: set[str] = set()
    names = [report.sheet_name(n, used) for n in ["汇总", "汇总", "a[1]:b*?/\\c", "x" * 40, "x" * 40, "'引号'", "", "History"]]
    assert len({n.lower() for n in names}) == len(names)
    for n in names:
        assert 1 <= len(n) <= 31 and not set(n) & set("[]:*?/\\") and not n.startswith("'"), n
    assert names[:3] == ["汇总", "汇总(2)", "a_1__b____c"]


def test_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    book, results = _scored("xingxian-2022-yulu")
    out = tmp_path / "r.xlsx"
    out.write_bytes(b"old")

    def boom(self):
        Path(self.filename).write_bytes(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr("xlsxwriter.workbook.Workbook.close", boom)
    with pytest.raises(UsageError, match="无法写入.*disk full"):
        report.write_xlsx(results, book, out)
    assert out.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["r.xlsx"]


# ---- docx ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", SINGLE, ids=[c["id"] for c in SINGLE])
def test_docx_score_table(case, tmp_path):
    import docx
    from docx.enum.section import WD_ORIENT
    from docx.oxml.ns import qn

    book, results = _scored(case["id"])
    out = tmp_path / "r.docx"
    report_docx.write_docx(results, {book.name: book}, out)
    doc = docx.Document(out)
    assert doc.sections[0].orientation == WD_ORIENT.LANDSCAPE and doc.sections[0].page_width > doc.sections[0].page_height
    assert any(p.text == f"{results[0].project} 绩效评价得分表" and p.style.name == report_docx.TITLE for p in doc.paragraphs)
    table, _summary = doc.tables
    rows = [row.cells for row in table.rows]
    depth = sum(1 for c in rows[0] if c.text.endswith("级指标"))
    assert [c.text for c in rows[0]] == [*report.level_names(depth), "指标解释", "评价标准", "分值", "得分", "扣分说明"]
    assert table.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None
    published = _published(case)
    checked = 0
    for cells in rows[1:]:
        if cells[0].text in ("合计", "评价等级"):
            continue
        path = [LABEL.match(cells[0].text)["name"]]
        for c in range(1, depth):
            if cells[c]._tc is not cells[c - 1]._tc:
                path.append(LABEL.match(cells[c].text)["name"])
        key = "/".join(path)
        if key in published:
            weight, score = cells[depth + 2].text, cells[depth + 3].text
            assert (Fraction(weight), Fraction(score)) == published[key][:2], key
            checked += 1
    assert checked >= 5
    # a parent's cell is one cell spanning its children's rows
    first_parent = next(i for i, cells in enumerate(rows) if i and "分）" in cells[0].text)
    assert rows[first_parent][0]._tc is rows[first_parent + 1][0]._tc
    total = next(cells for cells in rows if cells[0].text == "合计")
    grade = next(cells for cells in rows if cells[0].text == "评价等级")
    assert Fraction(total[depth + 3].text) == Fraction(str(case["published"]["total"]))
    assert grade[depth + 3].text == case["published"]["grade"]


# ---- html ---------------------------------------------------------------------------------------
class _Page(HTMLParser):
    """Tables (rows of cell texts), SVG texts, and every URL-bearing attribute."""

    def __init__(self):
        super().__init__()
        self.tables: list[tuple[str, list[list[str]]]] = []
        self.svg_texts: list[str] = []
        self.svg_labels: list[str] = []
        self.urls: list[str] = []
        self.tags: set[str] = set()
        self._cell: list[str] | None = None
        self._svg = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.add(tag)
        self.urls += [v for k, v in attrs if k in ("src", "href", "xlink:href", "action", "poster", "data") and v]
        if tag == "table":
            self.tables.append((a.get("class", ""), []))
        elif tag == "tr" and self.tables:
            self.tables[-1][1].append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "br" and self._cell is not None:
            self._cell.append("\n")
        elif tag == "svg":
            self._svg += 1
            self.svg_labels.append(a.get("aria-label", ""))

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][1][-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "svg":
            self._svg -= 1

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        if self._svg:
            self.svg_texts.append(data)


def _parse(text: str) -> _Page:
    page = _Page()
    page.feed(text)
    return page


def _self_contained(text: str, page: _Page) -> None:
    assert not [u for u in page.urls if not u.startswith("#")], page.urls
    assert not re.search(r"https?://|url\(|@import|//[a-z0-9.-]+\.[a-z]{2,}/", text, re.I)
    assert not page.tags & {"script", "link", "img", "iframe", "object", "embed"}


@pytest.mark.parametrize("case", SINGLE, ids=[c["id"] for c in SINGLE])
def test_html_is_self_contained_with_summary_and_chart(case, tmp_path):
    book, results = _scored(case["id"])
    out = tmp_path / "r.html"
    report_html.write_html(results, book, out)
    text = out.read_text(encoding="utf-8")
    page = _parse(text)
    _self_contained(text, page)
    summary = next(rows for cls, rows in page.tables if cls == "summary")
    assert summary[0] == ["一级指标", "分值", "得分", "得分率"]
    published = _published(case)
    body = {row[0]: row[1:] for row in summary[1:]}
    for name in [i.name for i in results[0].indicators] + ["合计"]:
        w, s, _ = published[name]
        assert (Fraction(body[name][0]), Fraction(body[name][1])) == (w, s), name
        with_bonus = name == "合计" and results[0].bonus_items  # 110 with 加分 is no 得分率 (issue 13)
        assert body[name][2] == ("—" if with_bonus else report.rate_text(s / w))
    assert any(re.search(r"[\u4e00-\u9fff]", t) for t in page.svg_texts), "no Chinese text in the chart"
    assert {i.name for i in results[0].indicators} <= {t.strip() for t in page.svg_texts} | {t.rstrip("…") for t in page.svg_texts}
    score = next(rows for cls, rows in page.tables if cls == "score")
    assert score[0][-5:] == ["指标解释", "评价标准", "分值", "得分", "扣分说明"]
    assert any(row and row[0] == "合计" and Fraction(row[-2]) == Fraction(str(case["published"]["total"])) for row in score)
    assert "逐条说明" in text and 'font-family: "Noto Sans CJK SC"' in text


def test_html_escapes_text(tmp_path):
    book = Linker().load(_write(tmp_path, "规则集 转义\n主体 权重 100 酌情\n"))
    facts = Facts(project="<script>alert(1)</script>", values={}, evaluations={"主体": {"得分": 80, "说明": '<img src="http://evil/x.png">&"'}})
    text = report_html.render_html([evaluate(book, facts)], book)
    assert "<script>" not in text and "<img" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    _self_contained(text.replace("http://evil", ""), _parse(text))


# ---- markdown -----------------------------------------------------------------------------------
@pytest.mark.parametrize("case_id", ["qixia-2021", "xingxian-2022-wengang"])
def test_markdown_snapshot(case_id, snapshot):
    book, results = _scored(case_id)
    assert report_md.render_md(results, book) == snapshot


# ---- many projects ------------------------------------------------------------------------------
def test_many_projects_summary_sheet_and_histogram(tmp_path):
    book, results = _scored(TABLE_CASE["id"])
    want = TABLE_CASE["published"]
    assert len(results) == 6
    from openpyxl import load_workbook

    report.write_xlsx(results, {book.name: book}, tmp_path / "t.xlsx")
    wb = load_workbook(tmp_path / "t.xlsx")
    # a small batch: the three summary sheets (report_book), then one sheet per project
    assert len(wb.sheetnames) == 9 and wb.sheetnames[:3] == ["汇总", "等级分布", "一级指标得分率"]
    assert all(len(n) <= 31 for n in wb.sheetnames) and len({n.lower() for n in wb.sheetnames}) == 9
    summary = wb["汇总"]
    head = [c.value for c in summary[1] if c.value]
    assert head[:3] == ["项目", "总分", "等级"] and head[3:-2] == [i.name for i in results[0].indicators]  # several rulebooks: no rate column
    rows = {row[0]: row for row in summary.iter_rows(min_row=2, max_row=7, values_only=True)}
    assert set(rows) == set(want)
    for name, w in want.items():
        assert rows[name][1] == pytest.approx(w["total"]) and rows[name][2] == w["grade"]
    for name, sheet in zip(want, wb.sheetnames[3:]):
        ws = wb[sheet]
        values = {c.value for row in ws.iter_rows() for c in row}
        assert ws["A1"].value == "项目支出绩效自评表" and name in values  # each self-evaluation's own form
        assert summary.cell(row=2 + list(want).index(name), column=1).hyperlink.location == f"'{sheet}'!A1"

    text = report_html.render_html(results, book)
    page = _parse(text)
    _self_contained(text, page)
    assert "总分分布（每 5 分一组）" in page.svg_labels
    assert "等级分布" in page.svg_labels
    grades = next(rows for cls, rows in page.tables if cls == "grades")
    assert {r[0]: int(r[1]) for r in grades[1:]} == {"优": 5, "良": 1, "中": 0, "差": 0}
    assert sum(1 for cls, _ in page.tables if cls == "score") == 6
    assert [b for b in report.histogram([r.total for r in results]) if b[2]] == [(80, 85, 1), (95, 100, 5)]

    import docx

    report_docx.write_docx(results, book, tmp_path / "t.docx")
    doc = docx.Document(tmp_path / "t.docx")
    assert len(doc.tables) == 2 + 2 * 6  # 汇总 and 等级分布, then each project's 得分表 and 综合评定得分表
    assert [c.text for c in doc.tables[0].rows[0].cells][:3] == ["项目", "总分", "等级"]

    md = report_md.render_md(results, book)
    assert md.startswith("# 绩效评价结果汇总（6 个项目）") and md.count("绩效评价得分表") == 6


# ---- in a browser -------------------------------------------------------------------------------
def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


def _screenshot(browser: str, page: Path, png: Path, profile: Path) -> str:
    run = subprocess.run(
        [
            browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0",
            f"--screenshot={png}", "--window-size=1280,2000", page.resolve().as_uri(),
        ],
        capture_output=True, text=True, timeout=120,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    return run.stderr


def _console(log: str) -> list[str]:
    return [line for line in log.splitlines() if ":CONSOLE" in line or "Uncaught" in line]


def _png_size_and_variety(png: Path) -> tuple[int, int, int]:
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    idat, pos = b"", 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        if kind == b"IDAT":
            idat += data[pos + 8 : pos + 8 + length]
        pos += 12 + length
    return width, height, len(set(zlib.decompress(idat)))


def test_html_renders_in_headless_chromium(tmp_path):
    browser = _chromium()
    if browser is None:
        pytest.skip("chromium not found (Debian: apt-get install -y chromium; .ci/run installs it)")
    book, results = _scored("qixia-2021")
    page = tmp_path / "qixia.html"
    report_html.write_html(results, book, page)
    png = tmp_path / "qixia.png"
    log = _screenshot(browser, page, png, tmp_path / "profile")
    assert not _console(log), _console(log)
    assert png.stat().st_size > 50_000
    width, height, variety = _png_size_and_variety(png)
    assert (width, height) == (1280, 2000) and variety > 50
    # the console check sees a broken page
    bad = tmp_path / "bad.html"
    bad.write_text("<p>x</p><script>throw new Error('坏')</script>", encoding="utf-8")
    assert _console(_screenshot(browser, bad, tmp_path / "bad.png", tmp_path / "profile2"))


# ---- text from the inputs is text in every report (issue 12) -----------------------------------
HOSTILE_BOOK = """规则集 转义二
等级 优 ≥90 差
主体 权重 60 酌情
  解释 "说明<iframe src=x></iframe> | 一栏"
  标准 "Y<4% 得满分；[点此](javascript:alert(1))"
次要 权重 40 酌情
"""
HOSTILE = {
    "project": '甲 <b onmouseover="x">项目</b> | *强调* _斜_ `代码` # 标题',
    "note": "第一行\n| 伪造 | 表格 |\n<svg onload=alert(1)>\n```\n# 逃出代码块\n- 列表\n1. 有序\n> 引用\n&lt;实体&gt;",
}
SAFE_MD_TAGS = {"h1", "h2", "h3", "p", "strong", "table", "thead", "tbody", "tr", "th", "td", "br", "ul", "li", "pre", "code"}


def _hostile(tmp_path) -> tuple:
    book = Linker().load(_write(tmp_path, HOSTILE_BOOK))
    facts = [Facts(project=HOSTILE["project"] + str(i), values={}, evaluations={"主体": {"得分": 50 + i, "说明": HOSTILE["note"]}, "次要": {"得分": 30}}) for i in range(2)]
    return book, [evaluate(book, f) for f in facts]


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: set[str] = set()
        self.attrs: list[tuple[str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.attrs += attrs

    def handle_data(self, data):
        self.text.append(data)


@pytest.mark.parametrize("n", [1, 2])
def test_markdown_shows_input_text_literally(tmp_path, n):
    """Rendered as GitHub-style Markdown, the report has only the tags it writes itself: no tag,
    link, emphasis or heading from a project name, a note or an indicator text; every table row
    keeps its columns; the explanation's code block is not closed by the note's ``` line."""
    from markdown_it import MarkdownIt

    book, results = _hostile(tmp_path)
    md = report_md.render_md(results[:n], book)
    page = _Tags()
    page.feed(MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(md))
    assert page.tags <= SAFE_MD_TAGS, page.tags - SAFE_MD_TAGS
    assert {a for a in page.attrs if a[0] != "style"} <= {("class", "language-text")}, page.attrs  # style: column alignment
    text = "".join(page.text)
    for piece in ('<b onmouseover="x">项目</b>', "*强调* _斜_ `代码` # 标题", "<iframe src=x></iframe> | 一栏", "Y<4% 得满分", "[点此](javascript:alert(1))", "<svg onload=alert(1)>", "&lt;实体&gt;"):
        assert piece in text, piece
    for table in re.findall(r"(?:^\|.*\|$\n?)+", md, re.M):
        widths = {len(re.findall(r"(?<!\\)\|", row)) for row in table.splitlines()}
        assert len(widths) == 1, table


def test_html_shows_input_text_literally(tmp_path):
    book, results = _hostile(tmp_path)
    for n in (1, 2):
        text = report_html.render_html(results[:n], book)
        page = _parse(text)
        _self_contained(text, page)
        assert not page.tags & {"b", "iframe"}
        assert 'onmouseover="x"' not in text and "<iframe" not in text and "<svg onload" not in text
        assert "&lt;b onmouseover=&quot;x&quot;&gt;" in text


def test_histogram_of_huge_totals_stays_small(tmp_path):
    """Totals spread over 10^15 points (a huge weight): at most MAX_BINS bins, a chart of bounded
    size — not a bin per 5 points (which took 23 GB)."""
    book = Linker().load(_write(tmp_path, "规则集 大权重\n甲 权重 1000000000000000 酌情\n"))
    results = [evaluate(book, Facts(project=f"项目{i}", values={}, evaluations={"甲": {"得分": s}})) for i, s in enumerate([0, 7, 10**14, 10**15])]
    bins = report.histogram([r.total for r in results])
    assert 2 <= len(bins) <= report.MAX_BINS and sum(c for *_, c in bins) == 4
    assert bins[0][0] <= 0 and bins[-1][1] >= 10**15 and all(b[1] - b[0] == bins[0][1] - bins[0][0] for b in bins)
    assert report.histogram([Fraction(-3), Fraction(1, 3), Fraction(99)]) == [(-5, 0, 1), (0, 5, 1), *[(a, a + 5, 0) for a in range(5, 95, 5)], (95, 100, 1)]
    text = report_html.render_html(results, book)
    assert len(text) < 200_000
    widths = [int(w) for w in re.findall(r'<svg class="chart" width="(\d+)"', text)]
    assert widths and max(widths) < 5000
    assert f"每 {bins[0][1] - bins[0][0]} 分一组" in text
    report.write_xlsx(results, book, tmp_path / "t.xlsx")
    report_docx.write_docx(results, book, tmp_path / "t.docx")
