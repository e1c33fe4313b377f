"""Audit a published score table: what does not add up, and what does not follow the rule.

Published evaluation reports contain subtotals that are not the sum of their rows, scores
above their weight, grades that do not match totals and scores that do not follow the
stated rule. Every comparison allows half a unit in the last digit the table publishes.
"""
from __future__ import annotations

import re

from fractions import Fraction
from pathlib import Path

import attrs

from jxdsl import ast
from jxdsl.errors import FactError, Span, UsageError
from jxdsl.kernel.rows import METHODS
from jxdsl.link import Rulebook
from jxdsl.tables import check_header, find_header, whole_table
from jxdsl.units import normalize, number_problem, parse_quantity, plain, plain_number, shorten, to_decimal

COLUMNS = ("路径", "分值", "得分")
OPTIONAL = ("指标值", "实际值", "等级", "项目", "计分方法")  # 计分方法: a target-table row's own, overriding the 默认规则
# (OPTIONAL is also the score CSV's columns, output.py.)  Read only, never written: 执行率, the budget
# row's printed rate, checked against 实际值 ÷ 指标值
READ_ONLY = ("执行率",)
# other names a published form gives a column (used only when the column's own name is absent)
ALIASES = {
    "分值": ("权重", "满分", "指标分值", "标准分值"),
    "得分": ("评价得分", "自评得分", "实际得分"),
    "指标值": ("年度指标值", "目标值"),
    "实际值": ("实际完成值", "全年实际值", "完成值"),
    "等级": ("评价等级", "自评等级"),
    "项目": ("项目名称",),
    "计分方法": ("评分方法", "计分方式"),
    "执行率": ("预算执行率", "资金执行率"),
}
LEVELS = ("一级指标", "二级指标", "三级指标", "四级指标")  # the form's own columns, instead of 路径
TOTAL, BONUS, PENALTY = "合计", "加分", "扣分"
TOTAL_WORDS = ("合计", "总分", "总计", "合计得分")
GRADE_ROWS = ("评价等级", "等级", "自评等级")  # a row of its own under 合计 giving the grade in the 得分 column
WEIGHT_NOTE = re.compile(r"\s*[（(]\s*[0-9]+(?:\.[0-9]+)?\s*分\s*[）)]\s*$")  # 决策（18分）: a level cell's weight note
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
    problem: str | None = None  # why the row cannot be read (a blank path, a score like 约5)
    method: str | None = None  # 计分方法: the row's own, overriding the rulebook's 默认规则
    rate: str | None = None  # 执行率 as printed beside the budget (the 自评表's funds block)

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
        out = {"path": self.path, "kind": self.kind, "severity": severity(self.kind), "line": self.line, "published": self.published, "expected": self.expected, "message": self.message}
        return {"project": self.project, **out} if self.project is not None else out


# ---- reading --------------------------------------------------------------------------------
def read_table(path: str | Path, sheet: str | None = None, note=None) -> list[Row]:
    """The rows of an audit table (CSV or XLSX), numbers exact as printed; read as the scoring
    commands read tables (``tables.py``: UTF-8 or GB18030, the sheet chosen the same way, merged
    cells filled, one name per column); ``note`` is told which sheet or encoding was read."""
    return _read(path, sheet, note)[0]


