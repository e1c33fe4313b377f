"""Inputs as relations: projects, facts, records, targets, problems — what every engine reads.

A YAML/JSON facts file is read in Python (``inputs.from_facts``) and written here with
``load_inputs``.  A table file (CSV, XLSX or Parquet) is read by DuckDB and turned into the same
relations by SQL (``read_table``): a self-evaluation table (one row per project × indicator) or a
facts table (one row per project × fact or evaluator record, ``docs/facts-table.md``).  The
interpreter reads a table back as ``ProjectInputs`` (``fetch_inputs``), so every engine sees a
table exactly as the others do.
"""
from __future__ import annotations

import csv
import os
from pathlib import Path

from sqlglot import exp

from jxdsl.errors import FactError, Span, UsageError
from jxdsl.inputs import Entry, Fact, Problem, ProjectInputs, Record
from jxdsl.tablesql import facts_table_statements, self_eval_statements

SCHEMA = {
    "projects": ("pid BIGINT", "project VARCHAR", "year VARCHAR", "source VARCHAR", "facts_line BIGINT"),
    "facts": ("pid BIGINT", "seq BIGINT", "name VARCHAR", "value VARCHAR", "line BIGINT"),
    "records": ("pid BIGINT", "rec BIGINT", "key VARCHAR", "line BIGINT", "field VARCHAR", "question INTEGER", "item INTEGER", "option VARCHAR", "value VARCHAR"),
    "targets": ("pid BIGINT", "line BIGINT", "first VARCHAR", "second VARCHAR", "third VARCHAR", "weight VARCHAR", "target VARCHAR", "actual VARCHAR", "tier VARCHAR", "score VARCHAR", "note VARCHAR"),
    "problems": ("pid BIGINT", "seq BIGINT", "line BIGINT", "message VARCHAR", "hint VARCHAR"),
}
SELF_EVAL_COLUMNS = ("项目", "一级指标", "二级指标", "三级指标", "分值", "年度指标值", "实际完成值")
SELF_EVAL_OPTIONAL = ("档次", "评价得分", "说明", "年度")
FACTS_COLUMNS = ("项目", "名称")
FACTS_OPTIONAL = ("类别", "值", "档次", "得分", "说明", "发现", "次数", "满足", "未满足", "不适用", "发生", "问卷", "年度")
SUFFIXES = (".csv", ".xlsx", ".xlsm", ".parquet")
MAX_ROWS = 2_000_000  # a province's year; JXDSL_MAX_ROWS raises it for larger batches


def max_rows() -> int:
    """The most rows a table may have: ``JXDSL_MAX_ROWS`` when it is a positive whole number."""
    text = os.environ.get("JXDSL_MAX_ROWS", "").strip()
    return int(text) if text.isdigit() and int(text) > 0 else MAX_ROWS


def create_inputs(con) -> None:
    for name, cols in SCHEMA.items():
        con.execute(exp.Create(this=exp.Schema(this=exp.to_table(name), expressions=[exp.ColumnDef(this=exp.to_identifier(c.split()[0]), kind=exp.DataType.build(c.split()[1])) for c in cols]), kind="TABLE", replace=True).sql("duckdb"))


# ---- projects read in Python ------------------------------------------------------------------------
def rows_of(projects: list[ProjectInputs]) -> dict[str, list[tuple]]:
    """The relations' rows for projects read in Python (pid = position, from 1)."""
    from jxdsl.inputs import as_text

    out: dict[str, list[tuple]] = {k: [] for k in SCHEMA}
    for pid, p in enumerate(projects, 1):
        out["projects"].append((pid, p.project, str(p.year) if p.year is not None else None, p.source or "<事实>", p.facts_line))
        for seq, (name, fact) in enumerate(p.facts.items()):
            out["facts"].append((pid, seq, name, fact.text, fact.line))
        for rec in p.records:
            out["records"] += _record_rows(pid, rec)
        for row in p.targets:
            text = lambda v: None if v is None else as_text(v)  # noqa: E731
            line = row.span.line if row.span else None
            out["targets"].append((pid, line, row.first, row.second, row.third, text(row.weight), text(row.target), text(row.actual), text(row.tier), text(row.score), text(row.note)))
        for seq, prob in enumerate(p.problems):
            out["problems"].append((pid, seq, prob.line, prob.message, prob.hint))
    return out


def _record_rows(pid: int, rec: Record) -> list[tuple]:
    base = (pid, rec.ordinal, rec.key, rec.line)
    rows = []
    for field, value in rec.fields.items():
        if isinstance(value, tuple):
            if not value:
                rows.append((*base, field, None, 0, None, None))
            for n, e in enumerate(value, 1):
                rows.append((*base, field, e.question, n, e.option, e.value))
        else:
            rows.append((*base, field, None, None, None, value))
    if not rows:
        rows.append((*base, None, None, None, None, None))
    return rows


