"""Self-evaluation rulebook → one SQL query (sqlglot expression tree) for DuckDB or Spark.

The batch engine scores a long self-evaluation table (one row per project × indicator, all text
columns) with the same rules as the interpreter (``evaluate.py``): target rows of the
``来自目标表`` indicators under the rulebook's ``默认规则`` and the budget-execution indicator read
from the ``预算执行率`` row.  The query is written as fixed SQL templates (no user values) parsed by
sqlglot; every rulebook value (names, weights, tiers, grades, defaults) enters through
placeholders that become sqlglot literals.

Numbers are exact: every weight and value is held as an integer count of 10⁻⁸ (evaluator scores
10⁻¹⁸) in DECIMAL(38,0) (DuckDB: HUGEINT); a score is a fraction num/den of such integers and is
rounded half up with one integer division, so results equal the interpreter's exact rationals.
Values the batch engine cannot hold exactly (more than 8 decimals in base units, or beyond
10^(17-小数) base units) reject their row with a reason instead of being approximated.

Input relation ``rows``: 行号 (integer, the row's line in the table), 项目, 一级指标, 二级指标,
三级指标, 分值, 年度指标值, 实际完成值, 档次, 评价得分, 说明, 年度 (text; optional ones NULL).
Output: one row per input row (see ``OUTPUT_COLUMNS``) ordered by project (first appearance) and
row, with the row's score, status and rejection reason, and the project's total and grade.
"""
from __future__ import annotations

import unicodedata
from fractions import Fraction

import attrs
import sqlglot
from sqlglot import exp

from jxdsl import ast
from jxdsl.errors import CompileError
from jxdsl.facts import BUDGET_FACTS, BUDGET_ROW, DUPLICATE_BUDGET
from jxdsl.formulas import literal
from jxdsl.link import Rulebook, tier_points
from jxdsl.units import DATE, TEXT, with_unit

S = 8  # weights and values: integer multiples of 10^-8
SG = 18  # evaluator scores: integer multiples of 10^-18
MAX_WEIGHT_DIGITS = 3 + S  # weights below 1000
MAX_DIGITS = 6  # 小数 位数 the engine compiles
DUP = DUPLICATE_BUDGET.split("{}")  # the reason's text around the count
DIALECTS = ("duckdb", "spark")
# the scored rows, read by the sums, the totals and the output: computed once (DuckDB would
# otherwise pick an earlier, wider stage to keep and recompute the rest for each reader)
MATERIALIZED = ("rowv",)
INPUT_COLUMNS = ("行号", "项目", "一级指标", "二级指标", "三级指标", "分值", "年度指标值", "实际完成值", "档次", "评价得分", "说明", "年度")
OUTPUT_COLUMNS = (
    "行号", "项目", "项目序号", "指标序号", "一级指标", "一级指标原文", "二级指标", "三级指标", "年度指标值", "实际完成值", "说明",
    "分值", "得分", "状态", "原因", "分值合计", "总分", "等级",
)

# ---- fixed regular expressions (RE2 and Java agree on these) ------------------------------
WS = r"[\t\n\x0B\f\r\x1C-\x1F \x85\xA0\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}]"
STRIP_RE = rf"^{WS}*((?s:.*?)){WS}*\z"
CMP_RE = rf"^{WS}*(>=|<=|≥|≤|≧|≦|>|<|=)"
CMP_REST_RE = rf"^{WS}*(?:>=|<=|≥|≤|≧|≦|>|<|=){WS}*((?s:.*))\z"
DATE_RE = r"^([0-9]{4})年(?:([0-9]{1,2})月(?:([0-9]{1,2})日)?|(底|末))?\z"
ISO_RE = r"^([0-9]{4})-([0-9]{1,2})(?:-([0-9]{1,2}))?\z"
NUM_RE = rf"^([+-]?)([0-9]+)(?:\.([0-9]+))?{WS}*(.*)\z"  # on stripped text: no trailing space
KEY_RE = r"^((?s:.*?))(?:指标)?\z"
YEAR_RE = r"^([0-9]+)(?:年)?(?:度)?(?:年)?\z"


def _nfkc_table() -> tuple[str, str]:
    """Single characters whose NFKC form is another single character (full-width forms, …)."""
    src, dst = [], []
    for cp in range(0x80, 0x10000):
        if 0xD800 <= cp < 0xE000:
            continue
        c = chr(cp)
        n = unicodedata.normalize("NFKC", c)
        if n != c and len(n) == 1:
            src.append(c)
            dst.append(n)
    return "".join(src), "".join(dst)


NFKC_FROM, NFKC_TO = _nfkc_table()


def _char_class(chars: str) -> str:
    """A regex character class of the given characters, as ranges of \\x{…} escapes."""
    cps = sorted(ord(c) for c in chars)
    ranges, start, prev = [], cps[0], cps[0]
    for cp in cps[1:] + [None]:
        if cp is not None and cp == prev + 1:
            prev = cp
            continue
        ranges.append(f"\\x{{{start:X}}}" + (f"-\\x{{{prev:X}}}" if prev != start else ""))
        if cp is not None:
            start = prev = cp
    return "[" + "".join(ranges) + "]"


NFKC_CLASS = _char_class(NFKC_FROM)

RULE_WORDS = {
    ast.Checklist: "清单",
    ast.Tiers: "档次",
    ast.Bands: "分段",
    ast.Deduction: "扣分",
    ast.Formula: "得分公式",
    ast.Judgement: "酌情",
    ast.Proportional: "正向/反向（目标表以外）",
    ast.TargetMet: "达标（目标表以外）",
}


@attrs.frozen
class Plan:
    """What the compiler read from a rulebook: the parts a self-evaluation query needs."""

    book: Rulebook
    targets: tuple  # FromTargets indicators, in order
    budget: object | None  # the budget-execution indicator
    budget_index: int | None  # its position among the top-level indicators


def plan(book: Rulebook) -> Plan:
    """Check that the rulebook is a self-evaluation rulebook the compiler handles."""
    unsupported: list[str] = []

    def note(word: str) -> None:
        if word not in unsupported:
            unsupported.append(word)

    targets, budget, budget_index = [], None, None
    for n, ind in enumerate(book.indicators):
        if ind.children:
            for sub in ind.walk():
                if sub.children:
                    continue
                note(RULE_WORDS.get(type(sub.rule), "指标树") if sub.rule is not None else "指标树")
            note("指标树（下级指标写在规则集中）")
            continue
        if ind.survey is not None:
            note("问卷")
        if ind.vetoes:
            note("否决条件（若…则）")
        if ind.items:
            note("清单")
        rule = ind.rule
        if isinstance(rule, ast.FromTargets):
            targets.append(ind)
        elif isinstance(rule, (ast.Proportional, ast.TargetMet)) and _budget_shape(book, ind) and budget is None:
            budget, budget_index = ind, n
        else:
            note(RULE_WORDS.get(type(rule), type(rule).__name__))
    if book.bonus:
        note("加分")
    if book.penalty:
        note("扣分项")
    if book.vetoes:
        note("一票否决")
    if not targets:
        note("没有“来自目标表”的指标")
    keys = [_key(t.name) for t in targets]
    if len(set(keys)) != len(keys):
        note("同名的“来自目标表”指标")
    if book.digits > MAX_DIGITS:
        note(f"小数 {book.digits} 位（批量引擎最多 {MAX_DIGITS} 位）")
    for ind in [*targets, *([budget] if budget else [])]:
        if _scaled(ind.weight) is None or ind.weight >= 1000:
            note(f"权重 {ind.weight}（批量引擎要求权重小于 1000、最多 {S} 位小数）")
    for d in book.quantitative_defaults.values():
        z = d.zero
        if z is not None and not (isinstance(z, ast.Number)):
            note("零分点公式")
        elif isinstance(z, ast.Number) and z.unit != "倍" and _scaled(literal(z).value) is None:
            note("零分点精度")
    for t in book.qualitative_tiers:
        if not (isinstance(t.low, ast.Number) and isinstance(t.high, ast.Number)):
            note("定性档次")
    if unsupported:
        raise CompileError(
            f"规则集“{book.name}”含批量引擎不支持的规则：{'、'.join(unsupported)}",
            None,
            "批量引擎只编译单位自评规则集（预算执行率 + 来自目标表 + 默认规则）；请用 --engine interpreter",
        )
    return Plan(book, tuple(targets), budget, budget_index)