def _read(path: str | Path, sheet: str | None, note) -> tuple[list[Row], bool]:
    """The rows, and whether they came from 项目支出绩效自评表 (one sheet per project)."""
    p = Path(path)
    if p.is_dir() or p.suffix.lower() in (".xlsx", ".xlsm") and p.is_file() and _is_form(p, sheet):
        return _form_rows(p, sheet, note or (lambda text: None)), True
    if not p.is_file():
        raise UsageError(f"找不到评分表“{path}”")
    suffix = p.suffix.lower()
    if suffix not in (".csv", ".xlsx", ".xlsm", ".docx"):
        raise UsageError(f"不支持的评分表类型“{p.suffix}”", None, "支持 .csv、.xlsx 和 .docx")
    if sheet is not None and suffix in (".csv", ".docx"):
        raise UsageError(f"--sheet 只用于 Excel 文件（.xlsx），“{path}”不是", None, "去掉 --sheet")
    line, header, records = _records(p, sheet, note or (lambda text: None))
    header = _canonical(check_header(header, str(p), line), str(p), line)
    records = [(n, dict(zip(header, cells))) for n, cells in records]
    missing = [c for c in COLUMNS if c not in header and not (c == "路径" and LEVELS[0] in header)]
    if missing:
        raise FactError(
            f"评分表缺少列：{'、'.join(missing)}", Span(str(p), line, 1),
            f"需要的列：路径（或 一级指标、二级指标、三级指标）、分值、得分，可选：{'、'.join(OPTIONAL + READ_ONLY)}；别名（如 指标分值、自评得分）见 docs/audit.md",
        )
    rows: list[Row] = []
    for n, r in records:
        cell = lambda k: None if r.get(k) in (None, "") or not r[k].strip() else r[k].strip()  # noqa: E731
        if all(cell(k) is None for k in header):
            continue  # a blank line between blocks
        name = cell("路径") or cell(LEVELS[0]) if LEVELS[0] in header or "路径" in header else None
        if name in GRADE_ROWS and rows and rows[-1].path == (TOTAL,) and rows[-1].grade is None:
            rows[-1] = attrs.evolve(rows[-1], grade=cell("等级") or cell("得分"))  # 评价等级 on a row of its own, under 合计
            continue
        rows.append(_row(n, cell, "项目" in header))
    return rows, False


def _is_form(p: Path, sheet: str | None) -> bool:
    from jxdsl.forms import is_form

    return is_form(p, sheet)


def _form_rows(p: Path, sheet: str | None, note) -> list[Row]:
    """项目支出绩效自评表 (a workbook, or a folder of them): every form's printed rows (``forms``),
    read as the rows of any other table."""
    from jxdsl.forms import audit_records, read_forms

    forms = read_forms(p, sheet)
    note(f"按项目支出绩效自评表读取“{p}”：{len(forms)} 份（{'、'.join(f.source for f in forms)}）")
    rows = []
    for n, r in audit_records(forms):
        cell = lambda k: None if not r.get(k) or not str(r[k]).strip() else str(r[k]).strip()  # noqa: E731, B023
        rows.append(_row(n, cell, True))
    return rows


def _records(p: Path, sheet: str | None, note) -> tuple[int, list[str], list[tuple[int, list[str]]]]:
    """(header line, header cells, data rows) of a CSV or of a workbook's sheet."""
    from jxdsl.xlsxread import fill_merged

    if p.suffix.lower() == ".docx":
        return _docx_records(p, note)
    rows, merges = whole_table(p, sheet, note)
    line, header, rest = find_header(rows, HEADERS)
    width = len([h for h in header if h.strip()])
    notes = {r for c1, r, c2, r2 in merges if c1 == 1 and c2 >= width and r == r2 and r > line}  # a note under the table, merged across it
    rest = [(n, cells) for n, cells in rest if n not in notes]
    return line, header, list(fill_merged(iter(rest), merges, line)) if merges else rest


MAX_DOCX_UNPACKED = 64 * 2**20  # a report with its score tables unpacks to a few MB; python-docx reads it whole


