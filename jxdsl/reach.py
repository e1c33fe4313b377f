"""Static checks for rules that can never apply: a 分段 band every value of which an earlier band
already takes, an 否则 no value reaches, a 否决条件 an earlier one always pre-empts, and names
written twice where records and tiers are matched by name (等级, 问卷 options, 加分/扣分/否决 items).
Tiers (档次, 定性 三档) are checked for overlaps and repeats in ``link._check_tiers``.
"""
from __future__ import annotations

from jxdsl import ast
from jxdsl.errors import JxError, LinkError
from jxdsl.formulas import CMP_SIGN, formula_text, literal, shadowed
from jxdsl.units import PERCENT


BANDS_HINT = "分段从左到右取第一个满足的：≥ 的分段按界限从高到低写，≤ 的分段从低到高写"
FLIP = {">=": "<=", "<=": ">=", ">": "<", "<": ">", "=": "="}


def _constant(node):
    """(kind, value) of a literal bound (5%, 3万元, -1, 2021年12月), else None."""
    sign = 1
    if isinstance(node, ast.Neg) and isinstance(node.operand, ast.Number):
        node, sign = node.operand, -1
    if isinstance(node, (ast.Number, ast.DateLiteral)):
        q = literal(node)
        percent = isinstance(node, ast.Number) and node.unit in PERCENT  # 20 and 20% are not compared here
        return ("%" if percent else q.dim), sign * q.value
    return None


def _literal_conditions(items):
    """(index, op, value) of the conditions with a literal bound, all of the first one's dimension."""
    got = [(n, op, _constant(bound)) for n, (op, bound) in enumerate(items)]
    got = [(n, op, c) for n, op, c in got if c is not None and c[0] != "倍"]
    if not got:
        return []
    dim = got[0][2][0]
    return [(n, op, c[1]) for n, op, c in got if c[0] == dim]


def check_bands(rule: ast.Bands, errors: list[JxError]) -> None:
    conds = _literal_conditions([(b.op, b.threshold) for b in rule.bands])
    never, everything = shadowed([(op, v) for _, op, v in conds])
    for k in never:
        band = rule.bands[conds[k][0]]
        errors.append(LinkError(f"分段“{CMP_SIGN[band.op]}{formula_text(band.threshold)}”永远用不到：满足它的取值都已落在前面的分段", band.span or band.threshold.span, BANDS_HINT))
    if everything and rule.otherwise is not None:
        errors.append(LinkError("“否则”永远用不到：前面的分段已包含所有取值", rule.otherwise.span, "删去“否则”，或调整分段界限"))


def check_vetoes(vetoes, errors: list[JxError]) -> None:
    """否决条件 on the same value with literal bounds: one an earlier one always pre-empts."""
    groups: dict[str, list] = {}
    for v in vetoes:
        c = v.condition
        if not isinstance(c, ast.Compare):
            continue
        if _constant(c.right) is not None and _constant(c.left) is None:
            groups.setdefault(formula_text(c.left), []).append((v, c.op, c.right))
        elif _constant(c.left) is not None and _constant(c.right) is None:
            groups.setdefault(formula_text(c.right), []).append((v, FLIP[c.op], c.left))
    for items in groups.values():
        conds = _literal_conditions([(op, bound) for _, op, bound in items])
        never, _ = shadowed([(op, value) for _, op, value in conds])
        for k in never:
            v = items[conds[k][0]][0]
            errors.append(LinkError(f"否决条件“{formula_text(v.condition)}”永远不会起作用：满足它时前面的否决条件已经成立", v.span or v.condition.span, "否决条件按顺序判断，第一个成立的起作用"))


def _repeats(names_spans, what: str, errors: list[JxError], fallback=None) -> None:
    seen: set[str] = set()
    for name, span in names_spans:
        if name in seen:
            errors.append(LinkError(f"{what}“{name}”重复", span or fallback))
        seen.add(name)


def check_names(grades: ast.Grades | None, indicators, bonus, penalty, vetoes, errors: list[JxError]) -> None:
    """Names written twice where they are looked up by name."""
    if grades is not None:
        _repeats([(b.name, b.span) for b in grades.bands] + [(grades.lowest, grades.span)], "等级", errors)
    for ind in indicators:
        if ind.survey is not None:
            _repeats([(o.name, o.span) for o in ind.survey.options], "问卷选项", errors)
    for block, what in ((bonus, "加分项"), (penalty, "扣分项")):
        if block is not None:
            _repeats([(i.name, i.span) for i in block.items], what, errors, block.span)
    if vetoes is not None:
        _repeats([(name, None) for name in vetoes.items], "否决项", errors, vetoes.span)



