"""AST → canonical rulebook text (half-width punctuation, two-space indentation).

Printing a parsed rulebook and parsing the result gives an equal AST: the property tests
and the per-rulebook tests rely on it, and ``diff`` shows rules in this form.
"""
from __future__ import annotations

from functools import singledispatch

from jxdsl import ast
from jxdsl.formulas import CMP_SIGN, formula_text
from jxdsl.trees import name_text

INDENT = "  "


def print_document(doc: ast.Document) -> str:
    """The whole rulebook as text."""
    lines: list[str] = []
    for st in doc.statements:
        lines += statement(st, 0)
    return "\n".join(lines) + "\n"


def _expr(e) -> str:
    return formula_text(e)


def _num(n: ast.Number) -> str:
    return n.text


def tier(t: ast.Tier) -> str:
    if t.is_point and t.low_closed and t.high_closed:
        return f"{t.name}={_num(t.low)}"
    return f"{t.name}{'[' if t.low_closed else '('}{_num(t.low)},{_num(t.high)}{']' if t.high_closed else ')'}"


@singledispatch
def rule(r) -> str:
    """A rule as written after ``权重 N``."""
    raise TypeError(f"no printer for {type(r).__name__}")


def _src(e) -> str:
    return f" 取 {_expr(e)}" if e is not None else ""


@rule.register
def _(r: ast.Proportional) -> str:
    zero = f" 零分={_expr(r.zero)}" if r.zero is not None else ""
    return f"{r.direction} 满分={_expr(r.target)}{zero}{_src(r.source)}"


@rule.register
def _(r: ast.TargetMet) -> str:
    return f"达标 {CMP_SIGN[r.op]}{_expr(r.target)}{_src(r.source)}"


@rule.register
def _(r: ast.Checklist) -> str:
    return "清单"


@rule.register
def _(r: ast.Tiers) -> str:
    return ("定性 三档 " if r.qualitative else "档次 ") + " ".join(tier(t) for t in r.tiers)


@rule.register
def _(r: ast.Bands) -> str:
    parts = [f"{CMP_SIGN[b.op]}{_expr(b.threshold)}:{_num(b.points)}" for b in r.bands]
    if r.otherwise is not None:
        parts.append(f"否则:{_num(r.otherwise)}")
    return "分段 " + " ".join(parts) + _src(r.source)


@rule.register
def _(r: ast.Deduction) -> str:
    return f"扣分 每处{_num(r.per_finding)}" + (" 扣完为止" if r.floored else "")


@rule.register
def _(r: ast.Formula) -> str:
    return f"得分 = {_expr(r.expr)}"


@rule.register
def _(r: ast.Judgement) -> str:
    return "酌情"


@rule.register
def _(r: ast.FromTargets) -> str:
    return "来自目标表"


def path_text(path) -> str:
    return "/".join(name_text(p) for p in path)


def _quote(text: str) -> str:
    return f"“{text}”" if '"' in text else f'"{text}"'


def indicator_line(ind: ast.Indicator, name: str | None = None) -> str:
    parts = [name or name_text(ind.name), "权重", _num(ind.weight)]
    if ind.rule is not None:
        parts.append(rule(ind.rule))
    if ind.rounding is not None:
        parts.append(rounding(ind.rounding))
    if ind.na_mode:
        parts.append(f"不适用时 {ind.na_mode}")
    if ind.merge_into:
        parts.append(f"未设置时 并入 {ind.merge_into}")
    return " ".join(parts)


def rounding(r: ast.Rounding) -> str:
    return f"小数 {r.digits} 位 {r.mode}"


def _children(ind: ast.Indicator, depth: int) -> list[str]:
    pad = INDENT * (depth + 1)
    out: list[str] = []
    for c in ind.children:
        out += statement(c, depth + 1)
    out += [f"{pad}{name_text(i.name)} {_num(i.points)}" for i in ind.items]
    out += [f"{pad}若 {_expr(v.condition)} 则 {_num(v.score)}" for v in ind.vetoes]
    if ind.survey is not None:
        label = f"{name_text(ind.survey.label)} " if ind.survey.label else ""
        out.append(f"{pad}{label}问卷 " + " ".join(f"{name_text(o.name)}={_num(o.weight)}" for o in ind.survey.options))
    out += [f"{pad}{t.kind} {_quote(t.text)}" for t in ind.texts]
    return out


