"""One project's inputs as the Python backend reads them: facts, derived values, records.

The SQL engines read the same inputs as columns (``compile.py``); what a value or a record means is
decided in the staged kernel, which both call.
"""
from __future__ import annotations

from fractions import Fraction

from jxdsl import ir
from jxdsl.inputs import ALL, ProjectInputs, Record
from jxdsl.kernel.stage import PY
from jxdsl.kernel.values import Step, Valued, evaluate, formula_text, substituted
from jxdsl.lower import names, needed
from jxdsl.units import NUMBER_HINT, count_of, normalize, parse_quantity


def fact_problem(b, name, ftype, q, text):
    """Why a given fact cannot be used (a wrong kind of value, or beyond any sane bound), or None.

    ``name`` and ``text`` are staged texts; ``ftype`` the declared type's word (金额, 百分比…) or NULL."""
    def want(*words):
        return b.in_(b.coalesce(ftype, b.text("")), words)

    def say(*parts):
        return b.concat(*[b.text(p) if isinstance(p, str) else p for p in parts])

    unreadable = b.number_problem(text)  # 1,50万元 is no amount of 1 (nor words): never misread
    return b.cases(
        (b.not_(b.is_null(unreadable)), lambda: (say("数据“", name, "”：", unreadable), b.text(NUMBER_HINT))),
        (b.all(want("金额"), b.not_(b.eq(q.dim, b.text("元")))), lambda: (say("数据“", name, "”应为金额（元、万元或亿元），实际写的是“", text, "”"), b.text("例如 3180.30万元"))),
        (b.all(want("百分比"), b.not_(b.all(b.eq(q.dim, b.text("")), b.in_(q.unit, ("%", "‰"))))), lambda: (say("数据“", name, "”应为百分数，实际写的是“", text, "”"), b.text("例如 98.82%"))),
        (b.all(want("数值", "数量", "百分比"), b.eq(q.dim, b.text("文本"))), lambda: (say("数据“", name, "”需要数值，实际是文字“", text, "”"), b.text("写成数字和单位，如 24人"))),
        (b.all(want("日期"), b.not_(b.eq(q.dim, b.text("日期")))), lambda: (say("数据“", name, "”应为日期，实际写的是“", text, "”"), b.text("例如 2021年12月 或 2022年底"))),
        (b.all(b.eq(q.dim, b.text("元")), lambda: q.value < b.num(0)), lambda: (say("金额“", name, "”不能为负数：", text), b.null)),
        (b.all(b.in_(q.unit, ("%", "‰")), lambda: b.any(q.value > b.num(10), q.value < b.num(-10))), lambda: (
            say("百分数“", name, "”为 ", text, "，超出合理范围（±1000%）"), b.text("是否多写了一位或漏了小数点？"),
        )),
        default=None,
    )


def derived_step(b, d: ir.Derived, env: dict, value, digits: int) -> Step:
    return Step("value", lambda: {"name": b.text(d.name), "formula": b.text(formula_text(d.expr)), "substituted": substituted(b, d.expr, env, digits), "value": b.show(value, digits)})


class PyScope:
    """Facts parsed and checked, derived values computed, for one project (the Python backend)."""

    b = PY

    def __init__(self, scheme: ir.Scheme, inputs: ProjectInputs):
        self.scheme = scheme
        self.digits = scheme.digits
        self.inputs = inputs
        self.env: dict = {}
        self.rejected_names: set[str] = set()
        self.steps: dict[str, Step] = {}
        self.problems: list[tuple[str, str | None, int | None]] = []  # (message, hint, line)
        self._derived = {d.name: d for d in scheme.derived}
        self._lines: dict[str, int | None] = {}
        self.graph = self._derived
        self._load()

    def _load(self) -> None:
        b = self.b
        for name, fact in self.inputs.facts.items():
            if fact.text is None:
                self.rejected_names.add(name)
                continue
            q = self.quantity(name, fact.text)
            ftype = self.scheme.facts.get(name)
            bad = fact_problem(b, name, ftype.value if ftype else None, q, fact.text)
            if bad is not None:
                self.problems.append((bad[0], bad[1], fact.line))
                self.rejected_names.add(name)
                continue
            self.env[name] = q
        for d in self.scheme.derived:
            refs = names(d.expr)
            if not all(r in self.env for r in refs):
                continue
            env = {r: Valued(self.env[r]) for r in refs}
            got = evaluate(b, d.expr, env)
            if got.problem is not None:
                self.problems.append((f"计算派生值“{d.name}”时：{got.problem.message}", None, self.line(d.name) or self.inputs.facts_line))
                continue
            self.env[d.name] = got.q
            self.steps[d.name] = derived_step(b, d, env, got.q, self.digits)

    def quantity(self, name: str, text: str):
        """A fact's value from its text (``whatif`` puts its unknown in here)."""
        return parse_quantity(text)

    # -- the scope protocol (kernel/sources.py)
    def is_derived(self, name: str) -> bool:
        return name in self._derived

    def derived_expr(self, name: str) -> ir.Expr:
        return self._derived[name].expr

    def present(self, name: str) -> bool:
        return name in self.env

    def rejected(self, name: str) -> bool:
        return name in self.rejected_names

    def q(self, name: str):
        return self.env.get(name)

    def value_step(self, name: str) -> Step | None:
        return self.steps.get(name)

    def line(self, name: str) -> int | None:
        """Where a value was written: a fact's line, or the first given input of a derived value."""
        if name not in self._derived:
            fact = self.inputs.facts.get(name)
            return fact.line if fact is not None else None
        for n in needed(self._derived, [name]):  # inputs first, each once: no recursion along a chain
            if n not in self._lines:
                refs = names(self._derived[n].expr)
                found = (self._lines[r] if r in self._derived else self.line(r) for r in refs)
                self._lines[n] = next((line for line in found if line), None)
        return self._lines[name]


