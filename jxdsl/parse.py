"""Rulebook text → AST. The only module that knows about Lark.

The grammar lives in ``grammar/jxdsl.lark`` (``jxdsl/grammar/`` when installed, see data.py); this module runs it with an indentation
post-lexer, turns Lark's tree into frozen AST nodes with spans, and translates Lark's
failures into Chinese messages in the words of a scoring table.
"""
from __future__ import annotations

import functools
import re
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from pathlib import Path

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedInput, VisitError
from lark.indenter import Indenter
from lark.lexer import BasicLexer, ContextualLexer, Scanner, _create_unless

from jxdsl import ast
from jxdsl.data import grammar_file, parser_cache
from jxdsl.errors import ErrorGroup, JxError, RulebookSyntaxError, Span
from jxdsl.trees import MAX_FILE_BYTES, read_rulebook
from jxdsl.units import normalize, parse_date

MAX_DEPTH = 12  # indentation levels
MAX_LINE_CHARS = 4000
MAX_PARENS = 32  # nesting of brackets in one line
MAX_OPERATORS = 200  # arithmetic operators in one line: bounds the depth of formula trees
MAX_SYNTAX_ERRORS = 50
MAX_NUMBER_DIGITS = 30  # significant digits of a number written in a rulebook


class _ChineseIndenter(Indenter):
    """Python-style indentation where a full-width space counts as two columns."""

    NL_type = "_NL"
    OPEN_PAREN_types: list[str] = []
    CLOSE_PAREN_types: list[str] = []
    INDENT_type = "_INDENT"
    DEDENT_type = "_DEDENT"
    tab_len = 4

    def handle_NL(self, token: Token):
        yield token
        last = token.rsplit("\n", 1)[1]
        ws = last[: len(last) - len(last.lstrip(" \t\u3000"))]
        indent = ws.count(" ") + ws.count("\t") * self.tab_len + ws.count("\u3000") * 2
        if indent > self.indent_level[-1]:
            if len(self.indent_level) > MAX_DEPTH:
                raise _TooDeep(token)
            self.indent_level.append(indent)
            yield Token.new_borrow_pos(self.INDENT_type, ws, token)
        else:
            while indent < self.indent_level[-1]:
                self.indent_level.pop()
                yield Token.new_borrow_pos(self.DEDENT_type, ws, token)
            if indent != self.indent_level[-1]:
                raise _BadDedent(token, indent, self.indent_level[-1])


class _TooDeep(Exception):
    def __init__(self, token):
        self.token = token


class _BadDedent(Exception):
    def __init__(self, token, got, want):
        self.token, self.got, self.want = token, got, want


class _Scanner(Scanner):
    """Lark's scanner for one parser state, with the costly terminals compiled once for all states.

    Lark joins the terminals a state accepts into one regex, tried in order: the first terminal
    that matches wins.  Python's regex compiler fills a 64K table, in Python, for every class that
    spans CJK ranges; NAME and NUMBER have five, about 1 ms each time a state's regex is compiled
    (some 48 states in a rulebook and its parent: ~25 ms of every start).  Here such a terminal is
    a regex of its own, compiled once (``_alone``), between the joined runs of the others, tried in
    the same order — as Lark itself splits a regex of more than 100 terminals — so every token is
    the one Lark's scanner gives (``tests/test_startup.py`` compares them)."""

    def _build_mres(self, terminals, max_size):
        out, run = [], []
        for t in terminals:
            if _wide(t.pattern.to_regexp()):
                out += super()._build_mres(run, len(run)) if run else []
                out.append(_alone(t.name, t.pattern.to_regexp(), self.g_regex_flags))
                run = []
            else:
                run.append(t)
        return out + (super()._build_mres(run, len(run)) if run else [])


def _wide(regexp: str) -> bool:
    """A class range of 256 characters or more outside Latin-1 (the CJK ranges)."""
    return any(ord(b) - ord(a) >= 256 for a, b in re.findall("([^\x00-\xff])-([^\x00-\xff])", regexp))


