"""Facts files: one project (YAML/JSON) or many projects in a self-evaluation table (CSV/XLSX).

Reading only: values stay as written (strings with units, numbers, evaluator records) and
are interpreted by the evaluator, which knows what each rule needs.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import attrs

from jxdsl.document import LDict, check_size
from jxdsl.document import parse as parse_document
from jxdsl.encoding import read_text
from jxdsl.errors import FactError, Span, UsageError, remember_source, suggest

TOP_KEYS = ("项目", "年度", "事实", "评价", "目标表")
TABLE_COLUMNS = ("项目", "一级指标", "二级指标", "三级指标", "分值", "年度指标值", "实际完成值")
OPTIONAL_COLUMNS = ("档次", "评价得分", "说明", "计分方法", "明细", "备注")  # 备注: working notes, never read further
# what a row's 计分方法 may say (it overrides the rulebook's 默认规则 for that row)
METHODS = ("正向", "反向", "达标", "定性")
# a breakdown row (明细 = 是) is shown under the row above it and carries no weight of its own
DETAIL_WORDS = {"是": True, "否": False}
DETAIL_HINT = "明细行（其中、1、2、3…）写 是，其他行不写或写 否"
# budget facts a self-evaluation table may give as columns (and 事实:名称 for any other fact)
FACT_COLUMNS = ("年初预算数", "调整后预算数", "全年预算数", "全年执行数")
FACT_PREFIXES = ("事实:", "事实：")
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
    method: str | None = None  # 计分方法: overrides the 默认规则 (the kernel checks the word)
    detail: bool = False  # 明细 = 是: a breakdown of the row above, not scored
    parent: int | None = None  # a breakdown row's parent: that row's line


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
    if p.is_dir():  # a folder of 项目支出绩效自评表
        return load_table(p)
    if not p.is_file():
        raise UsageError(f"找不到事实文件“{path}”")
    remember_source(str(p))
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
    check_size(p)
    text, _ = read_text(p)  # UTF-8, else GB18030 (Notepad's and Excel's Chinese default)
    data = parse_document(text, file, is_json=p.suffix.lower() == ".json")
    if not isinstance(data, LDict):
        raise FactError("事实文件应是一个映射（项目、事实、评价）", Span(file, 1, 1))
    lines = _key_lines(data)
    for key in data:
        if key not in TOP_KEYS:
            close = suggest(str(key), TOP_KEYS)
            raise FactError(
                f"事实文件中有未知的顶层项“{key}”",
                Span(file, data.lines[key], 1),
                f"是否应为“{close}”？" if close else f"顶层只能有：{'、'.join(TOP_KEYS)}",
            )
    project = data.get("项目")
    if not project:
        raise FactError("事实文件缺少“项目”（项目名称）", Span(file, 1, 1))
    values = data.get("事实") or {}
    evaluations = data.get("评价") or {}
    for key, kind in (("事实", values), ("评价", evaluations)):
        if not isinstance(kind, dict):
            raise FactError(f"“{key}”应是“名称: 值”的映射", Span(file, data.lines[key], 1))
    rows = data.get("目标表") or []
    if not isinstance(rows, list):
        raise FactError("“目标表”应是行的列表", Span(file, data.lines["目标表"], 1))
    targets = []
    for n, row in enumerate(rows, 1):
        line = rows.lines[n - 1]
        if not isinstance(row, dict):
            raise FactError(f"目标表第 {n} 行应是“列名: 值”的映射", Span(file, line, 1))
        targets.append(_row(row, Span(file, line, 1), file, n))
    return Facts(
        str(project),
        {str(k): v for k, v in values.items()},
        {str(k): v for k, v in evaluations.items()},
        tuple(targets),
        file,
        _year(data.get("年度"), Span(file, data.lines.get("年度", 1), 1)),
        lines,
    )


def _year(raw, span: Span) -> int | None:
    if raw is None or raw == "":
        return None
    text = str(raw).strip().removesuffix("年").removesuffix("度").removesuffix("年")
    if not re.fullmatch(r"[0-9]{4}", text) or not 1900 <= int(text) <= 2200:
        raise FactError(f"“年度”应是四位年份，如 2021，实际是“{raw}”", span)
    return int(text)


def _key_lines(data: LDict) -> dict:
    """Lines of the top-level sections, of each key under 事实 and 评价, and of each field of a
    record: (section,), (section, key), (评价, key, field)."""
    out: dict = {}
    for key, value in data.items():
        out[(str(key),)] = data.lines[key]
        if isinstance(value, LDict):
            for k, v in value.items():
                out[(str(key), str(k))] = value.lines[k]
                if isinstance(v, LDict):
                    out.update({(str(key), str(k), str(f)): v.lines[f] for f in v})
    return out


def _row(row: dict, span: Span, file: str, n: int) -> TargetRow:
    def get(k):
        v = row.get(k)
        return None if v is None or (isinstance(v, str) and not v.strip()) else v

    for k in row:
        if k not in TABLE_COLUMNS + OPTIONAL_COLUMNS:
            close = suggest(str(k), TABLE_COLUMNS + OPTIONAL_COLUMNS)
            raise FactError(f"目标表第 {n} 行有未知的列“{k}”", span, f"是否应为“{close}”？" if close else None)
    detail = get("明细")
    detail = ("是" if detail else "否") if isinstance(detail, bool) else detail
    if detail is not None and str(detail).strip() not in DETAIL_WORDS:
        raise FactError(f"目标表第 {n} 行的“明细”应为“是”或“否”，实际是“{detail}”", span, DETAIL_HINT)
    is_detail = detail is not None and DETAIL_WORDS[str(detail).strip()]
    for k in ("一级指标", "三级指标") if is_detail else ("一级指标", "三级指标", "分值"):
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
        str(get("计分方法")).strip() if get("计分方法") is not None else None,
        is_detail,
    )
