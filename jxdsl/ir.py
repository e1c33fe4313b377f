"""The scoring IR: what a linked rulebook means, as typed frozen nodes with enums.

``lower.py`` builds it from a linked ``Rulebook``; the kernel (``jxdsl/kernel``) runs it, exactly
in Python for the interpreter and as SQL for the batch engines, and ``audit`` asks it for the
expected score. Settings that the rulebook language writes as Chinese words (正向, ≥, 截断,
按比例折算…) are enums here, so no engine compares strings to decide what a rule means.
"""
from __future__ import annotations

import enum
from fractions import Fraction

import attrs

from jxdsl.errors import Span

_span = attrs.field(eq=False, default=None, repr=False)


class Cmp(enum.Enum):
    """A comparison; the value is the canonical ASCII sign."""

    GE = ">="
    LE = "<="
    GT = ">"
    LT = "<"
    EQ = "="

    @property
    def sign(self) -> str:
        return {"GE": "≥", "LE": "≤", "GT": ">", "LT": "<", "EQ": "="}[self.name]


class Arith(enum.Enum):
    ADD = "+"
    SUB = "-"
    MUL = "*"
    DIV = "/"


class Extreme(enum.Enum):
    MIN = "最小"
    MAX = "最大"


class Direction(enum.Enum):
    POSITIVE = "正向"
    NEGATIVE = "反向"


class Rounding(enum.Enum):
    """How a score is cut to its decimals; all three act on the magnitude (截断 toward zero, 进一
    away from zero), which for scores — never below zero — is rounding down and up."""

    HALF_UP = "四舍五入"
    TRUNCATE = "截断"
    UP = "进一"


@attrs.frozen
class Round:
    """小数 N 位 <mode>: an indicator's or a 默认规则 line's own rounding."""

    digits: int
    mode: Rounding

    @property
    def text(self) -> str:
        return f"{self.digits} 位{self.mode.value}"


class NaMode(enum.Enum):
    FULL = "满分"
    RESCALE = "按比例折算"


class ZeroTarget(enum.Enum):
    """目标为零: compare against the zero target (按达标), or always full marks (满分)."""

    COMPARE = "按达标"
    FULL = "满分"


class OverTarget(enum.Enum):
    """超过满分值: cap at full marks (封顶), or deduct by the deviation above the target."""

    CAP = "封顶"
    DEVIATION = "按偏离扣减"


class RowKind(enum.Enum):
    """How a 默认规则 line scores a quantitative target-table row."""

    POSITIVE = "正向"
    NEGATIVE = "反向"
    MET = "达标"


class FactType(enum.Enum):
    MONEY = "金额"
    PERCENT = "百分比"
    NUMBER = "数值"
    DATE = "日期"
    TEXT = "文本"
    COUNT = "数量"


# ---- expressions ---------------------------------------------------------------------------
@attrs.frozen
class Const:
    """A literal with its unit, in base units (元, a fraction for %, a day ordinal for dates)."""

    value: Fraction
    dim: str
    unit: str
    text: str
    start: Fraction | None = None  # first day of a date period
    span: Span | None = _span


@attrs.frozen
class Name:
    """A fact or derived value by name (which one is settled per project: facts may be absent)."""

    name: str
    span: Span | None = _span


@attrs.frozen
class WeightRef:
    """``分值`` inside a 得分 formula: the indicator's own weight."""

    span: Span | None = _span


@attrs.frozen
class BinOp:
    op: Arith
    left: "Expr"
    right: "Expr"
    span: Span | None = _span


@attrs.frozen
class Neg:
    operand: "Expr"
    span: Span | None = _span


@attrs.frozen
class Call:
    func: Extreme
    args: tuple["Expr", ...]
    span: Span | None = _span


@attrs.frozen
class Compare:
    op: Cmp
    left: "Expr"
    right: "Expr"
    span: Span | None = _span


Expr = Const | Name | WeightRef | BinOp | Neg | Call | Compare


# ---- where a rule's value comes from --------------------------------------------------------
@attrs.frozen
class OwnValue:
    """The fact or derived value named like the indicator (or after 取 a bare name)."""

    name: str


