"""The ``jxdsl`` command: parses arguments and calls the library; no scoring logic here."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from jxdsl.errors import JxError, UsageError
from jxdsl.outfile import check_out, interruptible, safe_text

if TYPE_CHECKING:
    from jxdsl.link import Rulebook

# Only click and the error types at import: each command imports what it uses, so `jxdsl --help`
# and a single project's `explain` never load sympy, sqlglot, openpyxl or python-docx
# (docs/performance.md; tests/test_startup.py keeps it so).
EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2
ENGINES = ("interpreter", "duckdb", "spark")  # batch.ENGINES (tests/test_startup.py checks they agree)
FORMATS = ["text", "json", "jsonl", "csv", "parquet", "xlsx", "docx", "html", "md"]


def _fail(err: JxError) -> None:
    click.echo(str(err), err=True)
    sys.exit(EXIT_USAGE if isinstance(err, UsageError) else EXIT_INVALID)


def _load(path: str) -> Rulebook:
    from jxdsl.link import Linker

    if not Path(path).is_file():
        raise UsageError(f"找不到规则集文件“{path}”")
    return Linker().load(path)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="jxdsl")
def main() -> None:
    """jxdsl：预算绩效评价规则引擎。"""


@main.command()
@click.argument("rulebooks", nargs=-1, required=True)
def check(rulebooks: tuple[str, ...]) -> None:
    """检查规则集：语法、继承、权重与引用；列出指标树和需要的数据，或列出全部错误。"""
    from jxdsl.explain import render_tree
    from jxdsl.template import render_needs

    code = EXIT_OK
    for path in rulebooks:
        try:
            book = _load(path)
        except JxError as e:
            click.echo(str(e), err=True)
            code = max(code, EXIT_USAGE if isinstance(e, UsageError) else EXIT_INVALID)
            continue
        click.echo(render_tree(book))
        click.echo(render_needs(book))
        for w in book.warnings:
            click.echo(str(w.with_sources(book.sources)), err=True)
    sys.exit(code)


ENGINE_HELP = (
    "计分引擎：duckdb（内嵌 SQL，表格的默认引擎）、interpreter（逐项精确计算，单个项目的默认引擎）、"
    "spark（集群，JXDSL_SPARK_MASTER 指定 master）。各引擎的得分、说明和错误逐字相同"
)


FULL_NOTES_HELP = "得满分的指标不写说明（公开的得分表满分行的扣分说明通常空着）；只用于 explain 和得分表格式"
OUT_HELP = (
    "写入文件（默认输出到屏幕）。不能是输入文件（事实、表格、规则集及其继承的规则集），也不能是文件夹、命名管道或设备；"
    "符号链接写入它指向的文件。先写同一文件夹中的临时文件 .jxdsl-*.tmp，写完再改名，中断的运行留下的临时文件下次运行时清除"
)


@main.command()
@click.argument("rulebook")
@click.argument("facts")
@click.option(
    "--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
    help="输出格式；csv 为评分表（audit 的输入格式），parquet 为逐指标明细；xlsx/docx 为得分表，html 为带图表的报告，需 -o",
)
@click.option("-o", "--out", "out", metavar="文件", help=OUT_HELP)
@click.option("--project", help="只评表中的这个项目")
@click.option("--engine", type=click.Choice(ENGINES), default=None, help=ENGINE_HELP)
@click.option("--sheet", help="读 Excel 文件的这个工作表（默认：当前工作表，隐藏时用第一个可见的）")
@click.option("--no-full-notes", "no_full_notes", is_flag=True, help=FULL_NOTES_HELP)
@interruptible
def score(rulebook: str, facts: str, fmt: str, out: str | None, project: str | None, engine: str | None, sheet: str | None, no_full_notes: bool) -> None:
    """按规则集为一个项目（YAML/JSON）或表格中的每个项目（CSV/XLSX/Parquet 自评表或事实表）打分。"""
    from jxdsl import output
    from jxdsl.batch import is_table, memory_guard

    run = _open(rulebook, facts, engine, project, sheet, out)
    try:
        with memory_guard(facts):
            output.write(run, fmt, out, single=not is_table(facts), full_notes=not no_full_notes)
            _finish(run, echo=fmt != "text" or out is not None or is_table(facts))
    except JxError as e:
        _fail(e)


@main.command()
@click.argument("rulebook")
@click.argument("facts")
@click.option("--project", help="只解释表中的这个项目")
@click.option("--engine", type=click.Choice(ENGINES), default=None, help=ENGINE_HELP)
@click.option("--sheet", help="读 Excel 文件的这个工作表（默认：当前工作表，隐藏时用第一个可见的）")
@click.option("--no-full-notes", "no_full_notes", is_flag=True, help=FULL_NOTES_HELP)
@interruptible
def explain(rulebook: str, facts: str, project: str | None, engine: str | None, sheet: str | None, no_full_notes: bool) -> None:
    """逐条说明每个指标的得分、扣分原因、公式和代入的数值。"""
    from jxdsl.batch import is_table, memory_guard
    from jxdsl.explain import blank_full_notes, render_explanation

    run = _open(rulebook, facts, engine, project, sheet)
    try:
        with memory_guard(facts):
            shown = (r if not no_full_notes else blank_full_notes(r) for r in run.results())
            click.echo(safe_text("\n\n".join(render_explanation(r) for r in shown)))
            _finish(run, echo=is_table(facts))
    except JxError as e:
        _fail(e)


def _open(rulebook: str, facts: str, engine: str | None, project: str | None, sheet: str | None = None, out: str | None = None):
    from jxdsl.batch import is_table, memory_guard, open_run, process_started

    try:
        book = _load(rulebook)
        if out is not None:  # refused before any scoring: -o onto an input, a folder, a FIFO
            check_out(out, [facts, *book.files])
        chosen = engine or ("duckdb" if is_table(facts) else "interpreter")
        with memory_guard(facts):
            return open_run(book, facts, chosen, project, progress=is_table(facts) and sys.stderr.isatty(), started=process_started(), sheet=sheet)
    except JxError as e:
        _fail(e)


def _finish(run, echo: bool) -> None:
    """Errors and warnings on stderr (a single project's text lists them itself), the tally, the exit code."""
    from jxdsl.output import report

    tally = report(run, echo=echo, write=lambda t: click.echo(t, err=True))
    sys.exit(EXIT_INVALID if tally.failed else EXIT_OK)


@main.command()
@click.argument("rulebook")
@click.option("--dialect", type=click.Choice(["duckdb", "spark"]), default="duckdb", show_default=True)
def sql(rulebook: str, dialect: str) -> None:
    """打印批量计分引擎为该规则集运行的 SQL（按顺序创建的每个关系）。"""
    from jxdsl.compile import to_sql

    try:
        click.echo(to_sql(_load(rulebook), dialect))
    except JxError as e:
        _fail(e)


@main.command(name="facts-table")
@click.argument("facts", nargs=-1, required=True)
@click.option("-o", "--output", "out", required=True, metavar="文件", help="输出的事实表（.csv）；不能是输入的事实文件，写法同 score 的 -o")
@interruptible
def facts_table_cmd(facts: tuple[str, ...], out: str) -> None:
    """把多个事实文件（每个一个项目，YAML/JSON）合成一张事实表，供批量计分（格式见 docs/facts-table.md）。"""
    from jxdsl.facts_table import write_facts_table

    try:
        n = write_facts_table(list(facts), out)
    except JxError as e:
        _fail(e)
        return
    click.echo(f"已写入“{out}”：{n} 个项目", err=True)


@main.command()
@click.argument("table")
@click.option("--rulebook", "rulebook", help="按此规则集核对分值、档次和计分规则")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True, help="输出格式")
@click.option("--sheet", help="读 Excel 文件的这个工作表（默认：当前工作表，隐藏时用第一个可见的）")
def audit(table: str, rulebook: str | None, fmt: str, sheet: str | None) -> None:
    """核查公开的评分表：分值与得分是否加得拢、得分是否超出分值、等级是否与总分相符、得分是否符合计分规则（含舍入）。格式见 docs/audit.md。"""
    from jxdsl import audit as audit_mod

    try:
        book = _load(rulebook) if rulebook else None
        findings = audit_mod.audit_file(table, book, sheet, note=lambda t: click.echo(t, err=True))
    except JxError as e:
        _fail(e)
        return
    if fmt == "json":
        from jxdsl.explain import dumps

        click.echo(dumps({"findings": [f.as_json() for f in findings]}))
    else:
        click.echo(audit_mod.render(table, findings))
    sys.exit(EXIT_INVALID if findings else EXIT_OK)  # contracts.md: 1 when findings exist, notes included


