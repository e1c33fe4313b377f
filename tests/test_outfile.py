"""Output files (``-o``): never over an input, never a FIFO or a folder, never half written or
left as a temporary, never a crash on text no encoder takes (``jxdsl/outfile.py``)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import attrs
import pytest
from click.testing import CliRunner

from jxdsl import outfile
from jxdsl.cli import main

ROOT = Path(__file__).resolve().parent.parent
PARENT = """规则集 父规则
年度 2024
预算执行率 权重 10 正向 满分=100%
决策 权重 5
  立项 权重 5 酌情
"""
CHILD = "规则集 子规则 继承 父规则\n等级 优 ≥90 良 ≥80 中 ≥60 差\n"
FACTS = "项目: 项目一\n事实:\n  预算执行率: 95.3%\n评价:\n  立项: {得分: 4, 说明: 依据不足}\n"
TABLE = "项目,类别,名称,值,得分\n甲,事实,预算执行率,90%,\n甲,评价,立项,,3\n乙,事实,预算执行率,80%,\n乙,评价,立项,,5\n"


@pytest.fixture
def inputs(tmp_path, monkeypatch):
    """A child rulebook inheriting from a parent, a facts file and a facts table."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "rulebooks").mkdir()
    (tmp_path / "rulebooks" / "parent.jx").write_text(PARENT, encoding="utf-8")
    (tmp_path / "rulebooks" / "child.jx").write_text(CHILD, encoding="utf-8")
    (tmp_path / "one.yaml").write_text(FACTS, encoding="utf-8")
    (tmp_path / "table.csv").write_text(TABLE, encoding="utf-8")
    return tmp_path


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file() and not p.is_symlink()}


def _refused(args: list[str], folder: Path, *words: str) -> None:
    before = _snapshot(folder)
    run = CliRunner().invoke(main, args)
    assert run.exit_code == 2, run.output
    assert "用法错误" in run.output and all(w in run.output for w in words) and "Traceback" not in run.output, run.output
    assert _snapshot(folder) == before  # nothing written, nothing left


# ---- -o onto an input ----------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["json", "csv", "parquet", "xlsx", "md"])
@pytest.mark.parametrize("which", ["facts", "table", "rulebook", "parent"])
def test_out_onto_any_input_is_refused_before_writing(inputs, which, fmt):
    """The facts file, the table, the rulebook and the rulebook it inherits from, each named as it
    is and through another path (./, a hard link, a symlink): refused, every file unchanged."""
    facts = "table.csv" if which == "table" else "one.yaml"
    target = {"facts": "one.yaml", "table": "table.csv", "rulebook": "rulebooks/child.jx", "parent": "rulebooks/parent.jx"}[which]
    os.link(target, "hard-link")
    os.symlink(target, "sym-link")
    for out in (target, f"./{target}", str(inputs / target), "hard-link", "sym-link"):
        _refused(["score", "rulebooks/child.jx", facts, "--format", fmt, "-o", out], inputs, "就是输入文件")


@pytest.mark.parametrize("engine", ["interpreter", "duckdb"])
def test_out_onto_an_input_is_refused_in_every_engine(inputs, engine):
    for out in ("table.csv", "rulebooks/parent.jx"):
        _refused(["score", "rulebooks/child.jx", "table.csv", "--format", "jsonl", "--engine", engine, "-o", out], inputs, "就是输入文件")


def test_facts_table_out_onto_any_of_its_inputs_is_refused(inputs):
    (inputs / "two.yaml").write_text(FACTS.replace("项目一", "项目二"), encoding="utf-8")
    os.link("two.yaml", "two-link.csv")
    for out in ("one.yaml", "two.yaml", "./two.yaml", "two-link.csv"):
        _refused(["facts-table", "one.yaml", "two.yaml", "-o", out], inputs, "就是输入文件")


