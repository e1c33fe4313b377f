"""Batch scoring benchmark: the commands users run, end to end, against a hand-written query.

    .venv/bin/python benchmarks/batch.py --n 100000
    .venv/bin/python benchmarks/batch.py --n 1000000 --interpreter-n 0 --qixia-n 0

A seeded generator writes N synthetic Xing county projects (6–12 target rows each plus a budget
row: ≥ counts, ≤ money in 万元, percentages, dates, qualitative words with evaluator tiers, about
1% bad rows) to Parquet in a temporary directory (deleted afterwards).  Each line is one command,
``jxdsl score RULEBOOK TABLE --format F -o OUT --engine E`` in a child process: the wall time
from start to the output file written (reading the table, compiling, scoring, formatting), and the
child's peak resident memory.  The hand-written DuckDB query below (the expert baseline) computes
the same row scores, totals and grades for this generator's rows; it is timed as a query, and as the
issue's target defines the baseline: writing each project's total, grade and row scores to a JSON
lines file (the ratios are against that).  The Qixia line scores a facts table (one
row per project × fact or evaluator record, ``docs/facts-table.md``) of generated projects.
"""
from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from jxdsl.batch import duckdb_connect  # noqa: E402
from jxdsl.link import Linker  # noqa: E402
from jxdsl.lower import lower  # noqa: E402

RULEBOOK = ROOT / "rulebooks/shanxi/xingxian-2022-self-eval.jx"
QIXIA = ROOT / "rulebooks/shandong/qixia-2021.jx"
JXDSL = [sys.executable, "-c", "from jxdsl.cli import entry; entry()"]  # as the console script runs

# Deterministic pseudo-random numbers: hash(seed, project, row, salt) — the same table on any
# number of threads.
GENERATOR = """
WITH p AS (SELECT range AS pid, 6 + hash($seed, range, 1) % 7 AS k FROM range($n)),
r AS (SELECT pid, k, j.range AS j FROM p, range(0, 13) AS j WHERE j.range <= k),
x AS (
  SELECT pid, k, j,
    hash($seed, pid, j, 2) % 100 AS h, hash($seed, pid, j, 3) % 1000 AS u, hash($seed, pid, j, 4) % 1000 AS v,
    CASE WHEN j = 0 THEN '预算执行率' WHEN j <= k - 2 THEN '产出指标' WHEN j = k - 1 THEN '效益指标' ELSE '满意度指标' END AS first
  FROM r)
SELECT '项目' || CAST(pid AS VARCHAR) AS "项目", first AS "一级指标",
  CASE WHEN j = 0 THEN '' WHEN first = '产出指标' THEN (['数量指标','质量指标','时效指标','成本指标'])[1 + CAST(h % 4 AS INT)]
       WHEN first = '效益指标' THEN '社会效益指标' ELSE '服务对象满意度指标' END AS "二级指标",
  CASE WHEN j = 0 THEN '预算执行率' ELSE '指标' || CAST(j AS VARCHAR) END AS "三级指标",
  CASE WHEN j = 0 THEN '10' WHEN first = '产出指标' AND j < k - 2 THEN '5'
       WHEN first = '产出指标' THEN CAST(50 - 5 * (k - 3) AS VARCHAR) WHEN first = '效益指标' THEN '30' ELSE '10' END AS "分值",
  CASE WHEN j = 0 THEN CAST(100 + u AS VARCHAR) || '.5万元'
       WHEN first = '满意度指标' THEN '≥95%'
       WHEN first = '效益指标' THEN '提高'
       WHEN h < 35 THEN '≥' || CAST(100 + u AS VARCHAR) || '人'
       WHEN h < 55 THEN '≤' || CAST(10 + u AS VARCHAR) || '.25万元'
       WHEN h < 75 THEN '合格'
       WHEN h < 85 THEN '100%'
       ELSE '2022年底' END AS "年度指标值",
  CASE WHEN j = 0 THEN CAST(50 + v AS VARCHAR) || '.25万元'
       WHEN h = 99 THEN '未统计'
       WHEN first = '满意度指标' THEN CAST(85 + v % 16 AS VARCHAR) || '.' || CAST(v % 10 AS VARCHAR) || '%'
       WHEN first = '效益指标' THEN '提高'
       WHEN h < 35 THEN CAST(80 + v AS VARCHAR) || '人'
       WHEN h < 55 THEN CAST(8 + v AS VARCHAR) || '.5万元'
       WHEN h < 75 THEN CASE WHEN v < 800 THEN '合格' ELSE '基本合格' END
       WHEN h < 85 THEN CAST(90 + v % 11 AS VARCHAR) || '%'
       ELSE CASE WHEN v < 900 THEN '2022年11月' ELSE '2023年1月' END END AS "实际完成值",
  CASE WHEN first = '产出指标' AND h >= 55 AND h < 75 AND v >= 800 THEN '部分达成' END AS "档次",
  CASE WHEN first = '产出指标' AND h >= 55 AND h < 75 AND v >= 800 THEN '3.5' END AS "评价得分",
  CAST(NULL AS VARCHAR) AS "说明"
FROM x ORDER BY pid, j
"""