@main.command(name="diff")
@click.argument("old")
@click.argument("new")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "xlsx"]), default="text", show_default=True,
              help="输出格式；xlsx 只用于 --on，需 -o")
@click.option("--on", "table", metavar="表格", help="再用两个规则集为这张表（自评表或事实表）的每个项目打分，列出总分、等级的变化（docs/impact.md）")
@click.option("-o", "--out", "out", metavar="文件", help=OUT_HELP)
@click.option("--engine", type=click.Choice(ENGINES), default=None, help=ENGINE_HELP + "；只用于 --on，默认 duckdb")
@click.option("--sheet", help="读 Excel 文件的这个工作表（默认：当前工作表，隐藏时用第一个可见的）；只用于 --on")
@interruptible
def diff_cmd(old: str, new: str, fmt: str, table: str | None, out: str | None, engine: str | None, sheet: str | None) -> None:
    """逐个指标列出两个规则集的不同：权重、计分规则、文字、增删指标、等级、舍入等；加 --on 表格时再列出对表中各项目的影响。"""
    from jxdsl import diff as diff_mod

    try:
        a, b = _load(old), _load(new)
        if table is not None or fmt == "xlsx" or (out, engine, sheet) != (None, None, None):
            _impact(a, b, table, fmt, out, engine, sheet)
            return
    except JxError as e:
        _fail(e)
        return
    changes = diff_mod.diff(a, b)
    if fmt == "json":
        from jxdsl.explain import dumps

        click.echo(dumps(diff_mod.to_json(a, b, changes)))
    else:
        click.echo(diff_mod.render(a, b, changes))


