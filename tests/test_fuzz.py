"""Fuzzing: mutated rulebooks, facts, tables and formulas never crash the engine.

A crash is any exception other than the project's own error types. The CI budget is fixed
(JXDSL_FUZZ_EXAMPLES, default 100 inputs per target); docs/fuzzing.md describes the longer run.
"""
from __future__ import annotations

import datetime
import functools
import os
import re
import shutil
import tempfile
from fractions import Fraction
from pathlib import Path

import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jxdsl.cli import main
from jxdsl.errors import JxError
from jxdsl.evaluate import evaluate
from jxdsl.facts import Facts, TargetRow
from jxdsl.facts import load as load_facts
from jxdsl.link import Linker
from jxdsl.parse import parse

ROOT = Path(__file__).resolve().parent.parent
BUDGET = int(os.environ.get("JXDSL_FUZZ_EXAMPLES", "100"))
# CI tries a fixed, reproducible set of inputs; JXDSL_FUZZ_RANDOM=1 explores new ones (the long run)
FUZZ = settings(
    max_examples=BUDGET, deadline=None, suppress_health_check=list(HealthCheck), derandomize=not os.environ.get("JXDSL_FUZZ_RANDOM")
)
RULEBOOKS = sorted((ROOT / "rulebooks").rglob("*.jx"))
CASES = yaml.safe_load((ROOT / "examples" / "cases.yaml").read_text(encoding="utf-8"))
SINGLE = [c for c in CASES if not str(c["facts"]).endswith((".csv", ".xlsx"))]
# a target whose every input is a whole `score` run through DuckDB (seconds each) gets a quarter of the
# budget, so that one test does not hold the CI run for minutes; the long runs raise JXDSL_FUZZ_EXAMPLES
FUZZ_CLI = settings(FUZZ, max_examples=max(10, BUDGET // 4))

# characters that matter to the language, plus some that never should
ALPHABET = list("权重正向反向满分达标清单档次分段扣每处得若则问卷加上限调整替换删除新增=＝:：(（)）[]［］,，%％≥≤<>+-×÷*/ \t\u3000\n#0123456789.万元人年月底\"'\\{}$`") + ["__import__('os')", "最小(", "0/0", "1e309"]
TEMP = Path(tempfile.mkdtemp(prefix="jxdsl-fuzz-"))


def _linked_or_located(text: str, name: str):
    """The rulebook linked, or None after checking that its error is located (a crash fails)."""
    path = TEMP / name
    path.write_text(text, encoding="utf-8")
    try:
        return Linker().load(path)
    except JxError as e:
        assert e.span is None or e.span.line >= 1
        return None
shutil.copytree(ROOT / "rulebooks", TEMP / "rulebooks")


def mutate(text: str, data) -> str:
    """Insert, delete, replace or duplicate characters and lines, or re-indent a line."""
    for _ in range(data.draw(st.integers(1, 6))):
        op = data.draw(st.sampled_from(["insert", "delete", "replace", "dup_line", "drop_line", "indent", "truncate"]))
        if not text:
            text = data.draw(st.sampled_from(ALPHABET))
            continue
        i = data.draw(st.integers(0, len(text) - 1))
        lines = text.split("\n")
        k = data.draw(st.integers(0, len(lines) - 1))
        if op == "insert":
            text = text[:i] + data.draw(st.sampled_from(ALPHABET)) + text[i:]
        elif op == "delete":
            text = text[:i] + text[i + data.draw(st.integers(1, 8)) :]
        elif op == "replace":
            text = text[:i] + data.draw(st.sampled_from(ALPHABET)) + text[i + 1 :]
        elif op == "dup_line":
            text = "\n".join(lines[: k + 1] + [lines[k]] + lines[k + 1 :])
        elif op == "drop_line":
            text = "\n".join(lines[:k] + lines[k + 1 :])
        elif op == "indent":
            lines[k] = data.draw(st.sampled_from(["", " ", "  ", "\t", "\u3000", "      "])) + lines[k].lstrip()
            text = "\n".join(lines)
        else:
            text = text[:i]
    return text


@FUZZ
@given(st.sampled_from(RULEBOOKS), st.data())
def test_mutated_rulebooks_link_or_report(path, data):
    rel = path.relative_to(ROOT)
    text = mutate(path.read_text(encoding="utf-8"), data)
    target = TEMP / rel.parent / f"fuzz-{rel.name}"
    target.write_text(text, encoding="utf-8")
    try:
        book = Linker().load(target)
    except JxError as e:
        assert str(e)  # every error renders (location, caret, message) without failing
        return
    assert book.max >= 0


def _junk():
    scalars = st.one_of(
        st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=12), st.sampled_from(["95.3%", "-1万元", "0", "0%", "1e5", "2021年13月", "2022年底", "≥98%", "全部", "是", "否", "合格"]),
    )
    return st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=4)), max_leaves=8)


@FUZZ
@given(st.sampled_from(SINGLE), st.data())
def test_mutated_facts_score_or_report(case, data):
    book = Linker().load(ROOT / case["rulebook"])
    (facts,) = load_facts(ROOT / case["facts"])
    values, records, rows = dict(facts.values), dict(facts.evaluations), list(facts.targets)
    for _ in range(data.draw(st.integers(1, 5))):
        where = data.draw(st.sampled_from(["value", "record", "row", "drop"]))
        if where == "value" and values:
            values[data.draw(st.sampled_from(sorted(values)))] = data.draw(_junk())
        elif where == "record" and records:
            key = data.draw(st.sampled_from(sorted(records)))
            records[key] = data.draw(_junk()) if data.draw(st.booleans()) else {data.draw(st.sampled_from(["档次", "得分", "发现", "满足", "未满足", "问卷", "不适用", "发生", "次数"])): data.draw(_junk())}
        elif where == "row" and rows:
            k = data.draw(st.integers(0, len(rows) - 1))
            field = data.draw(st.sampled_from(["weight", "target", "actual", "score", "tier"]))
            rows[k] = TargetRow(**{**{f: getattr(rows[k], f) for f in ("first", "second", "third", "weight", "target", "actual", "tier", "score", "note")}, field: data.draw(_junk())})
        elif values:
            values.pop(data.draw(st.sampled_from(sorted(values))))
    result = evaluate(book, Facts(facts.project, values, records, tuple(rows), facts.source))
    for r in result.walk():
        assert r.score is None or 0 <= r.score <= r.weight, r.path
    if result.total is not None:
        assert result.total >= 0


