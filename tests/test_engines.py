"""Every engine, every rulebook: the same bytes out.

Generated tables (facts tables for rulebook trees, self-evaluation tables for target-table schemes)
× every rulebook in ``rulebooks/`` and the option variants in ``tests/rulebooks/`` × every engine:
``score --format jsonl`` (totals, grades, statuses, explanations, errors, warnings), the errors
and warnings on stderr with their table lines, the exit code, and ``explain`` must be identical.
The published cases are compared the same way in ``test_cases.py``.
"""
from __future__ import annotations

import importlib.util
import random
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from gen_tables import FACTS_COLUMNS, SELF_EVAL_COLUMNS, facts_rows, self_eval_rows, write_csv

from jxdsl.cli import main
from jxdsl.link import Linker
from jxdsl.lower import lower

ROOT = Path(__file__).resolve().parents[1]
RULEBOOKS = sorted(ROOT.glob("rulebooks/**/*.jx")) + sorted((ROOT / "tests/rulebooks").glob("*.jx"))
HAS_SPARK = importlib.util.find_spec("pyspark") is not None
_TALLY = re.compile(r"；引擎 \S+?(（.*?）)?，用时 [0-9.]+ 秒$", re.M)


def cli(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    return r.exit_code, r.stdout, _TALLY.sub("", r.stderr)


def table_for(rulebook: Path, seed: int, tmp: Path, n_projects: int = 12) -> Path:
    scheme = lower(Linker().load(rulebook))
    rng = random.Random(f"{rulebook.name}-{seed}")
    if scheme.tables():
        return write_csv(tmp / f"{rulebook.stem}-{seed}.csv", SELF_EVAL_COLUMNS, self_eval_rows(rng, n_projects))
    year = rng.choice(["", "", str(scheme.years[0]) if scheme.years else "", "2019", "２０２１"])
    return write_csv(tmp / f"{rulebook.stem}-{seed}.csv", FACTS_COLUMNS, facts_rows(scheme, rng, n_projects, year))


def assert_engines_agree(rulebook: Path, table: Path, engines=("interpreter", "duckdb")) -> dict:
    """score (jsonl) and explain through each engine; everything but the tally's engine and time equal."""
    got = {}
    for engine in engines:
        score = cli("score", rulebook, table, "--format", "jsonl", "--engine", engine)
        explain = cli("explain", rulebook, table, "--engine", engine)
        got[engine] = (score, explain)
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


@pytest.mark.parametrize("rulebook", RULEBOOKS, ids=lambda p: p.stem)
@pytest.mark.parametrize("seed", [1, 2])
def test_generated_tables_every_engine(rulebook, seed, tmp_path):
    table = table_for(rulebook, seed, tmp_path)
    got = assert_engines_agree(rulebook, table)
    (code, out, err), _ = got["interpreter"]
    assert out.count("\n") >= 10, "every project gets a JSON line"
    assert code in (0, 1) and ("有数据问题" in err)


@pytest.mark.skipif(not HAS_SPARK, reason="pyspark 未安装")
@pytest.mark.parametrize("rulebook", [ROOT / "rulebooks/shanxi/xingxian-2022-self-eval.jx", ROOT / "rulebooks/shandong/qixia-2021.jx"], ids=lambda p: p.stem)
def test_spark_agrees(rulebook, tmp_path):
    assert_engines_agree(rulebook, table_for(rulebook, 3, tmp_path, n_projects=6), engines=("interpreter", "spark"))
