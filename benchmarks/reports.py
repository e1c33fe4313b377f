"""Report writing for many projects: the commands users run, end to end.

    .venv/bin/python benchmarks/reports.py --n 6000

Writes N synthetic Xing county projects (the generator of ``benchmarks/batch.py``: 6–12 target rows
and a budget row each, about 1% bad rows) to Parquet in a temporary directory (deleted afterwards),
then times ``jxdsl score RULEBOOK TABLE --format F -o OUT`` for the summary workbook (xlsx) and the
summary-first page (html) in a child process: wall time from start to the file written (reading,
scoring and writing), the child's peak resident memory, the output's size and, for the workbook,
its number of sheets and rows of 明细.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from batch import RULEBOOK, command, generate  # noqa: E402


def sheets(path: Path) -> int:
    with zipfile.ZipFile(path) as z:
        return sum(1 for n in z.namelist() if n.startswith("xl/worksheets/sheet"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=6000, help="projects")
    ap.add_argument("--formats", default="xlsx,html")
    ap.add_argument("--engine", default="duckdb", help="the scoring engine (the default for tables: duckdb)")
    ap.add_argument("--seed", type=int, default=2022)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="jxdsl-reports-") as tmp:
        tmp = Path(tmp)
        table = tmp / f"xing-{args.n}.parquet"
        t = time.perf_counter()
        generate(args.n, args.seed, table)
        print(f"generated {args.n:,} Xing county projects in {time.perf_counter() - t:.1f} s", flush=True)
        for fmt in [f for f in args.formats.split(",") if f]:
            out = tmp / f"out.{fmt}"
            seconds, rss, code = command(RULEBOOK, table, fmt, args.engine, out)
            size = out.stat().st_size
            extra = f"  {sheets(out)} sheets" if fmt == "xlsx" else ""
            print(f"jxdsl score --format {fmt:<5} ({args.engine})  N={args.n:>7,}  {seconds:8.2f} s  peak RSS {rss:,.0f} MB  "
                  f"{size / 1e6:8.2f} MB{extra}  exit {code}", flush=True)
            out.unlink()


if __name__ == "__main__":
    main()