@FUZZ
@given(st.lists(st.sampled_from(["甲", "乙", "100%", "3万元", "0", "-", "+", "×", "÷", "(", ")", "最小(", ",", "2021年12月", "5人", "≥"]), min_size=1, max_size=14), st.data())
def test_random_formulas_evaluate_or_report(tokens, data):
    text = "规则集 公式\n事实\n  甲 数值\n  乙 数值\n值 = " + " ".join(tokens) + "\n值 权重 10 正向 满分=100%\n"
    path = TEMP / "formula.jx"
    path.write_text(text, encoding="utf-8")
    try:
        book = Linker().load(path)
    except JxError:
        return
    env = {"甲": data.draw(st.sampled_from(["0", "1", "50%", "2万元", "-3"])), "乙": data.draw(st.sampled_from(["0", "2", "100%", "5人"]))}
    result = evaluate(book, Facts("项目", env))
    (r,) = result.indicators
    assert r.score is None or 0 <= r.score <= 10


@FUZZ_CLI
@given(st.lists(st.lists(st.one_of(st.text(max_size=8), st.sampled_from(["产出指标", "≥98%", "100%", "5", "预算执行率", "10万元", "提高"])), min_size=0, max_size=11), max_size=6))
def test_random_tables_score_or_report(rows):
    path = TEMP / "table.csv"
    header = "项目,一级指标,二级指标,三级指标,分值,年度指标值,实际完成值,档次,评价得分,说明"
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf)
    for r in rows:
        w.writerow(r)
    path.write_text(header + "\n" + buf.getvalue(), encoding="utf-8")
    run = CliRunner().invoke(main, ["score", str(ROOT / "rulebooks/shanxi/xingxian-2022-self-eval.jx"), str(path), "--format", "jsonl"])
    assert run.exit_code in (0, 1, 2), run.output
    assert run.exception is None or isinstance(run.exception, SystemExit), repr(run.exception)


@FUZZ
@given(st.lists(st.sampled_from(ALPHABET), max_size=60).map("".join))
def test_arbitrary_text_parses_or_reports(text):
    try:
        parse("规则集 任意\n" + text, "any.jx")
    except JxError as e:
        assert e.span is None or e.span.line >= 1


def test_fuzz_targets_cover_every_rulebook_and_case():
    assert len(RULEBOOKS) >= 8 and len(SINGLE) >= 10
    assert Fraction(BUDGET) > 0


# ---- inputs: facts documents with YAML anchors, aliases, merge keys and repeated keys (issue 12) ----
_KEYS = ["项目", "事实", "评价", "目标表", "年度", "预算资金", "效果", "档次", "得分", "发现", "<<", "a", "1", "\"a\"", "'项目'", "? x"]
_SCALARS = ["甲", "3万元", "95%", "1e309", "null", "~", "true", "'x'", "\"\\ud800\"", "\"\\ud83d\\ude00\"", "[]", "{}", "*a", "&a 1", "&b [1, *b]", "!!python/object:os.system x", "!!binary aGk=", "-1", "2021-13-45", "0x_", "!!int abc", "! x"]


def _yaml_node(data, depth: int) -> str:
    """YAML text of a random node: block or flow mappings and lists, anchors and aliases anywhere."""
    kind = data.draw(st.sampled_from(["scalar", "map", "list", "flow"] if depth < 6 else ["scalar"]))
    pad = "  " * depth
    anchor = data.draw(st.sampled_from(["", "", "", "&a ", "&b ", "*a", "*b"]))
    if anchor.startswith("*"):
        return " " + anchor
    if kind == "scalar":
        return " " + anchor + data.draw(st.sampled_from(_SCALARS))
    if kind == "flow":
        items = data.draw(st.lists(st.sampled_from(_KEYS), max_size=4))
        return " " + anchor + "{" + ", ".join(f"{k}: {data.draw(st.sampled_from(_SCALARS))}" for k in items) + "}"
    if kind == "list":
        items = [_yaml_node(data, depth + 1) for _ in range(data.draw(st.integers(0, 3)))]
        return " " + anchor + "".join(f"\n{pad}-{item}" for item in items) if items else " []"
    keys = data.draw(st.lists(st.sampled_from(_KEYS), min_size=1, max_size=4))  # repeats drawn freely
    return (" " + anchor).rstrip() + "".join(f"\n{pad}{k}:{_yaml_node(data, depth + 1)}" for k in keys)


def _json_node(data, depth: int) -> str:
    """JSON text of a random node, with keys repeated at any depth and escapes that are lone surrogates."""
    kind = data.draw(st.sampled_from(["scalar", "map", "list"] if depth < 6 else ["scalar"]))
    if kind == "scalar":
        return data.draw(st.sampled_from(['"甲"', "3", "1e999", "null", "true", '"\\ud800"', '"\\ud83d\\ude00"', '"a\\"b"', "-0.5", "9" * 4400]))
    if kind == "list":
        return "[" + ", ".join(_json_node(data, depth + 1) for _ in range(data.draw(st.integers(0, 3)))) + "]"
    keys = data.draw(st.lists(st.sampled_from(["项目", "事实", "评价", "目标表", "效果", "档次", "得分", "a", "a\\\"", "\\ud800"]), max_size=4))
    sep = data.draw(st.sampled_from([", ", ",\n ", ",\t"]))
    return "{" + sep.join(f'"{k}": {_json_node(data, depth + 1)}' for k in keys) + "}"


