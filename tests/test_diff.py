"""`diff` of each variant against its parent lists exactly its overrides, and nothing is restated."""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from jxdsl import ast
from jxdsl.cli import main
from jxdsl.diff import diff, render
from jxdsl.link import Linker
from jxdsl.parse import parse_file

ROOT = Path(__file__).resolve().parent.parent
VARIANTS = []
for path in sorted((ROOT / "rulebooks").rglob("*.jx")):
    doc, _ = parse_file(path)
    decl = next(s for s in doc.statements if isinstance(s, ast.RulebookDecl))
    if decl.parent:
        VARIANTS.append((path, decl.parent, doc))
IDS = [p.relative_to(ROOT / "rulebooks").as_posix() for p, _, _ in VARIANTS]
HEADER = {"标题": "标题", "依据": "依据", "年度": "年度", "版本": "版本", "小数": "小数", "不适用": "不适用", "目标为零": "目标为零", "超过满分值": "超过满分值"}


def _pair(path: Path, parent: str):
    linker = Linker()
    child = linker.load(path)
    return linker.load(child.files[-2]), child


def test_there_are_variants():
    assert len(VARIANTS) >= 1


@pytest.mark.parametrize("variant", VARIANTS, ids=IDS)
def test_every_override_changes_something_and_nothing_else_changes(variant):
    path, parent_name, doc = variant
    parent, child = _pair(path, parent_name)
    assert parent.name == parent_name
    changes = diff(parent, child)
    indicator_changes = [c for c in changes if c.path]
    touched: list[tuple[str, ...]] = []
    for st in doc.statements:
        if isinstance(st, (ast.Adjust, ast.Replace, ast.Remove)):
            touched.append(st.path)
        elif isinstance(st, ast.Add):
            touched += [(*st.parent, i.name) for i in st.indicators]
    under = lambda p, top: p[: len(top)] == top  # noqa: E731
    for c in indicator_changes:
        assert any(under(c.path, t) for t in touched), f"{'/'.join(c.path)} changed without an override"
    for t in touched:
        assert any(under(c.path, t) for c in indicator_changes), f"override of {'/'.join(t)} restates the parent"
    settings = {c.field for c in changes if c.kind == "setting"}
    for st in doc.statements:
        if isinstance(st, ast.Setting):
            assert HEADER[st.key] in settings, f"{st.key} restated with the parent's value"
        if isinstance(st, ast.Grades):
            assert "等级" in settings, "等级 restated with the parent's value"
        if isinstance(st, ast.DefaultsBlock):
            assert any(f.startswith("默认规则") for f in settings), "默认规则 restated unchanged"


@pytest.mark.parametrize("variant", VARIANTS, ids=IDS)
def test_diff_snapshot(variant, snapshot):
    path, parent_name, _ = variant
    parent, child = _pair(path, parent_name)
    assert render(parent, child, diff(parent, child)) == snapshot


def test_diff_of_a_rulebook_with_itself_is_empty():
    path = VARIANTS[0][0]
    run = CliRunner().invoke(main, ["diff", str(path), str(path)])
    assert run.exit_code == 0
    assert "完全相同" in run.output


def test_diff_json_lists_weight_change(tmp_path):
    (tmp_path / "p.jx").write_text("规则集 父\n决策 权重 10\n  甲 权重 6 酌情\n  乙 权重 4 酌情\n", encoding="utf-8")
    (tmp_path / "c.jx").write_text("规则集 子 继承 父\n调整 决策/甲 权重 5\n调整 决策/乙 权重 5 档次 好=5 差=0\n", encoding="utf-8")
    run = CliRunner().invoke(main, ["diff", str(tmp_path / "p.jx"), str(tmp_path / "c.jx"), "--format", "json"])
    assert run.exit_code == 0, run.output
    import json

    got = json.loads(run.output)
    kinds = sorted((c["kind"], "/".join(c["path"])) for c in got["changes"])
    assert kinds == [("rule", "决策/乙"), ("weight", "决策/乙"), ("weight", "决策/甲")]
    rule = next(c for c in got["changes"] if c["kind"] == "rule")
    assert rule["old"] == "酌情" and rule["new"] == "档次 好=5 差=0"
