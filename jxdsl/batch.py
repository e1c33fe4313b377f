"""Scoring with an engine: the interpreter, or the compiled SQL on DuckDB or Spark.

``open_run`` reads a facts file or a table into the input relations (``tables.py``) and scores
every project (or the one ``--project`` names) with the chosen engine.  The relations live in
DuckDB, except for a facts file scored by the interpreter: its rows stay in Python, read as DuckDB
gives them back (``tables.sorted_rows``), so a single project's ``explain`` never starts DuckDB.
The ``Run`` then gives the results in one shape whatever the engine: ``Result`` objects (for JSON,
explanations and reports), JSON lines built by DuckDB (streamed, for large tables), summary lines
and errors.  A project the SQL query cannot compute exactly (numbers too long for 38 digits) is
scored by the interpreter.
"""
from __future__ import annotations

import contextlib
import json
import os
import sys
import time
import weakref
from collections.abc import Iterator
from pathlib import Path

import attrs

from jxdsl.errors import FactError, Span, UsageError, remember_source, suggest
from jxdsl.evaluate import Result, evaluate
from jxdsl.explain import to_json
from jxdsl.link import Rulebook
from jxdsl.lower import lower
from jxdsl.tables import SUFFIXES, fetch_inputs, inputs_of_rows, load_inputs, read_table, rows_of, sorted_rows

ENGINES = ("interpreter", "duckdb", "spark")
MEMORY_LIMIT = "3GB"  # a million projects stay under 4 GB of memory; DuckDB spills the rest to disk
JSON_CHUNK = 50_000  # projects whose JSON lines are computed at once
CHUNK = 2000  # projects assembled at a time


_CONNECTIONS: weakref.WeakSet = weakref.WeakSet()


@contextlib.contextmanager
def memory_guard(source: str):
    """DuckDB running out of its memory limit (reading, scoring or writing) is a usage error that
    says how to go on, not a traceback.  DuckDB is not imported for it: not loaded, it raised nothing."""
    try:
        yield
    except Exception as e:
        duckdb = sys.modules.get("duckdb")
        if duckdb is None or not isinstance(e, duckdb.OutOfMemoryException):
            raise
        limit = os.environ.get("JXDSL_DUCKDB_MEMORY_LIMIT", MEMORY_LIMIT)
        raise UsageError(f"处理“{source}”时 DuckDB 内存不足（上限 {limit}）", None,
                         "可设环境变量 JXDSL_DUCKDB_MEMORY_LIMIT 放宽（如 JXDSL_DUCKDB_MEMORY_LIMIT=12GB），或把表分成几张分别计分") from None


def close_connections() -> None:
    """Close every DuckDB connection still open (its spill files are removed on close)."""
    for con in list(_CONNECTIONS):
        con.close()


def duckdb_connect():
    """DuckDB as the engines run it: beyond the memory limit (JXDSL_DUCKDB_MEMORY_LIMIT) it spills
    to a temporary directory; rows keep their order; x / 0 is NULL (guarded by the kernel anyway).
    Two optimizer passes are off: on a rulebook's query (thousands of columns in a chain of
    stages) they cost minutes of planning and gain nothing on its row-wise projections."""
    import tempfile

    import duckdb

    spill = os.path.join(tempfile.gettempdir(), "jxdsl-duckdb-spill")
    limit = os.environ.get("JXDSL_DUCKDB_MEMORY_LIMIT", MEMORY_LIMIT)
    con = duckdb.connect(config={"temp_directory": spill, "preserve_insertion_order": True, "memory_limit": limit})
    _CONNECTIONS.add(con)
    con.execute("SET error_on_division_by_zero = false")
    con.execute("SET disabled_optimizers = 'statistics_propagation,projection_placement'")
    return con


