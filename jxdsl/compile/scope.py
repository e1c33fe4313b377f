"""A project's facts, derived values and records as the kernel reads them in SQL (``PyScope`` and
``PyRecord`` are the interpreter's side of the same protocol)."""
from __future__ import annotations

from sqlglot import exp

from jxdsl import ir
from jxdsl.compile.plan import Plan
from jxdsl.kernel.pyscope import derived_step, fact_problem
from jxdsl.kernel.sql import SBool, SNum, SText
from jxdsl.kernel.sqltext import big
from jxdsl.kernel.values import Valued, evaluate
from jxdsl.lower import names, needed


class SqlScope:
    """Facts from the ``f{i}_v/_n/_l`` columns; derived values computed (once) where first read."""

    def __init__(self, b, plan: Plan):
        self.b = b
        self.plan = plan
        self.scheme = plan.scheme
        self.digits = plan.scheme.digits
        self._derived = {d.name: d for d in plan.scheme.derived}
        self._facts: dict[str, tuple] = {}
        self._values: dict[str, tuple] = {}
        self._lines: dict = {}
        self.graph = self._derived

    def _fact(self, name: str):
        if name not in self._facts:
            b = self.b
            i = self.plan.fact_index(name)
            text = SText(b, exp.column(f"f{i}_v"))
            b.lexicon_column(f"f{i}_v", f"f{i}_v_")
            given = b.let(SBool(b, exp.func("coalesce", exp.column(f"f{i}_n") >= exp.Literal.number(1), exp.false())))
            parsed = b.let(b.parse(text))
            ftype = self.scheme.facts.get(name)
            bad = fact_problem(b, b.text(name), b.text(ftype.value) if ftype else b.null, parsed, text)
            ok = b.let(b.all(given, b.not_(b.is_null(text)), b.is_null(bad[0] if isinstance(bad, tuple) else bad)))
            q = b.let(b.cases((ok, parsed), default=b.null_qty))
            self._facts[name] = (ok, b.let(b.all(given, b.not_(ok))), q, SNum(b, exp.column(f"f{i}_l"), big(1), 18, 1, dc=1))
        return self._facts[name]

    def _value(self, name: str):
        if name not in self._values:
            for n in needed(self._derived, [name]):  # inputs first: no recursion along a chain
                if n not in self._values:
                    self._values[n] = self._compute(n)
        return self._values[name]

    def _compute(self, name: str):
        b = self.b
        d = self._derived[name]
        refs = list(dict.fromkeys(names(d.expr)))
        inputs = b.let(b.all(*[self.present(r) for r in refs]))
        env = {r: Valued(self.q(r)) for r in refs}
        got = evaluate(b, d.expr, env)
        problem = b.let(b.cases((inputs, got.problem), default=None))
        ok = b.let(b.all(inputs, b.is_null(problem)))
        q = b.let(b.cases((ok, got.q), default=b.null_qty))
        step = derived_step(b, d, env, q, self.digits)
        step.when = ok
        return ok, q, step, problem

    # -- the scope protocol (kernel/sources.py)
    def is_derived(self, name: str) -> bool:
        return name in self._derived

    def derived_expr(self, name: str) -> ir.Expr:
        return self._derived[name].expr

    def present(self, name: str):
        return self._value(name)[0] if name in self._derived else self._fact(name)[0]

    def rejected(self, name: str):
        return self.b.flag(False) if name in self._derived else self._fact(name)[1]

    def q(self, name: str):
        return self._value(name)[1] if name in self._derived else self._fact(name)[2]

    def value_step(self, name: str):
        return self._value(name)[2] if name in self._derived else None

    def derived_problem(self, name: str):
        """The problem computing a derived value whose inputs are all there, or NULL."""
        return self._value(name)[3]

    def line(self, name: str):
        if name not in self._derived:
            return self._fact(name)[3]
        for n in needed(self._derived, [name]):
            if n not in self._lines:
                refs = dict.fromkeys(names(self._derived[n].expr))
                line = self.b.coalesce(*[self._lines[r] if r in self._derived else self._fact(r)[3] for r in refs])
                self._lines[n] = self.b.let(line) if any(r in self._derived for r in refs) else line
        return self._lines[name]


