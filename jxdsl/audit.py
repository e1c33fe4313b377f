"""Audit a published score table: what does not add up, and what does not follow the rule.

Published evaluation reports contain subtotals that are not the sum of their rows, scores
above their weight, grades that do not match totals and scores that do not follow the
stated rule. Every comparison allows half a unit in the last digit the table publishes.
"""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import attrs

from jxdsl import ast, ir
from jxdsl.errors import FactError, Span, UsageError
from jxdsl.link import LinkedIndicator, Rulebook, tier_points
from jxdsl.lower import lower
from jxdsl.tables import check_header, csv_records, find_header
from jxdsl.units import DATE, NUMBER_HINT, TEXT, Quantity, normalize, number_problem, parse_quantity, plain, plain_number, shorten, split_cmp

COLUMNS = ("路径", "分值", "得分")
OPTIONAL = ("指标值", "实际值", "等级", "项目")
TOTAL, BONUS, PENALTY = "合计", "加分", "扣分"
DEFAULT_GRADES = (("优", Fraction(90)), ("良", Fraction(80)), ("中", Fraction(60)))
NATIONAL_TIERS = ((Fraction(8, 10), Fraction(1)),)  # achieved: 80%–100% of the weight


@attrs.frozen
class Row:
    """One row of a published score table, with the numbers as printed."""

    path: tuple[str, ...]
    weight: Fraction | None
    score: Fraction | None
    score_text: str
    target: str | None = None
    actual: str | None = None
    grade: str | None = None
    line: int = 0
    project: str | None = None  # the 项目 column of a table of several projects

    @property
    def key(self) -> str:
        return "/".join(self.path)


@attrs.frozen
class Finding:
    """Something in the table that does not add up or does not follow the rule."""

    path: str
    kind: str
    published: str | None
    expected: str | None
    message: str
    line: int = 0
    project: str | None = None

    def as_json(self) -> dict:
        out = {"path": self.path, "kind": self.kind, "published": self.published, "expected": self.expected, "message": self.message}
        return {"project": self.project, **out} if self.project is not None else out


# ---- reading --------------------------------------------------------------------------------
def read_table(path: str | Path, sheet: str | None = None, note=None) -> list[Row]:
    """The rows of an audit table (CSV or XLSX), numbers exact as printed; read as the scoring
    commands read tables (``tables.py``: UTF-8 or GB18030, the sheet chosen the same way, merged
    cells filled, one name per column); ``note`` is told which sheet or encoding was read."""
    p = Path(path)
    if not p.is_file():
        raise UsageError(f"找不到评分表“{path}”")
    suffix = p.suffix.lower()
    if suffix not in (".csv", ".xlsx", ".xlsm"):
        raise UsageError(f"不支持的评分表类型“{p.suffix}”", None, "支持 .csv 和 .xlsx")
    if sheet is not None and suffix == ".csv":
        raise UsageError(f"--sheet 只用于 Excel 文件（.xlsx），“{path}”不是", None, "去掉 --sheet")
    line, header, records = _records(p, sheet, note or (lambda text: None))
    header = check_header(header, str(p), line)
    records = [(n, dict(zip(header, cells))) for n, cells in records]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise FactError(f"评分表缺少列：{'、'.join(missing)}", Span(str(p), 1, 1), f"需要的列：{'、'.join(COLUMNS)}，可选：{'、'.join(OPTIONAL)}")
    rows = []
    for n, r in records:
        cell = lambda k: None if r.get(k) in (None, "") else r[k].strip()  # noqa: E731
        name = cell("路径")
        if name is None:
            raise FactError(f"评分表第 {n} 行缺少路径", Span(str(p), n, 1))
        rows.append(
            Row(
                tuple(x.strip() for x in normalize(name).split("/")),
                _number(cell("分值"), p, n, "分值"),
                _number(cell("得分"), p, n, "得分"),
                cell("得分") or "",
                cell("指标值"),
                cell("实际值"),
                cell("等级"),
                n,
                cell("项目") if "项目" in header else None,
            )
        )
    return rows


