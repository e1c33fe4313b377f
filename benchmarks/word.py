"""Writing the Word 得分表 for many projects: wall time and file size.

    .venv/bin/python benchmarks/word.py            # 1 and 50 projects
    .venv/bin/python benchmarks/word.py --n 1 10 200

Each project is Qixia's result under another name (53 rows, a four-level 得分表, the 综合评定得分表),
scored once; the time is ``report_docx.write_docx`` alone, the median of three runs, in this process.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import attrs

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from jxdsl import report_docx  # noqa: E402
from jxdsl.evaluate import evaluate  # noqa: E402
from jxdsl.facts import load  # noqa: E402
from jxdsl.link import Linker  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[1, 50], help="project counts")
    args = parser.parse_args()
    book = Linker().load(ROOT / "rulebooks/shandong/qixia-2021.jx")
    (facts,) = load(ROOT / "examples/qixia-2021/facts.yaml")
    result = evaluate(book, facts)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "r.docx"
        for n in args.n:
            results = [attrs.evolve(result, project=f"项目{i + 1}") for i in range(n)]
            times = []
            for _ in range(3):
                start = time.perf_counter()
                report_docx.write_docx(results, book, out)
                times.append(time.perf_counter() - start)
            median = statistics.median(times)
            print(f"{n:>5} projects: {median:6.2f} s ({median / n * 1000:.0f} ms per project), {out.stat().st_size / 1024:.0f} KB")


if __name__ == "__main__":
    main()
