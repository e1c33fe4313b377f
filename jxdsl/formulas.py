"""Formulas as sympy expressions built from the AST.  sympy is imported here, inside the functions
that need it (250+ ms of imports; checking and explaining a rulebook mostly does not), and by the
what-if solver (``kernel/symbolic.py``, imported only by ``whatif.solve``).

User text never reaches ``sympify``/``eval``: every node is built from AST nodes, so a
rulebook cannot run code. Values are exact (sympy Rational); units are checked by walking
the AST alongside, because sympy knows nothing of 万元 or 人.
"""
from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from functools import singledispatch

from jxdsl import ast
from jxdsl.errors import FactError, LinkError
from jxdsl.trees import name_text
from jxdsl.units import DATE, TEXT, Quantity, describe_dim, display, normalize, parse_date, percent, with_unit

OP_SIGN = {"+": "+", "-": "-", "*": "×", "/": "÷"}
CMP_SIGN = {">=": "≥", "<=": "≤", ">": ">", "<": "<", "=": "="}
FUNC = {"最小": "Min", "最大": "Max"}  # sympy's names; sympy is imported only where a formula becomes sympy


def literal(node: ast.Number | ast.DateLiteral) -> Quantity:
    """A literal's value in base units."""
    if isinstance(node, ast.DateLiteral):
        q = parse_date(node.text)
        assert q is not None  # the parser rejects invalid dates
        return q
    return with_unit(node.magnitude, node.unit, node.text)


# ---- names a formula uses -------------------------------------------------------------
@singledispatch
def references(node) -> list[ast.Ref]:
    """Every name the expression refers to, in order, with spans."""
    raise TypeError(f"no references() for {type(node).__name__}")


@references.register
def _(node: ast.Number) -> list[ast.Ref]:
    return []


@references.register
def _(node: ast.DateLiteral) -> list[ast.Ref]:
    return []


@references.register
def _(node: ast.Ref) -> list[ast.Ref]:
    return [node]


@references.register
def _(node: ast.BinOp) -> list[ast.Ref]:
    return references(node.left) + references(node.right)


@references.register
def _(node: ast.Compare) -> list[ast.Ref]:
    return references(node.left) + references(node.right)


@references.register
def _(node: ast.Neg) -> list[ast.Ref]:
    return references(node.operand)


@references.register
def _(node: ast.Call) -> list[ast.Ref]:
    return [r for a in node.args for r in references(a)]


# ---- AST → sympy -----------------------------------------------------------------------
@singledispatch
def to_sympy(node):  # -> sympy.Basic (imported lazily)
    """The expression as sympy, with one Symbol per referenced name, in base units."""
    raise TypeError(f"no to_sympy() for {type(node).__name__}")


@to_sympy.register
def _(node: ast.Number):  # -> sympy.Basic (imported lazily)
    import sympy  # lazily (module docstring)
    return sympy.Rational(*_ratio(literal(node).value))


@to_sympy.register
def _(node: ast.DateLiteral):  # -> sympy.Basic (imported lazily)
    import sympy  # lazily (module docstring)
    return sympy.Rational(*_ratio(literal(node).value))


@to_sympy.register
def _(node: ast.Ref):  # -> sympy.Basic (imported lazily)
    import sympy  # lazily (module docstring)
    return sympy.Symbol(node.name)


@to_sympy.register
def _(node: ast.BinOp):  # -> sympy.Basic (imported lazily)
    import sympy  # lazily (module docstring)
    left, right = to_sympy(node.left), to_sympy(node.right)
    if node.op == "+":
        return sympy.Add(left, right, evaluate=False)
    if node.op == "-":
        return sympy.Add(left, sympy.Mul(-1, right, evaluate=False), evaluate=False)
    if node.op == "*":
        return sympy.Mul(left, right, evaluate=False)
    return sympy.Mul(left, sympy.Pow(right, -1, evaluate=False), evaluate=False)


@to_sympy.register
def _(node: ast.Neg):  # -> sympy.Basic (imported lazily)
    import sympy  # lazily (module docstring)
    return sympy.Mul(-1, to_sympy(node.operand), evaluate=False)


@to_sympy.register
def _(node: ast.Call):  # -> sympy.Basic (imported lazily)
    import sympy  # lazily (module docstring)
    return getattr(sympy, FUNC[node.func])(*(to_sympy(a) for a in node.args))


@to_sympy.register
def _(node: ast.Compare):  # -> sympy.Basic (imported lazily)
    import sympy  # lazily (module docstring)
    left, right = to_sympy(node.left), to_sympy(node.right)
    return {
        ">=": sympy.GreaterThan,
        "<=": sympy.LessThan,
        ">": sympy.StrictGreaterThan,
        "<": sympy.StrictLessThan,
        "=": sympy.Eq,
    }[node.op](left, right, evaluate=False)