@functools.cache
def _alone(name: str, regexp: str, flags: int):
    """One terminal as a named group, compiled once for every state that accepts it."""
    return re.compile(f"(?P<{name}>{regexp})", flags)


class _BasicLexer(BasicLexer):
    def _build_scanner(self) -> Scanner:
        """Lark's, with ``_Scanner`` (and without lexer callbacks: the parser is given none)."""
        terminals, self.callback = _create_unless(self.terminals, self.g_regex_flags, self.re, self.use_bytes)
        return _Scanner(terminals, self.g_regex_flags, self.re, self.use_bytes)


class _ContextualLexer(ContextualLexer):
    BasicLexer = _BasicLexer


@functools.cache
def keywords() -> frozenset[str]:
    """The language's Chinese keywords, read from the grammar."""
    return frozenset(
        t.pattern.value for t in _parser().terminals if t.pattern.type == "str" and not t.pattern.value.isascii() and len(t.pattern.value) > 1
    )


@functools.cache
def _parser() -> Lark:
    grammar = grammar_file().read_text(encoding="utf-8")
    return Lark(
        grammar,
        parser="lalr",
        cache=parser_cache(grammar),
        postlex=_ChineseIndenter(),
        propagate_positions=True,
        maybe_placeholders=False,
        _plugins={"ContextualLexer": _ContextualLexer},  # Lark's hook for its lexer classes (lark-cython uses it)
    )


def parse(text: str, file: str = "<规则集>") -> ast.Document:
    """Parse rulebook text; raise RulebookSyntaxError with a located Chinese message."""
    if len(text.encode("utf-8")) > MAX_FILE_BYTES:
        raise RulebookSyntaxError(f"规则集文件过大（超过 {MAX_FILE_BYTES // 1_000_000} MB）", Span(file, 1, 1))
    if text.startswith("\ufeff"):
        text = text[1:]
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.endswith("\n"):
        text += "\n"
    _check_limits(text, file)
    try:
        tree = _parser().parse(text)
    except (_TooDeep, _BadDedent, UnexpectedInput) as first:
        errors = _all_syntax_errors(text, file)
        if len(errors) > 1:
            raise ErrorGroup(errors).with_sources({file: text}) from None
        raise _one(first, text, file) from None
    try:
        return _Builder(file).transform(tree)
    except VisitError as e:
        if isinstance(e.orig_exc, JxError):
            raise e.orig_exc from None
        raise


def _one(e: Exception, text: str, file: str) -> RulebookSyntaxError:
    """A Lark or indentation failure as one located Chinese error."""
    if isinstance(e, _TooDeep):
        return RulebookSyntaxError(f"缩进层级过深（最多 {MAX_DEPTH} 级）", _token_span(e.token, file, after_newline=True))
    if isinstance(e, _BadDedent):
        return RulebookSyntaxError(
            f"缩进与上面任何一级都对不齐（本行缩进 {e.got} 格，上一级是 {e.want} 格）",
            _token_span(e.token, file, after_newline=True),
            "同一级的行应缩进相同的空格数",
        )
    from jxdsl.syntaxerrors import translate

    return translate(e, text, file)


def _all_syntax_errors(text: str, file: str) -> list[JxError]:
    """Every syntax error, not just the first: each top-level statement (a line at column 1
    with its indented block) is parsed on its own, so one mistake does not hide the next."""
    lines = text.split("\n")
    starts = [n for n, line in enumerate(lines) if line[:1] not in ("", " ", "\t", "\u3000", "#", "＃")]
    errors: list[JxError] = []
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else len(lines)
        chunk = "\n".join(lines[start:end]) + "\n"
        try:
            tree = _parser().parse(chunk)
            _Builder(file).transform(tree)
        except (_TooDeep, _BadDedent, UnexpectedInput) as e:
            errors.append(_shift(_one(e, chunk, file), start))
        except VisitError as e:
            if isinstance(e.orig_exc, JxError):
                errors.append(_shift(e.orig_exc, start))
        if len(errors) >= MAX_SYNTAX_ERRORS:
            break
    return errors


