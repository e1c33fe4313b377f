"""Values a rule reads: facts, derived values, 取 expressions and surveys, with units, staged.

``evaluate`` computes an IR expression exactly and checks its units the way ``formulas.dimension``
describes them in the language guide; a value that cannot be computed comes back as a ``Problem``
(missing or invalid) with the message every engine prints.
"""
from __future__ import annotations

from typing import Any

import attrs

from jxdsl import ir
from jxdsl.units import DATE, PERCENT, TEXT, percent_hint

MISSING, INVALID = "missing", "invalid"
FILL_HINT = "在事实文件的“事实”下填写，数值带单位"
OP_SIGN = {ir.Arith.ADD: "+", ir.Arith.SUB: "-", ir.Arith.MUL: "×", ir.Arith.DIV: "÷"}


@attrs.define
class Problem:
    """Why a value or a score cannot be computed: status (missing|invalid), message, hint.

    ``code``/``arg`` name a suggestion the hint pass may add (a misspelt tier, item or fact)."""

    status: Any
    message: Any
    hint: Any = None
    code: Any = None
    arg: Any = None


@attrs.define
class Step:
    """One recorded step: its kind, its data (formatted text, numbers, flags) and when it applies.

    ``data`` may be a thunk: PY then computes it only for the steps that apply."""

    kind: str
    data: Any
    when: Any = True

    def payload(self) -> dict:
        return self.data() if callable(self.data) else self.data


@attrs.define
class Valued:
    """A value (a quantity), or why there is none, and the steps that explain it."""

    q: Any
    problem: Any = None
    steps: list = attrs.Factory(list)


def missing(b, message, hint=None, code=None, arg=None) -> Problem:
    return Problem(b.text(MISSING), message, hint, code, arg)


def invalid(b, message, hint=None, code=None, arg=None) -> Problem:
    return Problem(b.text(INVALID), message, hint, code, arg)


def first_problem(b, *problems) -> Problem | None:
    """The first of several problems that is there (each may be a thunk, tried in order)."""
    return b.problems(*problems)


# ---- expressions --------------------------------------------------------------------------------
def formula_text(e: ir.Expr, name_of=None, parent: int = 0) -> str:
    """The expression as the rulebook writes it (static text)."""
    return _print(e, name_of or (lambda n: n), parent)


def _print(e, name_of, parent: int = 0):
    if isinstance(e, ir.Const):
        return e.text
    if isinstance(e, ir.Name):
        return name_of(e.name)
    if isinstance(e, ir.WeightRef):
        return name_of("分值")
    if isinstance(e, ir.Neg):
        return "-" + _print(e.operand, name_of, 3)
    if isinstance(e, ir.Call):
        return f"{e.func.value}({', '.join(_print(a, name_of) for a in e.args)})"
    if isinstance(e, ir.Compare):
        return f"{_print(e.left, name_of, 1)} {e.op.sign} {_print(e.right, name_of, 1)}"
    prec = 1 if e.op in (ir.Arith.ADD, ir.Arith.SUB) else 2
    text = f"{_print(e.left, name_of, prec)} {OP_SIGN[e.op]} {_print(e.right, name_of, prec + 1)}"
    return f"({text})" if prec < parent else text


def substituted(b, e: ir.Expr, env: dict, digits: int):
    """The expression with every name replaced by its shown value (staged text)."""
    pieces: list = []

    def name_of(n: str) -> str:
        pieces.append(n)
        return "\0"

    template = _print(e, name_of)
    parts = template.split("\0")
    out = [b.text(parts[0])] if parts[0] else []
    for n, rest in zip(pieces, parts[1:]):
        value = env.get(n)
        out.append(b.show(value.q, digits) if value is not None else b.text(n))
        if rest:
            out.append(b.text(rest))
    return b.concat(*out) if out else b.text("")


def _is_ratio(e) -> bool:
    """A share (shown with %): a division, not by or of a bare number (x ÷ 3 is a plain number)."""
    if isinstance(e, ir.BinOp) and e.op is ir.Arith.DIV:
        return not (bare(e.left) or bare(e.right))
    return isinstance(e, ir.Call) and any(_is_ratio(a) for a in e.args)


def _is_zero(e: ir.Compare) -> bool:
    return any(isinstance(s, ir.Const) and s.value == 0 and s.dim != DATE for s in (e.left, e.right))


@attrs.define
class _Node:
    """A sub-expression while evaluating: value, dimension, the first unit error met, and
    whether a division by zero happened in it (a unit error anywhere is reported first)."""

    value: Any
    dim: Any
    error: Any  # staged text or null
    zero: Any  # staged flag
    pct: Any = False  # a percentage (unitcheck.kind is "%"): a bare number may not meet it