# ---- draft (issue 14) ----------------------------------------------------------------------
@main.command(name="draft")
@click.argument("table")
@click.option("-o", "--out", "out", metavar="文件", help="写入的规则集（.jx）；不能是输入的表格；已存在时须加 --force。不写时输出到屏幕")
@click.option("--force", is_flag=True, help="覆盖已存在的 -o 文件")
@click.option("--sheet", help="读 Excel 文件的这个工作表（默认：当前工作表，隐藏时用第一个可见的）")
def draft_cmd(table: str, out: str | None, force: bool, sheet: str | None) -> None:
    """从指标体系/评分表（CSV/XLSX）起草规则集：指标树、分值、指标解释、评分标准；认得出的评分标准写成计分规则，其余写酌情并注明“待确认”。"""
    from jxdsl.draft import check_draft, draft

    try:
        text = draft(table, out, force, sheet, note=lambda t: click.echo(t, err=True))
    except JxError as e:
        _fail(e)
        return
    if out is None:
        click.echo(text, nl=False)
    messages, failed = check_draft(text, out)
    for m in messages:
        click.echo(m, err=True)
    if out is not None:
        click.echo(f"已写入“{out}”：{text.count('# 待确认：')} 处待确认" + ("；规则集检查未通过，见上" if failed else ""), err=True)
    sys.exit(EXIT_INVALID if failed else EXIT_OK)


# ---- template (issue 14) -------------------------------------------------------------------
@main.command(name="template")
@click.argument("rulebook")
@click.option("-o", "--out", "out", metavar="文件",
              help="写入的空白文件：.yaml 为事实文件，.xlsx 为自评表（来自目标表的规则集）或事实表；不能是规则集；已存在时须加 --force。不写时把 YAML 输出到屏幕")
@click.option("--force", is_flag=True, help="覆盖已存在的 -o 文件")
def template_cmd(rulebook: str, out: str | None, force: bool) -> None:
    """为规则集写空白事实文件（YAML）或空白自评表/事实表（XLSX）：恰好列出它需要的数据和评价记录，注明类型和用到它的指标。"""
    from jxdsl.outfile import check_out, staged, write_text
    from jxdsl.template import write_xlsx, yaml_template

    try:
        book = _load(rulebook)
        if out is None:
            click.echo(yaml_template(book), nl=False)
            return
        check_out(out, book.files)
        suffix = Path(out).suffix.lower()
        if suffix not in (".yaml", ".yml", ".xlsx"):
            raise UsageError(f"空白文件只能写成 YAML（.yaml）或 Excel（.xlsx），“{out}”都不是", None, "用 -o 事实.yaml 或 -o 自评表.xlsx")
        if Path(out).exists() and not force:
            raise UsageError(f"输出文件“{out}”已存在", None, "换一个文件名，或加 --force 覆盖它")
        if suffix == ".xlsx":
            with staged(out, book.files) as tmp:
                rows = write_xlsx(book, tmp)
            click.echo(f"已写入“{out}”：{rows} 行待填", err=True)
        else:
            write_text(out, yaml_template(book), inputs=book.files)
            click.echo(f"已写入“{out}”", err=True)
    except JxError as e:
        _fail(e)


