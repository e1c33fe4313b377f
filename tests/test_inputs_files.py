"""Facts documents and rulebook files that are hostile or broken: located errors, no hang, no
traceback, nothing read outside the rulebook roots (issue 12: inputs)."""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from jxdsl import document, files, parse, resolve
from jxdsl.cli import main
from jxdsl.errors import FactError, JxError, LinkError, RulebookSyntaxError, Span
from jxdsl.facts import load
from jxdsl.inputs import from_facts
from jxdsl.link import Linker

ROOT = Path(__file__).resolve().parent.parent
RULEBOOK = ROOT / "tests" / "errors" / "facts" / "rulebook.jx"


def facts_error(tmp_path: Path, name: str, text: str) -> FactError:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(FactError) as info:
        load(path)
    return info.value


def score(*args: str):
    return CliRunner().invoke(main, ["score", *args, "--format", "json"])


# ---- item 1: anchors, aliases, merge keys ---------------------------------------------------
@pytest.mark.parametrize(
    "text, line",
    [
        ("项目: 甲\n事实:\n  x: &v 3\n  y: *v\n", 3),  # a scalar anchor
        ("项目: 甲\n评价: &e\n  效果: {档次: 较好}\n", 2),  # an anchor on a mapping
        ("项目: 甲\n目标表:\n  - &r {一级指标: 产出, 三级指标: 数量, 分值: 5}\n", 3),  # in a list
        ("项目: 甲\n事实:\n  <<: {预算资金: 1万元}\n", 3),  # a merge key without any alias
    ],
)
def test_yaml_anchors_aliases_and_merge_keys_are_refused_at_their_line(tmp_path, text, line):
    e = facts_error(tmp_path, "f.yaml", text)
    assert ("别名" in e.message or "合并键" in e.message) and e.span.line == line


def test_an_alias_bomb_is_refused_quickly(tmp_path):
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"] + [f"a{i}: &a{i} [" + ", ".join([f"*a{i-1}"] * 9) + "]" for i in range(1, 10)]
    text = "项目: 甲\n事实:\n" + "".join(f"  {lv}\n" for lv in levels)
    started = time.perf_counter()
    e = facts_error(tmp_path, "bomb.yml", text)
    assert "别名" in e.message and e.span.line == 3 and time.perf_counter() - started < 2


@pytest.mark.parametrize("value", ["!!int 12", "!!set {a, b}", "!!seq abc", "!foo x", "! x", "!!binary aGk="])
def test_yaml_tags_are_refused(tmp_path, value):
    e = facts_error(tmp_path, "f.yaml", f"项目: 甲\n事实:\n  x: {value}\n")
    assert "标签" in e.message and (e.span.line, e.span.column) == (3, 6)


@pytest.mark.parametrize("value, kind", [("2022-02-30", "日期"), ("2021-12-31 24:61:00", "日期"), ("0x_", "数"), ("0b_", "数")])
def test_a_plain_value_that_looks_like_a_date_or_number_but_is_not_is_located(tmp_path, value, kind):
    e = facts_error(tmp_path, "f.yaml", f"项目: 甲\n事实:\n  x: {value}\n")
    assert e.message == f"“{value}”不是有效的{kind}" and e.span.line == 3 and "引号" in e.hint
    path = tmp_path / "quoted.yaml"
    path.write_text(f'项目: 甲\n事实:\n  x: "{value}"\n', encoding="utf-8")
    assert load(path)[0].values == {"x": value}


@pytest.mark.parametrize("name, text, line", [
    ("n.json", '{"项目": "甲",\n "事实": {"x": [1, ' + "7" * 4400 + "]}}", 2),
    ("n.yaml", "项目: 甲\n事实:\n  x: " + "7" * 4400 + "\n", 3),
])
def test_a_number_too_long_to_convert_is_kept_as_written(tmp_path, name, text, line):
    # over Python's 4300-digit conversion limit: read as its text (docnumbers), refused where it is
    # used as a number (tests/test_numbers.py), never a ValueError traceback while loading
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    facts = load(path)[0]
    value = facts.values["x"]
    assert "7" * 4400 in (value if isinstance(value, str) else value[1])
    assert facts.lines[("事实", "x")] == line


