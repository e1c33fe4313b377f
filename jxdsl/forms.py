"""The 项目支出绩效自评表 as units fill it in: one project per sheet (or per file).

A form is read into the rows of the long self-evaluation table (``docs/facts-table.md``), which
``tables.read_table`` then turns into the input relations exactly as it does for a CSV: one
definition, so every engine scores a form as it scores the same table.  Blocks are found by their
labels, never by fixed cell addresses (forms differ a little between provinces): the header block
(项目名称, 主管部门, 实施单位: the value is the next non-empty cell to the right), the funds block
(年初预算数, 全年预算数, 全年执行数, 分值, 执行率, 得分), the indicator block (一级/二级/三级指标,
年度指标值, 实际完成值, 分值, 得分, 偏差原因分析…) and the 总分 row.  The form's own 得分 column is
the unit's published result: scoring recomputes it by the rulebook, ``audit`` checks it.
"""
from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from pathlib import Path

import attrs

from jxdsl.errors import FactError, Span, UsageError
from jxdsl.xlsxread import cell_text

MAX_FORM_BYTES = 16 * 2**20  # a filled-in form unpacks to a few hundred KB; more is not one form
MAX_FORM_ROWS, MAX_FORM_COLUMNS = 2_000, 100  # a form has some dozens of rows and a dozen columns
TABLE_MARKS = {"一级指标", "三级指标", "路径", "名称"}  # beside 项目 in one row: a long table's header, not a form
SNIFF_ROWS = 30  # rows of a sheet looked at to tell a form from a long table
PROJECT_LABEL = "项目名称"
HEADER_LABELS = ("项目名称", "主管部门", "实施单位")
TOTAL_FUNDS = ("年度资金总额", "资金总额", "合计")  # the funds block's row read (else the row under its header)
FUNDS = ("年初预算数", "全年预算数", "全年执行数", "分值", "执行率", "得分")
# the indicator block's columns: the form's name (after label cleaning) → the long table's column
INDICATOR_COLUMNS = {
    "一级指标": "一级指标", "二级指标": "二级指标", "三级指标": "三级指标",
    "年度指标值": "年度指标值", "实际完成值": "实际完成值", "全年实际值": "实际完成值",
    "分值": "分值", "指标分值": "分值", "得分": "form:得分", "自评得分": "form:得分",
    "偏差原因分析及改进措施": "form:原因", "偏差原因分析": "form:原因", "未完成原因分析": "form:原因",
    # the long table's optional columns, for an evaluator's records added to a form
    "档次": "档次", "评价得分": "评价得分", "计分方法": "计分方法", "明细": "明细", "说明": "说明",
}
REQUIRED = ("一级指标", "三级指标", "年度指标值", "实际完成值", "分值")
END_WORDS = ("总分", "合计", "总计", "合计得分")
GRADE_LABELS = ("等级", "评价等级", "自评等级")
GRADES = ("优", "良", "中", "差")
CHECKED = ("☑", "√", "✓", "✔", "■", "☒")
COLUMNS = ("项目", "一级指标", "二级指标", "三级指标", "分值", "年度指标值", "实际完成值", "档次", "评价得分", "说明",
           "计分方法", "明细", "年初预算数")
LAYOUT_HINT = "自评表的排法见 docs/facts-table.md“项目支出绩效自评表”一节"


def key(text: str) -> str:
    """A label as compared: half-width, no spaces, no (…) notes such as (A)、(10分)、(万元), no colon."""
    t = unicodedata.normalize("NFKC", text)
    t = re.sub(r"\s+", "", t)
    t = re.sub(r"\([^()]*\)", "", t)
    return t.rstrip(":")


def letter(col: int) -> str:
    from jxdsl.tables import column_letter

    return column_letter(col)


@attrs.frozen
class Row:
    """One row of the long table a form gives, with its line (the sheet's row) and the form's
    published score for the row (for ``audit``)."""

    line: int
    cells: dict
    published: str | None = None


@attrs.frozen
class Form:
    """One filled-in form: a project."""

    file: str
    sheet: str
    project: str
    rows: tuple[Row, ...]
    total: str | None = None  # the 总分 row's score as printed
    total_line: int = 0
    grade: str | None = None

    @property
    def source(self) -> str:
        """Where the project's rows are, for messages: the file and the sheet."""
        return f"{self.file}[{self.sheet}]"


