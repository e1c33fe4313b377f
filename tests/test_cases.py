"""Every published seed case reproduces its total, grade and every published indicator score."""
from __future__ import annotations

import csv
import json
from fractions import Fraction
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from jxdsl.cli import main
from jxdsl.evaluate import evaluate
from jxdsl.explain import render_explanation, to_json
from jxdsl.facts import load as load_facts
from jxdsl.link import Linker

ROOT = Path(__file__).resolve().parent.parent
CASES = yaml.safe_load((ROOT / "examples" / "cases.yaml").read_text(encoding="utf-8"))
SINGLE = [c for c in CASES if "facts" in c and not str(c["facts"]).endswith((".csv", ".xlsx"))]


class Book:
    @staticmethod
    def bonus_cap(result):
        """The 加分 row's weight: the cap when there is one, else the items' sum."""
        return result.bonus_cap if result.bonus_cap is not None else sum(i.points for i in result.bonus_items)


def _result(case):
    book = Linker().load(ROOT / case["rulebook"])
    (facts,) = load_facts(ROOT / case["facts"])
    return evaluate(book, facts)


@pytest.mark.parametrize("case", SINGLE, ids=[c["id"] for c in SINGLE])
def test_published_total_and_grade_via_cli(case, monkeypatch):
    monkeypatch.chdir(ROOT)
    run = CliRunner().invoke(main, ["score", case["rulebook"], case["facts"], "--format", "json"])
    assert run.exit_code == 0, run.output
    got = json.loads(run.stdout)
    assert got["total"] == pytest.approx(case["published"]["total"], abs=0.005)
    assert got["grade"] == case["published"]["grade"]


@pytest.mark.parametrize("case", SINGLE, ids=[c["id"] for c in SINGLE])
def test_every_published_indicator_score(case):
    """Each row of published.csv matches, except the report's own recorded discrepancies."""
    result = _result(case)
    assert not result.errors, [e.message for e in result.errors]
    scores = {"/".join(r.path): (r.weight, r.score) for r in result.walk()}
    # bonus and penalty rows of the audit table: 加分 (the capped sum), 加分/<item>, 扣分/<item>
    for kind, items in (("加分", result.bonus_items), ("扣分", result.penalty_items)):
        for i in items:
            scores[f"{kind}/{i.name}"] = (i.points, i.awarded)
    if result.bonus_items:
        scores["加分"] = (Book.bonus_cap(result), result.bonus)
    if result.penalty_items:
        scores["扣分"] = (sum(i.points for i in result.penalty_items), result.penalty)
    known = {d["path"]: d for d in case.get("discrepancies", [])}
    table = ROOT / Path(case["facts"]).parent / "published.csv"
    with table.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert rows, "published.csv is empty"
    for row in rows:
        path = row["路径"]
        if path == "合计":
            assert result.total == Fraction(row["得分"]) or path in known
            continue
        assert path in scores, f"published row {path} is not an indicator of the rulebook"
        weight, score = scores[path]
        if path in known and "weight" in known[path]:
            assert Fraction(row["分值"]) == Fraction(str(known[path]["weight_published"])), "discrepancy note out of date"
            assert weight == Fraction(str(known[path]["weight"])), path
        else:
            assert weight == Fraction(row["分值"]), path
        want = Fraction(str(known[path]["computed"])) if path in known else Fraction(row["得分"])
        assert score == want, f"{path}: computed {score}, expected {want}"
    for path, d in known.items():
        published = next(r for r in rows if r["路径"] == path)
        assert Fraction(published["得分"]) == Fraction(str(d["published"])), "discrepancy note out of date"


@pytest.mark.parametrize("case", SINGLE, ids=[c["id"] for c in SINGLE])
def test_explanation_snapshot(case, snapshot):
    assert render_explanation(_result(case)) == snapshot


@pytest.mark.parametrize("case", SINGLE, ids=[c["id"] for c in SINGLE])
def test_json_snapshot(case, snapshot, monkeypatch):
    monkeypatch.chdir(ROOT)  # file paths in results are relative to the working directory
    book = Linker().load(case["rulebook"])
    (facts,) = load_facts(case["facts"])
    assert to_json(evaluate(book, facts)) == snapshot


def test_parents_equal_sum_of_children_in_every_case():
    for case in SINGLE:
        for r in _result(case).walk():
            if r.children:
                assert r.score == sum(c.score for c in r.children), (case["id"], r.path)


TABLES = [c for c in CASES if str(c["facts"]).endswith((".csv", ".xlsx"))]


@pytest.mark.parametrize("case", TABLES, ids=[c["id"] for c in TABLES])
def test_self_evaluation_table_scores_every_project_in_one_run(case, monkeypatch):
    monkeypatch.chdir(ROOT)
    run = CliRunner().invoke(main, ["score", case["rulebook"], case["facts"], "--format", "jsonl"])
    assert run.exit_code == 0, run.output
    got = {r["project"]: r for r in map(json.loads, run.stdout.splitlines())}
    assert set(got) == set(case["published"])
    for name, want in case["published"].items():
        assert got[name]["total"] == pytest.approx(want["total"], abs=0.005), name
        assert got[name]["grade"] == want["grade"], name


@pytest.mark.parametrize("case", TABLES, ids=[c["id"] for c in TABLES])
def test_self_evaluation_table_from_xlsx_gives_the_same_scores(case, tmp_path):
    """The same table saved as Excel (as units hand it in) scores identically."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    with (ROOT / case["facts"]).open(encoding="utf-8-sig", newline="") as fh:
        for row in csv.reader(fh):
            ws.append(row)
    xlsx = tmp_path / "table.xlsx"
    wb.save(xlsx)
    book = Linker().load(ROOT / case["rulebook"])
    from_csv = {f.project: evaluate(book, f).total for f in load_facts(ROOT / case["facts"])}
    from_xlsx = {f.project: evaluate(book, f).total for f in load_facts(xlsx)}
    assert from_xlsx == from_csv and len(from_csv) == len(case["published"])


def test_table_explanation_snapshot(snapshot):
    case = TABLES[0]
    book = Linker().load(ROOT / case["rulebook"])
    texts = [render_explanation(evaluate(book, f)) for f in load_facts(ROOT / case["facts"])]
    assert "\n\n".join(texts).replace(str(ROOT) + "/", "") == snapshot