@attrs.define
class Run:
    """Projects read and scored: results, JSON lines and errors, in project order."""

    book: Rulebook
    engine: str
    con: object  # the DuckDB connection holding the relations; None while ``rows`` holds them
    source: str
    kind: str
    pids: list[int]
    rows_in: int
    note: str = ""  # which sheet of a workbook, which encoding of a CSV (for the summary line)
    compiled: object = None
    exact: set[int] = attrs.Factory(set)  # projects the interpreter scored for the SQL engine
    seconds: float = 0.0
    started: float = 0.0
    _seen: dict = attrs.Factory(dict)  # pid → (project, errors, warnings) of the results given out
    rows: dict | None = None  # a facts file's input relations in Python (``tables.rows_of``), for the interpreter

    def db(self):
        """The DuckDB connection, opened on first use where the relations are held in Python."""
        if self.con is None:
            self.con = duckdb_connect()
        return self.con

    def inputs(self, pids: list[int]) -> list:
        """These projects' ``ProjectInputs``, read from the relations wherever they are held."""
        if self.rows is not None:
            return inputs_of_rows(sorted_rows(self.rows, pids))
        return fetch_inputs(self.con, pids)

    @property
    def scheme(self):
        return lower(self.book)

    def results(self, pids: list[int] | None = None) -> Iterator[Result]:
        """Every project's Result, in order (assembled a chunk at a time)."""
        pids = self.pids if pids is None else pids
        for i in range(0, len(pids), CHUNK):
            chunk = pids[i : i + CHUNK]
            yield from self._results(chunk)

    def _results(self, chunk: list[int]) -> list[Result]:
        if self.engine == "interpreter":
            got = [evaluate(self.scheme, p) for p in self.inputs(chunk)]
        else:
            from jxdsl.assemble import results

            sql = results(self.con, self.compiled, [p for p in chunk if p not in self.exact])
            exact = [p for p in chunk if p in self.exact]
            interp = dict(zip(exact, (evaluate(self.scheme, p) for p in self.inputs(exact)))) if exact else {}
            got = [interp[p] if p in interp else sql[p] for p in chunk]
        for pid, r in zip(chunk, got):
            self._seen[pid] = (r.project, list(r.errors), list(r.warnings))
        return got

    def problems(self) -> Iterator[tuple[str, list[FactError], list[str]]]:
        """(project, errors, warnings) of every project that has any, in project order."""
        if self.engine == "interpreter" or all(p in self._seen for p in self.pids):
            for pid in self.pids:
                if pid not in self._seen:
                    self._results([pid])
                project, errors, warnings = self._seen[pid]
                if errors or warnings:
                    yield project, errors, warnings
            return
        from jxdsl.assemble import project_errors

        with_errors = {p for (p,) in self.con.execute("SELECT DISTINCT pid FROM jx_errors").fetchall()} - self.exact
        names = dict(self.con.execute("SELECT pid, year FROM projects WHERE year IS NOT NULL").fetchall())
        flagged = sorted(with_errors | {p for p, y in names.items() if not self.scheme.in_force(int(y))} | (self.exact & set(self.pids)))
        for i in range(0, len(flagged), CHUNK):
            chunk = flagged[i : i + CHUNK]
            exact = [p for p in chunk if p in self.exact]
            if exact:
                self._results(exact)
            errs = project_errors(self.con, self.compiled, [p for p in chunk if p not in self.exact])
            projects = dict(self.con.execute("SELECT pid, project FROM projects WHERE pid IN (" + ",".join(str(p) for p in chunk) + ")").fetchall())
            for pid in chunk:
                if pid in self.exact:
                    project, errors, warnings = self._seen[pid]
                else:
                    project, errors, warnings = projects[pid], errs.get(pid, []), _warnings(self.scheme, names.get(pid))
                if errors or warnings:
                    yield project, errors, warnings

    def json_lines(self) -> Iterator[str]:
        """One JSON object per project (``to_json``), as text; DuckDB builds them in SQL."""
        if self.engine == "interpreter" or self.compiled is None or not _has(self.con, "jx_json"):
            for r in self.results():
                yield json.dumps(to_json(r), ensure_ascii=False)
            return
        for lo, hi in self._chunks():
            rows = self.con.execute(f"SELECT pid, json FROM {self._json_chunk(lo, hi)} ORDER BY pid").fetchall()
            exact = [pid for pid, _ in rows if pid in self.exact]
            redone = dict(zip(exact, self._results(exact))) if exact else {}
            for pid, text in rows:
                yield json.dumps(to_json(redone[pid]), ensure_ascii=False) if pid in redone else text

    def _json_chunk(self, lo: int, hi: int) -> str:
        """The JSON lines of projects lo..hi as a relation: the duckdb engine's macro computes only
        those (``compile.json_range_sql``); Spark's ``jx_json`` came back whole as a table."""
        if self.engine == "duckdb":
            return f"jx_json_of({int(lo)}, {int(hi)})"
        return f"(SELECT * FROM jx_json WHERE pid BETWEEN {int(lo)} AND {int(hi)})"

    def _chunks(self) -> Iterator[tuple[int, int]]:
        """Project ids a chunk at a time: ``jx_json`` is a view, computed for one chunk at once, so
        the JSON of a million projects (5 GB) is never held whole."""
        for i in range(0, len(self.pids), JSON_CHUNK):
            yield self.pids[i], self.pids[min(i + JSON_CHUNK, len(self.pids)) - 1]

    def copies(self) -> bool:
        """Whether the outputs can be written by DuckDB alone: an SQL engine's relations are there
        and no project went to the interpreter."""
        return self.engine != "interpreter" and self.compiled is not None and not self.exact and _has(self.con, "jx_json")

    def copy_json_lines(self, path: Path) -> None:
        """Every project's JSON line (``jx_json``) written by DuckDB's COPY, in project order."""
        self._copy_lines(path, lambda lo, hi: f"SELECT json FROM {self._json_chunk(lo, hi)} ORDER BY pid")

    def copy_csv(self, path: Path, header: str) -> None:
        """The audit-table CSV of every project (``compile.csvout``), after the header and BOM."""
        from jxdsl.compile.csvout import csv_lines_sql

        self._copy_lines(path, lambda lo, hi: csv_lines_sql(self.compiled, lo, hi), ("\ufeff" + header + "\n").encode("utf-8"))

    def _copy_lines(self, path: Path, query, head: bytes = b"") -> None:
        """Lines of text (one column) that DuckDB computes and writes a chunk of projects at a
        time, joined into ``path``.  The text goes out as written: the delimiter and quote (ASCII
        31, 30) never occur raw in JSON or in our CSV lines, so nothing is quoted."""
        import shutil

        parts: list[Path] = []
        try:
            for lo, hi in self._chunks():
                parts.append(path.with_name(f"{path.name}.{len(parts)}"))
                self.con.execute(f"COPY ({query(lo, hi)}) TO ? (FORMAT csv, HEADER false, DELIMITER '\x1f', QUOTE '\x1e', ESCAPE '\x1e', USE_TMP_FILE false)", [str(parts[-1])])
            with path.open("wb") as out:
                out.write(head)
                for part in parts:
                    with part.open("rb") as fh:
                        shutil.copyfileobj(fh, out, 1 << 22)
        finally:
            for part in parts:
                part.unlink(missing_ok=True)

    def copy_parquet(self, path: Path, columns: tuple[str, ...]) -> None:
        """Every indicator of every project (``jx_nodes``, in output order) with the project's
        total and grade, written by DuckDB's COPY as Parquet."""
        values = ["p.project", "array_to_string(from_json(n.path, '[\"VARCHAR\"]'), '/')", "n.weight", "n.score", "n.deduction", "n.status",
                  "n.explanation", "n.source", "CAST(j.total AS VARCHAR)", "j.grade"]
        select = ", ".join(f'{v} AS "{c}"' for v, c in zip(values, columns, strict=True))
        self.con.execute(
            f"COPY (SELECT {select} FROM jx_nodes n JOIN projects p USING (pid) JOIN jx_proj j USING (pid) ORDER BY n.pid, n.k, n.g, n.r) TO ? (FORMAT parquet, USE_TMP_FILE false)",
            [str(path)],
        )

    def table_problems(self) -> list[FactError]:
        """Rows that belong to no project (no project name), located at their line."""
        if self.rows is not None:  # a facts file: ``rows_of`` gives every row its project
            return []
        rows = self.con.execute("SELECT line, message, hint FROM problems WHERE pid IS NULL ORDER BY line").fetchall()
        return [FactError(m, Span(self.source, line or 1, 1), h) for line, m, h in rows]


