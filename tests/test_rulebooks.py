"""Every shipped rulebook checks clean, and printing it back gives the same AST."""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from jxdsl.cli import main
from jxdsl.link import Linker
from jxdsl.parse import parse, parse_file
from jxdsl.printer import print_document

ROOT = Path(__file__).resolve().parent.parent
RULEBOOKS = sorted((ROOT / "rulebooks").rglob("*.jx"))


def test_there_are_rulebooks():
    assert len(RULEBOOKS) >= 4


@pytest.mark.parametrize("path", RULEBOOKS, ids=[p.relative_to(ROOT / "rulebooks").as_posix() for p in RULEBOOKS])
def test_check_accepts_rulebook(path):
    run = CliRunner().invoke(main, ["check", str(path)])
    assert run.exit_code == 0, run.output
    assert run.output.startswith("规则集 ")


@pytest.mark.parametrize("path", RULEBOOKS, ids=[p.relative_to(ROOT / "rulebooks").as_posix() for p in RULEBOOKS])
def test_print_and_reparse_gives_same_ast(path):
    doc, _ = parse_file(path)
    printed = print_document(doc)
    assert parse(printed, "printed.jx") == doc


@pytest.mark.parametrize("path", RULEBOOKS, ids=[p.relative_to(ROOT / "rulebooks").as_posix() for p in RULEBOOKS])
def test_weights_add_up_and_every_indicator_knows_its_source(path):
    book = Linker().load(path)
    for ind in book.walk():
        assert ind.origin is not None and ind.origin.file in book.files
        if ind.children:
            assert sum(c.weight for c in ind.children) == ind.weight
    assert len(book.content_hash) == 64