# The expert baseline: the same scores for this generator's rows (兴县 rulebook: ≥ 正向, ≤ 反向,
# = 达标, dates ≤, words 80/50 tiers, budget B/A × 10, two decimals half up, grades 90/80/60),
# written directly in DuckDB SQL with exact HUGEINT arithmetic (scale 10^8).
HAND_WRITTEN = """
WITH t AS (
  SELECT "行号" AS ord, "项目" AS proj, "一级指标" AS first, "三级指标" AS third,
    CAST(CAST("分值" AS DECIMAL(20,8)) * 100000000 AS HUGEINT) AS w,
    "年度指标值" AS tgt, "实际完成值" AS act, "档次" AS tier, "评价得分" AS given,
    regexp_extract("年度指标值", '^(≥|≤|=)?([0-9.]+)?(万元|元|人|%|万人)?$', ['op', 'num', 'unit']) AS tp,
    regexp_extract("实际完成值", '^([0-9.]+)(万元|元|人|%|万人)?$', ['num', 'unit']) AS ap
  FROM rows),
v AS (
  SELECT *,
    CASE WHEN tp.num <> '' THEN CAST(CAST(tp.num AS DECIMAL(30,8)) * CASE tp.unit WHEN '万元' THEN 10000 WHEN '%' THEN 0.01 WHEN '万人' THEN 10000 ELSE 1 END * 100000000 AS HUGEINT) END AS tv,
    CASE WHEN ap.num <> '' THEN CAST(CAST(ap.num AS DECIMAL(30,8)) * CASE ap.unit WHEN '万元' THEN 10000 WHEN '%' THEN 0.01 WHEN '万人' THEN 10000 ELSE 1 END * 100000000 AS HUGEINT) END AS av,
    CASE WHEN tp.unit IN ('万元', '元') THEN '元' WHEN tp.unit = '万人' THEN '人' ELSE tp.unit END AS tdim,
    CASE WHEN ap.unit IN ('万元', '元') THEN '元' WHEN ap.unit = '万人' THEN '人' ELSE ap.unit END AS adim
  FROM t),
s AS (
  SELECT *,
    CASE
      WHEN third = '预算执行率' THEN CASE WHEN av IS NULL OR tv IS NULL OR tv = 0 THEN NULL WHEN av >= tv THEN w
           ELSE LEAST(((2 * w * av * 100 + tv * 100000000) // (2 * tv * 100000000)) * 1000000, w) END
      WHEN tgt LIKE '%年底' THEN CASE WHEN act IN ('2022年11月', '2022年底') THEN w WHEN act LIKE '%年%月' THEN 0 END
      WHEN tp.num = '' THEN  -- words
        CASE WHEN given IS NOT NULL THEN CASE WHEN tier = '部分达成' AND CAST(given AS DECIMAL(20,8)) * 100000000 >= w * 0.5
                  AND CAST(given AS DECIMAL(20,8)) * 100000000 < w * 0.8 THEN CAST(CAST(given AS DECIMAL(20,8)) * 100000000 AS HUGEINT) END
             WHEN tgt = act THEN w END
      WHEN av IS NULL OR tdim IS DISTINCT FROM adim THEN NULL
      WHEN tp.op = '≤' THEN CASE WHEN av <= tv THEN w ELSE LEAST(((2 * w * tv * 100 + av * 100000000) // (2 * av * 100000000)) * 1000000, w) END
      WHEN tp.op = '=' THEN CASE WHEN av = tv THEN w ELSE 0 END
      ELSE CASE WHEN av >= tv THEN w WHEN av <= 0 THEN 0 ELSE LEAST(((2 * w * av * 100 + tv * 100000000) // (2 * tv * 100000000)) * 1000000, w) END
    END AS score
  FROM v),
g AS (
  SELECT proj, first, SUM(w) AS wsum, COUNT(*) - COUNT(score) AS bad, SUM(score) AS ssum FROM s GROUP BY proj, first),
p AS (
  SELECT proj, CASE WHEN MAX(bad) = 0 AND SUM(CASE WHEN first <> '预算执行率' AND wsum <> CASE first WHEN '产出指标' THEN 5000000000
              WHEN '效益指标' THEN 3000000000 ELSE 1000000000 END THEN 1 ELSE 0 END) = 0 AND COUNT(*) = 4 THEN SUM(ssum) END AS total
  FROM g GROUP BY proj)
SELECT s.ord, s.proj, s.score, p.total,
  CASE WHEN p.total >= 9000000000 THEN '优' WHEN p.total >= 8000000000 THEN '良' WHEN p.total >= 6000000000 THEN '中' WHEN p.total IS NOT NULL THEN '差' END AS grade
FROM s JOIN p USING (proj) ORDER BY s.proj, s.ord
"""