def _warnings(scheme, year) -> list[str]:
    if year is None or scheme.in_force(int(year)):
        return []
    a, b = scheme.years
    return [f"规则集“{scheme.name}”适用于 {f'{a} 年' if a == b else f'{a}–{b} 年'}，项目年度为 {int(year)} 年"]


def _has(con, table: str) -> bool:
    return bool(con.execute("SELECT COUNT(*) FROM information_schema.tables WHERE table_name = ?", [table]).fetchone()[0])


def is_table(path: str | Path) -> bool:
    """A table file, or a folder of 项目支出绩效自评表 (``forms``)."""
    return Path(path).suffix.lower() in SUFFIXES or Path(path).is_dir()


def process_started() -> float:
    """``time.perf_counter()`` at the moment this process started, so that the 用时 a command reports
    is its whole wall time (interpreter start and imports included); now, where /proc is missing."""
    try:
        with open("/proc/self/stat", encoding="ascii") as fh:
            start_ticks = int(fh.read().rsplit(")", 1)[1].split()[19])  # field 22, starttime
        with open("/proc/uptime", encoding="ascii") as fh:
            uptime = float(fh.read().split()[0])
        return time.perf_counter() - max(0.0, uptime - start_ticks / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError):
        return time.perf_counter()


def open_run(book: Rulebook, facts_path: str | Path, engine: str = "duckdb", project: str | None = None, progress: bool = False,
             master: str | None = None, started: float | None = None, sheet: str | None = None) -> Run:
    """Read the facts (a file of one project, or a table) and score them with the engine; the
    tally's time counts from ``started`` (a command passes its process's start)."""
    if engine not in ENGINES:
        raise UsageError(f"未知的计分引擎“{engine}”", None, f"可用：{'、'.join(ENGINES)}")
    path = Path(facts_path)
    if not path.is_file() and not path.is_dir():
        raise UsageError(f"找不到事实文件“{facts_path}”")
    start = time.perf_counter() if started is None else started
    label = str(facts_path)
    remember_source(label)  # errors may show lines of the facts file the tool reads (errors._source_text)
    note, rows = "", None
    if is_table(path):
        con = duckdb_connect()
        read = read_table(con, path, label, sheet)
        kind, note = read.kind, read.note()
        rows_in = con.execute("SELECT COUNT(*) FROM raw").fetchone()[0]
        if project is not None:
            _only(con, project)
    else:
        from jxdsl import facts as facts_mod
        from jxdsl.inputs import from_facts
        from jxdsl.rowrecords import fold_row_records

        if sheet is not None:
            raise UsageError(f"--sheet 只用于 Excel 文件（.xlsx），“{facts_path}”不是", None, "去掉 --sheet")
        kind, rows_in, con = "file", 1, None
        rows = rows_of([fold_row_records(lower(book), from_facts(f)) for f in facts_mod.load(path)])
        if project is not None:
            rows = _only_rows(rows, project)
        if engine != "interpreter":  # the SQL engines read the relations from DuckDB
            con = duckdb_connect()
            load_inputs(con, rows)
            rows = None
    pids = sorted(r[0] for r in rows["projects"]) if rows is not None else [p for (p,) in con.execute("SELECT pid FROM projects ORDER BY pid").fetchall()]
    run = Run(book, engine, con, label, kind, pids, rows_in, note, started=start, rows=rows)
    if engine == "duckdb":
        _duckdb(run, progress)
    elif engine == "spark":
        from jxdsl.spark import run_spark

        run_spark(run, master)
    run.seconds = time.perf_counter() - start
    return run


