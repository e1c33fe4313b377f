"""Inputs as relations: projects, facts, records, targets, problems — what every engine reads.

A YAML/JSON facts file is read in Python (``inputs.from_facts``) and written here with
``load_inputs``.  A table file (CSV, XLSX or Parquet) is loaded into DuckDB — directly, or through
Python when DuckDB alone would misread it (a workbook, GB18030, blank lines, cells with line
breaks: ``xlsxread``, ``encoding``), always with each row's line in the file — and turned into the
same relations by SQL (``read_table``): a self-evaluation table (one row per project × indicator) or a
facts table (one row per project × fact or evaluator record, ``docs/facts-table.md``).  The
interpreter reads a table back as ``ProjectInputs`` (``fetch_inputs``), so every engine sees a
table exactly as the others do.
"""
from __future__ import annotations

import csv
import itertools
import os
from pathlib import Path

import attrs

from jxdsl.encoding import note as encoding_note
from jxdsl.errors import FactError, Span, UsageError
from jxdsl.facts import FACT_COLUMNS
from jxdsl.inputs import Entry, Fact, Problem, ProjectInputs, Record

SCHEMA = {
    "projects": ("pid BIGINT", "project VARCHAR", "year VARCHAR", "source VARCHAR", "facts_line BIGINT", "kind VARCHAR"),
    "facts": ("pid BIGINT", "seq BIGINT", "name VARCHAR", "value VARCHAR", "line BIGINT"),
    "records": ("pid BIGINT", "rec BIGINT", "key VARCHAR", "line BIGINT", "field VARCHAR", "question INTEGER", "item INTEGER", "option VARCHAR", "value VARCHAR"),
    "targets": ("pid BIGINT", "line BIGINT", "first VARCHAR", "second VARCHAR", "third VARCHAR", "weight VARCHAR", "target VARCHAR", "actual VARCHAR", "tier VARCHAR", "score VARCHAR", "note VARCHAR", "method VARCHAR", "parent BIGINT"),
    "problems": ("pid BIGINT", "seq BIGINT", "line BIGINT", "message VARCHAR", "hint VARCHAR"),
}
SELF_EVAL_COLUMNS = ("项目", "一级指标", "二级指标", "三级指标", "分值", "年度指标值", "实际完成值")
SELF_EVAL_OPTIONAL = ("档次", "评价得分", "说明", "年度", "计分方法", "明细", "备注", *FACT_COLUMNS)  # 备注: working notes, never read
FACTS_COLUMNS = ("项目", "名称")
FACTS_OPTIONAL = ("类别", "值", "档次", "得分", "分值", "说明", "发现", "次数", "满足", "未满足", "不适用", "发生", "问卷", "年度", "备注")
SUFFIXES = (".csv", ".xlsx", ".xlsm", ".parquet")
HEADER_SEARCH = 20  # rows a form may have above its header (a title, the unit, the date)
MAX_ROWS = 2_000_000  # a province's year; JXDSL_MAX_ROWS raises it for larger batches


def max_rows() -> int:
    """The most rows a table may have: ``JXDSL_MAX_ROWS`` when it is a positive whole number."""
    text = os.environ.get("JXDSL_MAX_ROWS", "").strip()
    return int(text) if text.isdigit() and int(text) > 0 else MAX_ROWS


def create_inputs(con) -> None:
    """The input relations, empty.  Plain SQL from the constant SCHEMA (no user text): a single
    project's facts file is scored without importing the SQL builder (sqlglot, ~120 ms)."""
    for name, cols in SCHEMA.items():
        con.execute(f"CREATE OR REPLACE TABLE {name} ({', '.join(cols)})")


# ---- projects read in Python ------------------------------------------------------------------------
def rows_of(projects: list[ProjectInputs]) -> dict[str, list[tuple]]:
    """The relations' rows for projects read in Python (pid = position, from 1)."""
    from jxdsl.inputs import as_text

    out: dict[str, list[tuple]] = {k: [] for k in SCHEMA}
    for pid, p in enumerate(projects, 1):
        out["projects"].append((pid, p.project, str(p.year) if p.year is not None else None, p.source or "<事实>", p.facts_line, p.kind))
        for seq, (name, fact) in enumerate(p.facts.items()):
            out["facts"].append((pid, seq, name, fact.text, fact.line))
        for rec in p.records:
            out["records"] += _record_rows(pid, rec)
        for row in p.targets:
            text = lambda v: None if v is None else as_text(v)  # noqa: E731
            line = row.span.line if row.span else None
            out["targets"].append((pid, line, row.first, row.second, row.third, text(row.weight), text(row.target), text(row.actual), text(row.tier), text(row.score), text(row.note), row.method, row.parent))
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