def _docx_records(p: Path, note) -> tuple[int, list[str], list[tuple[int, list[str]]]]:
    """The first table of a Word document with a score table's header (``score --format docx``
    writes one per project): its rows as text, a merged cell's text in every cell it covers (what
    python-docx gives), numbered by the table's rows."""
    import zipfile

    from docx import Document

    try:
        with zipfile.ZipFile(p) as z:
            size = sum(i.file_size for i in z.infolist())
        if size > MAX_DOCX_UNPACKED:
            raise FactError(f"Word 文件解压后有 {size:,} 字节，超过上限 {MAX_DOCX_UNPACKED:,} 字节", Span(str(p), 1, 1), "请把得分表另存为 Excel 或 CSV 再核查")
        doc = Document(str(p))
    except FactError:
        raise
    except Exception as e:  # noqa: BLE001 - zipfile, lxml and python-docx raise many kinds for a broken file
        raise FactError(f"无法读取 Word 文件：文件已损坏，或不是 Word 文档（.docx）（{type(e).__name__}）", Span(str(p), 1, 1),
                        "请用 Word 或 WPS 打开后另存为“Word 文档（.docx）”") from None
    for k, table in enumerate(doc.tables, start=1):
        rows = [(n, [c.text for c in row.cells]) for n, row in enumerate(table.rows, start=1)]
        line, header, rest = find_header(rows, HEADERS)
        if any(all(w in {c.strip() for c in header} for w in columns) for columns in HEADERS):
            note(f"读取“{p}”的第 {k} 张表格（行号是表格中的行）")
            return line, header, list(rest)
    raise FactError(f"Word 文件“{p.name}”中没有得分表（有“一级指标”或“路径”、“分值”、“得分”列的表格）", Span(str(p), 1, 1),
                    "核查 jxdsl 写出的 Word 得分表，或把得分表另存为 Excel 或 CSV")


HEADERS = tuple(
    (path, weight, score) for path in ("路径", LEVELS[0]) for weight in ("分值", *ALIASES["分值"]) for score in ("得分", *ALIASES["得分"])
)  # what a header row holds: found below a form's title rows


def _canonical(header: list[str], file: str, line: int) -> list[str]:
    """The header with each alias renamed to its column (年度指标值 → 指标值); two aliases of one
    absent column are an error (which one to check would be a guess)."""
    out = list(header)
    for name, others in ALIASES.items():
        present = [i for i, h in enumerate(header) if h in others]
        if name in header or not present:
            continue
        if len(present) > 1:
            a, b = header[present[0]], header[present[1]]
            raise FactError(f"表头的“{a}”和“{b}”两列都可当作“{name}”，无法确定核对哪一列", Span(file, line, 1), f"把要核对的一列改名为“{name}”")
        out[present[0]] = name
    return out


def _row(n: int, cell, has_project: bool) -> Row:
    """One record as a Row; a row that cannot be read keeps its line and says why (a finding,
    not the end of the audit: the other rows are still checked)."""
    problems = []
    name = cell("路径") or "/".join(filter(None, (WEIGHT_NOTE.sub("", cell(k) or "") for k in LEVELS))) or None
    if name is None:
        problems.append("没有路径（“路径”列或各级指标列都为空）")
    elif all(normalize(x).strip() in TOTAL_WORDS for x in name.split("/")):
        name = TOTAL  # 合计, also merged across the level columns (合计/合计/合计)
    numbers = []
    for column in ("分值", "得分"):
        value, problem = _number(cell(column), column)
        numbers.append(value)
        if problem:
            problems.append(problem)
    path = tuple(x.strip() for x in normalize(name).split("/")) if name else ()
    method = normalize(cell("计分方法") or "").strip() or None
    if method is not None and method not in METHODS:
        problems.append(f"计分方法“{method}”无法识别（只能是：{'、'.join(METHODS)}）")
    problem = "；".join(problems) or None
    return Row(path, numbers[0], numbers[1], cell("得分") or "", cell("指标值"), cell("实际值"), cell("等级"), n, cell("项目") if has_project else None, problem, method,
               cell("执行率"))


def _number(text: str | None, column: str) -> tuple[Fraction | None, str | None]:
    """A score or weight as printed, read by the grammar of every other number (units): no
    exponents, Infinity or NaN, at most MAX_DIGITS digits, thousands grouped by three; else why not."""
    if text is None:
        return None, None
    value = plain_number(normalize(text).strip().removesuffix("分"))
    if value is None:
        problem = number_problem(text)
        return None, f"“{column}”" + (f"：{problem}" if problem else f"不是数字：{shorten(text)}")
    return value, None