@attrs.frozen
class ExprValue:
    """取 expression."""

    expr: Expr


@attrs.frozen
class SurveyOption:
    name: str
    weight: Fraction
    text: str


@attrs.frozen
class SurveyValue:
    """问卷: Σ(count × option weight) ÷ Σ count over every question answered."""

    label: str
    options: tuple[SurveyOption, ...]


ValueSource = OwnValue | ExprValue | SurveyValue


# ---- rules ---------------------------------------------------------------------------------
@attrs.frozen
class Multiple:
    """零分=2倍: the zero point is a multiple of the target."""

    factor: Fraction
    text: str


@attrs.frozen
class ZeroAt:
    """零分=<value>."""

    expr: Expr


ZeroPoint = Multiple | ZeroAt


@attrs.frozen
class Proportional:
    """正向/反向 满分=target [零分=…]: weight × value/target (or target/value), capped."""

    direction: Direction
    target: Expr
    value: ValueSource
    zero: ZeroPoint | None = None


@attrs.frozen
class TargetMet:
    """达标: full marks when the value satisfies the comparison, else zero."""

    cmp: Cmp
    target: Expr
    value: ValueSource


@attrs.frozen
class Item:
    """A checklist item, or a bonus/penalty item, with its points."""

    name: str
    points: Fraction
    text: str = ""


@attrs.frozen
class Checklist:
    """清单: weight minus the points of each unmet item."""

    items: tuple[Item, ...]


@attrs.frozen
class Tier:
    """A level the evaluator picks: a point or an interval, in points or in percent of the weight."""

    name: str
    low: Fraction
    high: Fraction
    low_closed: bool
    high_closed: bool
    of_weight: bool  # percentages: the interval is a share of the indicator's weight
    low_text: str = ""
    high_text: str = ""

    @property
    def is_point(self) -> bool:
        return self.low == self.high


@attrs.frozen
class Tiers:
    """档次 / 定性 三档."""

    tiers: tuple[Tier, ...]
    qualitative: bool = False


@attrs.frozen
class Band:
    cmp: Cmp
    threshold: Expr
    points: Fraction


@attrs.frozen
class Bands:
    """分段: the first band the value satisfies; 否则 gives the rest."""

    bands: tuple[Band, ...]
    otherwise: Fraction | None
    value: ValueSource


@attrs.frozen
class Deduction:
    """扣分 每处 N [扣完为止]."""

    per: Fraction
    floored: bool


@attrs.frozen
class Formula:
    """得分 = expression."""

    expr: Expr


@attrs.frozen
class Judgement:
    """酌情: the evaluator's score within [0, weight]."""


Rule = Proportional | TargetMet | Checklist | Tiers | Bands | Deduction | Formula | Judgement


@attrs.frozen
class Veto:
    """若 condition 则 score."""

    condition: Compare
    score: Fraction
    text: str


# ---- the indicator tree ------------------------------------------------------------------------
@attrs.frozen
class Leaf:
    """An indicator that a rule scores."""

    path: tuple[str, ...]
    weight: Fraction
    rule: Rule
    vetoes: tuple[Veto, ...] = ()
    na_mode: NaMode | None = None
    origin: Span | None = _span
    round: Round | None = None  # its own 小数 (or its parent's); None: the rulebook's

    @property
    def name(self) -> str:
        return self.path[-1]

    @property
    def overridable(self) -> bool:
        """Whether an evaluator's 得分 replaces the rule's score (tiers and 酌情 take it as the score)."""
        return not isinstance(self.rule, (Tiers, Judgement))


@attrs.frozen
class TargetTable:
    """来自目标表: the children are the project's own target-table rows (desugared per project)."""

    path: tuple[str, ...]
    weight: Fraction
    key: str  # the name target rows are matched by (产出 ≡ 产出指标)
    origin: Span | None = _span
    na_mode: NaMode | None = None
    merge_into: str | None = None  # 未设置时 并入: a project without rows gives its weight to this sibling
    merged_from: tuple["TargetTable", ...] = ()  # the siblings that give their weight to this one when unset

    @property
    def name(self) -> str:
        return self.path[-1]


