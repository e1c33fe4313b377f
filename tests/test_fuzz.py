"""Fuzzing: mutated rulebooks, facts, tables and formulas never crash the engine.

A crash is any exception other than the project's own error types. The CI budget is fixed
(JXDSL_FUZZ_EXAMPLES, default 100 inputs per target); docs/fuzzing.md describes the longer run.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from fractions import Fraction
from pathlib import Path

import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jxdsl.cli import main
from jxdsl.errors import JxError
from jxdsl.evaluate import evaluate
from jxdsl.facts import Facts, TargetRow
from jxdsl.facts import load as load_facts
from jxdsl.link import Linker
from jxdsl.parse import parse

ROOT = Path(__file__).resolve().parent.parent
BUDGET = int(os.environ.get("JXDSL_FUZZ_EXAMPLES", "100"))
# CI tries a fixed, reproducible set of inputs; JXDSL_FUZZ_RANDOM=1 explores new ones (the long run)
FUZZ = settings(
    max_examples=BUDGET, deadline=None, suppress_health_check=list(HealthCheck), derandomize=not os.environ.get("JXDSL_FUZZ_RANDOM")
)
RULEBOOKS = sorted((ROOT / "rulebooks").rglob("*.jx"))
CASES = yaml.safe_load((ROOT / "examples" / "cases.yaml").read_text(encoding="utf-8"))
SINGLE = [c for c in CASES if not str(c["facts"]).endswith((".csv", ".xlsx"))]

# characters that matter to the language, plus some that never should
ALPHABET = list("权重正向反向满分达标清单档次分段扣每处得若则问卷加上限调整替换删除新增=＝:：(（)）[]［］,，%％≥≤<>+-×÷*/ \t\u3000\n#0123456789.万元人年月底\"'\\{}$`") + ["__import__('os')", "最小(", "0/0", "1e309"]
TEMP = Path(tempfile.mkdtemp(prefix="jxdsl-fuzz-"))
shutil.copytree(ROOT / "rulebooks", TEMP / "rulebooks")


def mutate(text: str, data) -> str:
    """Insert, delete, replace or duplicate characters and lines, or re-indent a line."""
    for _ in range(data.draw(st.integers(1, 6))):
        op = data.draw(st.sampled_from(["insert", "delete", "replace", "dup_line", "drop_line", "indent", "truncate"]))
        if not text:
            text = data.draw(st.sampled_from(ALPHABET))
            continue
        i = data.draw(st.integers(0, len(text) - 1))
        lines = text.split("\n")
        k = data.draw(st.integers(0, len(lines) - 1))
        if op == "insert":
            text = text[:i] + data.draw(st.sampled_from(ALPHABET)) + text[i:]
        elif op == "delete":
            text = text[:i] + text[i + data.draw(st.integers(1, 8)) :]
        elif op == "replace":
            text = text[:i] + data.draw(st.sampled_from(ALPHABET)) + text[i + 1 :]
        elif op == "dup_line":
            text = "\n".join(lines[: k + 1] + [lines[k]] + lines[k + 1 :])
        elif op == "drop_line":
            text = "\n".join(lines[:k] + lines[k + 1 :])
        elif op == "indent":
            lines[k] = data.draw(st.sampled_from(["", " ", "  ", "\t", "\u3000", "      "])) + lines[k].lstrip()
            text = "\n".join(lines)
        else:
            text = text[:i]
    return text


@FUZZ
@given(st.sampled_from(RULEBOOKS), st.data())
def test_mutated_rulebooks_link_or_report(path, data):
    rel = path.relative_to(ROOT)
    text = mutate(path.read_text(encoding="utf-8"), data)
    target = TEMP / rel.parent / f"fuzz-{rel.name}"
    target.write_text(text, encoding="utf-8")
    try:
        book = Linker().load(target)
    except JxError as e:
        assert str(e)  # every error renders (location, caret, message) without failing
        return
    assert book.max >= 0


def _junk():
    scalars = st.one_of(
        st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=12), st.sampled_from(["95.3%", "-1万元", "0", "0%", "1e5", "2021年13月", "2022年底", "≥98%", "全部", "是", "否", "合格"]),
    )
    return st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=4)), max_leaves=8)


@FUZZ
@given(st.sampled_from(SINGLE), st.data())
def test_mutated_facts_score_or_report(case, data):
    book = Linker().load(ROOT / case["rulebook"])
    (facts,) = load_facts(ROOT / case["facts"])
    values, records, rows = dict(facts.values), dict(facts.evaluations), list(facts.targets)
    for _ in range(data.draw(st.integers(1, 5))):
        where = data.draw(st.sampled_from(["value", "record", "row", "drop"]))
        if where == "value" and values:
            values[data.draw(st.sampled_from(sorted(values)))] = data.draw(_junk())
        elif where == "record" and records:
            key = data.draw(st.sampled_from(sorted(records)))
            records[key] = data.draw(_junk()) if data.draw(st.booleans()) else {data.draw(st.sampled_from(["档次", "得分", "发现", "满足", "未满足", "问卷", "不适用", "发生", "次数"])): data.draw(_junk())}
        elif where == "row" and rows:
            k = data.draw(st.integers(0, len(rows) - 1))
            field = data.draw(st.sampled_from(["weight", "target", "actual", "score", "tier"]))
            rows[k] = TargetRow(**{**{f: getattr(rows[k], f) for f in ("first", "second", "third", "weight", "target", "actual", "tier", "score", "note")}, field: data.draw(_junk())})
        elif values:
            values.pop(data.draw(st.sampled_from(sorted(values))))
    result = evaluate(book, Facts(facts.project, values, records, tuple(rows), facts.source))
    for r in result.walk():
        assert r.score is None or 0 <= r.score <= r.weight, r.path
    if result.total is not None:
        assert result.total >= 0


@FUZZ
@given(st.lists(st.sampled_from(["甲", "乙", "100%", "3万元", "0", "-", "+", "×", "÷", "(", ")", "最小(", ",", "2021年12月", "5人", "≥"]), min_size=1, max_size=14), st.data())
def test_random_formulas_evaluate_or_report(tokens, data):
    text = "规则集 公式\n事实\n  甲 数值\n  乙 数值\n值 = " + " ".join(tokens) + "\n值 权重 10 正向 满分=100%\n"
    path = TEMP / "formula.jx"
    path.write_text(text, encoding="utf-8")
    try:
        book = Linker().load(path)
    except JxError:
        return
    env = {"甲": data.draw(st.sampled_from(["0", "1", "50%", "2万元", "-3"])), "乙": data.draw(st.sampled_from(["0", "2", "100%", "5人"]))}
    result = evaluate(book, Facts("项目", env))
    (r,) = result.indicators
    assert r.score is None or 0 <= r.score <= 10


@FUZZ
@given(st.lists(st.lists(st.one_of(st.text(max_size=8), st.sampled_from(["产出指标", "≥98%", "100%", "5", "预算执行率", "10万元", "提高"])), min_size=0, max_size=11), max_size=6))
def test_random_tables_score_or_report(rows):
    path = TEMP / "table.csv"
    header = "项目,一级指标,二级指标,三级指标,分值,年度指标值,实际完成值,档次,评价得分,说明"
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf)
    for r in rows:
        w.writerow(r)
    path.write_text(header + "\n" + buf.getvalue(), encoding="utf-8")
    run = CliRunner().invoke(main, ["score", str(ROOT / "rulebooks/shanxi/xingxian-2022-self-eval.jx"), str(path), "--format", "jsonl"])
    assert run.exit_code in (0, 1, 2), run.output
    assert run.exception is None or isinstance(run.exception, SystemExit), repr(run.exception)


@FUZZ
@given(st.lists(st.sampled_from(ALPHABET), max_size=60).map("".join))
def test_arbitrary_text_parses_or_reports(text):
    try:
        parse("规则集 任意\n" + text, "any.jx")
    except JxError as e:
        assert e.span is None or e.span.line >= 1


def test_fuzz_targets_cover_every_rulebook_and_case():
    assert len(RULEBOOKS) >= 8 and len(SINGLE) >= 10
    assert Fraction(BUDGET) > 0


# ---- issue 12, language: derived-value graphs, bands and bare numbers --------------------------
_BOUNDS = ["0", "1", "20", "5%", "20%", "-3%", "3万元", "24人", "2021年12月"]


@FUZZ
@given(
    st.lists(st.tuples(st.integers(0, 30), st.sampled_from(["+", "-", "×", "÷"]), st.integers(0, 30)), min_size=1, max_size=30),
    st.lists(st.tuples(st.sampled_from(["≥", "≤", ">", "<", "="]), st.sampled_from(_BOUNDS)), min_size=1, max_size=5),
    st.booleans(),
    st.data(),
)
def test_random_derived_graphs_and_bands_link_or_report(edges, bands, otherwise, data):
    """Derived values on one another in any order (cycles, shared inputs, missing ones), then bands
    and 若 conditions with any bounds: a located error or a score in every engine's kernel, fast."""
    names = [f"量{i}项" for i in range(len(edges))]
    pick = lambda k: names[k] if k < len(names) else ("底数" if k % 2 else "缺失")  # noqa: E731
    lines = [f"{names[i]} = {pick(a)} {op} {pick(b)}" for i, (a, op, b) in enumerate(edges)]
    rule = " ".join(f"{op}{bound}:1" for op, bound in bands) + (" 否则:0" if otherwise else "")
    text = "规则集 图\n事实\n  底数 数值\n  占比 百分比\n" + "\n".join(lines) + f"\n{names[-1]} 权重 1 分段 {rule}\n"
    text += f"乙 权重 1 扣分 每处1 扣完为止\n  若 占比 {bands[0][0]}{bands[0][1]} 则 0\n"
    path = TEMP / "graph.jx"
    path.write_text(text, encoding="utf-8")
    try:
        book = Linker().load(path)
    except JxError as e:
        assert e.span is None or e.span.line >= 1
        return
    env = {"底数": data.draw(st.sampled_from(["0", "2", "7", "50%", "3万元"])), "占比": data.draw(st.sampled_from(["25%", "0%"]))}
    result = evaluate(book, Facts("项目", env, {"乙": {"发现": []}}))
    assert all(r.score is None or 0 <= r.score <= r.weight for r in result.indicators)