def evaluate(b, e: ir.Expr, env: dict, weight=None) -> Valued:
    """The exact value of ``e`` over ``env`` (name → Valued with every name present).

    Units are checked as they go; division by zero and unit errors become an invalid Problem."""
    if isinstance(e, ir.Const):
        return Valued(b.const_qty(e))
    if isinstance(e, ir.Name):
        return Valued(env[e.name].q)
    if isinstance(e, ir.WeightRef):
        return Valued(b.qty(weight, b.text(""), b.text(""), b.plain(weight, 4)))
    if isinstance(e, ir.Neg) and isinstance(e.operand, ir.Const):
        c = e.operand
        return Valued(b.qty(b.num(-c.value), b.text(c.dim), b.text(c.unit), b.text(f"-{c.text}")))
    node = _eval(b, e, env, weight)
    value = b.let(node.value)
    error = b.let(b.cases(
        (lambda: b.not_(b.is_null(node.error)), lambda: node.error),
        (node.zero, lambda: b.text(f"计算“{formula_text(e)}”时出现除数为零")),
        default=b.null,
    ))
    if isinstance(e, ir.Compare):
        q = lambda: b.qty(b.cases((value, b.num(1)), default=b.num(0)), b.text("真假"), b.text(""), b.cases((value, b.text("是")), default=b.text("否")))  # noqa: E731
    else:
        q = lambda: b.qty(value, node.dim, _unit(b, e, env, node.dim), b.text(""))  # noqa: E731
    problem = b.cases((lambda: b.not_(b.is_null(error)), lambda: invalid(b, error)), default=None)
    return Valued(b.cases((lambda: b.is_null(error), q), default=b.null_qty), problem)


def _bad(b, n: _Node):
    return b.any(b.not_(b.is_null(n.error)), n.zero)


def _eval(b, e, env, weight) -> _Node:
    """Value, dimension, first unit error and division-by-zero flag of a sub-expression.

    PY computes a value only where nothing went wrong below it (it would crash on None)."""
    no = b.flag(False)
    if isinstance(e, ir.Const):
        return _Node(b.num(e.value), b.text(e.dim), b.null, no, b.flag(e.unit in PERCENT))
    if isinstance(e, ir.Name):
        q = env[e.name].q
        return _Node(q.value, q.dim, b.null, no, is_percent(b, q))
    if isinstance(e, ir.WeightRef):
        return _Node(weight, b.text(""), b.null, no, no)
    if isinstance(e, ir.Neg):
        inner = _eval(b, e.operand, env, weight)
        return _Node(b.unless(_bad(b, inner), lambda: -inner.value), inner.dim, inner.error, inner.zero, inner.pct)
    if isinstance(e, ir.Call):
        return _call(b, e, [_eval(b, a, env, weight) for a in e.args])
    left, right = _eval(b, e.left, env, weight), _eval(b, e.right, env, weight)
    a, c = left.dim, right.dim
    below = b.coalesce(left.error, right.error)
    zero = b.any(left.zero, right.zero)
    text = b.any(b.eq(a, b.text(TEXT)), b.eq(c, b.text(TEXT)))
    if isinstance(e, ir.Compare) or e.op in (ir.Arith.ADD, ir.Arith.SUB):
        compare = isinstance(e, ir.Compare)
        verb = "比较" if compare else "相加减"
        if compare and _is_zero(e):
            excused = b.all(b.any(b.eq(a, b.text("")), b.eq(c, b.text(""))), b.not_(b.eq(a, b.text(DATE))), b.not_(b.eq(c, b.text(DATE))))
        else:
            excused = no
        error = b.let(b.cases(
            (lambda: b.not_(b.is_null(below)), lambda: below),
            (text, b.text("文字不能参加计算")),
            (b.all(b.not_(b.eq(a, c)), b.not_(excused)), lambda: b.concat(b.text("单位不一致，不能" + verb + "："), b.describe_dim(a), b.text(" 与 "), b.describe_dim(c))),
            *(_bare_branches(b, e, left, right) if compare else []),
            default=b.null,
        ))
        bad = b.any(b.not_(b.is_null(error)), zero)
        if compare:
            return _Node(b.unless(bad, lambda: _compare(b, e.op, left.value, right.value)), b.text("真假"), error, zero, no)
        op = (lambda: left.value + right.value) if e.op is ir.Arith.ADD else (lambda: left.value - right.value)
        return _sized(b, e, _Node(b.unless(bad, op), a, error, zero, b.any(left.pct, right.pct)))
    date = b.any(b.eq(a, b.text(DATE)), b.eq(c, b.text(DATE)))
    error = b.let(b.cases(
        (lambda: b.not_(b.is_null(below)), lambda: below),
        (text, b.text("文字不能参加计算")),
        (date, b.text("日期不能相乘除")),
        default=b.null,
    ))
    bad = b.any(b.not_(b.is_null(error)), zero)
    if e.op is ir.Arith.MUL:
        dim = b.cases((b.eq(a, b.text("")), c), (b.eq(c, b.text("")), a), default=lambda: b.concat(a, b.text("·"), c))
        return _sized(b, e, _Node(b.unless(bad, lambda: left.value * right.value), dim, error, zero, no))
    dim = b.cases((b.eq(a, c), b.text("")), (b.eq(c, b.text("")), a), default=lambda: b.concat(a, b.text("/"), c))
    zero = b.let(b.any(zero, b.all(b.not_(bad), lambda: b.eq(right.value, b.num(0)))))
    bad = b.any(b.not_(b.is_null(error)), zero)
    ratio = no if bare(e.left) or bare(e.right) else b.eq(a, c)  # a share of like quantities
    return _sized(b, e, _Node(b.unless(bad, lambda: left.value / right.value), dim, error, zero, ratio))


