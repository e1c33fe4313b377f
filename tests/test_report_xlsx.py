"""The single-project workbook (jxdsl/report.py, XlsxWriter): subtotals and 合计 are SUM formulas
whose cached values are the engine's numbers, and a self-evaluation is written as the
项目支出绩效自评表 that ``forms`` reads back and ``audit`` checks.

Formulas are re-evaluated from the cached values of the cells they name (a small evaluator for
``SUM(A1:A5)+B2``), and once by LibreOffice with the cached values removed."""
from __future__ import annotations

import csv
import functools
import json
import re
import shutil
import subprocess
import zipfile
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import openpyxl
import pytest
import yaml
from click.testing import CliRunner

from jxdsl import report
from jxdsl.batch import open_run
from jxdsl.cli import main
from jxdsl.evaluate import evaluate
from jxdsl.facts import Facts
from jxdsl.facts import load as load_facts
from jxdsl.link import Linker

ROOT = Path(__file__).resolve().parent.parent
CASES = yaml.safe_load((ROOT / "examples" / "cases.yaml").read_text(encoding="utf-8"))
BOOK = "rulebooks/shanxi/xingxian-2022-self-eval.jx"
TABLE = "examples/xingxian-2022-table/self-eval.csv"
WENGANG, YULU = "2022年脱贫劳动力稳岗补助", "2021-2022年度雨露计划项目"


@functools.cache
def _book(rulebook: str):
    return Linker().load(ROOT / rulebook)


@functools.cache
def _shipped() -> list[tuple[str, object, object]]:
    """(id, book, result) of every project of every shipped case, by the interpreter."""
    out = []
    for case in CASES:
        book = _book(case["rulebook"])
        for facts in load_facts(ROOT / (case.get("table") or case["facts"])):
            result = evaluate(book, facts)
            out.append((f"{case['id']}:{result.project}", book, result))
    return out


# ---- formulas ---------------------------------------------------------------------------------
REF = r"(?:'[^']+'!)?\$?[A-Z]+\$?\d+"
TERM = re.compile(rf"([+-]?)(?:SUM\(({REF}):({REF})\)|({REF}))")
CELL = re.compile(r"(?:'([^']+)'!)?\$?([A-Z]+)\$?(\d+)")


def _cached(values, ref: str, sheet: str) -> tuple[str, int, int, Fraction]:
    """(sheet, row, column, cached value) of a reference; text counts 0 as in SUM."""
    other, letters, row = CELL.fullmatch(ref).groups()
    col = openpyxl.utils.cell.column_index_from_string(letters)
    v = values[other or sheet].cell(int(row), col).value
    return other or sheet, int(row), col, Fraction(str(v)) if isinstance(v, (int, float)) and not isinstance(v, bool) else Fraction(0)


def evaluate_formula(formula: str, values, sheet: str) -> Fraction:
    """``=SUM(A1:A5)+B2-C3`` (sheet-qualified references allowed) from the cached values of the cells."""
    body, total, pos = formula.removeprefix("="), Fraction(0), 0
    while pos < len(body):
        m = TERM.match(body, pos)
        assert m and m.end() > pos, f"not a sum of cells: {formula}"
        sign = -1 if m[1] == "-" else 1
        if m[4]:
            total += sign * _cached(values, m[4], sheet)[3]
        else:
            s, r1, c, _ = _cached(values, m[2], sheet)
            s2, r2, c2, _ = _cached(values, m[3], s)  # A1:A5: the range's end is on its start's sheet
            assert (s, c) == (s2, c2), formula
            letters = openpyxl.utils.get_column_letter(c)
            total += sign * sum((_cached(values, f"'{s}'!{letters}{r}", sheet)[3] for r in range(r1, r2 + 1)), Fraction(0))
        pos = m.end()
    return total


def _formulas(path: Path) -> list[tuple[str, str, str, object]]:
    """(sheet, cell, formula, cached value) of every formula of a workbook."""
    formulas, values = openpyxl.load_workbook(path), openpyxl.load_workbook(path, data_only=True)
    return [(ws.title, c.coordinate, c.value, values[ws.title][c.coordinate].value)
            for ws in formulas for row in ws.iter_rows() for c in row if isinstance(c.value, str) and c.value.startswith("=")]