def _records(p: Path, sheet: str | None, note) -> tuple[int, list[str], list[tuple[int, list[str]]]]:
    """(header line, header cells, data rows) of a CSV or of a workbook's sheet."""
    if p.suffix.lower() == ".csv":
        from jxdsl.encoding import detect, note as encoding_note

        enc = detect(p)
        if encoding_note(enc):
            note(f"“{p}”{encoding_note(enc)}")
        rows = [(n, r) for n, r in csv_records(p, enc) if r]
    else:
        from jxdsl.xlsxread import SheetRows, choose_sheet, close_book, fill_merged, open_book

        wb = open_book(p)
        try:
            ws = choose_sheet(wb, p, sheet)
            reader = SheetRows(wb, ws, p)
            rows = list(reader)
            width = max((len(r) for _, r in rows), default=0)
            rows = [(n, r + [""] * (width - len(r))) for n, r in rows]
        finally:
            close_book(wb)
        note(f"读取“{p}”的工作表“{ws.title}”")
        line, header, rest = find_header(rows, (COLUMNS,))
        return line, header, list(fill_merged(rest, reader.merges, line))
    line, header, rest = find_header(rows, (COLUMNS,))
    return line, header, list(rest)


def _number(text: str | None, p: Path, line: int, column: str) -> Fraction | None:
    """A score or weight as printed, read by the grammar of every other number (units): no
    exponents, Infinity or NaN, at most MAX_DIGITS digits, thousands grouped by three."""
    if text is None:
        return None
    value = plain_number(normalize(text).strip().removesuffix("分"))
    if value is None:
        problem = number_problem(text)
        raise FactError(f"评分表第 {line} 行“{column}”" + (f"：{problem}" if problem else f"不是数字：{shorten(text)}"), Span(str(p), line, 1), NUMBER_HINT if problem else None)
    return value


def audit_file(path: str, book: Rulebook | None = None, sheet: str | None = None, note=None) -> list["Finding"]:
    """Audit a table file; a table with a 项目 column holds several projects, each audited alone."""
    projects: dict[str | None, list[Row]] = {}
    for r in read_table(path, sheet, note):
        projects.setdefault(r.project, []).append(r)
    findings = []
    for project, rows in projects.items():
        findings += [attrs.evolve(f, project=project) for f in audit(rows, book)] if project is not None else audit(rows, book)
    return sorted(findings, key=lambda f: f.line)


# ---- tolerance ------------------------------------------------------------------------------
def tolerance(published: str) -> Fraction:
    """Half a unit in the last digit printed: 16.5 → 0.05, 92.66 → 0.005, 17 → 0.5."""
    text = normalize(published).rstrip("分")
    decimals = len(text.split(".", 1)[1]) if "." in text else 0
    return Fraction(1, 2 * 10**decimals)


def _agrees(published: Row, expected: Fraction) -> bool:
    return abs(published.score - expected) <= tolerance(published.score_text)


def _fmt(value: Fraction | None) -> str | None:
    return None if value is None else plain(value, 4)


# ---- checks ---------------------------------------------------------------------------------
def audit(rows: list[Row], book: Rulebook | None = None) -> list[Finding]:
    """Every inconsistency in the table, in table order."""
    findings: list[Finding] = []
    by_path = {r.path: r for r in rows}
    children: dict[tuple[str, ...], list[Row]] = {}
    for r in rows:
        if len(r.path) > 1:
            children.setdefault(r.path[:-1], []).append(r)
    # the table's paths are normalized (其他试验(水稻)); the rulebook's as written (其他试验（水稻）)
    indicators = {tuple(normalize(p).strip() for p in i.path): i for i in book.walk()} if book else {}
    recomputed = _recompute(rows, children)
    for r in rows:
        if r.path == (TOTAL,):
            continue
        findings += _range(r)
        kids = children.get(r.path, [])
        if kids:
            findings += _sums(r, kids, recomputed)
        elif r.path[0] not in (BONUS, PENALTY):
            findings += _rule(r, indicators.get(r.path), book)
        if book and r.path in indicators and r.weight is not None and r.weight != indicators[r.path].weight and r.path[0] not in (BONUS, PENALTY):
            findings.append(
                Finding(r.key, "weight_vs_rulebook", _fmt(r.weight), _fmt(indicators[r.path].weight), f"分值 {_fmt(r.weight)} 与规则集规定的 {_fmt(indicators[r.path].weight)} 不符", r.line)
            )
    total = by_path.get((TOTAL,))
    if total is not None:
        findings += _total(total, rows, book, recomputed)
    return findings


def _range(r: Row) -> list[Finding]:
    if r.score is None or r.weight is None or r.path[0] == PENALTY:
        return []
    if r.score < 0:
        return [Finding(r.key, "score_out_of_range", r.score_text, "≥ 0", f"得分 {r.score_text} 小于 0", r.line)]
    if r.score > r.weight:
        return [Finding(r.key, "score_out_of_range", r.score_text, f"≤ {_fmt(r.weight)}", f"得分 {r.score_text} 超过分值 {_fmt(r.weight)}", r.line)]
    return []


