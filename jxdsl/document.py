"""Reading one facts document (YAML or JSON) into plain data that remembers its lines.

Both formats are read by loaders that refuse what a facts file never needs and what makes a
small file dangerous or silently wrong: YAML anchors, aliases and merge keys (a 700-byte alias
bomb expands to gigabytes), a key written twice in one mapping (the last one would silently
win), nesting deeper than ``MAX_NESTING`` (recursion) and lone surrogates (text no output can
encode).  Mappings and lists come back as ``LDict``/``LList``, which carry the line of each
key or element, so that errors point at the line a user wrote.
"""
from __future__ import annotations

import bisect
import json
import json.decoder
import json.scanner
import os
import re
import stat
from collections.abc import Hashable
from pathlib import Path

import yaml

from jxdsl.docnumbers import JSON_HOOKS, YamlLoader
from jxdsl.errors import FactError, Span

MAX_FACTS_BYTES = 50_000_000  # a facts document (one project); tables have their own row limit
MAX_NESTING = 50  # mappings and lists inside each other
_SURROGATE = re.compile("[\ud800-\udfff]")


class LDict(dict):
    """A mapping read from a document, with the line of each key (``lines[key]``)."""

    lines: dict


class LList(list):
    """A list read from a document, with the line of each element (``lines[i]``)."""

    lines: list


def _short(text: str, limit: int = 30) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def check_size(p: Path) -> None:
    """A facts document over the limit is refused before it is read (it must be a regular file)."""
    try:
        st = os.stat(p)
    except OSError as e:
        raise FactError(f"无法读取事实文件：{e.strerror or e}", Span(str(p), 1, 1)) from None
    if not stat.S_ISREG(st.st_mode):
        raise FactError("事实文件不是普通文件", Span(str(p), 1, 1))
    if st.st_size > MAX_FACTS_BYTES:
        raise FactError(
            f"事实文件过大（{st.st_size} 字节，上限 {MAX_FACTS_BYTES} 字节）", Span(str(p), 1, 1), "一个项目的事实文件应很小；多个项目请用事实表或自评表"
        )


def parse(text: str, file: str, is_json: bool):
    """The document's data (``LDict``/``LList`` inside), or a located FactError."""
    return _parse_json(text, file) if is_json else _parse_yaml(text, file)