@pytest.mark.parametrize("item", range(len(_shipped())), ids=[i for i, _, _ in _shipped()])
def test_every_formula_equals_its_cached_value(item, tmp_path):
    """Every shipped case: each formula, recomputed from the cells it names, gives its cached value,
    which is the engine's number; the 合计 is a formula wherever the total is a plain sum."""
    _, book, result = _shipped()[item]
    out = tmp_path / "r.xlsx"
    report.write_xlsx([result], book, out)
    values = openpyxl.load_workbook(out, data_only=True)
    found = _formulas(out)
    for sheet, cell, formula, cached in found:
        assert isinstance(cached, (int, float)), (sheet, cell, formula, cached)
        assert evaluate_formula(formula, values, sheet) == Fraction(str(cached)), (sheet, cell, formula, cached)
    totals = [cached for _, _, f, cached in found if cached == report.number(result.total, result.digits)]
    if report._exact_total(result) and not result.bonus_items and result.total is not None:
        assert totals, "the 合计 is not a formula"


def test_a_capped_bonus_total_is_a_number_not_a_formula(tmp_path):
    """加分 over its 上限: the total is not the sum of the rows, so it is written as the number."""
    path = tmp_path / "book.jx"
    path.write_text("规则集 顶\n甲 权重 100 酌情\n加分 上限 3\n  创新 加 5\n", encoding="utf-8")
    book = Linker().load(path)
    result = evaluate(book, Facts(project="顶", values={}, evaluations={"甲": {"得分": 90}, "创新": {"得分": 5}}))
    assert result.total == 93
    report.write_xlsx([result], book, tmp_path / "r.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "r.xlsx")["得分表"]
    total_row = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "合计")
    head = {c.value: c.column for c in ws[2]}
    assert ws.cell(total_row, head["分值"]).value == "=E3"  # 分值: 甲's weight (the 加分 rows are not in 满分)
    assert ws.cell(total_row, head["得分"]).value == 93  # 90 + 5 capped at 3: no formula
    summary = openpyxl.load_workbook(tmp_path / "r.xlsx")["综合评定"]
    assert [c.value for c in summary["C"]][-1] == 93


