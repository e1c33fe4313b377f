"""Start-up: the parser cache (jxdsl/data.py), the cache of syntax trees (jxdsl/trees.py), the
lexer's scanners, a facts file's inputs without DuckDB, and which libraries a command imports."""
from __future__ import annotations

import functools
import json
import os
import re
import shutil
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
        shutil.rmtree(cache / "trees")  # else the trees kept there spare the parser
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
HEAVY = ["sympy", "duckdb", "pyarrow", "sqlglot", "openpyxl", "docx", "rich", "lark", "yaml", "jxdsl.batch", "jxdsl.compile", "pygls"]


def _loaded(args: list[str], cwd: Path) -> list[str]:
    r = _child(LOADED.format(args=args, heavy=HEAVY), cwd / "cache", ROOT)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stderr.strip().splitlines()[-1])


def test_help_imports_no_heavy_library(tmp_path):
    assert _loaded(["--help"], tmp_path) == []
    assert _loaded(["explain", "--help"], tmp_path) == []


def test_single_project_explain_imports_neither_duckdb_nor_sympy_nor_the_sql_compiler(tmp_path):
    """The interpreter scores a facts file from rows held in Python: no DuckDB, no pyarrow; once
    the rulebooks' trees are kept (first run), not even Lark."""
    args = ["explain", "rulebooks/shandong/qixia-2021.jx", "examples/qixia-2021/facts.yaml"]
    first, again = _loaded(args, tmp_path), _loaded(args, tmp_path)
    assert "lark" in first and "jxdsl.batch" in first and "jxdsl.batch" in again  # they did run
    heavy = {"duckdb", "pyarrow", "sympy", "sqlglot", "jxdsl.compile", "openpyxl", "docx", "rich"}
    assert not heavy & set(first) and not (heavy | {"lark"}) & set(again)


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


# ---- a facts file is scored without DuckDB: its relations read in Python as DuckDB reads them back ----
from jxdsl.errors import Span  # noqa: E402
from jxdsl.facts import TargetRow  # noqa: E402
from jxdsl.inputs import Entry, Fact, Problem, ProjectInputs, Record  # noqa: E402

_text = st.text(alphabet="甲乙a1 ", max_size=3)
_maybe = st.none() | _text
_line = st.none() | st.integers(1, 5)
_span = lambda line: Span("f.yaml", line, 1) if line else None  # noqa: E731
_entries = st.lists(st.builds(Entry, st.integers(0, 2), _maybe, _maybe), max_size=3).map(tuple)


@st.composite
def _projects(draw):
    out = []
    for _ in range(draw(st.integers(1, 3))):
        records = tuple(
            Record(draw(_text), draw(st.dictionaries(st.sampled_from(["档次", "说明", "发现", "问卷"]), _text | _entries, max_size=3)), draw(_line), n)
            for n in draw(st.permutations(range(draw(st.integers(0, 3)))))
        )
        targets = tuple(TargetRow(draw(_text), draw(_text), draw(_text), *(draw(_maybe) for _ in range(6)), _span(draw(_line)), draw(_maybe), parent=draw(st.none() | st.integers(1, 3)))
                        for _ in range(draw(st.integers(0, 3))))
        out.append(ProjectInputs(
            draw(_text), draw(st.sampled_from(["", "f.yaml"])), draw(st.none() | st.integers(2019, 2023)),
            draw(st.dictionaries(_text, st.builds(Fact, _maybe, _line), max_size=3)), records, targets,
            tuple(draw(st.lists(st.builds(Problem, _text, _line, _maybe), max_size=2))), draw(_line), draw(st.sampled_from(["facts", "self-eval"])),
        ))
    return out


@functools.cache
def _connection():
    from jxdsl.batch import duckdb_connect

    return duckdb_connect()


def _both_ways(projects, pids):
    """(read back from DuckDB, read from the rows in Python)."""
    from jxdsl.tables import fetch_inputs, inputs_of_rows, load_inputs, rows_of, sorted_rows

    load_inputs(_connection(), rows_of(projects))  # replaces the relations
    return fetch_inputs(_connection(), pids), inputs_of_rows(sorted_rows(rows_of(projects), pids))


@settings(max_examples=50, deadline=None)
@given(_projects(), st.booleans())
def test_facts_rows_read_in_python_as_from_duckdb(projects, some):
    pids = [1, len(projects)] if some else None
    via_duckdb, in_python = _both_ways(projects, pids)
    assert in_python == via_duckdb
    assert [[t.span for t in p.targets] for p in in_python] == [[t.span for t in p.targets] for p in via_duckdb]  # span: eq=False


@pytest.mark.parametrize("facts", sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "examples").glob("*/facts.yaml")))
def test_example_facts_read_in_python_as_from_duckdb(facts):
    from jxdsl.facts import load
    from jxdsl.inputs import from_facts

    projects = [from_facts(f) for f in load(ROOT / facts)]
    via_duckdb, in_python = _both_ways(projects, None)
    assert in_python == via_duckdb and in_python


# ---- the lexer's scanners (parse._Scanner): the tokens and errors of Lark's own -------------------
RULEBOOK_TEXTS = {p.relative_to(ROOT).as_posix(): p.read_text(encoding="utf-8") for p in sorted([*ROOT.glob("rulebooks/**/*.jx"), *ROOT.glob("tests/**/*.jx")])}


