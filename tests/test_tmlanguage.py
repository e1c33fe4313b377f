"""The TextMate grammar (jxdsl/web/jxdsl.tmLanguage.json) colours what the Lark grammar reads.

VS Code runs its regexes in Oniguruma and the workbench's highlight.js in JavaScript, so each one
must mean the same in both: here every regex is compiled by Oniguruma itself (the system's
libonig, when present) and by Python's ``re`` (whose syntax for what the grammar uses — classes,
lookaround, alternation — is the one JavaScript shares).  The keyword rule must match every
keyword of grammar/jxdsl.lark, so the two never drift apart.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GRAMMAR = json.loads((ROOT / "jxdsl/web/jxdsl.tmLanguage.json").read_text(encoding="utf-8"))
LARK = (ROOT / "grammar/jxdsl.lark").read_text(encoding="utf-8")


def lark_keywords() -> set[str]:
    """The Chinese string literals of the Lark grammar's rules (lower-case names; terminals excluded)."""
    found, in_rule = set(), False
    for line in LARK.splitlines():
        code = line.split("//")[0]
        head = re.match(r"\s*[!?]?([A-Za-z_][A-Za-z_0-9.]*)\s*:", code)
        if head:
            in_rule = not head.group(1).lstrip("_")[0].isupper()
        elif not code.strip().startswith("|"):
            in_rule = False
        if in_rule:
            found.update(lit for lit in re.findall(r'"([^"]+)"', code) if re.search(r"[\u4e00-\u9fff]", lit))
    return found


def regexes(node=GRAMMAR):
    """Every (key, regex) pair of the grammar."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("match", "begin", "end") and isinstance(value, str):
                yield key, value
            else:
                yield from regexes(value)
    elif isinstance(node, list):
        for item in node:
            yield from regexes(item)


def test_lark_keywords_found():
    got = lark_keywords()
    assert {"权重", "规则集", "继承", "一票否决", "扣完为止", "最小"} <= got
    assert "=" not in got and not any(k.isascii() for k in got)


@pytest.mark.parametrize("keyword", sorted(lark_keywords()))
def test_keyword_rule_matches_every_lark_keyword(keyword):
    rules = GRAMMAR["repository"]
    if keyword in ("最小", "最大"):  # functions: the rule for them wants the bracket that follows
        assert re.match(rules["function"]["match"], keyword + "（")
        return
    assert re.fullmatch(rules["keywords"]["match"], keyword)
    # a keyword inside a longer name is not one (新增就业人数 is a name, as the lexer reads it)
    assert not re.search(rules["keywords"]["match"], keyword + "人数")


def test_scopes_are_the_documented_ones():
    rules = GRAMMAR["repository"]
    assert GRAMMAR["scopeName"] == "source.jxdsl"
    assert rules["keywords"]["name"] == "keyword.control.jxdsl"
    assert rules["comment"]["name"] == "comment.line.number-sign.jxdsl"
    assert rules["number"]["name"] == "constant.numeric.jxdsl"
    assert re.fullmatch(rules["number"]["match"], "3180.30万元") and re.fullmatch(rules["number"]["match"], "１００％")


@pytest.mark.parametrize(("key", "regex"), list(regexes()), ids=lambda v: v[:30] if isinstance(v, str) else v)
def test_regex_is_valid_in_python_re(key, regex):
    re.compile(regex)


def _oniguruma():
    name = ctypes.util.find_library("onig")
    if name is None:
        return None
    lib = ctypes.CDLL(name)
    utf8 = ctypes.c_void_p.in_dll(lib, "OnigEncodingUTF8")
    encodings = (ctypes.c_void_p * 1)(ctypes.addressof(utf8))
    lib.onig_initialize(encodings, 1)
    return lib


@pytest.mark.parametrize(("key", "regex"), list(regexes()), ids=lambda v: v[:30] if isinstance(v, str) else v)
def test_regex_is_valid_in_oniguruma(key, regex):
    """Compiled the way VS Code compiles it (Oniguruma syntax, UTF-8)."""
    lib = _oniguruma()
    if lib is None:
        pytest.skip("没有 Oniguruma 库（libonig）")
    pattern = regex.encode("utf-8")
    reg = ctypes.c_void_p()
    error_info = ctypes.create_string_buffer(64)
    utf8 = ctypes.addressof(ctypes.c_void_p.in_dll(lib, "OnigEncodingUTF8"))
    syntax = ctypes.addressof(ctypes.c_void_p.in_dll(lib, "OnigSyntaxOniguruma"))
    buf = ctypes.create_string_buffer(pattern)
    start = ctypes.cast(buf, ctypes.c_void_p).value
    code = lib.onig_new(ctypes.byref(reg), ctypes.c_void_p(start), ctypes.c_void_p(start + len(pattern)),
                        ctypes.c_uint(0), ctypes.c_void_p(utf8), ctypes.c_void_p(syntax), error_info)
    assert code == 0, f"Oniguruma 不接受 {regex!r}（错误码 {code}）"
    lib.onig_free(reg)