def test_library_writers_refuse_their_inputs_too(inputs):
    """``output.write`` checks again (library callers skip the CLI): the facts and every rulebook file."""
    from jxdsl import output
    from jxdsl.batch import open_run
    from jxdsl.errors import UsageError
    from jxdsl.link import Linker

    run = open_run(Linker().load("rulebooks/child.jx"), "one.yaml", "interpreter")
    for out in ("one.yaml", "rulebooks/parent.jx", "rulebooks/child.jx"):
        for fmt in ("json", "html"):
            with pytest.raises(UsageError, match="就是输入文件"):
                output.write(run, fmt, out, single=True)
    assert (inputs / "rulebooks" / "parent.jx").read_text(encoding="utf-8") == PARENT


# ---- -o onto what is not a regular file ---------------------------------------------------------
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_out_onto_a_fifo_device_or_folder_is_refused(inputs):
    """A FIFO would block the run until a reader comes (and the rename would replace it); a
    device is not a file; a folder cannot be written.  Each: a usage error, nothing written."""
    os.mkfifo("pipe")
    (inputs / "folder").mkdir()
    cases = {"pipe": "命名管道", os.devnull: "设备", "folder": "文件夹", ".": "文件夹", "": "输出文件名为空"}
    for out, word in cases.items():
        for fmt in ("json", "xlsx"):
            _refused(["score", "rulebooks/child.jx", "one.yaml", "--format", fmt, "-o", out], inputs, word)
        _refused(["facts-table", "one.yaml", "-o", out], inputs, word)
    assert Path("pipe").is_fifo()


def test_out_through_a_symlink_writes_its_target_and_keeps_the_link(inputs):
    (inputs / "results").mkdir()
    (inputs / "results" / "latest.json").write_text("old", encoding="utf-8")
    os.symlink("results/latest.json", "link.json")
    os.symlink("results/new.json", "dangling.json")
    for out in ("link.json", "dangling.json"):
        run = CliRunner().invoke(main, ["score", "rulebooks/child.jx", "one.yaml", "--format", "json", "-o", out])
        assert run.exit_code == 0, run.output
        assert Path(out).is_symlink()
    assert json.loads(Path("results/latest.json").read_text(encoding="utf-8"))["total"] == 13.53
    assert json.loads(Path("results/new.json").read_text(encoding="utf-8"))["total"] == 13.53
    assert sorted(p.name for p in (inputs / "results").iterdir()) == ["latest.json", "new.json"]


# ---- temporaries ----------------------------------------------------------------------------------
def _big_table(path: Path, n: int) -> Path:
    rows = ["项目,类别,名称,值,得分"]
    for i in range(n):
        rows += [f"项目{i},事实,预算执行率,{50 + i % 50}%,", f"项目{i},评价,立项,,{i % 6}"]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def _temporaries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith((".jxdsl-", "tmp_")) or p.name.endswith(".tmp"))


def _start(args: list[str], cwd: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "jxdsl.cli", *map(str, args)], cwd=cwd, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)


def _wait_for_temporary(proc: subprocess.Popen, folder: Path) -> None:
    deadline = time.monotonic() + 60
    while not _temporaries(folder):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"the run ended before writing: {proc.communicate()[1].decode('utf-8')}")
        time.sleep(0.02)