@FUZZ
@given(st.data(), st.sampled_from(["yaml", "json"]))
def test_facts_documents_with_aliases_and_repeated_keys_load_or_report(data, fmt):
    if fmt == "yaml":
        text = "项目: 甲" + "".join(f"\n{k}:{_yaml_node(data, 1)}" for k in data.draw(st.lists(st.sampled_from(_KEYS), max_size=4)))
    else:
        text = '{"项目": "甲", ' + ", ".join(f'"{k}": {_json_node(data, 1)}' for k in data.draw(st.lists(st.sampled_from(["事实", "评价", "目标表", "项目"]), max_size=3))) + "}"
    path = TEMP / f"doc.{fmt}"
    path.write_text(text, encoding="utf-8")
    try:
        (facts,) = load_facts(path)
    except JxError as e:
        assert e.span is None or e.span.line >= 1
        str(e)  # rendering with the excerpt must not fail either
        return
    from jxdsl.inputs import from_facts

    from_facts(facts)
    run = CliRunner().invoke(main, ["score", str(ROOT / "tests/errors/facts/rulebook.jx"), str(path), "--format", "json"])
    assert run.exit_code in (0, 1, 2), run.output
    assert run.exception is None or isinstance(run.exception, SystemExit), repr(run.exception)


# ---- output files and reports (issue 12): any text, any total, every writer -------------------------
REPORT_BOOK = "规则集 输出模糊\n等级 优 ≥90 差\n主体 权重 {w} 酌情\n  解释 \"解释\"\n次要 权重 10 酌情\n"
REPORT_TEXT = st.lists(st.one_of(st.characters(), st.sampled_from([*"<>&|*_`#[]()!\\\n\r-+=~", "<script>", "```", "&lt;", "1. ", "\ud800", "\udfff"])), max_size=20).map("".join)


@functools.cache
def _report_book(weight: int):
    path = TEMP / f"report-fuzz-{weight}.jx"
    path.write_text(REPORT_BOOK.format(w=weight), encoding="utf-8")
    return Linker().load(path)


@FUZZ
@given(REPORT_TEXT, REPORT_TEXT, st.sampled_from([10, 100, 10**6, 10**15]), st.lists(st.integers(0, 100), min_size=1, max_size=3), st.data())
def test_reports_write_any_text_and_total(project, note, weight, percents, data):
    """Project names and notes of any characters (lone surrogates, markup, control characters)
    and totals of any size: every format renders and encodes, the Markdown renders to only its
    own tags, charts stay bounded."""
    from markdown_it import MarkdownIt

    from jxdsl import report, report_docx, report_html, report_md
    from jxdsl.explain import dumps, render_text, to_json
    from jxdsl.outfile import safe_text

    book = _report_book(weight)
    results = [evaluate(book, Facts(f"{project}{i}", {}, evaluations={"主体": {"得分": Fraction(weight * p, 100), "说明": note}, "次要": {"得分": 5}}))
               for i, p in enumerate(percents)]
    try:
        md = report_md.render_md(results, book)
        for text in (md, report_html.render_html(results, book), render_text(results[0]), dumps([to_json(r) for r in results])):
            safe_text(text).encode("utf-8")
        html = MarkdownIt("commonmark").enable("table").render(md)
        assert not set(re.findall(r"<([a-zA-Z0-9]+)", html)) - {"h1", "h2", "h3", "p", "strong", "table", "thead", "tbody", "tr", "th", "td", "br", "ul", "li", "pre", "code"}
        assert len(report.histogram([r.total for r in results if r.total is not None])) <= report.MAX_BINS
        if data.draw(st.integers(0, 9)) == 9:  # the binary writers are slow: about one input in ten
            report.write_xlsx(results, book, TEMP / "r.xlsx")
            report_docx.write_docx(results, book, TEMP / "r.docx")
    except JxError:
        pass


# ---- tables: XLSX structure (hidden sheets, merged cells, blank rows, duplicate headers, cell types, damaged members) ----
_XLSX_HEADERS = ["项目", "一级指标", "二级指标", "三级指标", "分值", "年度指标值", "实际完成值", "档次", "评价得分", "说明", "路径", "得分", "", "分值 ", None]
_XLSX_CELLS = st.one_of(
    st.none(), st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=6), st.sampled_from(["甲", "产出指标", "预算执行率", "≥98%", "100%", "10万元", " 0", "=A1+1", "=1/0"]),
    st.integers(-10, 10**12), st.floats(allow_nan=False, allow_infinity=False, width=32), st.booleans(),
    st.datetimes(min_value=datetime.datetime(1990, 1, 1), max_value=datetime.datetime(2100, 1, 1)),
)


@st.composite
def _workbooks(draw) -> bytes:
    """A workbook of one to three sheets, any of them hidden or active, with blank leading rows,
    any header (duplicates, blanks), cells of every type, formulas, merged ranges."""
    import io

    import openpyxl

    wb = openpyxl.Workbook()
    for n in range(draw(st.integers(1, 3))):
        ws = wb.active if n == 0 else wb.create_sheet()
        ws.title = draw(st.sampled_from(["自评表", "Sheet", "说明", "表 2"])) + str(n)
        for _ in range(draw(st.integers(0, 2))):
            ws.append([])
        ws.append(draw(st.lists(st.sampled_from(_XLSX_HEADERS), max_size=10)))
        for row in draw(st.lists(st.lists(_XLSX_CELLS, max_size=10), max_size=6)):
            ws.append(row)
        for _ in range(draw(st.integers(0, 3))):
            r, c = draw(st.integers(1, 8)), draw(st.integers(1, 8))
            ws.merge_cells(start_row=r, start_column=c, end_row=r + draw(st.integers(0, 4)), end_column=c + draw(st.integers(0, 2)))
        if draw(st.booleans()) and n:
            ws.sheet_state = draw(st.sampled_from(["hidden", "veryHidden"]))
    if all(ws.sheet_state != "visible" for ws in wb.worksheets):
        wb.worksheets[0].sheet_state = draw(st.sampled_from(["visible", "hidden"]))
    wb.active = draw(st.integers(0, len(wb.worksheets) - 1))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _damage(data: bytes, draw) -> bytes:
    """The workbook, or a copy with one zip member truncated, garbled, emptied or left out."""
    import io
    import zipfile

    how = draw(st.sampled_from(["none", "none", "truncate", "garble", "empty", "drop", "zip"]))
    if how == "none":
        return data
    if how == "zip":
        return data[: draw(st.integers(0, len(data)))]
    src = zipfile.ZipFile(io.BytesIO(data))
    victim = draw(st.sampled_from(sorted(src.namelist())))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name in src.namelist():
            body = src.read(name)
            if name == victim:
                if how == "drop":
                    continue
                at = draw(st.integers(0, max(len(body) - 1, 0)))
                body = b"" if how == "empty" else body[:at] if how == "truncate" else body[:at] + draw(st.binary(min_size=1, max_size=8)) + body[at + 1 :]
            z.writestr(name, body)
    return out.getvalue()