class SqlRecord:
    """The record of target ``t`` from the ``r{t}_…`` columns (see ``records.pivot``)."""

    def __init__(self, b, t: int, items: list[str] | None = None):
        self.b, self.t = b, t
        self.items = items or []
        b.lexicon_column(f"r{t}_score", f"r{t}_score_")
        b.lexicon_column(f"r{t}_cnt", f"r{t}_cnt_")
        b.lexicon_column(f"r{t}_wt", f"r{t}_wt_")

    def _c(self, suffix: str) -> exp.Column:
        return exp.column(f"r{self.t}_{suffix}")

    def _text(self, suffix: str) -> SText:
        return SText(self.b, self._c(suffix))

    def _flag(self, suffix: str) -> SBool:
        return SBool(self.b, exp.func("coalesce", self._c(suffix), exp.false()))

    @property
    def present(self):
        return self._flag("p")

    @property
    def line(self):
        return SNum(self.b, self._c("l"), big(1), 18, 1, dc=1)

    @property
    def tier(self):
        return self._text("tier")

    @property
    def score(self):
        return self._text("score")

    @property
    def weight_text(self):
        return self._text("wt")

    @property
    def note(self):
        b = self.b
        return b.cases((b.eq(self._text("note"), b.text("")), b.null), default=self._text("note"))

    @property
    def na_text(self):
        return self._text("na")

    @property
    def na(self):
        from jxdsl.kernel.tree import flag

        return flag(self.b, self.na_text)

    @property
    def occurred(self):
        return self._text("occ")

    @property
    def count_text(self):
        return self._text("cnt")

    @property
    def count_given(self):
        return self.b.not_(self.b.is_null(self.count_text))

    # 扣分
    @property
    def findings_given(self):
        return self._flag("fg")

    @property
    def findings_bad(self):
        return self._text("fb")

    @property
    def findings_count(self):
        return SNum(self.b, exp.cast(exp.func("coalesce", self._c("fc"), exp.Literal.number(0)), "DECIMAL(38,0)"), big(1), 6, 1, dc=1)

    @property
    def findings_text(self):
        return SText(self.b, exp.func("coalesce", self._c("ft"), exp.Literal.string("")))

    # 清单
    @property
    def met_given(self):
        return self._flag("mg")

    @property
    def unmet_given(self):
        return self._flag("ug")

    @property
    def met_all(self):
        return self._flag("ma")

    @property
    def unmet_listed(self):
        return self._flag("ul")

    @property
    def met_dups(self):
        return self._text("md")

    @property
    def unmet_dups(self):
        return self._text("ud")

    @property
    def overlap(self):
        return self._text("ov")

    def unknown_met(self, items):
        return self._text("mu")

    def unknown_unmet(self, items):
        return self._text("uu")

    def in_met(self, item: str):
        return self._flag(f"im{self.items.index(item)}")

    def in_unmet(self, item: str):
        return self._flag(f"iu{self.items.index(item)}")

    # 问卷
    @property
    def survey_given(self):
        return self._flag("sg")

    def survey_problem(self, options):
        return self._text("sk"), self._text("so"), self._text("st")

    def option_total(self, option: str):
        from jxdsl.kernel.sql import NUM_DIGITS

        if not getattr(self, "_digits_noted", False):
            self.b.num_digits.append(exp.Add(this=self._c("sd"), expression=self._c("sn")))
            self._digits_noted = True
        return SNum(self.b, self._c(f"o{self.items.index(option)}"), big(1), NUM_DIGITS, 1, dc=1)

    @property
    def questions(self):
        return SNum(self.b, exp.cast(self._c("q"), "DECIMAL(38,0)"), big(1), 6, 1, dc=1)

    @property
    def overflow(self):
        return self._flag("sx")
