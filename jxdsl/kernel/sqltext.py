"""Text primitives of the SQL backend as sqlglot trees: normalizing, reading quantities, formatting.

Each function here is the SQL twin of a Python function in ``units.py`` or ``formulas.py``
(named in its docstring); ``tests/test_primitives.py`` runs both on the same generated texts and
numbers, so the two cannot drift apart unnoticed.  Numbers are exact: a value is a pair of
integers (numerator, positive denominator) of type ``BIG`` (DECIMAL(38,0); HUGEINT in DuckDB).
"""
from __future__ import annotations

from sqlglot import exp

from jxdsl.units import DATE, MONEY, NFKC_FROM, NFKC_TO, TEXT

BIG = exp.DataType.build("DECIMAL(38,0)")
WS = r"[\t\n\x0B\f\r\x1C-\x1F \x85\xA0\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}]"
STRIP_RE = rf"^{WS}*((?s:.*?)){WS}*\z"
EDGE_RE = rf"^{WS}|{WS}\z"
CMP_RE = rf"^{WS}*(>=|<=|≥|≤|≧|≦|>|<|=){WS}*((?s:.*))\z"
DATE_RE = r"^([0-9]{4})年(?:([0-9]{1,2})月(?:([0-9]{1,2})日)?|(底|末))?\z"
ISO_RE = r"^([0-9]{4})-([0-9]{1,2})(?:-([0-9]{1,2}))?\z"
NUM_RE = rf"^([+-]?)([0-9]+)(?:\.([0-9]+))?{WS}*((?s:.*))\z"
LEAD_RE = r"^([0-9]+)(\.[0-9]*)?((?s:.*))\z"
DECIMALS_RE = r"\.([0-9]+)"
COUNT_RE = r"^[0-9]+\z"


# ---- small builders -----------------------------------------------------------------------------
def lit(value) -> exp.Expression:
    if value is None:
        return exp.null()
    if isinstance(value, bool):
        return exp.true() if value else exp.false()
    if isinstance(value, int):
        return exp.Literal.number(value)
    return exp.Literal.string(str(value))


def big(value) -> exp.Expression:
    """An integer as BIG (constants and parsed digits alike, so no product overflows a small type)."""
    if isinstance(value, int):
        return exp.cast(exp.Literal.string(str(value)), BIG)
    return exp.cast(value, BIG)


def fn(name: str, *args) -> exp.Expression:
    return exp.func(name, *args, dialect="duckdb")


def case(*whens, default=None) -> exp.Expression:
    c = exp.case()
    for cond, value in whens:
        c = c.when(cond, value)
    return c.else_(default if default is not None else exp.null())


def paren(e: exp.Expression) -> exp.Expression:
    """Parentheses around an operation used as an operand (sqlglot prints the tree as built)."""
    return exp.Paren(this=e) if isinstance(e, (exp.Binary, exp.Not)) and not isinstance(e, exp.Dot) else e


def binary(cls, a, b) -> exp.Expression:
    return cls(this=paren(a), expression=paren(b))


def idiv(a, b) -> exp.Expression:
    return binary(exp.IntDiv, a, b)


def concat(*parts) -> exp.Expression:
    """NULL-propagating concatenation (``||``)."""
    out = parts[0]
    for p in parts[1:]:
        out = exp.DPipe(this=out, expression=paren(p), safe=True)
    return out


def extract(e, pattern: str, group: int) -> exp.Expression:
    return exp.RegexpExtract(this=e, expression=lit(pattern), group=lit(group))


def matches(e, pattern: str) -> exp.Expression:
    return fn("regexp_matches", e, lit(pattern))


def text_of(e) -> exp.Expression:
    return exp.cast(e, "VARCHAR")


def length(e) -> exp.Expression:
    return exp.Length(this=e)


def is_null(e) -> exp.Expression:
    return exp.Is(this=e, expression=exp.null())


def not_null(e) -> exp.Expression:
    return exp.not_(is_null(e))


# ---- normalizing (units.normalize, str.strip) ------------------------------------------------------
def _char_class(chars: str) -> str:
    cps = sorted(ord(c) for c in chars)
    ranges, start, prev = [], cps[0], cps[0]
    for cp in cps[1:] + [None]:
        if cp is not None and cp == prev + 1:
            prev = cp
            continue
        ranges.append(f"\\x{{{start:X}}}" + (f"-\\x{{{prev:X}}}" if prev != start else ""))
        if cp is not None:
            start = prev = cp
    return "[" + "".join(ranges) + "]"


NFKC_CLASS = _char_class(NFKC_FROM)


def normalize(e) -> exp.Expression:
    """units.normalize: full-width forms to half-width (only the rare texts holding one are translated)."""
    return case((matches(e, NFKC_CLASS), fn("translate", e, lit(NFKC_FROM), lit(NFKC_TO))), default=e)


def strip(e) -> exp.Expression:
    """str.strip (Unicode white space; the regular expression only for texts that need it)."""
    return case((matches(e, EDGE_RE), extract(e, STRIP_RE, 1)), default=e)


def clean(e) -> exp.Expression:
    return strip(normalize(e))


# ---- exact integers as text ------------------------------------------------------------------------
def fixed(num, den, digits: int) -> exp.Expression:
    """units.to_decimal: num/den half up (away from zero) with exactly ``digits`` decimals."""
    scale = big(10**digits)
    q = idiv(big(2) * fn("abs", num) * scale + den, big(2) * den)
    whole = text_of(idiv(q, scale)) if digits else text_of(q)
    sign = case((num < big(0), lit("-")), default=lit(""))
    if not digits:
        return concat(sign, whole)
    frac = fn("lpad", text_of(binary(exp.Mod, q, scale)), lit(digits), lit("0"))
    return concat(sign, whole, lit("."), frac)