def audit_file(path: str, book: Rulebook | None = None, sheet: str | None = None, note=None) -> list["Finding"]:
    """Audit a table file; a table with a 项目 column holds several projects, each audited alone."""
    projects: dict[str | None, list[Row]] = {}
    rows, forms = _read(path, sheet, note)
    for r in rows:
        projects.setdefault(r.project, []).append(r)
    findings = []
    for project, rows in projects.items():
        findings += [attrs.evolve(f, project=project) for f in audit(rows, book)] if project is not None else audit(rows, book)
    if forms:
        return findings  # each form's rows are numbered in its own sheet: the forms in order, each in row order
    return sorted(findings, key=lambda f: f.line)


# ---- tolerance ------------------------------------------------------------------------------
def decimals(published: str) -> int:
    """Decimals printed in a cell: 16.5 → 1, 92.66 → 2, 17 → 0."""
    text = normalize(published).strip().rstrip("分")
    return len(text.split(".", 1)[1]) if "." in text else 0


def tolerance(published: str) -> Fraction:
    """Half a unit in the last digit printed: 16.5 → 0.05, 92.66 → 0.005, 17 → 0.5.  It is what
    printing loses: a subtotal is rounded from unrounded scores, so it may differ this much from
    the sum of the rounded rows printed above it."""
    return Fraction(1, 2 * 10 ** decimals(published))


def _agrees(published: "Node", expected: Fraction | None) -> bool:
    return expected is not None and abs(published.score - expected) <= tolerance(published.shown)


def _fmt(value: Fraction | None) -> str | None:
    return None if value is None else plain(value, 4)


SPECIAL = (TOTAL, BONUS, PENALTY)
SEVERITY = {"rounding": "note"}  # every other kind is an error
SEVERITY_WORDS = {"error": "问题", "note": "提示"}


def severity(kind: str) -> str:
    """``error``: the table is wrong (exit 1); ``note``: explained by something the table does not
    state, such as its rounding (reported, exit 0)."""
    return SEVERITY.get(kind, "error")


# ---- the table's tree -------------------------------------------------------------------------
@attrs.frozen
class Node:
    """A level of the table: a printed row, or a level no row prints (its values summed from below)."""

    path: tuple[str, ...]
    weight: Fraction | None
    score: Fraction | None
    shown: str | None  # the score as printed; None when no row prints this level
    rebuilt: Fraction | None  # the score rebuilt from the leaves: a misprinted subtotal does not hide the true total
    line: int = 0


class Tree:
    """Every level of the table's paths.  A level no row prints (a leaf-only table, a missing
    二级 subtotal) is the sum of what is printed below it, so that the level above and the 合计 are
    still checked; with a rulebook, only when every indicator the rulebook puts there is printed."""

    def __init__(self, rows: list[Row], indicators: dict):
        self.printed = {r.path: r for r in rows}
        self.repeated: dict[tuple[str, ...], list[Row]] = {}  # a leaf printed twice counts twice in its parent
        for r in rows:
            self.repeated.setdefault(r.path, []).append(r)
        self.kids: dict[tuple[str, ...], dict[tuple[str, ...], None]] = {}
        for r in rows:
            for k in range(1, len(r.path)):
                self.kids.setdefault(r.path[:k], {})[r.path[: k + 1]] = None
        paths = set(self.printed) | set(self.kids)
        self.complete = {p: self._complete(p, indicators) for p in self.kids}
        self.nodes: dict[tuple[str, ...], Node] = {}
        for path in sorted(paths, key=len, reverse=True):  # children first: no recursion on deep paths
            self.nodes[path] = self._node(path)

    def _complete(self, path, indicators: dict) -> bool:
        ind = indicators.get(path)
        return ind is None or not ind.children or {c.path for c in ind.children} <= set(self.kids[path])

    def children(self, path) -> list[Node]:
        return [self.nodes[k] for k in self.kids.get(path, {})]

    def _node(self, path) -> Node:
        kids = self.children(path)
        whole = bool(kids) and self.complete[path]

        def summed(attr):
            values = [getattr(k, attr) for k in kids]
            return sum(values, Fraction(0)) if whole and None not in values else None

        r = self.printed.get(path)
        if r is None:
            return Node(path, summed("weight"), summed("score"), None, summed("rebuilt"))
        same = self.repeated[path]
        if len(same) > 1 and not kids:
            both = lambda vs: None if None in vs else sum(vs, Fraction(0))  # noqa: E731
            score = both([x.score for x in same])
            return Node(path, both([x.weight for x in same]), score, _fmt(score), score, r.line)
        rebuilt = summed("rebuilt") if all(k.score is not None for k in kids) else None
        return Node(path, r.weight, r.score, r.score_text, rebuilt if rebuilt is not None else r.score, r.line)

    def top(self) -> list[Node]:
        names = dict.fromkeys(p[0] for p in self.printed if p[0] not in SPECIAL)  # in table order
        return [self.nodes[(n,)] for n in names]