class Sheet:
    """A worksheet as logical cells: merged ranges read from their top-left cell."""

    def __init__(self, ws, formulas, file: str):
        self.title, self.file = ws.title, file
        self.cells: dict[tuple[int, int], str] = {}
        self.owner: dict[tuple[int, int], tuple[int, int]] = {}
        self.span: dict[tuple[int, int], tuple[int, int]] = {}  # top-left → (max_row, max_col)
        for row in ws.iter_rows():
            for c in row:
                text = _text(c, formulas, ws.title, file)
                if text.strip():
                    self.cells[(c.row, c.column)] = text.strip()
        for r in ws.merged_cells.ranges:
            self.span[(r.min_row, r.min_col)] = (r.max_row, r.max_col)
            for rr in range(r.min_row, r.max_row + 1):
                for cc in range(r.min_col, r.max_col + 1):
                    if (rr, cc) != (r.min_row, r.min_col):
                        self.owner[(rr, cc)] = (r.min_row, r.min_col)
                        self.cells.pop((rr, cc), None)
        self.by_row: dict[int, list[tuple[int, str]]] = {}
        for (r, c), t in sorted(self.cells.items()):
            self.by_row.setdefault(r, []).append((c, t))
        self.rows = sorted(self.by_row)

    def value(self, r: int, c: int) -> str:
        """The cell's text, a merged cell's from its top-left cell."""
        return self.cells.get(self.owner.get((r, c), (r, c)), "")

    def row(self, r: int) -> list[tuple[int, str]]:
        """(column, text) of the row's own non-empty cells (top-left cells of merges), left to right."""
        return self.by_row.get(r, [])

    def after(self, r: int, c: int) -> tuple[int, str]:
        """The next non-empty cell right of (r, c) and of its merged range: (column, text)."""
        right = self.span.get((r, c), (r, c))[1]
        for col, text in self.row(r):
            if col > right:
                return col, text
        return right + 1, ""

    def error(self, r: int, c: int, message: str, hint: str | None = None) -> FactError:
        return FactError(f"工作表“{self.title}”{letter(c)}{r}：{message}", Span(self.file, r, c), hint or LAYOUT_HINT)


def _text(c, formulas, title: str, file: str) -> str:
    """A cell as the long-table reader writes it; a number formatted as a percentage as Excel
    shows it (0.9526 → 95.26%); a formula Excel never calculated is an error."""
    value = c.value
    if value is None:
        f = formulas[title].cell(c.row, c.column).value if formulas is not None else None
        if isinstance(f, str) and f.startswith("="):
            raise FactError(f"工作表“{title}”{letter(c.column)}{c.row} 是公式，但文件中没有保存公式的计算结果", Span(file, c.row, c.column),
                            "请用 Excel 或 WPS 打开此文件、保存一次（让它算出公式的值），再计分")
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and "%" in (c.number_format or ""):
        from decimal import Decimal

        d = Decimal(cell_text(value)) * 100
        return format(d.to_integral_value() if d == d.to_integral_value() else d.normalize(), "f") + "%"
    return cell_text(value)


# ---- telling a form from a long table ---------------------------------------------------------
def is_form(path: Path, sheet: str | None) -> bool:
    """Whether a workbook is a form: the sheet read has a 项目名称 label in its first rows before
    any header row of a long table (项目 or 项目名称 beside 一级指标, 路径 or 名称)."""
    from jxdsl.xlsxread import SheetRows, choose_sheet, close_book, open_book

    wb = open_book(path)
    try:
        ws = choose_sheet(wb, path, sheet)
        it = iter(SheetRows(wb, ws, path))
        try:
            for n, (_, cells) in enumerate(it):
                keys = {key(c) for c in cells if c.strip()}
                if keys & {"项目", PROJECT_LABEL} and keys & TABLE_MARKS:
                    return False  # a long table's header (项目名称 may name its project column)
                if PROJECT_LABEL in keys:
                    return True
                if n >= SNIFF_ROWS:
                    return False
        finally:
            it.close()
    finally:
        close_book(wb)
    return False


