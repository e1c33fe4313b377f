"""Exactness at the edge of 38 digits: the SQL engines compute a project only when the digit bounds
(``kernel.sql.Form``) prove every integer fits, and hand the others to the interpreter.

A bound that is too loose sends projects to the interpreter (slow, still exact); one that is too
tight makes DuckDB overflow (an error) or, worse, a wrong number.  Facts with long numbers (up to
22 integer digits and 12 decimals) must therefore give the same bytes in every engine, with some
projects computed in SQL and some by the interpreter, so that both paths are exercised.
"""
from __future__ import annotations

import random
import re
from pathlib import Path

from click.testing import CliRunner
from gen_tables import FACTS_COLUMNS, SELF_EVAL_COLUMNS, facts_rows, self_eval_rows, write_csv
from hypothesis import given, settings
from hypothesis import strategies as st
from test_engines import assert_engines_agree

from jxdsl.cli import main
from jxdsl.kernel.widths import Form, _below, _prune
from jxdsl.link import Linker
from jxdsl.lower import lower

ROOT = Path(__file__).resolve().parents[1]
NUMBER = re.compile(r"^([≥≤<>=]?)([0-9]+)(\.[0-9]+)?(\D*)$")
LONG = re.compile(r"（(\d+) 个项目的数值过长，由解释器精确计分）")


def _lengthen(value: str, rng: random.Random) -> str:
    m = NUMBER.match(value)
    if not m:
        return value
    whole = str(rng.randint(1, 9)) + "".join(rng.choice("0123456789") for _ in range(rng.randint(0, 21)))
    decimals = "".join(rng.choice("0123456789") for _ in range(rng.randint(0, 12)))
    return m.group(1) + whole + ("." + decimals if decimals else "") + m.group(4)


def test_long_numbers_same_bytes_and_both_paths(tmp_path):
    rulebook = ROOT / "rulebooks/shandong/qixia-2021.jx"
    scheme = lower(Linker().load(rulebook))
    rng = random.Random("widths")
    rows = facts_rows(scheme, rng, 16, "", 0)
    value = FACTS_COLUMNS.index("值")
    project = FACTS_COLUMNS.index("项目")
    long_projects = {f"项目{i}" for i in range(0, 16, 2)}
    for r in rows:
        if r[project].removesuffix("（县级）") in long_projects and r[FACTS_COLUMNS.index("类别")] != "评价":
            r[value] = _lengthen(r[value], rng)
    table = write_csv(tmp_path / "long.csv", FACTS_COLUMNS, rows)
    assert_engines_agree(rulebook, table, explain=False)
    got = CliRunner().invoke(main, ["score", str(rulebook), str(table), "--format", "jsonl", "--engine", "duckdb"], catch_exceptions=False)
    m = LONG.search(got.stderr)
    assert m is not None, "some long numbers must go to the interpreter"
    assert 0 < int(m.group(1)) < 16, f"{m.group(1)} of 16 projects by the interpreter: the short ones stay in SQL"


def test_long_numbers_in_target_rows(tmp_path):
    """The same for a self-evaluation table: rows' targets and actuals (and the budget row) long."""
    rulebook = ROOT / "rulebooks/shanxi/xingxian-2022-self-eval.jx"
    scheme = lower(Linker().load(rulebook))
    rng = random.Random("widths-rows")
    rows = self_eval_rows(rng, 16, {t.name: float(t.weight) for t in scheme.tables()})
    project = SELF_EVAL_COLUMNS.index("项目")
    for r in rows:
        if int(re.sub(r"\D", "", r[project]) or 0) % 2 == 0:
            for c in ("年度指标值", "实际完成值"):
                r[SELF_EVAL_COLUMNS.index(c)] = _lengthen(r[SELF_EVAL_COLUMNS.index(c)], rng)
    table = write_csv(tmp_path / "long-rows.csv", SELF_EVAL_COLUMNS, rows)
    assert_engines_agree(rulebook, table, explain=False)
    got = CliRunner().invoke(main, ["score", str(rulebook), str(table), "--format", "jsonl", "--engine", "duckdb"], catch_exceptions=False)
    m = LONG.search(got.stderr)
    assert m is not None and 0 < int(m.group(1)) < 16, got.stderr[-300:]


# ---- the bounds themselves -------------------------------------------------------------------------
pieces = st.lists(st.tuples(st.dictionaries(st.integers(0, 3), st.integers(1, 3), max_size=3), st.integers(0, 20)), min_size=1, max_size=6)
rows = st.dictionaries(st.integers(0, 3), st.integers(1, 40), min_size=4, max_size=4)


def _value(piece, row) -> int:
    vs, c = piece
    return c + sum(m * row[v] for v, m in vs)


def _piece(vs: dict, c: int):
    return tuple(sorted(vs.items())), c


@settings(max_examples=300, deadline=None)
@given(pieces, rows)
def test_pruned_sums_bound_every_sum(ps, row):
    """What ``_prune`` keeps (merged beyond ``Form.PARTS``) is at least every sum it was given,
    for every row of digit counts ≥ 1, and ``_below`` never claims a bound that does not hold."""
    ps = [_piece(vs, c) for vs, c in ps]
    kept = _prune(ps)
    assert len(kept) <= Form.PARTS
    assert max(_value(p, row) for p in kept) >= max(_value(p, row) for p in ps)
    for p in ps:
        for q in ps:
            if _below(p, q):
                assert _value(p, row) <= _value(q, row)


@settings(max_examples=200, deadline=None)
@given(pieces, pieces, rows)
def test_form_sum_and_join_bound_their_operands(a, b, row):
    fa = Form(pieces=_prune([_piece(vs, c) for vs, c in a]))
    fb = Form(pieces=_prune([_piece(vs, c) for vs, c in b]))
    top = lambda f: max(_value(p, row) for p in f.parts)  # noqa: E731
    assert top(fa + fb) >= top(fa) + top(fb)
    assert top(fa.join(fb)) >= max(top(fa), top(fb))
