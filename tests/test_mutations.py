"""A broken SQL branch of any rule kind fails the differential test.

Each rule kind is written once (``kernel/rules.py``) and staged for every engine, so a mistake in
one kind would show in the interpreter too.  This checks the other half: if the SQL side alone
computed a kind differently (here: half the score), the engines' comparison on a generated table
for a rulebook that uses the kind catches it.  A test suite that let this pass could not be trusted
to keep the engines equal.
"""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import attrs
import pytest
from test_engines import ROOT, assert_engines_agree, table_for

from jxdsl import compile as compiled
from jxdsl import ir
from jxdsl.kernel import rules
from jxdsl.kernel.stage import PY
from jxdsl.link import Linker
from jxdsl.lower import lower

KINDS = {
    "proportional": ir.Proportional,
    "target_met": ir.TargetMet,
    "checklist": ir.Checklist,
    "tiers": ir.Tiers,
    "bands": ir.Bands,
    "deduction": ir.Deduction,
    "formula": ir.Formula,
    "judgement": ir.Judgement,
}
# smallest queries first: the first rulebook whose indicators (or target rows) use the kind
CANDIDATES = [ROOT / p for p in (
    "rulebooks/shanxi/xingxian-2022-self-eval.jx", "rulebooks/hubei/caidian-2021.jx", "rulebooks/xinjiang/bazhou-2021.jx",
    "rulebooks/national/project-expenditure.jx", "rulebooks/shandong/qixia-2021.jx", "rulebooks/xinjiang/kashgar-2021.jx",
    "tests/rulebooks/tree-national.jx",
)]
ROW_KINDS = {"proportional", "target_met", "tiers"}  # what 默认规则 scores target-table rows with


def rulebook_using(kind: str) -> Path:
    for path in CANDIDATES:
        scheme = lower(Linker().load(path))
        if (kind in ROW_KINDS and scheme.tables()) or any(isinstance(leaf.rule, KINDS[kind]) for leaf in scheme.leaves()):
            return path
    raise AssertionError(f"no shipped rulebook uses {kind}")


@pytest.fixture
def fresh_compiles():
    """The compiled statements are cached per rulebook; a mutated kernel must compile anew."""
    compiled._CACHE.clear()
    compiled._TEXTS.clear()
    yield
    compiled._CACHE.clear()
    compiled._TEXTS.clear()


@pytest.mark.parametrize("kind", KINDS)
def test_a_broken_sql_branch_of_each_rule_kind_fails(kind, monkeypatch, tmp_path, fresh_compiles):
    real = getattr(rules, kind)

    def broken(b, *args, **kwargs):
        got = real(b, *args, **kwargs)
        if b is PY or got.score is None:
            return got
        return attrs.evolve(got, score=got.score * b.num(Fraction(1, 2)))

    monkeypatch.setattr(rules, kind, broken)
    rulebook = rulebook_using(kind)
    table = table_for(rulebook, 1, tmp_path, n_projects=6, mistakes=0)  # six clean projects use every kind of their rulebook
    with pytest.raises(pytest.fail.Exception, match="first difference"):
        assert_engines_agree(rulebook, table, explain=False)


def test_a_broken_sql_merge_fails(monkeypatch, tmp_path, fresh_compiles):
    """未设置时 并入 (issue 13): if SQL forgot that an unset 满意度 moves its weight to 产出, the
    generated tables (some projects have no 满意度 rows) show it."""
    from jxdsl.kernel import tree

    real = tree.target_table

    def broken(b, node, *args, **kwargs):
        if b is not PY and len(args) >= 8:  # (present, weight_sum, weight_bad, kids, parts, digits, na, moved, …)
            args = (*args[:7], [b.flag(False) for _ in args[7]], *args[8:])
        return real(b, node, *args, **kwargs)

    monkeypatch.setattr(tree, "target_table", broken)
    rulebook = ROOT / "rulebooks/national/self-eval.jx"
    table = table_for(rulebook, 1, tmp_path, n_projects=24, mistakes=0)
    with pytest.raises(pytest.fail.Exception, match="first difference"):
        assert_engines_agree(rulebook, table, explain=False)