def _budget_shape(book: Rulebook, ind) -> bool:
    """预算执行率 正向 满分=100%: reads a derived 全年执行数 / 全年预算数 (or a budget fact)."""
    rule = ind.rule
    if rule.source is not None or not isinstance(rule.target, ast.Number) or ind.value_name is None:
        return False
    if literal(rule.target).dim != "":
        return False
    zero = getattr(rule, "zero", None)
    if zero is not None and not isinstance(zero, ast.Number):
        return False
    derived = {d.name: d.expr for d in book.derived}
    expr = derived.get(ind.value_name)
    return (
        isinstance(expr, ast.BinOp)
        and expr.op == "/"
        and isinstance(expr.left, ast.Ref)
        and isinstance(expr.right, ast.Ref)
        and expr.left.name == BUDGET_FACTS[1]
        and expr.right.name == BUDGET_FACTS[0]
    )


def _key(name: str) -> str:
    from jxdsl.lower import table_key as key

    return key(name)


def _scaled(value: Fraction, scale: int = S) -> int | None:
    v = value * 10**scale
    return int(v) if v.denominator == 1 else None


# ---- SQL macros (fixed text; only column names of the compiler's own choosing) ---------------
def _strip(e: str) -> str:
    # the regular expression only for the few texts that start or end with white space
    return f"CASE WHEN regexp_matches({e}, '^{WS}|{WS}\\z') THEN regexp_extract({e}, '{STRIP_RE}', 1) ELSE {e} END"


def _blank(e: str) -> str:
    return f"CASE WHEN {_strip(e)} = '' THEN NULL ELSE {e} END"


def _nfkc(e: str) -> str:
    # translating is slow with a long table: only the rare texts that hold such a character
    return f"CASE WHEN regexp_matches({e}, :nfkc_class) THEN translate({e}, :nfkc_from, :nfkc_to) ELSE {e} END"


INT = "DECIMAL(38,0)"  # DuckDB: HUGEINT (see _to_dialect)


def _unit_cases(u: str) -> tuple[str, str]:
    """(dimension, power of ten) of a written unit, as units.with_unit reads it."""
    dim = (
        f"CASE WHEN {u} IN ('元','万元','亿元') THEN '元' WHEN {u} IN ('%','‰','') THEN '' WHEN {u} = '分' THEN '分' "
        f"WHEN length({u}) >= 2 AND substr({u}, 1, 1) IN ('万','亿') THEN substr({u}, 2) ELSE {u} END"
    )
    uexp = (
        f"CASE WHEN {u} = '万元' THEN 4 WHEN {u} = '亿元' THEN 8 WHEN {u} IN ('元','','分') THEN 0 WHEN {u} = '%' THEN -2 "
        f"WHEN {u} = '‰' THEN -3 WHEN length({u}) >= 2 AND substr({u}, 1, 1) = '万' THEN 4 "
        f"WHEN length({u}) >= 2 AND substr({u}, 1, 1) = '亿' THEN 8 ELSE 0 END"
    )
    return dim, uexp


def _groups(s: str, pattern: str, names: tuple[str, ...], q: str, dialect: str) -> tuple[list[str], list[str]]:
    """Capture groups of one match as columns {q}_{name}: (columns of this stage, of the next).

    DuckDB matches once and returns a struct of every group; Spark extracts group by group."""
    if dialect == "duckdb":
        fields = ", ".join(f"'{n}'" for n in names)
        return [f"regexp_extract({s}, '{pattern}', [{fields}]) AS {q}_rx"], [f"{q}_rx.{n} AS {q}_{n}" for n in names]
    return [f"regexp_extract({s}, '{pattern}', {i}) AS {q}_{n}" for i, n in enumerate(names, 1)], []


def _date_cols(q: str, dialect: str) -> tuple[list[str], list[str]]:
    """The date readings of {q}_s (units.parse_date), each behind a cheap test: (this stage, next)."""
    s = f"{q}_s"
    d = f"strpos({s}, '年') > 0"
    i = f"strpos({s}, '-') > 0"
    written, written2 = _groups(f"CASE WHEN {d} THEN {s} END", DATE_RE, ("dy", "dm", "dd", "dx"), f"{q}w", dialect)
    iso, iso2 = _groups(f"CASE WHEN {i} THEN {s} END", ISO_RE, ("iy", "im", "id"), f"{q}i", dialect)
    now = [
        f"COALESCE({d} AND regexp_matches({s}, '{DATE_RE}'), FALSE) AS {q}_isd",
        f"COALESCE({i} AND regexp_matches({s}, '{ISO_RE}'), FALSE) AS {q}_isi",
        *(_rename(c, f"{q}w_d", f"{q}_d") for c in written),
        *(_rename(c, f"{q}i_i", f"{q}_i") for c in iso),
    ]
    later = [*(_rename(c, f"{q}w_d", f"{q}_d") for c in written2), *(_rename(c, f"{q}i_i", f"{q}_i") for c in iso2)]
    return now, later


def _rename(column: str, old: str, new: str) -> str:
    """The alias of 'expr AS alias' with a prefix replaced (struct columns keep theirs)."""
    expr, alias = column.rsplit(" AS ", 1)
    return f"{expr} AS {alias.replace(old, new, 1)}"


def _num_cols(q: str, dialect: str) -> tuple[list[str], list[str]]:
    """Sign, integer digits, fraction digits and unit of {q}_s (units.parse_quantity): (this stage, next)."""
    now, later = _groups(f"{q}_s", NUM_RE, ("sg", "int", "frac", "unit"), q, dialect)
    return now, [*later, f"{q}_int <> '' AS {q}_isn"]  # the integer group is never empty in a match


def _date_vals(q: str) -> list[str]:
    y = f"TRY_CAST(CASE WHEN {q}_isd THEN {q}_dy WHEN {q}_isi THEN {q}_iy END AS INT)"
    m = f"TRY_CAST(CASE WHEN {q}_isd THEN NULLIF({q}_dm, '') WHEN {q}_isi THEN {q}_im END AS INT)"
    d = f"TRY_CAST(CASE WHEN {q}_isd THEN NULLIF({q}_dd, '') WHEN {q}_isi THEN NULLIF({q}_id, '') END AS INT)"
    return [f"{y} AS {q}_Y", f"{m} AS {q}_M", f"{d} AS {q}_D"]