def _shift(err: JxError, lines: int) -> JxError:
    if err.span is not None:
        s = err.span
        err.span = Span(s.file, s.line + lines, s.column, s.end_line + lines if s.end_line else None, s.end_column)
    return err


def _check_limits(text: str, file: str) -> None:
    """Bounds that keep a hostile or broken file from exhausting memory or recursion."""
    for n, line in enumerate(text.split("\n"), 1):
        if len(line) > MAX_LINE_CHARS:
            raise RulebookSyntaxError(f"第 {n} 行过长（超过 {MAX_LINE_CHARS} 个字符）", Span(file, n, 1), "把长公式拆成几个派生值")
        depth = deepest = 0
        operators = 0
        for col, ch in enumerate(line, 1):
            if ch in "#＃":
                break
            if ch in "(（[［":
                depth += 1
                if depth > deepest:
                    deepest = depth
                if deepest > MAX_PARENS:
                    raise RulebookSyntaxError(f"括号嵌套过深（超过 {MAX_PARENS} 层）", Span(file, n, col), "把公式拆成几个派生值")
            elif ch in ")）]］":
                depth -= 1
            elif ch in "+-*/×÷＋－−＊／":
                operators += 1
                if operators > MAX_OPERATORS:
                    raise RulebookSyntaxError(f"一行公式中的运算符过多（超过 {MAX_OPERATORS} 个）", Span(file, n, col), "把公式拆成几个派生值")


def parse_file(path: str | Path) -> tuple[ast.Document, str]:
    """Read and parse a rulebook file; returns the document and its text (``trees.load``: the same,
    through the cache of syntax trees)."""
    text = read_rulebook(path, MAX_FILE_BYTES)
    return parse(text, str(path)), text


def _token_span(tok: Token, file: str, after_newline: bool = False) -> Span:
    if after_newline:
        last = tok.rsplit("\n", 1)[1]
        ws = len(last) - len(last.lstrip(" \t\u3000"))
        return Span(file, (tok.end_line or tok.line), ws + 1)
    return Span(file, tok.line, tok.column, tok.end_line, tok.end_column)


# ---- tree → AST ------------------------------------------------------------------
_OPS = {"≥": ">=", "≧": ">=", "≤": "<=", "≦": "<=", "＞": ">", "＜": "<", "＝": "=", "＞＝": ">=", "＜＝": "<="}


def number_from(text: str, span: Span | None = None) -> ast.Number:
    """A NUMBER token's text → Number node with exact magnitude and unit."""
    t = normalize(text)
    digits = len(t) - len(t.lstrip("0123456789."))
    num, unit = t[:digits], t[digits:]
    if sum(c.isdigit() for c in num.lstrip("0.")) > MAX_NUMBER_DIGITS:
        raise RulebookSyntaxError(
            f"数字“{num[:12]}…”的位数过多（超过 {MAX_NUMBER_DIGITS} 位）", span, "规则集里的分值、界限和金额不需要这么多位；金额可用 万元、亿元"
        )
    try:
        magnitude = Fraction(Decimal(num))
    except (InvalidOperation, ValueError):
        raise RulebookSyntaxError(f"“{text}”不是有效的数字", span) from None
    return ast.Number(t, magnitude, unit, span=span)