# ---- item 2: duplicate keys, YAML and JSON, any depth ----------------------------------------
@pytest.mark.parametrize(
    "name, text, line, first",
    [
        ("f.yaml", "项目: 甲\n事实:\n  实际支出资金: 1万元\n  预算资金: 2万元\n  实际支出资金: 3万元\n", 5, 3),
        ("f.yaml", "项目: 甲\n评价:\n  效果: {档次: 较好}\n  效果:\n    档次: 较差\n", 4, 3),
        ("f.yaml", "项目: 甲\n评价:\n  效果:\n    档次: 较好\n    得分: 6\n    得分: 7\n", 6, 5),
        ("f.yaml", "项目: 甲\n项目: 乙\n", 2, 1),
        ("f.json", '{"项目": "甲",\n "事实": {"预算资金": "1万元",\n   "预算资金": "9万元"}}', 3, 2),
        ("f.json", '{"项目": "甲", "评价": {"效果": {"档次": "较好",\n "档次": "较差"}}}', 2, 1),
        ("f.json", '{"项目": "甲",\n"项目": "乙"}', 2, 1),
    ],
)
def test_a_key_written_twice_names_both_lines(tmp_path, name, text, line, first):
    e = facts_error(tmp_path, name, text)
    assert "重复" in e.message and f"第 {first} 行" in e.message and e.span.line == line


def test_duplicate_key_exits_1_with_both_lines_on_the_cli(tmp_path):
    path = tmp_path / "dup.json"
    path.write_text('{"项目": "示例项目",\n "事实": {"预算资金": "100万元", "实际支出资金": "95万元",\n  "实际支出资金": "10万元"}}', encoding="utf-8")
    run = score(str(RULEBOOK), str(path))
    assert run.exit_code == 1 and "Traceback" not in run.output
    assert f"{path}:3:3: 数据错误：“实际支出资金”重复（第 2 行已有）" in run.output


def test_json_documents_keep_their_values_and_now_have_lines(tmp_path):
    path = tmp_path / "ok.json"
    path.write_text('{"项目": "甲",\n\t"事实": {"预算资金": 5, "实际支出资金": 1e2,\n "x": [1, {"a": null}]},\n "评价": {"效果": {"档次": "较好"}}}', encoding="utf-8")
    (facts,) = load(path)
    assert facts.values == {"预算资金": 5, "实际支出资金": 100.0, "x": [1, {"a": None}]}
    assert facts.lines[("事实", "实际支出资金")] == 2 and facts.lines[("评价", "效果", "档次")] == 4


# ---- item 3: unknown fields of an evaluator record -------------------------------------------
@pytest.mark.parametrize("name, text, line", [
    ("f.yaml", "项目: 甲\n评价:\n  效果:\n    档次: 较好\n    的分: 6\n", 5),
    ("f.json", '{"项目": "甲", "评价": {"效果": {"档次": "较好",\n  "的分": 6}}}', 2),
])
def test_an_unknown_record_field_is_a_problem_at_its_line_with_a_suggestion(tmp_path, name, text, line):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    (problem,) = from_facts(load(path)[0]).problems
    assert "未知的项“的分”" in problem.message and problem.hint == "是否应为“得分”？" and problem.line == line


def test_an_unknown_record_field_fails_the_project_even_when_the_tier_is_exact(tmp_path):
    path = tmp_path / "f.yaml"
    path.write_text("项目: 示例项目\n事实:\n  预算资金: 100万元\n  实际支出资金: 95万元\n  不规范资金占比: 0%\n  培训人数: 24人\n"
                    "评价:\n  效果: {档次: 较差, 说名: 无}\n  监督管理: {发现: []}\n", encoding="utf-8")
    for engine in ("interpreter", "duckdb"):
        run = CliRunner().invoke(main, ["score", str(RULEBOOK), str(path), "--format", "json", "--engine", engine])
        assert run.exit_code == 1 and f"{path}:8:1: 数据错误：项目“示例项目”：评价记录“效果”中有未知的项“说名”" in run.output