@functools.cache
def _stock_parser():
    """The grammar with Lark's own contextual lexer (no cache, no plugins)."""
    from lark import Lark

    from jxdsl.data import grammar_file
    from jxdsl.parse import _ChineseIndenter

    return Lark(grammar_file().read_text(encoding="utf-8"), parser="lalr", postlex=_ChineseIndenter(), propagate_positions=True, maybe_placeholders=False)


def _outcome(parser, text: str):
    from lark import Token
    from lark.exceptions import UnexpectedInput

    try:
        tree = parser.parse(text)
    except UnexpectedInput as e:
        expected = getattr(e, "expected", None) or getattr(e, "allowed", None) or ()
        return type(e).__name__, e.line, e.column, sorted(expected), repr(getattr(e, "token", None))
    except Exception as e:  # the indenter's own (too deep, bad dedent)
        return (type(e).__name__,)
    return [(t.type, str(t), t.line, t.column) for t in tree.scan_values(lambda v: isinstance(v, Token))], tree


@pytest.mark.parametrize("name", list(RULEBOOK_TEXTS))
def test_scanner_tokens_are_larks(name):
    from jxdsl.parse import _parser

    text = RULEBOOK_TEXTS[name] if RULEBOOK_TEXTS[name].endswith("\n") else RULEBOOK_TEXTS[name] + "\n"
    assert _outcome(_parser(), text) == _outcome(_stock_parser(), text)


@settings(max_examples=80, deadline=None)
@given(st.sampled_from(sorted(RULEBOOK_TEXTS)), st.integers(0, 10**6), st.text(alphabet="甲分1０.%％（(）)：:，,、“\"#＃ \u3000\n≥=—·《", min_size=1, max_size=3))
def test_scanner_agrees_with_larks_on_edited_text(name, at, inserted):
    """A few characters put anywhere: the same tokens, or the same failure at the same place."""
    from jxdsl.parse import _parser

    text = RULEBOOK_TEXTS[name]
    at %= len(text) + 1
    text = text[:at] + inserted + text[at:] + "\n"
    assert _outcome(_parser(), text) == _outcome(_stock_parser(), text)


# ---- the cache of syntax trees (jxdsl/trees.py) ------------------------------------------------------
import pickle  # noqa: E402

from jxdsl import trees  # noqa: E402


@pytest.fixture
def tree_cache(tmp_path, monkeypatch):
    """An empty cache folder, and a parser that counts its calls."""
    import jxdsl.parse

    monkeypatch.setenv("JXDSL_CACHE_DIR", str(tmp_path / "cache"))
    calls = []
    real = jxdsl.parse.parse
    monkeypatch.setattr(jxdsl.parse, "parse", lambda text, file: calls.append(file) or real(text, file))
    return tmp_path / "cache" / "trees", calls


@pytest.mark.parametrize("name", [n for n in RULEBOOK_TEXTS if not n.startswith("tests/errors/")])
def test_kept_tree_is_the_parsed_tree(name, tree_cache):
    from jxdsl.parse import parse_file

    _, calls = tree_cache
    fresh = parse_file(ROOT / name)
    calls.clear()
    first, again = trees.load(ROOT / name), trees.load(ROOT / name)
    assert calls == [str(ROOT / name)]  # parsed once, then read
    assert first == again == fresh
    assert pickle.dumps(again[0]) == pickle.dumps(fresh[0])  # spans too (equality ignores them)


def test_kept_tree_follows_the_text_the_name_and_the_code(tree_cache, tmp_path, monkeypatch):
    folder, calls = tree_cache
    book = tmp_path / "a.jx"
    book.write_text("规则集 甲\n产出 权重 100 酌情\n", encoding="utf-8")
    trees.load(book)
    book.write_text("规则集 甲\n产出 权重 90 酌情\n", encoding="utf-8")
    assert trees.load(book)[0].statements[1].weight.magnitude == 90
    other = tmp_path / "b.jx"
    other.write_bytes(book.read_bytes())
    assert trees.load(other)[0].statements[1].span.file == str(other)
    monkeypatch.chdir(tmp_path)
    assert trees.load("b.jx")[0].statements[1].span.file == "b.jx"  # the same file, named otherwise
    monkeypatch.setattr(trees, "_code_stamp", lambda: "another jxdsl")
    trees.load(book)
    assert len(calls) == 5


@pytest.mark.parametrize("damage", ["truncated", "foreign", "not a folder"])
def test_unusable_kept_tree_is_parsed_again(tree_cache, tmp_path, damage):
    folder, calls = tree_cache
    book = ROOT / "rulebooks" / "national" / "self-eval.jx"
    fresh = trees.load(book)
    (entry,) = folder.glob("*.pickle")
    if damage == "truncated":
        entry.write_bytes(entry.read_bytes()[:-100])
    elif damage == "foreign":
        entry.write_bytes(entry.read_bytes()[:32] + pickle.dumps(["not", "a", "tree"]))
    else:
        shutil.rmtree(folder)
        folder.write_text("x")
    assert trees.load(book) == fresh and len(calls) == 2


def test_names_are_printed_as_the_grammar_reads_them_with_or_without_the_kept_list(tree_cache):
    import jxdsl.parse

    folder, _ = tree_cache
    trees.bare_name.cache_clear()
    try:
        pattern, words = jxdsl.parse.bare_name()
        assert trees.bare_name() == (re.compile(pattern), frozenset(words))  # worked out, then kept
        (folder / "names.json").write_text('{"stamp": "old", "name": "x", "words": []}', encoding="utf-8")
        trees.bare_name.cache_clear()
        assert trees.name_text("产出") == "产出" and trees.name_text("权重") == "“权重”"
    finally:
        trees.bare_name.cache_clear()