@v_args(meta=True)
class _Builder(Transformer):
    """Lark tree → AST; method names equal grammar rule names."""

    def __init__(self, file: str):
        super().__init__()
        self.file = file

    def _span(self, meta) -> Span | None:
        if getattr(meta, "empty", True):
            return None
        return Span(self.file, meta.line, meta.column, meta.end_line, meta.end_column)

    def _tspan(self, tok: Token) -> Span:
        return Span(self.file, tok.line, tok.column, tok.end_line, tok.end_column)

    def _num(self, tok: Token) -> ast.Number:
        return number_from(str(tok), self._tspan(tok))

    def _points(self, tok: Token) -> ast.Number:
        n = self._num(tok)
        if n.unit not in ("", "分"):
            raise RulebookSyntaxError(f"分数不应带单位“{n.unit}”", n.span, "分数写成纯数字，如 10 或 10分")
        return n

    # -- names
    def name(self, meta, items):
        """A name token; a quoted name ("复合肥+缓控释肥") becomes the name as written, without quotes."""
        tok = items[0]
        if tok.type != "STRING":
            return tok
        return Token.new_borrow_pos("QNAME", quoted_name(str(tok), self._tspan(tok)), tok)

    # -- document
    def start(self, meta, items):
        return ast.Document(tuple(items), file=self.file)

    def rulebook_decl(self, meta, items):
        name = str(items[0])
        parent = str(items[1]) if len(items) > 1 else None
        if parent and parent[:1] in "\"“「":
            parent = parent[1:-1]
        return ast.RulebookDecl(name, parent, span=self._span(meta))

    def title_decl(self, meta, items):
        return ast.Setting("标题", (_unquote(items[0]),), span=self._span(meta))

    def basis_decl(self, meta, items):
        return ast.Setting("依据", (_unquote(items[0]),), span=self._span(meta))

    def years_decl(self, meta, items):
        years = []
        for tok in items:
            n = self._num(tok)
            if n.unit not in ("", "年") or n.magnitude.denominator != 1:
                raise RulebookSyntaxError(f"“{tok}”不是年份", n.span, "写成 年度 2021 或 年度 2021-2023")
            years.append(int(n.magnitude))
        if len(years) == 1:
            years.append(years[0])
        if years[0] > years[1]:
            raise RulebookSyntaxError("年度范围的起始年份晚于结束年份", self._span(meta))
        return ast.Setting("年度", tuple(years), span=self._span(meta))

    def version_decl(self, meta, items):
        tok = items[0]
        return ast.Setting("版本", (_unquote(tok) if tok.type == "STRING" else str(tok),), span=self._span(meta))

    def grades_decl(self, meta, items):
        on_rate = bool(items) and items[0] == "按得分率"
        *bands, lowest = items[1:] if on_rate else items
        return ast.Grades(tuple(bands), str(lowest), span=self._span(meta), on_rate=on_rate)

    def grade_on(self, meta, items):
        return "按得分率"

    def max_decl(self, meta, items):
        n = self._points(items[0])
        if n.magnitude <= 0:
            raise RulebookSyntaxError("满分应大于 0", n.span)
        return ast.Setting("满分", (n,), span=self._span(meta))

    def grade_band(self, meta, items):
        name, op, bound = items
        return ast.GradeBand(str(name), op, self._num(bound), span=self._span(meta))

    def rounding_decl(self, meta, items):
        r = items[0]
        return ast.Setting("小数", (r.digits, r.mode), span=self._span(meta))

    def rounding(self, meta, items):
        n = self._num(items[0])
        if n.unit not in ("", "位") or n.magnitude.denominator != 1 or not 0 <= n.magnitude <= 6:
            raise RulebookSyntaxError("小数位数应为 0 到 6 的整数", n.span, "写成 小数 0 位 到 小数 6 位，如 小数 2 位 进一")
        mode = items[1] if len(items) > 1 else "四舍五入"
        return ast.Rounding(int(n.magnitude), mode, span=self._span(meta))

    def rounding_mode(self, meta, items):
        return str(items[0])

    def na_mode(self, meta, items):
        return str(items[0])

    def na_default_decl(self, meta, items):
        return ast.Setting("不适用", (items[0],), span=self._span(meta))

    def facts_block(self, meta, items):
        return ast.FactsBlock(tuple(items), span=self._span(meta))

    def fact_decl(self, meta, items):
        name = str(items[0])
        kind = None
        desc = None
        for tok in items[1:]:
            if tok.type == "STRING":
                desc = _unquote(tok)
            else:
                kind = str(tok)
        return ast.FactDecl(name, kind, desc, span=self._span(meta))

    def derived(self, meta, items):
        return ast.Derived(str(items[0]), items[1], span=self._span(meta))

    # -- indicators
    def indicator(self, meta, items):
        name, weight, *rest = items
        if name.type == "NAME" and str(name) in keywords():
            raise RulebookSyntaxError(f"“{name}”是规则集语言的关键字，不能用作指标名", self._tspan(name), f"换一个名称，或加上引号：“{name}”")
        rule = rounding = None
        na_mode = merge_into = None
        kids: list = []
        for it in rest:
            if isinstance(it, tuple) and it and it[0] == "na":
                na_mode = it[1]
            elif isinstance(it, tuple) and it and it[0] == "merge":
                merge_into = it[1]
            elif isinstance(it, list):
                kids = it
            elif isinstance(it, ast.Rounding):
                rounding = it
            else:
                rule = it
        children = tuple(k for k in kids if isinstance(k, ast.Indicator))
        items_ = tuple(k for k in kids if isinstance(k, ast.ChecklistItem))
        vetoes = tuple(k for k in kids if isinstance(k, ast.VetoCondition))
        surveys = [k for k in kids if isinstance(k, ast.Survey)]
        texts = tuple(k for k in kids if isinstance(k, ast.TextField))
        if len(surveys) > 1:
            raise RulebookSyntaxError("一个指标只能有一行问卷", surveys[1].span)
        return ast.Indicator(
            str(name),
            self._points(weight),
            rule,
            na_mode,
            children,
            items_,
            vetoes,
            surveys[0] if surveys else None,
            texts,
            span=self._span(meta),
            rounding=rounding,
            merge_into=merge_into,
        )

    def children(self, meta, items):
        return list(items)

    def checklist_item(self, meta, items):
        return ast.ChecklistItem(str(items[0]), self._points(items[1]), span=self._span(meta))

    def veto_condition(self, meta, items):
        return ast.VetoCondition(items[0], self._points(items[1]), span=self._span(meta))

    def survey(self, meta, items):
        label = None
        if items and isinstance(items[0], Token):
            label = str(items[0])
            items = items[1:]
        return ast.Survey(label, tuple(items), span=self._span(meta))

    def survey_option(self, meta, items):
        return ast.SurveyOption(str(items[0]), self._num(items[1]), span=self._span(meta))

    def text_field(self, meta, items):
        return ast.TextField(items[0], _unquote(items[1]), span=self._span(meta))

    def text_kind(self, meta, items):
        return str(items[0])

    def na_clause(self, meta, items):
        return ("na", items[0])

    def merge_clause(self, meta, items):
        return ("merge", str(items[0]))

    # -- rules
    def direction(self, meta, items):
        return str(items[0])

    def proportional(self, meta, items):
        direction, target, *rest = items
        source = next((i[1] for i in rest if i[0] == "source"), None)
        zero = next((i[1] for i in rest if i[0] == "zero"), None)
        return ast.Proportional(direction, target, source, zero, span=self._span(meta))

    def zero_point(self, meta, items):
        return ("zero", items[0])

    def zero_mode(self, meta, items):
        return str(items[0])

    over_mode = zero_mode

    def zero_target_decl(self, meta, items):
        return ast.Setting("目标为零", (items[0],), span=self._span(meta))

    def over_target_decl(self, meta, items):
        return ast.Setting("超过满分值", (items[0],), span=self._span(meta))

    def target_met(self, meta, items):
        source = items[2][1] if len(items) > 2 else None
        return ast.TargetMet(items[0], items[1], source, span=self._span(meta))

    def checklist(self, meta, items):
        return ast.Checklist(span=self._span(meta))

    def tiers(self, meta, items):
        kind, *tiers = items
        return ast.Tiers(tuple(tiers), kind == "定性", span=self._span(meta))

    def tier_kind(self, meta, items):
        return str(items[0])

    def point_tier(self, meta, items):
        n = self._num(items[1])
        return ast.Tier(str(items[0]), n, n, True, True, span=self._span(meta))

    def range_tier(self, meta, items):
        name, opening, low, high, closing = items
        return ast.Tier(
            str(name),
            self._num(low),
            self._num(high),
            str(opening) in "[［",
            str(closing) in "]］",
            span=self._span(meta),
        )

    def bands(self, meta, items):
        bands = tuple(i for i in items if isinstance(i, ast.Band))
        otherwise = None
        source = None
        for i in items:
            if isinstance(i, Token):
                otherwise = self._points(i)
            elif isinstance(i, tuple) and i[0] == "source":
                source = i[1]
        return ast.Bands(bands, otherwise, source, span=self._span(meta))

    def band(self, meta, items):
        return ast.Band(items[0], items[1], self._points(items[2]), span=self._span(meta))

    def deduction(self, meta, items):
        floored = len(items) > 1
        return ast.Deduction(self._points(items[0]), floored, span=self._span(meta))

    def floored(self, meta, items):
        return True

    def formula(self, meta, items):
        return ast.Formula(items[0], span=self._span(meta))

    def judgement(self, meta, items):
        return ast.Judgement(span=self._span(meta))

    def from_targets(self, meta, items):
        return ast.FromTargets(span=self._span(meta))

    def value_source(self, meta, items):
        return ("source", items[0])

    # -- inheritance
    def path(self, meta, items):
        return tuple(str(i) for i in items)

    def adjust(self, meta, items):
        path, *rest = items
        weight = rule = na_mode = rounding = merge_into = None
        texts = []
        for it in rest:
            if isinstance(it, Token):
                weight = self._points(it)
            elif isinstance(it, tuple) and it[0] == "na":
                na_mode = it[1]
            elif isinstance(it, tuple) and it[0] == "merge":
                merge_into = it[1]
            elif isinstance(it, ast.TextField):
                texts.append(it)
            elif isinstance(it, ast.Rounding):
                rounding = it
            else:
                rule = it
        if weight is None and rule is None and na_mode is None and rounding is None and merge_into is None and not texts:
            raise RulebookSyntaxError(
                "“调整”后应写要改的内容：权重、计分规则、小数、不适用处理，或在下一行缩进写 解释/标准", self._span(meta)
            )
        return ast.Adjust(path, weight, rule, na_mode, tuple(texts), span=self._span(meta), rounding=rounding, merge_into=merge_into)

    def replace(self, meta, items):
        path = items[0]
        ind = self.indicator(meta, [Token("NAME", path[-1]), *items[1:]])
        return ast.Replace(path, ind, span=self._span(meta))

    def remove(self, meta, items):
        return ast.Remove(items[0], span=self._span(meta))

    def add(self, meta, items):
        return ast.Add(items[0], tuple(items[1:]), span=self._span(meta))

    # -- bonus / penalty / veto
    def bonus_block(self, meta, items):
        cap = self._points(items[0]) if isinstance(items[0], Token) else None
        rest = items[1:] if cap is not None else items
        return ast.BonusBlock(cap, tuple(rest), span=self._span(meta))

    def bonus_item(self, meta, items):
        return ast.BonusItem(str(items[0]), self._points(items[1]), span=self._span(meta))

    penalty_item = bonus_item

    def penalty_block(self, meta, items):
        cap = self._points(items[0]) if isinstance(items[0], Token) else None
        rest = items[1:] if cap is not None else items
        return ast.PenaltyBlock(cap, tuple(rest), span=self._span(meta))

    def veto_block(self, meta, items):
        return ast.VetoBlock(tuple(items), span=self._span(meta))

    def veto_item(self, meta, items):
        return str(items[0])

    # -- defaults
    def defaults_block(self, meta, items):
        return ast.DefaultsBlock(tuple(items), span=self._span(meta))

    def quantitative_default(self, meta, items):
        rounding = items.pop() if isinstance(items[-1], ast.Rounding) else None
        zero = items[2][1] if len(items) > 2 else None
        if zero is not None and items[1] == "达标":
            raise RulebookSyntaxError("“达标”没有零分点；零分=… 只用于正向、反向", self._span(meta))
        return ast.QuantitativeDefault(items[0], items[1], zero, span=self._span(meta), rounding=rounding)

    def quant_kind(self, meta, items):
        return str(items[0])

    def qualitative_default(self, meta, items):
        rounding = items.pop() if isinstance(items[-1], ast.Rounding) else None
        return ast.QualitativeDefault(tuple(items), span=self._span(meta), rounding=rounding)

    # -- expressions
    def cmp(self, meta, items):
        if not items:
            return "="
        v = normalize(str(items[0]))
        return _OPS.get(str(items[0]), v if v in (">=", "<=", ">", "<") else "=")

    def comparison(self, meta, items):
        return ast.Compare(items[1], items[0], items[2], span=self._span(meta))

    def _binop(op):  # noqa: N805 - small factory for the four operators
        def build(self, meta, items):
            return ast.BinOp(op, items[0], items[1], span=self._span(meta))

        return build

    plus = _binop("+")
    sub = _binop("-")
    mul = _binop("*")
    div = _binop("/")

    def neg(self, meta, items):
        return ast.Neg(items[0], span=self._span(meta))

    def number(self, meta, items):
        return self._num(items[0])

    def date(self, meta, items):
        tok = items[0]
        if parse_date(str(tok)) is None:
            raise RulebookSyntaxError(f"“{tok}”不是有效的日期", self._tspan(tok))
        return ast.DateLiteral(normalize(str(tok)), span=self._tspan(tok))

    def ref(self, meta, items):
        return ast.Ref(str(items[0]), span=self._tspan(items[0]))

    def func(self, meta, items):
        return str(items[0])

    def call(self, meta, items):
        return ast.Call(items[0], tuple(items[1:]), span=self._span(meta))