class PyRecord:
    """An evaluator record as the rules read it (``records.RecordView`` in SQL)."""

    def __init__(self, rec: Record | None):
        self.rec = rec
        self.present = rec is not None
        self.line = rec.line if rec is not None else None
        get = rec.text if rec is not None else (lambda _: None)
        self.tier = get("档次")
        self.score = get("得分")
        self.weight_text = get("分值")  # the weight a form prints beside the indicator
        note = get("说明")
        self.note = note if note not in (None, "") else None
        self.na_text = get("不适用")
        self.occurred = get("发生")
        self.count_text = get("次数")

    def has(self, field: str) -> bool:
        return self.rec is not None and self.rec.has(field)

    def _list(self, field: str) -> list[str]:
        if self.rec is None or not self.rec.has(field):
            return []
        entries = self.rec.entries(field)
        if entries is None:
            return [self.rec.text(field)]
        return [e.value for e in entries]

    # -- flags
    @property
    def na(self) -> bool:
        from jxdsl.kernel.tree import flag

        return flag(PY, self.na_text)

    # -- 扣分
    @property
    def findings_given(self) -> bool:
        return self.has("发现")

    @property
    def findings_bad(self) -> str | None:
        return self.rec.text("发现") if self.has("发现") else None

    @property
    def findings_count(self) -> Fraction:
        return Fraction(len(self._list("发现")))

    @property
    def findings_text(self) -> str:
        return "；".join(self._list("发现"))

    @property
    def count_given(self) -> bool:
        return self.has("次数")

    # -- 清单
    @property
    def met_given(self) -> bool:
        return self.has("满足")

    @property
    def unmet_given(self) -> bool:
        return self.has("未满足")

    @property
    def met_all(self) -> bool:
        return self.met_given and self.rec.text("满足") in (ALL, "all")

    def _met(self) -> list[str]:
        return [] if self.met_all else self._list("满足")

    def _unmet(self) -> list[str]:
        text = self.rec.text("未满足") if self.unmet_given else None
        return [] if text in (ALL, "all") else self._list("未满足")

    @property
    def unmet_listed(self) -> bool:
        return self.unmet_given and (self.rec.entries("未满足") is None or bool(self.rec.entries("未满足")))

    @staticmethod
    def _dups(xs: list[str]) -> str | None:
        twice = sorted({x for x in xs if xs.count(x) > 1})
        return "、".join(twice) if twice else None

    @property
    def met_dups(self) -> str | None:
        return self._dups(self._met())

    @property
    def unmet_dups(self) -> str | None:
        return self._dups(self._unmet())

    @property
    def overlap(self) -> str | None:
        both = sorted(set(self._met()) & set(self._unmet()))
        return "、".join(both) if both else None

    def unknown_met(self, items: list[str]) -> str | None:
        return next((x for x in self._met() if x not in items), None)

    def unknown_unmet(self, items: list[str]) -> str | None:
        return next((x for x in self._unmet() if x not in items), None)

    def in_met(self, item: str) -> bool:
        return item in self._met()

    def in_unmet(self, item: str) -> bool:
        return item in self._unmet()

    # -- 问卷
    @property
    def survey_given(self) -> bool:
        return self.has("问卷")

    def _answers(self):
        return self.rec.entries("问卷") or () if self.survey_given else ()

    def survey_problem(self, options: list[str]):
        """(kind, option, text) of the first answer that cannot be counted, in the order written."""
        for e in self._answers():
            if e.option is None:
                return "group", None, e.value
            if e.option not in options:
                return "option", e.option, e.value
            if count_of(e.value) is None:
                return "count", e.option, e.value
        return None, None, None

    def option_total(self, option: str) -> Fraction:
        return sum((count_of(e.value) or Fraction(0) for e in self._answers() if e.option == option), Fraction(0))

    @property
    def questions(self) -> Fraction:
        return Fraction(len({e.question for e in self._answers()}))


EMPTY = PyRecord(None)


def record_index(scheme: ir.Scheme):
    """Every path suffix of every leaf, table and item → the nodes it names (records are matched by
    their key as a path suffix: 监督管理, 过程/监督管理, …)."""
    index: dict[tuple[str, ...], list[tuple[str, ...]]] = {}
    targets = [n.path for n in scheme.walk() if not isinstance(n, ir.Group)]
    targets += [(i.name,) for i in (*scheme.bonus, *scheme.penalty)] + [(v,) for v in scheme.vetoes]
    for path in dict.fromkeys(targets):
        key = tuple(normalize(p) for p in path)
        for k in range(1, len(key) + 1):
            index.setdefault(key[-k:], []).append(path)
    return index, targets


def record_key(key: str) -> tuple[str, ...]:
    return tuple(normalize(key).split("/"))
