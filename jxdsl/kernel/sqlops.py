"""Quantity and text operations of the SQL backend (the SQL side of ``stage.Py``'s primitives)."""
from __future__ import annotations

import attrs
from sqlglot import exp

from jxdsl.kernel import sqlnodes as N
from jxdsl.kernel import sqltext as T
from jxdsl.kernel.sql import _NO, DEN_DIGITS, NULL, NUM_DIGITS, SBool, SNull, SNum, SQty, Sql, SText, _const
from jxdsl.kernel.stage import PY
from jxdsl.kernel.sqlnodes import big, case, lit
from jxdsl.units import DATE, TEXT


class SqlOps(Sql):
    """The SQL backend with quantities: reading, comparing and showing them.

    A primitive whose inputs are all constants (a rulebook's literals) is computed by ``PY`` and
    becomes a constant: the same definition, and a query without dead expressions."""

    def _lift(self, q) -> SQty:
        """A Python quantity (or None) as a constant SQty."""
        if q is None:
            out = self.null_qty
            out.py = None
            return out
        start = self.num(q.start) if q.start is not None else SNum(self, N.null(), N.null(), 1, 1)
        return SQty(self.text(q.dim), self.text(q.unit), self.num(q.value), start, self.text(q.text), self.text(q.words) if q.words is not None else SText(self, N.null()), py=q)

    def _consts(self, *xs):
        cs = [_const(x) for x in xs]
        return None if any(c is _NO for c in cs) else cs

    # -- text
    def concat(self, *parts) -> SText:
        es = []
        for p in parts:
            e = self._text(p)
            if es and isinstance(e, exp.Literal) and isinstance(es[-1], exp.Literal) and e.is_string and es[-1].is_string:
                es[-1] = lit(es[-1].this + e.this)
            else:
                es.append(e)
        return SText(self, N.concat(*es) if len(es) > 1 else es[0])

    def join(self, sep: str, parts) -> SText:
        parts = [p for p in parts if p is not None and not isinstance(p, SNull)]
        cs = self._consts(*parts)
        if cs is not None:
            return self.text(PY.join(sep, cs))
        es = [self._text(p) for p in parts]
        if not es:
            return self.text("")
        return SText(self, self.p.bind(N.func("concat_ws", lit(sep), *es)))

    def contains(self, text, part) -> SBool:
        """stage.Py.contains: ``part`` occurs in ``text`` (NULL in either: false)."""
        cs = self._consts(text, part)
        if cs is not None:
            return self.flag(PY.contains(*cs))
        found = N.gt(N.func("strpos", self._text(text), self._text(part)), lit(0))
        return SBool(self, N.coalesce(found, lit(False)))

    def too_big(self, x) -> SBool:
        """Never in SQL: a value wider than any DECIMAL fails the width check, and the project is
        scored by the interpreter, which reports it (``Py.too_big``)."""
        return self.flag(False)

    def strip(self, text) -> SText:
        cs = self._consts(text)
        if cs is not None:
            return self.text(cs[0].strip()) if cs[0] is not None else SText(self, N.null())
        return SText(self, self.p.bind(T.strip(self._text(text))))

    def normalize(self, text) -> SText:
        cs = self._consts(text)
        if cs is not None:
            return self.text(PY.normalize(cs[0])) if cs[0] is not None else SText(self, N.null())
        return SText(self, self.p.bind(T.clean(self._text(text))))

    def number_problem(self, text) -> SText:
        """units.number_problem: why a text that begins as a number is not one, or NULL."""
        cs = self._consts(text)
        if cs is not None:
            got = PY.number_problem(cs[0])
            return self.text(got) if got is not None else SText(self, N.null())
        lex = self._lex(text)
        if lex is not None and lex[1] == "x":  # read once per distinct text (a fact's value)
            return SText(self, N.column(lex[0] + "p_problem"))
        return self.read_number_problem(self._text(text))

    def read_number_problem(self, raw) -> SText:
        return SText(self, self.p.bind(T.number_problem(T.clean(raw))))

    def int_text(self, n) -> SText:
        n = self.num(n)
        if n.const is not None:
            return self.text(str(int(n.const)))
        return SText(self, N.text_of(N.idiv(n.num, n.den)))

    def _memo(self, key, make):
        memo = self.__dict__.setdefault("_shown", {})
        if key not in memo:
            memo[key] = make()
        return memo[key]

    def fixed(self, num, den, digits: int):
        """units.to_decimal, with the quotient computed once (a column)."""
        scale = big(10**digits)
        q = self.p.bind(N.idiv(N.add(N.mul(N.mul(big(2), N.func("abs", num)), scale), den), N.mul(big(2), den)))
        sign = case((N.lt(num, big(0)), lit("-")), default=lit(""))
        if not digits:
            return N.concat(sign, N.text_of(q))
        frac = N.func("lpad", N.text_of(N.mod(q, scale)), lit(digits), lit("0"))
        return self.p.bind(N.concat(sign, N.text_of(N.idiv(q, scale)), lit("."), frac))

    def _plain(self, num, den, digits: int):
        text = self.fixed(num, den, digits)
        if digits:
            text = N.trim(N.trim(text, "0", "TRAILING"), ".", "TRAILING")
        return self.p.bind(case((N.eq(text, lit("-0")), lit("0")), default=text))

    def plain(self, x, digits: int) -> SText:
        if x is None or isinstance(x, SNull):
            return SText(self, N.null())
        x = self.num(x)
        if x.const is not None:
            from jxdsl.units import plain

            return self.text(plain(x.const, digits))
        if isinstance(x.num, exp.Null):
            return SText(self, N.null())
        self._width(x.nb + digits + 1, x.db + 1)
        return self._memo(("plain", id(x.num), id(x.den), digits), lambda: SText(self, self._plain(x.num, x.den, digits)))

    def percent(self, x, digits: int) -> SText:
        x = self.num(x)
        if x.const is not None:
            return self.text(PY.percent(x.const, digits))
        if isinstance(x.num, exp.Null):
            return SText(self, N.null())
        self._width(x.nb + digits + 7, x.db + 1)

        def make():
            hundred = self.p.bind(N.mul(x.num, big(100)))
            small = N.and_(N.not_(N.eq(x.num, big(0))), N.lt(N.func("abs", hundred), x.den))
            body = case((small, self.fixed(hundred, x.den, digits + 2)), default=self.fixed(hundred, x.den, digits))
            return SText(self, self.p.bind(N.concat(body, lit("%"))))

        return self._memo(("percent", id(x.num), id(x.den), digits), make)

    def describe_dim(self, dim) -> SText:
        cs = self._consts(dim)
        if cs is not None and cs[0] is not None:
            return self.text(PY.describe_dim(cs[0]))
        return SText(self, self.p.bind(T.describe_dim(self._text(dim))))

    def dims_text(self, dims) -> SText:
        cs = self._consts(*dims)
        if cs is not None and None not in cs:
            return self.text(PY.dims_text(cs))
        listed = exp.Array(expressions=[self._text(d) for d in dims])
        distinct = exp.ArraySort(this=N.func("list_distinct", listed))
        described = N.func("list_transform", distinct, exp.Lambda(this=T.describe_dim(exp.to_identifier("d")), expressions=[exp.to_identifier("d")]))
        return SText(self, self.p.bind(N.func("array_to_string", described, lit("、"))))

    def show(self, q, digits: int) -> SText:
        """formulas.show: as written (normalized), or in its unit with ``digits`` decimals."""
        if q is None or isinstance(q, SNull):
            return SText(self, N.null())
        if q.py is not _NO:
            return self.text(PY.show(q.py, digits)) if q.py is not None else SText(self, N.null())
        self._width(q.value.nb + max(digits, 6) + 5, q.value.db + 10)
        key = ("show", id(q.dim), id(q.value.num), id(q.text), digits)
        return self._memo(key, lambda: SText(self, self._show(q, digits)))

    def _show(self, q, digits: int):
        bind = self.p.bind
        dim, unit, text, words = self._text(q.dim), self._text(q.unit), self._text(q.text), self._text(q.words)
        num, den = q.value.num, q.value.den
        parts = self._memo(("show_parts", id(q.dim), id(q.value.num), id(q.text)), lambda: self._show_parts(dim, unit, text, words, num, den))
        written, as_written, shown_pct, p6 = parts
        shown = case((written, N.func("greatest", lit(digits), N.func("least", shown_pct, lit(6)))), default=lit(digits))
        cut = N.add(N.sub(lit(6), shown), case((N.eq(shown, lit(0)), lit(1)), default=lit(0)))
        pct = N.concat(N.substring_expr(p6, lit(1), N.sub(N.length(p6), cut)), unit)
        mfactor = case((N.eq(unit, lit("万元")), big(10_000)), (N.eq(unit, lit("亿元")), big(100_000_000)), default=big(1))
        in_unit = N.mul(den, mfactor)
        own = case(*[(N.eq(shown_pct, lit(k)), N.concat(self.fixed(num, in_unit, k), unit)) for k in range(6)], default=N.concat(self.fixed(num, in_unit, 6), unit))
        money = case((written, own), default=N.concat(self.fixed(num, in_unit, digits), unit))  # units.display: as written
        head = N.substring(unit, 1, 1)
        mult = case((N.eq(head, lit("亿")), big(100_000_000)), default=big(10_000))
        multiplied = N.concat(self._plain(num, N.mul(den, mult), 4), unit)
        display = case(
            (N.eq(dim, lit(TEXT)), case((N.or_(N.is_null(words), N.eq(words, lit(""))), text), default=words)),
            (N.eq(dim, lit(DATE)), text),
            (N.isin(unit, lit("元"), lit("万元"), lit("亿元")), money),
            (N.isin(unit, lit("%"), lit("‰")), pct),
            (N.and_(N.ge(N.length(unit), lit(2)), N.isin(head, lit("万"), lit("亿"))), multiplied),
            default=N.concat(self._plain(num, den, max(digits, 4)), unit),
        )
        computed_pct = N.and_(N.eq(dim, lit("")), N.eq(unit, lit("%")), N.not_(written))
        return bind(case(
            (computed_pct, self.percent(SNum(self, num, den, q.value.nb, q.value.db), digits).e),
            (N.and_(written, N.not_(N.eq(dim, lit("元"))), N.not_(N.eq(dim, lit(TEXT)))), as_written),
            default=display,
        ))

    def _show_parts(self, dim, unit, text, words, num, den):
        bind = self.p.bind
        written = bind(N.and_(N.not_null(text), N.not_(N.eq(text, lit("")))))
        as_written = bind(T.clean(text))
        shown_pct = bind(N.length(T.extract(T.normalize(text), T.DECIMALS_RE, 1)))
        factor = case((N.eq(unit, lit("‰")), big(1000)), default=big(100))
        p6 = self.fixed(N.mul(num, factor), den, 6)
        return written, as_written, shown_pct, p6

    # -- quantities
    @property
    def null_qty(self) -> SQty:
        n = SNum(self, N.null(), N.null(), 1, 1)
        t = SText(self, N.null())
        return SQty(t, t, n, n, t, t)

    def const_qty(self, c) -> SQty:
        return self._lift(PY.const_qty(c))

    def qty(self, value, dim, unit, text) -> SQty:
        cs = self._consts(value, dim, unit, text)
        if cs is not None and cs[0] is not None:
            return self._lift(PY.qty(*cs))
        return SQty(_st(self, dim), _st(self, unit), self.num(value), self.null_qty.start, _st(self, text), SText(self, N.null()))

    # -- reading texts: inline, or from the lexicon (each distinct text read once, ``lexicon.py``)
    QTY_FIELDS = ("dim", "unit", "num", "den", "start", "text", "words", "ndig", "ddig", "over")

    def lexicon_column(self, column: str, prefix: str, role: str = "x") -> None:
        """Declare that the input text column ``column`` has lexicon readings under ``prefix``."""
        self.__dict__.setdefault("lexicon", {})[column] = (prefix, role)

    def _lex(self, text):
        e = text.e if isinstance(text, SText) else None
        if isinstance(e, exp.Column) and not e.table:
            return self.__dict__.get("lexicon", {}).get(e.name)
        return None

    def _from_lexicon(self, prefix: str) -> SQty:
        c = lambda f: N.column(prefix + f)  # noqa: E731
        self.overflow.append(N.coalesce(c("over"), lit(False)))
        return SQty(
            SText(self, c("dim")), SText(self, c("unit")),
            SNum(self, self.guarded(c("num")), self.guarded(c("den")), self.digits_of(c("ndig"), True), self.digits_of(c("ddig"), False)),
            SNum(self, c("start"), case((N.not_null(c("start")), big(1))), 7, 1),
            SText(self, c("text")), SText(self, c("words")),
        )

    def _register(self, got):
        """The quantity read inline, its value bounded by its own digits."""
        q, ndig, ddig, over = got
        v = q.value
        nb = self.digits_of(ndig, True) if ndig is not None else v.nb
        db = self.digits_of(ddig, False) if ddig is not None else v.db
        self.overflow.append(over)
        if v.const is not None:
            return q
        return attrs.evolve(q, value=SNum(self, self.guarded(v.num), self.guarded(v.den), nb, db))

    def parse(self, text) -> SQty:
        """units.parse_quantity: a date, a number with its unit, or words (NULL stays NULL)."""
        if text is None or isinstance(text, SNull):
            return self.null_qty
        cs = self._consts(text)
        if cs is not None:
            return self._lift(PY.parse(cs[0]))
        lex = self._lex(text)
        if lex is not None:
            return self._from_lexicon(lex[0] + ("q_" if lex[1] == "x" else "b_"))
        return self._register(self.read_quantity(self._text(text)))

    def read_quantity(self, raw):
        """(quantity, numerator digits, denominator digits, too long) of a text column, inline."""
        bind = self.p.bind
        t = bind(T.clean(raw))
        dp = {k: bind(v) for k, v in T.date_parts(t).items()}
        y, m, d = dp["y"], dp["m"], dp["d"]
        month_ok = N.and_(N.ge(m, lit(1)), N.le(m, lit(12)))
        last = N.func("day", N.func("last_day", N.func("make_date", y, m, lit(1))))
        day_ok = case((month_ok, N.or_(N.is_null(d), N.and_(N.ge(d, lit(1)), N.le(d, last)))), default=lit(False))
        valid = N.and_(
            N.or_(dp["cn"], dp["iso"]), N.ge(y, lit(1)),
            N.not_(N.and_(dp["cn"], N.is_null(m), N.eq(dp["end_word"], lit("")), N.lt(y, lit(1900)))),
            N.or_(N.is_null(m), day_ok),
        )
        is_date = bind(N.coalesce(valid, lit(False)))
        first = case((N.is_null(m), N.func("make_date", y, lit(1), lit(1))), (N.is_null(d), N.func("make_date", y, m, lit(1))), default=N.func("make_date", y, m, d))
        last_day = case((N.is_null(m), N.func("make_date", y, lit(12), lit(31))), (N.is_null(d), N.func("last_day", N.func("make_date", y, m, lit(1)))), default=N.func("make_date", y, m, d))
        start = case((is_date, T.ordinal(first)))
        end = case((is_date, T.ordinal(last_day)))
        whole, decimals = bind(T.extract(t, T.NUM_RE, 2)), bind(T.extract(t, T.NUM_RE, 3))
        sign = T.extract(t, T.NUM_RE, 1)
        unit = bind(T.extract(t, T.NUM_RE, 4))
        is_num = bind(N.and_(N.not_(is_date), T.matches(t, T.NUM_RE), T.written_ok(whole, decimals, unit)))
        num, den, over, ndig, ddig = self._digits(bind(N.func("replace", whole, lit(","), lit(""))), decimals, unit)
        signed = case((N.eq(sign, lit("-")), N.mul(big(-1), num)), default=num)
        dim, _ = T.unit_reading(unit)
        kind = bind(case((N.is_null(raw), N.null()), (is_date, lit("date")), (is_num, lit("num")), default=lit("text")))
        is_kind = lambda k: N.eq(kind, lit(k))  # noqa: E731
        q = SQty(
            SText(self, bind(case((is_kind("date"), lit(DATE)), (is_kind("num"), dim), (is_kind("text"), lit(TEXT))))),
            SText(self, bind(case((is_kind("num"), unit), (N.not_null(kind), lit(""))))),
            SNum(self, bind(case((is_kind("date"), end), (is_kind("num"), signed), (is_kind("text"), big(0)))), bind(case((is_kind("date"), big(1)), (is_kind("num"), den), (is_kind("text"), big(1)))), NUM_DIGITS, DEN_DIGITS),
            SNum(self, bind(case((is_kind("date"), start))), bind(case((is_kind("date"), big(1)))), 7, 1),
            SText(self, bind(case((is_kind("date"), t), default=raw))),
            SText(self, bind(case((is_kind("text"), t)))),
        )
        return q, bind(case((is_num, ndig), (is_date, lit(7)))), bind(case((is_num, ddig))), bind(N.coalesce(N.and_(is_num, over), lit(False)))

    def _digits(self, whole, frac, unit):
        """(numerator, denominator, too long, digits of each) of digits ``whole.frac`` in ``unit``,
        as a decimal: the unit's power of ten and the decimals cancel (3142.819772万元 = 3142819772/100)."""
        _, power = T.unit_reading(unit)
        bind = self.p.bind
        e = bind(N.sub(power, N.length(frac)))
        digits = bind(N.trim(N.concat(whole, frac), "0", "LEADING"))
        up = case((N.gt(e, lit(0)), e), default=lit(0))
        down = case((N.lt(e, lit(0)), N.mul(lit(-1), e)), default=lit(0))
        n_digits = bind(N.add(N.length(digits), up))
        d_digits = bind(N.add(down, lit(1)))
        over = bind(N.or_(N.gt(n_digits, lit(self.caps.num)), N.gt(d_digits, lit(self.caps.den))))
        ok = N.not_(over)
        ten = lambda k: N.cast(N.concat(lit("1"), N.func("repeat", lit("0"), k)), N.BIG)  # noqa: E731
        num = case((ok, N.mul(N.cast(case((N.eq(digits, lit("")), lit("0")), default=digits), N.BIG), ten(up))))
        den = case((ok, ten(down)))
        return bind(num), bind(den), over, n_digits, d_digits

    def split_cmp(self, text) -> tuple:
        cs = self._consts(text)
        if cs is not None and cs[0] is not None:
            op, body = PY.split_cmp(cs[0])
            return (self.text(op) if op is not None else SText(self, N.null())), self.text(body)
        lex = self._lex(text)
        if lex is not None and lex[1] == "x":
            body = N.column(lex[0] + "c_body")
            self.lexicon_column(lex[0] + "c_body", lex[0], "body")
            return SText(self, N.column(lex[0] + "c_op")), SText(self, body)
        return self.read_cmp(self._text(text))

    def read_cmp(self, raw):
        t = self.p.bind(T.normalize(raw))
        op, rest = T.cmp_parts(t, self.p.bind)
        return SText(self, self.p.bind(op)), SText(self, self.p.bind(rest))

    def target_number(self, body) -> SQty:
        """units.target_number: digits then a unit, as the rulebook writes a literal; else NULL."""
        cs = self._consts(body)
        if cs is not None and cs[0] is not None:
            return self._lift(PY.target_number(cs[0]))
        lex = self._lex(body)
        if lex is not None and lex[1] == "body":
            return self._from_lexicon(lex[0] + "n_")
        return self._register(self.read_target_number(self._text(body)))

    def read_target_number(self, raw):
        t = self.p.bind(T.normalize(raw))
        rest = self.p.bind(T.extract(t, T.LEAD_RE, 3))
        whole = self.p.bind(T.extract(t, T.LEAD_RE, 1))
        frac = self.p.bind(N.substring(T.extract(t, T.LEAD_RE, 2), 2))
        unit = self.p.bind(T.strip(rest))
        ok = self.p.bind(N.and_(T.matches(t, T.LEAD_RE), N.not_(N.eq(N.substring(rest, 1, 1), lit("."))), T.written_ok(whole, frac, unit)))
        num, den, over, ndig, ddig = self._digits(self.p.bind(N.func("replace", whole, lit(","), lit(""))), frac, unit)
        dim, _ = T.unit_reading(unit)
        null = N.null()
        q = SQty(
            SText(self, self.p.bind(case((ok, dim)))), SText(self, case((ok, unit))),
            SNum(self, self.p.bind(case((ok, num))), self.p.bind(case((ok, den))), NUM_DIGITS, DEN_DIGITS),
            SNum(self, null, null, 1, 1), SText(self, case((ok, t))), SText(self, null),
        )
        return q, self.p.bind(case((ok, ndig))), self.p.bind(case((ok, ddig))), self.p.bind(N.coalesce(N.and_(ok, over), lit(False)))

    def count(self, text) -> SNum:
        """units.count_of: a whole number written as digits, else NULL."""
        if text is None or isinstance(text, SNull):
            return SNum(self, N.null(), N.null(), 1, 1)
        cs = self._consts(text)
        if cs is not None:
            n = PY.count(cs[0])
            return self.num(n) if n is not None else SNum(self, N.null(), N.null(), 1, 1)
        lex = self._lex(text)
        if lex is not None and lex[1] == "x":
            p = lex[0]
            self.overflow.append(N.coalesce(N.column(p + "k_over"), lit(False)))
            num = self.guarded(N.column(p + "k_num"))
            return SNum(self, num, case((N.not_null(num), big(1))), self.digits_of(N.column(p + "k_ndig"), True), 1)
        n, ndig, over = self.read_count(self._text(text))
        self.overflow.append(over)
        if n.const is not None:
            return n
        num = self.guarded(n.num)
        return SNum(self, num, case((N.not_null(num), big(1))), self.digits_of(ndig, True), 1)

    def read_count(self, raw):
        t = self.p.bind(T.clean(raw))
        ok = self.p.bind(T.matches(t, T.COUNT_RE))
        value = case((N.and_(ok, N.le(N.length(t), lit(self.caps.num))), N.cast(t, N.BIG)))
        n = SNum(self, self.p.bind(value), case((ok, big(1))), NUM_DIGITS, 1)
        return n, self.p.bind(case((ok, N.length(t)))), self.p.bind(N.coalesce(N.and_(ok, N.gt(N.length(t), lit(self.caps.num))), lit(False)))

    def compare(self, value: SQty, op, target: SQty) -> SBool:
        """value op target: dates as periods, words as words, numbers exactly."""
        cs = self._consts(value, op, target)
        if cs is not None and cs[0] is not None and cs[2] is not None:
            return self.flag(PY.compare(*cs))
        ops = (">=", "<=", ">", "<", "=")
        fixed = op.e.this if isinstance(op, SText) and isinstance(op.e, exp.Literal) else None

        def pick(table):
            if fixed is not None:
                return table[fixed]
            return case(*[(N.eq(self._text(op), lit(o)), table[o]) for o in ops[:-1]], default=table["="])

        vs, ve, ts, te = value.start, value.value, target.start, target.value
        dates = pick({
            ">=": self.order(">=", vs, ts).e, ">": self.order(">", vs, te).e, "<=": self.order("<=", ve, te).e,
            "<": self.order("<", ve, ts).e, "=": N.and_(self.order("<=", ts, vs).e, self.order("<=", ve, te).e),
        })
        same_words = N.nseq(T.clean(_text_or_empty(value.words)), T.clean(_text_or_empty(target.words)))
        words = pick({o: (same_words if o == "=" else lit(False)) for o in ops})
        v, t = value.value, target.value
        numbers = pick({o: self.order(o, v, t).e if o != "=" else self.eq(v, t).e for o in ops})
        dim = self._text(value.dim)
        return SBool(self, self.p.bind(case((N.eq(dim, lit(DATE)), dates), (N.eq(dim, lit(TEXT)), words), default=numbers)))


def _text_or_empty(x) -> exp.Expression:
    return N.coalesce(x.e if isinstance(x, SText) else N.null(), lit(""))


def _st(b, x):
    if isinstance(x, str):
        return b.text(x)
    if x is None or isinstance(x, SNull):
        return SText(b, N.null())
    return x


__all__ = ["SqlOps", "NULL", "SBool"]
