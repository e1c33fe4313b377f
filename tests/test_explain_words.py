"""Explanations in an evaluator's words (issue 13): each sentence pattern from new inputs of its
class, in every engine that reads the input (a facts file: the interpreter; a facts table: the
interpreter and DuckDB, which must agree byte for byte)."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from jxdsl.cli import main

RULEBOOK = """\
规则集 测试-说明用语
年度 2023
等级 优 ≥90 良 ≥80 中 ≥60 差
小数 {digits}

事实
  到位资金 金额
  计划资金 金额
  节约率 百分比
  违规占比 百分比
  设备完好率 百分比
  培训人数 数量

资金到位比 = 到位资金 / 计划资金

过程 权重 40
  资金到位 权重 10 正向 满分=100% 取 资金到位比
  节约 权重 10 分段 ≥5%:10 ≥1%:6 ≥0%:2 否则:0 取 节约率
  规范 权重 10 扣分 每处0.5 扣完为止
    若 违规占比 ≥15% 则 0
  管理 权重 10 档次 好=10 较好=7 差=0
产出 权重 60
  设备完好率 权重 30 正向 满分=95%
  培训人数 权重 30 达标 ≥40人

加分 上限 6
  创新 加 6
扣分
  挪用 扣 8
"""

FACTS = {
    "到位资金": "48.31万元",
    "计划资金": "52.9万元",
    "节约率": "3.27%",
    "违规占比": "4%",
    "设备完好率": "97%",
    "培训人数": "43人",
}
RECORDS = {
    "规范": {"发现": ["台账缺页"], "说明": "抽查发现台账缺页一处"},
    "管理": {"档次": "较好", "说明": "制度执行偶有疏漏，扣3分。", "备注": "内部：复核时再看一次凭证"},
    "创新": {"得分": 6, "说明": "探索以工代赈新模式"},
    "挪用": {"发生": "否", "说明": "未发现挪用"},
}


def _write(tmp_path: Path, digits: str = "2 位 四舍五入", records=None) -> tuple[Path, Path]:
    book = tmp_path / "book.jx"
    book.write_text(RULEBOOK.format(digits=digits), encoding="utf-8")
    import yaml

    facts = tmp_path / "facts.yaml"
    facts.write_text(yaml.safe_dump({"项目": "测试项目", "年度": 2023, "事实": FACTS, "评价": records or RECORDS}, allow_unicode=True), encoding="utf-8")
    return book, facts


def _table(tmp_path: Path, records=None) -> Path:
    """The same project as a facts table (one row per fact or record)."""
    path = tmp_path / "facts.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["项目", "年度", "名称", "值", "档次", "得分", "说明", "发现", "发生", "备注"])
        for name, value in FACTS.items():
            w.writerow(["测试项目", 2023, name, value, "", "", "", "", "", ""])
        for name, r in (records or RECORDS).items():
            w.writerow(["测试项目", 2023, name, "", r.get("档次", ""), r.get("得分", ""), r.get("说明", ""), "；".join(r.get("发现", [])), r.get("发生", ""), r.get("备注", "")])
    return path


def _run(*args) -> tuple[int, str]:
    """Exit code and stdout (errors included when the run failed)."""
    got = CliRunner().invoke(main, [str(a) for a in args])
    assert "Traceback" not in got.output
    return got.exit_code, got.stdout if got.exit_code == 0 else got.output


def _lines(text: str) -> dict[str, str]:
    """Indicator name → its explanation line."""
    out = {}
    for line in text.splitlines():
        head, sep, _ = line.strip().partition("：")
        if sep:
            out.setdefault(head, line.strip())
    return out


@pytest.fixture
def explained(tmp_path):
    book, facts = _write(tmp_path)
    code, text = _run("explain", book, facts)
    assert code == 0, text
    return text


def test_full_score_names_the_value_and_says_target_reached(explained):
    line = _lines(explained)["设备完好率"]
    assert "设备完好率97%，达到目标值95%，得满分30分" in line
    assert "满分值" not in line and "得满分 30" not in line


def test_band_is_named_by_its_bounds(explained):
    line = _lines(explained)["节约"]
    assert "节约率3.27%，在1%～5%档，得6分" in line
    assert "取值" not in line


def test_veto_not_triggered_says_what_it_would_have_done(explained):
    line = _lines(explained)["规范"]
    assert "违规占比4%，未达15%，不触发“不得分”条款" in line
    assert "否决条件" not in line


def test_deduction_said_once_when_the_evaluators_note_says_it(explained):
    line = _lines(explained)["管理"]
    assert line.count("扣3分") == 1 and "评价为“较好”" in line and "得7分" not in line


def test_deduction_said_once_when_the_rule_sentence_says_it(explained):
    line = _lines(explained)["规范"]
    assert line.count("扣0.5分") == 2  # 每处扣0.5分 … 扣0.5分: the rule, then the points lost, once
    assert "，扣0.5分；" in line or line.endswith("，扣0.5分") or "，扣0.5分；说明" in line


def test_points_lost_are_stated_when_nobody_said_them(tmp_path):
    records = dict(RECORDS, 管理={"档次": "较好", "说明": "制度执行偶有疏漏"})
    book, facts = _write(tmp_path, records=records)
    line = _lines(_run("explain", book, facts)[1])["管理"]
    assert "评价为“较好”，扣3分；说明：制度执行偶有疏漏" in line


def test_proportional_shows_the_rounding_that_changes_the_score(explained):
    line = _lines(explained)["资金到位"]
    # 10 × 48.31 ÷ 52.9 = 9.1323…: the raw score, then the rounding, in one sentence
    assert "= 9.1323分，按四舍五入保留2位小数为9.13分" in line


def test_amounts_keep_their_written_decimals_when_scores_have_none(tmp_path):
    book, facts = _write(tmp_path, digits="0 位 四舍五入")
    line = _lines(_run("explain", book, facts)[1])["资金到位"]
    assert "48.31万元 ÷ 52.9万元" in line
    assert "按四舍五入取整为9分" in line


def test_bonus_total_is_a_sum_never_a_share(explained):
    head = explained.splitlines()[0]
    assert "基础分 " in head and "+ 加分 6 − 扣分 0 = " in head
    assert " / 100" not in head and "%" not in head


def test_items_in_words(explained):
    lines = _lines(explained)
    assert lines["扣分项 挪用"].startswith("扣分项 挪用：未发生，不扣分")
    assert lines["加分项 创新"].startswith("加分项 创新：加6分")


def test_working_notes_are_never_printed(tmp_path, explained):
    assert "内部：复核" not in explained
    book, facts = _write(tmp_path)
    code, out = _run("score", book, facts, "--format", "json")
    assert code == 0 and "内部：复核" not in out


def test_no_full_notes_leaves_full_rows_blank_and_keeps_deductions(tmp_path):
    book, facts = _write(tmp_path)
    code, text = _run("explain", book, facts, "--no-full-notes")
    assert code == 0, text
    lines = _lines(text)
    assert lines["设备完好率"] == "设备完好率：30 / 30"
    assert "说明：制度执行偶有疏漏，扣3分。" in lines["管理"]
    code, md = _run("score", book, facts, "--format", "md", "--no-full-notes")
    assert code == 0 and "探索以工代赈新模式" in md  # items keep their notes
    code, md_all = _run("score", book, facts, "--format", "md")
    assert md != md_all


def test_no_full_notes_is_refused_for_data_formats(tmp_path):
    book, facts = _write(tmp_path)
    code, out = _run("score", book, facts, "--format", "json", "--no-full-notes")
    assert code == 2 and "用法错误" in out and "--no-full-notes" in out


def test_table_engines_word_alike_and_read_past_working_notes(tmp_path):
    book, _ = _write(tmp_path)
    table = _table(tmp_path)
    texts = {}
    for engine in ("interpreter", "duckdb"):
        code, texts[engine] = _run("explain", book, table, "--engine", engine)
        assert code == 0, texts[engine]
    assert texts["interpreter"] == texts["duckdb"]
    text = texts["duckdb"]
    assert "内部：复核" not in text
    assert "节约率3.27%，在1%～5%档，得6分" in text
    assert "违规占比4%，未达15%，不触发“不得分”条款" in text
    assert _lines(text)["管理"].count("扣3分") == 1
    code, out = _run("score", book, table, "--engine", "duckdb", "--format", "jsonl")
    assert code == 0 and json.loads(out.splitlines()[0])["total"] is not None


def test_yaml_target_table_row_accepts_a_working_note(tmp_path):
    import yaml

    root = Path(__file__).resolve().parent.parent
    book = root / "rulebooks/shanxi/xingxian-2022-self-eval.jx"
    data = yaml.safe_load((root / "examples/xingxian-2022-yulu/facts.yaml").read_text(encoding="utf-8"))
    data["目标表"][0]["备注"] = "内部：待复核"
    facts = tmp_path / "facts.yaml"
    facts.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    code, text = _run("explain", book, facts)
    assert code == 0, text
    assert "内部：待复核" not in text


@pytest.mark.parametrize("saving, said", [("7%", "节约率7%，在“≥5%”档，得10分"), ("-0.5%", "节约率-0.5%，不在前列各档，按“否则”不得分")])
def test_first_band_and_otherwise_in_words(tmp_path, monkeypatch, saving, said):
    monkeypatch.setitem(FACTS, "节约率", saving)
    book, facts = _write(tmp_path)
    assert said in _lines(_run("explain", book, facts)[1])["节约"]


def test_veto_that_holds_names_its_clause(tmp_path, monkeypatch):
    monkeypatch.setitem(FACTS, "违规占比", "18%")
    book, facts = _write(tmp_path)
    line = _lines(_run("explain", book, facts)[1])["规范"]
    assert line.startswith("规范：0 / 10［否决］") and "违规占比18%，达到15%，按“不得分”条款该指标不得分" in line