@pytest.mark.skipif(os.name == "nt", reason="signals")
@pytest.mark.parametrize("engine", ["interpreter", "duckdb"])
def test_killed_run_leaves_a_temporary_that_the_next_run_removes(inputs, tmp_path, engine):
    """SIGKILL mid-write leaves the temporary (nothing can run); the next run writing into the same
    folder removes it (its process is gone) and leaves the temporaries of live processes alone."""
    table = _big_table(tmp_path / "big.csv", 3000 if engine == "interpreter" else 20000)
    out_dir = inputs / "out"
    out_dir.mkdir()
    (out_dir / "r.jsonl").write_text("old", encoding="utf-8")
    proc = _start(["score", "rulebooks/child.jx", table, "--format", "jsonl", "--engine", engine, "-o", out_dir / "r.jsonl"], inputs)
    _wait_for_temporary(proc, out_dir)
    proc.kill()
    proc.communicate(timeout=60)
    left = _temporaries(out_dir)
    assert left and all(outfile._TMP.match(n) for n in left)
    assert (out_dir / "r.jsonl").read_text(encoding="utf-8") == "old"  # the old file is whole
    alive = out_dir / f".jxdsl-{os.getpid()}-0123abcd.tmp"  # ours: a live process's
    alive.write_text("x")
    mine = out_dir / "notes.tmp"  # a user's file that looks like a temporary
    mine.write_text("x")
    run = CliRunner().invoke(main, ["score", "rulebooks/child.jx", "one.yaml", "--format", "json", "-o", str(out_dir / "r2.json")])
    assert run.exit_code == 0, run.output
    assert _temporaries(out_dir) == sorted([alive.name, mine.name])


@pytest.mark.skipif(os.name == "nt", reason="signals")
@pytest.mark.parametrize(("engine", "fmt"), [("interpreter", "jsonl"), ("duckdb", "jsonl"), ("duckdb", "csv"), ("interpreter", "xlsx")])
def test_terminated_run_removes_its_temporary(inputs, tmp_path, engine, fmt):
    """SIGTERM while writing (in Python or inside DuckDB's COPY): exit 143, a short message, no
    temporary and no half file left, the old file untouched."""
    table = _big_table(tmp_path / "big.csv", {"xlsx": 150, "jsonl": 3000}[fmt] if engine == "interpreter" else 20000)
    out = inputs / f"r.{fmt}"
    out.write_text("old", encoding="utf-8")
    proc = _start(["score", "rulebooks/child.jx", table, "--format", fmt, "--engine", engine, "-o", out], inputs)
    _wait_for_temporary(proc, inputs)
    time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    err = proc.communicate(timeout=60)[1].decode("utf-8")
    if proc.returncode == 0:  # finished writing before the signal came: nothing to check
        pytest.skip("the run finished first")
    assert proc.returncode == 128 + signal.SIGTERM and "Traceback" not in err, err
    assert "已中断" in err
    assert _temporaries(inputs) == [] and out.read_text(encoding="utf-8") == "old"


def test_sweep_removes_only_our_stale_temporaries(tmp_path):
    dead = _dead_pid()
    ours = [f".jxdsl-{dead}-89abcdef.tmp", f".jxdsl-{dead}-89abcdef.tmp.0", f".jxdsl-{dead}-89abcdef.tmp.jsonl", f"tmp_.jxdsl-{dead}-89abcdef.tmp"]
    kept = [f".jxdsl-{os.getpid()}-89abcdef.tmp", f".jxdsl-{dead}-xyz.tmp", f"jxdsl-{dead}-89abcdef.tmp", "a.tmp", f".r.json.{dead}.tmp"]
    for name in ours + kept:
        (tmp_path / name).write_text("x")
    old = tmp_path / ".jxdsl-1-76543210.tmp"  # a live process (init), but a week old: stale all the same
    old.write_text("x")
    os.utime(old, (time.time() - outfile.STALE_SECONDS - 60,) * 2)
    assert sorted(p.name for p in outfile.sweep(tmp_path)) == sorted([*ours, old.name])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(kept)


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


# ---- text no encoder takes ------------------------------------------------------------------------
FORMATS = ["text", "json", "jsonl", "csv", "parquet", "xlsx", "docx", "html", "md"]