@FUZZ
@given(_workbooks(), st.data())
def test_xlsx_structure_scores_or_reports(book, data):
    path = TEMP / "book.xlsx"
    path.write_bytes(_damage(book, data.draw))
    engine = data.draw(st.sampled_from(["interpreter", "duckdb"]))
    sheet = data.draw(st.sampled_from([[], ["--sheet", "自评表0"], ["--sheet", "说明1"], ["--sheet", "没有"]]))
    for args in (["score", str(ROOT / "rulebooks/shanxi/xingxian-2022-self-eval.jx"), str(path), "--format", "jsonl", "--engine", engine, *sheet],
                 ["audit", str(path), *sheet]):
        run = CliRunner().invoke(main, args)
        assert run.exit_code in (0, 1, 2), run.output
        assert run.exception is None or isinstance(run.exception, SystemExit), repr(run.exception)
        assert "Traceback" not in run.output


# ---- numbers: huge and special numeric texts in facts, target tables and audit tables (issue 12) ----
_NUMBER_PIECES = ["1e999999999", "1E-99999999", "Infinity", "-inf", "NaN", "nan", "9" * 5000, "0" * 4400, "1,50", "12,500", "1,234,567.5", "12，500",
                  "٣٠", "𝟗", "５", " ", "\xa0", "\u3000", ".", ",", "-", "+", "e", "万元", "%", "人", "≥", "2021年12月", "0.5"]
NUMERIC_TEXT = st.lists(st.sampled_from(_NUMBER_PIECES), min_size=1, max_size=5).map("".join)


def _quick(run_once):
    """Each example within seconds: a hang (Fraction(Decimal('1e999999999'))) fails the target."""
    import time

    start = time.monotonic()
    run_once()
    assert time.monotonic() - start < 20, "a numeric text took too long to read"


@FUZZ
@given(st.lists(NUMERIC_TEXT, min_size=4, max_size=4), st.booleans())
def test_numeric_texts_in_facts_never_crash(values, quoted):
    """Facts written as YAML scalars (quoted or not: YAML's own ints and floats) score or report."""
    names = ["预算资金", "实际支出资金", "不规范资金占比", "培训人数"]
    body = "".join(f"  {n}: {json_quote(v) if quoted else v}\n" for n, v in zip(names, values))
    path = TEMP / "numbers.yaml"
    path.write_text("项目: 数\n事实:\n" + body, encoding="utf-8")

    def once():
        try:
            facts = load_facts(path)
            book = Linker().load(ROOT / "tests/errors/facts/rulebook.jx")
            for f in facts:
                evaluate(book, f)
        except JxError:
            pass

    _quick(once)


def json_quote(text: str) -> str:
    import json

    return json.dumps(text, ensure_ascii=False)


@FUZZ
@given(st.lists(NUMERIC_TEXT, min_size=3, max_size=3))
def test_numeric_texts_in_target_tables_never_crash(cells):
    import csv
    import io

    weight, target, actual = cells
    buf = io.StringIO()
    csv.writer(buf).writerows([
        ["项目", "一级指标", "二级指标", "三级指标", "分值", "年度指标值", "实际完成值"],
        ["甲", "产出指标", "数量指标", "人数", weight, target, actual],
        ["甲", "预算执行率", "", "预算执行率", "10", target, actual],
    ])
    path = TEMP / "numbers.csv"
    path.write_text(buf.getvalue(), encoding="utf-8")

    def once():
        # the interpreter (DuckDB reads the table in every engine; test_numbers.py runs both engines on such cells)
        run = CliRunner().invoke(main, ["score", str(ROOT / "rulebooks/shanxi/xingxian-2022-self-eval.jx"), str(path), "--format", "jsonl", "--engine", "interpreter"])
        assert run.exit_code in (0, 1, 2) and "Traceback" not in run.output, run.output
        assert run.exception is None or isinstance(run.exception, SystemExit), repr(run.exception)

    _quick(once)


@FUZZ
@given(st.lists(NUMERIC_TEXT, min_size=4, max_size=4))
def test_numeric_texts_in_audit_tables_never_crash(cells):
    import csv
    import io

    weight, score, target, actual = cells
    buf = io.StringIO()
    csv.writer(buf).writerows([["路径", "分值", "得分", "指标值", "实际值"], ["合计", weight, score, "", ""], ["甲", weight, score, target, actual]])
    path = TEMP / "audit-numbers.csv"
    path.write_text(buf.getvalue(), encoding="utf-8")

    def once():
        run = CliRunner().invoke(main, ["audit", str(path)])
        assert run.exit_code in (0, 1, 2) and "Traceback" not in run.output, run.output
        assert run.exception is None or isinstance(run.exception, SystemExit), repr(run.exception)

    _quick(once)


# ---- issue 12, language: derived-value graphs, bands and bare numbers --------------------------
_BOUNDS = ["0", "1", "20", "5%", "20%", "-3%", "3万元", "24人", "2021年12月"]


