"""Numbers as people write them, read the same way by every reader and every engine (issue 12).

Thousands separators (12,500), wrong grouping (1,50), exponents, huge and special values, other
decimal digits and spaces: ``units`` defines the grammar, ``kernel/sqltext.py`` its SQL twin
(property-tested here against it on DuckDB), and the CLI gives the same scores and the same
located errors with the interpreter and DuckDB.
"""
from __future__ import annotations

import csv
import functools
import json
from fractions import Fraction
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlglot import exp
from test_engines import assert_engines_agree

from jxdsl import units
from jxdsl.audit import read_table
from jxdsl.cli import main
from jxdsl.compile import _DuckDB, lexicon
from jxdsl.kernel import sqltext as T
from jxdsl.kernel.sql import Caps
from jxdsl.units import count_of, number_problem, parse_quantity, split_cmp, target_number

ROOT = Path(__file__).resolve().parents[1]
SELF_EVAL = ROOT / "rulebooks/shanxi/xingxian-2022-self-eval.jx"
FACTS_BOOK = ROOT / "tests/errors/facts/rulebook.jx"
HEADER = ["项目", "一级指标", "二级指标", "三级指标", "分值", "年度指标值", "实际完成值", "档次", "评价得分", "说明"]


def cli(*args) -> tuple[int, str]:
    r = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    return r.exit_code, r.output


# ---- the grammar (units) ------------------------------------------------------------------------------
@pytest.mark.parametrize("text,value,unit", [
    ("≥3,250户", 3250, "户"), ("2,000,000.75元", Fraction(200000075, 100), "元"), ("４，５００人", 4500, "人"),
    ("-7,000万元", -70_000_000, "万元"), ("٣٠", 30, ""), ("𝟗𝟎%", Fraction(9, 10), "%"), ("\u3000\xa088人 ", 88, "人"),
])
def test_grouped_and_other_digits_are_numbers(text, value, unit):
    q = parse_quantity(split_cmp(text)[1])
    assert (q.value, q.unit) == (value, unit) and number_problem(text) is None
    if not text.startswith("-"):  # a target is digits then a unit (no sign), as a rulebook literal
        assert target_number(split_cmp(text)[1]).value == q.value


@pytest.mark.parametrize("text,why", [
    ("7,5人", "千位分隔符"), ("1,2345", "千位分隔符"), ("100,00元", "千位分隔符"), ("3,4月", "千位分隔符"), ("12,", "千位分隔符"),
    ("2.5e3万元", "科学计数法"), ("4E-7", "科学计数法"), ("8" * 101 + "元", "位数过多"), ("0." + "1" * 101, "位数过多"),
])
def test_wrong_numbers_are_never_read_and_say_why(text, why):
    assert parse_quantity(text).dim == units.TEXT  # not 7 people in unit “,5人”
    assert target_number(text) is None
    assert why in number_problem(text)


def test_bounds_keep_every_reader_fast():
    assert count_of("9" * 5000) is None and count_of("0" * 5000 + "7") == 7
    assert parse_quantity("0" * 3000 + "12").value == 12  # leading zeros are no digits
    assert "位数过多" in number_problem("9" * 5000) and len(number_problem("9" * 5000)) < 100


# ---- the SQL twin ------------------------------------------------------------------------------------
@functools.cache
def _queries() -> tuple[str, str]:
    (query,) = [q for name, q in lexicon.statements(Caps()) if name == "jx_lex"]
    problem = exp.select(exp.column("x"), T.number_problem(T.clean(exp.column("x")))).from_("jx_lex_src")
    return query.sql(dialect=_DuckDB), problem.sql(dialect=_DuckDB)


def sql_readings(texts: list[str]) -> tuple[dict, dict]:
    """The lexicon's readings (quantity, target number) and number_problem of each text, by DuckDB."""
    readings, problem = _queries()
    con = duckdb.connect()
    con.execute("CREATE TABLE jx_lex_src(x VARCHAR)")
    con.executemany("INSERT INTO jx_lex_src VALUES (?)", [[t] for t in set(texts)])
    cur = con.execute(readings)
    cols = [d[0] for d in cur.description]
    rows = {r[cols.index("x")]: dict(zip(cols, r)) for r in cur.fetchall()}
    return rows, dict(con.execute(problem).fetchall())


def _fraction(num, den):
    return None if num is None else Fraction(int(num), int(den))