def _sized(b, e, node: _Node) -> _Node:
    """A result too long to compute with further is an error, not a hang (``Py.too_big``)."""
    from jxdsl.kernel.stage import MAX_VALUE_DIGITS

    big = b.let(b.all(b.is_null(node.error), b.not_(node.zero), lambda: b.too_big(node.value)))
    error = b.cases((big, b.text(f"计算“{formula_text(e)}”的结果超过 {MAX_VALUE_DIGITS} 位数字")), default=node.error)
    return _Node(node.value, node.dim, error, node.zero, node.pct)


def bare(e) -> ir.Const | None:
    """A number written without a unit (not 0), as ``unitcheck.bare``."""
    inner = e.operand if isinstance(e, ir.Neg) else e
    if isinstance(inner, ir.Const) and inner.unit == "" and inner.dim == "" and inner.value != 0:
        return inner
    return None


def is_percent(b, q):
    """Whether a value is a percentage: given with %/‰, or computed as a share (shown with %)."""
    return b.in_(q.unit, tuple(PERCENT))


def bare_problem(b, value_q, target: ir.Expr, what: str) -> Problem | None:
    """A rule's bare target (满分=100, ≥20, 分段 ≥90) against a percentage value, found when scoring
    because the value's kind was not known before (``unitcheck`` rejects the known ones)."""
    number = bare(target)
    if number is None:
        return None
    n = target.text if isinstance(target, ir.Const) else f"-{number.text}"
    return b.cases((lambda: is_percent(b, value_q), lambda: invalid(
        b, b.concat(b.text(f"{what}是百分数（"), b.show(value_q, 2), b.text(f"），{n} 没有写 %")), b.text(percent_hint(n)),
    )), default=None)


def _bare_branches(b, e: ir.Compare, left: _Node, right: _Node) -> list:
    out = []
    for side, other, node in ((e.left, e.right, right), (e.right, e.left, left)):
        number = bare(side)
        if number is not None and bare(other) is None:
            n = side.text if isinstance(side, ir.Const) else f"-{number.text}"
            out.append((node.pct, b.text(f"“{formula_text(other)}”是百分数，{n} 没有写 %（" + percent_hint(n) + "）")))
    return out


def _call(b, e: ir.Call, args: list[_Node]) -> _Node:
    below = b.coalesce(*[a.error for a in args])
    zero = b.any(*[a.zero for a in args])
    dims = [a.dim for a in args]
    mixed = b.any(*[b.not_(b.eq(d, dims[0])) for d in dims[1:]]) if len(dims) > 1 else b.flag(False)
    error = b.let(b.cases(
        (lambda: b.not_(b.is_null(below)), lambda: below),
        (mixed, lambda: b.concat(b.text(f"{e.func.value}() 的各项单位不一致："), b.dims_text(dims))),
        default=b.null,
    ))
    pick = b.min if e.func is ir.Extreme.MIN else b.max

    def value():
        out = args[0].value
        for a in args[1:]:
            out = pick(out, a.value)
        return out

    return _Node(b.unless(b.any(b.not_(b.is_null(error)), zero), value), dims[0], error, zero, b.any(*[a.pct for a in args]))


def _compare(b, op: ir.Cmp, x, y):
    if op is ir.Cmp.GE:
        return x >= y
    if op is ir.Cmp.LE:
        return x <= y
    if op is ir.Cmp.GT:
        return x > y
    if op is ir.Cmp.LT:
        return x < y
    return b.eq(x, y)


def _unit(b, e: ir.Expr, env: dict, dim):
    """The unit a computed value is shown in: % for a ratio, else the unit of its first like input."""
    level = set(_level_names(e))  # a plain result keeps % only from names it adds or picks
    refs = [(env[n].q, n in level) for n in _names(e) if n in env]
    branches = [(b.all(b.eq(q.dim, dim), b.flag(True) if kept else b.not_(b.eq(dim, b.text("")))), q.unit) for q, kept in refs]
    if _is_ratio(e):
        return b.cases((b.eq(dim, b.text("")), b.text("%")), *branches, default=lambda: _dim_unit(b, dim))
    return b.cases(*branches, default=lambda: _dim_unit(b, dim))


def _level_names(e) -> list[str]:
    if isinstance(e, ir.Name):
        return [e.name]
    if isinstance(e, ir.Neg):
        return _level_names(e.operand)
    if isinstance(e, ir.Call):
        return [n for a in e.args for n in _level_names(a)]
    if isinstance(e, ir.BinOp) and e.op in (ir.Arith.ADD, ir.Arith.SUB):
        return _level_names(e.left) + _level_names(e.right)
    return []


def _dim_unit(b, dim):
    return b.cases((b.any(b.eq(dim, b.text("")), b.eq(dim, b.text("真假"))), b.text("")), default=dim)


def _names(e) -> list[str]:
    from jxdsl.lower import names

    return list(dict.fromkeys(names(e)))