@singledispatch
def statement(st, depth: int) -> list[str]:
    """The lines of one statement at the given indentation depth."""
    raise TypeError(f"no printer for {type(st).__name__}")


@statement.register
def _(st: ast.RulebookDecl, depth: int) -> list[str]:
    return [f"规则集 {st.name}" + (f" 继承 {st.parent}" if st.parent else "")]


@statement.register
def _(st: ast.Setting, depth: int) -> list[str]:
    if st.key in ("标题", "依据"):
        return [f"{st.key} {_quote(st.value[0])}"]
    if st.key == "版本":
        return [f"版本 {_quote(st.value[0])}"]
    if st.key == "年度":
        a, b = st.value
        return [f"年度 {a}" if a == b else f"年度 {a}-{b}"]
    if st.key == "小数":
        return [f"小数 {st.value[0]} 位 {st.value[1]}"]
    if st.key == "满分":
        return [f"满分 {_num(st.value[0])}"]
    return [f"{st.key} {st.value[0]}"]


@statement.register
def _(st: ast.Grades, depth: int) -> list[str]:
    bands = " ".join(f"{b.name} {CMP_SIGN[b.op]}{_num(b.bound)}" for b in st.bands)
    return ["等级 " + ("按得分率 " if st.on_rate else "") + f"{bands} {st.lowest}"]


@statement.register
def _(st: ast.FactsBlock, depth: int) -> list[str]:
    out = ["事实"]
    for f in st.facts:
        out.append(INDENT + " ".join(x for x in (name_text(f.name), f.type, _quote(f.description) if f.description else None) if x))
    return out


@statement.register
def _(st: ast.Derived, depth: int) -> list[str]:
    return [f"{name_text(st.name)} = {_expr(st.expr)}"]


@statement.register
def _(st: ast.Indicator, depth: int) -> list[str]:
    return [INDENT * depth + indicator_line(st), *_children(st, depth)]


@statement.register
def _(st: ast.Adjust, depth: int) -> list[str]:
    parts = ["调整", path_text(st.path)]
    if st.weight is not None:
        parts += ["权重", _num(st.weight)]
    if st.rule is not None:
        parts.append(rule(st.rule))
    if st.rounding is not None:
        parts.append(rounding(st.rounding))
    if st.na_mode:
        parts.append(f"不适用时 {st.na_mode}")
    if st.merge_into:
        parts.append(f"未设置时 并入 {st.merge_into}")
    return [" ".join(parts), *(f"{INDENT}{t.kind} {_quote(t.text)}" for t in st.texts)]


@statement.register
def _(st: ast.Replace, depth: int) -> list[str]:
    line = indicator_line(st.indicator, path_text(st.path))
    return [f"替换 {line}", *_children(st.indicator, 0)]


@statement.register
def _(st: ast.Remove, depth: int) -> list[str]:
    return [f"删除 {path_text(st.path)}"]


@statement.register
def _(st: ast.Add, depth: int) -> list[str]:
    out = [f"新增 {path_text(st.parent)}"]
    for ind in st.indicators:
        out += statement(ind, 1)
    return out


@statement.register
def _(st: ast.BonusBlock, depth: int) -> list[str]:
    head = "加分" + (f" 上限 {_num(st.cap)}" if st.cap is not None else "")
    return [head, *(f"{INDENT}{name_text(i.name)} 加 {_num(i.points)}" for i in st.items)]


@statement.register
def _(st: ast.PenaltyBlock, depth: int) -> list[str]:
    head = "扣分" + (f" 上限 {_num(st.cap)}" if st.cap is not None else "")
    return [head, *(f"{INDENT}{name_text(i.name)} 扣 {_num(i.points)}" for i in st.items)]


@statement.register
def _(st: ast.VetoBlock, depth: int) -> list[str]:
    return ["一票否决", *(f"{INDENT}{name_text(i)}" for i in st.items)]


@statement.register
def _(st: ast.DefaultsBlock, depth: int) -> list[str]:
    out = ["默认规则"]
    for d in st.rules:
        if isinstance(d, ast.QuantitativeDefault):
            zero = f" 零分={_expr(d.zero)}" if d.zero is not None else ""
            out.append(f"{INDENT}定量 {CMP_SIGN[d.op]} : {d.kind}{zero}" + (f" {rounding(d.rounding)}" if d.rounding else ""))
        else:
            out.append(f"{INDENT}定性 : 三档 " + " ".join(tier(t) for t in d.tiers) + (f" {rounding(d.rounding)}" if d.rounding else ""))
    return out