def assert_twins(texts: list[str]) -> None:
    rows, problems = sql_readings(texts)
    for t in texts:
        r, q, n = rows[t], parse_quantity(t), target_number(split_cmp(t)[1])
        assert problems[t] == number_problem(t), t
        if not r["q_over"]:  # a number too long for 38 digits goes to the interpreter
            assert (r["q_dim"], r["q_unit"]) == (q.dim, q.unit if q.dim != units.TEXT else ""), t
            assert _fraction(r["q_num"], r["q_den"]) == (q.value if q.dim != units.TEXT else 0), t
        if not r["n_over"]:
            assert _fraction(r["n_num"], r["n_den"]) == (n.value if n else None), t


def test_sql_twin_on_written_examples():
    assert_twins(["≥12,500人", "9,500人", "1,234,567.5万元", "12，500", "1,50人", "12,50,0", "12,5000人", " 100人", "\xa0100人",
                  "١٠٠万元", "𝟏𝟎𝟎万元", "9" * 5000, "0" * 5000 + "1", "1e999999999万元", "-1,000元", "9" * 100 + "人", "9" * 101,
                  "≤ 1,000.5%", "1.5E-3", "12 e5人", "Infinity", "NaN", "2021年12月", "1,000年", "1,5" + "0" * 3000 + "人"])


_PIECES = st.sampled_from(["1", "0", "12", "500", "000", "9" * 40, ",", "，", ".", "5", "e", "E+", "-", "+", " ", "\xa0", "\u3000", "人", "万元", "%",
                           "≥", "٣", "𝟕", "５", "年", "月"])


@settings(max_examples=12, deadline=None)  # each example is one DuckDB query (~0.5 s) over many texts
@given(st.lists(st.lists(_PIECES, min_size=1, max_size=9).map("".join), min_size=60, max_size=120))
def test_sql_twin_reads_as_units_does(texts):
    """read_quantity, read_target_number and number_problem in SQL give what units gives, text by text."""
    assert_twins(texts)