def load_inputs(con, projects: list[ProjectInputs]) -> None:
    """Create the input relations on a DuckDB connection from projects read in Python."""
    create_inputs(con)
    for name, rows in rows_of(projects).items():
        if rows:
            marks = exp.Tuple(expressions=[exp.Placeholder() for _ in SCHEMA[name]])
            con.executemany(exp.insert(exp.Values(expressions=[marks]), name).sql("duckdb"), rows)


# ---- table files read by DuckDB ----------------------------------------------------------------------
def read_table(con, path: Path, label: str) -> str:
    """Read a table file into the input relations; returns its kind (self-eval or facts)."""
    header = _raw(con, path)
    if all(c in header for c in SELF_EVAL_COLUMNS):
        kind, stmts = "self-eval", self_eval_statements(set(header), label)
    elif all(c in header for c in FACTS_COLUMNS):
        kind, stmts = "facts", facts_table_statements(set(header), label)
    else:
        missing = [c for c in SELF_EVAL_COLUMNS if c not in header]
        raise FactError(
            f"表格缺少列：{'、'.join(missing)}", Span(str(path), 1, 1),
            f"自评表需要的列：{'、'.join(SELF_EVAL_COLUMNS)}；事实表需要的列：{'、'.join(FACTS_COLUMNS)}（见 docs/facts-table.md）",
        )
    for name, q in stmts:
        con.execute(exp.Create(this=exp.to_table(name), kind="TABLE", expression=q, replace=True).sql("duckdb"))
    return kind


def _raw(con, path: Path) -> list[str]:
    """Load the file as ``raw`` (``line`` + one text column per header name); the header, cleaned."""
    import tempfile

    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise UsageError(f"不支持的表格类型“{path.suffix}”", None, "支持 .csv .xlsx .parquet")
    with tempfile.TemporaryDirectory(prefix="jxdsl-") as tmp:
        if suffix in (".xlsx", ".xlsm"):
            source = _xlsx_to_csv(path, tmp)
            _load_csv(con, source, str(path))
        elif suffix == ".csv":
            try:
                _load_csv(con, str(path), str(path))
            except UnicodeError:
                raise FactError("表格不是 UTF-8 编码（请另存为“CSV UTF-8”）", Span(str(path), 1, 1)) from None
            except Exception:  # noqa: BLE001 - DuckDB's parallel reader refuses short rows beside quoted line breaks
                try:
                    _load_csv(con, str(path), str(path), serial=True)
                except UnicodeError:
                    raise FactError("表格不是 UTF-8 编码（请另存为“CSV UTF-8”）", Span(str(path), 1, 1)) from None
                except Exception:  # noqa: BLE001 - a file DuckDB's reader cannot settle: read it as Python's csv does
                    _load_csv(con, _csv_to_csv(path, tmp), str(path), padded=True)
        else:
            reader = exp.func("read_parquet", exp.Literal.string(str(path)))
            con.execute(exp.Create(this=exp.to_table("raw0"), kind="TABLE", replace=True, expression=exp.select(exp.Star()).from_(reader)).sql("duckdb"))
            _numbered(con, "(ROW_NUMBER() OVER ()) + 1")
    names = [d[0] for d in con.execute("SELECT * FROM raw LIMIT 0").description][1:]
    return names


def _load_csv(con, file: str, shown: str, padded: bool = False, serial: bool = False) -> None:
    """A CSV as text columns; ``padded``: our own rewrite, every row already as wide as the header;
    ``serial``: one reader thread (the only way DuckDB pads short rows when a cell holds a line break)."""
    reader = exp.func(
        "read_csv", exp.Literal.string(file), exp.EQ(this=exp.column("header"), expression=exp.true()),
        exp.EQ(this=exp.column("all_varchar"), expression=exp.true()), exp.EQ(this=exp.column("delim"), expression=exp.Literal.string(",")),
        exp.EQ(this=exp.column("quote"), expression=exp.Literal.string('"')), exp.EQ(this=exp.column("escape"), expression=exp.Literal.string('"')),
        exp.EQ(this=exp.column("null_padding"), expression=exp.false() if padded else exp.true()),
        *([exp.EQ(this=exp.column("parallel"), expression=exp.false())] if serial else []),
    )
    con.execute(exp.Create(this=exp.to_table("raw0"), kind="TABLE", replace=True, expression=exp.select(exp.Star()).from_(reader)).sql("duckdb"))
    _numbered(con, "(ROW_NUMBER() OVER ()) + 1", shown)


