"""Facts files: one project (YAML/JSON) or many projects in a self-evaluation table (CSV/XLSX).

Reading only: values stay as written (strings with units, numbers, evaluator records) and
are interpreted by the evaluator, which knows what each rule needs.
"""
from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Any

import attrs
import yaml

from jxdsl.docnumbers import JSON_HOOKS, YamlLoader
from jxdsl.errors import FactError, Span, UsageError, suggest

TOP_KEYS = ("项目", "年度", "事实", "评价", "目标表")
TABLE_COLUMNS = ("项目", "一级指标", "二级指标", "三级指标", "分值", "年度指标值", "实际完成值")
OPTIONAL_COLUMNS = ("档次", "评价得分", "说明")
TABLE_EXTRA = ("年度",)  # optional per-project column
BUDGET_ROW = "预算执行率"
# the budget-execution row carries these two facts (contracts.md: 年度指标值 = A, 实际完成值 = B)
BUDGET_FACTS = ("全年预算数", "全年执行数")
# why every budget row of a project with more than one is rejected (all engines say this; {} = count)
DUPLICATE_BUDGET = f"项目有 {{}} 行“{BUDGET_ROW}”，无法确定用哪一行"


@attrs.frozen
class TargetRow:
    """One row of a project's 绩效目标表."""

    first: str
    second: str
    third: str
    weight: Any
    target: Any
    actual: Any
    tier: str | None = None
    score: Any = None
    note: str | None = None
    span: Span | None = attrs.field(default=None, eq=False)


@attrs.frozen
class Facts:
    """What one project supplies: measured values, evaluator records, target-table rows."""

    project: str
    values: dict[str, Any] = attrs.Factory(dict)
    evaluations: dict[str, Any] = attrs.Factory(dict)
    targets: tuple[TargetRow, ...] = ()
    source: str = ""
    year: int | None = None  # the year evaluated; checked against the rulebook's 年度
    lines: dict = attrs.field(factory=dict, eq=False, repr=False)  # (section, key) → line
    problems: tuple[FactError, ...] = attrs.field(default=(), eq=False)  # rows that could not be read
    unusable: frozenset[str] = attrs.field(default=frozenset(), eq=False)  # facts given but ambiguous


def load(path: str | Path) -> list[Facts]:
    """Every project in a facts file: one for YAML/JSON, one per project for a table."""
    p = Path(path)
    if not p.is_file():
        raise UsageError(f"找不到事实文件“{path}”")
    suffix = p.suffix.lower()
    if suffix in (".yaml", ".yml", ".json"):
        return [_load_document(p)]
    if suffix in (".csv", ".xlsx", ".xlsm", ".parquet"):
        return load_table(p)
    raise UsageError(f"不支持的事实文件类型“{p.suffix}”", None, "支持 .yaml .yml .json（单个项目）和 .csv .xlsx .parquet（自评表、事实表）")


def load_table(p: Path) -> list:
    """Every project of a table file, read as the SQL engines read it (``tables.read_table``).

    Returns ``inputs.ProjectInputs``, which ``evaluate`` takes like ``Facts``."""
    from jxdsl.batch import duckdb_connect
    from jxdsl.tables import fetch_inputs, read_table

    con = duckdb_connect()
    try:
        read_table(con, p, str(p))
        return fetch_inputs(con)
    finally:
        con.close()