@main.command(name="rulebooks")
@click.argument("folder", default=".", metavar="[文件夹]")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True, help="输出格式")
def rulebooks_cmd(folder: str, fmt: str) -> None:
    """列出写在该文件夹（默认当前文件夹）中的规则集可按名称“继承”的规则集：名称、版本、年度、文件和来源
    （本目录树、JXDSL_PATH、jxdsl 自带的规则集库），以及查找的先后顺序。"""
    from jxdsl import library
    from jxdsl.explain import dumps
    from jxdsl.link import Linker

    if not Path(folder).is_dir():
        _fail(UsageError(f"找不到文件夹“{folder}”"))
    try:
        places, entries = library.available(Path(folder), Linker().search_paths)
    except JxError as e:
        _fail(e)
        return
    if fmt == "json":
        click.echo(dumps({
            "search_path": [{"origin": o, "source": library.SOURCES[o], "folder": str(library.shown(r))} for o, r in places],
            "rulebooks": [e.as_json() for e in entries],
        }))
    else:
        click.echo(library.render(places, entries))


# ---- serve: the rulebook workbench (issue 15) ----------------------------------------------------
@main.command(name="serve")
@click.argument("folder", default=".", metavar="[文件夹]")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535), help="端口")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="监听的地址。默认只有本机能访问；0.0.0.0 对其他机器开放（他们也能读写该文件夹中的规则集）")
def serve_cmd(folder: str, port: int, host: str) -> None:
    """打开规则集工作台：在浏览器中编辑文件夹中的规则集，即时看到错误、指标树、得分、“假如”求解和修改的影响。"""
    from jxdsl.serve import Folder, check_port, serve

    try:
        Folder(folder)
        check_port(host, port)
    except JxError as e:
        _fail(e)
        return
    click.echo(f"规则集工作台：http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}/  （文件夹 {Path(folder).resolve()}；Ctrl-C 结束）", err=True)
    try:
        serve(folder, host, port)
    except JxError as e:
        _fail(e)


# ---- language server (jxdsl lsp) ------------------------------------------------------------------
@main.command()
@click.option("--stdio", is_flag=True, default=True, help="经标准输入输出与编辑器通信（默认，也是唯一的方式）")
def lsp(stdio: bool) -> None:
    """启动语言服务器（LSP），供 VS Code 等编辑器使用：即时错误提示、悬停说明、跳转到定义、补全。"""
    from jxdsl.lsp import serve

    try:
        serve()
    except JxError as e:
        _fail(e)
