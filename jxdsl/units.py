"""Values with units: money converted exactly, percentages, counts, dates and words.

A quantity keeps its magnitude in the base unit (元 for money, a fraction for percent, one
人 for 万人) and the unit it was written in, so explanations show 3180.30万元, not 31803000.
"""
from __future__ import annotations

import calendar
import datetime
import re
from decimal import ROUND_DOWN, ROUND_HALF_UP, ROUND_UP, Context, Decimal, InvalidOperation, localcontext
from fractions import Fraction

import attrs

MONEY = {"元": Fraction(1), "万元": Fraction(10_000), "亿元": Fraction(100_000_000)}
PERCENT = {"%": Fraction(1, 100), "‰": Fraction(1, 1000)}
POINTS = "分"
DATE = "日期"
TEXT = "文本"
# count-unit prefixes: 1.47万人 is 14700 人
MULTIPLIERS = {"万": Fraction(10_000), "亿": Fraction(100_000_000)}

# a number: sign, whole part (digits, or thousands grouped by commas: 12,500), decimals, the unit
_NUMBER = re.compile(r"^\s*([+-]?)([0-9][0-9,]*)(?:\.([0-9]+))?\s*(.*?)\s*\Z", re.S)
_GROUPED = re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+\Z")
_EXPONENT = re.compile(r"[eE][+-]?[0-9]")  # 1e5, 1.0E+999999999: not read (no count of 1 in unit "e5")
# the most digits a number may be written with (whole part without leading zeros, and decimals): a
# budget amount has at most 20; the bound keeps every reader fast (no 5000-digit integers, no
# Fractions of huge exponents).  Documented in docs/errors.md (限制).
MAX_DIGITS = 100
NUMBER_HINT = f"写成普通数字，如 12500 或 12,500（每三位一个逗号），最多 {MAX_DIGITS} 位数字"
_DATE = re.compile(r"^([0-9]{4})年(?:([0-9]{1,2})月(?:([0-9]{1,2})日)?|(底|末))?\Z")
_ISO_DATE = re.compile(r"^([0-9]{4})-([0-9]{1,2})(?:-([0-9]{1,2}))?\Z")


# Full-width forms (Ａ–ｚ, ０–９, ！–～) and the ideographic space, and their half-width equals, and
# the other decimal digits people paste (Arabic-Indic ٠–٩, extended ۰–۹, mathematical 𝟎–𝟿): what
# ``normalize`` replaces, the same table in every engine.
_DIGITS = [0x0660, 0x06F0] + list(range(0x1D7CE, 0x1D800, 10))
NFKC_FROM = "".join(chr(c) for c in range(0xFF01, 0xFF5F)) + "\u3000" + "".join(chr(z + d) for z in _DIGITS for d in range(10))
NFKC_TO = "".join(chr(c) for c in range(0x21, 0x7F)) + " " + "0123456789" * len(_DIGITS)
_NFKC = str.maketrans(NFKC_FROM, NFKC_TO)


def normalize(text: str) -> str:
    """Full-width digits, letters and punctuation to half-width, other decimal digits to 0–9, one
    character for one (the SQL engines translate with the same table; ≥ ≤ and Chinese punctuation
    stay as they are).

    >>> normalize("≥１２３．５％（全角）"), normalize("٣٠𝟓人")
    ('≥123.5%(全角)', '305人')
    """
    return text.translate(_NFKC)


@attrs.frozen
class Quantity:
    """A value with its dimension.

    ``dim`` is ``""`` for plain numbers and percentages, ``"元"`` for money, the base unit
    for counts (``"人"``), ``"日期"`` for dates (value = last day's ordinal, ``start`` = first
    day's ordinal) and ``"文本"`` for words.
    """

    value: Fraction
    dim: str = ""
    unit: str = ""  # unit as written, for display: 万元, %, 万人, 年底
    text: str = ""  # the original text
    start: Fraction | None = None  # first day of a date period
    words: str | None = None  # for dim 文本

    @property
    def is_percent(self) -> bool:
        return self.unit in PERCENT

    @property
    def kind(self) -> str:
        """num, date or text (an absent value is None, not a Quantity)."""
        return "date" if self.dim == DATE else "text" if self.dim == TEXT else "num"

    def display(self, digits: int = 2) -> str:
        return display(self, digits)