def _strip_cached(src: Path, dst: Path) -> None:
    """The workbook with the formulas' cached values removed: LibreOffice must compute them."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename.startswith("xl/worksheets/sheet"):
                data = re.sub(rb"(<f>[^<]*</f>)<v>[^<]*</v>", rb"\1", data)
            zout.writestr(info, data)


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")
def test_libreoffice_recalculates_the_cached_values(tmp_path):
    """Qixia's 得分表 + 综合评定 (cross-sheet sums) and a 自评表: LibreOffice computes every formula
    (the cached values removed) to the value the tool cached, as shown (0.00)."""
    picks = [x for x in _shipped() if x[0].startswith(("qixia-2021:", f"xingxian-2022-table:{WENGANG}"))]
    assert len(picks) == 2
    for n, (_, book, result) in enumerate(picks):
        out, bare = tmp_path / f"r{n}.xlsx", tmp_path / f"bare{n}.xlsx"
        report.write_xlsx([result], book, out)
        _strip_cached(out, bare)
        run = subprocess.run(["soffice", "--headless", "--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1",
                              "--outdir", str(tmp_path), str(bare)], capture_output=True, text=True, timeout=180)
        assert run.returncode == 0, run.stderr
        found = _formulas(out)
        assert found
        for sheet, cell, _, cached in found:
            with (tmp_path / f"bare{n}-{sheet}.csv").open(encoding="utf-8", newline="") as fh:  # one CSV per sheet
                rows = list(csv.reader(fh))
            r, c = openpyxl.utils.cell.coordinate_to_tuple(cell)
            shown = rows[r - 1][c - 1]
            assert shown and Decimal(shown) == Decimal(str(cached)).quantize(Decimal(shown)), (sheet, cell, shown, cached)


# ---- the 自评表 ---------------------------------------------------------------------------------
def _score(*args: str):
    run = CliRunner().invoke(main, ["score", *args])
    return run.exit_code, run.stdout


def _self_eval(tmp_path: Path, project: str, engine: str = "interpreter") -> Path:
    out = tmp_path / f"{project}.xlsx"
    code, output = _score(str(ROOT / BOOK), str(ROOT / TABLE), "--project", project, "--format", "xlsx", "-o", str(out), "--engine", engine)
    assert code == 0, output
    return out


def _cells(path: Path) -> list[list]:
    ws = openpyxl.load_workbook(path, data_only=True).active
    return [[c.value for c in row] for row in ws.iter_rows()]


@pytest.mark.parametrize("project", [WENGANG, YULU])
def test_the_self_evaluation_reads_back_as_a_form_with_the_same_total_and_grade(project, tmp_path):
    """Score the Xing county table → 自评表 → score that form: the same total and grade; audit
    finds nothing but the evaluator's judgements that depart from the rule (稳岗: 1 for 0.43)."""
    book = _book(BOOK)
    (result,) = [r for f in load_facts(ROOT / TABLE) if f.project == project for r in [evaluate(book, f)]]
    out = _self_eval(tmp_path, project)
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["自评表"]
    code, output = _score(str(ROOT / BOOK), str(out), "--format", "json", "--engine", "interpreter")
    assert code == 0, output
    (again,) = json.loads(output)
    assert (again["project"], Fraction(str(again["total"])), again["grade"]) == (project, result.total, result.grade)
    run = CliRunner().invoke(main, ["audit", str(out), "--rulebook", str(ROOT / BOOK), "--format", "json"])
    findings = json.loads(run.stdout)["findings"]
    judged = {"/".join(r.path) for r in result.walk() if any(s.kind in ("override", "tier", "judgement") for s in r.steps)}
    assert {f["path"] for f in findings} <= judged, findings
    assert run.exit_code == (1 if findings else 0), run.output
    if project == YULU:
        assert findings == []


def test_the_self_evaluation_layout(tmp_path, snapshot):
    """稳岗补助's 自评表: header, funds block with the exact rate, indicators with 年度指标值 and
    实际完成值, 总分 as a formula, the grade ticked; 扣分说明 and 评价得分 outside the form."""
    out = _self_eval(tmp_path, WENGANG)
    ws = openpyxl.load_workbook(out).active
    rows = {ws.cell(r, 1).value: r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value}
    assert ws["A1"].value == "项目支出绩效自评表" and ws["B3"].value == WENGANG
    funds = rows["年度资金总额"]
    assert ws.cell(funds - 1, 1).value == "项目资金（万元）"
    assert [ws.cell(funds, c).value for c in range(4, 9)] == [883.56, 152.52, 10, 0.17262, 1.73]  # 152.52 ÷ 883.56 = 0.172620…
    assert ws.cell(funds, 7).number_format == "0.00%"
    assert ws.cell(rows["总分"], 7).value.startswith("=H6+SUM(G8:")
    assert "良 ☑" in ws.cell(rows["项目用款单位自我评定"], 3).value and "优 □" in ws.cell(rows["项目用款单位自我评定"], 3).value
    head = rows["一级指标"]
    assert ws.cell(head, 9).fill.fgColor.rgb != ws.cell(head, 1).fill.fgColor.rgb  # 扣分说明: not a form column
    assert _cells(out) == snapshot


def test_both_engines_write_the_same_self_evaluation(tmp_path):
    """Interpreter and DuckDB Results of two Xing county projects give identical workbooks' cells
    (the DuckDB Result carries the rows' 说明, 档次, 评价得分 and the funds facts too)."""
    book = _book(BOOK)
    written = {}
    for engine in ("interpreter", "duckdb"):
        run = open_run(book, ROOT / TABLE, engine)
        results = {r.project: r for r in run.results()}
        for project in (WENGANG, YULU):
            out = tmp_path / f"{engine}-{len(written)}.xlsx"
            report.write_xlsx([results[project]], book, out)
            written[(engine, project)] = (_cells(out), [f for _, _, f, _ in _formulas(out)])
    for project in (WENGANG, YULU):
        assert written[("interpreter", project)] == written[("duckdb", project)], project