@attrs.frozen
class Group:
    """A parent: its score is the sum of its children's."""

    path: tuple[str, ...]
    weight: Fraction
    children: tuple["Node", ...]
    origin: Span | None = _span

    @property
    def name(self) -> str:
        return self.path[-1]


Node = Leaf | TargetTable | Group


@attrs.frozen
class RowDefault:
    """定量 op : kind [零分=…]."""

    kind: RowKind
    zero: ZeroPoint | None = None
    round: Round | None = None


@attrs.frozen
class RowDefaults:
    """默认规则: how target-table rows are scored, by the comparator of their target."""

    quantitative: dict[Cmp, RowDefault] = attrs.field(factory=dict, hash=False)
    qualitative: Tiers | None = None
    qualitative_round: Round | None = None

    def for_cmp(self, op: Cmp) -> RowDefault | None:
        """The default for a comparator; > and < fall back to ≥ and ≤."""
        found = self.quantitative.get(op)
        if found is None and op in (Cmp.GT, Cmp.LT):
            found = self.quantitative.get(Cmp.GE if op is Cmp.GT else Cmp.LE)
        return found


@attrs.frozen
class Grade:
    name: str
    strict: bool  # > rather than ≥
    bound: Fraction


@attrs.frozen
class Derived:
    name: str
    expr: Expr
    span: Span | None = _span


@attrs.frozen
class Scheme:
    """A whole rulebook as the kernel runs it."""

    name: str
    version: str | None
    content_hash: str
    files: tuple[str, ...]
    digits: int
    rounding: Rounding
    grades: tuple[Grade, ...]
    lowest_grade: str
    zero_target: ZeroTarget
    over_target: OverTarget
    na_default: NaMode | None
    years: tuple[int, int] | None
    facts: dict[str, FactType | None] = attrs.field(hash=False)
    derived: tuple[Derived, ...]
    roots: tuple[Node, ...]
    defaults: RowDefaults
    bonus: tuple[Item, ...] = ()
    bonus_cap: Fraction | None = None
    penalty: tuple[Item, ...] = ()
    penalty_cap: Fraction | None = None
    vetoes: tuple[str, ...] = ()
    grade_rates: tuple[Fraction, ...] | None = None  # 等级 按得分率 (the bands in ``grades`` are points)
    grade_max: Fraction | None = None  # the maximum the 得分率 is taken of

    @property
    def max(self) -> Fraction:
        return sum((n.weight for n in self.roots), Fraction(0))

    @property
    def base_round(self) -> Round:
        """The header's 小数: every score without a rounding of its own."""
        return Round(self.digits, self.rounding)

    def rounding_text(self) -> str:
        """The rounding as the explanation's header states it: the header's mode, then the
        indicators and 默认规则 lines that round otherwise."""
        own = [f"{'/'.join(n.path)} {n.round.text}" for n in self.leaves() if n.round is not None and n.round != self.base_round]
        d = self.defaults
        own += [f"目标表“{op.sign}”行 {r.round.text}" for op, r in d.quantitative.items() if r.round is not None and r.round != self.base_round]
        if d.qualitative_round is not None and d.qualitative_round != self.base_round:
            own.append(f"目标表定性行 {d.qualitative_round.text}")
        return self.rounding.value + ("；其中 " + "，".join(own) if own else "")

    def walk(self):
        """Every node in document order, parents before their children."""

        def visit(node):
            yield node
            if isinstance(node, Group):
                for c in node.children:
                    yield from visit(c)

        for n in self.roots:
            yield from visit(n)

    def leaves(self) -> list[Leaf]:
        return [n for n in self.walk() if isinstance(n, Leaf)]

    def tables(self) -> list[TargetTable]:
        return [n for n in self.walk() if isinstance(n, TargetTable)]

    def in_force(self, year: int) -> bool:
        return self.years is None or self.years[0] <= year <= self.years[1]