# ---- item 4: depth, size, lone surrogates ---------------------------------------------------
@pytest.mark.parametrize("name, text", [
    ("deep.json", '{"项目": "甲", "事实": {"x": ' + "[" * 20000 + "]" * 20000 + "}}"),
    ("deep.yaml", "项目: 甲\n事实:\n  x: " + "{a: " * 3000 + "1" + "}" * 3000 + "\n"),
    ("deep2.yaml", "项目: 甲\n事实:\n" + "".join("  " * (i + 1) + f"k{i}:\n" for i in range(60)) + "  " * 61 + "v: 1\n"),
])
def test_deep_nesting_is_a_located_error_not_a_recursion_error(tmp_path, name, text):
    e = facts_error(tmp_path, name, text)
    assert "嵌套过深" in e.message and e.span.line >= 1


def test_nesting_within_the_limit_is_read(tmp_path):
    depth = document.MAX_NESTING - 3
    path = tmp_path / "ok.json"
    path.write_text('{"项目": "甲", "事实": {"x": ' + "[" * depth + "]" * depth + "}}", encoding="utf-8")
    assert load(path)[0].project == "甲"


def test_a_facts_file_over_the_size_limit_is_refused_before_it_is_read(tmp_path, monkeypatch):
    monkeypatch.setattr(document, "MAX_FACTS_BYTES", 100)
    e = facts_error(tmp_path, "big.yaml", "项目: 甲\n说明: " + "很长" * 100 + "\n")
    assert "过大" in e.message and "100 字节" in e.message


@pytest.mark.parametrize("name, text, line", [
    ("s.json", '{"项目": "甲",\n "事实": {"x": "a\\udc80b"}}', 2),
    ("s.json", '{"项目": "甲",\n "评价": {"\\ud83d": {"档次": "好"}}}', 2),
    ("s.yaml", '项目: 甲\n事实:\n  x: "\\udfff"\n', 3),
    ("s.yaml", '项目: "\\ud800"\n', 1),
])
def test_lone_surrogates_are_refused_at_their_line(tmp_path, name, text, line):
    e = facts_error(tmp_path, name, text)
    assert "代理码" in e.message and e.span.line == line


def test_a_surrogate_pair_written_as_escapes_is_one_character(tmp_path):
    path = tmp_path / "ok.json"
    path.write_text('{"项目": "\\ud83d\\ude00"}', encoding="utf-8")
    assert load(path)[0].project == "\U0001F600"


# ---- item 5: finding parents ----------------------------------------------------------------
def tree(tmp_path: Path) -> Path:
    d = tmp_path / "rulebooks"
    (d / "a").mkdir(parents=True)
    (d / "a" / "p.jx").write_text("规则集 父\n甲 权重 100 酌情\n", encoding="utf-8")
    (d / "c.jx").write_text("规则集 子 继承 父\n", encoding="utf-8")
    return d


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifos_devices_and_huge_files_in_the_tree_are_not_read(tmp_path):
    d = tree(tmp_path)
    os.mkfifo(d / "fifo.jx")
    os.symlink("/dev/zero", d / "zero.jx")
    with open(tmp_path / "huge.jx", "wb") as fh:  # sparse: no disk used
        fh.truncate(300_000_000)
    os.symlink(tmp_path / "huge.jx", d / "a" / "huge.jx")
    started = time.perf_counter()
    assert Linker().load(d / "c.jx").name == "子"
    assert time.perf_counter() - started < 5


def test_declared_name_reads_only_the_head_of_a_file(tmp_path):
    f = tmp_path / "x.jx"
    f.write_text("# 说明\n规则集 某名\n" + "甲 权重 1 酌情\n" * 100_000, encoding="utf-8")
    assert resolve.declared_name(f) == "某名"
    f.write_text("#" * (resolve.HEADER_BYTES + 10) + "\n规则集 太远\n", encoding="utf-8")
    assert resolve.declared_name(f) is None


