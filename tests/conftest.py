"""Shared helpers for the jxdsl test suite.

Rulebooks are written as text into a temporary directory, linked with ``Linker().load`` and
evaluated against ``Facts`` built in the test, so every test states its rule and its data.
"""
from __future__ import annotations

import os
import sys
import tempfile
from fractions import Fraction
from pathlib import Path

# test modules import the helpers below with ``from conftest import …``
if str(Path(__file__).resolve().parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parent))

import pytest
from hypothesis import settings
from hypothesis.configuration import set_hypothesis_home_dir

from jxdsl.errors import ErrorGroup, JxError
from jxdsl.evaluate import Result, evaluate
from jxdsl.facts import Facts
from jxdsl.link import Linker, Rulebook

# No example database on disk (the suite must write nothing outside tests/ and tmp dirs),
# no deadline (sympy's first call is slow), modest example counts so the suite stays fast.
# Hypothesis also caches constants under its home directory (./.hypothesis by default): keep it in a temp dir.
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "jxdsl-tests-hypothesis")
# The parser cache (jxdsl/data.py) likewise: not the user's ~/.cache/jxdsl.
os.environ.setdefault("JXDSL_CACHE_DIR", str(Path(tempfile.gettempdir()) / "jxdsl-tests-cache"))
settings.register_profile("jxdsl", database=None, deadline=None, max_examples=60, print_blob=True)
settings.load_profile("jxdsl")

HEAD = "规则集 测试规则集\n"

# Modules whose tests run whole engines (DuckDB, Spark) on generated tables: started first, so that the
# run does not end on one worker with a long test while the other idles (with --dist worksteal).
SLOW_FIRST = ("test_mutations.py", "test_engines.py", "test_fuzz.py", "test_cli.py", "test_cases.py")


def pytest_collection_modifyitems(items):
    rank = {name: k for k, name in enumerate(SLOW_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(SLOW_FIRST)))


def write_rulebook(directory: Path, text: str, name: str = "x.jx") -> Path:
    path = Path(directory) / name
    path.write_text(text, encoding="utf-8")
    return path


def load_text(text: str, directory: Path | None = None, name: str = "x.jx") -> Rulebook:
    """Link rulebook text written to ``directory`` (a fresh temp dir when not given)."""
    if directory is None:
        directory = Path(tempfile.mkdtemp(prefix="jxdsl-test-"))
    return Linker().load(write_rulebook(directory, text, name))


def link_errors(text: str, directory: Path, name: str = "x.jx") -> list[JxError]:
    """The errors linking ``text`` reports (fails the test when it links cleanly)."""
    path = write_rulebook(directory, text, name)
    return load_errors(path)


def load_errors(path: Path) -> list[JxError]:
    try:
        Linker().load(path)
    except ErrorGroup as group:
        return list(group.errors)
    except JxError as e:  # inheritance problems and syntax errors are raised singly
        return [e]
    pytest.fail(f"{path} linked without errors")


def evaluate_text(
    text: str,
    values: dict | None = None,
    evaluations: dict | None = None,
    targets: tuple = (),
    directory: Path | None = None,
) -> Result:
    book = load_text(text, directory)
    facts = Facts(project="测试", values=dict(values or {}), evaluations=dict(evaluations or {}), targets=tuple(targets))
    return evaluate(book, facts)


def by_path(result: Result) -> dict[str, object]:
    """Indicator results keyed by their '/'-joined path."""
    return {"/".join(r.path): r for r in result.walk()}


def messages(result_or_errors) -> str:
    errs = getattr(result_or_errors, "errors", result_or_errors)
    return "\n".join(e.message + (f"（{e.hint}）" if e.hint else "") for e in errs)


def F(x) -> Fraction:
    return Fraction(str(x))


@pytest.fixture
def score(tmp_path):
    """score(rulebook_text, values=None, evaluations=None, targets=()) -> Result.

    ``rulebook_text`` without a ``规则集`` line gets one added.
    """
    counter = [0]

    def run(text: str, values: dict | None = None, evaluations: dict | None = None, targets=()) -> Result:
        if not text.lstrip().startswith("规则集"):
            text = HEAD + text
        counter[0] += 1
        d = tmp_path / f"book{counter[0]}"
        d.mkdir()
        return evaluate_text(text, values, evaluations, targets, directory=d)

    return run


@pytest.fixture
def one(score):
    """one(text, values, evaluations) -> the IndicatorResult of a single-indicator rulebook."""

    def run(text: str, values: dict | None = None, evaluations: dict | None = None):
        result = score(text, values, evaluations)
        assert len(result.indicators) == 1
        return result.indicators[0], result

    return run