def generate(n: int, seed: int, path: Path) -> None:
    con = duckdb.connect()
    q = GENERATOR.replace("$seed", str(int(seed))).replace("$n", str(int(n)))
    con.execute(f"COPY ({q}) TO '{path}' (FORMAT parquet, ROW_GROUP_SIZE 50000)")
    con.close()


def generate_qixia(n: int, seed: int, path: Path) -> None:
    """A facts table of n Qixia projects without mistakes (tests/gen_tables.py)."""
    from gen_tables import FACTS_COLUMNS, facts_rows, write_csv

    scheme = lower(Linker().load(QIXIA))
    write_csv(path, FACTS_COLUMNS, facts_rows(scheme, random.Random(seed), n, "", 0))


def hand_written(path: Path, out: Path | None = None) -> float:
    """The baseline query on a connection set up as the duckdb engine sets it up: into a table, or
    (``out``) written as JSON lines, one per project with its total, grade and row scores, as the
    issue's target defines the baseline (a query that writes the totals and scores to a file)."""
    con = duckdb_connect()
    con.execute(
        f"""CREATE VIEW rows AS SELECT CAST(file_row_number + 2 AS BIGINT) AS "行号", "项目", "一级指标", "二级指标", "三级指标", "分值",
        "年度指标值", "实际完成值", "档次", "评价得分", "说明" FROM read_parquet('{path}', file_row_number = true)"""
    )
    t = time.perf_counter()
    if out is None:
        con.execute(f"CREATE TABLE out AS {HAND_WRITTEN}")
    else:
        per_project = f"""SELECT proj AS project, CAST(ANY_VALUE(total) AS DECIMAL(38,8)) / 100000000 AS total, ANY_VALUE(grade) AS grade,
            LIST(CAST(score AS DECIMAL(38,8)) / 100000000 ORDER BY ord) AS scores FROM ({HAND_WRITTEN}) GROUP BY proj ORDER BY proj"""
        con.execute(f"COPY ({per_project}) TO '{out}' (FORMAT json)")
    seconds = time.perf_counter() - t
    con.close()
    return seconds


