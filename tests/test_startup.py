"""Start-up: the parser cache (jxdsl/data.py) and which libraries a command imports."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "rulebooks" / "national" / "self-eval.jx"


def _child(code: str, cache: Path | str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "JXDSL_CACHE_DIR": str(cache), "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


LINK = f"from jxdsl.link import load; print(load({str(BOOK)!r}).name)"


def test_parser_cache_is_written_then_read(tmp_path):
    first = _child(LINK, tmp_path / "c", tmp_path)
    assert first.returncode == 0 and first.stdout.strip() == "单位自评-财预2020-10", first.stderr
    (cached,) = (tmp_path / "c").glob("parser-*.lark")
    stamp = cached.stat().st_mtime_ns
    second = _child(LINK, tmp_path / "c", tmp_path)
    assert second.stdout == first.stdout and second.stderr == ""
    assert cached.stat().st_mtime_ns == stamp  # read, not rebuilt


@pytest.mark.parametrize("damage", ["not a folder", "damaged file", "folder in its place"])
def test_unusable_parser_cache_still_parses(tmp_path, damage):
    """A cache folder that cannot be made, a truncated or foreign cache file, or a folder where
    the file should be: the parser is built as without a cache, silently."""
    cache = tmp_path / "c"
    if damage == "not a folder":
        cache.write_text("x")
    else:
        _child(LINK, cache, tmp_path)
        (cached,) = cache.glob("parser-*.lark")
        if damage == "damaged file":
            cached.write_bytes(cached.read_bytes()[:300])
        else:
            cached.unlink()
            cached.mkdir()
    r = _child(LINK, cache, tmp_path)
    assert r.returncode == 0 and r.stdout.strip() == "单位自评-财预2020-10" and r.stderr == "", r.stderr
