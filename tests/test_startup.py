"""Start-up: the parser cache (jxdsl/data.py) and which libraries a command imports."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "rulebooks" / "national" / "self-eval.jx"


def _child(code: str, cache: Path | str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "JXDSL_CACHE_DIR": str(cache), "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


LINK = f"from jxdsl.link import load; print(load({str(BOOK)!r}).name)"


def test_parser_cache_is_written_then_read(tmp_path):
    first = _child(LINK, tmp_path / "c", tmp_path)
    assert first.returncode == 0 and first.stdout.strip() == "单位自评-财预2020-10", first.stderr
    (cached,) = (tmp_path / "c").glob("parser-*.lark")
    stamp = cached.stat().st_mtime_ns
    second = _child(LINK, tmp_path / "c", tmp_path)
    assert second.stdout == first.stdout and second.stderr == ""
    assert cached.stat().st_mtime_ns == stamp  # read, not rebuilt


@pytest.mark.parametrize("damage", ["not a folder", "damaged file", "folder in its place"])
def test_unusable_parser_cache_still_parses(tmp_path, damage):
    """A cache folder that cannot be made, a truncated or foreign cache file, or a folder where
    the file should be: the parser is built as without a cache, silently."""
    cache = tmp_path / "c"
    if damage == "not a folder":
        cache.write_text("x")
    else:
        _child(LINK, cache, tmp_path)
        (cached,) = cache.glob("parser-*.lark")
        if damage == "damaged file":
            cached.write_bytes(cached.read_bytes()[:300])
        else:
            cached.unlink()
            cached.mkdir()
    r = _child(LINK, cache, tmp_path)
    assert r.returncode == 0 and r.stdout.strip() == "单位自评-财预2020-10" and r.stderr == "", r.stderr


# ---- what a command imports (docs/performance.md) -------------------------------------------------
LOADED = "import json, sys\nfrom jxdsl.cli import main\ntry:\n    main({args!r})\nexcept SystemExit:\n    pass\nprint(json.dumps(sorted(m for m in {heavy!r} if m in sys.modules)), file=sys.stderr)"
HEAVY = ["sympy", "duckdb", "sqlglot", "openpyxl", "docx", "rich", "lark", "yaml", "jxdsl.batch", "jxdsl.compile"]


def _loaded(args: list[str], cwd: Path) -> list[str]:
    r = _child(LOADED.format(args=args, heavy=HEAVY), cwd / "cache", ROOT)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stderr.strip().splitlines()[-1])


def test_help_imports_no_heavy_library(tmp_path):
    assert _loaded(["--help"], tmp_path) == []
    assert _loaded(["explain", "--help"], tmp_path) == []


def test_single_project_explain_imports_neither_sympy_nor_the_sql_compiler(tmp_path):
    loaded = _loaded(["explain", "rulebooks/shandong/qixia-2021.jx", "examples/qixia-2021/facts.yaml"], tmp_path)
    assert "duckdb" in loaded and "lark" in loaded  # it did run (a facts file goes through DuckDB's input relations)
    assert not {"sympy", "sqlglot", "jxdsl.compile", "openpyxl", "docx", "rich"} & set(loaded)


def test_check_imports_neither_sympy_nor_duckdb(tmp_path):
    loaded = _loaded(["check", "rulebooks/xinjiang/bazhou-2021.jx"], tmp_path)  # 分段 and 否决 checks included
    assert "lark" in loaded and not {"sympy", "duckdb", "sqlglot"} & set(loaded)


def test_cli_engine_names_are_the_batch_engines():
    from jxdsl import batch, cli

    assert cli.ENGINES == batch.ENGINES


# ---- band reachability without sympy: the exact interval code against sympy's sets ---------------
from fractions import Fraction  # noqa: E402

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from jxdsl.formulas import shadowed  # noqa: E402


def _shadowed_by_sympy(conditions):
    """The former definition (sympy sets), kept here as the oracle."""
    import sympy

    def interval(op, v):
        r = sympy.Rational(v.numerator, v.denominator)
        return {
            ">=": sympy.Interval(r, sympy.oo), ">": sympy.Interval(r, sympy.oo, left_open=True),
            "<=": sympy.Interval(-sympy.oo, r), "<": sympy.Interval(-sympy.oo, r, right_open=True),
            "=": sympy.FiniteSet(r),
        }[op]

    union, out = sympy.EmptySet, []
    for n, (op, v) in enumerate(conditions):
        s = interval(op, v)
        if s.is_subset(union):
            out.append(n)
        union = sympy.Union(union, s)
    return out, bool(sympy.Reals.is_subset(union))


CONDITIONS = st.lists(
    st.tuples(st.sampled_from([">=", ">", "<=", "<", "="]), st.sampled_from([Fraction(-1), Fraction(0), Fraction(1, 3), Fraction(1), Fraction(2)])),
    max_size=6,
)


@settings(max_examples=150, deadline=None)
@given(CONDITIONS)
def test_shadowed_agrees_with_sympy_sets(conditions):
    assert shadowed(conditions) == _shadowed_by_sympy(conditions)


@pytest.mark.parametrize(("conditions", "expected"), [
    ([(">=", 1), (">", 1)], ([1], False)),
    ([("<", 1), ("=", 1), (">", 1)], ([], True)),
    ([("<", 1), (">", 1)], ([], False)),
    ([("<=", 2), (">=", 1), ("=", 5)], ([2], True)),
    ([("=", 3), ("=", 3), ("<=", 3)], ([1], False)),
])
def test_shadowed_examples(conditions, expected):
    assert shadowed([(op, Fraction(v)) for op, v in conditions]) == expected
