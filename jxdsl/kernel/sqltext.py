"""Text primitives of the SQL backend as sqlglot trees: normalizing, reading quantities, formatting.

Each function here is the SQL twin of a Python function in ``units.py`` or ``formulas.py``
(named in its docstring); ``tests/test_primitives.py`` runs both on the same generated texts and
numbers, so the two cannot drift apart unnoticed.  Numbers are exact: a value is a pair of
integers (numerator, positive denominator) of type ``BIG`` (DECIMAL(38,0); HUGEINT in DuckDB).
"""
from __future__ import annotations

from jxdsl.kernel.sqlnodes import (  # noqa: F401  (re-exported for the compiler)
    BIG,
    add,
    and_,
    big,
    binary,
    case,
    cast,
    column,
    concat,
    eq,
    extract,
    func,
    ge,
    gt,
    idiv,
    is_null,
    isin,
    le,
    length,
    lit,
    lt,
    matches,
    mod,
    mul,
    not_,
    not_null,
    nseq,
    or_,
    paren,
    sub,
    substring,
    text_of,
    trim,
)
from sqlglot import exp

from jxdsl.units import CMP_WORDS_AFTER, CMP_WORDS_BEFORE, DATE, MAX_DIGITS, MONEY, NFKC_FROM, NFKC_TO, TEXT

WS = r"[\t\n\x0B\f\r\x1C-\x1F \x85\xA0\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}]"
STRIP_RE = rf"^{WS}*((?s:.*?)){WS}*\z"
EDGE_RE = rf"^{WS}|{WS}\z"
CMP_RE = rf"^{WS}*(>=|<=|≥|≤|≧|≦|>|<|=){WS}*((?s:.*))\z"
CMP_WORDS_RE = rf"^{WS}*({'|'.join(CMP_WORDS_BEFORE)})?{WS}*([0-9](?s:.*?)){WS}*({'|'.join(CMP_WORDS_AFTER)})?{WS}*\z"
DATE_RE = r"^([0-9]{4})年(?:([0-9]{1,2})月(?:([0-9]{1,2})日)?|(底|末))?\z"
ISO_RE = r"^([0-9]{4})-([0-9]{1,2})(?:-([0-9]{1,2}))?\z"
NUM_RE = rf"^([+-]?)([0-9][0-9,]*)(?:\.([0-9]+))?{WS}*((?s:.*))\z"
LEAD_RE = r"^([0-9][0-9,]*)(\.[0-9]*)?((?s:.*))\z"
GROUPED_RE = r"^[0-9]{1,3}(?:,[0-9]{3})+\z"
EXPONENT_RE = r"^[eE][+-]?[0-9]"
DECIMALS_RE = r"\.([0-9]+)"
COUNT_RE = r"^[0-9]+\z"
WIDE_RE = r"[\x{FF01}-\x{FF5E}\x{3000}\x{0660}-\x{0669}\x{06F0}-\x{06F9}\x{1D7CE}-\x{1D7FF}]"

fn = func


# ---- normalizing (units.normalize, str.strip) ------------------------------------------------------
def normalize(e):
    """units.normalize: full-width forms to half-width (only the texts holding one are translated)."""
    return case((matches(e, WIDE_RE), func("translate", e, lit(NFKC_FROM), lit(NFKC_TO))), default=e)


def strip(e):
    """str.strip (Unicode white space; the regular expression only for texts that need it)."""
    return case((matches(e, EDGE_RE), extract(e, STRIP_RE, 1)), default=e)


def clean(e):
    return strip(normalize(e))


# ---- numbers as written (units._digits, units.number_problem; property-tested in tests/test_numbers.py) --
def written_ok(whole, decimals, unit):
    """units._magnitude is not None (and no exponent follows): a number as the grammar writes it."""
    return and_(grouping_ok(whole), le(digit_count(whole, decimals), lit(MAX_DIGITS)), not_(matches(unit, EXPONENT_RE)))


def grouping_ok(whole):
    """units._digits: a whole part without commas, or with them every three digits (12,500)."""
    return or_(eq(func("strpos", whole, lit(",")), lit(0)), matches(whole, GROUPED_RE))


def digit_count(whole, decimals):
    """The digits a number is written with: the whole part without separators and leading zeros, and decimals."""
    return add(length(trim(func("replace", whole, lit(","), lit("")), "0", "LEADING")), length(decimals))