def _load_document(p: Path) -> Facts:
    file = str(p)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as e:
        raise FactError("事实文件不是 UTF-8 编码", Span(file, 1, e.start + 1)) from None
    try:
        data = json.loads(text, **JSON_HOOKS) if p.suffix.lower() == ".json" else yaml.load(text, Loader=YamlLoader)  # noqa: S506 (a SafeLoader)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise FactError(
            f"YAML 格式错误：{e.problem}", Span(file, line, col), "检查冒号后是否有空格、方括号和引号是否成对、缩进是否对齐"
        ) from None
    except yaml.YAMLError as e:
        raise FactError(f"YAML 格式错误：{e}", Span(file, 1, 1)) from None
    except json.JSONDecodeError as e:
        raise FactError(f"JSON 格式错误：{e.msg}", Span(file, e.lineno, e.colno)) from None
    if not isinstance(data, dict):
        raise FactError("事实文件应是一个映射（项目、事实、评价）", Span(file, 1, 1))
    for key in data:
        if key not in TOP_KEYS:
            close = suggest(str(key), TOP_KEYS)
            raise FactError(
                f"事实文件中有未知的顶层项“{key}”",
                Span(file, _line_of(text, str(key)), 1),
                f"是否应为“{close}”？" if close else f"顶层只能有：{'、'.join(TOP_KEYS)}",
            )
    project = data.get("项目")
    if not project:
        raise FactError("事实文件缺少“项目”（项目名称）", Span(file, 1, 1))
    values = data.get("事实") or {}
    evaluations = data.get("评价") or {}
    for key, kind in (("事实", values), ("评价", evaluations)):
        if not isinstance(kind, dict):
            raise FactError(f"“{key}”应是“名称: 值”的映射", Span(file, _line_of(text, key), 1))
    rows = data.get("目标表") or []
    if not isinstance(rows, list):
        raise FactError("“目标表”应是行的列表", Span(file, _line_of(text, "目标表"), 1))
    targets = []
    row_lines = _row_lines(text) if p.suffix.lower() != ".json" else []
    for n, row in enumerate(rows, 1):
        if not isinstance(row, dict):
            raise FactError(f"目标表第 {n} 行应是“列名: 值”的映射", Span(file, _line_of(text, "目标表"), 1))
        line = row_lines[n - 1] if n - 1 < len(row_lines) else _line_of(text, "目标表") + n
        targets.append(_row(row, Span(file, line, 1), file, n))
    return Facts(
        str(project),
        {str(k): v for k, v in values.items()},
        {str(k): v for k, v in evaluations.items()},
        tuple(targets),
        file,
        _year(data.get("年度"), Span(file, _line_of(text, "年度"), 1)),
        _key_lines(text) if p.suffix.lower() != ".json" else {},
    )


def _year(raw, span: Span) -> int | None:
    if raw is None or raw == "":
        return None
    text = str(raw).strip().removesuffix("年").removesuffix("度").removesuffix("年")
    if not re.fullmatch(r"[0-9]{4}", text) or not 1900 <= int(text) <= 2200:
        raise FactError(f"“年度”应是四位年份，如 2021，实际是“{raw}”", span)
    return int(text)


def _row_lines(text: str) -> list[int]:
    """The line where each 目标表 row starts."""
    try:
        root = yaml.compose(text)
    except yaml.YAMLError:
        return []
    if isinstance(root, yaml.MappingNode):
        for key, value in root.value:
            if key.value == "目标表" and isinstance(value, yaml.SequenceNode):
                return [item.start_mark.line + 1 for item in value.value]
    return []


def _key_lines(text: str) -> dict:
    """Line numbers of the top-level sections and of each key under 事实 and 评价."""
    try:
        root = yaml.compose(text)
    except yaml.YAMLError:
        return {}
    out: dict = {}
    if not isinstance(root, yaml.MappingNode):
        return out
    for key, value in root.value:
        out[(key.value,)] = key.start_mark.line + 1
        if isinstance(value, yaml.MappingNode):
            for k, _ in value.value:
                out[(key.value, str(k.value))] = k.start_mark.line + 1
    return out


def _line_of(text: str, key: str) -> int:
    for n, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith(f"{key}:") or line.lstrip().startswith(f'"{key}"'):
            return n
    return 1


def _row(row: dict, span: Span, file: str, n: int) -> TargetRow:
    def get(k):
        v = row.get(k)
        return None if v is None or (isinstance(v, str) and not v.strip()) else v

    for k in row:
        if k not in TABLE_COLUMNS + OPTIONAL_COLUMNS:
            close = suggest(str(k), TABLE_COLUMNS + OPTIONAL_COLUMNS)
            raise FactError(f"目标表第 {n} 行有未知的列“{k}”", span, f"是否应为“{close}”？" if close else None)
    for k in ("一级指标", "三级指标", "分值"):
        if get(k) is None:
            raise FactError(f"目标表第 {n} 行缺少“{k}”", span)
    return TargetRow(
        str(get("一级指标")).strip(),
        str(get("二级指标") or "").strip(),
        str(get("三级指标")).strip(),
        get("分值"),
        get("年度指标值"),
        get("实际完成值"),
        str(get("档次")).strip() if get("档次") is not None else None,
        get("评价得分"),
        str(get("说明")) if get("说明") is not None else None,
        span,
    )


