"""Batch scoring benchmark: interpreter, compiled SQL on DuckDB and Spark, and a hand-written query.

    .venv/bin/python benchmarks/batch.py --n 100000
    .venv/bin/python benchmarks/batch.py --n 1000000 --spark-n 20000

A seeded generator writes N synthetic projects (6–12 target rows each plus a budget row: ≥ counts,
≤ money in 万元, percentages, dates, qualitative words with evaluator tiers, about 1% bad rows) to
Parquet in a temporary directory (deleted afterwards).  Each engine scores the table; the
hand-written DuckDB query below (the expert baseline) computes the same row scores, totals and
grades for this generator's rows directly in SQL.  One line per engine: N, seconds, projects/s
and the ratio of seconds to the hand-written query; then peak memory (getrusage).
"""
from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from jxdsl.batch import duckdb_connect, score_table  # noqa: E402
from jxdsl.compile import to_sql  # noqa: E402
from jxdsl.link import Linker  # noqa: E402

RULEBOOK = ROOT / "rulebooks/shanxi/xingxian-2022-self-eval.jx"

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


def peak_mb() -> tuple[float, float]:
    """Peak resident memory of this process and of finished children (the Spark JVM), in MB."""
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return me, kids


def generate(n: int, seed: int, path: Path) -> None:
    con = duckdb.connect()
    q = GENERATOR.replace("$seed", str(int(seed))).replace("$n", str(int(n)))
    con.execute(f"COPY ({q}) TO '{path}' (FORMAT parquet, ROW_GROUP_SIZE 50000)")
    con.close()


def rows_view(con, path: Path) -> None:
    con.execute(
        f"""CREATE VIEW rows AS SELECT CAST(file_row_number + 2 AS BIGINT) AS "行号", "项目", "一级指标", "二级指标", "三级指标", "分值",
        "年度指标值", "实际完成值", "档次", "评价得分", "说明", CAST(NULL AS VARCHAR) AS "年度"
        FROM read_parquet('{path}', file_row_number = true)"""
    )


def timed_query(path: Path, sql: str) -> tuple[float, int]:
    """One query on a connection set up as the duckdb engine sets it up (same memory limit)."""
    con = duckdb_connect()
    rows_view(con, path)
    t = time.perf_counter()
    con.execute(f"CREATE TABLE out AS {sql}")
    seconds = time.perf_counter() - t
    count = con.execute("SELECT COUNT(*) FROM out").fetchone()[0]
    con.close()
    return seconds, count


def check_same(path: Path, compiled_sql: str) -> int:
    """How many projects the hand-written query and the compiled query total differently (0)."""
    con = duckdb_connect()
    rows_view(con, path)
    con.execute(f"CREATE TABLE a AS {compiled_sql}")
    con.execute(f"CREATE TABLE b AS {HAND_WRITTEN}")
    diff = con.execute(
        """SELECT COUNT(*) FROM (SELECT DISTINCT "项目", "总分" * 100000000 AS t, "等级" FROM a) AS x
           FULL JOIN (SELECT DISTINCT proj, total AS t, grade FROM b) AS y ON x."项目" = y.proj
           WHERE x.t IS DISTINCT FROM y.t OR x."等级" IS DISTINCT FROM y.grade"""
    ).fetchone()[0]
    con.close()
    return diff


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=100_000, help="projects for the SQL engines")
    ap.add_argument("--interpreter-n", type=int, default=None, help="projects for the interpreter (default min(N, 2000))")
    ap.add_argument("--spark-n", type=int, default=None, help="projects for Spark (default min(N, 20000); 0 skips Spark)")
    ap.add_argument("--seed", type=int, default=2022)
    ap.add_argument("--json", action="store_true", help="also time building every project's JSON object (duckdb engine)")
    args = ap.parse_args()
    n = args.n
    n_interp = args.interpreter_n if args.interpreter_n is not None else min(n, 2000)
    n_spark = args.spark_n if args.spark_n is not None else min(n, 20_000)
    book = Linker().load(RULEBOOK)
    lines = []

    def line(engine: str, count: int, seconds: float, base: float | None) -> None:
        rate = count / seconds if seconds else float("inf")
        ratio = f"{seconds / base * count_ratio(count):.2f}×" if base else "1.00×"
        me, kids = peak_mb()
        text = f"{engine:<34} N={count:>9,}  {seconds:9.2f} s  {rate:>12,.0f} projects/s  {ratio:>8} hand-written  (peak RSS {me:,.0f} MB, children {kids:,.0f} MB)"
        lines.append(text)
        print(text, flush=True)

    def count_ratio(count: int) -> float:
        return n / count  # per-project time relative to the hand-written query at N

    with tempfile.TemporaryDirectory(prefix="jxdsl-bench-") as tmp:
        big = Path(tmp) / f"projects-{n}.parquet"
        t = time.perf_counter()
        generate(n, args.seed, big)
        print(f"generated {n:,} projects in {time.perf_counter() - t:.1f} s → {big.stat().st_size / 1e6:,.0f} MB Parquet", flush=True)
        compiled = to_sql(book, "duckdb", pretty=False)
        mismatched = check_same(big, compiled) if n <= 200_000 else None
        hand_s, _ = timed_query(big, HAND_WRITTEN)
        line("hand-written DuckDB SQL", n, hand_s, None)
        comp_s, _ = timed_query(big, compiled)
        line("compiled SQL on DuckDB (query)", n, comp_s, hand_s)
        t = time.perf_counter()
        result = score_table(book, big, "duckdb")
        end_to_end = time.perf_counter() - t
        line("duckdb engine (score_table)", n, end_to_end, hand_s)
        if args.json:
            t = time.perf_counter()
            count = sum(1 for _ in result.projects)
            line("duckdb engine + JSON per project", count, end_to_end + time.perf_counter() - t, hand_s)
        del result
        if n_interp:
            small = Path(tmp) / f"projects-{n_interp}.parquet"
            generate(n_interp, args.seed, small)
            t = time.perf_counter()
            r = score_table(book, small, "interpreter")
            line("interpreter", n_interp, time.perf_counter() - t, hand_s)
            del r
        if n_spark:
            try:
                import pyspark  # noqa: F401
            except ImportError:
                print("spark: pyspark not installed (pip install 'jxdsl[spark]')")
            else:
                from jxdsl.batch import spark_session

                small = Path(tmp) / f"projects-{n_spark}.parquet"
                generate(n_spark, args.seed, small)
                t = time.perf_counter()
                spark_session()
                print(f"spark session started in {time.perf_counter() - t:.1f} s (not counted)", flush=True)
                t = time.perf_counter()
                r = score_table(book, small, "spark")
                line("spark engine (local[2])", n_spark, time.perf_counter() - t, hand_s)
                del r
    if mismatched is not None:
        print(f"hand-written vs compiled: {mismatched} projects with a different total or grade")
    me, kids = peak_mb()
    print(f"peak memory: this process {me:,.0f} MB, child processes {kids:,.0f} MB")


if __name__ == "__main__":
    main()