def _ratio(f: Fraction) -> tuple[int, int]:
    return f.numerator, f.denominator


# ---- units -----------------------------------------------------------------------------
def dimension(node, dims: Mapping[str, str]) -> str:
    """The dimension of the expression's value; raises LinkError/FactError on a mismatch."""
    if isinstance(node, (ast.Number, ast.DateLiteral)):
        return literal(node).dim
    if isinstance(node, ast.Ref):
        return dims.get(node.name, "")
    if isinstance(node, ast.Neg):
        return dimension(node.operand, dims)
    if isinstance(node, ast.Call):
        ds = {dimension(a, dims) for a in node.args}
        if len(ds) > 1:
            raise FactError(f"{node.func}() 的各项单位不一致：{'、'.join(describe_dim(d) for d in sorted(ds))}", node.span)
        return ds.pop()
    a, b = dimension(node.left, dims), dimension(node.right, dims)
    if TEXT in (a, b):
        raise FactError("文字不能参加计算", node.span)
    if isinstance(node, ast.Compare) or node.op in "+-":
        if a != b and not (isinstance(node, ast.Compare) and "" in (a, b) and DATE not in (a, b) and _is_zero(node)):
            raise FactError(f"单位不一致，不能{'比较' if isinstance(node, ast.Compare) else '相加减'}：{describe_dim(a)} 与 {describe_dim(b)}", node.span)
        return "真假" if isinstance(node, ast.Compare) else a
    if DATE in (a, b):
        raise FactError("日期不能相乘除", node.span)
    if node.op == "*":
        return a or b if "" in (a, b) else f"{a}·{b}"
    return "" if a == b else (a if b == "" else f"{a}/{b}")


def _is_zero(node: ast.Compare) -> bool:
    """``x ≥ 0`` compares with a bare zero, which fits any unit."""
    return any(isinstance(s, ast.Number) and s.magnitude == 0 for s in (node.left, node.right))


# ---- evaluation ------------------------------------------------------------------------
def evaluate(node, env: Mapping[str, Quantity]) -> Quantity:
    """The exact value of the expression for these facts.

    Raises FactError for a unit mismatch or a division by zero.
    """
    import sympy  # lazily (module docstring)
    if isinstance(node, (ast.Number, ast.DateLiteral)):
        return literal(node)
    if isinstance(node, ast.Neg) and isinstance(node.operand, ast.Number):
        q = literal(node.operand)  # -5% keeps its unit for display
        return Quantity(-q.value, q.dim, q.unit, f"-{q.text}")
    if isinstance(node, ast.Ref) and node.name in env:
        return env[node.name]
    dims = {k: v.dim for k, v in env.items()}
    dim = dimension(node, dims)
    expr = to_sympy(node)
    values = {sympy.Symbol(k): sympy.Rational(*_ratio(v.value)) for k, v in env.items()}
    result = expr.xreplace(values)
    if isinstance(node, ast.Compare):
        result = result.doit() if hasattr(result, "doit") else result
        truth = bool(result)
        return Quantity(Fraction(int(truth)), "真假", "", "是" if truth else "否")
    result = sympy.simplify(result) if result.free_symbols == set() and not result.is_Rational else result
    if result.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo):
        raise FactError(f"计算“{formula_text(node)}”时出现除数为零", node.span)
    if not result.is_Rational:
        missing = sorted(str(s) for s in result.free_symbols)
        raise FactError(f"缺少数据：{'、'.join(missing)}", node.span)
    value = Fraction(int(result.p), int(result.q))
    unit = "%" if dim == "" and _is_ratio(node) else ("元" if dim == "元" else _unit_for(node, env, dim))
    if dim == "元":
        unit = _money_unit(node, env)
    return Quantity(value, dim, unit, "")


def _is_ratio(node) -> bool:
    return isinstance(node, ast.BinOp) and node.op == "/" or (
        isinstance(node, ast.Call) and any(_is_ratio(a) for a in node.args)
    )


def _money_unit(node, env: Mapping[str, Quantity]) -> str:
    for r in references(node):
        q = env.get(r.name)
        if q is not None and q.dim == "元":
            return q.unit
    return "元"


def _unit_for(node, env: Mapping[str, Quantity], dim: str) -> str:
    for r in references(node):
        q = env.get(r.name)
        if q is not None and q.dim == dim:
            return q.unit
    return dim if dim not in ("", "真假") else ""


def show(q: Quantity, digits: int = 2) -> str:
    """A computed or given value as people read it."""
    if q.dim == "" and q.unit == "%" and not q.text:
        return percent(q.value, digits)
    if q.text and q.dim not in ("元", TEXT):
        return normalize(q.text).strip()  # as written: 100%, 24人, 2021年12月
    return display(q, digits)


