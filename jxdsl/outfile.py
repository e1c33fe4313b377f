"""Where an output goes (``-o``): never over an input, never half written, never a crash on odd text.

Every command that writes a file goes through here:

* ``check_out`` refuses a destination that is one of the inputs (compared as files: the same
  device and inode, so a hard link, a symlink, ``./x`` or another case on a case-insensitive
  disk are all caught), a directory, a FIFO or a device.  A symlink is written through: the file
  it points to is replaced and the link stays (after the same checks on that file).
* ``staged`` gives a temporary file beside the destination (same disk, so the final rename is
  atomic) named ``.jxdsl-<pid>-<random>.tmp``; it is renamed over the destination when complete
  and removed on an error, Ctrl-C, SIGTERM or SIGHUP (the run then exits with 128 + the signal).
  Temporaries that a killed run (SIGKILL, power loss) left behind are removed by the next run
  that writes into the same folder: only names of that pattern, and only when their process is
  gone (or, where that cannot be told, after a week).
* ``safe_text`` makes any text writable as UTF-8 (a lone surrogate from a JSON ``"\\ud800"``
  becomes U+FFFD); every writer passes its text through it.
"""
from __future__ import annotations

import contextlib
import functools
import os
import re
import signal
import stat
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from jxdsl.errors import UsageError

_TMP = re.compile(r"\A(?:tmp_)?\.jxdsl-(\d+)-[0-9a-f]{8}\.tmp(\.[0-9a-z]+)?\Z")
STALE_SECONDS = 7 * 24 * 3600  # where a process cannot be asked about, a temporary this old is stale
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def safe_text(text: str) -> str:
    """Text that encodes as UTF-8: lone surrogates (which no encoder accepts) become U+FFFD.

    >>> safe_text("项目\\ud800甲")
    '项目\\ufffd甲'
    """
    return _SURROGATE.sub("\ufffd", text) if _SURROGATE.search(text) else text


# ---- the destination ------------------------------------------------------------------------
def check_out(out: str | os.PathLike, inputs: Iterable[str | os.PathLike] = ()) -> Path:
    """The file to write for ``-o out`` (a symlink resolved to its target), or a usage error when
    it is an input, a directory, a FIFO or a device.  Nothing has been written when this refuses."""
    name = str(out)
    if not name.strip():
        raise UsageError("输出文件名为空", None, "用 -o 指定一个文件，如 -o 结果.json")
    path = Path(out)
    target = Path(os.path.realpath(path)) if path.is_symlink() else path
    try:
        st = os.stat(path)  # follows a symlink
    except FileNotFoundError:
        return target  # a new file (or a dangling link: its target is created)
    except OSError as e:
        raise UsageError(f"无法写入“{name}”：{e.strerror or e}") from None
    if stat.S_ISDIR(st.st_mode):
        raise UsageError(f"输出文件“{name}”是一个文件夹", None, "在 -o 后写文件名，如 -o 结果/得分表.xlsx")
    if not stat.S_ISREG(st.st_mode):
        kind = "命名管道（FIFO）" if stat.S_ISFIFO(st.st_mode) else "设备或特殊文件"
        raise UsageError(f"输出文件“{name}”是{kind}，只能写入普通文件", None, "要输出到屏幕请不写 -o；要交给其他程序请用管道（|）")
    for source in inputs:
        if _same(st, path, source):
            same = f"（即“{source}”）" if os.path.normcase(os.path.abspath(source)) != os.path.normcase(os.path.abspath(name)) else ""
            raise UsageError(f"输出文件“{name}”就是输入文件{same}，写入会毁掉它", None, "换一个输出文件名")
    return target


def _same(st: os.stat_result, out, source) -> bool:
    """Whether ``source`` is the file ``st`` describes (``out``): the same device and inode."""
    try:
        other = os.stat(source)
    except (OSError, ValueError):
        return False
    if st.st_ino == 0 or other.st_ino == 0:  # a file system without inode numbers
        return os.path.normcase(os.path.realpath(source)) == os.path.normcase(os.path.realpath(out))
    return (st.st_dev, st.st_ino) == (other.st_dev, other.st_ino)