def _numbered(con, ordinal: str, shown: str = "") -> None:
    """``raw``: the table's columns under their cleaned header names, with each row's line."""
    import sqlglot

    cols = [d[0] for d in con.execute("SELECT * FROM raw0 LIMIT 0").description]
    seen: dict[str, str] = {}
    for c in cols:
        clean = c.strip().lstrip("\ufeff").strip()
        if clean and clean in seen:
            raise FactError(f"表格中有两列都叫“{clean}”，无法确定用哪一列", Span(shown, 1, 1), "删去或改名多余的列")
        if clean:
            seen[clean] = c
    line = sqlglot.parse_one(ordinal, read="duckdb")
    select = exp.select(exp.cast(line, "BIGINT").as_("line"), *[exp.cast(exp.column(c, quoted=True), "VARCHAR").as_(n, quoted=True) for n, c in seen.items()]).from_("raw0")
    con.execute(exp.Create(this=exp.to_table("raw"), kind="TABLE", replace=True, expression=select).sql("duckdb"))
    count = con.execute("SELECT COUNT(*) FROM raw").fetchone()[0]
    if count > max_rows():
        raise FactError(f"表格行数 {count} 超过上限 {max_rows()}", Span(shown, 1, 1), "更大的表请设环境变量 JXDSL_MAX_ROWS（如 JXDSL_MAX_ROWS=10000000），或分成几张表")


def _csv_to_csv(path: Path, tmp: str) -> str:
    rows = []
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    return _write_csv(rows, tmp)


def _xlsx_to_csv(path: Path, tmp: str) -> str:
    """The first sheet as text cells (numbers as written: 0.1 stays 0.1, not 0.1000000001)."""
    import openpyxl

    from jxdsl.inputs import as_text

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as e:  # noqa: BLE001 - openpyxl raises many kinds for a broken file
        raise FactError(f"无法读取 Excel 文件：{e}", Span(str(path), 1, 1)) from None
    rows = []
    for values in wb.worksheets[0].iter_rows(values_only=True):
        rows.append(["" if v is None else as_text(v) for v in values])
    wb.close()
    while rows and not any(c.strip() for c in rows[-1]):
        rows.pop()
    return _write_csv(rows, tmp)


def _write_csv(rows: list[list[str]], tmp: str) -> str:
    out = os.path.join(tmp, "table.csv")
    width = max((len(r) for r in rows), default=0)
    with open(out, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        for r in rows:
            w.writerow([*r, *[""] * (width - len(r))])
    return out


# ---- back to Python: the interpreter reads tables as the SQL engines do ----------------------------------
def fetch_inputs(con, pids: list[int] | None = None) -> list[ProjectInputs]:
    """The projects of the input relations as ``ProjectInputs``, in pid order."""
    where = "" if pids is None else f" WHERE pid IN ({', '.join(str(int(p)) for p in pids)})"
    projects = {pid: dict(project=name, year=year, source=source, facts_line=fl, facts={}, records={}, targets=[], problems=[])
                for pid, name, year, source, fl in con.execute("SELECT pid, project, year, source, facts_line FROM projects" + where + " ORDER BY pid").fetchall()}
    for pid, name, value, line in con.execute("SELECT pid, name, value, line FROM facts" + where + " ORDER BY pid, seq").fetchall():
        projects[pid]["facts"][name] = Fact(value, line)
    for pid, rec, key, line, field, question, item, option, value in con.execute(
        "SELECT pid, rec, key, line, field, question, item, option, value FROM records" + where + " ORDER BY pid, rec, item NULLS FIRST").fetchall():
        r = projects[pid]["records"].setdefault(rec, {"key": key, "line": line, "fields": {}})
        if field is None:
            continue
        if item is None:
            r["fields"][field] = value
        else:
            entries = r["fields"].setdefault(field, ())
            if item >= 1:
                r["fields"][field] = (*entries, Entry(question or 0, option, value))
    from jxdsl.facts import TargetRow

    for pid, line, first, second, third, weight, target, actual, tier, score, note in con.execute(
        "SELECT pid, line, first, second, third, weight, target, actual, tier, score, note FROM targets" + where + " ORDER BY pid, line").fetchall():
        p = projects[pid]
        p["targets"].append(TargetRow(first, second or "", third, weight, target, actual, tier, score, note, Span(p["source"], line, 1)))
    for pid, line, message, hint in con.execute("SELECT pid, line, message, hint FROM problems" + (where or " WHERE pid IS NOT NULL") + " ORDER BY pid, seq").fetchall():
        projects[pid]["problems"].append(Problem(message, line, hint))
    out = []
    for pid, p in projects.items():
        records = tuple(Record(r["key"], r["fields"], r["line"], rec) for rec, r in sorted(p["records"].items()))
        year = int(p["year"]) if p["year"] else None
        out.append(ProjectInputs(p["project"], p["source"], year, p["facts"], records, tuple(p["targets"]), tuple(p["problems"]), p["facts_line"]))
    return out


def table_problems(con) -> list[tuple[int, str]]:
    """Rows that belong to no project (no project name): (line, message)."""
    return con.execute("SELECT line, message FROM problems WHERE pid IS NULL ORDER BY line").fetchall()