def plain(num, den, digits: int) -> exp.Expression:
    """units.plain: at most ``digits`` decimals, trailing zeros dropped, never ``-0``."""
    text = fixed(num, den, digits)
    if digits:
        text = exp.Trim(this=exp.Trim(this=text, expression=lit("0"), position="TRAILING"), expression=lit("."), position="TRAILING")
    return case((text.eq(lit("-0")), lit("0")), default=text)


def percent(num, den, digits: int) -> exp.Expression:
    """units.percent: a ratio as a percentage; below 1% two more digits."""
    small = exp.and_(exp.not_(num.eq(big(0))), fn("abs", num) * big(100) < den)
    return concat(case((small, fixed(num * big(100), den, digits + 2)), default=fixed(num * big(100), den, digits)), lit("%"))


def describe_dim(dim) -> exp.Expression:
    """units.describe_dim."""
    return case(
        (dim.eq(lit("元")), lit("金额")),
        (dim.eq(lit("")), lit("数值或百分比")),
        (dim.eq(lit(DATE)), lit("日期")),
        (dim.eq(lit(TEXT)), lit("文字")),
        (dim.eq(lit("分")), lit("分数")),
        default=concat(lit("数量（"), dim, lit("）")),
    )


def show(q, digits: int) -> exp.Expression:
    """formulas.show: a value as people read it (as written, or in its unit)."""
    dim, unit, text, num, den = q["dim"], q["unit"], q["text"], q["num"], q["den"]
    written = exp.and_(not_null(text), exp.not_(text.eq(lit(""))))
    percent_digits = length(extract(normalize(text), DECIMALS_RE, 1))
    pct_branches = []
    for u, factor in (("%", 100), ("‰", 1000)):
        scaled = (num * big(factor), den)
        options = [(percent_digits <= lit(d), fixed(*scaled, max(digits, d))) for d in range(digits, 6)]
        body = case(*options, default=fixed(*scaled, max(digits, 6))) if options else fixed(*scaled, max(digits, 6))
        pct_branches.append((unit.eq(lit(u)), concat(case((written, body), default=fixed(*scaled, digits)), lit(u))))
    money = [(unit.eq(lit(u)), concat(fixed(num, den * big(int(f)), digits), lit(u))) for u, f in MONEY.items()]
    multiplied = [
        (exp.and_(length(unit) >= lit(2), exp.Substring(this=unit, start=lit(1), length=lit(1)).eq(lit(p))), concat(plain(num, den * big(m), 4), unit))
        for p, m in (("万", 10_000), ("亿", 100_000_000))
    ]
    display = case(
        (dim.eq(lit(TEXT)), case((exp.or_(is_null(q["words"]), q["words"].eq(lit(""))), text), default=q["words"])),
        (dim.eq(lit(DATE)), text),
        *money,
        *pct_branches,
        *multiplied,
        default=concat(plain(num, den, max(digits, 4)), unit),
    )
    return case(
        (exp.and_(dim.eq(lit("")), unit.eq(lit("%")), exp.not_(written)), percent(num, den, digits)),
        (exp.and_(written, exp.not_(dim.eq(lit("元"))), exp.not_(dim.eq(lit(TEXT)))), clean(text)),
        default=display,
    )


# ---- reading quantities (units.parse_quantity) -------------------------------------------------------
UNIT_EXPONENT = (("万元", 4, "元"), ("亿元", 8, "元"), ("元", 0, "元"), ("%", -2, ""), ("‰", -3, ""), ("", 0, ""), ("分", 0, "分"))


def unit_reading(unit) -> tuple[exp.Expression, exp.Expression]:
    """(dimension, power of ten) of a written unit, as units.with_unit reads it."""
    dims = [(unit.eq(lit(u)), lit(d)) for u, _, d in UNIT_EXPONENT]
    exps = [(unit.eq(lit(u)), lit(p)) for u, p, _ in UNIT_EXPONENT]
    prefixed = exp.and_(length(unit) >= lit(2), exp.Substring(this=unit, start=lit(1), length=lit(1)).isin(lit("万"), lit("亿")))
    head = exp.Substring(this=unit, start=lit(1), length=lit(1))
    dim = case(*dims, (prefixed, exp.Substring(this=unit, start=lit(2))), default=unit)
    power = case(*exps, (exp.and_(prefixed, head.eq(lit("万"))), lit(4)), (prefixed, lit(8)), default=lit(0))
    return dim, power


def date_parts(t) -> dict[str, exp.Expression]:
    """Year, month, day of a written date (2021年12月, 2022年底, 2021-12-31) and whether it is one."""
    is_cn = exp.and_(fn("strpos", t, lit("年")) > lit(0), matches(t, DATE_RE))
    is_iso = exp.and_(fn("strpos", t, lit("-")) > lit(0), matches(t, ISO_RE))

    def num(e):
        return exp.cast(exp.Nullif(this=e, expression=lit("")), "INT")

    y = case((is_cn, num(extract(t, DATE_RE, 1))), (is_iso, num(extract(t, ISO_RE, 1))))
    m = case((is_cn, num(extract(t, DATE_RE, 2))), (is_iso, num(extract(t, ISO_RE, 2))))
    d = case((is_cn, num(extract(t, DATE_RE, 3))), (is_iso, num(extract(t, ISO_RE, 3))))
    end_word = case((is_cn, extract(t, DATE_RE, 4)), default=lit(""))
    return {"cn": is_cn, "iso": is_iso, "y": y, "m": m, "d": d, "end_word": end_word}


def ordinal(date) -> exp.Expression:
    """date.toordinal() of a SQL date."""
    return big(fn("date_diff", lit("day"), exp.cast(lit("0001-01-01"), "DATE"), date) + lit(1))