def _sums(r: Row, kids: list[Row], recomputed: dict) -> list[Finding]:
    out = []
    if r.path[0] not in (BONUS, PENALTY) and r.weight is not None and all(k.weight is not None for k in kids):
        total = sum((k.weight for k in kids), Fraction(0))
        if total != r.weight:
            parts = " + ".join(_fmt(k.weight) for k in kids) + (f" = {_fmt(total)}" if len(kids) > 1 else "")
            out.append(Finding(r.key, "weight_sum", _fmt(r.weight), _fmt(total), f"下级分值之和 {parts}，与本级分值 {_fmt(r.weight)} 不符", r.line))
    if r.score is not None and all(k.score is not None for k in kids):
        total = sum((k.score for k in kids), Fraction(0))
        rebuilt = sum((recomputed[k.path] for k in kids), Fraction(0))
        if r.path == (BONUS,) and r.weight is not None:
            total, rebuilt = min(total, r.weight), min(rebuilt, r.weight)  # the bonus row holds the capped sum
        if not _agrees(r, total) and not _agrees(r, rebuilt):
            parts = " + ".join(k.score_text for k in kids)
            out.append(Finding(r.key, "score_sum", r.score_text, _fmt(total), f"下级得分之和 {parts} = {_fmt(total)}，与公布的本级得分 {r.score_text} 不符", r.line))
    return out


def _recompute(rows: list[Row], children: dict) -> dict[tuple[str, ...], Fraction]:
    """Each row's score rebuilt from its leaves: a misprinted subtotal does not hide the true total."""
    out: dict[tuple[str, ...], Fraction] = {}
    for r in sorted(rows, key=lambda r: -len(r.path)):  # children first: no recursion on deep paths
        if r.path not in out:
            kids = children.get(r.path, [])
            out[r.path] = sum((out[k.path] for k in kids), Fraction(0)) if kids and all(k.score is not None for k in kids) else (r.score or Fraction(0))
    return out


def _total(total: Row, rows: list[Row], book: Rulebook | None, recomputed: dict) -> list[Finding]:
    out = []
    top = [r for r in rows if len(r.path) == 1 and r.path[0] not in (TOTAL, BONUS, PENALTY)]
    bonus_row = next((r for r in rows if r.path == (BONUS,)), None)
    if bonus_row is not None and bonus_row.score is not None:
        bonus = bonus_row.score
    else:
        bonus = sum((r.score or 0 for r in rows if len(r.path) == 2 and r.path[0] == BONUS), Fraction(0))
    penalty_row = next((r for r in rows if r.path == (PENALTY,)), None)
    if penalty_row is not None and penalty_row.score is not None:
        penalty = penalty_row.score
    else:
        penalty = sum((r.score or 0 for r in rows if len(r.path) == 2 and r.path[0] == PENALTY), Fraction(0))
    if total.weight is not None and top and all(r.weight is not None for r in top):
        weights = sum((r.weight for r in top), Fraction(0))
        if weights != total.weight:
            out.append(Finding(TOTAL, "weight_sum", _fmt(total.weight), _fmt(weights), f"一级指标分值之和 {_fmt(weights)} 与合计分值 {_fmt(total.weight)} 不符", total.line))
    if total.score is not None and top and all(r.score is not None for r in top):
        expected = sum((r.score for r in top), Fraction(0)) + bonus - penalty
        rebuilt = sum((recomputed[r.path] for r in top), Fraction(0)) + bonus - penalty
        if not _agrees(total, expected) and not _agrees(total, rebuilt):
            extra = (f" + 加分 {_fmt(bonus)}" if bonus else "") + (f" - 扣分 {_fmt(penalty)}" if penalty else "")
            parts = " + ".join(r.score_text for r in top)
            out.append(Finding(TOTAL, "total", total.score_text, _fmt(expected), f"一级指标得分 {parts}{extra} = {_fmt(expected)}，与公布的合计 {total.score_text} 不符", total.line))
    if total.grade and total.score is not None:
        want = _grade(total.score, book)
        if want != total.grade:
            out.append(Finding(TOTAL, "grade", total.grade, want, f"合计 {total.score_text} 按等级标准应为“{want}”，公布为“{total.grade}”", total.line))
    return out


def _grade(score: Fraction, book: Rulebook | None) -> str:
    if book is not None:
        for name, op, bound in book.grades:
            if (score >= bound) if op == ">=" else (score > bound):
                return name
        return book.lowest_grade
    for name, bound in DEFAULT_GRADES:
        if score >= bound:
            return name
    return "差"