# ---- reading forms ----------------------------------------------------------------------------
def read_forms(path: Path, sheet: str | None = None) -> list[Form]:
    """Every form of a file (each visible sheet, or the sheet named) or of a folder's .xlsx files
    (sorted by name; Excel's ~$ lock files left out); one project name twice is an error."""
    files = _folder(path, sheet) if path.is_dir() else [path]
    forms: list[Form] = []
    seen: dict[str, Form] = {}
    for f in files:
        for form in _read_file(f, sheet):
            if form.project in seen:
                a = seen[form.project]
                raise FactError(f"项目“{form.project}”有两份自评表：{a.source} 和 {form.source}", Span(form.file, 1, 1), "每个项目只填一份自评表")
            seen[form.project] = form
            forms.append(form)
    return forms


def _folder(path: Path, sheet: str | None) -> list[Path]:
    if sheet is not None:
        raise UsageError("--sheet 不能用于文件夹：文件夹中每个文件的每个可见工作表都按自评表读", None, "去掉 --sheet，或只给一个文件")
    files = sorted(p for p in path.iterdir() if p.suffix.lower() in (".xlsx", ".xlsm") and not p.name.startswith(("~$", ".")) and p.is_file())
    if not files:
        raise UsageError(f"文件夹“{path}”中没有 Excel 文件（.xlsx）", None, "把各项目的自评表（.xlsx）放进这个文件夹")
    return files


def _open(path: Path):
    """(values, formulas) workbooks of a form file; a file too large to be forms is refused."""
    import openpyxl

    try:
        data = path.read_bytes() if path.stat().st_size <= MAX_FORM_BYTES else None
    except OSError as e:
        raise UsageError(f"无法读取“{path}”（{e.strerror or type(e).__name__}）", None, "检查文件是否存在、是否有权限读取") from None
    try:
        size = sum(i.file_size for i in zipfile.ZipFile(io.BytesIO(data)).infolist()) if data is not None else MAX_FORM_BYTES + 1
    except (zipfile.BadZipFile, ValueError):
        size = 0  # openpyxl reports what is wrong with it
    if size > MAX_FORM_BYTES:
        raise FactError(f"文件太大，不像项目支出绩效自评表（解压后超过 {MAX_FORM_BYTES // 2**20} MB）", Span(str(path), 1, 1),
                        "很多项目请用一行一个指标的自评表（docs/facts-table.md）")
    try:
        return (openpyxl.load_workbook(io.BytesIO(data), data_only=True), openpyxl.load_workbook(io.BytesIO(data), data_only=False))
    except Exception as e:  # noqa: BLE001 - openpyxl and zipfile raise many kinds for a broken file
        raise FactError(f"无法读取 Excel 文件：文件已损坏，或不是 Excel 工作簿（.xlsx）（{type(e).__name__}）", Span(str(path), 1, 1),
                        "请用 Excel 或 WPS 打开后另存为“Excel 工作簿（.xlsx）”") from None


def _read_file(path: Path, sheet: str | None) -> list[Form]:
    """The forms of one workbook: every visible sheet (blank ones left out), or the one named."""
    from jxdsl.xlsxread import choose_sheet

    values, formulas = _open(path)
    file = str(path)
    if sheet is not None:
        return [read_sheet(choose_sheet(values, path, sheet), formulas, file)]
    forms = []
    for ws in values.worksheets + values.chartsheets:
        if ws.sheet_state != "visible":
            continue
        if not hasattr(ws, "iter_rows") or (getattr(ws, "_charts", None) and ws.max_row <= 1 and ws.cell(1, 1).value is None):
            raise FactError(f"工作表“{ws.title}”是图表，不是项目支出绩效自评表", Span(file, 1, 1),
                            "把图表放在隐藏的工作表里，或用 --sheet 工作表名 只读自评表所在的工作表")
        if ws.max_row <= 1 and ws.max_column <= 1 and ws.cell(1, 1).value is None:
            continue  # Excel's empty Sheet2, Sheet3
        forms.append(read_sheet(ws, formulas, file))
    if not forms:
        raise FactError("Excel 文件中没有可读的自评表（工作表都是空的或已隐藏）", Span(file, 1, 1), LAYOUT_HINT)
    return forms