def test_a_rulebook_over_the_size_limit_is_refused_while_reading(tmp_path, monkeypatch):
    monkeypatch.setattr(parse, "MAX_FILE_BYTES", 1000)
    f = tmp_path / "big.jx"
    f.write_text("规则集 大\n" + "# 注释\n" * 1000, encoding="utf-8")
    with pytest.raises(RulebookSyntaxError, match="过大"):
        parse.parse_file(f)
    assert files.read_regular(f, 10) == (f.read_bytes()[:10], True)


def test_two_files_declaring_the_looked_up_name_is_an_error_naming_both(tmp_path):
    d = tree(tmp_path)
    (d / "b").mkdir()
    (d / "b" / "q.jx").write_text("# 复制来的\n规则集 父\n乙 权重 100 酌情\n", encoding="utf-8")
    with pytest.raises(LinkError) as info:
        Linker().load(d / "c.jx")
    e = info.value
    assert "有 2 个规则集文件都名为“父”" in e.message and "p.jx" in e.message and "q.jx" in e.message
    assert e.span.line == 1 and e.span.file.endswith("c.jx")
    (d / "other.jx").write_text("规则集 别的\n丙 权重 1 酌情\n", encoding="utf-8")
    assert Linker().load(d / "other.jx").name == "别的"  # only a name actually looked up


def test_the_library_is_searched_after_the_own_tree(tmp_path):
    d = tmp_path / "rulebooks"
    d.mkdir()
    (d / "c.jx").write_text("规则集 子 继承 单位自评-财预2020-10\n", encoding="utf-8")
    assert Linker().load(d / "c.jx").parent == "单位自评-财预2020-10"
    (d / "copy.jx").write_text((ROOT / "rulebooks" / "national" / "self-eval.jx").read_text(encoding="utf-8"), encoding="utf-8")
    book = Linker().load(d / "c.jx")  # the own tree's copy wins; not ambiguous with the library
    assert any(f.endswith("copy.jx") for f in book.files)


def test_a_thousand_level_chain_is_a_located_error(tmp_path):
    d = tmp_path / "rulebooks"
    d.mkdir()
    for i in range(1000):
        parent = f" 继承 r{i + 1}" if i < 999 else ""
        (d / f"r{i}.jx").write_text(f"规则集 r{i}{parent}\n" + ("" if parent else "甲 权重 100 酌情\n"), encoding="utf-8")
    with pytest.raises(LinkError) as info:
        Linker().load(d / "r0.jx")
    assert f"继承层级过深（超过 {resolve.MAX_INHERITANCE} 层）" in info.value.message
    assert info.value.span.file.endswith(f"r{resolve.MAX_INHERITANCE}.jx")


def test_a_chain_within_the_limit_links(tmp_path):
    d = tmp_path / "rulebooks"
    d.mkdir()
    n = resolve.MAX_INHERITANCE
    for i in range(n + 1):
        parent = f" 继承 r{i + 1}" if i < n else ""
        (d / f"r{i}.jx").write_text(f"规则集 r{i}{parent}\n" + ("" if parent else "甲 权重 100 酌情\n"), encoding="utf-8")
    assert len(Linker().load(d / "r0.jx").files) == n + 1


# ---- item 6: roots and excerpts ---------------------------------------------------------------
@pytest.mark.parametrize("ref", ["../outside.jx", "{outside}", "sub/../../outside.jx"])
def test_inheriting_a_file_outside_the_roots_is_refused(tmp_path, ref):
    d = tree(tmp_path)
    (d / "sub").mkdir()
    outside = tmp_path / "outside.jx"
    outside.write_text("规则集 外\n秘密 权重 100 酌情\n", encoding="utf-8")
    (d / "c.jx").write_text(f'规则集 子 继承 "{ref.format(outside=outside)}"\n', encoding="utf-8")
    with pytest.raises(LinkError, match="不在规则集目录内") as info:
        Linker().load(d / "c.jx")
    assert "秘密" not in str(info.value)
    assert Linker(anywhere=True).load(d / "c.jx").parent == "外"  # the documented way out
    assert Linker(search_paths=[tmp_path]).load(d / "c.jx").parent == "外"