def cmp_parts(t, bind=lambda e: e):
    """units.split_cmp of a normalized text: (comparison or NULL, the rest); ``bind`` names a
    repeated subexpression once (Program.bind) where the caller has a program."""
    hit = bind(matches(t, CMP_RE))
    sign = extract(t, CMP_RE, 1)
    canonical = case((isin(sign, lit("≥"), lit("≧")), lit(">=")), (isin(sign, lit("≤"), lit("≦")), lit("<=")), default=sign)
    before = bind(func("coalesce", extract(t, CMP_WORDS_RE, 1), lit("")))
    body = bind(func("coalesce", extract(t, CMP_WORDS_RE, 2), lit("")))
    after = bind(func("coalesce", extract(t, CMP_WORDS_RE, 3), lit("")))
    op_before = case(*[(eq(before, lit(w)), lit(o)) for w, o in CMP_WORDS_BEFORE.items()])
    op_after = bind(case(*[(eq(after, lit(w)), lit(o)) for w, o in CMP_WORDS_AFTER.items()]))
    word_op = bind(func("coalesce", op_before, op_after))
    word = bind(and_(matches(t, CMP_WORDS_RE), or_(not_(eq(before, lit(""))), not_(eq(after, lit(""))))))
    agree = or_(eq(after, lit("")), eq(op_after, word_op))
    op = case((hit, canonical), (word, word_op))
    rest = case((hit, strip(extract(t, CMP_RE, 2))), (word, case((agree, body), default=concat(body, after))), default=strip(t))
    return op, rest


def number_problem(t):
    """units.number_problem of a cleaned text: why a text that begins as a number is not one, or NULL."""
    body = cmp_parts(t)[1]
    whole, decimals = extract(body, NUM_RE, 2), extract(body, NUM_RE, 3)
    exponent = concat(lit("数值“"), short(body), lit("”用了科学计数法，无法读取，请写成普通数字"))
    return case(
        (not_(matches(body, NUM_RE)), lit(None)),
        (not_(grouping_ok(whole)), concat(lit("数值“"), short(body), lit("”的千位分隔符位置不对（应每三位一个，如 12,500）"))),
        (gt(digit_count(whole, decimals), lit(MAX_DIGITS)), concat(lit("数值“"), short(body), lit(f"”位数过多（超出范围：最多 {MAX_DIGITS} 位数字）"))),
        (matches(extract(body, NUM_RE, 4), EXPONENT_RE), exponent),
    )


def short(t):
    """units.shorten: a long text cut for a message."""
    n = length(t)
    cut = concat(substring(t, 1, 20), lit("…"), func("right", t, lit(10)), lit("（共 "), text_of(n), lit(" 个字符）"))
    return case((le(n, lit(40)), t), default=cut)


# ---- exact integers as text ------------------------------------------------------------------------
def fixed(num, den, digits: int):
    """units.to_decimal: num/den half up (away from zero) with exactly ``digits`` decimals."""
    scale = big(10**digits)
    q = idiv(add(mul(mul(big(2), func("abs", num)), scale), den), mul(big(2), den))
    sign = case((lt(num, big(0)), lit("-")), default=lit(""))
    if not digits:
        return concat(sign, text_of(q))
    frac = func("lpad", text_of(mod(q, scale)), lit(digits), lit("0"))
    return concat(sign, text_of(idiv(q, scale)), lit("."), frac)


def plain(num, den, digits: int):
    """units.plain: at most ``digits`` decimals, trailing zeros dropped, never ``-0``."""
    text = fixed(num, den, digits)
    if digits:
        text = trim(trim(text, "0", "TRAILING"), ".", "TRAILING")
    return case((eq(text, lit("-0")), lit("0")), default=text)


def percent(num, den, digits: int):
    """units.percent: a ratio as a percentage; below 1% two more digits."""
    hundred = mul(num, big(100))
    small = and_(not_(eq(num, big(0))), lt(func("abs", hundred), den))
    return concat(case((small, fixed(hundred, den, digits + 2)), default=fixed(hundred, den, digits)), lit("%"))


def describe_dim(dim):
    """units.describe_dim."""
    return case(
        (eq(dim, lit("元")), lit("金额")),
        (eq(dim, lit("")), lit("数值或百分比")),
        (eq(dim, lit(DATE)), lit("日期")),
        (eq(dim, lit(TEXT)), lit("文字")),
        (eq(dim, lit("分")), lit("分数")),
        default=concat(lit("数量（"), dim, lit("）")),
    )


def show(q: dict, digits: int):
    """formulas.show: a value as people read it (as written, or in its unit).

    ``q`` has the columns dim, unit, text, words, num, den."""
    dim, unit, text, num, den = q["dim"], q["unit"], q["text"], q["num"], q["den"]
    written = and_(not_null(text), not_(eq(text, lit(""))))
    percent_digits = length(extract(normalize(text), DECIMALS_RE, 1))
    pct_branches = []
    for u, factor in (("%", 100), ("‰", 1000)):
        scaled = (mul(num, big(factor)), den)
        options = [(le(percent_digits, lit(d)), fixed(*scaled, max(digits, d))) for d in range(digits, 6)]
        body = case(*options, default=fixed(*scaled, max(digits, 6))) if options else fixed(*scaled, max(digits, 6))
        pct_branches.append((eq(unit, lit(u)), concat(case((written, body), default=fixed(*scaled, digits)), lit(u))))
    money = [(eq(unit, lit(u)), concat(fixed(num, mul(den, big(int(f))), digits), lit(u))) for u, f in MONEY.items()]
    head = substring(unit, 1, 1)
    multiplied = [
        (and_(ge(length(unit), lit(2)), eq(head, lit(p))), concat(plain(num, mul(den, big(m)), 4), unit))
        for p, m in (("万", 10_000), ("亿", 100_000_000))
    ]
    words = q["words"]
    display = case(
        (eq(dim, lit(TEXT)), case((or_(is_null(words), eq(words, lit(""))), text), default=words)),
        (eq(dim, lit(DATE)), text),
        *money,
        *pct_branches,
        *multiplied,
        default=concat(plain(num, den, max(digits, 4)), unit),
    )
    return case(
        (and_(eq(dim, lit("")), eq(unit, lit("%")), not_(written)), percent(num, den, digits)),
        (and_(written, not_(eq(dim, lit("元"))), not_(eq(dim, lit(TEXT)))), clean(text)),
        default=display,
    )


