"""Every engine, every rulebook: the same bytes out.

Generated tables (facts tables for rulebook trees, self-evaluation tables for target-table schemes)
× every rulebook in ``rulebooks/`` and the option variants in ``tests/rulebooks/`` × every engine:
``score --format jsonl`` (totals, grades, statuses, explanations, errors, warnings), the errors
and warnings on stderr with their table lines, the exit code, and ``explain`` must be identical.
The published cases are compared the same way in ``test_cases.py``.
"""
from __future__ import annotations

import csv
import importlib.util
import json
import os
import random
import re
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from click.testing import CliRunner
from gen_tables import FACTS_COLUMNS, SELF_EVAL_COLUMNS, facts_rows, self_eval_rows, write_csv

from jxdsl.cli import main
from jxdsl.link import Linker
from jxdsl.lower import lower
from jxdsl.units import plain

ROOT = Path(__file__).resolve().parents[1]
RULEBOOKS = sorted(ROOT.glob("rulebooks/**/*.jx")) + sorted((ROOT / "tests/rulebooks").glob("*.jx"))
HAS_SPARK = importlib.util.find_spec("pyspark") is not None
_TALLY = re.compile(r"；引擎 \S+?(（.*?）)?，用时 [0-9.]+ 秒$", re.M)


def cli(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    return r.exit_code, r.stdout, _TALLY.sub("", r.stderr)


def table_for(rulebook: Path, seed: int, tmp: Path, n_projects: int = 12, mistakes: float = 1.0) -> Path:
    scheme = lower(Linker().load(rulebook))
    rng = random.Random(f"{rulebook.name}-{seed}")
    if scheme.tables():
        weights = {t.name: float(t.weight) for t in scheme.tables()}
        budget = next((plain(x.weight) for x in scheme.leaves() if x.path[-1] == "预算执行率"), "10")
        return write_csv(tmp / f"{rulebook.stem}-{seed}.csv", SELF_EVAL_COLUMNS, self_eval_rows(rng, n_projects, weights, mistakes, budget))
    year = rng.choice(["", "", str(scheme.years[0]) if scheme.years else "", "2019", "２０２１"] if mistakes else [""])
    return write_csv(tmp / f"{rulebook.stem}-{seed}.csv", FACTS_COLUMNS, facts_rows(scheme, rng, n_projects, year, mistakes))


def assert_engines_agree(rulebook: Path, table: Path, engines=("interpreter", "duckdb"), explain: bool = True) -> dict:
    """score (jsonl) and explain through each engine; everything but the tally's engine and time equal."""
    got = {}
    for engine in engines:
        score = cli("score", rulebook, table, "--format", "jsonl", "--engine", engine)
        got[engine] = (score, cli("explain", rulebook, table, "--engine", engine) if explain else (0, "", ""))
    first, *rest = engines
    for engine in rest:
        for what, a, b in (("score", got[first][0], got[engine][0]), ("explain", got[first][1], got[engine][1])):
            assert a[0] == b[0], f"{what} exit code: {first} {a[0]}, {engine} {b[0]}\n{b[2]}"
            _same_lines(a[1], b[1], f"{what} stdout ({first} vs {engine})")
            _same_lines(a[2], b[2], f"{what} stderr ({first} vs {engine})")
    return got


def _same_lines(a: str, b: str, what: str) -> None:
    if a == b:
        return
    la, lb = a.splitlines(), b.splitlines()
    for n, (x, y) in enumerate(zip(la, lb)):
        if x != y:
            at = next((i for i, (p, q) in enumerate(zip(x, y)) if p != q), min(len(x), len(y)))
            pytest.fail(f"{what}: first difference at line {n + 1}, column {at + 1}:\n- …{x[max(0, at - 300):at + 300]}\n+ …{y[max(0, at - 300):at + 300]}")
    pytest.fail(f"{what}: {len(la)} lines against {len(lb)}")


# one generated table per variant in CI; the long run (docs/fuzzing.md) adds seeds: JXDSL_ENGINE_SEEDS=1,2,3
SEEDS = [int(s) for s in os.environ.get("JXDSL_ENGINE_SEEDS", "1").split(",")]


@pytest.mark.parametrize("rulebook", RULEBOOKS, ids=lambda p: p.stem)
@pytest.mark.parametrize("seed", SEEDS)
def test_generated_tables_every_engine(rulebook, seed, tmp_path):
    table = table_for(rulebook, seed, tmp_path)
    got = assert_engines_agree(rulebook, table)
    (code, out, err), _ = got["interpreter"]
    assert out.count("\n") >= 10, "every project gets a JSON line"
    assert code in (0, 1) and ("有数据问题" in err)


@pytest.mark.skipif(not HAS_SPARK, reason="pyspark 未安装")
@pytest.mark.parametrize("rulebook", [ROOT / "rulebooks/shanxi/xingxian-2022-self-eval.jx", ROOT / "rulebooks/hubei/caidian-2021.jx"], ids=lambda p: p.stem)
def test_spark_agrees(rulebook, tmp_path):
    """Spark takes a minute or more a run (a job per relation), so each run carries much: the JSON
    lines carry the explanations, and the self-evaluation table also every comparison-word case of
    test_targetwords (以上, 不少于, 控制在…以内 read by Spark's regular expressions)."""
    table = table_for(rulebook, 3, tmp_path, n_projects=6)
    if scheme_tables(rulebook):
        from test_targetwords import CASES, _rows

        with table.open("a", encoding="utf-8", newline="") as fh:
            rows = [r + [""] * (len(SELF_EVAL_COLUMNS) - len(r)) for k, (t, a, _) in CASES.items() for r in _rows(k, t, a)]
            csv.writer(fh).writerows(rows)
    assert_engines_agree(rulebook, table, engines=("interpreter", "spark"), explain=False)


def scheme_tables(rulebook: Path) -> bool:
    return bool(lower(Linker().load(rulebook)).tables())


# ---- the published cases ------------------------------------------------------------------------
CASES = yaml.safe_load((ROOT / "examples" / "cases.yaml").read_text(encoding="utf-8"))


def _project_names(case) -> list[str]:
    code, out, _ = cli("score", ROOT / case["rulebook"], ROOT / case["facts"], "--format", "jsonl", "--engine", "interpreter")
    return [json.loads(line)["project"] for line in out.splitlines()]


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_every_case_same_bytes_in_every_engine(case):
    """``--format json`` and ``explain``: the same bytes, errors, warnings and exit codes; then one
    project by ``--project``, and a name that is not there (a usage error naming the nearest)."""
    rulebook, facts = ROOT / case["rulebook"], ROOT / case["facts"]
    outs = {}
    for engine in ("interpreter", "duckdb"):
        outs[engine] = [cli("score", rulebook, facts, "--format", "json", "--engine", engine), cli("explain", rulebook, facts, "--engine", engine)]
    names = _project_names(case)
    one, wrong = names[-1], names[-1][:-1] + "乙"
    for engine in ("interpreter", "duckdb"):
        outs[engine] += [cli("score", rulebook, facts, "--format", "json", "--engine", engine, "--project", one),
                         cli("explain", rulebook, facts, "--engine", engine, "--project", wrong)]
    for (a, b, what) in zip(outs["interpreter"], outs["duckdb"], ("score", "explain", "score --project", "explain --project (unknown)")):
        assert a[0] == b[0], f"{what}: exit code {a[0]} against {b[0]}\n{b[2]}"
        _same_lines(a[1], b[1], f"{what} stdout")
        _same_lines(a[2], b[2], f"{what} stderr")
    score, _, only, unknown = outs["duckdb"]
    assert score[0] == 0 and json.loads(score[1])
    picked = json.loads(only[1])
    assert only[0] == 0 and (picked if isinstance(picked, dict) else picked[0])["project"] == one
    assert unknown[0] == 2 and f"没有项目“{wrong}”" in unknown[2]


SINGLE = [c for c in CASES if str(c["facts"]).endswith((".yaml", ".yml", ".json")) and "目标表:" not in (ROOT / c["facts"]).read_text(encoding="utf-8")]


@pytest.mark.parametrize("case", SINGLE, ids=[c["id"] for c in SINGLE])
def test_facts_table_scores_as_its_facts_files(case, tmp_path):
    """A facts file written as a facts table (``jxdsl facts-table``) scores to the same JSON."""
    rulebook, facts = ROOT / case["rulebook"], ROOT / case["facts"]
    table = tmp_path / "事实表.csv"
    code, _, err = cli("facts-table", facts, "-o", table)
    assert code == 0, err
    code_file, from_file, _ = cli("score", rulebook, facts, "--format", "json")
    code_table, from_table, _ = cli("score", rulebook, table, "--format", "json", "--engine", "interpreter")
    assert (code_file, code_table) == (0, 0)
    assert json.loads(from_table) == [json.loads(from_file)]


def test_shipped_facts_table_is_the_qixia_facts_file(tmp_path):
    out = tmp_path / "t.csv"
    assert cli("facts-table", ROOT / "examples/qixia-2021/facts.yaml", "-o", out)[0] == 0
    assert out.read_bytes() == (ROOT / "examples/qixia-2021/facts-table.csv").read_bytes()


def test_facts_table_refuses_what_it_cannot_carry(tmp_path):
    facts = ROOT / "examples/qixia-2021/facts.yaml"
    assert cli("facts-table", facts, facts, "-o", tmp_path / "t.csv")[2].count("在两个事实文件中") == 1
    code, _, err = cli("facts-table", facts, "-o", facts)
    assert code == 2 and "就是输入文件" in err
    bad = tmp_path / "bad.yaml"
    bad.write_text("项目: 甲\n事实:\n  预算资金: {万元: 12}\n", encoding="utf-8")
    code, _, err = cli("facts-table", bad, "-o", tmp_path / "t.csv")
    assert code == 1 and "bad.yaml:3" in err and not (tmp_path / "t.csv").exists()
    targets = ROOT / "examples/caidian-2021/facts.yaml"
    code, _, err = cli("facts-table", targets, "-o", tmp_path / "t.csv")
    assert code == 1 and "有目标表行" in err


# ---- audit of the engine's own export -------------------------------------------------------------
STRUCTURAL = {"score_out_of_range", "weight_sum", "score_sum", "total", "grade", "weight_vs_rulebook"}


@pytest.mark.parametrize("rulebook", RULEBOOKS, ids=lambda p: p.stem)
def test_audit_of_score_csv_is_clean_for_every_variant(rulebook, tmp_path):
    """``score --format csv`` then ``audit --rulebook``: every sum, total and grade adds up, and a
    rule finding only where the evaluator's own judgement (档次, 得分, an override) set the score."""
    from jxdsl.audit import audit_file
    from jxdsl.evaluate import evaluate
    from jxdsl.facts import load as load_facts

    table = table_for(rulebook, 1, tmp_path, mistakes=0)
    out = tmp_path / "得分.csv"
    code, _, err = cli("score", rulebook, table, "--format", "csv", "-o", out)
    assert code in (0, 1), err
    book = Linker().load(rulebook)
    judged, failed = set(), set()
    for p in load_facts(table):
        result = evaluate(book, p)
        judged |= {(result.project, "/".join(r.path)) for r in result.walk() if any(s.kind in ("override", "tier", "judgement") for s in r.steps)}
        if result.errors:
            failed.add(result.project)  # its rows carry the unit's inconsistent 分值 as written
    assert len(failed) <= 3, "a table without mistakes: nearly every project is scored, so that the audit checks something"
    findings = [f for f in audit_file(out, book) if f.project not in failed]
    assert not [f for f in findings if f.kind in STRUCTURAL], findings
    assert {(f.project, f.path) for f in findings if f.kind != "unit_mismatch"} <= judged, findings


# ---- files written by score ------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["parquet", "csv", "jsonl"])
def test_output_files_equal_in_every_engine(fmt, tmp_path):
    """``-o`` files: the same rows from every engine (DuckDB writes JSON lines and Parquet itself
    with COPY); Parquet keeps NULL apart from empty text; the JSON lines file is what stdout shows."""
    import duckdb

    rulebook = ROOT / "rulebooks/shanxi/xingxian-2022-self-eval.jx"
    table = table_for(rulebook, 1, tmp_path)
    got = {}
    for engine in ("interpreter", "duckdb"):
        out = tmp_path / f"{engine}.{fmt}"
        code, _, err = cli("score", rulebook, table, "--format", fmt, "-o", out, "--engine", engine)
        assert code == 1 and out.exists(), err
        got[engine] = out.read_bytes() if fmt != "parquet" else duckdb.sql(f"SELECT * FROM read_parquet('{out}')").fetchall()
    assert got["interpreter"] == got["duckdb"]
    if fmt == "jsonl":
        assert got["duckdb"].decode("utf-8") == cli("score", rulebook, table, "--format", "jsonl")[1]
    if fmt == "csv":
        header = got["duckdb"].decode("utf-8-sig").splitlines()[0].split(",")
        assert header[0] == "项目" and len(header) == len(set(header)), header
    if fmt == "parquet":
        rows = got["duckdb"]
        projects = [json.loads(line) for line in cli("score", rulebook, table, "--format", "jsonl")[1].splitlines()]
        assert [r[0] for r in rows if r[1] == "预算执行率"] == [p["project"] for p in projects if any(i["path"] == ["预算执行率"] for i in p["indicators"])]
        unscored = [r for r in rows if r[3] is None]
        assert unscored and all(r[5] != "scored" for r in unscored)


def test_row_limit_is_checked_in_every_engine_and_can_be_raised(tmp_path, monkeypatch):
    rulebook = ROOT / "rulebooks/shanxi/xingxian-2022-self-eval.jx"
    table = table_for(rulebook, 1, tmp_path)
    rows = len(table.read_text(encoding="utf-8").splitlines()) - 1
    monkeypatch.setenv("JXDSL_MAX_ROWS", str(rows - 1))
    for engine in ("interpreter", "duckdb"):
        code, out, err = cli("score", rulebook, table, "--format", "jsonl", "--engine", engine)
        assert code == 1 and not out and f"{table.name}:{rows + 1}:1: 数据错误：表格行数超过上限 {rows - 1}" in err and "JXDSL_MAX_ROWS" in err
    monkeypatch.setenv("JXDSL_MAX_ROWS", str(rows))
    assert cli("score", rulebook, table, "--format", "jsonl", "--engine", "duckdb")[1].count("\n") >= 10


def test_duckdb_out_of_memory_is_a_usage_error(tmp_path, monkeypatch):
    rulebook = ROOT / "rulebooks/shanxi/xingxian-2022-self-eval.jx"
    table = write_csv(tmp_path / "大表.csv", SELF_EVAL_COLUMNS, self_eval_rows(random.Random(5), 3000))
    monkeypatch.setenv("JXDSL_DUCKDB_MEMORY_LIMIT", "8MB")
    code, out, err = cli("score", rulebook, table, "--format", "jsonl", "--engine", "duckdb")
    assert code == 2 and "DuckDB 内存不足（上限 8MB）" in err and "JXDSL_DUCKDB_MEMORY_LIMIT" in err and "Traceback" not in err


def test_csv_with_line_breaks_in_cells_and_short_rows(tmp_path):
    """A 说明 holding a line break (quoted) beside rows shorter than the header: every engine reads
    the same rows, and a row after the line break is located at its own line of the file (DuckDB
    counts records, not lines, so such a file is rewritten with each record's line)."""
    rulebook = ROOT / "rulebooks/shandong/qixia-2021.jx"
    text = table_for(rulebook, 1, tmp_path, n_projects=3, mistakes=0).read_text(encoding="utf-8").splitlines()
    header = text[0].split(",")
    note = header.index("说明")
    first = text[1].split(",")
    first[note] = '"第一行\n第二行"'
    short = ",".join(text[2].split(",")[: header.index("值") + 1])  # the record columns left off
    bad = text[3].split(",")
    bad[header.index("项目")] = ""
    table = tmp_path / "breaks.csv"
    table.write_text("\n".join([text[0], ",".join(first), short, ",".join(bad), *text[4:]]) + "\n", encoding="utf-8")
    got = assert_engines_agree(rulebook, table, explain=False)
    (code, out, err), _ = got["duckdb"]
    assert out.count("\n") == 3 and "breaks.csv:5:1: 数据错误：事实表缺少项目名称" in err, err


_CELL_TEXT = st.text(alphabet=st.sampled_from(list('=+-@\t\r\n,"\' 0123456789.a中１')), max_size=8)


@settings(max_examples=300, deadline=None)
@given(st.lists(_CELL_TEXT, min_size=2, max_size=4))  # rows of one empty cell (written "") never occur
def test_csv_cells_in_sql_are_pythons(cells):
    """compile/csvout's csv_field(safe_cell(…)) is csv.writer(render.safe_cell(…)) to the byte."""
    import csv
    import io

    import duckdb
    from sqlglot import exp

    from jxdsl.compile import _DuckDB
    from jxdsl.compile.csvout import csv_field, safe_cell
    from jxdsl.render import safe_cell as py_safe_cell

    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow([py_safe_cell(c) for c in cells])
    line = exp.func("concat_ws", exp.Literal.string(","), *[csv_field(safe_cell(exp.Literal.string(c))) for c in cells])
    assert duckdb.sql("SELECT " + line.sql(dialect=_DuckDB)).fetchall()[0][0] + "\n" == buf.getvalue()


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_unwritable_output_is_a_usage_error_in_every_engine(fmt, tmp_path):
    """``-o`` into a folder that is not there: a Chinese usage error (exit 2), no traceback, no
    part files left behind — for DuckDB's COPY as for Python's writer."""
    rulebook = ROOT / "rulebooks/shanxi/xingxian-2022-self-eval.jx"
    table = table_for(rulebook, 1, tmp_path)
    out = tmp_path / "不存在" / f"结果.{fmt}"
    for engine in ("interpreter", "duckdb"):
        code, _, err = cli("score", rulebook, table, "--format", fmt, "-o", out, "--engine", engine)
        assert code == 2 and f"无法写入“{out}”" in err and "Traceback" not in err, err
    assert not (tmp_path / "不存在").exists()


# ---- issue 12 (language): checks made when scoring agree in every engine ---------------------------
def _write(tmp: Path, rulebook: str, facts: str) -> tuple[Path, Path]:
    (tmp / "r.jx").write_text(rulebook, encoding="utf-8")
    (tmp / "f.yaml").write_text(facts, encoding="utf-8")
    return tmp / "r.jx", tmp / "f.yaml"


def test_bare_number_against_a_percentage_given_in_the_facts(tmp_path):
    """Undeclared facts: only the facts file shows 18% is a percentage; 10 against it (0.18 ≥ 10)
    must never be compared silently, in a 若 condition, a 分段 band, a 达标 target or 满分=."""
    rulebook, facts = _write(tmp_path, (
        "规则集 运行时单位\n事实\n  挪用占比\n"
        "管理 权重 4 扣分 每处1 扣完为止\n  若 挪用占比 ≥10 则 0\n"
        "完成率 权重 3 分段 ≥90%:3 ≥60:2 否则:0\n"
        "到位率 权重 2 达标 ≥95\n"
        "执行率 权重 5 反向 满分=80\n"
        "户数 权重 1 达标 ≥20\n"
    ), "项目: 乙项目\n事实:\n  挪用占比: 18%\n  完成率: 70%\n  到位率: 99%\n  执行率: 75%\n  户数: 25\n评价:\n  管理: {发现: []}\n")
    got = assert_engines_agree(rulebook, facts)
    code, out, err = got["interpreter"][0]
    assert code == 1
    for fragment in ("“挪用占比”是百分数，10 没有写 %", "“完成率”是百分数（70%），60 没有写 %", "“到位率”是百分数（99%），95 没有写 %", "“执行率”是百分数（75%），80 没有写 %"):
        assert fragment in err, err
    assert "户数" not in err and '"score": 1' in out


def test_a_bare_share_against_a_percentage_offers_both_readings(tmp_path):
    """0.6 against a percentage is as likely 60% as 0.6%: the hint names both, in check (kind known)
    and when scoring (kind seen only in the facts), the same in every engine."""
    rulebook, facts = _write(tmp_path, (
        "规则集 比例提示\n事实\n  执行占比\n  规范占比 百分比\n"
        "执行占比 权重 3 达标 ≥0.85\n"
        "规范 权重 2 扣分 每处1 扣完为止\n  若 规范占比 ≥0.2 则 0\n"
    ), "项目: 丙\n事实:\n  执行占比: 90%\n  规范占比: 5%\n评价:\n  规范: {发现: []}\n")
    code, _, err = cli("check", rulebook)
    assert code == 1 and "0.2 应写成 20% 还是 0.2%？" in err, err
    (tmp_path / "r.jx").write_text(rulebook.read_text(encoding="utf-8").replace("≥0.2 ", "≥20% "), encoding="utf-8")
    got = assert_engines_agree(rulebook, facts)
    assert "0.85 应写成 85% 还是 0.85%？" in got["interpreter"][0][2]


def test_squaring_derived_values_stop_at_a_located_limit(tmp_path):
    """Each derived value the square of the one before: a problem naming the first too long, no hang."""
    lines = ["平方1项 = 底数 + 2"] + [f"平方{i}项 = 平方{i - 1}项 × 平方{i - 1}项" for i in range(2, 40)]
    rulebook, facts = _write(tmp_path, "规则集 平方\n事实\n  底数 数值\n" + "\n".join(lines) + "\n平方39项 权重 1 达标 ≥1\n", "项目: 丙\n事实:\n  底数: 5\n")
    got = assert_engines_agree(rulebook, facts, explain=False)
    code, _, err = got["duckdb"][0]
    assert code == 1 and "计算派生值“平方12项”时：计算“平方11项 × 平方11项”的结果超过 1000 位数字" in err, err


def test_chain_of_derived_values_scores_alike(tmp_path):
    lines = [f"链{i}项 = 链{i - 1}项 + 链{i - 1}项 - 1" for i in range(12, 1, -1)] + ["链1项 = 底数 + 1"]
    text = "规则集 链\n事实\n  底数 数值\n  其他 数值\n" + "\n".join(lines) + "\n链12项 权重 1 达标 ≥1\n"
    for facts in ("项目: 丁\n事实:\n  底数: 1\n", "项目: 丁\n事实:\n  其他: 1\n"):
        rulebook, path = _write(tmp_path, text, facts)
        got = assert_engines_agree(rulebook, path)
        assert got["interpreter"][0][0] == (0 if "底数" in facts else 1)
    assert "缺少数据“底数”（计算“链12项”需要）" in got["duckdb"][0][2]


def test_bare_zero_point_of_a_default_rule_against_a_percentage_row(tmp_path):
    """默认规则 零分=60 meets each row's target only in the table: ≤5% makes it a percentage."""
    parent = (ROOT / "rulebooks/national/self-eval.jx").as_posix()
    (tmp_path / "r.jx").write_text(f'规则集 行零分 继承 "{parent}"\n默认规则\n  定量 ≤ : 反向 零分=60\n', encoding="utf-8")
    (tmp_path / "t.csv").write_text("项目,一级指标,二级指标,三级指标,分值,年度指标值,实际完成值,档次,评价得分,说明\n甲,产出指标,质量指标,返工率,10,≤5%,8%,,,\n", encoding="utf-8")
    got = assert_engines_agree(tmp_path / "r.jx", tmp_path / "t.csv", explain=False)
    assert "指标“产出指标/质量指标/返工率”：年度指标值是百分数（5%），60 没有写 %" in got["interpreter"][0][2]