def _date_final(q: str) -> list[str]:
    Y, M, D = f"{q}_Y", f"{q}_M", f"{q}_D"
    valid = (
        f"(({q}_isd OR {q}_isi) AND {Y} >= 1 AND NOT ({q}_isd AND {M} IS NULL AND {q}_dx = '' AND {Y} < 1900) "
        f"AND ({M} IS NULL OR ({M} BETWEEN 1 AND 12 AND ({D} IS NULL OR ({D} >= 1 AND {D} <= "
        f"CASE WHEN {M} BETWEEN 1 AND 12 THEN day(last_day(make_date({Y}, {M}, 1))) END)))))"
    )
    start = f"CASE WHEN {M} IS NULL THEN make_date({Y}, 1, 1) WHEN {D} IS NULL THEN make_date({Y}, {M}, 1) ELSE make_date({Y}, {M}, {D}) END"
    end = f"CASE WHEN {M} IS NULL THEN make_date({Y}, 12, 31) WHEN {D} IS NULL THEN last_day(make_date({Y}, {M}, 1)) ELSE make_date({Y}, {M}, {D}) END"
    return [
        f"COALESCE({valid}, FALSE) AS {q}_date",
        f"CASE WHEN COALESCE({valid}, FALSE) THEN {start} END AS {q}_ds",
        f"CASE WHEN COALESCE({valid}, FALSE) THEN {end} END AS {q}_de",
    ]


def _scaled_cols(q: str, out: str, scale: int) -> list[str]:
    """{out}_nz: how many zeros to append to {q}'s digits at the scale (< 0: too many decimals)."""
    return [
        f"{scale} - length(rtrim(COALESCE({q}_frac, ''), '0')) + {q}_uexp AS {out}_nz",
        f"rtrim(COALESCE({q}_frac, ''), '0') AS {out}_ft",
    ]


def _scaled_final(q: str, out: str) -> list[str]:
    """{out}_sig: {q}'s significant digits at the scale (NULL when it needs more decimals)."""
    digits = f"ltrim({q}_int || {out}_ft || repeat('0', {out}_nz), '0')"
    return [f"CASE WHEN {out}_nz >= 0 THEN {digits} END AS {out}_sig"]


def _scaled_value(q: str, src: str, maxdig: str, out: str | None = None) -> list[str]:
    """{out}_val: the exact integer (at most maxdig digits), or {out}_bad: 'prec' or 'big'."""
    out = out or src
    ok = f"({src}_sig IS NOT NULL AND length({src}_sig) <= {maxdig})"
    val = f"CASE WHEN {ok} THEN (CASE WHEN {q}_sg = '-' THEN -1 ELSE 1 END) * CAST(CASE WHEN {src}_sig = '' THEN '0' ELSE {src}_sig END AS {INT}) END"
    bad = f"CASE WHEN {src}_nz < 0 THEN 'prec' WHEN {src}_sig IS NOT NULL AND length({src}_sig) > {maxdig} THEN 'big' END"
    return [f"{val} AS {out}_val", f"{bad} AS {out}_bad"]


class _Params:
    """Rulebook values for the query: each becomes a placeholder replaced by a sqlglot literal."""

    def __init__(self):
        self.values: dict[str, object] = {}

    def __call__(self, name: str, value) -> str:
        self.values[name] = value
        return f":{name}"


def _pair(branches: list[tuple[str, str, str]], default: tuple[str, str]) -> tuple[str, str]:
    """Two CASE expressions (numerator, denominator) over the same conditions."""
    num = "CASE " + " ".join(f"WHEN {c} THEN {n}" for c, n, _ in branches) + f" ELSE {default[0]} END"
    den = "CASE " + " ".join(f"WHEN {c} THEN {d}" for c, _, d in branches) + f" ELSE {default[1]} END"
    return num, den


def _frac(p: _Params, name: str, f: Fraction) -> tuple[str, str]:
    return p(f"{name}_n", f.numerator), p(f"{name}_d", f.denominator)


def _row_proportional(p: _Params, book: Rulebook, op_key: str, d: ast.QuantitativeDefault) -> tuple[str, str, str]:
    """(zero-point problem code or NULL, numerator, denominator) of a 正向/反向 target row.

    V, T, W are the actual, target and weight at scale S; the score is num/den (points)."""
    V, T, W, one = "a_val", "n_val", "w_val", "CAST(1 AS DECIMAL(38,0))"
    unit = f"CAST({10**S} AS {INT})"
    positive = d.kind == "正向"
    full = (W, unit)
    nothing = ("0", "1")
    branches: list[tuple[str, str, str]] = []
    if book.zero_target == "满分":
        branches.append((f"{T} = 0", *full))
    else:
        met = f"{V} >= 0" if positive else f"{V} <= 0"
        branches.append((f"{T} = 0 AND {met}", *full))
        branches.append((f"{T} = 0", *nothing))
    if positive and book.over_target == "按偏离扣减":
        branches.append((f"{V} > {T}", f"{W} * (2 * {T} - {V})", f"{T} * {unit}"))
    branches.append((f"{V} >= {T}" if positive else f"{V} <= {T}", *full))
    zero_code = "NULL"
    z = d.zero
    if isinstance(z, ast.Number) and z.unit == "倍":
        kn, kd = _frac(p, f"zk_{op_key}", z.magnitude)
        if positive:
            branches.append((f"{V} * {kd} <= {T} * {kn}", *nothing))
            branches.append(("TRUE", f"{W} * ({V} * {kd} - {T} * {kn})", f"{T} * ({kd} - {kn}) * {unit}"))
        else:
            branches.append((f"{V} * {kd} >= {T} * {kn}", *nothing))
            branches.append(("TRUE", f"{W} * ({T} * {kn} - {V} * {kd})", f"{T} * ({kn} - {kd}) * {unit}"))
    elif isinstance(z, ast.Number):
        q = literal(z)
        Z = p(f"zv_{op_key}", _scaled(q.value))
        zdim = p(f"zdim_{op_key}", q.dim)
        side = f"{Z} >= {T}" if positive else f"{Z} <= {T}"
        where = "下方" if positive else "上方"
        zero_code = (
            f"CASE WHEN n_dim <> {zdim} THEN 'I:零分点与满分值的单位不一致：零分点 ' || {p(f'ztext_{op_key}', z.text)} || '，年度指标值 ' || t_raw "
            f"WHEN {side} THEN 'I:零分点 ' || {p(f'ztext2_{op_key}', z.text)} || ' 应在满分值 ' || t_raw || ' 的{where}' END"
        )
        if positive:
            branches.append((f"{V} <= {Z}", *nothing))
            branches.append(("TRUE", f"{W} * ({V} - {Z})", f"({T} - {Z}) * {unit}"))
        else:
            branches.append((f"{V} >= {Z}", *nothing))
            branches.append(("TRUE", f"{W} * ({Z} - {V})", f"({Z} - {T}) * {unit}"))
    if positive:
        default = (f"{W} * {V}", f"{T} * {unit}")
    else:
        default = (f"{W} * {T}", f"{V} * {unit}")
    num, den = _pair(branches, default)
    _ = one
    return zero_code, num, den