def load_inputs(con, relations: dict[str, list[tuple]]) -> None:
    """Create the input relations on a DuckDB connection from rows made in Python (``rows_of``)."""
    create_inputs(con)
    for name, rows in relations.items():
        if rows:
            con.executemany(f"INSERT INTO {name} VALUES ({', '.join('?' for _ in SCHEMA[name])})", rows)


# ---- table files read by DuckDB ----------------------------------------------------------------------
LINE = "jx:line"  # the row's line in the file, in the tables we rewrite (XLSX, GB18030, irregular CSV)


@attrs.frozen
class TableFile:
    """What was read: the table's kind, the sheet of a workbook, the encoding of a CSV."""

    kind: str
    sheet: str | None = None
    encoding: str | None = None
    forms: int = 0  # 项目支出绩效自评表 read (one project each)

    def note(self) -> str:
        """For the summary line: which sheet, which encoding (nothing for a UTF-8 CSV)."""
        parts = [f"工作表“{self.sheet}”"] if self.sheet is not None else []
        parts += [f"{self.forms} 份项目支出绩效自评表"] if self.forms else []
        parts += [encoding_note(self.encoding)] if self.encoding and encoding_note(self.encoding) else []
        return f"（{'，'.join(parts)}）" if parts else ""


def read_table(con, path: Path, label: str, sheet: str | None = None) -> TableFile:
    """Read a table file into the input relations; returns its kind, sheet and encoding."""
    from sqlglot import exp  # lazily: a facts file alone is read without the SQL builder
    from jxdsl.tablesql import facts_table_statements, self_eval_statements  # with the SQL compiler: tables only

    header, read = _raw(con, path, sheet)
    if all(c in header for c in SELF_EVAL_COLUMNS):
        kind, stmts = "self-eval", self_eval_statements(set(header), label)
    elif all(c in header for c in FACTS_COLUMNS):
        kind, stmts = "facts", facts_table_statements(set(header), label)
    else:
        missing = [c for c in SELF_EVAL_COLUMNS if c not in header]
        raise FactError(
            f"表格缺少列：{'、'.join(missing)}", Span(str(path), read.get("line", 1), 1),
            f"自评表需要的列：{'、'.join(SELF_EVAL_COLUMNS)}；事实表需要的列：{'、'.join(FACTS_COLUMNS)}（见 docs/facts-table.md）"
            + (f"；读的是工作表“{read['sheet']}”，可用 --sheet 指定别的工作表" if read.get("sheet") else ""),
        )
    for name, q in stmts:
        con.execute(exp.Create(this=exp.to_table(name), kind="TABLE", expression=q, replace=True).sql("duckdb"))
    forms = read.get("forms") or []
    if forms:  # each project's messages name its form's file and sheet
        con.executemany("UPDATE projects SET source = ? WHERE project = ?", [(f.source, f.project) for f in forms])
    return TableFile(kind, read.get("sheet"), read.get("encoding"), len(forms))


def _raw(con, path: Path, sheet: str | None) -> tuple[list[str], dict]:
    """Load the file as ``raw`` (``line`` + one text column per header name); the header, cleaned,
    and what was read (sheet, encoding, the header's line)."""
    import tempfile

    suffix = path.suffix.lower()
    if path.is_dir():
        return _load_forms(con, path, sheet)
    if suffix not in SUFFIXES:
        raise UsageError(f"不支持的表格类型“{path.suffix}”", None, "支持 .csv .xlsx .parquet")
    if sheet is not None and suffix not in (".xlsx", ".xlsm"):
        raise UsageError(f"--sheet 只用于 Excel 文件（.xlsx），“{path}”不是", None, "去掉 --sheet")
    with tempfile.TemporaryDirectory(prefix="jxdsl-") as tmp:
        if suffix in (".xlsx", ".xlsm"):
            from jxdsl.forms import is_form

            if is_form(path, sheet):
                return _load_forms(con, path, sheet)
            read = _load_xlsx(con, path, tmp, sheet)
        elif suffix == ".csv":
            read = _load_csv_file(con, path, tmp)
        else:
            read = _load_parquet(con, path)
    names = [d[0] for d in con.execute("SELECT * FROM raw LIMIT 0").description][1:]
    return names, read


