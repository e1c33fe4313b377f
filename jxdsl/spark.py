"""The compiled statements on Spark: the same relations as on DuckDB, computed by a cluster.

The tables are read once, by DuckDB, into the input relations (``tables.py``); they go to Spark as
Parquet, Spark runs the rulebook's statements in its own dialect (generated from the same sqlglot
trees as DuckDB's), and the relations the results are assembled from come back as Parquet.  So the
reading, the checks of every row and the formatting are the same code for every engine, and Spark
does the part that grows with the table.

Spark runs in local mode (``local[2]``) unless ``master=`` or ``JXDSL_SPARK_MASTER`` names a cluster
(``spark://host:7077``, ``yarn``); the exchange directory (``JXDSL_SPARK_DIR``, else a temporary
one) must then be on storage the cluster shares.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from jxdsl.errors import UsageError

DEFAULT_MASTER = "local[2]"
INPUTS = ("projects", "facts", "records", "targets", "problems")
RESULTS = ("jx_proj", "jx_nodes", "jx_errors", "jx_json")
_SESSIONS: dict[str, object] = {}


def spark_session(master: str | None = None):
    """One Spark session per process and master.  ANSI mode is off so that x / 0 is NULL as on
    DuckDB (the kernel guards every division anyway) and DECIMAL(38, 0) keeps exact integers."""
    master = master or os.environ.get("JXDSL_SPARK_MASTER") or DEFAULT_MASTER
    if master in _SESSIONS:
        return _SESSIONS[master]
    try:
        from pyspark.sql import SparkSession
    except ImportError as e:
        raise UsageError("Spark 引擎需要 pyspark", None, "请先安装：pip install 'jxdsl[spark]'") from e
    spark = (
        SparkSession.builder.master(master)
        .appName("jxdsl")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.ansi.enabled", "false")
        .config("spark.sql.constraintPropagation.enabled", "false")  # its cost grows exponentially with CASE columns
        .config("spark.driver.memory", os.environ.get("JXDSL_SPARK_DRIVER_MEMORY", "2g"))
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    # a stage whose generated Java exceeds the JVM's 64 KB method limit is interpreted instead
    # (same results); Spark logs that as an error with a long stack trace
    jvm = spark.sparkContext._jvm
    jvm.org.apache.logging.log4j.core.config.Configurator.setLevel(
        "org.apache.spark.sql.catalyst.expressions.codegen.CodeGenerator", jvm.org.apache.logging.log4j.Level.FATAL
    )
    _SESSIONS[master] = spark
    return spark


def run_spark(run, master: str | None = None) -> None:
    """Score ``run``'s input relations on Spark; the result relations land in ``run.con``."""
    from jxdsl.compile import compile_scheme, sql_statements

    run.compiled = compile_scheme(run.book, "spark")
    statements = sql_statements(run.book, "spark")
    spark = spark_session(master)
    base = os.environ.get("JXDSL_SPARK_DIR")
    exchange = Path(tempfile.mkdtemp(prefix="jxdsl-spark-", dir=base))
    try:
        for name in INPUTS:
            path = exchange / f"{name}.parquet"
            run.con.execute(f"COPY {name} TO '{path}' (FORMAT parquet)")  # noqa: S608 - fixed names
            spark.read.parquet(str(path)).createOrReplaceTempView(name)
        for name, text in statements:
            # each relation is written out and read back: a chain of views would make every
            # statement re-plan the whole lineage (Spark's analyzer overflows its stack on it)
            path = exchange / name
            spark.sql(text).write.mode("overwrite").parquet(str(path))
            spark.read.parquet(str(path)).createOrReplaceTempView(name)
        for name in RESULTS:
            path = exchange / name
            run.con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM read_parquet('{path}/*.parquet')")  # noqa: S608
    finally:
        shutil.rmtree(exchange, ignore_errors=True)
    run.exact = {p for (p,) in run.con.execute("SELECT pid FROM jx_proj WHERE ovf").fetchall()}