def read_sheet(ws, formulas, file: str) -> Form:
    """One sheet's form: its blocks found by their labels."""
    if ws.max_row > MAX_FORM_ROWS or ws.max_column > MAX_FORM_COLUMNS:
        raise FactError(f"工作表“{ws.title}”有 {ws.max_row} 行、{ws.max_column} 列，不像一份自评表（至多 {MAX_FORM_ROWS} 行、{MAX_FORM_COLUMNS} 列）",
                        Span(file, 1, 1), "很多项目请用一行一个指标的自评表（docs/facts-table.md）")
    s = Sheet(ws, formulas, file)
    if not s.cells:
        raise FactError(f"工作表“{ws.title}”是空的", Span(file, 1, 1), LAYOUT_HINT)
    project, at = _header(s)
    heads = [r for r in s.rows if {"一级指标", "三级指标"} <= {key(t) for _, t in s.row(r)}]
    funds = _funds(s, at, heads[0] if heads else max(s.rows) + 1)
    rows, end = _indicators(s, project, funds["line"], heads)
    budget = Row(funds["line"], {"项目": project, "一级指标": "预算执行率", "三级指标": "预算执行率", "分值": funds["分值"],
                                 "年度指标值": funds["全年预算数"], "实际完成值": funds["全年执行数"], "年初预算数": funds.get("年初预算数", ""),
                                 "form:执行率": funds["执行率"]},
                 funds.get("得分") or None)
    total, total_line, grade = _ending(s, end)
    return Form(file, ws.title, project, (budget, *rows), total, total_line, grade)


def _labels(s: Sheet, label: str) -> list[tuple[int, int]]:
    return sorted(rc for rc, t in s.cells.items() if key(t) == label)


def _header(s: Sheet) -> tuple[str, tuple[int, int]]:
    """The project's name (the cell after 项目名称) and where the label is."""
    found = _labels(s, PROJECT_LABEL)
    if not found:
        raise FactError(f"工作表“{s.title}”不是项目支出绩效自评表：找不到“{PROJECT_LABEL}”", Span(s.file, 1, 1),
                        "自评表应有“项目名称”一格、它右边填项目名称；" + LAYOUT_HINT)
    if len(found) > 1:
        (r1, c1), (r2, c2) = found[:2]
        raise s.error(r2, c2, f"有两处“{PROJECT_LABEL}”（{letter(c1)}{r1} 和 {letter(c2)}{r2}），一个工作表只能填一个项目",
                      "每个项目的自评表放在单独的工作表里")
    r, c = found[0]
    col, name = s.after(r, c)
    if not name or key(name) in HEADER_LABELS:
        raise s.error(r, col, "“项目名称”没有填写", "在“项目名称”右边的格子里填项目名称")
    return name, (r, c)


def _weight_note(text: str) -> str | None:
    m = re.search(r"\((\d+(?:\.\d+)?)分\)", unicodedata.normalize("NFKC", re.sub(r"\s+", "", text)))
    return m.group(1) if m else None


def _funds(s: Sheet, at: tuple[int, int], until: int) -> dict:
    """The funds block's amounts (with their unit), the weight of 预算执行率, and its row."""
    heads = [r for r in s.rows if {"全年预算数", "全年执行数"} <= {key(t) for _, t in s.row(r)}]
    if not heads:
        raise FactError(f"工作表“{s.title}”找不到资金栏（“全年预算数”“全年执行数”两列）", Span(s.file, at[0], at[1]),
                        "自评表的“项目资金”一栏应有 年初预算数、全年预算数、全年执行数、分值、执行率、得分 各列；" + LAYOUT_HINT)
    if len(heads) > 1:
        raise s.error(heads[1], 1, f"有两个资金栏（第 {heads[0]} 行和第 {heads[1]} 行），一个工作表只能填一个项目", "每个项目的自评表放在单独的工作表里")
    head = heads[0]
    cols = {key(t): c for c, t in s.row(head) if key(t) in FUNDS}
    unit = _unit(s, head)
    first = min(cols.values())
    below = [r for r in s.rows if head < r < until]
    label = lambda r: key("".join(t for c, t in s.row(r) if c < first))  # noqa: E731
    data = next((r for r in below if label(r).startswith(TOTAL_FUNDS)), below[0] if below else head + 1)
    if not s.value(data, cols["全年预算数"]) and not s.value(data, cols["全年执行数"]):
        raise s.error(data, cols["全年预算数"], "资金栏没有填写全年预算数、全年执行数")
    out: dict = {"line": data}
    for name in ("年初预算数", "全年预算数", "全年执行数"):
        if name in cols:
            out[name] = _amount(s, data, cols[name], unit, required=name != "年初预算数")
    weight = s.value(data, cols["分值"]) if "分值" in cols else ""
    label = s.value(head, cols["分值"]) if "分值" in cols else ""
    out["分值"] = weight or _weight_note(label) or _weight_note(" ".join(t for c, t in s.row(head) if c < first)) or ""
    out["执行率"] = s.value(data, cols["执行率"]) if "执行率" in cols else ""
    out["得分"] = s.value(data, cols["得分"]) if "得分" in cols else ""
    return out