def _only(con, project: str) -> None:
    """Keep one project (by name); an unknown name is a usage error with the nearest name."""
    pid = _pid(project, con.execute("SELECT pid, project FROM projects ORDER BY pid").fetchall())
    for table in ("projects", "facts", "records", "targets", "problems"):  # rows of no project stay reported
        con.execute(f"DELETE FROM {table} WHERE pid IS DISTINCT FROM ?" + (" AND pid IS NOT NULL" if table == "problems" else ""), [pid])


def _only_rows(rows: dict[str, list[tuple]], project: str) -> dict[str, list[tuple]]:
    """``_only`` on relation rows held in Python."""
    pid = _pid(project, sorted((r[0], r[1]) for r in rows["projects"]))
    return {name: [r for r in got if r[0] == pid or (name == "problems" and r[0] is None)] for name, got in rows.items()}


def _pid(project: str, names: list[tuple[int, str]]) -> int:
    """The first project of this name (pid order); an unknown name is a usage error with the nearest name."""
    for pid, name in names:
        if name == project:
            return pid
    close = suggest(project, [n for _, n in names])
    raise UsageError(f"事实文件中没有项目“{project}”", None, f"是否应为“{close}”？" if close else None)


def _duckdb(run: Run, progress: bool) -> None:
    from jxdsl.compile import compile_scheme, json_range_sql, sql_statements

    run.compiled = compile_scheme(run.book, "duckdb")
    statements = sql_statements(run.book, "duckdb")
    bar = _Progress(progress, len(statements))
    try:
        for name, text in statements:  # the JSON lines: a view, and a macro for a chunk of projects
            run.con.execute(f"CREATE OR REPLACE {'VIEW' if name == 'jx_json' else 'TABLE'} {name} AS {text}")
            bar.advance()
        run.con.execute(f"CREATE OR REPLACE MACRO jx_json_of(lo, hi) AS TABLE {json_range_sql(run.book)}")
    finally:
        bar.close()
    run.exact = {p for (p,) in run.con.execute("SELECT pid FROM jx_proj WHERE ovf").fetchall()}


class _Progress:
    """A rich progress bar on stderr (over the statements, or the projects a report writes) when
    asked for, otherwise nothing."""

    def __init__(self, enabled: bool, total: int | None, label: str = "计分"):
        self.bar = None
        if enabled:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self.bar = Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), transient=True, console=Console(stderr=True))
            self.bar.__enter__()
            self.task = self.bar.add_task(label, total=total)

    def advance(self) -> None:
        if self.bar is not None:
            self.bar.advance(self.task)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