def _budget_score(p: _Params, book: Rulebook, ind) -> tuple[str, str, str]:
    """(problem code or NULL, numerator, denominator) of the budget indicator from A (budget) and B (spent).

    A = ba_val and B = bb_val at scale S; the ratio B/A is the derived 预算执行率."""
    A, B = "ba_val", "bb_val"
    rule = ind.rule
    w = ind.weight
    t = literal(rule.target).value
    W = p("bw", _scaled(w))
    unit = f"CAST({10**S} AS {INT})"
    full = (W, unit)
    nothing = ("0", "1")
    tn, td = _frac(p, "bt", t)
    if isinstance(rule, ast.TargetMet):
        cmp = {">=": ">=", "<=": "<=", ">": ">", "<": "<", "=": "="}[rule.op]
        return "NULL", f"CASE WHEN {B} * {td} {cmp} {tn} * {A} THEN {W} ELSE 0 END", unit
    positive = rule.direction == "正向"
    branches: list[tuple[str, str, str]] = []
    if t == 0:
        if book.zero_target == "满分":
            return "NULL", W, unit
        met = f"{B} >= 0" if positive else f"{B} <= 0"
        return "NULL", f"CASE WHEN {met} THEN {W} ELSE 0 END", unit
    code = "NULL"
    if positive and book.over_target == "按偏离扣减":
        c = w / t
        cn, cd = _frac(p, "bov", c)
        # w·(2t − r)/t with r = B/A: (w/t)·(2t·A − B)/A
        t2n, t2d = _frac(p, "b2t", 2 * t)
        branches.append((f"{B} * {td} > {tn} * {A}", f"{cn} * ({t2n} * {A} - {t2d} * {B})", f"{cd} * {t2d} * {A}"))
    branches.append((f"{B} * {td} >= {tn} * {A}" if positive else f"{B} * {td} <= {tn} * {A}", *full))
    z = rule.zero
    zv: Fraction | None = None
    if isinstance(z, ast.Number):
        q = literal(z)
        if z.unit == "倍":
            zv = t * z.magnitude
        elif q.dim != "":
            return "'I:零分点与满分值的单位不一致'", "0", "1"
        else:
            zv = q.value
            if (positive and zv >= t) or (not positive and zv <= t):
                return "'I:零分点应在满分值的" + ("下方" if positive else "上方") + "'", "0", "1"
    if zv is not None:
        zn, zd = _frac(p, "bz", zv)
        if positive:
            c = w / (t - zv)
            cn, cd = _frac(p, "bc", c)
            branches.append((f"{B} * {zd} <= {zn} * {A}", *nothing))
            branches.append(("TRUE", f"{cn} * ({B} * {zd} - {zn} * {A})", f"{cd} * {zd} * {A}"))
        else:
            c = w / (zv - t)
            cn, cd = _frac(p, "bc", c)
            branches.append((f"{B} * {zd} >= {zn} * {A}", *nothing))
            branches.append(("TRUE", f"{cn} * ({zn} * {A} - {B} * {zd})", f"{cd} * {zd} * {A}"))
    if positive:
        if t > 0:
            cn, cd = _frac(p, "br", w / t)
            default = (f"{cn} * {B}", f"{cd} * {A}")
        else:
            default = nothing
    else:
        if t < 0:
            default = nothing
        else:
            cn, cd = _frac(p, "br", w * t)
            branches.append((f"{B} <= 0", *nothing))
            default = (f"{cn} * {A}", f"{cd} * {B}")
    num, den = _pair(branches, default)
    return code, num, den


def _round(p: _Params, book: Rulebook, num: str, den: str) -> str:
    """num/den points rounded as the rulebook says, as an integer at scale S (floor 0)."""
    d = book.digits
    up = p("p10d", 10**d)
    back = p("p10sd", 10 ** (S - d))
    if book.rounding == "截断":
        q = f"(CAST({num} AS {INT}) * {up}) // CAST({den} AS {INT})"
    else:
        q = f"(2 * CAST({num} AS {INT}) * {up} + CAST({den} AS {INT})) // (2 * CAST({den} AS {INT}))"
    return f"CASE WHEN ({num}) <= 0 THEN CAST(0 AS {INT}) ELSE CAST({q} AS {INT}) * {back} END"


def _tier_bounds(p: _Params, book: Rulebook, i: int, t: ast.Tier) -> tuple[str, str, str, str, str]:
    """(inside(G), point?, lo numerator, lo denominator, interval text) for tier i."""
    lo, hi = literal(t.low).value, literal(t.high).value
    pct = t.low.unit in ("%", "‰") or t.high.unit in ("%", "‰")
    G = "g_val"
    if pct:
        lon, lod = _frac(p, f"tl{i}", lo)
        hin, hid = _frac(p, f"th{i}", hi)
        scale = f"CAST({10 ** (SG - S)} AS {INT})"
        lo_cmp = f"{G} * {lod} {'>=' if t.low_closed else '>'} {lon} * w_val * {scale}"
        hi_cmp = f"{G} * {hid} {'<=' if t.high_closed else '<'} {hin} * w_val * {scale}"
        point = "TRUE" if lo == hi else "w_val = 0"
        return f"({lo_cmp} AND {hi_cmp})", point, f"{lon} * w_val", f"{lod} * CAST({10**S} AS {INT})", f"{t.low.text},{t.high.text}"
    lon, lod = _frac(p, f"tl{i}", lo)
    hin, hid = _frac(p, f"th{i}", hi)
    scale = f"CAST({10**SG} AS {INT})"
    lo_cmp = f"{G} * {lod} {'>=' if t.low_closed else '>'} {lon} * {scale}"
    hi_cmp = f"{G} * {hid} {'<=' if t.high_closed else '<'} {hin} * {scale}"
    point = "TRUE" if lo == hi else "FALSE"
    return f"({lo_cmp} AND {hi_cmp})", point, lon, lod, f"{t.low.text},{t.high.text}"