def find_header(rows, wanted: tuple[tuple[str, ...], ...]):
    """(line, cells, the rows after it) of the header: the first of the first ``HEADER_SEARCH``
    non-blank rows holding every column of one of ``wanted`` (a form's title rows above it are
    passed over), else the first non-blank row."""
    it = iter(rows)
    seen = []
    for n, r in it:
        if not any(c.strip() for c in r):
            continue
        if any(all(w in {c.strip().lstrip("\ufeff").strip() for c in r} for w in columns) for columns in wanted):
            return n, r, it
        seen.append((n, r))
        if len(seen) >= HEADER_SEARCH:
            break
    if not seen:
        return 1, [], iter(())
    return seen[0][0], seen[0][1], itertools.chain(seen[1:], it)


def check_header(cells: list[str], file: str, line: int) -> list[str]:
    """The header's names, cleaned; two columns of one name are an error naming both (which one
    a reader takes would be a guess)."""
    names = [c.strip().lstrip("\ufeff").strip() for c in cells]
    seen: dict[str, int] = {}
    for i, name in enumerate(names, 1):
        if name and name in seen:
            a, b = column_letter(seen[name]), column_letter(i)
            raise FactError(f"表头有两列都叫“{name}”（第 {line} 行的 {a} 列和 {b} 列），无法确定用哪一列", Span(file, line, 1),
                            f"删去或改名多余的列（{file}:{line}:{a} 和 {file}:{line}:{b}）")
        if name:
            seen[name] = i
    return names


def column_letter(n: int) -> str:
    """A column's letters as Excel shows them (1 → A, 27 → AA), without importing openpyxl (a
    third of a second) for a CSV."""
    out = ""
    while n:
        n, r = divmod(n - 1, 26)
        out = chr(65 + r) + out
    return out


def _too_many(file: str, line: int) -> FactError:
    return FactError(f"表格行数超过上限 {max_rows()}", Span(file, line, 1), "更大的表请设环境变量 JXDSL_MAX_ROWS（如 JXDSL_MAX_ROWS=10000000），或分成几张表")


def _load_xlsx(con, path: Path, tmp: str, sheet: str | None) -> dict:
    """A workbook's sheet (``xlsxread``), streamed into our CSV with each row's line; merged
    ranges filled in a second pass when the sheet has any below its header."""
    from jxdsl.xlsxread import SheetRows, choose_sheet, close_book, fill_merged, open_book

    wb = open_book(path)
    try:
        ws = choose_sheet(wb, path, sheet)
        rows = SheetRows(wb, ws, path)
        it = iter(rows)
        try:
            line, header, rest = find_header(it, (SELF_EVAL_COLUMNS, FACTS_COLUMNS))
            if not header:
                raise FactError(f"工作表“{ws.title}”是空的", Span(str(path), 1, 1), "用 --sheet 工作表名 指定要读的工作表")
            names = check_header(header, str(path), line)
            out = _write_lined(rest, names, str(path), tmp, "table.csv")
        finally:
            it.close()
        if any(m[1] > line for m in rows.merges):
            out = _write_lined(fill_merged(_read_lined(out, len(names)), rows.merges, line), names, str(path), tmp, "filled.csv")
        title = ws.title
    finally:
        close_book(wb)
    _load_csv(con, out, str(path), padded=True)
    _numbered(con, LINE, str(path))
    return {"sheet": title, "line": line}


def _load_forms(con, path: Path, sheet: str | None) -> tuple[list[str], dict]:
    """项目支出绩效自评表 (a workbook of forms, or a folder of them) as the long table's rows,
    read from there on as any other table (``forms``)."""
    import tempfile

    from jxdsl.forms import long_rows, read_forms

    forms = read_forms(path, sheet)
    header, rows = long_rows(forms)
    with tempfile.TemporaryDirectory(prefix="jxdsl-") as tmp:
        out = _write_lined(rows, header, str(path), tmp, "forms.csv")
        _load_csv(con, out, str(path), padded=True)
    _numbered(con, LINE, str(path))
    names = [d[0] for d in con.execute("SELECT * FROM raw LIMIT 0").description][1:]
    return names, {"line": 1, "forms": forms}