def _csv_rows(p: Path) -> tuple[list[str], list[tuple[int, dict]]]:
    from jxdsl.tables import max_rows

    try:
        with p.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            header = [h.strip() for h in (reader.fieldnames or [])]
            reader.fieldnames = header
            rows = []
            for n, r in enumerate(reader, 2):
                if n > max_rows():
                    raise FactError(f"自评表行数超过上限 {max_rows()}", Span(str(p), n, 1), "更大的表请设环境变量 JXDSL_MAX_ROWS，或分成几张表")
                rows.append((n, {k: v for k, v in r.items() if k is not None}))
            return header, rows
    except UnicodeDecodeError:
        raise FactError("自评表不是 UTF-8 编码（请另存为“CSV UTF-8”）", Span(str(p), 1, 1)) from None


def _xlsx_rows(p: Path) -> tuple[list[str], list[tuple[int, dict]]]:
    import openpyxl

    try:
        wb = openpyxl.load_workbook(p, read_only=True, data_only=True)
    except Exception as e:  # openpyxl raises many kinds for a broken file
        raise FactError(f"无法读取 Excel 文件：{e}", Span(str(p), 1, 1)) from None
    ws = wb.worksheets[0]
    it = ws.iter_rows(values_only=True)
    header = [str(h).strip() if h is not None else "" for h in next(it, ())]
    rows = []
    for n, values in enumerate(it, 2):
        if all(v is None for v in values):
            continue
        rows.append((n, {h: v for h, v in zip(header, values) if h}))
    wb.close()
    return header, rows


def table_projects(table: tuple[list[str], list[tuple[int, dict]]], file: str) -> list[Facts]:
    """Group a long-format self-evaluation table into one Facts per project, in table order."""
    header, rows = table
    missing = [c for c in TABLE_COLUMNS if c not in header]
    if missing:
        raise FactError(f"自评表缺少列：{'、'.join(missing)}", Span(file, 1, 1), f"需要的列：{'、'.join(TABLE_COLUMNS)}")
    projects: dict[str, dict] = {}
    for n, r in rows:
        name = str(r.get("项目") or "").strip()
        if not name:
            raise FactError(f"自评表第 {n} 行缺少项目名称", Span(file, n, 1))
        proj = projects.setdefault(name, {"values": {}, "targets": [], "year": None, "problems": []})
        span = Span(file, n, 1)
        try:
            _table_row(proj, r, n, span, file)
        except FactError as e:
            proj["problems"].append(e)
    out = []
    for name, proj in projects.items():
        unusable = frozenset()
        if len(proj.get("budget_lines", ())) > 1:  # which row is right cannot be known: use neither
            unusable = frozenset(BUDGET_FACTS)
            for fact in BUDGET_FACTS:
                proj["values"].pop(fact, None)
        out.append(
            Facts(name, dict(proj["values"]), {}, tuple(proj["targets"]), file, proj["year"], proj.get("lines", {}), tuple(proj["problems"]), unusable)
        )
    return out


def _table_row(proj: dict, r: dict, n: int, span: Span, file: str) -> None:
    """One table row into its project: the budget row becomes facts, the others target rows."""
    if r.get("年度") not in (None, ""):
        proj["year"] = _year(r.get("年度"), span)
    third = str(r.get("三级指标") or "").strip()
    if third == BUDGET_ROW:
        lines = proj.setdefault("budget_lines", [])
        lines.append(n)
        if len(lines) > 1:
            raise FactError(
                f"项目的“{BUDGET_ROW}”行重复（第 {lines[0]} 行已有一行），无法确定用哪一行", span, "每个项目只能有一行预算执行率：删去多余的行"
            )
        proj["values"][BUDGET_FACTS[0]] = r.get("年度指标值")
        proj["values"][BUDGET_FACTS[1]] = r.get("实际完成值")
        proj.setdefault("lines", {}).update({("事实", BUDGET_FACTS[0]): n, ("事实", BUDGET_FACTS[1]): n, ("评价", BUDGET_ROW): n})
        return
    proj["targets"].append(_row({k: r.get(k) for k in TABLE_COLUMNS[1:] + OPTIONAL_COLUMNS if k in r}, span, file, n))
