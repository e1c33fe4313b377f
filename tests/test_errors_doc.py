"""docs/errors.md is what the tool prints today, and every bad input fails cleanly."""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "errors"))

from make_table import DRAFT_KINDS, FACT_KINDS, RULEBOOK_KINDS, TABLE_KINDS, document, rows  # noqa: E402


def test_errors_document_is_up_to_date(monkeypatch):
    monkeypatch.chdir(ROOT)
    assert (ROOT / "docs" / "errors.md").read_text(encoding="utf-8") == document(), "run tests/errors/make_table.py > docs/errors.md"


def test_every_bad_input_exits_nonzero_with_a_chinese_message(monkeypatch):
    monkeypatch.chdir(ROOT)
    for kind, example, message, code in rows():
        assert code in (1, 2), (kind, code)
        assert "Traceback" not in message and any("\u4e00" <= ch <= "\u9fff" for ch in message), (kind, message)


def test_every_example_file_is_listed():
    assert {p.stem for p in (ROOT / "tests" / "errors").glob("*.jx")} == set(RULEBOOK_KINDS)
    assert {p.stem for p in (ROOT / "tests" / "errors" / "facts").glob("*.yaml")} == set(FACT_KINDS)
    tables = {p.name for p in (ROOT / "tests" / "errors" / "facts").glob("*.*") if p.suffix in (".csv", ".xlsx")} - {"bad-row-table.csv"}
    assert tables == {name.split()[0] for name in TABLE_KINDS} | set(DRAFT_KINDS)
