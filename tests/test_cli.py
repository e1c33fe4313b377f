"""The ``jxdsl`` command through click's CliRunner."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from jxdsl.cli import main

BOOK = """规则集 命令行测试
版本 "2024.1"
年度 2024
等级 优 ≥90 良 ≥80 中 ≥60 差
预算执行率 权重 10 正向 满分=100%
决策 权重 5
  立项 权重 5 酌情
"""
FACTS = """项目: 项目一
事实:
  预算执行率: 95.3%
评价:
  立项: {得分: 4, 说明: 依据不足}
"""
SELF_EVAL = """规则集 单位自评-命令行
事实
  全年预算数 金额
  全年执行数 金额
预算执行率 = 全年执行数 / 全年预算数
预算执行率 权重 10 正向 满分=100%
产出指标 权重 50 来自目标表
效益指标 权重 30 来自目标表
满意度指标 权重 10 来自目标表
默认规则
  定量 ≥ : 正向
  定量 ≤ : 反向
  定量 = : 达标
  定性 : 三档 达成[80%,100%] 部分达成[60%,80%) 未达成[0,60%)
"""
TABLE = """项目,一级指标,二级指标,三级指标,分值,年度指标值,实际完成值,档次,评价得分,说明
甲项目,预算执行率,,预算执行率,10,150万元,142.95万元,,,
甲项目,产出指标,数量指标,套数,50,≥2套,2套,,,
甲项目,效益指标,社会效益指标,收入,30,提高,提高,,,
甲项目,满意度指标,满意度,满意度,10,≥95%,90%,,,
乙项目,预算执行率,,预算执行率,10,100万元,50万元,,,
乙项目,产出指标,数量指标,套数,50,≥2套,1套,,,
乙项目,效益指标,社会效益指标,收入,30,提高,提高,,,
乙项目,满意度指标,满意度,满意度,10,≥95%,95%,,,
丙项目,预算执行率,,预算执行率,10,100万元,100万元,,,
丙项目,产出指标,数量指标,套数,50,≥2套,2套,,,
丙项目,效益指标,社会效益指标,收入,30,提高,提高,,,
丙项目,满意度指标,满意度,满意度,10,≥95%,99%,,,
"""


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def files(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "book.jx").write_text(BOOK, encoding="utf-8")
    (tmp_path / "facts.yaml").write_text(FACTS, encoding="utf-8")
    (tmp_path / "self.jx").write_text(SELF_EVAL, encoding="utf-8")
    (tmp_path / "table.csv").write_text(TABLE, encoding="utf-8")
    return tmp_path


# ---- check ---------------------------------------------------------------------------------------
def test_check_valid_prints_tree(runner, files):
    run = runner.invoke(main, ["check", "book.jx"])
    assert run.exit_code == 0, run.output
    lines = run.stdout.splitlines()
    assert lines[0].startswith("规则集 命令行测试：3 个指标，满分 15")
    assert "2024" in lines[0]
    assert re.search(r"^  预算执行率  权重 10  正向 满分=100%$", run.stdout, re.M)
    assert re.search(r"^  决策  权重 5$", run.stdout, re.M)
    assert re.search(r"^    立项  权重 5  酌情$", run.stdout, re.M)
    # a maximum of 15 is legal but easily a slip: a note (not an error) naming the declaration
    assert run.stderr.startswith("book.jx:1:1: 注意：一级指标权重之和为 15，不是 100") and "满分 15" in run.stderr


def test_check_syntax_error(runner, files):
    (files / "bad.jx").write_text("规则集 坏\n预算执行率 权里 10 正向 满分=100%\n", encoding="utf-8")
    run = runner.invoke(main, ["check", "bad.jx"])
    assert run.exit_code == 1
    out = run.output
    assert "bad.jx:2:7:" in out
    assert "语法错误" in out and "权里" in out
    assert "  2 | 预算执行率 权里 10 正向 满分=100%" in out
    assert re.search(r"^\s+\^$", out, re.M)
    assert "是否应为“权重”" in out
    assert "Traceback" not in out
    assert run.exception is None or isinstance(run.exception, SystemExit)


def test_check_link_errors_all_listed(runner, files):
    (files / "bad.jx").write_text("规则集 坏\n决策 权重 5\n  甲 权重 4 酌情\n过程 权重 5\n  乙 权重 6 酌情\n", encoding="utf-8")
    run = runner.invoke(main, ["check", "bad.jx"])
    assert run.exit_code == 1
    assert "bad.jx:2:" in run.output and "bad.jx:4:" in run.output
    assert run.output.count("^") == 2
    assert "规则错误" in run.output and "下级指标权重之和" in run.output
    assert "Traceback" not in run.output


def test_check_several_files_one_bad(runner, files):
    (files / "bad.jx").write_text("规则集 坏\n甲 权重 1\n", encoding="utf-8")
    run = runner.invoke(main, ["check", "book.jx", "bad.jx"])
    assert run.exit_code == 1
    assert "规则集 命令行测试" in run.stdout
    assert "bad.jx:2:1" in run.stderr


def test_check_missing_file_no_traceback(runner, files):
    run = runner.invoke(main, ["check", "nope.jx"])
    assert run.exit_code != 0
    assert "找不到规则集文件“nope.jx”" in run.output
    assert "Traceback" not in run.output


def test_check_missing_file_is_usage_error(runner, files):
    run = runner.invoke(main, ["check", "nope.jx"])
    assert run.exit_code == 2


# ---- score ---------------------------------------------------------------------------------------
def test_score_json_shape(runner, files):
    run = runner.invoke(main, ["score", "book.jx", "facts.yaml", "--format", "json"])
    assert run.exit_code == 0, run.output
    data = json.loads(run.stdout)
    for key in ("rulebook", "project", "max", "total", "grade", "bonus", "penalty", "indicators"):
        assert key in data
    assert data["rulebook"] == "命令行测试"
    assert data["project"] == "项目一"
    assert data["max"] == 15
    assert data["total"] == 13.53
    assert data["grade"] == "差"
    assert data["bonus"] == 0 and data["penalty"] == 0
    assert data["rulebook_version"] == "2024.1"
    assert [i["path"] for i in data["indicators"]] == [["预算执行率"], ["决策"], ["决策", "立项"]]
    for ind in data["indicators"]:
        for key in ("path", "weight", "score", "deduction", "status", "explanation"):
            assert key in ind, (key, ind)
    first, parent, leaf = data["indicators"]
    assert (first["weight"], first["score"], first["deduction"], first["status"]) == (10, 9.53, 0.47, "scored")
    assert "95.3%" in first["explanation"] and "9.53" in first["explanation"]
    assert (parent["weight"], parent["score"], parent["deduction"]) == (5, 4, 1)
    assert leaf["explanation"].endswith("说明：依据不足")
    assert leaf["source"].endswith("book.jx:7:3")


def test_score_text_output(runner, files):
    run = runner.invoke(main, ["score", "book.jx", "facts.yaml"])
    assert run.exit_code == 0
    assert run.stdout.splitlines()[0] == "项目一：总分 13.53 / 15，等级 差"


def test_score_output_file(runner, files):
    run = runner.invoke(main, ["score", "book.jx", "facts.yaml", "--format", "json", "-o", "out.json"])
    assert run.exit_code == 0
    assert json.loads((files / "out.json").read_text(encoding="utf-8"))["total"] == 13.53


def test_score_jsonl_on_table_gives_one_line_per_project(runner, files):
    run = runner.invoke(main, ["score", "self.jx", "table.csv", "--format", "jsonl"])
    assert run.exit_code == 0, run.output
    lines = run.stdout.strip().splitlines()
    assert len(lines) == 3
    rows = [json.loads(line) for line in lines]
    assert [r["project"] for r in rows] == ["甲项目", "乙项目", "丙项目"]
    # 甲: 9.53 + 50 + 30 + 10 × 90/95 (9.47) = 99; 乙: 5 + 25 + 30 + 10 = 70; 丙: 100
    assert [r["total"] for r in rows] == [99, 70, 100]
    assert [r["grade"] for r in rows] == ["优", "中", "优"]
    paths = [i["path"] for i in rows[1]["indicators"]]
    assert ["产出指标", "数量指标", "套数"] in paths
    assert rows[1]["indicators"][paths.index(["产出指标", "数量指标", "套数"])]["score"] == 25


def test_tables_default_to_duckdb_and_every_engine_writes_the_same_bytes(runner, files):
    """A table goes to the duckdb engine, a single facts file to the interpreter; whichever
    engine runs, stdout is byte for byte the same and the tally on stderr names the engine."""
    batch = runner.invoke(main, ["score", "self.jx", "table.csv", "--format", "jsonl"])
    assert "引擎 duckdb" in batch.stderr
    interp = runner.invoke(main, ["score", "self.jx", "table.csv", "--format", "jsonl", "--engine", "interpreter"])
    assert "引擎 interpreter" in interp.stderr
    assert batch.stdout == interp.stdout and batch.exit_code == interp.exit_code == 0
    for fmt in ("json", "text", "csv"):
        a = runner.invoke(main, ["score", "self.jx", "table.csv", "--format", fmt])
        b = runner.invoke(main, ["score", "self.jx", "table.csv", "--format", fmt, "--engine", "interpreter"])
        assert a.stdout == b.stdout, fmt
    one = runner.invoke(main, ["score", "book.jx", "facts.yaml", "--format", "json", "--engine", "duckdb"])
    assert one.stdout == runner.invoke(main, ["score", "book.jx", "facts.yaml", "--format", "json"]).stdout


def test_batch_rejections_point_at_their_table_row(runner, files):
    bad = TABLE.replace("乙项目,产出指标,数量指标,套数,50,≥2套,1套", "乙项目,产出指标,数量指标,套数,50,≥2套,一套")
    (files / "bad.csv").write_text(bad, encoding="utf-8")
    run = runner.invoke(main, ["score", "self.jx", "bad.csv"])
    assert run.exit_code == 1
    line = bad.splitlines().index("乙项目,产出指标,数量指标,套数,50,≥2套,一套,,,") + 1
    assert f"bad.csv:{line}:1: 数据错误：项目“乙项目”，指标“产出指标/数量指标/套数”" in run.stderr
    assert f"  {line} | 乙项目,产出指标,数量指标,套数,50,≥2套,一套" in run.stderr and "^" in run.stderr
    assert "引擎 duckdb" in run.stderr


def test_score_table_project_filter(runner, files):
    run = runner.invoke(main, ["score", "self.jx", "table.csv", "--format", "jsonl", "--project", "乙项目"])
    assert run.exit_code == 0
    (line,) = run.stdout.strip().splitlines()
    assert json.loads(line)["total"] == 70
    run = runner.invoke(main, ["score", "self.jx", "table.csv", "--project", "乙项木"])
    assert run.exit_code == 2
    assert "乙项目" in run.output


def test_score_missing_fact_exit_1(runner, files):
    (files / "facts.yaml").write_text("项目: 项目一\n评价:\n  立项: {得分: 4}\n", encoding="utf-8")
    run = runner.invoke(main, ["score", "book.jx", "facts.yaml", "--format", "json"])
    assert run.exit_code == 1
    data = json.loads(run.stdout)
    assert data["total"] is None and data["grade"] is None
    assert data["indicators"][0]["status"] == "missing"
    assert any("预算执行率" in e for e in data["errors"])
    assert "缺少数据“预算执行率”" in run.stderr
    assert "Traceback" not in run.output


@pytest.mark.parametrize(
    "args",
    [["score", "nope.jx", "facts.yaml"], ["score", "book.jx", "nope.yaml"], ["score", "book.jx", "facts.txt"]],
)
def test_score_missing_file_is_usage_error(runner, files, args):
    (files / "facts.txt").write_text("x", encoding="utf-8")
    run = runner.invoke(main, args)
    assert run.exit_code == 2
    assert "用法错误" in run.output
    assert "Traceback" not in run.output


def test_score_broken_rulebook_exit_1(runner, files):
    (files / "bad.jx").write_text("规则集 坏\n甲 权重 1\n", encoding="utf-8")
    run = runner.invoke(main, ["score", "bad.jx", "facts.yaml"])
    assert run.exit_code == 1
    assert "bad.jx:2:1" in run.output and "缺少计分规则" in run.output
    assert "Traceback" not in run.output


def test_score_bad_yaml_exit_1(runner, files):
    (files / "facts.yaml").write_text("项目: [未闭合\n", encoding="utf-8")
    run = runner.invoke(main, ["score", "book.jx", "facts.yaml"])
    assert run.exit_code == 1
    assert "YAML 格式错误" in run.output
    assert "Traceback" not in run.output


def test_score_unknown_format_rejected(runner, files):
    run = runner.invoke(main, ["score", "book.jx", "facts.yaml", "--format", "xml"])
    assert run.exit_code == 2


def test_explain(runner, files):
    run = runner.invoke(main, ["explain", "book.jx", "facts.yaml"])
    assert run.exit_code == 0, run.output
    out = run.stdout
    assert out.splitlines()[0] == "项目一：总分 13.53 / 15，等级 差"
    assert "预算执行率：9.53 / 10" in out
    assert "立项：4 / 5" in out and "说明：依据不足" in out


def test_report_formats_through_the_cli(tmp_path, monkeypatch):
    import openpyxl

    root = Path(__file__).resolve().parent.parent
    monkeypatch.chdir(root)
    args = ["score", "rulebooks/shandong/qixia-2021.jx", "examples/qixia-2021/facts.yaml"]
    run = CliRunner().invoke(main, [*args, "--format", "xlsx"])
    assert run.exit_code == 2 and "-o" in run.output  # a binary file needs a destination
    for fmt in ("xlsx", "docx", "html", "md"):
        out = tmp_path / f"r.{fmt}"
        run = CliRunner().invoke(main, [*args, "--format", fmt, "-o", str(out)])
        assert run.exit_code == 0, run.output
        assert out.stat().st_size > 1000
    wb = openpyxl.load_workbook(tmp_path / "r.xlsx", data_only=True)  # the 合计 is a formula: its cached value
    assert "92.66" in {f"{c.value}" for row in wb.worksheets[0].iter_rows() for c in row}
    run = CliRunner().invoke(main, [*args, "--format", "md"])
    assert run.exit_code == 0 and "92.66" in run.output