# ---- YAML ---------------------------------------------------------------------------------------
class _Loader(YamlLoader):
    """SafeLoader without anchors, aliases, merge keys or tags, bounded in depth, refusing duplicate
    keys and plain values that look like dates or numbers but are not (2021-13-45)."""

    file = "<事实>"
    depth = 0

    def _fail(self, message: str, mark, hint: str | None = None):
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise FactError(message, Span(self.file, line, col), hint)

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            self._fail("事实文件中不允许 YAML 别名（&/*）", event.start_mark, "把要重复的内容直接写出来")
        if getattr(event, "tag", None) is not None:  # !!int x, !!set, !foo: a facts file needs none
            self._fail("事实文件中不允许 YAML 标签（!…）", event.start_mark, "文字请加引号，数值直接写")
        self.depth += 1
        try:
            if self.depth > MAX_NESTING:
                self._fail(f"事实文件嵌套过深（超过 {MAX_NESTING} 层）", event.start_mark)
            node = super().compose_node(parent, index)
        finally:
            self.depth -= 1
        if isinstance(node, yaml.ScalarNode) and _SURROGATE.search(node.value):
            self._fail("事实文件中有无效的字符（单独的 UTF-16 代理码 \\ud800–\\udfff）", node.start_mark)
        return node

    def construct_object(self, node, deep=False):
        try:
            return super().construct_object(node, deep)
        except (ValueError, OverflowError):  # a plain value that looks like a date or number but is not one
            if not isinstance(node, yaml.ScalarNode):
                raise
            kind = "日期" if node.tag.endswith(":timestamp") else "数"
            self._fail(f"“{_short(node.value)}”不是有效的{kind}", node.start_mark, "如果是文字，请加引号")

    def construct_yaml_map(self, node):
        data = LDict()
        data.lines = {}
        yield data
        if not isinstance(node, yaml.MappingNode):  # an explicit !!map tag on a scalar or a list
            self._fail("“!!map”标签只能用于映射", node.start_mark)
        first: dict[str, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                self._fail("事实文件中不允许 YAML 合并键（<<）", key_node.start_mark, "把要合并的项直接写出来")
            key = self.construct_object(key_node, deep=False)
            if not isinstance(key, Hashable) or isinstance(key, (LDict, LList)):
                self._fail("映射的键应是名称，不能是映射或列表", key_node.start_mark)
            line = key_node.start_mark.line + 1
            if str(key) in first:
                self._fail(f"“{key}”重复（第 {first[str(key)]} 行已有）", key_node.start_mark, "同一映射中每个名称只能写一次：删去或合并重复的一项")
            first[str(key)] = line
            data[key] = self.construct_object(value_node, deep=False)
            data.lines[key] = line

    def construct_yaml_seq(self, node):
        if not isinstance(node, yaml.SequenceNode):  # an explicit !!seq tag on a scalar or a mapping
            self._fail("“!!seq”标签只能用于列表", node.start_mark)
        data = LList()
        data.lines = [item.start_mark.line + 1 for item in node.value]
        yield data
        data.extend(self.construct_object(item, deep=False) for item in node.value)


_Loader.add_constructor("tag:yaml.org,2002:map", _Loader.construct_yaml_map)
_Loader.add_constructor("tag:yaml.org,2002:seq", _Loader.construct_yaml_seq)


def _parse_yaml(text: str, file: str):
    loader = _Loader(text)
    loader.file = file
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise FactError(
            f"YAML 格式错误：{e.problem}", Span(file, line, col), "检查冒号后是否有空格、方括号和引号是否成对、缩进是否对齐"
        ) from None
    except yaml.YAMLError as e:
        raise FactError(f"YAML 格式错误：{e}", Span(file, 1, 1)) from None
    finally:
        loader.dispose()


# ---- JSON ---------------------------------------------------------------------------------------
class _JsonReader(json.JSONDecoder):
    """The standard JSON grammar, read with Python's scanner so that each value's position is
    seen: objects and arrays carry their lines, depth is bounded, duplicate keys are refused."""

    def __init__(self, text: str, file: str):
        super().__init__(**JSON_HOOKS)  # numbers kept exact and bounded (docnumbers)
        self.text, self.file, self.depth = text, file, 0
        self.starts = [0, *(m.end() for m in re.finditer("\n", text))]  # positions → lines by bisection
        self.parse_object, self.parse_array = self._object, self._array
        self.scan_once = json.scanner.py_make_scanner(self)

    def _span(self, pos: int) -> Span:
        line = bisect.bisect_right(self.starts, pos)
        return Span(self.file, line, pos - self.starts[line - 1] + 1)

    def _key_start(self, value_pos: int) -> int:
        """Where the key of the value at ``value_pos`` begins (its opening quote)."""
        t, i = self.text, value_pos - 1
        while i > 0 and t[i] in " \t\r\n:":
            i -= 1
        i -= 1  # inside the key, before its closing quote
        while i >= 0:
            if t[i] == '"':
                j = i
                while j > 0 and t[j - 1] == "\\":
                    j -= 1
                if (i - j) % 2 == 0:  # not an escaped quote
                    return i
            i -= 1
        return value_pos

    def _enter(self, pos: int) -> None:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise FactError(f"事实文件嵌套过深（超过 {MAX_NESTING} 层）", self._span(pos))

    def _watch(self, scan_once, positions: list):
        """scan_once, remembering where each value starts and refusing lone surrogates in text."""

        def scan(s, idx):
            positions.append(idx)
            try:
                value, end = scan_once(s, idx)
            except json.JSONDecodeError:
                raise
            except ValueError:  # a number too long for Python to convert (over 4300 digits)
                raise FactError(f"数字“{_short(s[idx:idx + 40])}”过长，无法读取", self._span(idx)) from None
            if isinstance(value, str) and _SURROGATE.search(value):
                raise FactError("事实文件中有无效的字符（单独的 UTF-16 代理码 \\ud800–\\udfff）", self._span(idx))
            return value, end

        return scan

    def _object(self, s_and_end, strict, scan_once, object_hook, object_pairs_hook, memo=None):
        self._enter(s_and_end[1] - 1)
        positions: list[int] = []

        def pairs(items):
            data, first = LDict(), {}
            data.lines = {}
            for (key, value), pos in zip(items, positions):
                start = self._key_start(pos)
                line = bisect.bisect_right(self.starts, start)
                if key in first or _SURROGATE.search(key):
                    span = self._span(start)
                    if key in first:
                        raise FactError(f"“{key}”重复（第 {first[key]} 行已有）", span, "同一映射中每个名称只能写一次：删去或合并重复的一项")
                    raise FactError("事实文件中有无效的字符（单独的 UTF-16 代理码 \\ud800–\\udfff）", span)
                first[key] = line
                data[key], data.lines[key] = value, line
            return data

        try:
            return json.decoder.JSONObject(s_and_end, strict, self._watch(scan_once, positions), None, pairs, memo)
        finally:
            self.depth -= 1

    def _array(self, s_and_end, scan_once):
        self._enter(s_and_end[1] - 1)
        positions: list[int] = []
        try:
            values, end = json.decoder.JSONArray(s_and_end, self._watch(scan_once, positions))
        finally:
            self.depth -= 1
        data = LList(values)
        data.lines = [bisect.bisect_right(self.starts, p) for p in positions]
        return data, end


def _parse_json(text: str, file: str):
    reader = _JsonReader(text, file)
    try:
        return reader.decode(text)
    except json.JSONDecodeError as e:
        raise FactError(f"JSON 格式错误：{e.msg}", Span(file, e.lineno, e.colno)) from None
    except ValueError:  # a top-level number too long to convert; nested ones are located by _watch
        raise FactError("事实文件应是一个映射（项目、事实、评价）", Span(file, 1, 1)) from None
