"""Cold start of the commands people type: each command run N times in a fresh process, median wall time.

    .venv/bin/python benchmarks/startup.py            # 20 runs of each command
    .venv/bin/python benchmarks/startup.py --n 50 --root /tmp/old-checkout

Each run is ``python -m jxdsl.cli …`` (the console script's entry) in a new process, from process
start to exit, output discarded.  One unmeasured run first writes the parser cache and the kept
syntax trees (to a temporary JXDSL_CACHE_DIR) and the bytecode (to a temporary PYTHONPYCACHEPREFIX),
as a user's first command does; "first start" times that run on its own.
Then ``-X importtime`` of the same command lists the libraries it imported and their cumulative time.
"""
from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QIXIA = ["rulebooks/shandong/qixia-2021.jx", "examples/qixia-2021/facts.yaml"]
COMMANDS = {
    "jxdsl --help": ["--help"],
    "jxdsl check qixia": ["check", QIXIA[0]],
    "jxdsl explain qixia": ["explain", *QIXIA],
}
HEAVY = ("sympy", "duckdb", "openpyxl", "docx", "rich", "sqlglot", "yaml", "lark", "attrs", "click")


def once(root: Path, args: list[str], env: dict) -> tuple[float, float]:
    """Wall time and CPU time (user + system) of one run; on a shared, loaded machine the CPU
    time is the steadier of the two."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "jxdsl.cli", *args], cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def imports(root: Path, args: list[str], env: dict) -> dict[str, float]:
    """Cumulative import time (ms) of each heavy library the command loads."""
    r = subprocess.run([sys.executable, "-X", "importtime", "-m", "jxdsl.cli", *args], cwd=root, env=env, capture_output=True, text=True, check=False)
    out = {}
    for line in r.stderr.splitlines():
        m = re.match(r"import time:\s+\d+ \|\s+(\d+) \|\s*(\S+)$", line)
        if m and m.group(2) in HEAVY:
            out[m.group(2)] = int(m.group(1)) / 1000
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=20)
    p.add_argument("--root", type=Path, default=ROOT, help="the checkout to time (default: this one)")
    a = p.parse_args()
    with tempfile.TemporaryDirectory() as cache:
        # bytecode cached as an installed package has it (pip compiles it) and a checkout writes it
        # (__pycache__), but in a temporary folder; PYTHONDONTWRITEBYTECODE would add ~0.4 s of compiling
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env.update(PYTHONPATH=str(a.root), JXDSL_CACHE_DIR=cache, PYTHONPYCACHEPREFIX=os.path.join(cache, "pycache"))
        for label, args in COMMANDS.items():
            first, _ = once(a.root, args, env)
            runs = [once(a.root, args, env) for _ in range(a.n)]
            times, cpu = sorted(w for w, _ in runs), sorted(c for _, c in runs)
            heavy = imports(a.root, args, env)
            libs = "、".join(f"{k} {v:.0f} ms" for k, v in sorted(heavy.items(), key=lambda kv: -kv[1])) or "无"
            print(f"{label:22} median {statistics.median(times) * 1000:6.0f} ms wall, {statistics.median(cpu) * 1000:4.0f} ms CPU  "
                  f"(wall min {times[0] * 1000:.0f}, max {times[-1] * 1000:.0f}, n={a.n}; first start {first * 1000:.0f} ms)")
            print(f"{'':22} imports: {libs}")


if __name__ == "__main__":
    main()
