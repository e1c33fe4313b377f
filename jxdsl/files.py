"""Reading files named by users or by rulebooks: regular files only, and never more than a limit.

A name can lead to a FIFO (reading blocks forever), a device such as /dev/zero (endless) or a
huge unrelated file; every read of such a file goes through ``read_regular``.
"""
from __future__ import annotations

import errno
import os
import stat
from pathlib import Path


def read_regular(path: str | Path, limit: int) -> tuple[bytes, bool]:
    """At most ``limit`` bytes of a regular file, and whether it is longer.

    Opened without blocking and checked before reading, so a FIFO never hangs and a device
    (a link to /dev/zero) is never read; a huge file costs ``limit`` bytes, not its size."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "不是普通文件")
        with os.fdopen(os.dup(fd), "rb") as fh:
            raw = fh.read(limit + 1)
    finally:
        os.close(fd)
    return raw[:limit], len(raw) > limit