def _load_csv_file(con, path: Path, tmp: str) -> dict:
    """A CSV file: DuckDB reads it directly when it is UTF-8 and each record is one line from
    line 2 on (checked by counting); otherwise Python's csv module rewrites it first, keeping
    every row's line (GB18030, blank lines, line breaks inside cells, rows DuckDB refuses)."""
    import duckdb

    from jxdsl.encoding import UTF8, detect

    enc = detect(path)
    records = csv_records(path, enc)
    line, header, rest = find_header(records, (SELF_EVAL_COLUMNS, FACTS_COLUMNS))
    names = check_header(header, str(path), line)
    if enc == UTF8 and line == 1:
        for serial in (False, True):
            try:
                _load_csv(con, str(path), str(path), serial=serial)
            except duckdb.Error:
                continue
            count = con.execute("SELECT COUNT(*) FROM raw0").fetchone()[0]
            if count > max_rows():
                raise _too_many(str(path), max_rows() + 2)
            if count == _physical_lines(path) - 1:
                records.close()
                _numbered(con, "(ROW_NUMBER() OVER ()) + 1", str(path))
                _cell_sizes(con, str(path))
                return {"encoding": enc, "line": line}
            break
    out = _write_lined(((n, r) for n, r in rest if r), names, str(path), tmp, "table.csv")
    records.close()
    _load_csv(con, out, str(path), padded=True)
    _numbered(con, LINE, str(path))
    return {"encoding": enc, "line": line}


def _load_parquet(con, path: Path) -> dict:
    from sqlglot import exp  # lazily: a facts file alone is read without the SQL builder
    import duckdb

    try:
        check_header(_parquet_columns(con, path), str(path), 1)
        reader = exp.func("read_parquet", exp.Literal.string(str(path)))
        query = exp.select(exp.Star()).from_(reader).limit(max_rows() + 1)
        con.execute(exp.Create(this=exp.to_table("raw0"), kind="TABLE", replace=True, expression=query).sql("duckdb"))
    except duckdb.Error as e:
        raise FactError(f"无法读取 Parquet 文件（{str(e).splitlines()[0][:160]}）", Span(str(path), 1, 1), "文件已损坏或不是 Parquet 格式") from None
    if con.execute("SELECT COUNT(*) FROM raw0").fetchone()[0] > max_rows():
        raise _too_many(str(path), max_rows() + 2)
    _numbered(con, "(ROW_NUMBER() OVER ()) + 1", str(path))
    return {"line": 1}


def _parquet_columns(con, path: Path) -> list[str]:
    """The top-level column names as stored (DuckDB's reader renames a second ``a`` to ``a_1``)."""
    rows = con.execute("SELECT name, num_children FROM parquet_schema(?)", [str(path)]).fetchall()
    names, i = [], 1
    while i < len(rows):
        names.append(rows[i][0])
        i, pending = i + 1, rows[i][1] or 0
        while pending:  # skip the column's nested fields
            pending += (rows[i][1] or 0) - 1
            i += 1
    return names


def whole_table(path: Path, sheet: str | None, note) -> tuple[list[tuple[int, list[str]]], list[tuple[int, int, int, int]]]:
    """Every non-blank row of a small table read at once, ``(rows, merged ranges)``: a CSV in its
    detected encoding, or a workbook's sheet padded to one width (audit and draft need all rows
    before the header is known; large tables stream through ``read_table`` instead)."""
    from jxdsl.encoding import detect

    if path.suffix.lower() == ".csv":
        enc = detect(path)
        if encoding_note(enc):
            note(f"“{path}”{encoding_note(enc)}")
        return [(n, r) for n, r in csv_records(path, enc) if r], []
    from jxdsl.xlsxread import SheetRows, choose_sheet, close_book, open_book

    wb = open_book(path)
    try:
        ws = choose_sheet(wb, path, sheet)
        reader = SheetRows(wb, ws, path)
        rows = list(reader)
    finally:
        close_book(wb)
    width = max((len(r) for _, r in rows), default=0)
    note(f"读取“{path}”的工作表“{ws.title}”")
    return [(n, r + [""] * (width - len(r))) for n, r in rows], reader.merges


def csv_records(path: Path, enc: str):
    """(line, cells) of every record, the line where it starts; a cell over csv's size limit or
    a malformed record is a located FactError."""
    from jxdsl.encoding import codec

    with path.open(encoding=codec(enc), newline="") as fh:
        reader = csv.reader(fh)
        start = 1
        try:
            for rec in reader:
                yield start, rec
                start = reader.line_num + 1
        except csv.Error as e:
            if "field larger than field limit" in str(e):
                raise _long_cell(str(path), start) from None
            raise FactError(f"CSV 格式错误（{e}）", Span(str(path), start, 1), "检查引号是否成对") from None


