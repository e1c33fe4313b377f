"""Score a whole self-evaluation table: the interpreter, or the compiled SQL on DuckDB or Spark.

``score_table(book, path, engine)`` reads a long-format table (CSV, XLSX or Parquet) and returns a
``BatchResult``: every project in the JSON contract shape of ``explain.to_json``, the row counts
(``rows_in == rows_scored + rows_rejected``) and one rejection per row that could not be scored,
with its reason in Chinese.  The three engines agree on every score, total, grade and rejected row
(tests/test_batch.py checks it); the SQL engines explain a row briefly and point to
``jxdsl explain --project`` for the full explanation.

Spark runs in local mode (``local[2]``) unless ``master=`` or the environment variable
``JXDSL_SPARK_MASTER`` names a cluster (``spark://host:7077``, ``yarn``); the table path must then
be readable by the cluster.
"""
from __future__ import annotations

import csv
import functools
import os
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import attrs

from jxdsl import ast
from jxdsl.errors import FactError, Span, UsageError
from jxdsl.evaluate import evaluate
from jxdsl.inputs import as_text
from jxdsl.lower import table_key as _key
from jxdsl.explain import number, to_json
from jxdsl.facts import BUDGET_FACTS, BUDGET_ROW, OPTIONAL_COLUMNS, TABLE_COLUMNS, TABLE_EXTRA, DUPLICATE_BUDGET, _year, table_projects
from jxdsl.link import Rulebook
from jxdsl.units import plain

ENGINES = ("interpreter", "duckdb", "spark")
SUFFIXES = (".csv", ".xlsx", ".xlsm", ".parquet")
ALL_COLUMNS = (*TABLE_COLUMNS, *OPTIONAL_COLUMNS, *TABLE_EXTRA)
DEFAULT_MASTER = "local[2]"
EXPLAIN_HINT = "用 jxdsl explain --project {project} 查看逐条说明"


@attrs.define
class BatchResult:
    """Projects in the JSON contract shape, row accounting and rejected rows."""

    projects: Sequence[dict]
    rows_in: int
    rows_scored: int
    rows_rejected: int
    rejections: list[dict]
    engine: str = "duckdb"
    seconds: float = 0.0


def score_table(
    book: Rulebook, table_path: str | Path, engine: str = "duckdb", progress: bool = False, master: str | None = None
) -> BatchResult:
    """Score every project of a self-evaluation table with the chosen engine."""
    if engine not in ENGINES:
        raise UsageError(f"未知的计分引擎“{engine}”", None, f"可用：{'、'.join(ENGINES)}")
    path = Path(table_path)
    if not path.is_file():
        raise UsageError(f"找不到自评表“{table_path}”")
    if path.suffix.lower() not in SUFFIXES:
        raise UsageError(f"不支持的自评表类型“{path.suffix}”", None, "支持 .csv .xlsx .parquet")
    start = time.perf_counter()
    with _Progress(progress) as bar:
        if engine == "interpreter":
            result = _interpreter(book, path, bar)
        elif engine == "duckdb":
            from jxdsl.compile import plan

            plan(book)  # raises CompileError before reading anything
            result = _duckdb(book, path, bar)
        else:
            from jxdsl.compile import plan

            plan(book)
            result = _spark(book, path, bar, master)
    result.engine = engine
    result.seconds = time.perf_counter() - start
    return result