@FUZZ
@given(
    st.lists(st.tuples(st.integers(0, 30), st.sampled_from(["+", "-", "×", "÷"]), st.integers(0, 30)), min_size=1, max_size=30),
    st.lists(st.tuples(st.sampled_from(["≥", "≤", ">", "<", "="]), st.sampled_from(_BOUNDS)), min_size=1, max_size=5),
    st.booleans(),
    st.data(),
)
def test_random_derived_graphs_and_bands_link_or_report(edges, bands, otherwise, data):
    """Derived values on one another in any order (cycles, shared inputs, missing ones), then bands
    and 若 conditions with any bounds: a located error or a score in every engine's kernel, fast."""
    names = [f"量{i}项" for i in range(len(edges))]
    pick = lambda k: names[k] if k < len(names) else ("底数" if k % 2 else "缺失")  # noqa: E731
    lines = [f"{names[i]} = {pick(a)} {op} {pick(b)}" for i, (a, op, b) in enumerate(edges)]
    rule = " ".join(f"{op}{bound}:1" for op, bound in bands) + (" 否则:0" if otherwise else "")
    text = "规则集 图\n事实\n  底数 数值\n  占比 百分比\n" + "\n".join(lines) + f"\n{names[-1]} 权重 1 分段 {rule}\n"
    text += f"乙 权重 1 扣分 每处1 扣完为止\n  若 占比 {bands[0][0]}{bands[0][1]} 则 0\n"
    book = _linked_or_located(text, "graph.jx")
    if book is None:
        return
    env = {"底数": data.draw(st.sampled_from(["0", "2", "7", "50%", "3万元"])), "占比": data.draw(st.sampled_from(["25%", "0%"]))}
    result = evaluate(book, Facts("项目", env, {"乙": {"发现": []}}))
    assert all(r.score is None or 0 <= r.score <= r.weight for r in result.indicators)


# ---- issue 13, audit: random published tables, with and without a rulebook ----------------------
_AUDIT_PATHS = ["产出指标", "产出指标/数量指标", "产出指标/数量指标/甲", "产出指标/数量指标/乙", "效益指标/社会效益指标/丙",
                "预算执行率", "加分", "加分/创新", "扣分/作假", "合计", "甲", "其他/丁", "", " ", "/", "产出指标//甲"]
_AUDIT_CELLS = ["", "0", "5", "4.84", "1.8", "2.1548", "10", "100", "约5", "5分", "-1", "1,000", "90.5.1", "１２．５", "nan", "1e3"]
_AUDIT_VALUES = ["", "≥100%", "≤5万元", "96.8%", "37.944%", "1271人", "1.47万人", "合格", "≥1,200人", "12,00人", "2022年底"]


# ---- issue 13, area "round": 小数 per indicator / parent / 默认规则 line, 满分, 等级 按得分率 ----------
# mostly valid clauses (so that most inputs are scored), some wrong ones
_ROUNDINGS = st.one_of(
    st.sampled_from(["", "小数 0 位 截断", "小数 1 位 进一", "小数 2 位 进一", "小数 2 位", "小数 0 位 四舍五入"]),
    st.tuples(st.sampled_from(["0", "3", "-1", "7", "1.5", "2位", "x"]), st.sampled_from(["", "截断", "进一", "进二"])).map(lambda t: f"小数 {t[0]} 位 {t[1]}".rstrip()),
)


@FUZZ
@given(
    st.lists(st.tuples(st.sampled_from(_AUDIT_PATHS), st.sampled_from(_AUDIT_CELLS), st.sampled_from(_AUDIT_CELLS), st.sampled_from(_AUDIT_VALUES), st.sampled_from(_AUDIT_VALUES)), max_size=12),
    st.sampled_from([None, "rulebooks/national/self-eval.jx", "tests/rulebooks/self-eval-truncate.jx", "rulebooks/shandong/qixia-2021.jx"]),
)
def test_random_audit_tables_report_findings_or_errors(rows, rulebook):
    """Any table: findings (exit 1 when there is any, rounding notes included) or a located
    error; never a crash, and every finding names its line."""
    import csv
    import io
    import json

    buf = io.StringIO()
    csv.writer(buf).writerows([["路径", "分值", "得分", "指标值", "实际值"], *rows])
    path = TEMP / "audit-random.csv"
    path.write_text(buf.getvalue(), encoding="utf-8")
    args = ["audit", str(path), "--format", "json"] + (["--rulebook", str(ROOT / rulebook)] if rulebook else [])
    run = CliRunner().invoke(main, args)
    assert run.exception is None or isinstance(run.exception, SystemExit), repr(run.exception)
    assert run.exit_code in (0, 1, 2) and "Traceback" not in run.output, run.output
    if run.output.startswith("{"):
        findings = json.loads(run.output)["findings"]
        assert run.exit_code == (1 if findings else 0)
        assert all(f["line"] >= 2 for f in findings)


@FUZZ
@given(
    st.lists(_ROUNDINGS, min_size=4, max_size=4),
    st.sampled_from(["", "", "满分 100\n", "满分 90\n", "满分 0\n"]),
    st.sampled_from(["", "等级 按得分率 优 ≥90% 良 ≥80% 差\n", "等级 按得分率 优 ≥90% 良 ≥80% 差\n", "等级 按得分率 优 ≥90 差\n", "等级 优 ≥90% 差\n", "等级 按得分率 优 ≥120% 差\n"]),
    st.lists(st.sampled_from(["0%", "33.3333%", "71.548%", "99.995%", "1/3", "120%"]), min_size=2, max_size=2),
    st.sampled_from(["", "5", "7.19", "45", "-1"]),
)
def test_roundings_maxima_and_rate_grades_link_or_report(roundings, declared, grades, values, given_score):
    """Any 小数 on the header, an indicator, a parent and a 默认规则 line, any 满分 and 等级: a located
    error, or scores within their weights, rounded to no more decimals than the header's."""
    r = [roundings[0].replace("小数 0 位", "小数 2 位"), *roundings[1:]]  # a header with decimals, mostly
    text = (
        f"规则集 舍入\n{r[0]}\n{declared}{grades}"
        f"甲 权重 45 正向 满分=100% {r[1]}\n"
        f"乙组 权重 45 {r[2]}\n  乙 权重 45 酌情\n"
        f"丙 权重 10 来自目标表\n默认规则\n  定量 ≥ : 正向 {r[3]}\n"
    )
    book = _linked_or_located(text, "round.jx")
    if book is None:
        return
    rows = (TargetRow("丙", "数量指标", "子", "10", "≥1000人", values[1].replace("%", "人")),)
    evaluations = {"乙组/乙": {"得分": given_score}} if given_score else {}
    try:
        result = evaluate(book, Facts("项目", {"甲": values[0]}, evaluations, rows))
    except JxError:
        return
    for ind in result.walk():
        assert ind.score is None or (0 <= ind.score <= ind.weight and (ind.score * 10**book.digits).denominator == 1)
    assert result.grade is None or result.grade in {g for g, _, _ in book.grades} | {book.lowest_grade}