def _shown(n: Node) -> str:
    return n.shown if n.shown is not None else _fmt(n.score)


def _rulebook_weight(path, published, indicators, by_path) -> Fraction:
    """The rulebook's weight for this project: 未设置时 并入 moves an unset group's weight (published
    as 0, or the group absent) to its sibling, as the engines score it."""
    from jxdsl.lower import table_key

    ind = indicators[path]
    if ind.merge_into is not None and published == 0:
        return Fraction(0)
    siblings = [i for p, i in indicators.items() if p[:-1] == path[:-1] and i.merge_into and table_key(i.merge_into) == table_key(ind.name)]
    moved = [i for i in siblings if i.path not in by_path or by_path[i.path].weight == 0]
    return ind.weight + sum((i.weight for i in moved), Fraction(0))


# ---- checks ---------------------------------------------------------------------------------
def audit(rows: list[Row], book: Rulebook | None = None) -> list[Finding]:
    """Every inconsistency in the table, in table order."""
    from jxdsl.auditrule import rule_findings

    findings = [Finding(r.key, "unreadable_row", r.score_text or None, None, f"此行无法核对：{r.problem}", r.line) for r in rows if r.problem]
    rows = [r for r in rows if r.path]
    indicators = {i.path: i for i in book.walk()} if book else {}
    if book:
        rows, unknown = _resolve(rows, indicators)
        findings += unknown
    tree = Tree(rows, indicators)
    places = max((decimals(r.score_text) for r in rows if r.score is not None), default=0)
    for r in rows:
        if r.path == (TOTAL,):
            continue
        findings += _range(r) + _rate(r)
        if r.path in tree.kids:
            findings += _sums(tree.nodes[r.path], tree.children(r.path), tree.complete[r.path])
        elif r.path[0] not in (BONUS, PENALTY):
            findings += rule_findings(r, indicators.get(r.path), book, places)
        expected = _rulebook_weight(r.path, r.weight, indicators, tree.printed) if r.path in indicators else None
        if book and r.path in indicators and r.weight is not None and r.weight != expected and r.path[0] not in (BONUS, PENALTY):
            findings.append(
                Finding(r.key, "weight_vs_rulebook", _fmt(r.weight), _fmt(expected), f"分值 {_fmt(r.weight)} 与规则集规定的 {_fmt(expected)} 不符", r.line)
            )
    total = tree.printed.get((TOTAL,))
    if total is not None:
        findings += _total(total, rows, tree, book)
    return sorted(findings, key=lambda f: f.line)


