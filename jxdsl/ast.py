"""Rulebook syntax tree: small frozen nodes, each with a source span that equality ignores.

Reformatting a rulebook (full-width punctuation, spacing, comments) leaves its AST equal.
"""
from __future__ import annotations

from fractions import Fraction

import attrs

from jxdsl.errors import Span

_span = attrs.field(eq=False, default=None, repr=False)


# ---- values and expressions ---------------------------------------------------------
@attrs.frozen
class Number:
    """A number as written, with its unit if any: ``100%``, ``3180.30万元``, ``24人``."""

    text: str
    magnitude: Fraction
    unit: str
    span: Span | None = _span


@attrs.frozen
class DateLiteral:
    """A date or period: ``2021年12月``, ``2022年底``."""

    text: str
    span: Span | None = _span


@attrs.frozen
class Ref:
    """A reference to a fact, derived value or ``分值`` (the indicator's weight)."""

    name: str
    span: Span | None = _span


@attrs.frozen
class BinOp:
    """Arithmetic: op is one of + - * /."""

    op: str
    left: "Expr"
    right: "Expr"
    span: Span | None = _span


@attrs.frozen
class Neg:
    """Unary minus."""

    operand: "Expr"
    span: Span | None = _span


@attrs.frozen
class Call:
    """最小(...) or 最大(...)."""

    func: str
    args: tuple["Expr", ...]
    span: Span | None = _span


@attrs.frozen
class Compare:
    """A comparison; op is one of >= <= > < =."""

    op: str
    left: "Expr"
    right: "Expr"
    span: Span | None = _span


Expr = Number | DateLiteral | Ref | BinOp | Neg | Call | Compare


# ---- rules ------------------------------------------------------------------------
@attrs.frozen
class Proportional:
    """正向/反向 满分=target: weight × value/target (or target/value), capped at weight."""

    direction: str  # "正向" | "反向"
    target: Expr
    source: Expr | None = None
    zero: Expr | None = None  # 零分=…: where the score reaches 0 (2倍 = twice the target)
    span: Span | None = _span


@attrs.frozen
class TargetMet:
    """达标: full marks when the value satisfies the comparison, else zero."""

    op: str
    target: Expr
    source: Expr | None = None
    span: Span | None = _span


@attrs.frozen
class Checklist:
    """清单: the points of each satisfied item (items are the indicator's children)."""

    span: Span | None = _span


@attrs.frozen
class Tier:
    """One level an evaluator may choose: a point (有效=1) or an interval (显著(2,3])."""

    name: str
    low: Number
    high: Number
    low_closed: bool = True
    high_closed: bool = True
    span: Span | None = _span

    @property
    def is_point(self) -> bool:
        return self.low == self.high


@attrs.frozen
class Tiers:
    """档次 / 定性 三档: the evaluator picks a tier, and a value inside it when it is a range."""

    tiers: tuple[Tier, ...]
    qualitative: bool = False
    span: Span | None = _span


@attrs.frozen
class Band:
    """One band: value op threshold → points."""

    op: str
    threshold: Expr
    points: Number
    span: Span | None = _span


@attrs.frozen
class Bands:
    """分段: the first band the value satisfies; ``否则`` gives the rest."""

    bands: tuple[Band, ...]
    otherwise: Number | None = None
    source: Expr | None = None
    span: Span | None = _span


@attrs.frozen
class Deduction:
    """扣分 每处 N [扣完为止]: weight minus N per finding."""

    per_finding: Number
    floored: bool = False
    span: Span | None = _span


@attrs.frozen
class Formula:
    """得分 = expression, where 分值 is the indicator's weight."""

    expr: Expr
    span: Span | None = _span


@attrs.frozen
class Judgement:
    """酌情: the evaluator gives a score within [0, weight] with evidence."""

    span: Span | None = _span


@attrs.frozen
class FromTargets:
    """来自目标表: the children are the project's own target-table rows."""

    span: Span | None = _span


Rule = Proportional | TargetMet | Checklist | Tiers | Bands | Deduction | Formula | Judgement | FromTargets


# ---- indicator children ------------------------------------------------------------
@attrs.frozen
class ChecklistItem:
    """One item of a 清单 and its points."""

    name: str
    points: Number
    span: Span | None = _span


@attrs.frozen
class VetoCondition:
    """若 condition 则 N: when the condition holds the indicator scores N."""

    condition: Expr
    score: Number
    span: Span | None = _span


@attrs.frozen
class SurveyOption:
    """A survey answer and its weight (满意=1, 一般=0.8, 比较满意=75%)."""

    name: str
    weight: Number
    span: Span | None = _span


@attrs.frozen
class Survey:
    """问卷: the indicator's value is Σ(count × option weight) / Σ count."""

    label: str | None
    options: tuple[SurveyOption, ...]
    span: Span | None = _span