# ---- issue 13, explain: sentences in an evaluator's words -------------------------------------------
_NOTES = ["", "扣1分", "扣 1 分", "扣0.5分。", "共扣2分，扣1分", "扣", "分", "说明：扣3分", "不扣分", "扣11分", "得满分"]


@FUZZ
@given(
    st.sampled_from(["0 位 四舍五入", "1 位 截断", "2 位 四舍五入", "3 位 截断"]),
    st.lists(st.tuples(st.sampled_from(["≥", "≤", ">", "<"]), st.sampled_from(["0%", "1%", "2.5%", "5%", "20%"]), st.sampled_from(["0", "1", "2", "3"])), min_size=1, max_size=4),
    st.sampled_from(["好", "较好", "差"]),
    st.lists(st.sampled_from(_NOTES), min_size=1, max_size=3).map("".join),
    st.sampled_from(["48.31万元", "3万元", "0.001万元", "52.9万元", "100元"]),
    st.sampled_from(["-1%", "0%", "1.5%", "3%", "25%"]),
    st.booleans(),
)
def test_explanations_state_the_points_lost_once(digits, bands, tier, note, spent, value, blank):
    """Any rounding, band, tier and evaluator's note: the explanation is rendered (blank full rows or
    not), and every leaf that lost points says ``扣N分`` with its own N, whoever says it."""
    from jxdsl.explain import blank_full_notes, render_explanation
    from jxdsl.units import plain

    rule = " ".join(f"{op}{bound}:{pts}" for op, bound, pts in bands)
    text = (f"规则集 说明\n小数 {digits}\n事实\n  支出 金额\n  预算 金额\n  比率 百分比\n执行率 = 支出 / 预算\n"
            f"甲 权重 3 分段 {rule} 否则:0 取 比率\n乙 权重 3 档次 好=3 较好=2 差=0\n丙 权重 4 正向 满分=100% 取 执行率\n")
    path = TEMP / "words.jx"
    path.write_text(text, encoding="utf-8")
    try:
        book = Linker().load(path)
    except JxError as e:  # a band no value can reach: a located rulebook error
        assert e.span is None or e.span.line >= 1
        return
    facts = Facts("项目", {"支出": spent, "预算": "52.9万元", "比率": value}, {"乙": {"档次": tier, "说明": note}, "甲": {"说明": note}})
    result = evaluate(book, facts)
    shown = render_explanation(blank_full_notes(result) if blank else result)
    for r in result.walk():
        if r.children or r.score is None or r.deduction <= 0:
            continue
        line = next(x for x in shown.splitlines() if x.startswith(f"{r.name}："))
        assert f"扣{plain(r.deduction, result.digits)}分" in line, line


# ---- issue 13, partial forms: missing groups, 并入, 不适用 on 来自目标表, records for target rows ----
_FIRSTS = ["产出指标", "产出", "效益指标", "满意度指标", "满意度", "其他指标"]
_PARTS = ["数量指标", "质量指标", "满意度", "", "人数", "培训人数", "质量"]


@FUZZ
@given(
    st.lists(st.tuples(st.sampled_from(_FIRSTS), st.sampled_from(_PARTS), st.sampled_from(_PARTS[3:]), st.sampled_from(["10", "20", "30", "60", "x"])), max_size=6),
    st.dictionaries(
        st.lists(st.sampled_from(_FIRSTS + _PARTS), min_size=1, max_size=3).map("/".join),
        st.dictionaries(st.sampled_from(["档次", "得分", "说明", "不适用", "发现"]), st.sampled_from(["是", "达成", "12", "abc", ""]), max_size=3),
        max_size=4,
    ),
)
def test_partial_forms_and_row_records_score_or_report(rows, records):
    """Any mix of present and missing groups, with records for rows, groups or nothing, through the
    national rulebook (满意度 并入 产出): a score, a marked partial total, or located errors."""
    targets = tuple(TargetRow(f, s, t or "人数", w, "≥10人", "8人") for f, s, t, w in rows)
    book = _national()
    result = evaluate(book, Facts("项目", {"全年预算数": "10万元", "全年执行数": "9万元"}, records, targets))
    assert result.total is None or result.partial_total is None
    if result.partial_total is not None:
        assert 0 <= result.partial_total <= result.partial_max and result.unscored
    assert sum((r.weight for r in result.indicators), Fraction(0)) == 100


@functools.cache
def _national():
    return Linker().load(ROOT / "rulebooks/national/self-eval.jx")


# ---- issue 13, names: names as printed on forms, bare or in quotes ------------------------------
_NAME_CHARS = list("农村低保标准其中水稻aZ_09０★☆、·《》()（）:：+-×÷*/／=＝%％<>≥≤,，[]［］ \t\u3000#＃\"“”「」'") + ["最小(", "权重", "清单"]


