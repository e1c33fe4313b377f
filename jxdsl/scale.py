"""Static checks on a rulebook's scale: the maximum (满分), grade bands (in points or 按得分率) and
the rounding of single indicators and 默认规则 lines (小数 … after a rule).

A maximum other than 100 is legal but easily a slip (a weight mistyped), so ``check`` warns unless
the header declares it; a declaration that disagrees with the weights is an error.
"""
from __future__ import annotations

from fractions import Fraction

from jxdsl import ast
from jxdsl.errors import JxError, LinkError, RulebookWarning
from jxdsl.units import PERCENT, plain

DEFAULT_GRADES = (("优", ">=", Fraction(90)), ("良", ">=", Fraction(80)), ("中", ">=", Fraction(60)))
USUAL_MAX = Fraction(100)


def _max_of(roots, declared) -> Fraction:
    weights = sum((n.weight for n in roots), Fraction(0))
    return declared.value[0].magnitude if declared is not None else weights


def check_grades(grades: ast.Grades | None, roots, errors: list[JxError], declared=None) -> tuple[tuple, tuple | None]:
    """(bands in points, the 得分率 bands as written or None).  Bands 按得分率 are percentages of the
    maximum (the declared 满分, else the sum of the top-level weights), turned into points here so
    that scoring, audit and reports compare totals with points as before."""
    if grades is None:
        return DEFAULT_GRADES, None
    top = _max_of(roots, declared)
    out, rates = [], []
    last = None
    for b in grades.bands:
        if b.op not in (">=", ">"):
            errors.append(LinkError(f"等级“{b.name}”应写下限（≥ 或 >）", b.span))
        percent = b.bound.unit in PERCENT
        bound = b.bound.magnitude
        if grades.on_rate:
            if not percent:
                errors.append(LinkError(
                    f"按得分率定级时，等级“{b.name}”的下限“{b.bound.text}”应写成百分数", b.bound.span, f"写成 {b.name} ≥{b.bound.text}%",
                ))
                continue  # its order against the others means nothing yet
            rate = bound / 100 if b.bound.unit == "%" else bound / 1000 if b.bound.unit == "‰" else bound
            rates.append(rate)
            bound = rate * top
        elif percent:
            errors.append(LinkError(
                f"等级“{b.name}”的下限“{b.bound.text}”是百分数，但等级按总分划分", b.bound.span,
                "按得分率（总分 ÷ 满分）定级时写 等级 按得分率 优 ≥90% …；按总分定级时写分数，如 优 ≥90",
            ))
        if last is not None and bound >= last:
            errors.append(LinkError(f"等级“{b.name}”的下限 {b.bound.text} 应低于上一等级的下限", b.bound.span))
        last = bound
        out.append((b.name, b.op, bound))
    return tuple(out), (tuple(rates) if grades.on_rate else None)


def check_max(book, declared: ast.Setting | None, span, errors: list[JxError]) -> tuple[JxError, ...]:
    """Warnings about the maximum; an error when a declared 满分 disagrees with the weights.

    A declared 满分 may be the sum of the top-level weights, or that sum plus what bonus items can
    add (100 + 加分 上限 10 = 110).  Without a declaration, a sum other than 100 is warned about."""
    weights = book.max
    bonus = book.bonus_cap if book.bonus_cap is not None else sum((b.points.magnitude for b in book.bonus), Fraction(0))
    if declared is not None:
        n = declared.value[0]
        if n.magnitude not in (weights, weights + bonus):
            with_bonus = f"，加上加分 {plain(bonus, 4)} 为 {plain(weights + bonus, 4)}" if bonus else ""
            errors.append(LinkError(
                f"声明的满分 {n.text} 与一级指标权重之和 {plain(weights, 4)} 不符{with_bonus}", n.span,
                "检查各一级指标的权重，或把满分改为权重之和",
            ))
        return ()
    if weights == USUAL_MAX:
        return ()
    return (RulebookWarning(
        f"一级指标权重之和为 {plain(weights, 4)}，不是 100", span,
        f"若满分确为 {plain(weights, 4)}，在规则集开头写 满分 {plain(weights, 4)}；否则检查各一级指标的权重",
    ),)


def check_rounding(node, ind, header_digits: int, errors: list[JxError]) -> None:
    """An indicator's own 小数: no more decimals than the header's (scores, sums and reports are
    shown with the header's digits), and not on a 来自目标表 indicator or a parent of one (its
    rows are rounded as their 默认规则 line says)."""
    r = node.rounding
    if r is None:
        return
    if r.digits > header_digits:
        errors.append(_too_many(r, header_digits))
    table = next((i for i in ind.walk() if isinstance(i.rule, ast.FromTargets)), None)
    if table is not None:
        where = "的得分" if table is ind else f"下的“{'/'.join(table.path)}”"
        errors.append(LinkError(
            f"“{'/'.join(ind.path)}”{where}来自目标表，各行按 默认规则 舍入，不能在这里写 小数", r.span,
            "在 默认规则 的行末写 小数，如 定量 ≥ : 正向 小数 2 位 进一",
        ))


def check_default_rounding(defaults: ast.DefaultsBlock | None, header_digits: int, errors: list[JxError]) -> None:
    for d in defaults.rules if defaults else ():
        if d.rounding is not None and d.rounding.digits > header_digits:
            errors.append(_too_many(d.rounding, header_digits))


def _too_many(r: ast.Rounding, header_digits: int) -> LinkError:
    return LinkError(
        f"这里的小数位数 {r.digits} 多于规则集开头规定的 {header_digits} 位", r.span,
        f"各项得分按开头的位数显示和相加：把开头改为 小数 {r.digits} 位，需要少保留的指标在行末另写 小数 {header_digits} 位",
    )