def parse_quantity(text: str) -> Quantity:
    """Read ``3180.30万元``, ``98.82%``, ``24人``, ``2021年12月``, ``提高``.

    Unknown words are kept as text; a number with an unknown unit is a count in that unit.

    >>> parse_quantity("3180.30万元").value, parse_quantity("１.４７万人").value
    (Fraction(31803000, 1), Fraction(14700, 1))
    >>> parse_quantity("98.82%").value
    Fraction(4941, 5000)
    >>> parse_quantity("提高").dim
    '文本'
    """
    raw = str(text)
    t = normalize(raw).strip()
    date = parse_date(t)
    if date is not None:
        return date
    m = _NUMBER.match(t)
    mag = _magnitude(m.group(1), m.group(2), m.group(3) or "") if m and not _EXPONENT.match(m.group(4)) else None
    if mag is None:  # words, or a number written wrongly (``number_problem`` says why): never misread
        return Quantity(Fraction(0), TEXT, "", raw, words=t)
    return with_unit(mag, m.group(4), raw)


def _digits(whole: str, decimals: str) -> str | None:
    """The digits of a whole part and decimals, thousands separators removed; None when the
    grouping is wrong (``1,50``, ``12,50,0``) or there are more than MAX_DIGITS digits."""
    if "," in whole:
        if not _GROUPED.match(whole):
            return None
        whole = whole.replace(",", "")
    if len(whole.lstrip("0")) + len(decimals) > MAX_DIGITS:
        return None
    return whole + decimals


def _magnitude(sign: str, whole: str, decimals: str) -> Fraction | None:
    digits = _digits(whole, decimals)
    if digits is None:
        return None
    value = Fraction(int(digits.lstrip("0") or "0"), 10 ** len(decimals))
    return -value if sign == "-" else value


def plain_number(text: str) -> Fraction | None:
    """A number without a unit, as ``parse_quantity`` reads it (``-12,500.5``); None otherwise.

    >>> plain_number("1,234.5"), plain_number("1e3"), plain_number("Infinity")
    (Fraction(2469, 2), None, None)
    """
    q = parse_quantity(text)
    return q.value if q.dim == "" and q.unit == "" else None


def number_problem(text: str) -> str | None:
    """Why a text that begins as a number cannot be read as one (thousands separators in the wrong
    place, more than MAX_DIGITS digits, an exponent), or None: the message every engine gives, at
    the cell's line (the SQL twin is ``kernel/sqltext.number_problem``).

    >>> number_problem("≥12,500人") is None, number_problem("1,50人")
    (True, '数值“1,50人”的千位分隔符位置不对（应每三位一个，如 12,500）')
    """
    t = split_cmp(text)[1]
    m = _NUMBER.match(t)
    if not m:
        return None
    whole, decimals = m.group(2), m.group(3) or ""
    if "," in whole and not _GROUPED.match(whole):
        return f"数值“{shorten(t)}”的千位分隔符位置不对（应每三位一个，如 12,500）"
    if len(whole.replace(",", "").lstrip("0")) + len(decimals) > MAX_DIGITS:
        return f"数值“{shorten(t)}”位数过多（超出范围：最多 {MAX_DIGITS} 位数字）"
    if _EXPONENT.match(m.group(4)):
        return f"数值“{shorten(t)}”用了科学计数法，无法读取，请写成普通数字"
    return None


def shorten(t: str) -> str:
    """A long text cut for a message."""
    return t if len(t) <= 40 else f"{t[:20]}…{t[-10:]}（共 {len(t)} 个字符）"


_CMP_PREFIX = re.compile(r"^\s*(>=|<=|≥|≤|≧|≦|>|<|=)\s*")
_CMP_SIGN = {"≥": ">=", "≧": ">=", "≤": "<=", "≦": "<="}
_LEAD = re.compile(r"^([0-9][0-9,]*)(\.[0-9]*)?")

# Comparison words of published forms (docs/facts-table.md): 不少于12种, 控制在3%以内, 95%及以上.
# 以上/以下/以内 include the number, as in Chinese law (刑法第九十九条); 达到 means at least.  A word
# counts only before or after a number (达到预期 stays words); a suffix that contradicts the prefix
# (不低于5%以下) stays in the value, which then cannot be read.  The SQL twin is sqltext.cmp_parts.
CMP_WORDS_BEFORE = {"不少于": ">=", "不低于": ">=", "不小于": ">=", "达到": ">=", "不超过": "<=", "不高于": "<=", "不大于": "<=", "不多于": "<=", "控制在": "<="}
CMP_WORDS_AFTER = {"及以上": ">=", "以上": ">=", "及以下": "<=", "以下": "<=", "以内": "<="}
_CMP_WORDS = re.compile(
    rf"^\s*({'|'.join(CMP_WORDS_BEFORE)})?\s*([0-9].*?)\s*({'|'.join(CMP_WORDS_AFTER)})?\s*\Z", re.S
)