# ---- every engine -----------------------------------------------------------------------------------
def _table(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        w.writerows(rows)
    return path


def _project(name: str, target: str, actual: str, satisfied: str = "96%") -> list[list[str]]:
    return [
        [name, "预算执行率", "", "预算执行率", "10", "2,000万元", "1,900万元", "", "", ""],
        [name, "产出指标", "数量指标", "新建房屋", "50", target, actual, "", "", ""],
        [name, "效益指标", "社会效益", "效果", "30", "提高", "提高", "", "", ""],
        [name, "满意度指标", "满意度", "满意度", "10", "≥90%", satisfied, "", "", ""],
    ]


def test_grouped_cells_score_as_numbers_in_every_engine(tmp_path):
    long = "≥4" + ",000" * 20 + "户", "3" + "0" * 60 + "户"  # 61 digits: DuckDB leaves the project to the interpreter
    table = _table(tmp_path / "t.csv", _project("甲", "≥3,200户", "2,400户") + _project("乙", "≥８，０００户", " 6,000户") + _project("丙", *long))
    got = assert_engines_agree(SELF_EVAL, table)
    (code, out, _), (_, explained, _) = got["duckdb"]
    assert code == 0
    scores = {p["project"]: p["indicators"][1]["score"] for p in map(json.loads, out.splitlines())}
    assert scores == {"甲": 37.5, "乙": 37.5, "丙": 37.5}  # 50 × 2400/3200, not 50 × 2/3 (“,400户” as a unit)
    assert "2,400户 ÷ 3,200户" in explained


def test_wrong_cells_are_located_errors_in_every_engine(tmp_path):
    table = _table(tmp_path / "t.csv", _project("甲", "≥3,20户", "2,400户") + _project("乙", "≥3200户", "2400户", "9,6%")
                   + _project("丙", "≥" + "7" * 120 + "户", "2.4e3户"))
    got = assert_engines_agree(SELF_EVAL, table)
    (code, _, err), _ = got["duckdb"]
    assert code == 1 and "Traceback" not in err
    assert "t.csv:3:1: 数据错误：项目“甲”，指标“产出指标/数量指标/新建房屋”：数值“3,20户”的千位分隔符位置不对" in err
    assert "t.csv:9:1:" in err and "数值“9,6%”的千位分隔符位置不对" in err
    assert "t.csv:11:1:" in err and "位数过多（超出范围：最多 100 位数字）" in err


@pytest.mark.parametrize("value", ["1.0e+999999999", "1.0e-99999999", ".inf", "-.inf", ".nan", "7" * 5000, '"3e999999999万元"', '"4,50万元"', '"٥٠万元"'])
def test_special_values_in_a_facts_file_in_every_engine(value, tmp_path):
    path = tmp_path / "f.yaml"
    path.write_text(f"项目: 示例\n事实:\n  预算资金: {value}\n  实际支出资金: 50万元\n  不规范资金占比: 0%\n  培训人数: 24人\n", encoding="utf-8")
    got = assert_engines_agree(FACTS_BOOK, path, explain=False)
    (code, out, err), _ = got["interpreter"]
    assert code == 1 and "Traceback" not in err
    if value == '"٥٠万元"':
        assert json.loads(out)["indicators"][0]["score"] == 10  # 50万元 of 50万元, not an error
    else:
        assert "f.yaml:3:1: 数据错误" in err


@pytest.mark.parametrize("number", ["1e999999999", "-1e400", "1e-99999999", "7" * 5000, "0.12345678901234567890123", "NaN", "-Infinity"])
def test_special_values_in_a_json_facts_file(number, tmp_path):
    path = tmp_path / "f.json"
    path.write_text('{"项目": "示例", "事实": {"预算资金": "100万元", "实际支出资金": "50万元", "培训人数": %s}}' % number, encoding="utf-8")
    code, out = cli("score", FACTS_BOOK, path, "--format", "json")
    assert code == 1 and "Traceback" not in out
    if number.startswith("0.1"):
        assert "（0.12345678901234567890123）" in out  # exact, not a rounded float
    elif number not in ("NaN", "-Infinity"):
        assert "f.json:1:1: 数据错误：项目“示例”：数据“培训人数”：数值“" in out


def test_rulebook_literal_bounded(tmp_path):
    path = tmp_path / "r.jx"
    path.write_text(FACTS_BOOK.read_text(encoding="utf-8").replace("≥24人", "≥" + "9" * 150 + "人"), encoding="utf-8")
    code, out = cli("check", path)
    assert code == 1 and "r.jx:9:" in out and "位数过多" in out


# ---- audit --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("score", ["2e999999999", "3e-99999999", "Infinity", "-inf", "nan", "8" * 5000, "\"1,00\"", "90.5.1"])
def test_audit_refuses_special_numbers_fast(score, tmp_path):
    path = tmp_path / "a.csv"
    path.write_text(f"路径,分值,得分\n合计,100,{score}\n甲,100,90\n", encoding="utf-8")
    total, row = read_table(path)  # the row is a finding with its line; the audit goes on
    assert (total.line, total.score) == (2, None) and "“得分”" in total.problem and row.problem is None
    code, out = cli("audit", path)
    assert code == 1 and "a.csv:2: 合计［此行无法读取］此行无法核对：“得分”" in out


def test_audit_reads_grouped_scores_and_refuses_wrong_cells(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text('路径,分值,得分,指标值,实际值\n合计,"1,000","1,000.0"\n甲,"1,000",1000,"≥1,200人","1,200人"\n', encoding="utf-8")
    assert [(r.weight, r.score) for r in read_table(path)] == [(1000, 1000), (1000, 1000)]
    path.write_text('路径,分值,得分,指标值,实际值\n合计,100,90\n甲,100,90,"≥1,200人","12,00人"\n', encoding="utf-8")
    code, out = cli("audit", path)  # the row cannot be checked (not: 12 of 1200 people)
    assert code == 1 and "a.csv:3: 甲［数值无法读取］数值“12,00人”的千位分隔符位置不对（应每三位一个，如 12,500），无法按规则核对得分" in out


def test_audit_of_a_600_level_path(tmp_path):
    path = tmp_path / "deep.csv"
    lines = ["路径,分值,得分", "合计,100,90"] + ["/".join(f"层{i}" for i in range(n)) + ",100,90" for n in range(1, 601)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")  # parents first: the rebuild went 600 calls deep
    code, out = cli("audit", path)
    assert code == 0 and "未发现问题" in out
    path.write_text("\n".join(lines[:-1] + [lines[-1].replace(",90", ",80")]) + "\n", encoding="utf-8")
    code, out = cli("audit", path)
    assert code == 1 and "deep.csv:601" in out


def test_facts_built_in_code_with_huge_values():
    """Facts from a program (not a file): a 6000-digit int or a Decimal of a huge exponent is refused, not printed."""
    from decimal import Decimal

    from jxdsl.evaluate import evaluate
    from jxdsl.facts import Facts
    from jxdsl.link import Linker

    book = Linker().load(FACTS_BOOK)
    for value in (10**6000, Decimal("5E+999999999"), Decimal("-2E-999999999"), float("inf")):
        result = evaluate(book, Facts("项目", {"预算资金": value, "实际支出资金": "1万元"}))
        assert any("预算资金" in e.message for e in result.errors), value
