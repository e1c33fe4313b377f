"""Rulebooks found by name: the search path (own tree, JXDSL_PATH, installed library) and `jxdsl rulebooks`."""
from __future__ import annotations

import json
import os
import unicodedata
from pathlib import Path

import pytest
from click.testing import CliRunner

from jxdsl.cli import main
from jxdsl.errors import LinkError
from jxdsl.link import Linker
from jxdsl.resolve import LIBRARY

NATIONAL = "单位自评-财预2020-10"
VARIANT = f"""规则集 {NATIONAL}
标题 "本地改写的全国框架"
版本 "本地"
预算执行率 权重 20 正向 满分=100%
产出指标 权重 80 酌情
"""


def _book(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def tree(tmp_path, monkeypatch):
    """A county's folder with its own rulebooks/ tree, and a shared folder for JXDSL_PATH."""
    monkeypatch.delenv("JXDSL_PATH", raising=False)
    child = _book(tmp_path / "县" / "rulebooks" / "2025" / "child.jx", f"规则集 某县-2025 继承 {NATIONAL}\n年度 2025\n")
    return tmp_path, child


def test_search_order_own_tree_then_jxdsl_path_then_library(tree, monkeypatch):
    tmp, child = tree
    assert Path(Linker().load(child).files[0]).resolve().is_relative_to(LIBRARY)
    shared = _book(tmp / "共享" / "national.jx", VARIANT)
    monkeypatch.setenv("JXDSL_PATH", os.pathsep.join([str(tmp / "没有这个目录"), str(shared.parent)]))
    book = Linker().load(child)
    assert Path(book.files[0]).resolve() == shared.resolve() and book.version == "本地"
    own = _book(tmp / "县" / "rulebooks" / "base" / "mine.jx", VARIANT.replace("本地", "本县"))
    assert Linker().load(child).version == "本县" and Path(Linker().load(child).files[0]).resolve() == own.resolve()


def test_unknown_name_suggests_a_close_one_and_lists_the_places_searched(tree, monkeypatch):
    tmp, child = tree
    _book(tmp / "县" / "rulebooks" / "base.jx", "规则集 甲省-2024-单位自评\n预算执行率 权重 100 正向 满分=100%\n")
    child.write_text("规则集 某县-2025 继承 甲省-2024-单位自平\n", encoding="utf-8")
    shared = tmp / "共享"
    shared.mkdir()
    monkeypatch.setenv("JXDSL_PATH", str(shared))
    with pytest.raises(LinkError) as e:
        Linker().load(child)
    err = e.value
    assert err.message == "找不到名为“甲省-2024-单位自平”的规则集"
    assert (err.span.line, err.span.column) == (1, 16)  # the name after 继承, not the line start
    assert err.hint.startswith("是否应为“甲省-2024-单位自评”？已查找：")
    for place in ("本规则集所在的目录树", str((tmp / "县" / "rulebooks").resolve()), "JXDSL_PATH", str(shared.resolve()), "jxdsl 自带的规则集库"):
        assert place in err.hint


def test_a_file_name_instead_of_the_rulebook_name_says_the_declared_name(tree):
    _, child = tree
    child.write_text("规则集 某县-2025 继承 self-eval\n", encoding="utf-8")
    with pytest.raises(LinkError) as e:
        Linker().load(child)
    assert f"的规则集名称是“{NATIONAL}”：“继承”后面写规则集名称，不是文件名" in e.value.hint


def test_cli_prints_the_unknown_name_located_with_a_caret(tree, monkeypatch):
    tmp, child = tree
    child.write_text("规则集 某县-2025 继承 单位自评-财预2O20-10\n", encoding="utf-8")
    monkeypatch.chdir(child.parent)
    run = CliRunner().invoke(main, ["check", "child.jx"])
    assert run.exit_code == 1 and "Traceback" not in run.output
    lines = run.output.splitlines()
    assert lines[0] == "child.jx:1:16: 规则错误：找不到名为“单位自评-财预2O20-10”的规则集"
    width = lambda t: sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in t)  # noqa: E731
    assert width(lines[2].split("^")[0]) == width(lines[1].split("单位自评")[0])
    assert f"提示：是否应为“{NATIONAL}”？" in run.output


# ---- jxdsl rulebooks -----------------------------------------------------------------------------
def test_rulebooks_lists_each_root_in_search_order_with_what_inherit_would_use(tree, monkeypatch):
    tmp, child = tree
    shared = _book(tmp / "共享" / "national.jx", VARIANT)
    _book(tmp / "共享" / "乙.jx", "规则集 乙省-2023\n年度 2023-2024\n版本 \"3\"\n甲 权重 100 酌情\n")
    _book(tmp / "县" / "rulebooks" / "broken.jx", "规则集 坏的\n甲 权重 x\n")
    monkeypatch.setenv("JXDSL_PATH", str(shared.parent))
    monkeypatch.chdir(child.parent)
    run = CliRunner().invoke(main, ["rulebooks", "--format", "json"])
    assert run.exit_code == 0, run.output
    data = json.loads(run.output)
    assert [p["source"] for p in data["search_path"]] == ["own-tree", "JXDSL_PATH", "installed"]
    by = {(r["name"], r["source"]): r for r in data["rulebooks"]}
    own = by[("某县-2025", "own-tree")]
    assert own["used"] and own["parent"] == NATIONAL and own["years"] == [2025, 2025]
    assert own["version"] == "本地"  # unstated: the parent's that 继承 finds first (JXDSL_PATH's)
    assert by[(NATIONAL, "JXDSL_PATH")]["used"] and by[("乙省-2023", "JXDSL_PATH")]["years"] == [2023, 2024]
    lib = by[(NATIONAL, "installed")]
    assert not lib["used"] and Path(lib["hidden_by"]).resolve() == shared.resolve()
    assert by[("坏的", "own-tree")]["problem"].startswith("语法错误：")
    names = {r["name"] for r in data["rulebooks"] if r["source"] == "installed"}
    assert {"财预2020-10-项目支出评价", "栖霞-2021-乡村振兴扶贫资金"} <= names

    text = CliRunner().invoke(main, ["rulebooks"]).output
    assert text.startswith("按名称继承时依次查找（先找到的为准）：\n  1. 本规则集所在的目录树：")
    assert f"  2. JXDSL_PATH：{shared.parent.resolve()}" in text
    assert "某县-2025　版本 本地　年度 2025　继承 单位自评-财预2020-10\n  文件：child.jx（本规则集所在的目录树）" in text
    assert f"  未使用：前面的“{shared.resolve()}”同名，继承 {NATIONAL} 时用那一个" in text
    assert "  不可用：语法错误：" in text


def test_rulebooks_flags_a_name_two_files_declare(tmp_path, monkeypatch):
    monkeypatch.delenv("JXDSL_PATH", raising=False)
    for n in (1, 2):
        _book(tmp_path / f"{n}.jx", "规则集 同名-2024\n甲 权重 100 酌情\n")
    run = CliRunner().invoke(main, ["rulebooks", str(tmp_path)])
    assert run.exit_code == 0
    assert run.output.count("不可用：本目录中有 2 个文件都名为“同名-2024”，继承时报错") == 2


def test_rulebooks_of_a_missing_folder_is_a_usage_error(tmp_path):
    run = CliRunner().invoke(main, ["rulebooks", str(tmp_path / "没有")])
    assert run.exit_code == 2 and "用法错误：找不到文件夹" in run.output and "Traceback" not in run.output