def run(args: list[str], out: Path, show_tally: bool = False) -> tuple[float, float, int]:
    """(wall seconds, peak RSS in MB, exit code) of one ``jxdsl`` command writing ``out``, in a child
    process, as the console script runs it."""
    env = {**os.environ, "JXDSL_MAX_ROWS": os.environ.get("JXDSL_MAX_ROWS", "20000000")}  # 1M projects are ~7M rows
    with tempfile.TemporaryFile() as err:  # the bad rows' errors: more than a pipe holds
        t = time.perf_counter()
        child = subprocess.Popen([*JXDSL, *args, "-o", str(out)], stdout=subprocess.DEVNULL, stderr=err, cwd=ROOT, env=env)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - t
        err.seek(0)
        tally = err.read().decode("utf-8", "replace").strip().splitlines()
    if tally and show_tally:
        print("   ", tally[-1], flush=True)
    if not out.exists():
        raise SystemExit(f"jxdsl {args[0]} wrote no {out.name}: {tally[-3:]}")
    return seconds, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)


def command(rulebook: Path, table: Path, fmt: str, engine: str, out: Path) -> tuple[float, float, int]:
    """One ``jxdsl score`` (``run``), its summary line printed."""
    return run(["score", str(rulebook), str(table), "--format", fmt, "--engine", engine], out, show_tally=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=100_000, help="Xing county projects for the duckdb engine")
    ap.add_argument("--interpreter-n", type=int, default=2000, help="projects for the interpreter (0 skips)")
    ap.add_argument("--qixia-n", type=int, default=10_000, help="Qixia projects in a facts table (0 skips)")
    ap.add_argument("--formats", default="jsonl,csv,parquet", help="output formats to time on N projects")
    ap.add_argument("--seed", type=int, default=2022)
    args = ap.parse_args()

    def line(what: str, n: int, seconds: float, rss: float | None = None, base: float | None = None) -> None:
        ratio = f"{seconds / base:5.2f}× hand-written" if base else ""
        memory = f"peak RSS {rss:,.0f} MB" if rss is not None else ""
        print(f"{what:<42} N={n:>9,}  {seconds:8.2f} s  {n / seconds:>10,.0f} projects/s  {ratio:>20}  {memory}", flush=True)

    with tempfile.TemporaryDirectory(prefix="jxdsl-bench-") as tmp:
        tmp = Path(tmp)
        big = tmp / f"xing-{args.n}.parquet"
        t = time.perf_counter()
        generate(args.n, args.seed, big)
        print(f"generated {args.n:,} Xing county projects in {time.perf_counter() - t:.1f} s → {big.stat().st_size / 1e6:,.0f} MB Parquet", flush=True)
        line("hand-written DuckDB query (query only)", args.n, hand_written(big))
        base = hand_written(big, tmp / "hand.jsonl")
        line("hand-written DuckDB query → JSON lines", args.n, base)
        for fmt in [f for f in args.formats.split(",") if f]:
            seconds, rss, code = command(RULEBOOK, big, fmt, "duckdb", tmp / f"out.{fmt}")
            line(f"jxdsl score --format {fmt} (duckdb)", args.n, seconds, rss, base)
            (tmp / f"out.{fmt}").unlink(missing_ok=True)
        if args.interpreter_n:
            small = tmp / f"xing-{args.interpreter_n}.parquet"
            generate(args.interpreter_n, args.seed, small)
            seconds, rss, _ = command(RULEBOOK, small, "jsonl", "interpreter", tmp / "i.jsonl")
            line("jxdsl score --format jsonl (interpreter)", args.interpreter_n, seconds, rss)
        if args.qixia_n:
            facts = tmp / f"qixia-{args.qixia_n}.csv"
            t = time.perf_counter()
            generate_qixia(args.qixia_n, args.seed, facts)
            print(f"generated {args.qixia_n:,} Qixia projects in {time.perf_counter() - t:.1f} s → {facts.stat().st_size / 1e6:,.0f} MB CSV facts table", flush=True)
            seconds, rss, _ = command(QIXIA, facts, "jsonl", "duckdb", tmp / "q.jsonl")
            line("Qixia facts table --format jsonl (duckdb)", args.qixia_n, seconds, rss)


if __name__ == "__main__":
    main()