def test_the_anywhere_switch_is_an_environment_variable(tmp_path, monkeypatch):
    d = tree(tmp_path)
    (tmp_path / "o.jx").write_text("规则集 外\n甲 权重 100 酌情\n", encoding="utf-8")
    (d / "c.jx").write_text('规则集 子 继承 "../o.jx"\n', encoding="utf-8")
    monkeypatch.setenv(resolve.ANYWHERE_ENV, "1")
    assert Linker().load(d / "c.jx").parent == "外"


def test_a_link_out_of_the_tree_is_not_followed(tmp_path):
    d = tree(tmp_path)
    secret = tmp_path / "secret.txt"
    secret.write_text("规则集 父\n密码 权重 100 酌情\n", encoding="utf-8")
    os.symlink(secret, d / "a" / "link.jx")  # a second "父", but outside the roots and not a .jx
    (d / "d.jx").write_text('规则集 丁 继承 "a/link.jx"\n', encoding="utf-8")
    assert Linker().load(d / "c.jx").parent == "父"
    with pytest.raises(LinkError) as info:
        Linker(anywhere=True).load(d / "d.jx")
    assert "不是规则集文件" in info.value.message and "密码" not in str(info.value)


def test_error_excerpts_never_show_a_file_the_tool_did_not_load(tmp_path):
    secret = tmp_path / "shadow"
    secret.write_text("root:$6$secret\n", encoding="utf-8")
    assert "secret" not in str(LinkError("x", Span(str(secret), 1, 1)))
    os.symlink(secret, tmp_path / "shadow.jx")
    assert "secret" not in str(LinkError("x", Span(str(tmp_path / "shadow.jx"), 1, 1)))
    rb = tmp_path / "ok.jx"
    rb.write_text("规则集 可以\n", encoding="utf-8")
    assert "规则集 可以" in str(LinkError("x", Span(str(rb), 1, 1)))
    facts = tmp_path / "f.yaml"
    facts.write_text("项目: 甲\n事实: 3\n", encoding="utf-8")
    e = facts_error(tmp_path, "f.yaml", facts.read_text(encoding="utf-8"))
    assert "事实: 3" in str(e)  # facts the tool read are shown


def test_the_cli_never_prints_a_traceback_for_these_inputs(tmp_path):
    d = tree(tmp_path)
    (d / "c.jx").write_text('规则集 子 继承 "/etc/passwd.jx"\n', encoding="utf-8")
    run = CliRunner().invoke(main, ["check", str(d / "c.jx")])
    assert run.exit_code == 1 and "不在规则集目录内" in run.output and "Traceback" not in run.output
    bad = tmp_path / "x.json"
    bad.write_text(json.dumps({"项目": "甲"})[:-1] + ', "事实": ' + "[" * 5000 + "]" * 5000 + "}", encoding="utf-8")
    run = score(str(RULEBOOK), str(bad))
    assert run.exit_code == 1 and "嵌套过深" in run.output and isinstance(run.exception, SystemExit)
    assert not isinstance(run.exception, JxError)


def test_indexing_a_huge_tree_stops_with_a_located_error(tmp_path, monkeypatch):
    d = tree(tmp_path)
    for i in range(30):
        (d / f"n{i}.txt").write_text("", encoding="utf-8")
    monkeypatch.setattr(resolve, "MAX_WALK", 20)
    with pytest.raises(LinkError, match="文件过多") as info:
        Linker().load(d / "c.jx")
    assert info.value.span.line == 1
    (d / "c.jx").write_text('规则集 子 继承 "a/p.jx"\n', encoding="utf-8")
    assert Linker().load(d / "c.jx").parent == "父"  # a file path needs no index