def _unit(s: Sheet, head: int) -> str | None:
    """The funds block's unit, from its label (项目资金（万元）) or a column's (全年预算数（元）)."""
    texts = [unicodedata.normalize("NFKC", re.sub(r"\s+", "", s.value(head, c))) for c in range(1, max(c for c, _ in s.row(head)) + 1)]
    for t in texts:
        m = re.search(r"\((万元|元|亿元)\)", t)
        if m:
            return m.group(1)
    return None


def _amount(s: Sheet, r: int, c: int, unit: str | None, required: bool) -> str:
    """An amount with its unit: a number gets the block's unit; a text keeps its own."""
    from jxdsl.units import plain_number

    text = s.value(r, c)
    if not text:
        if required:
            raise s.error(r, c, "资金栏的金额没有填写")
        return ""
    if plain_number(unicodedata.normalize("NFKC", text)) is None:
        return text  # 1,234.56万元: the unit is written; anything else the reader reports
    if unit is None:
        raise s.error(r, c, f"金额“{text}”没有单位，资金栏也没有写单位", "在“项目资金”后写明（万元），或在金额后写单位，如 883.56万元")
    return text + unit


def _indicators(s: Sheet, project: str, after: int, heads: list[int]) -> tuple[list[Row], int]:
    """The indicator block's rows (merged or blank 一级/二级 cells filled from above) and the row after it."""
    if not heads:
        raise FactError(f"工作表“{s.title}”找不到指标栏（“一级指标”“三级指标”等列）", Span(s.file, after, 1),
                        "自评表应有 一级指标、二级指标、三级指标、年度指标值、实际完成值、分值、得分 各列；" + LAYOUT_HINT)
    if len(heads) > 1:
        raise s.error(heads[1], 1, f"有两个指标栏（第 {heads[0]} 行和第 {heads[1]} 行），一个工作表只能填一个项目", "每个项目的自评表放在单独的工作表里")
    head = heads[0]
    cols: dict[str, int] = {}
    for c, t in s.row(head):
        name = INDICATOR_COLUMNS.get(key(t))
        if name is None:
            continue
        if name in cols:
            raise s.error(head, c, f"指标栏有两列都是“{name.removeprefix('form:')}”（{letter(cols[name])} 列和 {letter(c)} 列），无法确定用哪一列")
        cols[name] = c
    missing = [k for k in REQUIRED if k not in cols]
    if missing:
        raise s.error(head, 1, f"指标栏缺少列：{'、'.join(missing)}")
    rows, end, above = [], max(s.rows) + 1, {"一级指标": "", "二级指标": ""}
    for r in range(head + 1, max(s.rows) + 1):
        own = s.row(r)
        if own and key(own[0][1]) in END_WORDS + ("项目用款单位自我评定", "自我评定") + GRADE_LABELS:
            end = r
            break
        cells = {name: s.value(r, c) for name, c in cols.items()}
        if not any(v for k, v in cells.items() if k not in ("一级指标", "二级指标")):
            continue  # a blank row, or one that only a merged 一级/二级 cell reaches
        if cells["一级指标"] and cells["一级指标"] != above["一级指标"]:
            above = {"一级指标": cells["一级指标"], "二级指标": ""}
        for level in ("一级指标", "二级指标"):  # a blank level under a written one: the same, as if merged
            if level in cells:
                cells[level] = above[level] = cells[level] or above[level]
        rows.append(_indicator_row(r, project, cells))
    if not rows:
        raise s.error(head + 1, cols["三级指标"], "指标栏没有填写任何指标")
    return rows, end


