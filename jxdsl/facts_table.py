"""Facts files (one project each, YAML/JSON) written as one facts table (``docs/facts-table.md``).

A bureau that collected one facts file per project scores them all in one run by turning them into
a table: one row per fact and per evaluator record.  Reading the table back gives every engine the
same inputs as the files (``tests/test_engines.py`` holds the scores and explanations equal).
"""
from __future__ import annotations

import csv
from pathlib import Path

from jxdsl.errors import FactError, Span, UsageError
from jxdsl.inputs import ProjectInputs, Record, read_error
from jxdsl.outfile import check_out, safe_text, staged

COLUMNS = ("项目", "年度", "类别", "名称", "值", "档次", "得分", "说明", "发现", "次数", "满足", "未满足", "不适用", "发生", "问卷")
OPTIONAL = ("分值",)


def project_rows(p: ProjectInputs) -> list[dict[str, str]]:
    """The rows of one project; a project with problems or target rows is refused (a facts table
    cannot carry a value that could not be read, and target rows belong in a self-evaluation table)."""
    if p.problems:
        raise read_error(p, p.problems[0])
    if p.targets:
        raise FactError(f"项目“{p.project}”有目标表行，不能写成事实表", p.span(p.targets[0].span.line if p.targets[0].span else None), "有目标表的项目请直接用事实文件或自评表计分")
    year = str(p.year) if p.year is not None else ""
    base = {"项目": p.project, "年度": year}
    rows = [{**base, "类别": "事实", "名称": name, "值": fact.text} for name, fact in p.facts.items()]
    rows += [{**base, "类别": "评价", "名称": rec.key, **_record_cells(rec)} for rec in p.records]
    return rows


def _record_cells(rec: Record) -> dict[str, str]:
    """A record's fields as cells: scalars as written, lists one entry per line, a survey one
    question per line with ``选项=人数`` pairs separated by ``、``."""
    cells = {}
    for field, value in rec.fields.items():
        if not isinstance(value, tuple):
            cells[field] = value
        elif field == "问卷":
            questions: dict[int, list[str]] = {}
            for e in value:
                questions.setdefault(e.question, []).append(e.value if e.option is None else f"{e.option}={e.value}")
            cells[field] = "\n".join("、".join(parts) for _, parts in sorted(questions.items()))
        else:
            cells[field] = "\n".join(e.value or "" for e in value) if value else "无"
    return cells


def write_facts_table(paths: list[str], out: str) -> int:
    """Read every facts file and write the table (CSV, UTF-8 with BOM for Excel); returns the
    number of projects.  Written beside ``out`` and renamed when complete; never over an input."""
    from jxdsl import facts as facts_mod
    from jxdsl.inputs import from_facts

    target = Path(out)
    check_out(out, paths)  # refused before any reading: an input, a folder, a FIFO
    if target.suffix.lower() != ".csv":
        raise UsageError(f"事实表只写成 CSV：“{out}”", None, "输出文件名以 .csv 结尾")
    rows, names = [], {}
    for path in paths:
        if Path(path).suffix.lower() not in (".yaml", ".yml", ".json"):
            raise UsageError(f"“{path}”不是事实文件（.yaml/.yml/.json）")
        for f in facts_mod.load(path):
            p = from_facts(f)
            if p.project in names:
                raise FactError(f"项目“{p.project}”在两个事实文件中：{names[p.project]} 和 {path}", Span(path, p.facts_line or 1, 1), "每个项目只写一个事实文件")
            names[p.project] = path
            rows += project_rows(p)
    with staged(out, paths) as tmp, tmp.open("w", encoding="utf-8-sig", newline="") as fh:
        columns = COLUMNS + tuple(c for c in OPTIONAL if any(c in row for row in rows))  # 分值 only when a record has one
        w = csv.DictWriter(fh, columns, lineterminator="\n")
        w.writeheader()
        w.writerows({k: safe_text(v) if isinstance(v, str) else v for k, v in row.items()} for row in rows)
    return len(names)
