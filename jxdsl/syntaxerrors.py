"""Lark's failures in the words of a scoring table: what came, what could come instead, the
keyword probably meant (权里 → 权重), and for a character written right after a name (复合肥+缓控释肥)
the character as the reason and the quoted name as the fix."""
from __future__ import annotations

from lark import Token
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from jxdsl.errors import RulebookSyntaxError, Span, suggest
from jxdsl.parse import _parser
from jxdsl.trees import bare_name


# ---- error translation -------------------------------------------------------------
_WORDS = {
    "NAME": "名称",
    "NUMBER": "数字（可带单位，如 10、100%、24人）",
    "DATE": "日期（如 2021年12月）",
    "STRING": "带引号的文字",
    "RULEBOOK_ID": "规则集名称",
    "_NL": "换行",
    "_INDENT": "缩进的下一级内容",
    "_DEDENT": "缩进结束",
    "GE": "≥",
    "LE": "≤",
    "GT": ">",
    "LT": "<",
    "_EQ": "=",
    "_EQ_CMP": "=",
    "_COLON": "冒号",
    "_COMMA": "逗号",
    "_LPAR": "左括号",
    "_RPAR": "右括号",
    "OPEN_BRACKET": "区间左端（( 或 [）",
    "CLOSE_BRACKET": "区间右端（) 或 ]）",
    "_ADD": "+",
    "_SUB": "-",
    "_MUL": "×",
    "_DIV": "÷ 或 /",
    "$END": "文件结束",
}

_RULE_KEYWORDS = ["正向", "反向", "达标", "清单", "档次", "定性", "分段", "扣分", "得分", "酌情", "来自目标表"]


def _describe(name: str, terminals) -> str:
    if name in _WORDS:
        return _WORDS[name]
    term = terminals.get(name) if terminals else None
    if term is not None and term.pattern.type == "str":
        return f"“{term.pattern.value}”"
    return name


def translate(e: UnexpectedInput, text: str, file: str) -> RulebookSyntaxError:
    terminals = getattr(e, "_terminals_by_name", None) or _parser()._terminals_dict
    line, column = max(e.line, 1), max(e.column, 1)
    if isinstance(e, UnexpectedEOF):
        return RulebookSyntaxError("文件意外结束", Span(file, line, column))
    expected: set[str] = set()
    if isinstance(e, UnexpectedToken):
        # ``accepts`` misses keywords the contextual lexer would retype, ``expected`` has
        # layout tokens that cannot really come next: take the union without the layout.
        accepts = set(e.accepts or ())
        expected = accepts | {t for t in set(e.expected or ()) | _state_terminals(e, terminals) if t not in ("_NL", "_INDENT", "_DEDENT") or t in accepts}
        found = e.token
        if found.type == "_NL":
            line, column = found.line, found.column
            what = "行尾"
        elif found.type in ("_INDENT", "_DEDENT"):
            what = "缩进变化"
            line, column = found.end_line or line, 1
            lines = text.splitlines()
            if found.type == "_INDENT" and line <= len(lines):
                column = len(lines[line - 1]) - len(lines[line - 1].lstrip(" \t\u3000")) + 1
        elif found.type == "$END":
            what = "文件结束"
        else:
            what = f"“{found.value}”"
    elif isinstance(e, UnexpectedCharacters):
        expected = set(e.allowed or ())
        ch = text[e.pos_in_stream] if e.pos_in_stream < len(text) else ""
        what = f"字符“{ch}”"
    else:  # pragma: no cover - lark has no other kinds
        what = "内容"
    glued = _glued_to_name(text, line, column)
    if glued is not None:
        ch, word = glued
        kind = "运算符号" if ch in "+-*/×÷＋－−＊／=＝<>＜＞≥≤" else "标点或符号"
        return RulebookSyntaxError(f"名称中不能有“{ch}”", Span(file, line, column), f"名称里有{kind}时请加引号：“{word}”")
    words = sorted({_describe(t, terminals) for t in expected if not t.startswith("__")})
    if words:
        shown = "、".join(words[:8]) + ("等" if len(words) > 8 else "")
        message = f"此处不应出现{what}，应为：{shown}"
    else:
        message = f"此处不应出现{what}"
    hint = _hint(e, expected, terminals)
    return RulebookSyntaxError(message, Span(file, line, column), hint)


def _glued_to_name(text: str, line: int, column: int) -> tuple[str, str] | None:
    """(character, whole word) when the failure is a character written right after a name, with no
    space between (复合肥+缓控释肥, 其中:农村低保): the name is what the writer meant, so the reason is
    the character, and the word in quotes is the fix.  None when the text before it is no name."""
    lines = text.split("\n")
    if not 1 <= line <= len(lines):
        return None
    row = lines[line - 1]
    at = column - 1
    if not 0 < at < len(row) or row[at].isspace() or row[at] in "#＃\"“「":
        return None
    start = at
    while start > 0 and not _ends_word(row[start - 1]):
        start -= 1
    pattern, _ = bare_name()
    before = row[start:at]
    if not pattern.fullmatch(before) or before.startswith(("最小", "最大")):
        return None
    if row[at] in "(（" and not any("\u3400" <= c <= "\u9fff" for c in before):
        return None  # eval(1), __import__(…): no name as printed on a form, a call the language has not
    end = at + 1
    while end < len(row) and not _ends_word(row[end]):
        end += 1
    return row[at], row[start:end]


def _ends_word(ch: str) -> bool:
    """Where a name written without quotes ends: white space, a path separator, =, a comment."""
    return ch.isspace() or ch in "/／÷=＝#＃\"「」"


def _state_terminals(e: UnexpectedToken, terminals) -> set[str]:
    """The keywords that could really come next: Lark's ``expected`` and ``accepts`` keep only
    upper-case terminal names and so drop Chinese keywords (权重) once a name has been reduced; each
    candidate is fed to a copy of the parser (the failing state's table merges lookaheads)."""
    state = getattr(e, "state", None)
    try:
        actions = state.parse_conf.parse_table.states[state.position]
    except AttributeError:
        return set()
    out = set()
    for t in actions:
        if not terminals or t not in terminals or t.isupper():
            continue
        try:
            state.copy().feed_token(Token(t, ""))
        except UnexpectedInput:
            continue
        out.add(t)
    return out


def _hint(e: UnexpectedInput, expected: set[str], terminals) -> str | None:
    """Suggest the keyword the writer probably meant (权里 → 权重)."""
    if not isinstance(e, UnexpectedToken):
        return None
    word = str(e.token.value) if e.token.type in ("NAME", "RULEBOOK_ID") else ""
    keywords = []
    for t in expected:
        term = terminals.get(t) if terminals else None
        if term is not None and term.pattern.type == "str" and not term.pattern.value.isascii():
            keywords.append(term.pattern.value)
    if any(k in keywords for k in _RULE_KEYWORDS[:3]):
        keywords += _RULE_KEYWORDS
    close = suggest(word, keywords) if word else None
    if close:
        return f"是否应为“{close}”？"
    if "权重" in keywords:
        return "指标行的写法是：名称 权重 分值 计分规则，例如 预算执行率 权重 10 正向 满分=100%"
    return None