def _cell_sizes(con, file: str) -> None:
    """A cell longer than Python's csv module reads is refused here too, so that a CSV DuckDB
    reads directly and one rewritten through Python accept the same cells."""
    from sqlglot import exp  # lazily: a facts file alone is read without the SQL builder
    limit = csv.field_size_limit()
    cols = [d[0] for d in con.execute("SELECT * FROM raw LIMIT 0").description][1:]
    if not cols:
        return
    long = exp.or_(*[exp.func("length", exp.column(c, quoted=True)) > exp.Literal.number(limit) for c in cols])
    found = con.execute(exp.select("line").from_("raw").where(long).order_by("line").limit(1).sql("duckdb")).fetchone()
    if found:
        raise _long_cell(file, found[0])


def _long_cell(file: str, line: int) -> FactError:
    return FactError(f"单元格超过 {csv.field_size_limit()} 个字符", Span(file, line, 1),
                     "一个单元格里不应有这么多文字：检查引号是否成对（少了右引号会把后面的行都并进一个单元格）")


def _physical_lines(path: Path) -> int:
    """Lines in the file (a last line without a line break counts)."""
    n, last = 0, b"\n"
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 22):
            n += chunk.count(b"\n")
            last = chunk[-1:]
    return n + (last != b"\n")


def _write_lined(rows, names: list[str], file: str, tmp: str, name: str) -> str:
    """Our CSV: the line column, then the header's columns; every row as wide as the header; more
    data rows than the limit is an error at the first row past it."""
    out = os.path.join(tmp, name)
    width, limit, n = len(names), max_rows(), 0
    with open(out, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow([LINE, *[c if c else f"{LINE}:{i}" for i, c in enumerate(names)]])
        for line, cells in rows:
            n += 1
            if n > limit:
                raise _too_many(file, line)
            w.writerow([line, *cells[:width], *[""] * (width - len(cells))])
    return out


def _read_lined(file: str, width: int):
    with open(file, encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        next(reader)
        for rec in reader:
            yield int(rec[0]), rec[1 : width + 1]


def _load_csv(con, file: str, shown: str, padded: bool = False, serial: bool = False) -> None:
    """A CSV as text columns, at most one row past the limit; ``padded``: our own rewrite, every
    row already as wide as the header; ``serial``: one reader thread (the only way DuckDB pads
    short rows when a cell holds a line break)."""
    from sqlglot import exp  # lazily: a facts file alone is read without the SQL builder
    reader = exp.func(
        "read_csv", exp.Literal.string(file), exp.EQ(this=exp.column("header"), expression=exp.true()),
        exp.EQ(this=exp.column("all_varchar"), expression=exp.true()), exp.EQ(this=exp.column("delim"), expression=exp.Literal.string(",")),
        exp.EQ(this=exp.column("quote"), expression=exp.Literal.string('"')), exp.EQ(this=exp.column("escape"), expression=exp.Literal.string('"')),
        exp.EQ(this=exp.column("null_padding"), expression=exp.false() if padded else exp.true()),
        *([exp.EQ(this=exp.column("parallel"), expression=exp.false())] if serial else []),
    )
    query = exp.select(exp.Star()).from_(reader).limit(max_rows() + 1)
    con.execute(exp.Create(this=exp.to_table("raw0"), kind="TABLE", replace=True, expression=query).sql("duckdb"))


def _numbered(con, line_column: str, shown: str) -> None:
    """``raw``: the table's columns under their cleaned header names, with each row's line
    (``line_column``: our line column, or an SQL expression for files read directly)."""
    from sqlglot import exp  # lazily: a facts file alone is read without the SQL builder
    import sqlglot

    cols = [d[0] for d in con.execute("SELECT * FROM raw0 LIMIT 0").description]
    seen: dict[str, str] = {}
    for c in cols:
        clean = c.strip().lstrip("\ufeff").strip()
        if c == LINE or c.startswith(LINE + ":") or not clean:
            continue
        if clean in seen:
            raise FactError(f"表格中有两列都叫“{clean}”，无法确定用哪一列", Span(shown, 1, 1), "删去或改名多余的列")
        seen[clean] = c
    line = exp.column(LINE, quoted=True) if line_column == LINE else sqlglot.parse_one(line_column, read="duckdb")
    select = exp.select(exp.cast(line, "BIGINT").as_("line"), *[exp.cast(exp.column(c, quoted=True), "VARCHAR").as_(n, quoted=True) for n, c in seen.items()]).from_("raw0")
    con.execute(exp.Create(this=exp.to_table("raw"), kind="TABLE", replace=True, expression=select).sql("duckdb"))


# ---- back to Python: the interpreter reads tables as the SQL engines do ----------------------------------
# The order in which the interpreter reads each relation's rows (DuckDB's default: nulls last).
ORDER = {
    "projects": (("pid", False),),
    "facts": (("pid", False), ("seq", False)),
    "records": (("pid", False), ("rec", False), ("item", True)),  # (column, nulls first)
    "targets": (("pid", False), ("line", False)),
    "problems": (("pid", False), ("seq", False)),
}


def fetch_inputs(con, pids: list[int] | None = None) -> list[ProjectInputs]:
    """The projects of the input relations on a DuckDB connection as ``ProjectInputs``, in pid order."""
    where = "" if pids is None else f" WHERE pid IN ({', '.join(str(int(p)) for p in pids)})"
    rows = {}
    for name, cols in SCHEMA.items():
        order = ", ".join(c + (" NULLS FIRST" if first else "") for c, first in ORDER[name])
        cond = where or (" WHERE pid IS NOT NULL" if name == "problems" else "")
        rows[name] = con.execute(f"SELECT {', '.join(c.split()[0] for c in cols)} FROM {name}{cond} ORDER BY {order}").fetchall()
    return inputs_of_rows(rows)


def sorted_rows(rows: dict[str, list[tuple]], pids: list[int] | None = None) -> dict[str, list[tuple]]:
    """``fetch_inputs``' selection and order applied to relation rows held in Python (``rows_of``):
    a facts file is scored by the interpreter without a DuckDB round trip."""
    keep = None if pids is None else set(pids)
    out = {}
    for name, cols in SCHEMA.items():
        names = [c.split()[0] for c in cols]
        at = [(names.index(c), first) for c, first in ORDER[name]]
        if keep is not None:
            chosen = [r for r in rows[name] if r[0] in keep]
        else:
            chosen = [r for r in rows[name] if r[0] is not None or name != "problems"]
        out[name] = sorted(chosen, key=lambda r: tuple(k for i, first in at for k in ((r[i] is None) != first, r[i])))
    return out


def inputs_of_rows(rows: dict[str, list[tuple]]) -> list[ProjectInputs]:
    """Relation rows (``SCHEMA``'s columns, in ``ORDER``) as ``ProjectInputs``: the one definition
    of how every engine's input relations read as a project's inputs."""
    from jxdsl.facts import TargetRow

    projects = {pid: dict(project=name, year=year, source=source, facts_line=fl, kind=kind, facts={}, records={}, targets=[], problems=[])
                for pid, name, year, source, fl, kind in rows["projects"]}
    for pid, _seq, name, value, line in rows["facts"]:
        projects[pid]["facts"][name] = Fact(value, line)
    for pid, rec, key, line, field, question, item, option, value in rows["records"]:
        r = projects[pid]["records"].setdefault(rec, {"key": key, "line": line, "fields": {}})
        if field is None:
            continue
        if item is None:
            r["fields"][field] = value
        else:
            entries = r["fields"].setdefault(field, ())
            if item >= 1:
                r["fields"][field] = (*entries, Entry(question or 0, option, value))
    for pid, line, first, second, third, weight, target, actual, tier, score, note, method, parent in rows["targets"]:
        p = projects[pid]
        p["targets"].append(TargetRow(first, second or "", third, weight, target, actual, tier, score, note, Span(p["source"], line, 1), method, parent is not None, parent))
    for pid, _seq, line, message, hint in rows["problems"]:
        projects[pid]["problems"].append(Problem(message, line, hint))
    out = []
    for pid, p in projects.items():
        records = tuple(Record(r["key"], r["fields"], r["line"], rec) for rec, r in sorted(p["records"].items()))
        year = int(p["year"]) if p["year"] else None
        out.append(ProjectInputs(p["project"], p["source"], year, p["facts"], records, tuple(p["targets"]), tuple(p["problems"]), p["facts_line"], p["kind"]))
    return out


def table_problems(con) -> list[tuple[int, str]]:
    """Rows that belong to no project (no project name): (line, message)."""
    return con.execute("SELECT line, message FROM problems WHERE pid IS NULL ORDER BY line").fetchall()