def _sql_text(pl: Plan, dialect: str) -> tuple[str, dict]:
    """The query text (fixed templates) and its parameter values."""
    book = pl.book
    p = _Params()
    p("nfkc_from", NFKC_FROM)
    p("nfkc_to", NFKC_TO)
    p("nfkc_class", NFKC_CLASS)
    maxdig = p("maxdig", 17 - book.digits + S)
    wmax = p("wmaxdig", MAX_WEIGHT_DIGITS)
    gmax = p("gmaxdig", SG + 4)

    # -- 1. cleaned fields
    src = f"""
    SELECT "行号" AS ord, COALESCE({_strip('"项目"')}, '') AS proj,
      CASE WHEN {_strip('"一级指标"')} = '' THEN NULL ELSE {_strip('"一级指标"')} END AS first_raw,
      COALESCE({_strip('"二级指标"')}, '') AS second, COALESCE({_strip('"三级指标"')}, '') AS third,
      {_blank('"分值"')} AS w_raw, {_blank('"年度指标值"')} AS t_raw, {_blank('"实际完成值"')} AS a_raw,
      CASE WHEN {_strip('"档次"')} = '' THEN NULL ELSE {_strip('"档次"')} END AS tier,
      {_blank('"评价得分"')} AS g_raw, {_blank('"说明"')} AS note, "年度" AS year_raw,
      "一级指标" AS first_text, "年度指标值" AS t_text, "实际完成值" AS a_text, "分值" AS w_text, "评价得分" AS g_text
    FROM rows"""

    # -- 2. which indicator, and the structural problems of a row
    fi_case = "CASE fkey " + " ".join(f"WHEN {p(f'fk{i}', _key(t.name))} THEN {i}" for i, t in enumerate(pl.targets, 1)) + " END"
    ny = f"{_strip(_nfkc('year_raw'))}"
    year_bad = (
        f"(year_raw IS NOT NULL AND year_raw <> '' AND NOT COALESCE(regexp_matches({ny}, '{YEAR_RE}') "
        f"AND length(regexp_extract({ny}, '{YEAR_RE}', 1)) <= 4 "
        f"AND TRY_CAST(regexp_extract({ny}, '{YEAR_RE}', 1) AS INT) BETWEEN 1900 AND 2200, FALSE))"
    )
    budget_row = p("budget_row", BUDGET_ROW)
    firsts = f"""
    SELECT fx, {fi_case} AS fi0
    FROM (SELECT fx, regexp_extract({_strip(_nfkc('fx'))}, '{KEY_RE}', 1) AS fkey
          FROM (SELECT DISTINCT "一级指标" AS fx FROM rows WHERE "一级指标" IS NOT NULL) AS f0) AS f1"""
    nrm = f"""
    SELECT *,
      CASE WHEN proj = '' THEN 'E:自评表缺少项目名称'
           WHEN {year_bad} THEN 'E:“年度”应是四位年份，如 2021，实际是“' || year_raw || '”'
           WHEN third = {budget_row} THEN NULL
           WHEN first_raw IS NULL THEN 'E:缺少“一级指标”'
           WHEN third = '' THEN 'E:缺少“三级指标”'
           WHEN w_raw IS NULL THEN 'E:缺少“分值”' END AS struct_code,
      third = {budget_row} AS is_budget,
      CASE WHEN third = {budget_row} THEN 0 ELSE f.fi0 END AS fi,
      CASE WHEN third = {budget_row} THEN 'f' ELSE 'q' END AS mode
    FROM src AS s LEFT JOIN firsts AS f ON f.fx = s.first_text"""

    # -- 3. the lexicon: every distinct quantity text read once (a province's table repeats its
    # targets, units and weights), as a target ('q': comparator first) or as a fact ('f')
    # (read straight from the table: every stage before the joins is read once and streams)
    third_text = _strip('"三级指标"')
    mode = f"CASE WHEN {third_text} = {budget_row} THEN 'f' ELSE 'q' END"
    words = f"""
    SELECT DISTINCT x, m FROM (
      SELECT "年度指标值" AS x, {mode} AS m FROM rows UNION ALL SELECT "实际完成值", {mode} FROM rows
      UNION ALL SELECT "分值", 'f' FROM rows UNION ALL SELECT "评价得分", 'f' FROM rows) AS u
    WHERE x IS NOT NULL"""
    lx1 = f"""
    SELECT x, m, x_norm, x_cmp, CASE WHEN x_cmp = '' THEN x_norm ELSE regexp_extract(x_norm, '{CMP_REST_RE}', 1) END AS x_body
    FROM (SELECT *, CASE WHEN m = 'f' THEN '' ELSE regexp_extract(x_norm, '{CMP_RE}', 1) END AS x_cmp
          FROM (SELECT *, {_nfkc('x')} AS x_norm FROM words) AS w0) AS w1"""
    lx2 = f"SELECT *, {_strip('x_body')} AS x_s, regexp_extract(x_body, '^([0-9.]*)', 1) AS n_lead FROM lx1"
    parts, unpacked = [], []
    for now, later in (_date_cols("x", dialect), _num_cols("x", dialect)):
        parts += now
        unpacked += later
    lead, lead2 = _groups("n_lead", r"^([0-9]*)(\.([0-9]*))?", ("int0", "dot", "frac0"), "n", dialect)
    parts += lead
    unpacked += lead2
    parts.append(f"{_strip('substr(x_body, length(n_lead) + 1)')} AS n_unit0")
    lx3 = f"SELECT *, {', '.join(parts)} FROM lx2"
    lx4 = f"SELECT *, {', '.join(unpacked)} FROM lx3"
    # the target's number as number_from reads it; a fact (budget row, weight, score) as any quantity
    lx5 = f"""
    SELECT *, {', '.join(_date_vals('x'))},
      n_int0 <> '' AND length(n_lead) = length(n_int0) + length(n_dot) AS n_ok,
      CASE WHEN m = 'f' THEN x_sg ELSE '' END AS n_sg,
      CASE WHEN m = 'f' THEN x_int ELSE n_int0 END AS n_int,
      CASE WHEN m = 'f' THEN x_frac ELSE n_frac0 END AS n_frac,
      CASE WHEN m = 'f' THEN x_unit ELSE n_unit0 END AS n_unit
    FROM lx4"""
    units = list(_date_final("x"))
    for q in ("n", "x"):
        dim, uexp = _unit_cases(f"{q}_unit")
        units += [f"{dim} AS {q}_dim", f"{uexp} AS {q}_uexp"]
    units.append("CASE WHEN x_s = '' THEN 'none' WHEN x_date THEN 'date' WHEN x_isn THEN 'num' ELSE 'text' END AS x_kind")
    lx6 = f"SELECT *, {', '.join(units)} FROM lx5"
    # digits at a scale: n and xs at 10^-8, xg (evaluator scores) at 10^-18
    scaled = [("n", "n", S), ("x", "xs", S), ("x", "xg", SG)]
    lx7 = f"SELECT *, {', '.join(c for q, out, scale in scaled for c in _scaled_cols(q, out, scale))} FROM lx6"
    lx8 = f"SELECT *, {', '.join(c for q, out, _ in scaled for c in _scaled_final(q, out))} FROM lx7"
    vals = _scaled_value("n", "n", maxdig) + _scaled_value("x", "xs", maxdig) + _scaled_value("x", "xs", wmax, "xw") + _scaled_value("x", "xg", gmax)
    lexicon = f"SELECT *, {', '.join(vals)} FROM lx8"

    # -- 4. each row with the readings of its target (t, n), actual (a), weight (w) and score (g)
    sc3 = """
    SELECT r.*,
      t.x_cmp AS t_cmp, COALESCE(t.x_kind, 'none') AS t_kind, t.x_ds AS t_ds, t.x_de AS t_de, t.x_norm AS nt,
      t.n_ok AS n_ok, t.n_dim AS n_dim, t.n_sg AS n_sg, t.n_val AS n_val, t.n_bad AS n_bad,
      COALESCE(a.x_kind, 'none') AS a_kind, a.x_ds AS a_ds, a.x_de AS a_de, a.x_norm AS na,
      a.x_dim AS a_dim, a.x_sg AS a_sg, a.xs_val AS a_val, a.xs_bad AS a_bad,
      COALESCE(w.x_kind, 'none') AS w_kind, w.x_dim AS w_dim, w.x_unit AS w_unit, w.xw_val AS w_val, w.xw_bad AS w_bad,
      COALESCE(g.x_kind, 'none') AS g_kind, g.x_dim AS g_dim, g.x_unit AS g_unit, g.xg_val AS g_val, g.xg_bad AS g_bad
    FROM nrm AS r
    LEFT JOIN lexicon AS t ON t.x = r.t_text AND t.m = r.mode
    LEFT JOIN lexicon AS a ON a.x = r.a_text AND a.m = r.mode
    LEFT JOIN lexicon AS w ON w.x = r.w_text AND w.m = 'f'
    LEFT JOIN lexicon AS g ON g.x = r.g_text AND g.m = 'f'"""

    # -- 5. the rule of each row
    w_code = (
        "CASE WHEN NOT (w_kind = 'num' AND w_dim IN ('', '分') AND w_unit <> '%') THEN 'M:分值“' || w_raw || '”不是有效的分数' "
        "WHEN w_bad IS NOT NULL THEN 'I:分值“' || w_raw || '”超出批量引擎的范围（小于 1000、最多 8 位小数），请用解释器计分' "
        "WHEN w_val < 0 THEN 'M:分值“' || w_raw || '”不是有效的分数' END"
    )
    gscale = f"CAST({10 ** (SG - S)} AS {INT})"
    g_code = (
        "CASE WHEN g_kind = 'none' THEN NULL "
        "WHEN NOT (g_kind = 'num' AND g_dim IN ('', '分') AND g_unit <> '%') THEN 'I:评价得分“' || g_raw || '”不是分数' "
        f"WHEN g_bad = 'big' OR g_val < 0 OR g_val > w_val * {gscale} THEN 'I:评价得分 ' || g_raw || ' 超出 [0, ' || w_raw || ']' "
        "WHEN g_bad = 'prec' THEN 'I:评价得分“' || g_raw || '”小数位数过多，批量引擎无法精确计算，请用解释器计分' "
        "ELSE 'OK' END"
    )
    tiers = book.qualitative_tiers
    if tiers:
        tb = [_tier_bounds(p, book, i, t) for i, t in enumerate(tiers, 1)]
        by_name = "CASE tier " + " ".join(f"WHEN {p(f'tn{i}', t.name)} THEN {i}" for i, t in enumerate(tiers, 1)) + " END"
        by_score = "CASE " + " ".join(f"WHEN {b[0]} THEN {i}" for i, b in enumerate(tb, 1)) + " END"
        tier_idx = f"CASE WHEN tier IS NOT NULL THEN {by_name} WHEN g_code = 'OK' THEN {by_score} END"
        point = "CASE tier_idx " + " ".join(f"WHEN {i} THEN {b[1]}" for i, b in enumerate(tb, 1)) + " END"
        inside = "CASE tier_idx " + " ".join(f"WHEN {i} THEN {b[0]}" for i, b in enumerate(tb, 1)) + " END"
        lo_num = "CASE tier_idx " + " ".join(f"WHEN {i} THEN {b[2]}" for i, b in enumerate(tb, 1)) + " END"
        lo_den = "CASE tier_idx " + " ".join(f"WHEN {i} THEN {b[3]}" for i, b in enumerate(tb, 1)) + " END"
        tname = "CASE tier_idx " + " ".join(f"WHEN {i} THEN {p(f'tn{i}', t.name)}" for i, t in enumerate(tiers, 1)) + " END"
        tint = "CASE tier_idx " + " ".join(f"WHEN {i} THEN {p(f'ti{i}', b[4])}" for i, b in enumerate(tb, 1)) + " END"
        q_code = f"""CASE
          WHEN g_kind = 'none' AND tier IS NULL THEN
            CASE WHEN a_kind <> 'none' AND t_kind <> 'none' AND nt = na THEN 'OK_FULL'
                 ELSE 'M:定性指标的实际完成值与指标值不一致，需要评价人给出档次和得分' END
          WHEN g_kind <> 'none' AND g_code <> 'OK' THEN g_code
          WHEN tier IS NOT NULL AND tier_idx IS NULL THEN 'I:没有名为“' || tier || '”的档次'
          WHEN tier_idx IS NULL THEN 'I:评价得分 ' || g_raw || ' 不在任何档次内'
          WHEN g_kind = 'none' AND NOT ({point}) THEN 'M:档次“' || {tname} || '”是区间 ' || {tint} || '，需要评价人给出得分'
          WHEN g_kind <> 'none' AND NOT ({inside}) THEN 'I:评价得分 ' || g_raw || ' 不在档次“' || {tname} || '”的区间 ' || {tint} || ' 内'
          ELSE 'OK_TIER' END"""
    else:
        tier_idx, lo_num, lo_den = "NULL", "0", "1"
        q_code = "'M:定性指标没有默认规则'"

    # quantitative rows: the default rule for the comparator
    ops = (">=", "<=", ">", "<", "=")
    defaults = {}
    for op in ops:
        d = book.quantitative_defaults.get(op) or book.quantitative_defaults.get(">=" if op == ">" else "<=" if op == "<" else op)
        defaults[op] = d
    op_expr = (
        "CASE t_cmp WHEN '≥' THEN '>=' WHEN '≧' THEN '>=' WHEN '≤' THEN '<=' WHEN '≦' THEN '<=' "
        "WHEN '' THEN (CASE WHEN t_kind = 'date' THEN '<=' ELSE '>=' END) ELSE t_cmp END"
    )
    kind_case = "CASE op " + " ".join(f"WHEN '{op}' THEN {p(f'kind{n}', d.kind)}" for n, (op, d) in enumerate(defaults.items()) if d) + " END"
    zero_codes, nums, dens = [], [], []
    for n, (op, d) in enumerate(defaults.items()):
        if d is None or d.kind not in ("正向", "反向"):
            continue
        zc, num, den = _row_proportional(p, book, str(n), d)
        zero_codes.append(f"WHEN '{op}' THEN {zc}")
        nums.append(f"WHEN '{op}' THEN {num}")
        dens.append(f"WHEN '{op}' THEN {den}")
    zero_case = ("CASE op " + " ".join(zero_codes) + " END") if zero_codes else "NULL"
    prop_num = ("CASE op " + " ".join(nums) + " END") if nums else "0"
    prop_den = ("CASE op " + " ".join(dens) + " END") if dens else "1"
    date_met = (
        "CASE op WHEN '>=' THEN a_ds >= t_ds WHEN '>' THEN a_ds > t_de WHEN '<=' THEN a_de <= t_de "
        "WHEN '<' THEN a_de < t_ds ELSE t_ds <= a_ds AND a_de <= t_de END"
    )
    num_met = "CASE op WHEN '>=' THEN a_val >= n_val WHEN '>' THEN a_val > n_val WHEN '<=' THEN a_val <= n_val WHEN '<' THEN a_val < n_val ELSE a_val = n_val END"
    tdim = "CASE WHEN t_kind = 'date' THEN '日期' ELSE n_dim END"
    adim = "CASE a_kind WHEN 'date' THEN '日期' WHEN 'text' THEN '文本' ELSE a_dim END"
    rs_code = f"""CASE
      WHEN a_kind = 'none' THEN 'M:缺少实际完成值'
      WHEN kind IS NULL THEN 'M:规则集没有“定量 ' || op || '”的默认规则'
      WHEN t_kind = 'num' AND NOT n_ok THEN 'I:年度指标值“' || t_raw || '”无法识别'
      WHEN {adim} = '文本' THEN 'I:实际完成值需要数值，实际是文字“' || a_raw || '”'
      WHEN {tdim} <> {adim} THEN 'I:实际完成值与年度指标值的单位不一致：实际完成值“' || a_raw || '”，年度指标值“' || t_raw || '”'
      WHEN t_kind = 'num' AND (n_bad IS NOT NULL OR a_bad IS NOT NULL) THEN
        'I:数值超出批量引擎的范围（最多 8 位小数、绝对值小于 10^' || CAST({maxdig} - 8 AS VARCHAR) || '），请用解释器计分'
      WHEN t_kind = 'num' AND kind <> '达标' AND {zero_case} IS NOT NULL THEN {zero_case}
      ELSE 'OK' END"""
    rul = f"""
    SELECT *, {tier_idx} AS tier_idx FROM (
      SELECT *, {w_code} AS w_code, {g_code} AS g_code, {op_expr} AS op FROM sc3) AS r0"""
    rul2 = f"SELECT *, {rs_code} AS rs_code FROM (SELECT *, {kind_case} AS kind FROM rul) AS k0"
    code_expr = f"""CASE
      WHEN struct_code IS NOT NULL THEN struct_code
      WHEN is_budget THEN 'B'
      WHEN fi IS NULL THEN 'R:一级指标“' || first_raw || '”不在规则集中'
      WHEN w_code IS NOT NULL THEN w_code
      WHEN t_kind IN ('none', 'text') THEN {q_code}
      WHEN g_code = 'OK' THEN 'OK_G'
      WHEN rs_code <> 'OK' THEN rs_code
      WHEN g_code IS NOT NULL THEN g_code
      ELSE 'OK_RULE' END"""
    rul3 = f"SELECT *, {code_expr} AS code FROM rul2"

    # -- 6. scores
    unit = f"CAST({10**S} AS {INT})"
    g_unit = f"CAST({10**SG} AS {INT})"
    met_score = f"CASE WHEN (CASE WHEN t_kind = 'date' THEN {date_met} ELSE {num_met} END) THEN w_val ELSE 0 END"
    rule_num = f"CASE WHEN kind = '达标' OR t_kind = 'date' THEN {met_score} ELSE {prop_num} END"
    rule_den = f"CASE WHEN kind = '达标' OR t_kind = 'date' THEN {unit} ELSE {prop_den} END"
    score_num = f"""CASE code WHEN 'OK_FULL' THEN w_val WHEN 'OK_G' THEN g_val
      WHEN 'OK_TIER' THEN (CASE WHEN g_kind <> 'none' THEN g_val ELSE {lo_num} END)
      WHEN 'OK_RULE' THEN {rule_num} END"""
    score_den = f"""CASE code WHEN 'OK_FULL' THEN {unit} WHEN 'OK_G' THEN {g_unit}
      WHEN 'OK_TIER' THEN (CASE WHEN g_kind <> 'none' THEN {g_unit} ELSE {lo_den} END)
      WHEN 'OK_RULE' THEN {rule_den} END"""
    leaf = f"""
    SELECT *, CASE WHEN code = 'OK_FULL' THEN {_round(p, book, 'num', 'den')}
                   WHEN substr(code, 1, 3) = 'OK_' THEN LEAST({_round(p, book, 'num', 'den')}, w_val) END AS score_s,
      CASE WHEN w_code IS NOT NULL OR substr(code, 1, 2) IN ('E:', 'R:') THEN 0 ELSE COALESCE(w_val, 0) END AS leaf_w
    FROM (SELECT *, {score_num} AS num, {score_den} AS den FROM rul3) AS s1"""

    # -- 7. the budget row: the last one of each project is used
    if pl.budget is not None:
        b_code, b_num, b_den = _budget_score(p, book, pl.budget)
        bw = p("bw2", _scaled(pl.budget.weight))
        facts = (p("fa", BUDGET_FACTS[0]), p("fb", BUDGET_FACTS[1]))

        def fact_check(q: str, raw: str, name: str) -> str:
            return (
                f"WHEN NOT ({q}_kind = 'num' AND {q}_dim = '元') THEN 'I:数据“' || {name} || '”应为金额（元、万元或亿元），实际写的是“' || COALESCE({raw}, '') || '”' "
                f"WHEN {q}_sg = '-' AND COALESCE({q}_val <> 0, TRUE) THEN 'I:金额“' || {name} || '”不能为负数：' || {raw} "
                f"WHEN {q}_bad IS NOT NULL THEN 'I:数据“' || {name} || '”超出批量引擎的范围，请用解释器计分' "
            )

        budget = f"""
        SELECT *, CASE WHEN bcode = 'OK' THEN LEAST({_round(p, book, 'bnum', 'bden')}, {bw}) END AS bscore_s
        FROM (SELECT *, CASE WHEN bcode = 'OK' THEN {b_num} END AS bnum, CASE WHEN bcode = 'OK' THEN {b_den} END AS bden
          FROM (SELECT *, CASE WHEN code <> 'B' THEN NULL
              {fact_check('n', 't_raw', facts[0]).replace('n_kind', 't_kind')}
              {fact_check('a', 'a_raw', facts[1])}
              WHEN ba_val = 0 THEN 'M:全年预算数为 0，无法计算预算执行率'
              ELSE COALESCE({b_code}, 'OK') END AS bcode
            FROM (SELECT *, n_val AS ba_val, a_val AS bb_val FROM leaf) AS b0) AS b1) AS b2"""
    else:
        budget = "SELECT *, CASE WHEN code = 'B' THEN 'R:规则集没有预算执行率指标，此行未使用' END AS bcode, CAST(NULL AS DECIMAL(38,0)) AS bscore_s FROM leaf"

    # -- 8. indicator sums, project totals and grades
    rowv = f"""
    SELECT *, CASE WHEN code = 'B' THEN bcode ELSE code END AS fcode,
      CASE WHEN code = 'B' THEN bscore_s ELSE score_s END AS fscore
    FROM budget"""
    grp = """
    SELECT proj, fi, SUM(leaf_w) AS wsum, COUNT(*) AS n,
      SUM(CASE WHEN fscore IS NULL THEN 1 ELSE 0 END) AS nbad,
      SUM(CASE WHEN substr(fcode, 1, 2) = 'I:' AND w_bad IS NOT NULL THEN 1 ELSE 0 END) AS nwbad,
      SUM(fscore) AS ssum
    FROM rowv WHERE fi >= 1 AND struct_code IS NULL GROUP BY proj, fi"""
    tw = "CASE fi " + " ".join(f"WHEN {i} THEN {p(f'fw{i}', _scaled(t.weight))}" for i, t in enumerate(pl.targets, 1)) + " END"
    grp2 = f"SELECT *, wsum = {tw} AND nwbad = 0 AS wok FROM grp"
    k = len(pl.targets)
    per_fi = []
    for i in range(1, k + 1):
        per_fi.append(f"MAX(CASE WHEN r.fi = {i} AND g.wok AND g.nbad = 0 THEN g.ssum END) AS s{i}")
    nb = "SUM(CASE WHEN r.code = 'B' THEN 1 ELSE 0 END)"
    bud_col = (
        f"CASE WHEN {nb} = 1 THEN MAX(CASE WHEN fcode = 'OK' AND is_budget THEN fscore END) END AS sb"
        if pl.budget is not None else "CAST(0 AS DECIMAL(38,0)) AS sb"
    )
    proj_q = f"""
    SELECT r.proj, MIN(r.ord) AS pord, {nb} AS nb, {bud_col}, {', '.join(per_fi)}
    FROM rowv AS r LEFT JOIN grp2 AS g ON r.proj = g.proj AND r.fi = g.fi
    WHERE r.struct_code IS NULL GROUP BY r.proj"""
    total_terms = " + ".join(["sb", *[f"s{i}" for i in range(1, k + 1)]])
    grade = "CASE " + " ".join(
        f"WHEN total_s * {p(f'gd{n}', b.denominator)} {'>=' if op == '>=' else '>'} {p(f'gn{n}', b.numerator)} * {unit} THEN {p(f'gname{n}', name)}"
        for n, (name, op, b) in enumerate(book.grades)
    ) + f" ELSE {p('glow', book.lowest_grade)} END"
    proj2 = f"SELECT proj, pord, nb, total_s, CASE WHEN total_s IS NOT NULL THEN {grade} END AS grade FROM (SELECT *, {total_terms} AS total_s FROM projq) AS p0"
    names = "CASE r.fi " + " ".join(f"WHEN {i} THEN {p(f'fname{i}', t.name)}" for i, t in enumerate(pl.targets, 1))
    names += f" WHEN 0 THEN {p('bname', pl.budget.name if pl.budget is not None else BUDGET_ROW)} END"
    group_reason = f"'目标表中“' || {names} || '”各行分值之和与规则集规定的分值不符'"
    # a project's budget rows when it has several: none is used, all are rejected
    dup = "COALESCE(r.code = 'B' AND pr.nb > 1, FALSE)" if pl.budget is not None else "FALSE"
    dec = "CAST(CAST({} AS DECIMAL(28,0)) * CAST('0.00000001' AS DECIMAL(9,8)) AS DECIMAL(38,8))"
    final = f"""
    SELECT r.ord AS "行号", r.proj AS "项目", pr.pord AS "项目序号",
      CASE WHEN r.struct_code IS NULL AND (r.fi IS NOT NULL) THEN r.fi END AS "指标序号",
      CASE WHEN r.struct_code IS NULL THEN {names} END AS "一级指标", r.first_raw AS "一级指标原文",
      r.second AS "二级指标", r.third AS "三级指标", r.t_raw AS "年度指标值", r.a_raw AS "实际完成值", r.note AS "说明",
      {dec.format('CASE WHEN r.is_budget THEN ' + (bw if pl.budget is not None else '0') + ' ELSE r.leaf_w END')} AS "分值",
      {dec.format(f'CASE WHEN NOT {dup} THEN r.fscore END')} AS "得分",
      CASE WHEN {dup} OR substr(r.fcode, 1, 2) IN ('E:', 'R:') THEN 'rejected' WHEN substr(r.fcode, 1, 2) = 'M:' THEN 'missing'
           WHEN substr(r.fcode, 1, 2) = 'I:' THEN 'invalid' ELSE 'scored' END AS "状态",
      CASE WHEN {dup} THEN {p('dup1', DUP[0])} || CAST(pr.nb AS VARCHAR) || {p('dup2', DUP[1])}
           WHEN substr(r.fcode, 1, 2) IN ('E:', 'R:', 'M:', 'I:') THEN substr(r.fcode, 3)
           WHEN r.fi >= 1 AND NOT g.wok THEN {group_reason} END AS "原因",
      {dec.format('g.wsum')} AS "分值合计",
      {dec.format('pr.total_s')} AS "总分", pr.grade AS "等级"
    FROM rowv AS r LEFT JOIN grp2 AS g ON r.proj = g.proj AND r.fi = g.fi
    LEFT JOIN proj2 AS pr ON r.proj = pr.proj AND r.struct_code IS NULL
    ORDER BY pr.pord NULLS FIRST, r.ord"""

    ctes = [
        ("src", src), ("firsts", firsts), ("nrm", nrm), ("words", words), ("lx1", lx1), ("lx2", lx2), ("lx3", lx3), ("lx4", lx4), ("lx5", lx5),
        ("lx6", lx6), ("lx7", lx7), ("lx8", lx8), ("lexicon", lexicon), ("sc3", sc3), ("rul", rul), ("rul2", rul2), ("rul3", rul3), ("leaf", leaf), ("budget", budget), ("rowv", rowv),
        ("grp", grp), ("grp2", grp2), ("projq", proj_q), ("proj2", proj2),
    ]
    text = "WITH " + ",\n".join(f"{name} AS {'MATERIALIZED ' if name in MATERIALIZED else ''}({body})" for name, body in ctes) + final
    return text, p.values