def json_number(text):
    """explain.number as JSON: the shown number, in Python's float notation below 0.0001."""
    frac = extract(text, r"^-?0\.(0*)([0-9]+)\z", 2)
    zeros = length(extract(text, r"^-?0\.(0*)([0-9]+)\z", 1))
    small = or_(exp.Like(this=text, expression=lit("0.0000%")), exp.Like(this=text, expression=lit("-0.0000%")))  # not a regex: every number
    tiny = and_(small, not_(eq(frac, lit(""))))
    mantissa = case((gt(length(frac), lit(1)), concat(substring(frac, 1, 1), lit("."), substring(frac, 2))), default=frac)
    sign = case((exp.Like(this=text, expression=lit("-%")), lit("-")), default=lit(""))
    exponent = func("lpad", text_of(add(zeros, lit(1))), lit(2), lit("0"))
    return case((is_null(text), lit("null")), (tiny, concat(sign, mantissa, lit("e-"), exponent)), default=text)


JSON_ESCAPES = (("\\", "\\\\"), ('"', '\\"'), *((c, {8: "\\b", 9: "\\t", 10: "\\n", 12: "\\f", 13: "\\r"}.get(c, f"\\u{c:04x}")) for c in range(32)))


def json_string(text):
    """json.dumps(text, ensure_ascii=False): the text as a JSON string; NULL stays NULL.  Written
    with REPLACE, not a dialect's to_json, so that every engine escapes exactly as Python does."""
    escaped = text
    for raw, shown in JSON_ESCAPES:
        escaped = func("replace", escaped, func("chr", lit(raw)) if isinstance(raw, int) else lit(raw), lit(shown))
    body = case((matches(text, r'[\x00-\x1f"\\]'), escaped), default=text)
    return concat(lit('"'), body, lit('"'))


# ---- reading quantities (units.parse_quantity) -------------------------------------------------------
UNIT_EXPONENT = (("万元", 4, "元"), ("亿元", 8, "元"), ("元", 0, "元"), ("%", -2, ""), ("‰", -3, ""), ("", 0, ""), ("分", 0, "分"))


def unit_reading(unit):
    """(dimension, power of ten) of a written unit, as units.with_unit reads it."""
    head = substring(unit, 1, 1)
    prefixed = and_(ge(length(unit), lit(2)), isin(head, lit("万"), lit("亿")))
    dim = case(*[(eq(unit, lit(u)), lit(d)) for u, _, d in UNIT_EXPONENT], (prefixed, substring(unit, 2)), default=unit)
    power = case(*[(eq(unit, lit(u)), lit(p)) for u, p, _ in UNIT_EXPONENT], (and_(prefixed, eq(head, lit("万"))), lit(4)), (prefixed, lit(8)), default=lit(0))
    return dim, power


def date_parts(t) -> dict:
    """Year, month, day of a written date (2021年12月, 2022年底, 2021-12-31) and whether it is one."""
    is_cn = and_(gt(func("strpos", t, lit("年")), lit(0)), matches(t, DATE_RE))
    is_iso = and_(gt(func("strpos", t, lit("-")), lit(0)), matches(t, ISO_RE))

    def num(e):
        return cast(func("nullif", e, lit("")), "INT")

    y = case((is_cn, num(extract(t, DATE_RE, 1))), (is_iso, num(extract(t, ISO_RE, 1))))
    m = case((is_cn, num(extract(t, DATE_RE, 2))), (is_iso, num(extract(t, ISO_RE, 2))))
    d = case((is_cn, num(extract(t, DATE_RE, 3))), (is_iso, num(extract(t, ISO_RE, 3))))
    end_word = case((is_cn, extract(t, DATE_RE, 4)), default=lit(""))
    return {"cn": is_cn, "iso": is_iso, "y": y, "m": m, "d": d, "end_word": end_word}


def ordinal(date):
    """date.toordinal() of a SQL date."""
    return big(add(func("date_diff", lit("day"), cast(lit("0001-01-01"), "DATE"), date), lit(1)))
