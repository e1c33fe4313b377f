"""What ``score`` writes, in every format, from a ``batch.Run`` — the same for every engine.

Large tables stream: JSON lines come from DuckDB (``jx_json``), CSV and Parquet rows are written a
chunk of projects at a time, so memory stays bounded whatever the number of projects.
"""
from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import attrs

from jxdsl.errors import FactError, Span, UsageError
from jxdsl.explain import dumps, render_text, summary_line, to_json
from jxdsl.outfile import safe_text, staged

SHOWN_WITH_SOURCE = 50  # errors printed with their source line and caret; the rest one line each
REPORTS = ("xlsx", "docx", "html", "md")


FULL_NOTES_FORMATS = ("text", *REPORTS)  # where --no-full-notes means something (not the data formats)


def write(run, fmt: str, out: str | None, single: bool, full_notes: bool = True) -> None:
    """The results in ``fmt``, on stdout or into ``out`` (``outfile.staged``: never over an input,
    never half written).  ``full_notes=False``: full-score rows' 扣分说明 left blank (reports)."""
    if not full_notes and fmt not in FULL_NOTES_FORMATS:
        raise UsageError(f"--no-full-notes 只用于得分表和说明（{'、'.join(FULL_NOTES_FORMATS)} 格式及 explain），{fmt} 格式的数据总是完整的", None, "去掉 --no-full-notes，或改用 --format xlsx 等得分表格式")
    if fmt in REPORTS:
        return _report(run, fmt, out, full_notes)
    if out is None:
        if fmt == "parquet":
            raise UsageError("parquet 格式需要用 -o 指定输出文件", None, "例如 -o 结果.parquet")
        import click

        for text in _lines(run, fmt, single):
            click.echo(safe_text(text))
        return
    import duckdb

    with staged(out, _inputs(run)) as tmp:
        try:
            if fmt == "parquet":
                _parquet(run, tmp)
            elif fmt == "jsonl" and run.copies():
                run.copy_json_lines(tmp)
            elif fmt == "csv" and _csv_copies(run, single):
                run.copy_csv(tmp, ",".join(_csv_columns(single)))
            else:
                with tmp.open("w", encoding="utf-8-sig" if fmt == "csv" else "utf-8", newline="") as fh:
                    for text in _lines(run, fmt, single):
                        fh.write(safe_text(text) + "\n")
        except (duckdb.IOException, duckdb.PermissionException) as e:  # e.g. the disk filled while writing
            raise UsageError(f"无法写入“{out}”：{e}") from None


def _inputs(run) -> list[str]:
    """Every file the run read: the facts or table, the rulebook and every rulebook it inherits."""
    return [run.source, *run.book.files]


def _lines(run, fmt: str, single: bool) -> Iterator[str]:
    """The output of a text format (text, json, jsonl, csv) a line (or a block) at a time."""
    if fmt == "jsonl":
        yield from run.json_lines()
    elif fmt == "json":
        payload = [to_json(r) for r in run.results()]
        yield dumps(payload[0] if single and payload else payload)
    elif fmt == "csv":
        yield from _csv(run, single)
    elif single or len(run.pids) == 1 and run.kind == "file":
        yield "\n\n".join(render_text(r) for r in run.results())
    else:
        yield from summaries(run)


def summaries(run) -> Iterator[str]:
    """One line per project: total, grade (and how many data problems)."""
    for r in run.results():
        extra = f"（{len(r.errors)} 处数据问题）" if r.errors else ""
        yield summary_line(r) + extra


def _csv_columns(single: bool) -> list[str]:
    from jxdsl.audit import COLUMNS, OPTIONAL

    # several projects: 项目 first, once (OPTIONAL ends with it; a header naming it twice is ambiguous)
    return [*COLUMNS, *OPTIONAL] if single else ["项目", *COLUMNS, *[c for c in OPTIONAL if c != "项目"]]


def _csv_copies(run, single: bool) -> bool:
    """Whether DuckDB writes the CSV itself (``compile/csvout.py``): a file of several projects,
    all scored in SQL, without 加分/扣分 rows (those are written by Python)."""
    return not single and run.copies() and not run.scheme.bonus and not run.scheme.penalty


def _csv(run, single: bool) -> Iterator[str]:
    import csv as csv_mod
    import io

    from jxdsl.audit import result_rows
    from jxdsl.render import safe_cell

    columns = _csv_columns(single)
    buf = io.StringIO()
    w = csv_mod.writer(buf, lineterminator="\n")
    w.writerow(columns)
    yield buf.getvalue().rstrip("\n")
    for r in run.results():
        buf = io.StringIO()
        w = csv_mod.writer(buf, lineterminator="\n")
        for row in result_rows(r):
            row["项目"] = r.project
            w.writerow([safe_cell(row.get(c, "")) for c in columns])
        text = buf.getvalue().rstrip("\n")
        if text:
            yield text


PARQUET_COLUMNS = ("项目", "路径", "分值", "得分", "扣分", "状态", "说明", "来源", "总分", "等级")
_KEYS = tuple(f"c{i}" for i in range(len(PARQUET_COLUMNS)))  # ASCII keys in the staging file