# ---- rule checks ------------------------------------------------------------------------------
def _rule(r: Row, ind: LinkedIndicator | None, book: Rulebook | None) -> list[Finding]:
    if r.score is None or r.weight is None or not 0 <= r.score <= r.weight:
        return []  # out of range is reported once, as such
    if ind is not None and isinstance(ind.rule, ast.Tiers):
        return _tier_rule(r, ind)
    if ind is not None and isinstance(ind.rule, ast.Checklist):
        return _checklist_rule(r, ind)
    if not r.target or not r.actual:
        return []
    unreadable = number_problem(r.target) or number_problem(r.actual)
    if unreadable:  # 1,50人 is not read as 1 (nor as words): the row cannot be checked
        return [Finding(r.key, "unreadable_number", r.score_text, None, f"{unreadable}，无法按规则核对得分", r.line)]
    target = parse_quantity(split_cmp(r.target)[1])  # ≥95%, 不少于12种: the comparison as the engines read it
    actual = parse_quantity(split_cmp(r.actual)[1])
    if target.dim == TEXT or actual.dim == TEXT:
        return _qualitative(r, target, actual, book)
    bare = actual.dim == "" and actual.unit == "" and target.dim not in ("", DATE)
    if not bare and actual.dim != target.dim:
        return [Finding(r.key, "unit_mismatch", r.score_text, None, f"指标值 {r.target} 与实际值 {r.actual} 单位不同，无法按规则核对得分", r.line)]
    # a bare number is read in the target's unit (tables often print 98 for 98%)
    expected, how = _expected(r, r.actual.strip() + target.unit if bare else r.actual, ind, book)
    if expected is None or _agrees(r, expected):
        return []
    return [Finding(r.key, "rule", r.score_text, _fmt(expected), f"{how}，应得 {_fmt(expected)}，公布为 {r.score_text}", r.line)]


# ---- the expected score: the kernel's own row scoring -------------------------------------------
NATIONAL = Path(__file__).resolve().parents[1] / "rulebooks" / "national" / "self-eval.jx"


def _expected(r: Row, actual_text: str, ind: LinkedIndicator | None, book: Rulebook | None) -> tuple[Fraction | None, str]:
    """The score the rulebook gives the row's target and actual, by ``kernel.rows.score_row`` (the
    interpreter's and the SQL engines' definition, with the rulebook's rounding), and the kernel's
    sentences for it.  A tree indicator's 正向/反向/达标 rule scores the row whatever its sign;
    without a rulebook the national self-evaluation defaults (财预〔2020〕10号) apply."""
    from jxdsl.evaluate import _steps
    from jxdsl.explain import sentence
    from jxdsl.inputs import ProjectInputs
    from jxdsl.kernel.pyscope import PyScope
    from jxdsl.kernel.rows import RowTexts, score_row

    scheme = _row_scheme(book, ind)
    texts = RowTexts(plain(r.weight, 8), r.target, actual_text, None, None, None)
    got, _ = score_row(PyScope(scheme, ProjectInputs("核对")), texts)
    if got.problem is not None or got.score is None:
        return None, ""
    said = [t for t in (sentence(s) for s in _steps(got.steps)) if t]
    return got.score, "；".join(said) or f"实际 {actual_text}，指标值 {r.target}"


_SCHEMES: dict = {}


def _row_scheme(book: Rulebook | None, ind: LinkedIndicator | None) -> ir.Scheme:
    from jxdsl.link import Linker

    key = (id(book), ind.path if ind is not None else None)
    if key in _SCHEMES:
        return _SCHEMES[key][1]
    scheme = lower(book if book is not None else Linker().load(NATIONAL))
    defaults = scheme.defaults
    leaf = next((x for x in scheme.leaves() if x.path == ind.path), None) if ind is not None else None
    rule = leaf.rule if leaf is not None else None
    if isinstance(rule, ir.Proportional):
        kind = ir.RowKind.POSITIVE if rule.direction is ir.Direction.POSITIVE else ir.RowKind.NEGATIVE
        defaults = ir.RowDefaults({op: ir.RowDefault(kind, rule.zero) for op in ir.Cmp}, defaults.qualitative)
    elif isinstance(rule, ir.TargetMet):
        defaults = ir.RowDefaults({op: ir.RowDefault(ir.RowKind.MET) for op in ir.Cmp}, defaults.qualitative)
    elif not defaults.quantitative:
        defaults = lower(Linker().load(NATIONAL)).defaults
    got = attrs.evolve(scheme, defaults=defaults)
    _SCHEMES[key] = (book, got)  # the book is kept so that its id is not reused
    return got