def split_cmp(text: str) -> tuple[str | None, str]:
    """A target or actual as written: its comparison (a sign or a word, canonical; or None) and the rest.

    >>> split_cmp(" ≥ 1734人"), split_cmp("合格"), split_cmp("不少于12种"), split_cmp("控制在3%以内")
    (('>=', '1734人'), (None, '合格'), ('>=', '12种'), ('<=', '3%'))
    """
    t = normalize(text)
    m = _CMP_PREFIX.match(t)
    if m:
        return _CMP_SIGN.get(m.group(1), m.group(1)), t[m.end():].strip()
    w = _CMP_WORDS.match(t)
    if not w or not (w.group(1) or w.group(3)):
        return None, t.strip()
    before, body, after = w.group(1) or "", w.group(2), w.group(3) or ""
    op = CMP_WORDS_BEFORE[before] if before else CMP_WORDS_AFTER[after]
    return op, body if not after or CMP_WORDS_AFTER[after] == op else body + after


def target_number(body: str) -> Quantity | None:
    """A target's number and unit as the rulebook writes a literal (digits, then the unit); None
    when it is not one: ``1.2.3人``, ``+5人``.

    >>> target_number("1734人").value, target_number("≥3") is None
    (Fraction(1734, 1), True)
    """
    t = normalize(body)
    m = _LEAD.match(t)
    if not m or len(t) > len(m.group(0)) and t[len(m.group(0))] == ".":
        return None
    unit = t[len(m.group(0)):]
    mag = _magnitude("", m.group(1), (m.group(2) or ".")[1:]) if not _EXPONENT.match(unit.strip()) else None
    return None if mag is None else with_unit(mag, unit, t)


def count_of(text: str | None) -> Fraction | None:
    """A count written as a whole number (次数, 问卷 answers): None when it is not one.

    >>> count_of("3"), count_of("３"), count_of("3.0"), count_of("-1")
    (Fraction(3, 1), Fraction(3, 1), None, None)
    """
    if text is None:
        return None
    t = normalize(text).strip()
    return Fraction(int(t.lstrip("0") or "0")) if t.isascii() and t.isdigit() and len(t.lstrip("0")) <= MAX_DIGITS else None


def with_unit(mag: Fraction, unit: str, text: str = "") -> Quantity:
    """A magnitude in a written unit, converted to the base unit."""
    unit = normalize(unit).strip()
    if unit in MONEY:
        return Quantity(mag * MONEY[unit], "元", unit, text)
    if unit in PERCENT:
        return Quantity(mag * PERCENT[unit], "", unit, text)
    if unit == "":
        return Quantity(mag, "", "", text)
    if unit == POINTS:
        return Quantity(mag, POINTS, unit, text)
    if len(unit) >= 2 and unit[0] in MULTIPLIERS:
        return Quantity(mag * MULTIPLIERS[unit[0]], unit[1:], unit, text)
    return Quantity(mag, unit, unit, text)


def parse_date(t: str) -> Quantity | None:
    """2021年12月 → the period Dec 2021; 2022年底 → the year 2022 up to its last day."""
    t = normalize(t).strip()
    m = _DATE.match(t)
    if m:
        year = int(m.group(1))
        month = int(m.group(2)) if m.group(2) else None
        day = int(m.group(3)) if m.group(3) else None
        if m.group(2) is None and m.group(4) is None and year < 1900:
            return None  # "5年" style counts are not dates
    else:
        m = _ISO_DATE.match(t)
        if not m:
            return None
        year, month = int(m.group(1)), int(m.group(2))
        day = int(m.group(3)) if m.group(3) else None
    try:
        if month is None:
            first, last = datetime.date(year, 1, 1), datetime.date(year, 12, 31)
        elif day is None:
            first = datetime.date(year, month, 1)
            last = datetime.date(year, month, calendar.monthrange(year, month)[1])
        else:
            first = last = datetime.date(year, month, day)
    except ValueError:
        return None
    return Quantity(Fraction(last.toordinal()), DATE, "", t, start=Fraction(first.toordinal()))