def _parquet(run, tmp: Path) -> None:
    """Every indicator of every project, one row each, with the project's total and grade."""
    if run.copies():
        return run.copy_parquet(tmp, PARQUET_COLUMNS)
    from sqlglot import exp

    from jxdsl.explain import explanation
    from jxdsl.units import plain

    # rows go to a temporary JSON-lines file beside the output (its name is the temporary's, so a
    # killed run's is swept like it), a chunk of projects at a time (memory stays bounded);
    # DuckDB converts it to Parquet in one streaming COPY
    rows = tmp.with_name(tmp.name + ".jsonl")
    try:
        with rows.open("w", encoding="utf-8") as fh:
            for r in run.results():
                d = r.digits
                total = plain(r.total, d) if r.total is not None else None
                for i in r.walk():
                    row = (
                        r.project, "/".join(i.path), plain(i.weight, 4), plain(i.score, d) if i.score is not None else None,
                        plain(i.deduction, d) if i.deduction is not None and i.status != "not_applicable" else ("0" if i.status == "not_applicable" else None),
                        i.status, explanation(i, d), str(i.origin) if i.origin else None, total, r.grade,
                    )
                    fh.write(safe_text(json.dumps(dict(zip(_KEYS, row)), ensure_ascii=False)) + "\n")
        columns = exp.Struct(expressions=[exp.PropertyEQ(this=exp.Literal.string(k), expression=exp.Literal.string("VARCHAR")) for k in _KEYS])
        read = exp.select(*[exp.column(k).as_(c) for k, c in zip(_KEYS, PARQUET_COLUMNS)]).from_(
            exp.func("read_json", exp.Literal.string(str(rows)), exp.PropertyEQ(this=exp.column("format"), expression=exp.Literal.string("newline_delimited")),
                     exp.PropertyEQ(this=exp.column("columns"), expression=columns)))
        run.db().execute(f"COPY ({read.sql('duckdb')}) TO ? (FORMAT parquet, USE_TMP_FILE false)", [str(tmp)])
    finally:
        rows.unlink(missing_ok=True)


def _report(run, fmt: str, out: str | None, full_notes: bool = True) -> None:
    import sys

    from jxdsl import report, report_book, report_docx, report_html, report_md
    from jxdsl.explain import blank_full_notes

    book = run.book
    if out is None and fmt in ("xlsx", "docx"):
        raise UsageError(f"{fmt} 格式需要用 -o 指定输出文件", None, f"例如 -o 得分表.{fmt}")
    results = (r if full_notes else blank_full_notes(r) for r in run.results())  # xlsx and html stream them
    total = len(run.pids)
    bar = total > report_book.PROGRESS_FROM and sys.stderr.isatty()
    if out is None:
        import click

        text = report_md.render_md(list(results), book) if fmt == "md" else report_html.render_html(results, book, bar, total)
        click.echo(safe_text(text))
        return
    if fmt in ("xlsx", "html"):
        write = report.write_xlsx if fmt == "xlsx" else report_html.write_html
        return write(results, book, out, _inputs(run), bar, total)
    write = {"docx": report_docx.write_docx, "md": report_md.write_md}[fmt]
    write(list(results), book, out, inputs=_inputs(run))


# ---- errors, warnings and the tally on stderr ---------------------------------------------------------
@attrs.define
class Tally:
    projects_failed: int = 0
    stray_rows: int = 0

    @property
    def failed(self) -> bool:
        return bool(self.projects_failed or self.stray_rows)


def report(run, echo: bool, write) -> Tally:
    """Print every error (the first ones with their source line) and warning; count what failed."""
    from jxdsl.errors import _source_text

    tally = Tally()
    sources: dict[str, str] = {}
    shown = 0

    def emit(err: FactError) -> None:
        nonlocal shown
        if not echo:
            return
        file = err.span.file if err.span else None
        if file and file not in sources and shown < SHOWN_WITH_SOURCE:
            sources[file] = _source_text(file, None) or ""
        write(err.render(sources) if shown < SHOWN_WITH_SOURCE else err.render({file: ""} if file else {}))
        shown += 1

    for err in run.table_problems():
        tally.stray_rows += 1
        emit(err)
    for project, errors, warnings in run.problems():
        if echo:
            for w in warnings:
                write(f"注意：项目“{project}”：{w}")
        if errors:
            tally.projects_failed += 1
            for e in errors:
                emit(e)
    if run.kind != "file":
        write(
            f"共 {run.rows_in} 行{run.note}、{len(run.pids)} 个项目：{len(run.pids) - tally.projects_failed} 个计分完成，{tally.projects_failed} 个有数据问题"
            + (f"，{tally.stray_rows} 行不属于任何项目" if tally.stray_rows else "")
            + f"；引擎 {run.engine}" + (f"（{len(run.exact)} 个项目的数值过长，由解释器精确计分）" if run.exact else "")
            + f"，用时 {time.perf_counter() - run.started:.2f} 秒"
        )
    return tally


__all__ = ["write", "report", "Span", "json"]