@FUZZ
@given(st.lists(st.sampled_from(_NAME_CHARS), min_size=1, max_size=10).map("".join), st.sampled_from(["", "“”", '""', "「」"]))
def test_names_as_printed_parse_or_report(raw, quotes):
    """Any text written as a name, bare or in quotes, on an indicator line, in a formula, a path and a
    record: either a name that prints back to itself (printer → parser) and scores under the name
    as written, or a located error; never a crash."""
    from jxdsl.trees import name_text
    from jxdsl.printer import print_document

    written = f"{quotes[:1]}{raw}{quotes[1:]}"
    text = f"规则集 名称\n产出 权重 100\n  {written} 权重 100 酌情\n甲值 = {written} + 1\n"
    try:
        doc = parse(text, "n.jx")
    except JxError as e:
        assert all(x.span is not None and x.span.line >= 1 for x in getattr(e, "errors", [e]))
        return
    name = doc.statements[1].children[0].name
    assert parse(print_document(doc), "n.jx") == doc
    assert parse(f"规则集 名称\n{name_text(name)} 权重 1 酌情\n", "n.jx").statements[1].name == name
    path = TEMP / "names.jx"
    path.write_text(f"规则集 名称\n产出 权重 100\n  {written} 权重 100 酌情\n", encoding="utf-8")
    try:
        book = Linker().load(path)
    except JxError:
        return
    result = evaluate(book, Facts("项目", {}, {f"产出/{name}": {"得分": "60"}}))
    assert [r.score for r in result.walk() if r.path == ("产出", name)] == [60]


# ---- issue 13, rows: 计分方法, 明细 and fact columns in target tables, as a table and as a facts file ----
ROW_CELLS = {
    "计分方法": st.sampled_from(["", "正向", "反向", "达标", "定性", " 达标 ", "正相", "酌情", "ＺＸ"]),
    "明细": st.sampled_from(["", "", "是", "否", " 是", "√", "1"]),
    "年初预算数": st.sampled_from(["", "", "100万元", "120万元", "0万元", "abc", "-5万元"]),
    "事实:全年执行数": st.sampled_from(["", "", "90万元", "95万元", "九十"]),
}
ROW_BASE = st.tuples(
    st.sampled_from(["产出指标", "效益指标", "满意度指标", "预算执行率", ""]), st.sampled_from(["数量指标", "", "社会效益"]),
    st.sampled_from(["指标甲", "其中：A镇", "1、东村", "预算执行率", ""]), st.sampled_from(["", "5", "10", "30", "abc"]),
    st.sampled_from(["≥10公里", "≤5%", "提高", "2022年底", "", "≥", "100万元"]), st.sampled_from(["9公里", "4%", "提高", "", "2023年1月", "95万元"]),
)


@FUZZ
@given(st.lists(st.tuples(ROW_BASE, st.fixed_dictionaries(ROW_CELLS)), min_size=1, max_size=8))
def test_target_rows_with_method_detail_and_fact_columns_never_crash(rows):
    """The same rows as a self-evaluation table and as a facts file's 目标表: no crash either way."""
    import csv
    import io
    import json

    columns = ["项目", "一级指标", "二级指标", "三级指标", "分值", "年度指标值", "实际完成值", *ROW_CELLS]
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(columns)
    for base, extra in rows:
        w.writerow(["甲", *base, *extra.values()])
    table = TEMP / "rows.csv"
    table.write_text(buf.getvalue(), encoding="utf-8")
    book = str(ROOT / "tests/rulebooks/self-eval-rows.jx")
    runs = [CliRunner().invoke(main, ["score", book, str(table), "--format", "jsonl", "--engine", "interpreter"])]
    budget = next((e["年初预算数"] for _, e in rows if e["年初预算数"].strip()), None)
    document = {"项目": "甲", "事实": {"年初预算数": budget} if budget else {}, "目标表": [
        {k: v for k, v in zip(columns[1:7], base) if v} | {k: v for k, v in extra.items() if k in ("计分方法", "明细") and v} for base, extra in rows]}
    facts = TEMP / "rows.json"
    facts.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    runs.append(CliRunner().invoke(main, ["score", book, str(facts), "--format", "json"]))
    for run in runs:
        assert run.exit_code in (0, 1, 2) and "Traceback" not in run.output, run.output
        assert run.exception is None or isinstance(run.exception, SystemExit), repr(run.exception)


# ---- draft (issue 14): 指标体系/评分表 → rulebook ---------------------------------------------
DRAFT_CELLS = st.sampled_from([
    "", "决策", "决策（20分）", "过程 (30分)", "立项", "资金到位率", "合计", "一级指标", "5", "5分", "约5", "=A1", "0.5", "-3", "1e3",
    "符合得2分，不符合得0分", "每发现一处扣0.5分，扣完为止", "得分=到位率×分值", "资金到位率=实际到位/计划投入×100%，得分=到位率×分值",
    "效果显著得(2,3]分；较好得(1,2]分；较差不得分", "优得100%，良得80%", "“复合肥+缓控释肥”", "a/b", "事实", "Y≥4%得2分", "\"", "#",
])


@FUZZ
@given(st.lists(st.lists(DRAFT_CELLS, min_size=5, max_size=5), min_size=1, max_size=6))
def test_draft_tables_draft_or_report(rows):
    """Any 评分表 drafts to a rulebook or a located error; exit 0 means the draft links."""
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["一级指标", "二级指标", "三级指标", "分值", "评分标准"])
    w.writerows(rows)
    table = TEMP / "draft.csv"
    table.write_text(buf.getvalue(), encoding="utf-8")
    out = TEMP / "draft.jx"
    out.unlink(missing_ok=True)
    run = CliRunner().invoke(main, ["draft", str(table), "-o", str(out)])
    assert run.exit_code in (0, 1, 2) and "Traceback" not in run.output, run.output
    assert run.exception is None or isinstance(run.exception, SystemExit), repr(run.exception)
    if run.exit_code == 0:
        Linker().load(out)


