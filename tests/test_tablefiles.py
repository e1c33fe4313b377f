"""Table files read one way for every engine: XLSX sheets, merged cells, cell types, duplicate
headers, encodings, blank lines, limits and broken files (issue 12, tables).  Every case runs the
CLI through the interpreter and DuckDB and holds their outputs equal; the inputs are new tables of
each class, not the issue's examples."""
from __future__ import annotations

import csv
import datetime
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from jxdsl.cli import main

ROOT = Path(__file__).resolve().parents[1]
RULEBOOK = ROOT / "rulebooks/shanxi/xingxian-2022-self-eval.jx"
TABLE = ROOT / "examples/xingxian-2022-table/self-eval.csv"
ENGINES = ("interpreter", "duckdb")
_TIME = re.compile(r"，用时 [0-9.]+ 秒$", re.M)


def cli(*args) -> tuple[int, str, str]:
    r = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    return r.exit_code, r.stdout, _TIME.sub("", r.stderr)


def both(*args, table: Path | None = None) -> tuple[int, str, str]:
    """``args`` through every engine; the outputs (tally's engine name aside) must be equal."""
    got = [cli(*args, "--engine", e) for e in ENGINES]
    same = [(c, o, err.replace("引擎 interpreter", "引擎 X").replace("引擎 duckdb", "引擎 X")) for c, o, err in got]
    assert same[0] == same[1], (got[0][2], got[1][2])
    assert "Traceback" not in got[0][2]
    return got[1]


def example_rows() -> tuple[list[str], list[list[str]]]:
    with TABLE.open(encoding="utf-8-sig", newline="") as fh:
        header, *rows = list(csv.reader(fh))
    return header, rows