def _indicator_row(r: int, project: str, cells: dict) -> Row:
    first = re.sub(r"\s*[(（][^()（）]*分[)）]\s*$", "", cells["一级指标"]).strip()
    third = cells["三级指标"]
    out = {k: v for k, v in cells.items() if not k.startswith("form:")}
    out.update({"项目": project, "一级指标": first})
    if not out.get("说明") and cells.get("form:原因"):
        out["说明"] = cells["form:原因"]
    if "明细" not in cells and key(third).startswith("其中") and not cells["分值"]:
        out["明细"] = "是"  # a breakdown without a weight of its own (a 其中 row with one is scored)
    return Row(r, out, cells.get("form:得分") or None)


def _ending(s: Sheet, end: int) -> tuple[str | None, int, str | None]:
    """The 总分 row's printed score (its last number) and the grade (a 等级 cell, or the checked
    box of 自我评定)."""
    from jxdsl.units import plain_number

    total, line, grade = None, 0, None
    for r in (r for r in s.rows if r >= end):
        own = s.row(r)
        label = key(own[0][1])
        if label in END_WORDS and total is None:
            numbers = [t for _, t in own[1:] if plain_number(t.removesuffix("分")) is not None]
            total, line = (numbers[-1] if numbers else None), r
        elif label in GRADE_LABELS and grade is None:
            grade = s.after(r, own[0][0])[1] or None
        elif "自我评定" in label and grade is None:
            grade = _ticked(" ".join(t for _, t in own[1:]))
    return total, line, grade


def _ticked(text: str) -> str | None:
    """The one grade whose box is ticked (优 ☑ 良 □ …, or ☑优 □良 …: boxes after or before the
    words, as the form's first box shows); None when none or several are."""
    boxes = "□☐" + "".join(CHECKED)
    first_box = min((text.find(b) for b in boxes if b in text), default=-1)
    first_word = min((text.find(g) for g in GRADES if g in text), default=-1)
    if first_box < 0 or first_word < 0:
        return None
    ticks = "[" + "".join(CHECKED) + "]"
    pattern = (lambda g: rf"{g}\s*{ticks}") if first_word < first_box else (lambda g: rf"{ticks}\s*{g}")
    found = [g for g in GRADES if re.search(pattern(g), text)]
    return found[0] if len(found) == 1 else None


# ---- the long table's rows, for tables.read_table --------------------------------------------------
def long_rows(forms: list[Form]) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """(header, (line, cells) rows) of the long self-evaluation table the forms make."""
    from jxdsl.tablesql import PART  # which form a row came from: projects ordered form by form

    header = [*COLUMNS, PART]
    out = []
    for part, form in enumerate(forms):
        for row in form.rows:
            out.append((row.line, [str(row.cells.get(c, "") or "") for c in COLUMNS] + [str(part)]))
    return header, out


# ---- the audit table's rows, for audit.read_table -------------------------------------------------
def audit_records(forms: list[Form]) -> list[tuple[int, dict]]:
    """(line, cells) of the published score table the forms make (``docs/audit.md``): each form's
    预算执行率 row, its indicators with the 得分 printed (明细 rows carry no score of their own) and
    its 总分 row with the grade ticked."""
    out = []
    for form in forms:
        budget, *rows = form.rows
        c = budget.cells
        out.append((budget.line, {"项目": form.project, "路径": "预算执行率", "分值": c["分值"], "得分": budget.published or "",
                                  "指标值": c["年度指标值"], "实际值": c["实际完成值"], "执行率": c.get("form:执行率", "")}))
        for row in rows:
            c = row.cells
            if c.get("明细") == "是" and not row.published:
                continue
            out.append((row.line, {"项目": form.project, "一级指标": c["一级指标"], "二级指标": c.get("二级指标", ""), "三级指标": c["三级指标"],
                                   "分值": c.get("分值", ""), "得分": row.published or "", "指标值": c.get("年度指标值", ""),
                                   "实际值": c.get("实际完成值", ""), "计分方法": c.get("计分方法", "")}))
        if form.total is not None or form.grade is not None:
            out.append((form.total_line, {"项目": form.project, "路径": "合计", "得分": form.total or "", "等级": form.grade or ""}))
    return out