def _resolve(rows: list[Row], indicators: dict) -> tuple[list[Row], list[Finding]]:
    """Rows named by the rulebook's full paths: a row printed with the end of a path (the leaf's
    name alone, as self-evaluation forms print it) takes the one indicator it names; a row the
    rulebook does not know is a finding (rows under 来自目标表 come from the project's own table)."""
    named = {tuple(normalize(x).strip() for x in path): path for path in indicators}  # （6个） is printed (6个)
    tails: dict[tuple[str, ...], set] = {}
    for key, path in named.items():
        for k in range(1, len(key) + 1):
            tails.setdefault(key[-k:], set()).add(path)
    from_table = {p for p, i in indicators.items() if isinstance(i.rule, ast.FromTargets)}
    out, findings = [], []
    for r in rows:
        if r.path[0] in SPECIAL or any(named.get(r.path[:k]) in from_table for k in range(1, len(r.path))):
            out.append(r)
            continue
        # a form repeats a name whose level has no sub-level (预算执行率 in 一级 and 三级)
        once = tuple(x for i, x in enumerate(r.path) if i == 0 or x != r.path[i - 1])
        found = next(({named[p]} for p in (r.path, once) if p in named), None) or tails.get(r.path) or tails.get(once, set())
        if len(found) == 1:
            out.append(attrs.evolve(r, path=next(iter(found))))
            continue
        out.append(r)
        hint = f"，可能是：{'、'.join('/'.join(p) for p in sorted(found))}" if found else ""
        findings.append(Finding(r.key, "unknown_path", None, None, f"规则集中没有指标“{r.key}”{hint}", r.line))
    return out, findings


def _rate(r: Row) -> list[Finding]:
    """The printed 执行率 against 实际值 ÷ 指标值 (全年执行数 ÷ 全年预算数), within what its printed
    digits lose: 17% for 17.26% agrees, 95% for 17.26% does not.  Only amounts of one kind are
    compared (元 with 元, 万元 converted); anything else is not a rate this row can check."""
    if not r.rate or not r.target or not r.actual:
        return []
    target, actual = parse_quantity(r.target), parse_quantity(r.actual)
    if target.kind != "num" or actual.kind != "num" or target.dim != actual.dim or target.is_percent or target.value <= 0:
        return []
    printed = parse_quantity(r.rate)
    if printed.kind != "num" or printed.dim != "" or printed.unit not in ("", "%"):
        return [Finding(r.key, "unreadable_number", r.rate, None, f"执行率“{shorten(r.rate)}”不是百分数，无法核对", r.line)]
    shown = printed.value * 100 if printed.is_percent else printed.value  # 17.26% or 17.26 (in a 执行率（%） column)
    digits = normalize(r.rate).strip().rstrip("%").strip()
    expected = actual.value / target.value * 100
    if abs(shown - expected) <= max(tolerance(digits), Fraction(1, 2 * 10**6)):  # a cell's formula result: float digits
        return []
    return [Finding(r.key, "rate", r.rate, f"{to_decimal(expected, 2)}%",
                    f"执行率印作 {r.rate}，实际值 {r.actual} ÷ 指标值 {r.target} = {to_decimal(expected, 2)}%", r.line)]


def _range(r: Row) -> list[Finding]:
    if r.score is None or r.weight is None or r.path[0] == PENALTY:
        return []
    if r.score < 0:
        return [Finding(r.key, "score_out_of_range", r.score_text, "≥ 0", f"得分 {r.score_text} 小于 0", r.line)]
    if r.score > r.weight:
        return [Finding(r.key, "score_out_of_range", r.score_text, f"≤ {_fmt(r.weight)}", f"得分 {r.score_text} 超过分值 {_fmt(r.weight)}", r.line)]
    return []


def _sums(r: Node, kids: list[Node], complete: bool) -> list[Finding]:
    """The printed level against its children (printed, or summed from their own children)."""
    out, key, line = [], "/".join(r.path), r.line
    if not complete:
        return []  # the rulebook puts more indicators here than the table prints
    if r.path[0] not in (BONUS, PENALTY) and r.weight is not None and all(k.weight is not None for k in kids):
        total = sum((k.weight for k in kids), Fraction(0))
        if total != r.weight:
            parts = " + ".join(_fmt(k.weight) for k in kids) + (f" = {_fmt(total)}" if len(kids) > 1 else "")
            out.append(Finding(key, "weight_sum", _fmt(r.weight), _fmt(total), f"下级分值之和 {parts}，与本级分值 {_fmt(r.weight)} 不符", line))
    if r.score is not None and all(k.score is not None for k in kids):
        total = sum((k.score for k in kids), Fraction(0))
        rebuilt = sum((k.rebuilt for k in kids), Fraction(0)) if all(k.rebuilt is not None for k in kids) else None
        if r.path == (BONUS,) and r.weight is not None:
            total, rebuilt = min(total, r.weight), rebuilt if rebuilt is None else min(rebuilt, r.weight)  # the bonus row holds the capped sum
        if not _agrees(r, total) and not _agrees(r, rebuilt):
            parts = " + ".join(_shown(k) for k in kids)
            out.append(Finding(key, "score_sum", r.shown, _fmt(total), f"下级得分之和 {parts} = {_fmt(total)}，与公布的本级得分 {r.shown} 不符", line))
    return out