def workbook(path: Path, header, rows, *, title="自评表", merge_columns=(), before=(), extra=None) -> Path:
    """A workbook whose sheet holds the table; the cells of ``merge_columns`` that repeat the row
    above are left blank and merged with it (the usual layout of a self-evaluation form)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = title
    for r in before:
        ws.append(r)
    ws.append(header)
    top = ws.max_row + 1
    for r in rows:
        ws.append(r)
    for name in merge_columns:
        col = header.index(name) + 1
        start = top
        for i in range(top, top + len(rows) + 1):
            if i == top + len(rows) or ws.cell(i, col).value != ws.cell(start, col).value:
                if i - 1 > start:
                    for j in range(start + 1, i):
                        ws.cell(j, col).value = None
                    ws.merge_cells(start_row=start, start_column=col, end_row=i - 1, end_column=col)
                start = i
    if extra:
        extra(wb)
    wb.save(path)
    return path


def scores(out: str) -> list[tuple]:
    import json

    return [(p["project"], p["total"], p["grade"]) for p in map(json.loads, out.splitlines())]


# ---- 1. which sheet ------------------------------------------------------------------------------
def test_hidden_active_sheet_is_skipped_and_the_summary_names_the_sheet_read(tmp_path):
    header, rows = example_rows()

    def sheets(wb):
        old = wb.create_sheet("2021 旧表", 0)
        old.append(header)
        old.append(["旧项目", *rows[0][1:]])
        old.sheet_state = "hidden"
        wb.create_sheet("填表说明", 1).append(["请按说明填写"])
        wb.active = 0  # the hidden sheet is the active one
        wb["填表说明"].sheet_state = "hidden"

    book = workbook(tmp_path / "表.xlsx", header, rows, extra=sheets)
    code, out, err = both("score", RULEBOOK, book, "--format", "jsonl")
    assert code == 0 and "旧项目" not in out and len(out.splitlines()) == 6
    assert "共 49 行（工作表“自评表”）、6 个项目" in err
    code, out, err = both("score", RULEBOOK, book, "--format", "jsonl", "--sheet", "2021 旧表")
    assert [s[0] for s in scores(out)] == ["旧项目"] and "（工作表“2021 旧表”）" in err
    code, out, err = both("explain", RULEBOOK, book, "--sheet", "2021旧表")
    assert code == 2 and not out and "没有工作表“2021旧表”" in err and "是否应为“2021 旧表”" in err and "填表说明" in err


def test_visible_active_sheet_other_than_the_first_is_read(tmp_path):
    header, rows = example_rows()

    def sheets(wb):
        wb.create_sheet("封面", 0).append(["兴县 2022 年项目支出绩效自评"])
        wb.active = 1

    book = workbook(tmp_path / "表.xlsx", header, rows[:7], extra=sheets)
    code, out, err = both("score", RULEBOOK, book, "--format", "jsonl")
    assert len(out.splitlines()) == 1 and "工作表“自评表”" in err
    assert both("score", RULEBOOK, TABLE, "--sheet", "自评表")[0] == 2


# ---- 2. duplicate headers --------------------------------------------------------------------------
def test_duplicate_headers_are_named_in_every_format(tmp_path):
    import duckdb

    header, rows = example_rows()
    dup = [*header[:6], "分值 "]  # 实际完成值 replaced by a second 分值 (a trailing space)
    table = tmp_path / "表.csv"
    with table.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([dup, *[r[:7] for r in rows]])
    book = workbook(tmp_path / "表.xlsx", dup, [r[:7] for r in rows], before=[[], []])
    pq = tmp_path / "表.parquet"
    duckdb.sql(f"COPY (SELECT '甲' AS \"项目\", '5' AS \"分值\", '6' AS \" 分值\") TO '{pq}' (FORMAT parquet)")
    for path, line, cols in ((table, 1, "E 列和 G 列"), (book, 3, "E 列和 G 列"), (pq, 1, "B 列和 C 列")):
        code, out, err = both("score", RULEBOOK, path)
        assert code == 1 and not out and f"{path}:{line}:1: 数据错误：表头有两列都叫“分值”（第 {line} 行的 {cols}）" in err, err


# ---- 3. merged cells -------------------------------------------------------------------------------
def test_merged_project_and_indicator_cells_score_as_the_flat_table(tmp_path):
    header, rows = example_rows()
    flat = both("score", RULEBOOK, TABLE, "--format", "jsonl")[1]
    book = workbook(tmp_path / "合并.xlsx", header, rows, merge_columns=("项目", "一级指标"))
    ws = openpyxl.load_workbook(book).active
    assert len(ws.merged_cells.ranges) > 10 and ws["A3"].value is None
    code, out, err = both("score", RULEBOOK, book, "--format", "jsonl")
    assert code == 0 and scores(out) == scores(flat) and "6 个计分完成" in err


def test_merged_cells_fill_below_the_header_only_and_title_rows_are_passed_over(tmp_path):
    header, rows = example_rows()
    rows = [r for r in rows if r[0] == rows[0][0]]

    def title(wb):
        wb.active.merge_cells("A1:C1")

    def wide(wb):  # the header's 三级指标 spans two columns: the second stays nameless
        ws = wb.active
        ws.insert_cols(5)
        ws.merge_cells(start_row=1, start_column=4, end_row=1, end_column=5)

    book = workbook(tmp_path / "标题.xlsx", header, rows, merge_columns=("项目",), extra=title, before=[["项目支出绩效自评表"], ["单位：万元"], []])
    code, out, err = both("score", RULEBOOK, book, "--format", "jsonl")
    assert [s[0] for s in scores(out)] == [rows[0][0]] and f"共 {len(rows)} 行" in err and "不属于任何项目" not in err  # the title rows passed over
    book = workbook(tmp_path / "合并.xlsx", header, rows, merge_columns=("项目",), extra=wide)
    code, out, err = both("score", RULEBOOK, book, "--format", "jsonl")
    assert [s[0] for s in scores(out)] == [rows[0][0]] and f"共 {len(rows)} 行" in err and "两列" not in err


# ---- 4. names, numbers, blank lines ------------------------------------------------------------------
def test_numeric_names_and_cells_and_leading_blank_lines_read_alike_in_csv_and_xlsx(tmp_path):
    header, rows = example_rows()
    rows = [r[:] for r in rows[:14]]
    for r in rows:
        r[0] = {"2022年脱贫劳动力稳岗补助": "0", "2022年省级数字乡村示范创建项目": " 2.5"}[r[0]]
    table = tmp_path / "表.csv"
    with table.open("w", encoding="utf-8", newline="") as fh:
        fh.write("\n\n")
        csv.writer(fh).writerows([header, *rows])
    typed = [[0 if r[0] == "0" else 2.5, *r[1:4], float(r[4]), *r[5:]] for r in rows]  # numbers as openpyxl gives them
    book = workbook(tmp_path / "表.xlsx", header, typed, before=[[None], []])
    a, b = both("score", RULEBOOK, table, "--format", "jsonl"), both("score", RULEBOOK, book, "--format", "jsonl")
    assert a[1].replace(str(table), "F") == b[1].replace(str(book), "F") and [s[0] for s in scores(a[1])] == ["0", "2.5"]
    located = lambda err, path: [x.replace(str(path), "F") for x in err.splitlines() if x.startswith((str(path), "共"))]  # noqa: E731
    assert located(a[2], table) == [x.replace("（工作表“自评表”）", "") for x in located(b[2], book)]
    assert f"{table}:12:1: 数据错误：项目“2.5”" in a[2] and "共 14 行、2 个项目" in a[2]


def test_excel_dates_and_formula_values(tmp_path):
    header, rows = example_rows()
    rows = [r[:7] for r in rows if r[0] == "2022年脱贫劳动力稳岗补助"]
    when = next(i for i, r in enumerate(rows) if r[3] == "惠及年度")
    typed = [r[:] for r in rows]
    typed[when][5:7] = [datetime.datetime(2022, 12, 31), datetime.date(2022, 12, 31)]
    book = workbook(tmp_path / "日期.xlsx", header, typed)
    code, out, err = both("explain", RULEBOOK, book)
    assert "2022-12-31" in out and "00:00:00" not in out + err and "-12-31 " not in err

    def formula(wb):
        wb.active.cell(3, 6).value = "=1+1"

    book = workbook(tmp_path / "公式.xlsx", header, rows, extra=formula)
    code, out, err = both("score", RULEBOOK, book)
    assert code == 1 and not out and f"{book}:3:6: 数据错误：单元格 F3 是公式，但文件中没有保存公式的计算结果" in err and "保存一次" in err
    cached = tmp_path / "缓存.xlsx"
    _rewrite_member(book, cached, "xl/worksheets/sheet1.xml", lambda x: re.sub(rb"<f>1\+1</f><v>\s*</v>|<f>1\+1</f>(<v/>)?", b"<f>1+1</f><v>2</v>", x))
    code, out, err = both("explain", RULEBOOK, cached)
    assert "公式" not in err and code in (0, 1)


# ---- 5. one bad row --------------------------------------------------------------------------------
def test_a_row_without_project_stops_nothing_and_both_engines_account_rows_alike(tmp_path):
    header, rows = example_rows()
    rows = [r[:] for r in rows]
    rows[9][0] = "  "
    table = tmp_path / "表.csv"
    with table.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([header, *rows])
    healthy = rows[-1][0]
    for args in (("score", RULEBOOK, table, "--format", "jsonl"), ("explain", RULEBOOK, table, "--project", healthy),
                 ("score", RULEBOOK, table, "--project", healthy, "--format", "json")):
        code, out, err = both(*args)
        assert f"{table}:11:1: 数据错误：自评表缺少项目名称" in err
        assert re.search(r"共 49 行、\d 个项目：.*，1 行不属于任何项目；引擎 X", err.replace("duckdb", "X")), err
    assert healthy in out


# ---- 6. limits -------------------------------------------------------------------------------------
@pytest.mark.parametrize("form", ["csv", "gbk.csv", "xlsx", "parquet"])
def test_row_limit_while_reading_in_every_format(form, tmp_path, monkeypatch):
    import duckdb

    header, rows = example_rows()
    path = tmp_path / f"表.{form}"
    if form == "xlsx":
        workbook(path, header, rows)
    elif form == "parquet":
        src = tmp_path / "t.csv"
        src.write_text(TABLE.read_text(encoding="utf-8-sig"), encoding="utf-8")
        duckdb.sql(f"COPY (SELECT * FROM read_csv('{src}', all_varchar=true)) TO '{path}' (FORMAT parquet)")
    else:
        with path.open("w", encoding="gb18030" if form.startswith("gbk") else "utf-8", newline="") as fh:
            csv.writer(fh).writerows([header, *rows])
    monkeypatch.setenv("JXDSL_MAX_ROWS", "20")
    code, out, err = both("score", RULEBOOK, path, "--format", "jsonl")
    assert code == 1 and not out and f"{path}:22:1: 数据错误：表格行数超过上限 20" in err and "JXDSL_MAX_ROWS" in err
    monkeypatch.setenv("JXDSL_MAX_ROWS", "49")
    assert both("score", RULEBOOK, path, "--format", "jsonl")[0] == 0


def test_xlsx_dimension_and_row_numbers_are_not_trusted(tmp_path):
    header, rows = example_rows()
    book = workbook(tmp_path / "表.xlsx", header, rows[:7])
    huge = tmp_path / "维度.xlsx"
    _rewrite_member(book, huge, "xl/worksheets/sheet1.xml", lambda x: re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:XFD9000000"/>', x))
    code, out, err = both("score", RULEBOOK, huge, "--format", "jsonl")
    assert len(out.splitlines()) == 1 and "共 7 行" in err
    far = tmp_path / "远.xlsx"
    row = b'<row r="5000000"><c r="A5000000" t="inlineStr"><is><t>x</t></is></c></row></sheetData>'
    _rewrite_member(book, far, "xl/worksheets/sheet1.xml", lambda x: x.replace(b"</sheetData>", row))
    code, out, err = both("score", RULEBOOK, far)
    assert code == 1 and f"{far}:5000000:1: 数据错误：工作表“自评表”的行号 5000000 超过 Excel 的上限 1048576" in err


def test_csv_cell_over_the_size_limit_is_located(tmp_path):
    header, rows = example_rows()
    table = tmp_path / "长.csv"
    with table.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([header, *rows[:3], [*rows[3][:9], "很长的说明" * 30000], *rows[4:6]])
    code, out, err = both("score", RULEBOOK, table)
    assert code == 1 and not out and f"{table}:5:1: 数据错误：单元格超过 131072 个字符" in err


# ---- 7. broken workbooks -------------------------------------------------------------------------------
@pytest.mark.parametrize("damage", ["shared-string", "truncated", "not-xlsx", "no-sheets", "not-zip"])
def test_broken_workbooks_are_located_errors(damage, tmp_path):
    header, rows = example_rows()
    book = workbook(tmp_path / "好.xlsx", header, rows[:5])
    bad = tmp_path / "坏.xlsx"
    if damage == "shared-string":  # a string cell pointing past the shared strings
        _rewrite_member(book, bad, "xl/worksheets/sheet1.xml", lambda x: re.sub(rb'<c r="A3" t="inlineStr">.*?</c>', b'<c r="A3" t="s"><v>9999</v></c>', x))
        assert b"9999" in zipfile.ZipFile(bad).read("xl/worksheets/sheet1.xml")
    elif damage == "truncated":
        _rewrite_member(book, bad, "xl/worksheets/sheet1.xml", lambda x: x[: len(x) // 2])
    elif damage == "not-xlsx":
        with zipfile.ZipFile(bad, "w") as z:
            z.writestr("word/document.xml", "<w/>")
    elif damage == "no-sheets":
        _rewrite_member(book, bad, "xl/workbook.xml", lambda x: re.sub(rb"<sheets>.*</sheets>", b"<sheets/>", x, flags=re.S))
    else:
        bad.write_bytes(b"PK\x03\x04 not really a zip" * 10)
    code, out, err = both("score", RULEBOOK, bad)
    assert code == 1 and not out and re.search(rf"{re.escape(str(bad))}:\d+:1: 数据错误：(无法读取 Excel 文件|Excel 文件已损坏|Excel 文件中没有可读的工作表)", err), err


# ---- 8. encodings --------------------------------------------------------------------------------------
def test_gbk_csv_table_facts_file_and_audit_table_are_read(tmp_path):
    header, rows = example_rows()
    gbk = tmp_path / "自评表.csv"
    with gbk.open("w", encoding="gbk", newline="") as fh:
        csv.writer(fh).writerows([header, *[[c.replace("≥", ">=").replace("÷", "/").replace("–", "-") for c in r] for r in rows]])
    utf = tmp_path / "utf.csv"
    utf.write_text(gbk.read_text(encoding="gbk"), encoding="utf-8")
    a, b = both("score", RULEBOOK, gbk, "--format", "jsonl"), both("score", RULEBOOK, utf, "--format", "jsonl")
    assert a[1].replace(str(gbk), "F") == b[1].replace(str(utf), "F") and scores(a[1]) and "（按 GB18030 编码读取）" in a[2] and "GB18030" not in b[2]

    facts = ROOT / "examples/xingxian-2022-shuzi/facts.yaml"
    yaml_gbk = tmp_path / "facts.yaml"
    yaml_gbk.write_bytes(facts.read_text(encoding="utf-8").encode("gb18030"))
    rulebook = RULEBOOK
    want = cli("score", rulebook, facts, "--format", "json")
    assert cli("score", rulebook, yaml_gbk, "--format", "json")[:2] == (want[0], want[1].replace(str(facts), str(yaml_gbk)))

    published = ROOT / "examples/xingxian-2022-shuzi/published.csv"
    audit_gbk = tmp_path / "published.csv"
    audit_gbk.write_bytes(published.read_text(encoding="utf-8-sig").encode("gb18030"))
    code, out, err = cli("audit", audit_gbk, "--rulebook", rulebook)
    want = cli("audit", published, "--rulebook", rulebook)
    assert (code, out.replace(str(audit_gbk), "T")) == (want[0], want[1].replace(str(published), "T")) and "按 GB18030 编码读取" in err


def _rewrite_member(src: Path, dst: Path, member: str, change) -> None:
    """A copy of a zip file with one member changed."""
    with zipfile.ZipFile(src) as z:
        items = [(i, z.read(i.filename)) for i in z.infolist()]
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as out:
        for info, data in items:
            out.writestr(info.filename, change(data) if info.filename == member else data)


def test_workbook_unpacking_beyond_the_limit_is_refused_before_reading(tmp_path, monkeypatch):
    import jxdsl.xlsxread as xlsxread

    header, rows = example_rows()
    book = workbook(tmp_path / "表.xlsx", header, rows)
    with zipfile.ZipFile(book) as z:
        unpacked = sum(i.file_size for i in z.infolist())
    monkeypatch.setattr(xlsxread, "MAX_UNPACKED", unpacked - 1)
    code, out, err = both("score", RULEBOOK, book)
    assert code == 1 and not out and f"{book}:1:1: 数据错误：Excel 文件解压后有" in err and "超过上限" in err
    monkeypatch.setattr(xlsxread, "MAX_UNPACKED", unpacked)
    assert both("score", RULEBOOK, book, "--format", "jsonl")[0] == 0


def test_csv_title_rows_above_the_header_are_passed_over_and_lines_stay_the_files(tmp_path):
    header, rows = example_rows()
    table = tmp_path / "标题.csv"
    with table.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([["2022年项目支出绩效自评表"], ["单位：万元", "", ""], header, *rows])
    flat = both("score", RULEBOOK, TABLE, "--format", "jsonl")[1]
    code, out, err = both("score", RULEBOOK, table, "--format", "jsonl")
    assert scores(out) == scores(flat) and "共 49 行、6 个项目" in err
    assert f"{table}:5:1" in out and f"{table}:3:1" not in out  # the first data row is line 4 of the file, its budget row 4


def test_cells_as_excel_shows_them():
    from jxdsl.xlsxread import cell_text

    assert [cell_text(v) for v in (0.1 + 0.2, 1.0, 100.0, 1e20, 1.5e-7, -2.5, True, None, datetime.datetime(2022, 12, 31), datetime.datetime(2022, 6, 30, 8, 30))] == [
        "0.3", "1", "100", "100000000000000000000", "0.00000015", "-2.5", "TRUE", "", "2022-12-31", "2022-06-30 08:30:00"]


def test_utf16_csv_is_named_not_misread(tmp_path):
    header, rows = example_rows()
    table = tmp_path / "表.csv"
    table.write_text("\n".join(",".join(r) for r in [header, *rows]), encoding="utf-16")
    code, out, err = both("score", RULEBOOK, table)
    assert code == 1 and not out and f"{table}:1:1: 数据错误：文件是 UTF-16 编码" in err
