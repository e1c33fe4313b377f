"""The worked examples in docs/ are real rulebooks: they link, and diff lists their changes."""
from __future__ import annotations

import re
import shutil
import textwrap
from pathlib import Path

from jxdsl.diff import diff
from jxdsl.link import Linker

ROOT = Path(__file__).resolve().parent.parent


def _blocks(doc: str) -> list[str]:
    text = (ROOT / "docs" / doc).read_text(encoding="utf-8")
    blocks = [textwrap.dedent(b) for b in re.findall(r"^[ \t]*```\w*\n(.*?)^[ \t]*```", text, re.S | re.M)]
    return [b for b in blocks if b.startswith("规则集")]


def test_province_variant_example_links_and_diff_lists_its_changes(tmp_path):
    first, second = _blocks("rulebooks.md")[:2]
    (tmp_path / "rulebooks" / "national").mkdir(parents=True)
    shutil.copy(ROOT / "rulebooks" / "national" / "self-eval.jx", tmp_path / "rulebooks" / "national")
    (tmp_path / "rulebooks" / "p").mkdir()
    (tmp_path / "rulebooks" / "p" / "2024.jx").write_text(first, encoding="utf-8")
    (tmp_path / "rulebooks" / "p" / "2025.jx").write_text(second, encoding="utf-8")
    linker = Linker()
    national = linker.load(tmp_path / "rulebooks" / "national" / "self-eval.jx")
    y2024 = linker.load(tmp_path / "rulebooks" / "p" / "2024.jx")
    y2025 = linker.load(tmp_path / "rulebooks" / "p" / "2025.jx")
    assert y2024.max == 100 and y2025.max == 100
    fields = {(c.kind, "/".join(c.path), c.field) for c in diff(national, y2024)}
    assert ("weight", "预算执行率", None) in fields and ("weight", "产出指标", None) in fields
    assert ("setting", "", "默认规则 定量 ≤") in fields and ("setting", "", "默认规则 定性") in fields
    assert ("setting", "", "默认规则 定量 ≥") not in fields  # inherited unchanged
    assert {(c.kind, "/".join(c.path)) for c in diff(y2024, y2025) if c.path} == {("weight", "满意度指标"), ("weight", "效益指标")}