# ---- progress -------------------------------------------------------------------------------
class _Progress:
    """A rich progress bar when asked for, otherwise nothing."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.bar = None
        self.task = None

    def __enter__(self):
        if self.enabled:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            self.bar = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), transient=False)
            self.bar.__enter__()
        return self

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.__exit__(*exc)

    def phase(self, description: str, total: int | None = None) -> None:
        if self.bar is None:
            return
        if self.task is not None:
            self.bar.update(self.task, completed=self.bar.tasks[-1].total or 1, total=self.bar.tasks[-1].total or 1)
        self.task = self.bar.add_task(description, total=total)

    def advance(self, n: int = 1) -> None:
        if self.bar is not None and self.task is not None:
            self.bar.advance(self.task, n)

    def done(self) -> None:
        if self.bar is not None and self.task is not None:
            t = self.bar.tasks[-1]
            self.bar.update(self.task, total=t.total or t.completed or 1, completed=t.total or t.completed or 1)


# ---- reading tables --------------------------------------------------------------------------
def read_rows(path: Path) -> tuple[list[str], list[tuple[int, dict]]]:
    """(header, [(line, row)]) for the interpreter: CSV and XLSX as facts.py reads them, Parquet via DuckDB."""
    from jxdsl import facts as facts_mod

    suffix = path.suffix.lower()
    if suffix == ".csv":
        return facts_mod._csv_rows(path)
    if suffix in (".xlsx", ".xlsm"):
        return facts_mod._xlsx_rows(path)
    import duckdb

    con = duckdb.connect()
    try:
        rel = con.execute("SELECT * FROM read_parquet(?)", [str(path)])
        header = [d[0].strip() for d in rel.description]
        rows = []
        n = 1
        while True:
            chunk = rel.fetchmany(50_000)
            if not chunk:
                break
            for values in chunk:
                n += 1
                rows.append((n, {h: v for h, v in zip(header, values)}))
        return header, rows
    finally:
        con.close()


def _check_header(header: Iterable[str], file: str) -> None:
    header = list(header)
    missing = [c for c in TABLE_COLUMNS if c not in header]
    if missing:
        raise FactError(f"自评表缺少列：{'、'.join(missing)}", Span(file, 1, 1), f"需要的列：{'、'.join(TABLE_COLUMNS)}")


def _structural(r: dict) -> str | None:
    """Why a row cannot enter any project (facts.table_projects would stop the whole table)."""
    if not str(r.get("项目") or "").strip():
        return "自评表缺少项目名称"
    y = r.get("年度")
    if y not in (None, ""):
        try:
            _year(y, Span("", 1, 1))
        except FactError:
            return f"“年度”应是四位年份，如 2021，实际是“{y}”"
        except ValueError:
            return f"“年度”应是四位年份，如 2021，实际是“{y}”"
    if str(r.get("三级指标") or "").strip() == BUDGET_ROW:
        return None

    def blank(k):
        v = r.get(k)
        return v is None or (isinstance(v, str) and not v.strip())

    for k in ("一级指标", "三级指标", "分值"):
        if blank(k):
            return f"缺少“{k}”"
    return None


def _text(v) -> str | None:
    if v is None:
        return None
    s = as_text(v)
    return s if s.strip() else None


def _path_of(book: Rulebook, r: dict) -> str:
    third = str(r.get("三级指标") or "").strip()
    if third == BUDGET_ROW:
        return BUDGET_ROW
    first = str(r.get("一级指标") or "").strip()
    ind = next((i for i in book.indicators if isinstance(i.rule, ast.FromTargets) and _key(i.name) == _key(first)), None)
    second = str(r.get("二级指标") or "").strip()
    return "/".join(x for x in ((ind.name if ind else first), second, third) if x)


def _uses_budget(book: Rulebook) -> bool:
    return any(f in book.facts for f in BUDGET_FACTS) or any(
        f in {r.name for d in book.derived for r in _refs(d.expr)} for f in BUDGET_FACTS
    )


def _refs(expr):
    from jxdsl.formulas import references

    return references(expr)


# ---- the interpreter ------------------------------------------------------------------------
def _interpreter(book: Rulebook, path: Path, bar: _Progress) -> BatchResult:
    bar.phase("读取自评表")
    header, rows = read_rows(path)
    file = str(path)
    _check_header(header, file)
    rejections: list[dict] = []
    kept: list[tuple[int, dict]] = []
    for n, r in rows:
        why = _structural(r)
        if why:
            rejections.append(_rejection(str(r.get("项目") or "").strip(), "/".join(
                x for x in (str(r.get(k) or "").strip() for k in ("一级指标", "二级指标", "三级指标")) if x), r.get("实际完成值"), why, n))
        else:
            kept.append((n, r))
    projects_facts = table_projects((header, kept), file)
    by_project: dict[str, list[tuple[int, dict]]] = {}
    for n, r in kept:
        by_project.setdefault(str(r.get("项目")).strip(), []).append((n, r))
    targets = [i for i in book.indicators if isinstance(i.rule, ast.FromTargets)]
    uses_budget = _uses_budget(book)
    out = []
    bar.phase("计分（解释器）", total=len(projects_facts))
    for facts in projects_facts:
        result = evaluate(book, facts)
        data = to_json(result)
        out.append(data)
        prow = by_project.get(facts.project, [])
        reasons: dict[int, str] = {}
        prefix = f"项目“{facts.project}”"
        for e in result.errors:
            line = e.span.line if e.span else None
            if line is None or line in reasons or not any(n == line for n, _ in prow):
                continue
            reasons[line] = _strip_prefix(e.message, prefix)
        budget_lines = [n for n, r in prow if str(r.get("三级指标") or "").strip() == BUDGET_ROW]
        if len(budget_lines) > 1:
            for n in budget_lines:
                reasons[n] = DUPLICATE_BUDGET.format(len(budget_lines))
        if budget_lines and not uses_budget:
            reasons.setdefault(budget_lines[-1], "规则集没有预算执行率指标，此行未使用")
        for n, r in prow:
            if n in budget_lines:
                continue
            first = str(r.get("一级指标")).strip()
            if not any(_key(t.name) == _key(first) for t in targets):
                reasons.setdefault(n, f"一级指标“{first}”不在规则集中")
        for res in result.indicators:
            if res.status == "invalid" and res.children is not None and any(
                s.kind == "missing" and str(s.data.get("message", "")).startswith("目标表中") for s in res.steps
            ):
                message = next(s.data["message"] for s in res.steps if s.kind == "missing")
                for n, r in prow:
                    if n not in budget_lines and _key(str(r.get("一级指标")).strip()) == _key(res.name):
                        reasons.setdefault(n, message)
        for n, r in prow:
            if n in reasons:
                rejections.append(_rejection(facts.project, _path_of(book, r), r.get("实际完成值"), reasons[n], n))
        bar.advance()
    bar.done()
    rows_in = len(rows)
    return BatchResult(out, rows_in, rows_in - len(rejections), len(rejections), rejections, "interpreter")


def _strip_prefix(message: str, prefix: str) -> str:
    if not message.startswith(prefix):
        return message
    rest = message[len(prefix):]
    if rest.startswith("，指标“"):
        end = rest.find("”：")
        if end >= 0:
            return rest[end + 2:]
    return rest.removeprefix("：")


def _rejection(project: str, indicator: str, value, reason: str, line: int | None) -> dict:
    """A row that could not be scored: its project, indicator, value, why, and its row in the table."""
    return {"project": project, "indicator": indicator, "value": _text(value), "reason": reason, "line": line}


# ---- SQL engines: loading ---------------------------------------------------------------------
def _table_to_csv(path: Path, tmp: str) -> tuple[str, dict[int, int]]:
    """An XLSX sheet (or a CSV DuckDB's reader refuses) as a UTF-8 CSV of text cells, read as the
    interpreter reads them, with each record's row number in the original file."""
    from jxdsl.facts import _csv_rows, _xlsx_rows

    header, rows = _csv_rows(path) if path.suffix.lower() == ".csv" else _xlsx_rows(path)
    _check_header(header, str(path))
    out = os.path.join(tmp, "table.csv")
    lines: dict[int, int] = {}
    with open(out, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["行号", *ALL_COLUMNS])
        for n, r in rows:
            w.writerow([n, *[("" if r.get(c) is None else as_text(r.get(c))) for c in ALL_COLUMNS]])
    return out, lines


def _duckdb_rows(con, path: Path, tmp: str) -> None:
    """Create the view ``rows`` (行号 + text columns) over the table file."""
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        csv_path, _ = _table_to_csv(path, tmp)
        con.execute(
            "CREATE TABLE raw AS SELECT * FROM read_csv(?, header=true, all_varchar=true, delim=',', quote='\"', escape='\"')", [csv_path]
        )
        cols = {c: c for c in ALL_COLUMNS}
        ordinal = 'CAST("行号" AS BIGINT)'
    elif suffix == ".csv":
        import duckdb

        try:
            con.execute(
                "CREATE TABLE raw AS SELECT * FROM read_csv(?, header=true, all_varchar=true, delim=',', quote='\"', escape='\"', null_padding=true)",
                [str(path)],
            )
            cols = None
            ordinal = None
        except duckdb.Error:  # a file DuckDB's sniffer cannot settle (blank or ragged rows): read it as the interpreter does
            csv_path, _ = _table_to_csv(path, tmp)
            con.execute(
                "CREATE TABLE raw AS SELECT * FROM read_csv(?, header=true, all_varchar=true, delim=',', quote='\"', escape='\"')", [csv_path]
            )
            cols = {c: c for c in ALL_COLUMNS}
            ordinal = 'CAST("行号" AS BIGINT)'

    else:
        from sqlglot import exp as _exp

        reader = _exp.func("read_parquet", _exp.Literal.string(str(path)), _exp.EQ(this=_exp.column("file_row_number"), expression=_exp.true()))
        con.execute(f"CREATE VIEW raw AS {_exp.select('*').from_(reader).sql('duckdb')}")
        cols = None
        ordinal = "CAST(file_row_number + 2 AS BIGINT)"
    names = [d[0] for d in con.execute("SELECT * FROM raw LIMIT 0").description]
    if cols is None:
        cols = {}
        for name in names:
            clean = name.strip().lstrip("\ufeff").strip()
            if clean in ALL_COLUMNS and clean not in cols:
                cols[clean] = name
        _check_header(cols, str(path))
    from sqlglot import exp

    select = []
    for c in ALL_COLUMNS:
        if c in cols:
            select.append(exp.cast(exp.column(cols[c], quoted=True), "VARCHAR").as_(c, quoted=True))
        else:
            select.append(exp.cast(exp.null(), "VARCHAR").as_(c, quoted=True))
    if ordinal is None:
        ordinal = "CAST(ROW_NUMBER() OVER () + 1 AS BIGINT)"
    import sqlglot

    q = exp.select(sqlglot.parse_one(ordinal, read="duckdb").as_("行号", quoted=True), *select).from_("raw")
    con.execute(f"CREATE VIEW rows AS {q.sql('duckdb')}")


MEMORY_LIMIT = "3GB"  # a million projects stay under 4 GB of memory; DuckDB spills the rest to disk


def duckdb_connect():
    """DuckDB as the batch engine runs it: beyond the memory limit (JXDSL_DUCKDB_MEMORY_LIMIT,
    e.g. 16GB on a large machine for speed) it spills to a temporary directory; rows keep their order."""
    import duckdb

    spill = os.path.join(tempfile.gettempdir(), "jxdsl-duckdb-spill")
    limit = os.environ.get("JXDSL_DUCKDB_MEMORY_LIMIT", MEMORY_LIMIT)
    return duckdb.connect(config={"temp_directory": spill, "preserve_insertion_order": True, "memory_limit": limit})


def _duckdb(book: Rulebook, path: Path, bar: _Progress) -> BatchResult:
    import duckdb

    from jxdsl.compile import OUTPUT_COLUMNS, to_sql

    bar.phase("读取自评表")
    con = duckdb_connect()
    with tempfile.TemporaryDirectory(prefix="jxdsl-") as tmp:
        _duckdb_rows(con, path, tmp)
        if path.suffix.lower() in (".xlsx", ".xlsm"):
            con.execute("CREATE TABLE rows_t AS SELECT * FROM rows")
            con.execute("DROP VIEW rows")
            con.execute("ALTER TABLE rows_t RENAME TO rows")
    bar.phase("计分（DuckDB）")
    con.execute(f"CREATE TABLE result AS {to_sql(book, 'duckdb', pretty=False)}")
    rows_in, rejected, n_projects = con.execute(
        'SELECT COUNT(*), COUNT("原因"), COUNT(DISTINCT "项目序号") FROM result'
    ).fetchone()
    rejections = [
        _sql_rejection(book, dict(zip(OUTPUT_COLUMNS, r)))
        for r in con.execute('SELECT * FROM result WHERE "原因" IS NOT NULL').fetchall()
    ]

    def stream() -> Iterator[dict]:
        cur = con.cursor()
        # the query sorted the rows by project and line; an ordered scan keeps that order
        cur.execute('SELECT * FROM result WHERE "项目序号" IS NOT NULL')
        while True:
            chunk = cur.fetchmany(20_000)
            if not chunk:
                break
            for r in chunk:
                yield dict(zip(OUTPUT_COLUMNS, r))
        cur.close()

    projects = _ProjectList(book, str(path), stream, n_projects)
    bar.phase("整理结果", total=n_projects)
    bar.done()
    return BatchResult(projects, rows_in, rows_in - rejected, rejected, rejections, "duckdb")


# ---- Spark ------------------------------------------------------------------------------------
_SPARK = {}


def spark_session(master: str | None = None):
    """One local (or cluster) Spark session per process and master."""
    master = master or os.environ.get("JXDSL_SPARK_MASTER") or DEFAULT_MASTER
    if master in _SPARK:
        return _SPARK[master]
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master(master)
        .appName("jxdsl-batch")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.constraintPropagation.enabled", "false")  # its cost grows exponentially with the CASE columns
        .config("spark.driver.memory", os.environ.get("JXDSL_SPARK_DRIVER_MEMORY", "2g"))
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    # Spark compiles a stage whose generated Java exceeds the JVM's 64 KB method limit by
    # interpreting it instead (same results) and logs that as an error with a long stack trace
    jvm = spark.sparkContext._jvm
    jvm.org.apache.logging.log4j.core.config.Configurator.setLevel(
        "org.apache.spark.sql.catalyst.expressions.codegen.CodeGenerator", jvm.org.apache.logging.log4j.Level.FATAL
    )
    _SPARK[master] = spark
    return spark


def _spark(book: Rulebook, path: Path, bar: _Progress, master: str | None) -> BatchResult:
    from pyspark.sql import functions as F
    from pyspark.sql.window import Window

    from jxdsl.compile import OUTPUT_COLUMNS, to_sql

    bar.phase("启动 Spark")
    spark = spark_session(master)
    bar.phase("读取自评表")
    suffix = path.suffix.lower()
    tmp = tempfile.mkdtemp(prefix="jxdsl-")  # removed when the process exits (Spark reads lazily)
    import atexit
    import shutil

    atexit.register(shutil.rmtree, tmp, True)
    if suffix in (".xlsx", ".xlsm"):
        csv_path, _ = _table_to_csv(path, tmp)
        df = spark.read.option("header", True).option("multiLine", True).option("escape", '"').csv(csv_path)
    elif suffix == ".csv":
        df = spark.read.option("header", True).option("multiLine", True).option("escape", '"').option("encoding", "UTF-8").csv(str(path))
    else:
        df = spark.read.parquet(str(path))
    cols: dict[str, str] = {}
    for name in df.columns:
        clean = name.strip().lstrip("\ufeff").strip()
        if clean in (*ALL_COLUMNS, "行号") and clean not in cols:
            cols[clean] = name
    _check_header(cols, str(path))
    sel = [(F.col(f"`{cols[c]}`").cast("string") if c in cols else F.lit(None).cast("string")).alias(c) for c in ALL_COLUMNS]
    if "行号" in cols:
        df = df.select(F.col(f"`{cols['行号']}`").cast("long").alias("行号"), *sel)
    else:
        df = df.select(F.monotonically_increasing_id().alias("_mid"), *sel)
        df = df.select((F.row_number().over(Window.orderBy("_mid")) + 1).cast("long").alias("行号"), *sel)
    df.createOrReplaceTempView("rows")
    bar.phase("计分（Spark）")
    result = [r.asDict() for r in spark.sql(to_sql(book, "spark", pretty=False)).collect()]
    rows = [{c: r[c] for c in OUTPUT_COLUMNS} for r in result]
    rejections = [_sql_rejection(book, r) for r in rows if r["原因"] is not None]
    scored = [r for r in rows if r["项目序号"] is not None]
    n_projects = len({r["项目"] for r in scored})
    bar.phase("整理结果", total=n_projects)
    projects = list(_assemble(book, str(path), iter(scored)))
    bar.done()
    return BatchResult(projects, len(rows), len(rows) - len(rejections), len(rejections), rejections, "spark")


# ---- SQL engines: results → the JSON contract -------------------------------------------------
def _sql_rejection(book: Rulebook, r: dict) -> dict:
    fi = r["指标序号"]
    if fi == 0:
        indicator = BUDGET_ROW
    elif fi is not None:
        indicator = "/".join(x for x in (r["一级指标"], r["二级指标"], r["三级指标"]) if x)
    else:
        indicator = None
    reason = r["原因"]
    if reason.startswith("目标表中“") and fi:
        target = [i for i in book.indicators if isinstance(i.rule, ast.FromTargets)][fi - 1]
        total = Fraction(r["分值合计"]) if r["分值合计"] is not None else Fraction(0)
        reason = f"目标表中“{target.name}”各行分值之和 {_plain(total)} 与规则集规定的 {_plain(target.weight)} 不符"
    return _rejection(r["项目"], indicator if indicator is not None else _raw_path(r), r["实际完成值"], reason, r["行号"])


def _raw_path(r: dict) -> str:
    first = r.get("一级指标原文") or ""
    return "/".join(x for x in (first, r["二级指标"], r["三级指标"]) if x)


class _ProjectList(Sequence):
    """Projects assembled on demand from the engine's ordered rows (a 1M-project table does not
    have to fit in memory as dicts); iterate it, or index it (which materializes the list)."""

    def __init__(self, book: Rulebook, label: str, stream, count: int):
        self._book, self._label, self._stream, self._count = book, label, stream, count
        self._cache: list[dict] | None = None

    def __len__(self) -> int:
        return self._count

    def __iter__(self):
        if self._cache is not None:
            return iter(self._cache)
        return _assemble(self._book, self._label, self._stream())

    def __getitem__(self, i):
        if self._cache is None:
            self._cache = list(_assemble(self._book, self._label, self._stream()))
        return self._cache[i]

    def __eq__(self, other):
        return list(self) == list(other)


@functools.lru_cache(maxsize=1 << 16)
def _plain(value, digits: int = 2) -> str:
    """units.plain, remembered: a province's table repeats the same weights and scores."""
    return plain(value, digits)


@functools.lru_cache(maxsize=1 << 16)
def _number(value, digits: int = 2):
    """explain.number, remembered."""
    return number(value, digits)


def _dec(v) -> Decimal | None:
    """An engine's exact decimal (kept as Decimal: turning a million rows into fractions is slow)."""
    return None if v is None else Decimal(v)


def _exact(value: Fraction) -> Decimal:
    """A rulebook weight as an exact decimal (the compiler accepts at most 8 decimals)."""
    return Decimal(value.numerator * 10**8 // value.denominator).scaleb(-8)


def _assemble(book: Rulebook, label: str, rows: Iterator[dict]) -> Iterator[dict]:
    """Ordered result rows → one JSON object per project, as explain.to_json shapes it."""
    current: list[dict] = []
    name = None
    for r in rows:
        if r["项目"] != name and current:
            yield _project(book, label, name, current)
            current = []
        name = r["项目"]
        current.append(r)
    if current:
        yield _project(book, label, name, current)


def _node(path, weight, score, status, explanation, source, digits) -> dict:
    deduction = None if score is None else weight - score
    return {
        "path": list(path),
        "weight": _number(weight, 4),
        "score": _number(score, digits),
        "deduction": _number(deduction, digits) if status != "not_applicable" else 0,
        "status": status,
        "explanation": explanation,
        "source": source,
    }


def _project(book: Rulebook, label: str, project: str, rows: list[dict]) -> dict:
    d = book.digits
    hint = EXPLAIN_HINT.format(project=project)
    indicators: list[dict] = []
    errors: list[str] = []
    targets = [i for i in book.indicators if isinstance(i.rule, ast.FromTargets)]
    for ind in book.indicators:
        if isinstance(ind.rule, ast.FromTargets):
            fi = targets.index(ind) + 1
            mine = [r for r in rows if r["指标序号"] == fi]
            _targets_node(book, label, project, ind, mine, indicators, errors, hint)
        else:
            budget_rows = [r for r in rows if r["指标序号"] == 0]
            mine = [r for r in budget_rows if r["状态"] != "rejected"]
            source = str(ind.origin) if ind.origin else None
            if not mine:
                msg = f"缺少数据“{'”“'.join(BUDGET_FACTS)}”（计算“{ind.value_name or ind.name}”需要）"
                status = "missing"
                if budget_rows:  # rows given, none usable (duplicates)
                    msg, status = budget_rows[-1]["原因"], "invalid"
                errors.append(f"项目“{project}”，指标“{ind.name}”：{msg}")
                indicators.append(_node(ind.path, _exact(ind.weight), None, status, f"无法计分：{msg}", source, d))
                continue
            r = mine[-1]
            score = _dec(r["得分"])
            if score is None:
                errors.append(f"项目“{project}”，指标“{ind.name}”：{r['原因']}")
                text = f"无法计分：{r['原因']}"
            else:
                text = f"全年预算数 {r['年度指标值']}，全年执行数 {r['实际完成值']}；得分 {_plain(score, d)}；{hint}"
            indicators.append(_node(ind.path, _exact(ind.weight), score, r["状态"], text, source, d))
    first = rows[0]
    total = _dec(first["总分"])
    return {
        "rulebook": book.name,
        "project": project,
        "max": _number(book.max, 4),
        "total": _number(total, d),
        "grade": first["等级"],
        "bonus": 0,
        "penalty": 0,
        "indicators": indicators,
        "rulebook_version": book.version,
        "rulebook_hash": book.content_hash,
        "rulebook_files": list(book.files),
        **({"errors": errors} if errors else {}),
    }


def _targets_node(book, label, project, ind, rows, out, errors, hint) -> None:
    d = book.digits
    source = str(ind.origin) if ind.origin else None
    if not rows:
        msg = f"目标表中没有一级指标为“{ind.name}”的行"
        errors.append(f"项目“{project}”，指标“{ind.name}”：{msg}")
        out.append(_node(ind.path, _exact(ind.weight), None, "missing", f"无法计分：目标表中没有对应的行", source, d))
        return
    groups: dict[str, list[dict]] = {}
    for r in rows:
        groups.setdefault(r["二级指标"], []).append(r)
    kids: list[tuple[dict, list[dict]]] = []  # (node, leaf nodes)
    for second, group in groups.items():
        leaves = []
        for r in group:
            w = _dec(r["分值"])
            s = _dec(r["得分"])
            path = (*ind.path, *((second,) if second else ()), r["三级指标"])
            if r["状态"] in ("missing", "invalid"):
                errors.append(f"项目“{project}”，指标“{'/'.join(path)}”：{r['原因']}")
                text = f"指标值 {r['年度指标值'] or '—'}，实际完成值 {r['实际完成值'] or '—'}；无法计分：{r['原因']}"
            else:
                text = f"指标值 {r['年度指标值'] or '—'}，实际完成值 {r['实际完成值'] or '—'}；得分 {_plain(s, d)}；{hint}"
            if r["说明"]:
                text += f"；说明：{r['说明']}"
            leaves.append(_node(path, w, s, r["状态"] if r["状态"] != "rejected" else "invalid", text, f"{label}:{r['行号']}:1", d))
        if second:
            w = sum((_dec(r["分值"]) for r in group), Decimal(0))
            scores = [_dec(r["得分"]) for r in group]
            s = None if any(x is None for x in scores) else sum(scores, Decimal(0))
            parts = " + ".join(f"{r['三级指标']} {_plain(x, d) if x is not None else '—'}" for r, x in zip(group, scores))
            text = "下级合计：" + parts + (f" = {_plain(s, d)}" if s is not None else "")
            node = _node((*ind.path, second), w, s, "scored" if s is not None else "missing", text, f"{label}:{group[0]['行号']}:1", d)
            kids.append((node, leaves, w, s, second))
        else:
            for leaf, r in zip(leaves, group):
                kids.append((leaf, [], _dec(r["分值"]), _dec(r["得分"]), r["三级指标"]))
    total_w = sum((k[2] for k in kids), Decimal(0))
    parts = " + ".join(f"{k[4]} {_plain(k[3], d) if k[3] is not None else '—'}" for k in kids)
    if total_w != ind.weight:
        msg = f"目标表中“{ind.name}”各行分值之和 {_plain(total_w)} 与规则集规定的 {_plain(ind.weight)} 不符"
        errors.append(f"项目“{project}”，指标“{ind.name}”：{msg}")
        out.append(_node(ind.path, _exact(ind.weight), None, "invalid", "下级合计：" + parts, source, d))
    else:
        s = None if any(k[3] is None for k in kids) else sum((k[3] for k in kids), Decimal(0))
        out.append(_node(ind.path, _exact(ind.weight), s, "scored" if s is not None else "missing", "下级合计：" + parts + (f" = {_plain(s, d)}" if s is not None else ""), source, d))
    for node, leaves, *_ in kids:
        out.append(node)
        out.extend(leaves)