def _poisoned(monkeypatch):
    """Results whose project name, notes and indicator texts hold lone surrogates (as a JSON facts
    file's "\\ud800" gives them), injected where every engine's results come from."""
    from jxdsl import batch, evaluate

    real = evaluate.evaluate

    def poison(i):
        return attrs.evolve(i, evidence="说明\udfff", text=(i.text or "") + "\ud800", children=tuple(poison(c) for c in i.children))

    def evaluate_poisoned(*args, **kwargs):
        r = real(*args, **kwargs)
        return attrs.evolve(r, project=r.project + "\ud800乙", grade="优\udc80", indicators=tuple(poison(i) for i in r.indicators))

    monkeypatch.setattr(batch, "evaluate", evaluate_poisoned)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("facts", ["one.yaml", "table.csv"])
def test_lone_surrogates_never_crash_any_format(inputs, monkeypatch, fmt, facts):
    _poisoned(monkeypatch)
    out = inputs / f"r.{fmt}"
    run = CliRunner().invoke(main, ["score", "rulebooks/child.jx", facts, "--format", fmt, "--engine", "interpreter", "-o", str(out)])
    assert run.exit_code in (0, 1) and (run.exception is None or isinstance(run.exception, SystemExit)), run.output
    assert "Traceback" not in run.output and out.stat().st_size > 0
    if fmt in ("text", "json", "jsonl", "csv", "html", "md"):
        text = out.read_text(encoding="utf-8-sig")
        assert "\ufffd乙" in text and "\ud800" not in text
    if fmt not in ("parquet", "xlsx", "docx"):
        shown = CliRunner().invoke(main, ["score", "rulebooks/child.jx", facts, "--format", fmt, "--engine", "interpreter"])
        assert shown.exception is None or isinstance(shown.exception, SystemExit), shown.exception
        assert "\ufffd乙" in shown.stdout
    assert _temporaries(inputs) == []


def test_lone_surrogates_in_explain_and_facts_table(inputs, monkeypatch):
    _poisoned(monkeypatch)
    run = CliRunner().invoke(main, ["explain", "rulebooks/child.jx", "one.yaml"])
    assert run.exception is None or isinstance(run.exception, SystemExit), run.exception
    assert "\ufffd乙" in run.stdout
    (inputs / "odd.json").write_text(json.dumps({"项目": "丙\ud800", "事实": {"预算执行率": "90%"}}), encoding="utf-8")
    run = CliRunner().invoke(main, ["facts-table", "odd.json", "-o", "t.csv"])
    assert run.exit_code in (0, 1, 2) and "Traceback" not in run.output
    assert run.exception is None or isinstance(run.exception, SystemExit), run.exception


@pytest.mark.skipif(os.name == "nt", reason="signals")
def test_terminated_while_reading_leaves_no_temporary_folder(inputs, tmp_path):
    """SIGTERM before any output (an XLSX table being converted in a temporary folder): the
    folder is removed, exit 143 with a short message, no traceback."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet()
    ws.append(["项目", "类别", "名称", "值", "得分"])
    for i in range(20000):
        ws.append([f"项目{i}", "事实", "预算执行率", f"{50 + i % 50}%", None])
        ws.append([f"项目{i}", "评价", "立项", None, i % 6])
    wb.save(tmp_path / "big.xlsx")
    temp = tmp_path / "temp"
    temp.mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(temp)}
    proc = subprocess.Popen([sys.executable, "-m", "jxdsl.cli", "score", "rulebooks/child.jx", str(tmp_path / "big.xlsx"), "--format", "jsonl", "-o", "r.jsonl"],
                            cwd=inputs, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 60
    while not [p for p in temp.iterdir() if p.name.startswith("jxdsl-") and p.is_dir() and p.name != "jxdsl-duckdb-spill"]:
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()[1].decode("utf-8")
        time.sleep(0.01)
    proc.send_signal(signal.SIGTERM)
    err = proc.communicate(timeout=60)[1].decode("utf-8")
    assert proc.returncode == 128 + signal.SIGTERM and "Traceback" not in err and "已中断" in err, err
    assert [p.name for p in temp.iterdir() if p.name != "jxdsl-duckdb-spill"] == [] and not (inputs / "r.jsonl").exists()
