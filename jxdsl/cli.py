"""The ``jxdsl`` command: parses arguments and calls the library; no scoring logic here."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from jxdsl import facts as facts_mod
from jxdsl.errors import ErrorGroup, JxError, UsageError
from jxdsl.evaluate import Result, evaluate
from jxdsl.explain import dumps, render_explanation, render_text, render_tree, to_json
from jxdsl.link import Linker, Rulebook

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2


def _fail(err: JxError) -> None:
    click.echo(str(err), err=True)
    sys.exit(EXIT_USAGE if isinstance(err, UsageError) else EXIT_INVALID)


def _load(path: str) -> Rulebook:
    if not Path(path).is_file():
        raise UsageError(f"找不到规则集文件“{path}”")
    return Linker().load(path)


def _score_all(rulebook: str, facts_path: str, project: str | None = None) -> tuple[Rulebook, list[Result]]:
    book = _load(rulebook)
    projects = facts_mod.load(facts_path)
    if project is not None:
        chosen = [p for p in projects if p.project == project]
        if not chosen:
            from jxdsl.errors import suggest

            close = suggest(project, [p.project for p in projects])
            raise UsageError(f"事实文件中没有项目“{project}”", None, f"是否应为“{close}”？" if close else None)
        projects = chosen
    return book, [evaluate(book, p) for p in projects]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="jxdsl")
def main() -> None:
    """jxdsl：预算绩效评价规则引擎。"""


@main.command()
@click.argument("rulebooks", nargs=-1, required=True)
def check(rulebooks: tuple[str, ...]) -> None:
    """检查规则集：语法、继承、权重与引用；列出指标树或全部错误。"""
    code = EXIT_OK
    for path in rulebooks:
        try:
            book = _load(path)
        except JxError as e:
            click.echo(str(e), err=True)
            code = max(code, EXIT_USAGE if isinstance(e, UsageError) else EXIT_INVALID)
            continue
        click.echo(render_tree(book))
    sys.exit(code)


@main.command()
@click.argument("rulebook")
@click.argument("facts")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json", "jsonl", "csv", "xlsx", "docx", "html", "md"]), default="text", show_default=True,
    help="输出格式；csv 为评分表（audit 的输入格式）；xlsx/docx 为得分表，html 为带图表的报告，需 -o",
)
@click.option("-o", "--out", "out", type=click.Path(dir_okay=False), help="写入文件（默认输出到屏幕）")
@click.option("--project", help="只评表中的这个项目")
@click.option(
    "--engine", type=click.Choice(["interpreter", "duckdb", "spark"]), default=None,
    help="自评表的计分引擎：duckdb（内嵌 SQL，自评表的默认引擎）、interpreter（逐项计算，带逐条说明）、"
    "spark（集群，JXDSL_SPARK_MASTER 指定 master）。规则集含批量引擎不支持的规则时默认改用 interpreter",
)
def score(rulebook: str, facts: str, fmt: str, out: str | None, project: str | None, engine: str | None) -> None:
    """按规则集为一个项目（YAML/JSON）或自评表中的每个项目（CSV/XLSX/Parquet）打分。"""
    if engine is None:
        engine = _default_engine(rulebook, facts, fmt, project)
    if engine != "interpreter":
        _score_batch(rulebook, facts, fmt, out, engine)
        return
    try:
        book, results = _score_all(rulebook, facts, project)
    except JxError as e:
        _fail(e)
        return
    single = Path(facts).suffix.lower() in (".yaml", ".yml", ".json")
    if fmt in ("xlsx", "docx", "html", "md"):
        from jxdsl import report

        if out is None and fmt in ("xlsx", "docx"):
            _fail(UsageError(f"{fmt} 格式需要用 -o 指定输出文件", None, f"例如 -o 得分表.{fmt}"))
            return
        if out is None:
            click.echo(report.render_md(results, book) if fmt == "md" else report.render_html(results, book))
        else:
            try:
                {"xlsx": report.write_xlsx, "docx": report.write_docx, "html": report.write_html, "md": report.write_md}[fmt](results, book, out)
            except OSError as e:
                _fail(UsageError(f"无法写入“{out}”：{e.strerror or e}"))
                return
        _report_errors(results, echo=True)
        return
    if fmt == "json":
        payload = [to_json(r) for r in results]
        text = dumps(payload[0] if single else payload)
    elif fmt == "jsonl":
        text = "\n".join(json.dumps(to_json(r), ensure_ascii=False) for r in results)
    elif fmt == "csv":
        from jxdsl.audit import COLUMNS, OPTIONAL, result_rows
        from jxdsl.render import csv_text

        if len(results) != 1:
            _fail(UsageError("csv 评分表一次只能输出一个项目", None, "用 --project 指定项目"))
            return
        text = csv_text(result_rows(results[0]), [*COLUMNS, *OPTIONAL]).rstrip("\n")
    else:
        text = "\n\n".join(render_text(r) for r in results)
        if not single:
            ok = sum(1 for r in results if not r.errors)
            text += f"\n\n共 {len(results)} 个项目：{ok} 个计分完成，{len(results) - ok} 个有数据问题"
    _emit(text, out)
    if not single and (fmt != "text" or out is not None):
        ok = sum(1 for r in results if not r.errors)
        click.echo(f"共 {len(results)} 个项目：{ok} 个计分完成，{len(results) - ok} 个有数据问题", err=True)
    _report_errors(results, echo=fmt != "text" or out is not None)


def _default_engine(rulebook: str, facts: str, fmt: str, project: str | None) -> str:
    """duckdb for a whole table in text/JSON; the interpreter for one project, for reports
    (they need every explanation) and for rulebooks the compiler cannot translate (said on stderr)."""
    from jxdsl.batch import SUFFIXES

    if Path(facts).suffix.lower() not in SUFFIXES or fmt not in BATCH_FORMATS or project is not None:
        return "interpreter"
    from jxdsl.compile import plan
    from jxdsl.errors import CompileError

    try:
        plan(_load(rulebook))
    except CompileError as e:
        click.echo(f"说明：{e.message}，改用解释器逐项计分（--engine interpreter）", err=True)
        return "interpreter"
    except JxError:
        return "interpreter"  # the interpreter reports the rulebook's errors in full
    return "duckdb"


BATCH_FORMATS = ("text", "json", "jsonl")


def _score_batch(rulebook: str, table: str, fmt: str, out: str | None, engine: str) -> None:
    """A whole table through the SQL engine: totals, grades, indicator scores, rejected rows."""
    from jxdsl.batch import score_table

    if fmt not in BATCH_FORMATS:
        _fail(UsageError(f"{engine} 引擎输出 text、json 或 jsonl；{fmt} 格式请用 --engine interpreter"))
        return
    try:
        book = _load(rulebook)
        batch = score_table(book, table, engine=engine, progress=sys.stderr.isatty())
    except JxError as e:
        _fail(e)
        return
    if fmt == "json":
        text = dumps(list(batch.projects))
    elif fmt == "jsonl":
        text = "\n".join(json.dumps(p, ensure_ascii=False) for p in batch.projects)
    else:
        lines = [f"{p['project']}：总分 {p['total'] if p['total'] is not None else '无法计算'} / {p['max']}，等级 {p['grade'] or '—'}" for p in batch.projects]
        text = "\n".join(lines)
    if text or out is not None:
        _emit(text, out)
    _report_rejections(batch.rejections, table)
    click.echo(
        f"共 {batch.rows_in} 行：{batch.rows_scored} 行计分，{batch.rows_rejected} 行有问题；{len(batch.projects)} 个项目，引擎 {engine}，用时 {batch.seconds:.2f} 秒",
        err=True,
    )
    sys.exit(EXIT_INVALID if batch.rows_rejected else EXIT_OK)


SHOWN_WITH_SOURCE = 50  # rejected rows printed with their table line and caret; the rest one line each


def _report_rejections(rejections: list[dict], table: str) -> None:
    """Every rejected row on stderr, located at its row of the table like any fact error."""
    from jxdsl.errors import FactError, Span, _source_text

    text = _source_text(table, None) if rejections else None  # read once, not per row
    sources = {table: text} if text is not None else {}
    for n, r in enumerate(rejections):
        where = f"项目“{r['project']}”" if r["project"] else "无项目名称的行"
        indicator = f"，指标“{r['indicator']}”" if r["indicator"] else ""
        value = f"（值：{r['value']}）" if r["value"] is not None else ""
        error = FactError(f"{where}{indicator}：{r['reason']}{value}", Span(table, r["line"], 1) if r.get("line") else None)
        click.echo(error.render(sources) if n < SHOWN_WITH_SOURCE else error.render({table: ""}), err=True)


@main.command()
@click.argument("rulebook")
@click.option("--dialect", type=click.Choice(["duckdb", "spark"]), default="duckdb", show_default=True)
def sql(rulebook: str, dialect: str) -> None:
    """打印批量计分引擎为该规则集运行的 SQL。"""
    from jxdsl.compile import to_sql

    try:
        click.echo(to_sql(_load(rulebook), dialect))
    except JxError as e:
        _fail(e)


@main.command()
@click.argument("rulebook")
@click.argument("facts")
@click.option("--project", help="只解释表中的这个项目")
def explain(rulebook: str, facts: str, project: str | None) -> None:
    """逐条说明每个指标的得分、扣分原因、公式和代入的数值。"""
    try:
        _, results = _score_all(rulebook, facts, project)
    except JxError as e:
        _fail(e)
        return
    click.echo("\n\n".join(render_explanation(r) for r in results))
    _report_errors(results, echo=False)


@main.command()
@click.argument("table")
@click.option("--rulebook", "rulebook", help="按此规则集核对分值、档次和计分规则")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True, help="输出格式")
def audit(table: str, rulebook: str | None, fmt: str) -> None:
    """核查公开的评分表：分值与得分是否加得拢、得分是否超出分值、等级是否与总分相符、得分是否符合计分规则。"""
    from jxdsl import audit as audit_mod

    try:
        book = _load(rulebook) if rulebook else None
        findings = audit_mod.audit(audit_mod.read_table(table), book)
    except JxError as e:
        _fail(e)
        return
    if fmt == "json":
        click.echo(dumps({"findings": [f.as_json() for f in findings]}))
    else:
        click.echo(audit_mod.render(table, findings))
    sys.exit(EXIT_INVALID if findings else EXIT_OK)


@main.command(name="diff")
@click.argument("old")
@click.argument("new")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True, help="输出格式")
def diff_cmd(old: str, new: str, fmt: str) -> None:
    """逐个指标列出两个规则集的不同：权重、计分规则、文字、增删指标、等级、舍入等。"""
    from jxdsl import diff as diff_mod

    try:
        a, b = _load(old), _load(new)
    except JxError as e:
        _fail(e)
        return
    changes = diff_mod.diff(a, b)
    if fmt == "json":
        click.echo(dumps(diff_mod.to_json(a, b, changes)))
    else:
        click.echo(diff_mod.render(a, b, changes))


def _emit(text: str, out: str | None) -> None:
    if out is None:
        click.echo(text)
        return
    from jxdsl.render import write_atomic

    try:
        write_atomic(out, text + "\n", encoding="utf-8-sig" if out.lower().endswith(".csv") else "utf-8")
    except OSError as e:
        _fail(UsageError(f"无法写入“{out}”：{e.strerror or e}"))


def _report_errors(results: list[Result], echo: bool = True) -> None:
    if echo:  # text and explanations already list warnings and errors themselves
        for r in results:
            for w in r.warnings:
                click.echo(f"注意：项目“{r.project}”：{w}", err=True)
    bad = [r for r in results if r.errors]
    if not bad:
        sys.exit(EXIT_OK)
    if echo:
        for r in bad:
            for e in r.errors:
                click.echo(str(e), err=True)
    sys.exit(EXIT_INVALID)


if __name__ == "__main__":  # pragma: no cover
    main()