# ---- template (issue 14): what a rulebook needs -------------------------------------------------
@FUZZ
@given(st.sampled_from(RULEBOOKS), st.data())
def test_templates_of_mutated_rulebooks_are_yaml(path, data):
    """A mutated rulebook that links gets a template that is valid YAML listing its needs."""
    from jxdsl.template import needs, yaml_template

    rel = path.relative_to(ROOT)
    target = TEMP / rel.parent / f"fuzz-template-{rel.name}"
    target.write_text(mutate(path.read_text(encoding="utf-8"), data), encoding="utf-8")
    try:
        book = Linker().load(target)
    except JxError:
        return
    doc = yaml.safe_load(yaml_template(book))
    assert set(doc["事实"] or {}) == set(needs(book).facts)


# ---- issue 14, forms: 项目支出绩效自评表 as filled in (labels moved, cells replaced, merges, chart sheets) ----
_FORM = [
    ["项目名称", None, "甲项目"],
    ["主管部门", None, "乡村振兴局", "实施单位", "乡村振兴局"],
    ["项目资金（万元）（10分）", None, "年初预算数", "全年预算数（A）", "全年执行数（B）", "分值", "执行率（B/A）", "得分"],
    [None, "年度资金总额", 100, 100, 95, 10, 0.95, 9.5],
    [None, "其中：财政拨款", 100, 100, 95],
    ["绩效指标", "一级指标", "二级指标", "三级指标", "年度指标值（A）", "实际完成值（B）", "分值", "得分", "偏差原因分析及改进措施"],
    [None, "产出指标（50分）", "数量指标", "★道路", "≥12公里", "12公里", 50, 50],
    [None, None, None, "其中：A镇", "≥5公里", "5公里"],
    [None, "效益指标（30分）", "社会效益指标", "受益人口", "≥1,000人", "800人", 30, 24],
    [None, "满意度指标（10分）", "服务对象满意度指标", "满意度", "≥90%", 0.95, 10, 10],
    ["总分", None, None, None, None, None, None, 93.5],
    ["项目用款单位自我评定", None, "优 ☑ 良 □ 中 □ 差 □"],
]
_FORM_CELLS = st.one_of(
    st.none(), st.sampled_from(["项目名称", "全年预算数", "全年执行数", "一级指标", "三级指标", "分值", "总分", "其中：", "=A1", "1,000.00万元", "8,835,600元", "(元)", "优 ☑"]),
    st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=5), st.integers(-5, 10**9), st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.datetimes(min_value=datetime.datetime(1990, 1, 1), max_value=datetime.datetime(2100, 1, 1)), st.booleans(),
)


@st.composite
def _form_books(draw) -> bytes:
    """A valid form with cells replaced, rows dropped, ranges merged, percent formats, maybe a
    second form, a hidden or chart sheet."""
    import io

    import openpyxl

    wb = openpyxl.Workbook()
    for n in range(draw(st.integers(1, 2))):
        ws = wb.active if n == 0 else wb.create_sheet()
        rows = [list(r) for r in _FORM if not draw(st.integers(0, 9)) == 0]
        for _ in range(draw(st.integers(0, 4))):
            if rows:
                row = draw(st.sampled_from(rows))
                col = draw(st.integers(0, 8))
                row.extend([None] * (col + 1 - len(row)))
                row[col] = draw(_FORM_CELLS)
        for _ in range(draw(st.integers(0, 2))):
            ws.append([])
        for r in rows:
            ws.append([("项目乙" if n and c == "甲项目" else c) for c in r])
        for _ in range(draw(st.integers(0, 3))):
            r, c = draw(st.integers(1, 14)), draw(st.integers(1, 9))
            ws.merge_cells(start_row=r, start_column=c, end_row=r + draw(st.integers(0, 3)), end_column=c + draw(st.integers(0, 2)))
        if draw(st.booleans()):
            ws.cell(draw(st.integers(1, 14)), draw(st.integers(1, 9))).number_format = "0.00%"
        if n and draw(st.booleans()):
            ws.sheet_state = "hidden"
    if draw(st.integers(0, 4)) == 0:
        from openpyxl.chart import BarChart, Reference

        chart = BarChart()
        chart.add_data(Reference(wb.worksheets[0], min_col=8, min_row=7, max_row=10))
        wb.create_chartsheet("图").add_chart(chart)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


@FUZZ
@given(_form_books(), st.data())
def test_forms_score_or_report(book, data):
    path = TEMP / "form.xlsx"
    path.write_bytes(book)
    rulebook = str(ROOT / "rulebooks/shanxi/xingxian-2022-self-eval.jx")
    engine = data.draw(st.sampled_from(["interpreter", "duckdb"]))
    for args in (["score", rulebook, str(path), "--format", "jsonl", "--engine", engine], ["audit", str(path), "--rulebook", rulebook]):
        run = CliRunner().invoke(main, args)
        assert run.exit_code in (0, 1, 2), run.output
        assert run.exception is None or isinstance(run.exception, SystemExit), repr(run.exception)
        assert "Traceback" not in run.output


# ---- issue 14, pkg: 继承 by name and `jxdsl rulebooks` --------------------------------------------------
INHERIT_NAME = st.lists(st.sampled_from(list("单位自评-财预2020-10栖霞规则集继承 .\\/*?\"'…\u3000") + ["../", "rulebooks", ".jx"]), min_size=1, max_size=16).map("".join)


@FUZZ
@given(INHERIT_NAME, st.sampled_from(["", "rulebooks"]))
def test_inherit_by_any_name_never_crashes(name, folder):
    """Whatever follows 继承: the parent is found, or a located error (syntax or 找不到, with the places
    searched); `jxdsl rulebooks` of that folder lists without a traceback."""
    home = TEMP / "inherit-fuzz" / folder
    home.mkdir(parents=True, exist_ok=True)
    child = home / "child.jx"
    child.write_text(f"规则集 子-2024 继承 {name}\n年度 2024\n", encoding="utf-8")
    try:
        Linker().load(child)
    except JxError as e:
        assert e.span is not None and e.span.file.endswith("child.jx")
    run = CliRunner().invoke(main, ["rulebooks", str(home), "--format", "json"])
    assert run.exit_code == 0 and "Traceback" not in run.output, run.output
