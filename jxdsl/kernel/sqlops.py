"""Quantity and text operations of the SQL backend (the SQL side of ``stage.Py``'s primitives)."""
from __future__ import annotations

from sqlglot import exp

from jxdsl.kernel import sqltext as T
from jxdsl.kernel.sql import NULL, SBool, SNull, SNum, SQty, Sql, SText
from jxdsl.kernel.sqltext import BIG, big, case, lit
from jxdsl.units import DATE, TEXT


class SqlOps(Sql):
    """The SQL backend with quantities: reading, comparing and showing them."""

    # -- text
    def concat(self, *parts) -> SText:
        es = []
        for p in parts:
            e = self._text(p)
            if es and isinstance(e, exp.Literal) and isinstance(es[-1], exp.Literal) and e.is_string and es[-1].is_string:
                es[-1] = lit(es[-1].this + e.this)
            else:
                es.append(e)
        return SText(self, T.concat(*es) if len(es) > 1 else es[0])

    def join(self, sep: str, parts) -> SText:
        es = [self._text(p) for p in parts if p is not None and not isinstance(p, SNull)]
        if not es:
            return self.text("")
        return SText(self, exp.func("concat_ws", lit(sep), *es))

    def strip(self, text) -> SText:
        return SText(self, T.strip(self._text(text)))

    def normalize(self, text) -> SText:
        return SText(self, T.clean(self._text(text)))

    def int_text(self, n) -> SText:
        n = self.num(n)
        if n.const is not None:
            return self.text(str(int(n.const)))
        return SText(self, T.text_of(T.idiv(n.num, n.den)))

    def plain(self, x, digits: int) -> SText:
        if x is None or isinstance(x, SNull):
            return SText(self, exp.null())
        x = self.num(x)
        if x.const is not None:
            from jxdsl.units import plain

            return self.text(plain(x.const, digits))
        self._width(x.nb + digits + 1)
        return SText(self, T.plain(x.num, x.den, digits))

    def percent(self, x, digits: int) -> SText:
        x = self.num(x)
        self._width(x.nb + digits + 6)
        return SText(self, T.percent(x.num, x.den, digits))

    def describe_dim(self, dim) -> SText:
        return SText(self, T.describe_dim(self._text(dim)))

    def dims_text(self, dims) -> SText:
        listed = exp.Array(expressions=[self._text(d) for d in dims])
        distinct = exp.ArraySort(this=exp.func("list_distinct", listed))
        described = exp.func("list_transform", distinct, exp.Lambda(this=T.describe_dim(exp.to_identifier("d")), expressions=[exp.to_identifier("d")]))
        return SText(self, exp.func("array_to_string", described, lit("、")))

    def show(self, q, digits: int) -> SText:
        if q is None or isinstance(q, SNull):
            return SText(self, exp.null())
        fields = {"dim": self._text(q.dim), "unit": self._text(q.unit), "text": self._text(q.text), "words": self._text(q.words), "num": q.value.num, "den": q.value.den}
        self._width(q.value.nb + digits + 4)
        return SText(self, T.show(fields, digits))

    # -- quantities
    @property
    def null_qty(self) -> SQty:
        n = SNum(self, exp.null(), exp.null(), 1, 1)
        t = SText(self, exp.null())
        return SQty(t, t, n, n, t, t)

    def const_qty(self, c) -> SQty:
        start = self.num(c.start) if c.start is not None else SNum(self, exp.null(), exp.null(), 1, 1)
        return SQty(self.text(c.dim), self.text(c.unit), self.num(c.value), start, self.text(c.text), SText(self, exp.null()))

    def qty(self, value, dim, unit, text) -> SQty:
        return SQty(_st(self, dim), _st(self, unit), self.num(value) if not isinstance(value, SNull) else self.null_qty.value, self.null_qty.start, _st(self, text), SText(self, exp.null()))

    def parse(self, text) -> SQty:
        """units.parse_quantity: a date, a number with its unit, or words (NULL stays NULL)."""
        if text is None or isinstance(text, SNull):
            return self.null_qty
        raw = self._text(text)
        t = self.p.bind(T.clean(raw))
        dp = {k: self.p.bind(v) for k, v in T.date_parts(t).items()}
        y, m, d = dp["y"], dp["m"], dp["d"]
        month_ok = exp.and_(m >= lit(1), m <= lit(12))
        last = exp.func("day", exp.func("last_day", exp.func("make_date", y, m, lit(1))))
        day_ok = case((month_ok, exp.or_(T.is_null(d), exp.and_(d >= lit(1), d <= last))), default=lit(False))
        valid = exp.and_(
            exp.or_(dp["cn"], dp["iso"]), y >= lit(1),
            exp.not_(exp.and_(dp["cn"], T.is_null(m), dp["end_word"].eq(lit("")), y < lit(1900))),
            exp.or_(T.is_null(m), day_ok),
        )
        is_date = self.p.bind(exp.func("coalesce", valid, lit(False)))
        start = case((is_date, T.ordinal(case((T.is_null(m), exp.func("make_date", y, lit(1), lit(1))), (T.is_null(d), exp.func("make_date", y, m, lit(1))), default=exp.func("make_date", y, m, d)))))
        end = case((is_date, T.ordinal(case((T.is_null(m), exp.func("make_date", y, lit(12), lit(31))), (T.is_null(d), exp.func("last_day", exp.func("make_date", y, m, lit(1)))), default=exp.func("make_date", y, m, d)))))
        is_num = self.p.bind(exp.and_(exp.not_(is_date), T.matches(t, T.NUM_RE)))
        sign = T.extract(t, T.NUM_RE, 1)
        unit = self.p.bind(T.extract(t, T.NUM_RE, 4))
        num, den, over = self._digits(self.p.bind(T.extract(t, T.NUM_RE, 2)), self.p.bind(T.extract(t, T.NUM_RE, 3)), unit)
        self.overflow.append(exp.and_(is_num, over))
        signed = case((sign.eq(lit("-")), big(-1) * num), default=num)
        dim, _ = T.unit_reading(unit)
        kind = case((T.is_null(raw), lit(None)), (is_date, lit("date")), (is_num, lit("num")), default=lit("text"))
        kind = self.p.bind(kind)
        dim_e = case((kind.eq(lit("date")), lit(DATE)), (kind.eq(lit("num")), dim), (kind.eq(lit("text")), lit(TEXT)))
        value_n = case((kind.eq(lit("date")), end), (kind.eq(lit("num")), signed), (kind.eq(lit("text")), big(0)))
        value_d = case((kind.eq(lit("date")), big(1)), (kind.eq(lit("num")), den), (kind.eq(lit("text")), big(1)))
        return SQty(
            SText(self, self.p.bind(dim_e)),
            SText(self, self.p.bind(case((kind.eq(lit("num")), unit), (T.not_null(kind), lit(""))))),
            SNum(self, self.p.bind(value_n), self.p.bind(value_d), self.caps.num, self.caps.den),
            SNum(self, self.p.bind(case((kind.eq(lit("date")), start))), self.p.bind(case((kind.eq(lit("date")), big(1)))), 7, 1),
            SText(self, case((kind.eq(lit("date")), t), default=raw)),
            SText(self, case((kind.eq(lit("text")), t))),
        )

    def _digits(self, whole, frac, unit):
        """(numerator, denominator, too long) of digits ``whole.frac`` written in ``unit``."""
        _, power = T.unit_reading(unit)
        power = self.p.bind(power)
        digits = exp.Trim(this=T.concat(whole, frac), expression=lit("0"), position="LEADING")
        up = case((power > lit(0), power), default=lit(0))
        down = case((power < lit(0), -power), default=lit(0))
        n_digits = T.length(digits) + up
        d_digits = T.length(frac) + down + lit(1)
        over = self.p.bind(exp.or_(n_digits > lit(self.caps.num), d_digits > lit(self.caps.den)))
        ok = exp.not_(over)
        scale_up = exp.cast(T.concat(lit("1"), exp.func("repeat", lit("0"), up)), BIG)
        scale_down = exp.cast(T.concat(lit("1"), exp.func("repeat", lit("0"), T.length(frac) + down)), BIG)
        num = case((ok, exp.cast(case((digits.eq(lit("")), lit("0")), default=digits), BIG) * scale_up))
        den = case((ok, scale_down))
        return num, den, over

    def split_cmp(self, text) -> tuple:
        t = self.p.bind(T.normalize(self._text(text)))
        hit = self.p.bind(T.matches(t, T.CMP_RE))
        op = T.extract(t, T.CMP_RE, 1)
        canonical = case((op.isin(lit("≥"), lit("≧")), lit(">=")), (op.isin(lit("≤"), lit("≦")), lit("<=")), default=op)
        return SText(self, self.p.bind(case((hit, canonical)))), SText(self, self.p.bind(case((hit, T.strip(T.extract(t, T.CMP_RE, 2))), default=T.strip(t))))

    def target_number(self, body) -> SQty:
        """units.target_number: digits then a unit, as the rulebook writes a literal; else NULL."""
        t = self.p.bind(T.normalize(self._text(body)))
        rest = T.extract(t, T.LEAD_RE, 3)
        ok = self.p.bind(exp.and_(T.matches(t, T.LEAD_RE), exp.not_(exp.func("starts_with", rest, lit(".")))))
        whole = T.extract(t, T.LEAD_RE, 1)
        frac = exp.Substring(this=T.extract(t, T.LEAD_RE, 2), start=lit(2))
        unit = self.p.bind(T.strip(rest))
        num, den, over = self._digits(whole, frac, unit)
        self.overflow.append(exp.and_(ok, over))
        dim, _ = T.unit_reading(unit)
        null = exp.null()
        return SQty(
            SText(self, self.p.bind(case((ok, dim)))), SText(self, case((ok, unit))),
            SNum(self, self.p.bind(case((ok, num))), self.p.bind(case((ok, den))), self.caps.num, self.caps.den),
            SNum(self, null, null, 1, 1), SText(self, case((ok, t))), SText(self, null),
        )

    def count(self, text) -> SNum:
        """units.count_of: a whole number written as digits, else NULL."""
        if text is None or isinstance(text, SNull):
            return SNum(self, exp.null(), exp.null(), 1, 1)
        t = self.p.bind(T.clean(self._text(text)))
        ok = T.matches(t, T.COUNT_RE)
        self.overflow.append(exp.and_(ok, T.length(t) > lit(self.caps.num)))
        value = case((exp.and_(ok, T.length(t) <= lit(self.caps.num)), exp.cast(t, BIG)))
        return SNum(self, self.p.bind(value), case((ok, big(1))), self.caps.num, 1)

    def compare(self, value: SQty, op, target: SQty) -> SBool:
        """value op target: dates as periods, words as words, numbers exactly."""
        ops = (">=", "<=", ">", "<", "=")
        fixed = op.e.this if isinstance(op, SText) and isinstance(op.e, exp.Literal) else None

        def pick(table):
            if fixed is not None:
                return table[fixed]
            return case(*[(self._text(op).eq(lit(o)), table[o]) for o in ops[:-1]], default=table["="])

        vs, ve, ts, te = value.start, value.value, target.start, target.value
        dates = pick({
            ">=": self.order(">=", vs, ts).e, ">": self.order(">", vs, te).e, "<=": self.order("<=", ve, te).e,
            "<": self.order("<", ve, ts).e, "=": exp.and_(self.order("<=", ts, vs).e, self.order("<=", ve, te).e),
        })
        same_words = exp.NullSafeEQ(this=T.clean(fn_coalesce_text(value.words)), expression=T.clean(fn_coalesce_text(target.words)))
        words = pick({o: (same_words if o == "=" else lit(False)) for o in ops})
        v, t = value.value, target.value
        numbers = pick({o: self.order(o, v, t).e if o != "=" else self.eq(v, t).e for o in ops})
        dim = self._text(value.dim)
        return SBool(self, case((dim.eq(lit(DATE)), dates), (dim.eq(lit(TEXT)), words), default=numbers))


def fn_coalesce_text(x) -> exp.Expression:
    return exp.func("coalesce", x.e if isinstance(x, SText) else exp.null(), lit(""))


def _st(b, x):
    if isinstance(x, str):
        return b.text(x)
    if x is None or isinstance(x, SNull):
        return SText(b, exp.null())
    return x


__all__ = ["SqlOps", "NULL"]