# ---- solve: what value of one fact reaches a goal (jxdsl/whatif.py) ------------------------------------
@main.command(name="solve")
@click.argument("rulebook")
@click.argument("facts")
@click.option("--fact", "fact", required=True, metavar="名称", help="求解的数据（事实文件“事实:”中的名称），如 实际支出")
@click.option("--grade", "grade", metavar="等级", help="目标：达到这个等级，如 优")
@click.option("--next-grade", "next_grade", is_flag=True, help="目标：比现在高一级的等级")
@click.option("--total", "total", metavar="分数", help="目标：总分达到这个分数")
@click.option("--full", "full", metavar="指标路径", help="目标：这个指标得满分，如 产出/产出数量/完成率")
@click.option("--project", help="表中的这个项目（表有多个项目时必填）")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True, help="输出格式")
def solve_cmd(rulebook: str, facts: str, fact: str, grade: str | None, next_grade: bool, total: str | None, full: str | None, project: str | None, fmt: str) -> None:
    """求解：某项数据为多少时达到目标等级、总分或指标满分（精确求解，并按该值复算验证）。"""
    from jxdsl.batch import open_run
    from jxdsl.explain import dumps
    from jxdsl.units import plain_number
    from jxdsl.whatif import Goal, sentence, solve, to_json

    try:
        chosen = [k for k, v in (("--grade", grade), ("--next-grade", next_grade), ("--total", total), ("--full", full)) if v]
        if len(chosen) != 1:
            raise UsageError("目标须且只能给一个" + (f"，给了 {'、'.join(chosen)}" if chosen else ""), None, "写 --grade 优、--next-grade、--total 90 或 --full 指标路径 之一")
        if total is not None and plain_number(total.strip()) is None:
            raise UsageError(f"--total 应为分数，实际是“{total}”", None, "如 --total 90")
        goal = (Goal("grade", grade=grade) if grade else Goal("next") if next_grade
                else Goal("total", points=plain_number(total.strip())) if total is not None else Goal("full", path=tuple(full.split("/"))))
        book = _load(rulebook)
        run = open_run(book, facts, "interpreter", project)
        projects = run.inputs(run.pids)
        if len(projects) != 1:
            names = "、".join(p.project for p in projects[:5])
            raise UsageError(f"“{facts}”有 {len(projects)} 个项目，须用 --project 选一个", None, f"项目：{names}{'…' if len(projects) > 5 else ''}")
        found = solve(book, projects[0], fact, goal)
    except JxError as e:
        _fail(e)
        return
    click.echo(dumps(to_json(found)) if fmt == "json" else sentence(found))
    sys.exit(EXIT_OK if found.reachable else EXIT_INVALID)


def entry() -> None:  # pragma: no cover - the console script; tests call ``main``
    """The ``jxdsl`` command: ``main``, then, once the output is flushed and the DuckDB connections
    closed, exit without freeing the compiled rulebook's millions of objects one by one (half a
    second on a large rulebook, after the work is done).  With Spark, a normal exit stops it."""
    import os

    try:
        main()
    except SystemExit as e:
        code = e.code
    else:
        code = 0
    if "jxdsl.spark" in sys.modules and sys.modules["jxdsl.spark"]._SESSIONS:
        sys.exit(code)
    if "jxdsl.batch" in sys.modules:  # a command that opened DuckDB (never imported just to close nothing)
        sys.modules["jxdsl.batch"].close_connections()
    if isinstance(code, str):
        click.echo(code, err=True)
        code = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a reader that stopped early (| head), or a closed stream
            pass
    os._exit(code or 0)


# ---- impact (issue 15): diff OLD NEW --on TABLE -----------------------------------------------
def _impact(old: Rulebook, new: Rulebook, table: str | None, fmt: str, out: str | None, engine: str | None, sheet: str | None) -> None:
    """``diff --on``: both rulebooks score the table; the differences and their effect, on screen or in ``-o``."""
    from jxdsl import impact as impact_mod
    from jxdsl.explain import dumps
    from jxdsl.outfile import write_text

    if table is None:
        used = next(name for name, on in (("xlsx 格式", fmt == "xlsx"), ("-o ", out), ("--engine ", engine), ("--sheet ", sheet)) if on)
        raise UsageError(f"{used}只用于 --on（两个规则集对一张表格的影响）", None, "加 --on 表格，如 --on 自评表.xlsx")
    if fmt == "xlsx" and out is None:
        raise UsageError("xlsx 格式需要用 -o 指定输出文件", None, "例如 -o 影响.xlsx")
    if not Path(table).exists():
        raise UsageError(f"找不到表格“{table}”")
    inputs = [table, *old.files, *new.files]
    if out is not None:  # refused before any scoring: -o onto the table or a rulebook
        check_out(out, inputs)
    im = impact_mod.impact(old, new, table, engine or "duckdb", sheet)
    if fmt == "xlsx":
        impact_mod.write_xlsx(im, out, inputs)
        click.echo(f"已写入“{out}”：{im.projects} 个项目，{len(im.changed)} 个总分或等级变化", err=True)
        return
    text = dumps(impact_mod.to_json(im)) if fmt == "json" else impact_mod.render(im)
    if out is None:
        click.echo(safe_text(text))
    else:
        write_text(out, text + "\n", inputs=inputs)


if __name__ == "__main__":  # pragma: no cover
    entry()
