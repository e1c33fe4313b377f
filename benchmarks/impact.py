"""Impact benchmark: ``jxdsl diff OLD NEW --on TABLE`` end to end on a generated table.

    .venv/bin/python benchmarks/impact.py --n 3000
    .venv/bin/python benchmarks/impact.py --n 20000 --formats json --interpreter-n 0

The table is benchmarks/batch.py's seeded Xing county generator (N projects, 6–12 target rows each
plus a budget row, about 1% bad rows) written to Parquet in a temporary directory (deleted
afterwards).  OLD is the Xing county rulebook, NEW tests/rulebooks/impact-xingxian.jx (the 优 band
raised, the budget-execution rule replaced, a default rule changed): most projects move.  A second
NEW changes only the 优 band: totals stay, few grades move, and the DuckDB engine assembles full
Results only for those (``impact._sql_pairs``).  Each line is one command in a child process, as
the console script runs it: the wall time from start to the output file written, the child's peak
resident memory and the output's size.  For scale, the same table scored once (``jxdsl score
--format jsonl``): the impact scores it twice.  The interpreter line's JSON is checked against the
DuckDB engine's on the same table.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import json  # noqa: E402

from batch import RULEBOOK, generate, run  # noqa: E402

NEW = ROOT / "tests/rulebooks/impact-xingxian.jx"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=3000, help="projects in the generated table")
    ap.add_argument("--interpreter-n", type=int, default=1000, help="projects for the interpreter line (0: none)")
    ap.add_argument("--formats", default="text,json,xlsx")
    ap.add_argument("--seed", type=int, default=2022)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="jxdsl-impact-") as tmp:
        tmp = Path(tmp)

        def line(what: str, n: int, got: tuple[float, float, int], out: Path) -> None:
            seconds, rss, code = got
            print(f"{what:<44} N={n:>7,}  {seconds:8.2f} s  {n / seconds:8,.0f} projects/s  peak RSS {rss:6,.0f} MB"
                  f"  output {out.stat().st_size / 1e6:7.2f} MB  exit {code}", flush=True)

        sizes = sorted({a.n, *([a.interpreter_n] if a.interpreter_n else [])})
        tables = {}
        for n in sizes:
            tables[n] = tmp / f"xing-{n}.parquet"
            t = time.perf_counter()
            generate(n, a.seed, tables[n])
            print(f"generated {n:,} Xing county projects in {time.perf_counter() - t:.1f} s", flush=True)
        out = tmp / "score.jsonl"
        line("jxdsl score --format jsonl (duckdb)", a.n, run(["score", str(RULEBOOK), str(tables[a.n]), "--format", "jsonl", "--engine", "duckdb"], out), out)
        for fmt in a.formats.split(","):
            out = tmp / f"impact.{'txt' if fmt == 'text' else fmt}"
            got = run(["diff", str(RULEBOOK), str(NEW), "--on", str(tables[a.n]), "--format", fmt, "--engine", "duckdb"], out)
            line(f"jxdsl diff --on --format {fmt} (duckdb)", a.n, got, out)
        band = tmp / "band.jx"
        band.write_text(f"规则集 基准-兴县-优95 继承 {RULEBOOK}\n等级 优 ≥95 良 ≥80 中 ≥60 差\n", encoding="utf-8")
        out = tmp / "band.json"
        got = run(["diff", str(RULEBOOK), str(band), "--on", str(tables[a.n]), "--format", "json", "--engine", "duckdb"], out)
        line("  only the 优 band: --format json (duckdb)", a.n, got, out)
        print(f"    {json.loads(out.read_text(encoding='utf-8'))['changed']:,} projects changed", flush=True)
        if a.interpreter_n:
            n = a.interpreter_n
            outs = {e: tmp / f"impact-{e}.json" for e in ("interpreter", "duckdb")}
            for engine, out in outs.items():
                got = run(["diff", str(RULEBOOK), str(NEW), "--on", str(tables[n]), "--format", "json", "--engine", engine], out)
                line(f"jxdsl diff --on --format json ({engine})", n, got, out)
            same = [{k: v for k, v in json.loads(o.read_text(encoding="utf-8")).items() if k != "engine"} for o in outs.values()]
            print(f"    interpreter and duckdb JSON {'identical' if same[0] == same[1] else 'DIFFER'}", flush=True)


if __name__ == "__main__":
    main()