def _total(total: Row, rows: list[Row], tree: Tree, book: Rulebook | None) -> list[Finding]:
    out = []
    top = tree.top()
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
    if total.weight is not None and top and all(n.weight is not None for n in top):
        weights = sum((n.weight for n in top), Fraction(0))
        if weights != total.weight:
            out.append(Finding(TOTAL, "weight_sum", _fmt(total.weight), _fmt(weights), f"一级指标分值之和 {_fmt(weights)} 与合计分值 {_fmt(total.weight)} 不符", total.line))
    if total.score is not None and top and all(n.score is not None for n in top):
        expected = sum((n.score for n in top), Fraction(0)) + bonus - penalty
        rebuilt = sum((n.rebuilt for n in top), Fraction(0)) + bonus - penalty if all(n.rebuilt is not None for n in top) else None
        node = tree.nodes[(TOTAL,)]
        if not _agrees(node, expected) and not _agrees(node, rebuilt):
            extra = (f" + 加分 {_fmt(bonus)}" if bonus else "") + (f" - 扣分 {_fmt(penalty)}" if penalty else "")
            parts = " + ".join(_shown(n) for n in top)
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
    "rate": "执行率不符",
    "unit_mismatch": "单位不一致",
    "unreadable_number": "数值无法读取",
    "weight_vs_rulebook": "分值与规则集不符",
    "rounding": "舍入方式不同",
    "unreadable_row": "此行无法读取",
    "unknown_path": "规则集中没有此指标",
}


def render(table: str, findings: list[Finding]) -> str:
    if not findings:
        return f"{table}：未发现问题"
    counts = {s: sum(severity(f.kind) == s for f in findings) for s in SEVERITY_WORDS}
    said = "、".join(f"{n} 处{SEVERITY_WORDS[s]}" for s, n in counts.items() if n)
    lines = [f"{table}：发现 {said}" + ("" if counts["error"] else "（没有错误）")]
    for f in findings:
        path = f.path or "（没有路径）"
        where = f"项目“{f.project}”，{path}" if f.project is not None else path
        word = KIND_WORDS.get(f.kind, f.kind) + ("，提示" if severity(f.kind) == "note" else "")
        lines.append(f"  {table}:{f.line}: {where}［{word}］{f.message}")
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
        method = next((s.data["method"] for s in r.steps if s.kind == "row_method"), "")  # kernel.rows.scored_method
        out.append({"路径": "/".join(r.path), "分值": plain(r.weight, 4), "得分": plain(r.score, d) if r.score is not None else "", "指标值": row.get("target", ""), "实际值": row.get("actual", ""), "等级": "", "计分方法": method})
    if result.bonus_items:
        cap = result.bonus_cap if result.bonus_cap is not None else sum(i.points for i in result.bonus_items)
        out.append({"路径": BONUS, "分值": plain(cap), "得分": plain(result.bonus, d), "指标值": "", "实际值": "", "等级": ""})
        out += [{"路径": f"{BONUS}/{i.name}", "分值": plain(i.points), "得分": plain(i.awarded or 0, d), "指标值": "", "实际值": "", "等级": ""} for i in result.bonus_items]
    out += [{"路径": f"{PENALTY}/{i.name}", "分值": plain(i.points), "得分": plain(i.awarded or 0, d), "指标值": "", "实际值": "", "等级": ""} for i in result.penalty_items]
    out.append({"路径": TOTAL, "分值": plain(result.max), "得分": plain(result.total, d) if result.total is not None else "", "指标值": "", "实际值": "", "等级": result.grade or ""})
    return out