_WIDE = Context(prec=80)  # wider than any exact decimal the batch engines return (38 digits)
_QUANTUM = {d: Decimal(1).scaleb(-d) for d in range(13)}


# 截断 toward zero, 进一 away from zero, 四舍五入 half away from zero: all on the magnitude
_MODES = {"四舍五入": ROUND_HALF_UP, "截断": ROUND_DOWN, "进一": ROUND_UP}


def to_decimal(value: Fraction | Decimal, digits: int, mode: str = "四舍五入") -> Decimal:
    """Round exactly: the fraction is divided at high precision, then quantized (half up).

    >>> to_decimal(Fraction(2965, 1000), 2), to_decimal(Fraction(29646, 10000), 2, "截断")
    (Decimal('2.97'), Decimal('2.96'))
    """
    rounding = _MODES[mode]
    if isinstance(value, Decimal):  # already exact (the batch engines' results): no division
        return value.quantize(_QUANTUM.get(digits) or Decimal(1).scaleb(-digits), rounding=rounding, context=_WIDE)
    whole = len(str(abs(value.numerator) // value.denominator))
    with localcontext() as ctx:
        ctx.prec = max(60, whole + digits + 20)  # exact for any magnitude a file can hold
        d = Decimal(value.numerator) / Decimal(value.denominator)
        return d.quantize(Decimal(1).scaleb(-digits), rounding=rounding)


def round_fraction(value: Fraction, digits: int, mode: str = "四舍五入") -> Fraction:
    """The value rounded as a rulebook says, kept exact."""
    return Fraction(to_decimal(value, digits, mode))


def plain(value: Fraction, digits: int = 2) -> str:
    """A number for people: at most ``digits`` decimals, no trailing zeros.

    >>> plain(Fraction(5, 2)), plain(Fraction(29646, 10000)), plain(Fraction(10))
    ('2.5', '2.96', '10')
    """
    d = to_decimal(value, digits)
    s = format(d, "f")
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def display(q: Quantity, digits: int = 2) -> str:
    """A quantity in the unit it was written in: 3180.30万元, 98.82%, 1271人, 2022年底."""
    if q.dim == TEXT:
        return q.words or q.text
    if q.dim == DATE:
        return q.text
    if q.unit in MONEY:
        # an amount as written keeps its own decimals (65.07万元 even when scores have none)
        written = re.search(r"\.(\d+)", normalize(q.text)) if q.text else None
        shown = (min(len(written.group(1)), 6) if written else 0) if q.text else digits
        return f"{to_decimal(q.value / MONEY[q.unit], shown)}{q.unit}"
    if q.unit in PERCENT:
        # keep the precision the value was written with (0.1326%), at least ``digits``
        written = re.search(r"\.(\d+)", normalize(q.text)) if q.text else None
        shown = max(digits, min(len(written.group(1)), 6)) if written else digits
        return f"{to_decimal(q.value / PERCENT[q.unit], shown)}{q.unit}"
    if q.unit and q.unit[0] in MULTIPLIERS and len(q.unit) >= 2:
        return f"{plain(q.value / MULTIPLIERS[q.unit[0]], 4)}{q.unit}"
    return f"{plain(q.value, max(digits, 4))}{q.unit}"


def percent(value: Fraction, digits: int = 2) -> str:
    """A ratio shown as a percentage: 0.98821 → 98.82%; below 1% with two more digits (0.1326%)."""
    if value != 0 and abs(value) < Fraction(1, 100):
        digits += 2
    return f"{to_decimal(value * 100, digits)}%"


def describe_dim(dim: str) -> str:
    """The dimension in words, for messages."""
    if dim == "元":
        return "金额"
    if dim == "":
        return "数值或百分比"
    if dim == DATE:
        return "日期"
    if dim == TEXT:
        return "文字"
    if dim == POINTS:
        return "分数"
    return f"数量（{dim}）"


def percent_hint(n: str) -> str:
    """What a bare number written against a percentage probably meant: 20 → 20%, but 0.6 is as
    likely a share (60%) as 0.6%, so both are offered."""
    try:
        x = Decimal(n.lstrip("-"))
    except (InvalidOperation, ValueError):
        return f"{n} 应写成 {n}%？"
    if 0 < x < 1:
        share = format((Decimal(n) * 100).normalize(), "f")
        return f"{n} 应写成 {share}% 还是 {n}%？"
    return f"{n} 应写成 {n}%？"

