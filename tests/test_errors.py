"""One broken rulebook per mistake (tests/errors/): each gets a located Chinese message.

The first line of each file says, after ``# 期望：``, a fragment the message must contain.
The whole printed message is snapshotted so that wording changes are reviewed.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from jxdsl.cli import main

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BROKEN = sorted((HERE / "errors").glob("*.jx"))


@pytest.mark.parametrize("path", BROKEN, ids=[p.stem for p in BROKEN])
def test_broken_rulebook_is_rejected_with_located_message(path, monkeypatch, snapshot):
    monkeypatch.chdir(ROOT)
    rel = path.relative_to(ROOT).as_posix()
    expected = path.read_text(encoding="utf-8").splitlines()[0].split("期望：", 1)[1].strip()
    run = CliRunner().invoke(main, ["check", rel])
    out = run.output
    assert run.exit_code == 1, out
    assert "Traceback" not in out
    assert re.search(rf"^{re.escape(rel)}:\d+:\d+: ", out, re.M), out
    assert re.search(r"^\s+\^$", out, re.M), "caret line missing"
    assert expected in out
    assert out == snapshot


def test_every_kind_of_mistake_has_a_file():
    assert len(BROKEN) >= 19