# ---- temporaries ----------------------------------------------------------------------------
@contextlib.contextmanager
def staged(out: str | os.PathLike, inputs: Iterable[str | os.PathLike] = ()) -> Iterator[Path]:
    """A temporary path beside ``out``'s file, renamed over it when the block completes; removed
    (with any ``.<n>`` part files) when the block fails or the process is asked to stop."""
    target = check_out(out, inputs)
    folder = target.parent
    sweep(folder)
    try:
        tmp = _create(folder)
    except OSError as e:
        raise UsageError(f"无法写入“{out}”：{e.strerror or e}") from None
    try:
        with stop_on_signals("输出文件没有写入"):
            yield tmp
        os.replace(tmp, target)  # atomic: a signal now leaves the old file or the new one
    except OSError as e:
        raise UsageError(f"无法写入“{out}”：{e.strerror or e}") from None
    finally:
        _remove(tmp)


def _create(folder: Path) -> Path:
    """A new empty temporary file (created by us, mode as the umask says, like any output)."""
    import secrets  # here, not at the top: with hmac and hashlib ~4 ms of every start

    while True:
        tmp = folder / f".jxdsl-{os.getpid()}-{secrets.token_hex(4)}.tmp"
        try:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            return tmp
        except FileExistsError:
            continue


def _remove(tmp: Path) -> None:
    for f in [tmp, tmp.with_name("tmp_" + tmp.name), *tmp.parent.glob(tmp.name + ".*")]:
        with contextlib.suppress(OSError):
            f.unlink()


def sweep(folder: Path) -> list[Path]:
    """Remove the temporaries that runs which did not finish left in ``folder``; returns them."""
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    now = time.time()
    for entry in entries:
        m = _TMP.match(entry.name)
        if not m or int(m.group(1)) == os.getpid():
            continue
        try:
            old = now - entry.stat(follow_symlinks=False).st_mtime > STALE_SECONDS
            if old or _gone(int(m.group(1))):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except OSError:
            continue
    return removed


def _gone(pid: int) -> bool:
    """Whether no process has this id (False where that cannot be asked: Windows' os.kill stops it)."""
    if os.name == "nt":
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except (OSError, OverflowError):  # PermissionError: another user's live process
        return False
    return False


_SIGNALLED: list[int] = []  # signals received by the running command (all nested stop_on_signals)
_DEPTH = [0]


@contextlib.contextmanager
def stop_on_signals(what: str = "") -> Iterator[None]:
    """SIGTERM, SIGHUP and Ctrl-C stop the run with SystemExit (128 + the signal's number) and a
    short message, so that every ``finally`` (temporary files and folders) runs.  DuckDB,
    interrupted inside a query, raises its own error instead: after a signal any error is that
    stop.  A signal whose exception was swallowed (raised inside a ``__del__`` or a library's
    broad ``except``) still stops the run when the block ends, before ``staged`` renames anything.
    Only the main thread can install handlers (elsewhere the defaults stay); a signal the
    process was started ignoring (nohup, a background job) stays ignored."""
    names = [s for s in ("SIGTERM", "SIGHUP", "SIGINT") if hasattr(signal, s)]
    if _DEPTH[0] == 0:
        _SIGNALLED.clear()
    _DEPTH[0] += 1

    def stop(signum, _frame):
        _SIGNALLED.append(signum)
        raise SystemExit(128 + signum)

    def stopped() -> SystemExit:
        with contextlib.suppress(OSError, ValueError):
            sys.stderr.write(f"已中断（信号 {_SIGNALLED[0]}）{'，' + what if what else ''}\n")
        return SystemExit(128 + _SIGNALLED[0])

    previous = {}
    try:
        for s in names:
            if signal.getsignal(getattr(signal, s)) is not signal.SIG_IGN:
                previous[s] = signal.signal(getattr(signal, s), stop)
    except ValueError:  # not the main thread
        pass
    try:
        yield
    except BaseException:
        if _SIGNALLED and not getattr(sys.exc_info()[1], "jx_stopped", False):
            err = stopped()
            err.jx_stopped = True
            raise err from None
        raise
    else:
        if _SIGNALLED:
            err = stopped()
            err.jx_stopped = True
            raise err
    finally:
        _DEPTH[0] -= 1
        for s, handler in previous.items():
            signal.signal(getattr(signal, s), handler)


def interruptible(command):
    """A command that a signal stops cleanly (``stop_on_signals``): the CLI's long commands."""

    @functools.wraps(command)
    def run(*args, **kwargs):
        with stop_on_signals():
            return command(*args, **kwargs)

    return run


def write_text(out: str | os.PathLike, text: str, encoding: str = "utf-8", inputs: Iterable = ()) -> None:
    """``text`` (made safe) into ``out``, through a temporary renamed into place."""
    with staged(out, inputs) as tmp:
        with open(tmp, "w", encoding=encoding, newline="") as fh:
            fh.write(safe_text(text))
