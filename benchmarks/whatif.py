"""What-if solving time (``jxdsl.whatif.solve``, the workbench's /api/solve): every numeric fact of
the published single-project examples, the goal 95 points, in one process after the imports.

    .venv/bin/python benchmarks/whatif.py

Each line: the seconds of one solve (symbolic run, exact solving, and the verifying rescore), the
example, the fact and the answer's first words; the summary gives the median and the slowest.
"""
from __future__ import annotations

import statistics
import time
from fractions import Fraction
from pathlib import Path

import yaml

from jxdsl.errors import JxError
from jxdsl.facts import load
from jxdsl.inputs import from_facts
from jxdsl.link import Linker
from jxdsl.whatif import Goal, sentence, solve

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    cases = yaml.safe_load((ROOT / "examples" / "cases.yaml").read_text(encoding="utf-8"))
    times = []
    for case in cases:
        if str(case["facts"]).endswith((".csv", ".xlsx")):
            continue
        book = Linker().load(ROOT / case["rulebook"])
        for facts in load(ROOT / case["facts"]):
            inputs = from_facts(facts)
            for name in inputs.facts:
                start = time.perf_counter()
                try:
                    said = sentence(solve(book, inputs, name, Goal("total", points=Fraction(95))))
                except JxError as e:
                    said = str(e).splitlines()[0]
                times.append(time.perf_counter() - start)
                print(f"{times[-1]:6.3f} s  {case['id']}  {name}: {said[:60]}")
    print(f"{len(times)} solves: median {statistics.median(times):.3f} s, slowest {max(times):.3f} s")


if __name__ == "__main__":
    main()