NAME_SEPARATORS = "/／"


def quoted_name(text: str, span: Span | None = None) -> str:
    """The name inside quotes, as printed on the form; it may hold any character but the path
    separator (records and tables address 产出/数量 by it) and must not be empty."""
    name = text[1:-1].strip(" \t\u3000")
    if not name:
        raise RulebookSyntaxError("引号里的名称是空的", span, "写成 “★农村低保标准” 权重 5 …")
    for offset, ch in enumerate(text[1:-1]):
        if ch in NAME_SEPARATORS or ch < " ":
            at = Span(span.file, span.line, span.column + 1 + offset) if span is not None else None
            shown = "制表符" if ch == "\t" else f"“{ch}”" if ch >= " " else f"控制字符 U+{ord(ch):04X}"
            why = "“/”用来分隔路径（如 产出/数量），请换成其他符号，如 “、”或“或”" if ch in NAME_SEPARATORS else "请删去它"
            raise RulebookSyntaxError(f"名称中不能有{shown}", at, why)
    return name


def bare_name() -> tuple[str, list[str]]:
    """The NAME terminal's pattern and every keyword (a name equal to a keyword must be quoted);
    ``trees.bare_name`` keeps them, so that printing a name needs no Lark."""
    return _parser().get_terminal("NAME").pattern.to_regexp(), sorted(t.pattern.value for t in _parser().terminals if t.pattern.type == "str")


def _unquote(tok) -> str:
    s = str(tok)
    return s[1:-1]