@attrs.frozen
class TextField:
    """解释 or 标准: text for reports, not used in scoring."""

    kind: str
    text: str
    span: Span | None = _span


@attrs.frozen
class Rounding:
    """小数 N 位 [四舍五入|截断|进一] after an indicator or a 默认规则 line: its own rounding."""

    digits: int
    mode: str
    span: Span | None = _span


@attrs.frozen
class Indicator:
    """An indicator line and everything indented under it."""

    name: str
    weight: Number
    rule: Rule | None = None
    na_mode: str | None = None
    children: tuple["Indicator", ...] = ()
    items: tuple[ChecklistItem, ...] = ()
    vetoes: tuple[VetoCondition, ...] = ()
    survey: Survey | None = None
    texts: tuple[TextField, ...] = ()
    span: Span | None = _span
    rounding: Rounding | None = None
    merge_into: str | None = None  # 未设置时 并入 NAME (来自目标表 only)


# ---- top-level statements ------------------------------------------------------------
@attrs.frozen
class RulebookDecl:
    """规则集 NAME [继承 PARENT]."""

    name: str
    parent: str | None = None
    span: Span | None = _span


@attrs.frozen
class Setting:
    """A header line: 标题, 依据, 年度, 版本, 小数, 满分, 不适用."""

    key: str
    value: tuple
    span: Span | None = _span


@attrs.frozen
class GradeBand:
    """One grade and its inclusive lower bound."""

    name: str
    op: str
    bound: Number
    span: Span | None = _span


@attrs.frozen
class Grades:
    """等级 优 ≥90 良 ≥80 中 ≥60 差."""

    bands: tuple[GradeBand, ...]
    lowest: str
    span: Span | None = _span
    on_rate: bool = False  # 等级 按得分率: bands are shares of the maximum (优 ≥90%)


@attrs.frozen
class FactDecl:
    """A fact the rulebook needs, with its type and description."""

    name: str
    type: str | None = None
    description: str | None = None
    span: Span | None = _span


@attrs.frozen
class FactsBlock:
    """事实: the facts a rulebook reads."""

    facts: tuple[FactDecl, ...]
    span: Span | None = _span


@attrs.frozen
class Derived:
    """NAME = expression."""

    name: str
    expr: Expr
    span: Span | None = _span


@attrs.frozen
class Adjust:
    """调整 path [权重 N] [rule] [不适用时 …]: change parts of an inherited indicator."""

    path: tuple[str, ...]
    weight: Number | None = None
    rule: Rule | None = None
    na_mode: str | None = None
    texts: tuple[TextField, ...] = ()
    span: Span | None = _span
    rounding: Rounding | None = None
    merge_into: str | None = None


@attrs.frozen
class Replace:
    """替换 path …: redefine an inherited indicator wholesale."""

    path: tuple[str, ...]
    indicator: Indicator
    span: Span | None = _span


@attrs.frozen
class Remove:
    """删除 path."""

    path: tuple[str, ...]
    span: Span | None = _span


@attrs.frozen
class Add:
    """新增 parent-path: new indicators under an inherited parent."""

    parent: tuple[str, ...]
    indicators: tuple[Indicator, ...]
    span: Span | None = _span


@attrs.frozen
class BonusItem:
    """A bonus item and its maximum points."""

    name: str
    points: Number
    span: Span | None = _span


@attrs.frozen
class BonusBlock:
    """加分 [上限 N]."""

    cap: Number | None
    items: tuple[BonusItem, ...]
    span: Span | None = _span


@attrs.frozen
class PenaltyBlock:
    """扣分 [上限 N] at top level: points taken off the total when an item occurs."""

    cap: Number | None
    items: tuple[BonusItem, ...]
    span: Span | None = _span


@attrs.frozen
class VetoBlock:
    """一票否决: any item that occurs makes the total zero."""

    items: tuple[str, ...]
    span: Span | None = _span


@attrs.frozen
class QuantitativeDefault:
    """定量 ≥ : 正向 — the rule for target-table rows whose target has that comparator."""

    op: str
    kind: str
    zero: Expr | None = None
    span: Span | None = _span
    rounding: Rounding | None = None


@attrs.frozen
class QualitativeDefault:
    """定性 : 三档 …— the tiers for target-table rows whose target is words."""

    tiers: tuple[Tier, ...]
    span: Span | None = _span
    rounding: Rounding | None = None


@attrs.frozen
class DefaultsBlock:
    """默认规则."""

    rules: tuple[QuantitativeDefault | QualitativeDefault, ...]
    span: Span | None = _span


Statement = (
    RulebookDecl | Setting | Grades | FactsBlock | Derived | Indicator | Adjust | Replace | Remove | Add
    | BonusBlock | PenaltyBlock | VetoBlock | DefaultsBlock
)


@attrs.frozen
class Document:
    """A parsed rulebook file."""

    statements: tuple[Statement, ...]
    file: str = attrs.field(eq=False, default="")