def _qualitative(r: Row, target: Quantity, actual: Quantity, book: Rulebook | None) -> list[Finding]:
    if normalize(r.target).strip() != normalize(r.actual).strip():
        return []  # not achieved as written: the evaluator's tier cannot be checked from the table
    tiers = book.qualitative_tiers if book is not None and book.qualitative_tiers else None
    if tiers:
        low, high = tier_points(tiers[0], r.weight)
        name = tiers[0].name
    else:
        low, high = r.weight * NATIONAL_TIERS[0][0], r.weight
        name = "达成"
    if low <= r.score <= high:
        return []
    return [
        Finding(r.key, "tier", r.score_text, f"{_fmt(low)}–{_fmt(high)}", f"实际完成值与指标值一致（{r.actual}），属“{name}”档，得分应在 {_fmt(low)} 到 {_fmt(high)} 之间，公布为 {r.score_text}", r.line)
    ]


def _tier_rule(r: Row, ind: LinkedIndicator) -> list[Finding]:
    from jxdsl.kernel.rules import inside
    from jxdsl.kernel.stage import PY
    from jxdsl.lower import tier

    if any(inside(PY, r.score, tier(t), ind.weight) for t in ind.rule.tiers):
        return []
    allowed = "；".join(f"{t.name} {_interval(t, ind.weight)}" for t in ind.rule.tiers)
    return [Finding(r.key, "tier", r.score_text, allowed, f"得分 {r.score_text} 不在任何档次内（{allowed}）", r.line)]


def _interval(t: ast.Tier, w: Fraction) -> str:
    lo, hi = tier_points(t, w)
    if lo == hi:
        return _fmt(lo)
    return f"{'[' if t.low_closed else '('}{_fmt(lo)},{_fmt(hi)}{']' if t.high_closed else ')'}"


def _checklist_rule(r: Row, ind: LinkedIndicator) -> list[Finding]:
    possible = {Fraction(0)}
    for item in ind.items:
        possible |= {p + item.points.magnitude for p in possible}
    if r.score in possible:
        return []
    shown = "、".join(_fmt(p) for p in sorted(possible))
    return [Finding(r.key, "checklist", r.score_text, shown, f"清单各条得分组合只能得 {shown}，公布为 {r.score_text}", r.line)]


# ---- rendering ------------------------------------------------------------------------------
KIND_WORDS = {
    "score_out_of_range": "得分超出分值",
    "weight_sum": "分值加不拢",
    "score_sum": "得分加不拢",
    "total": "合计不符",
    "grade": "等级不符",
    "rule": "不符合计分规则",
    "tier": "不在档次内",
    "checklist": "清单得分不可能",
    "unit_mismatch": "单位不一致",
    "unreadable_number": "数值无法读取",
    "weight_vs_rulebook": "分值与规则集不符",
}


def render(table: str, findings: list[Finding]) -> str:
    if not findings:
        return f"{table}：未发现问题"
    lines = [f"{table}：发现 {len(findings)} 处问题"]
    for f in findings:
        where = f"项目“{f.project}”，{f.path}" if f.project is not None else f.path
        lines.append(f"  {table}:{f.line}: {where}［{KIND_WORDS.get(f.kind, f.kind)}］{f.message}")
    return "\n".join(lines)


# ---- export -----------------------------------------------------------------------------------
def result_rows(result) -> list[dict]:
    """A computed result in the audit-table format, so a fresh result can be audited."""
    # exact (to 4 decimals, as the weights): a score capped at a weight of 10.75 under 小数 1 位 is
    # 10.75, and 10.8 would read as above its weight
    d = max(result.digits, 4)
    out = []
    for r in result.walk():
        row = next((s.data for s in r.steps if s.kind == "row"), {})
        out.append({"路径": "/".join(r.path), "分值": plain(r.weight, 4), "得分": plain(r.score, d) if r.score is not None else "", "指标值": row.get("target", ""), "实际值": row.get("actual", ""), "等级": ""})
    if result.bonus_items:
        cap = result.bonus_cap if result.bonus_cap is not None else sum(i.points for i in result.bonus_items)
        out.append({"路径": BONUS, "分值": plain(cap), "得分": plain(result.bonus, d), "指标值": "", "实际值": "", "等级": ""})
        out += [{"路径": f"{BONUS}/{i.name}", "分值": plain(i.points), "得分": plain(i.awarded or 0, d), "指标值": "", "实际值": "", "等级": ""} for i in result.bonus_items]
    out += [{"路径": f"{PENALTY}/{i.name}", "分值": plain(i.points), "得分": plain(i.awarded or 0, d), "指标值": "", "实际值": "", "等级": ""} for i in result.penalty_items]
    out.append({"路径": TOTAL, "分值": plain(result.max), "得分": plain(result.total, d) if result.total is not None else "", "指标值": "", "实际值": "", "等级": result.grade or ""})
    return out