# ---- printing -----------------------------------------------------------------------
def formula_text(node) -> str:
    """The expression in the rulebook's own words: 实际支出资金 ÷ 实际到位资金."""
    return _print(node, lambda r: name_text(r.name))


def substituted(node, env: Mapping[str, Quantity], digits: int = 2) -> str:
    """The expression with every name replaced by its value: 3142.82万元 ÷ 3180.30万元."""
    return _print(node, lambda r: show(env[r.name], digits) if r.name in env else name_text(r.name))


def _print(node, name_of, parent_prec: int = 0) -> str:
    if isinstance(node, (ast.Number, ast.DateLiteral)):
        return node.text
    if isinstance(node, ast.Ref):
        return name_of(node)
    if isinstance(node, ast.Neg):
        return "-" + _print(node.operand, name_of, 3)
    if isinstance(node, ast.Call):
        return f"{node.func}({', '.join(_print(a, name_of) for a in node.args)})"
    if isinstance(node, ast.Compare):
        return f"{_print(node.left, name_of, 1)} {CMP_SIGN[node.op]} {_print(node.right, name_of, 1)}"
    prec = 1 if node.op in "+-" else 2
    left = _print(node.left, name_of, prec)
    right = _print(node.right, name_of, prec + 1)
    text = f"{left} {OP_SIGN[node.op]} {right}"
    return f"({text})" if prec < parent_prec else text


def check_dimensions(node, dims: Mapping[str, str]) -> None:
    """Static unit check for the linker; converts unit errors to LinkError."""
    try:
        dimension(node, dims)
    except FactError as e:
        raise LinkError(e.message, e.span) from None


# ---- which comparisons can still hold ------------------------------------------------------
# Sets of rationals of the forms the conditions make (rays and points), as exact intervals
# (low, low_closed, high, high_closed) with None for an infinite end.  Rays and points are all a
# union of such conditions can hold, so no general set library is needed here (sympy's sets gave
# the same answers, tests/test_startup.py compares them, but cost 250 ms of imports on every check).
_Interval = tuple[Fraction | None, bool, Fraction | None, bool]
_REALS: _Interval = (None, False, None, False)


def _interval(op: str, value: Fraction) -> _Interval:
    return {
        ">=": (value, True, None, False),
        ">": (value, False, None, False),
        "<=": (None, False, value, True),
        "<": (None, False, value, False),
        "=": (value, True, value, True),
    }[op]


def _meet(a: _Interval, b: _Interval) -> _Interval:
    """The intersection of two intervals."""
    lo, lo_closed = max((a[0], a[1]), (b[0], b[1]), key=lambda e: (e[0] is not None, e[0] or 0, not e[1]))
    hi, hi_closed = min((a[2], a[3]), (b[2], b[3]), key=lambda e: (e[0] is None, e[0] or 0, e[1]))
    return lo, lo_closed, hi, hi_closed


def _size(i: _Interval) -> int:
    """0 for an empty interval, 1 for a single point, 2 for infinitely many values."""
    lo, lo_closed, hi, hi_closed = i
    if lo is None or hi is None or lo < hi:
        return 2
    return 1 if lo == hi and lo_closed and hi_closed else 0


class _Union:
    """What a list of conditions accepts: the widest ray to each side and a set of points."""

    def __init__(self) -> None:
        self.below: _Interval | None = None  # (None, False, a, closed)
        self.above: _Interval | None = None  # (b, closed, None, False)
        self.points: set[Fraction] = set()

    def add(self, i: _Interval) -> None:
        if i[0] is None:
            self.below = i if self.below is None else max(self.below, i, key=lambda r: (r[2], r[3]))
        elif i[2] is None:
            self.above = i if self.above is None else min(self.above, i, key=lambda r: (r[0], not r[1]))
        else:
            self.points.add(i[0])

    def covers(self, i: _Interval) -> bool:
        """Whether every value of ``i`` is accepted: what the rays leave of it is at most one of the points."""
        if self.below is not None:
            i = _meet(i, (self.below[2], not self.below[3], None, False))
        if self.above is not None:
            i = _meet(i, (None, False, self.above[0], not self.above[1]))
        n = _size(i)
        return n == 0 or (n == 1 and i[0] in self.points)


def shadowed(conditions: list[tuple[str, Fraction]]) -> tuple[list[int], bool]:
    """For ``value op bound`` conditions tried in order: the indices of those that can never be
    the first to hold (every value they accept an earlier one accepts), and whether together they
    accept every value (so an ``否则`` after them is never reached). Exact (rationals)."""
    union, out = _Union(), []
    for n, (op, value) in enumerate(conditions):
        i = _interval(op, Fraction(value))
        if union.covers(i):
            out.append(n)
        union.add(i)
    return out, union.covers(_REALS)