def _lit(v) -> exp.Expression:
    if v is None:
        return exp.null()
    if isinstance(v, bool):
        return exp.true() if v else exp.false()
    if isinstance(v, int):
        # big integers become DECIMAL(38,0) literals so both engines keep them exact
        if abs(v) >= 2**31:
            return exp.cast(exp.Literal.string(str(v)), exp.DataType.build("DECIMAL(38,0)"))
        return exp.Literal.number(v)
    return exp.Literal.string(str(v))


def query(book: Rulebook, dialect: str = "duckdb") -> exp.Expression:
    """The scoring query as a sqlglot tree for a dialect (written in DuckDB's; transpiled by ``to_sql``)."""
    pl = plan(book)
    text, values = _sql_text(pl, dialect)
    tree = sqlglot.parse_one(text, read="duckdb")
    return exp.replace_placeholders(tree, **{k: _lit(v) for k, v in values.items()})


def _to_dialect(tree: exp.Expression, dialect: str) -> exp.Expression:
    if dialect == "duckdb":
        def swap(node):
            if isinstance(node, exp.DataType) and node.sql("duckdb") == "DECIMAL(38, 0)":
                return exp.DataType.build("HUGEINT", dialect="duckdb")
            return node

        return tree.transform(swap)

    def plain_cte(node):  # Spark SQL has no MATERIALIZED hint
        if isinstance(node, exp.CTE) and node.args.get("materialized"):
            node = node.copy()
            node.set("materialized", None)
        return node

    return tree.transform(plain_cte)


def compiled(book: Rulebook, dialect: str = "duckdb") -> exp.Expression:
    """The query tree for a dialect (DuckDB integers are HUGEINT)."""
    if dialect not in DIALECTS:
        raise ValueError(dialect)
    return _to_dialect(query(book, dialect), dialect)


_SQL_CACHE: dict[tuple, str] = {}


def _cached_sql(book: Rulebook, dialect: str, pretty: bool) -> str:
    key = (book.name, book.content_hash, dialect, pretty)
    if key not in _SQL_CACHE:
        _SQL_CACHE[key] = compiled(book, dialect).sql(dialect=dialect, pretty=pretty)
    return _SQL_CACHE[key]


def to_sql(book: Rulebook, dialect: str = "duckdb", pretty: bool = True) -> str:
    """The scoring query as SQL text for ``duckdb`` or ``spark``.

    It reads a relation named ``rows`` with the text columns of the self-evaluation table plus
    ``行号`` (the row's line) and ``年度`` (NULL when absent)."""
    if dialect not in DIALECTS:
        from jxdsl.errors import UsageError

        raise UsageError(f"不支持的 SQL 方言“{dialect}”", None, "可用：duckdb、spark")
    return _cached_sql(book, dialect, pretty)
