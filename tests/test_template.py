"""``jxdsl template``: a blank facts file listing exactly what a rulebook needs; ``check`` lists it too."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from jxdsl.cli import main
from jxdsl.link import Linker
from jxdsl.template import needs

ROOT = Path(__file__).resolve().parent.parent
RULEBOOKS = sorted(p for p in (ROOT / "rulebooks").rglob("*.jx"))
_COMMENT = re.compile(r"^  (?P<key>\S+?): # (?P<kind>[^（]+)（如 (?P<example>[^）、]+)")

EVERY_KIND = """规则集 模板测试
等级 优 ≥90 良 ≥80 中 ≥60 差
事实
  计划投入 金额
  实际投入 金额
  完工日期 日期
  违规占比 百分比
到位率 = 实际投入 / 计划投入
资金 权重 40
  到位率 权重 10 正向 满分=100%
  完工日期 权重 10 达标 ≤2024年12月
  规范性 权重 10 扣分 每处1 扣完为止
    若 违规占比 ≥20% 则 0
  “成本+效益” 权重 10 分段 ≥100万元:10 否则:5 取 实际投入
管理 权重 60
  制度 权重 10 清单
    有制度 5
    已执行 5
  效果 权重 10 档次 显著(5,10] 一般[0,5]
  立项 权重 10 档次 合规=10 不合规=0
  其他 权重 10 酌情
  满意度 权重 20 正向 满分=100%
    满意度 问卷 满意=1 一般=0.5 不满意=0
加分 上限 5
  创新 加 5
扣分
  作假 扣 10
一票否决
  重大违纪
"""


def run(*args: str):
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result


def _fill(template: str) -> dict:
    """Fill every blank of the template from its own comments only (no knowledge of the rulebook):
    a fact gets the example its comment gives, a record its first choice."""
    doc = yaml.safe_load(template)
    examples = {m["key"]: m["example"] for m in map(_COMMENT.match, template.splitlines()) if m}
    doc["项目"] = "模板项目"
    for name in doc.get("事实") or {}:
        example = examples.get(name, "1")
        doc["事实"][name] = {"文字": "是", "带单位的数值": "1"}.get(example, example)
    for name, record in (doc.get("评价") or {}).items():
        comment = next(line for line in template.splitlines() if line.startswith(f"  {name}:") or line.startswith(f'  "{name}":'))
        for k, v in list(record.items()):
            if k == "档次":
                record[k] = re.search(r"档次：([^（]+)（", comment).group(1)
                m = re.search(r"档次：[^（]+（[\[(]([\d.]+),([\d.]+)[\])]分）", comment)
                if m:
                    record["得分"] = m.group(2)
            elif k == "得分" and v is None and "档次" not in record:
                record[k] = 0
            elif k == "说明":
                record[k] = "模板测试"
            elif k == "满足":
                record[k] = "全部"
            elif k == "问卷":
                record[k] = {option: 1 for option in v}
    rows = doc.get("目标表") or []
    for row in rows:
        weight = re.search(rf"一级指标: {re.escape(row['一级指标'])},.*# 本组各行分值之和 (\S+)", template).group(1)
        row.update({"二级指标": "数量指标", "三级指标": "完成数", "分值": weight, "年度指标值": "≥10个", "实际完成值": "10个"})
    return doc


def _score(book: Path, doc: dict, tmp_path: Path):
    facts = tmp_path / "filled.json"
    facts.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return run("score", str(book), str(facts), "--format", "json")


@pytest.mark.parametrize("book", RULEBOOKS, ids=lambda p: p.stem)
def test_a_filled_template_scores_without_missing_data(book, tmp_path):
    """The template is complete: filled from its own comments, every indicator scores (exit 0, no
    missing or invalid), for every rulebook in the library."""
    template = run("template", str(book))
    assert template.exit_code == 0, template.output
    scored = _score(book, _fill(template.output), tmp_path)
    assert scored.exit_code == 0, scored.output
    result = json.loads(scored.output)
    assert result["total"] is not None
    assert all(i["status"] in ("scored", "not_applicable", "vetoed") for i in result["indicators"]), scored.output


def test_every_rule_kind_is_asked_for(tmp_path):
    book = tmp_path / "book.jx"
    book.write_text(EVERY_KIND, encoding="utf-8")
    template = run("template", str(book)).output
    doc = yaml.safe_load(template)
    assert set(doc["事实"]) == {"实际投入", "计划投入", "完工日期", "违规占比"}  # 到位率 is derived: not asked for
    assert doc["评价"] == {
        "规范性": {"发现": []}, "制度": {"满足": None}, "效果": {"档次": None, "得分": None}, "立项": {"档次": None},
        "其他": {"得分": None, "说明": None}, "满意度": {"问卷": {"满意": None, "一般": None, "不满意": None}},
        "创新": {"发生": "否"}, "作假": {"发生": "否"}, "重大违纪": {"发生": "否"},
    }
    assert "完工日期: # 日期（如 2024年12月）" in template
    assert "违规占比: # 百分比（如 20%）；用于 资金/规范性" in template
    scored = _score(book, _fill(template), tmp_path)
    assert scored.exit_code == 0, scored.output
    # a template with a blank left is not silently complete: the fact is reported missing
    doc = _fill(template)
    del doc["事实"]["计划投入"]
    assert _score(book, doc, tmp_path).exit_code == 1


def test_check_lists_the_needed_data_after_the_tree(tmp_path):
    book = tmp_path / "book.jx"
    book.write_text(EVERY_KIND, encoding="utf-8")
    out = run("check", str(book))
    assert out.exit_code == 0
    tree, _, listed = out.output.partition("需要的数据：\n")
    assert "资金  权重 40" in tree
    assert "  事实：实际投入（金额）、计划投入（金额）、完工日期（日期）、违规占比（百分比）\n" in listed
    assert ("  评价记录：规范性（扣分）、制度（清单）、效果（档次）、立项（档次）、其他（酌情）、满意度（问卷）、"
            "创新（加分项）、作假（扣分项）、重大违纪（一票否决项）\n") in listed
    self_eval = run("check", str(ROOT / "rulebooks/national/self-eval.jx")).output
    assert "  目标表：产出指标、效益指标、满意度指标 各组的行" in self_eval
    assert needs(Linker().load(ROOT / "rulebooks/national/self-eval.jx")).tables == [("产出指标", "50"), ("效益指标", "30"), ("满意度指标", "10")]


def test_template_out_file(tmp_path):
    book = ROOT / "rulebooks/shandong/qixia-2021.jx"
    out = tmp_path / "事实.yaml"
    assert run("template", str(book), "-o", str(out)).exit_code == 0
    assert out.read_text(encoding="utf-8").startswith("# 规则集“栖霞-2021-乡村振兴扶贫资金”的空白事实文件")
    again = run("template", str(book), "-o", str(out))
    assert again.exit_code == 2 and "已存在" in again.output
    assert run("template", str(book), "-o", str(out), "--force").exit_code == 0
    assert run("template", str(book), "-o", str(tmp_path / "x.txt")).exit_code == 2
    mixed = tmp_path / "mixed.jx"
    mixed.write_text("规则集 混合\n产出指标 权重 50 来自目标表\n其他 权重 50 酌情\n默认规则\n  定量 ≥ : 正向\n", encoding="utf-8")
    refused = run("template", str(mixed), "-o", str(tmp_path / "m.xlsx"))
    assert refused.exit_code == 2 and "一张自评表写不下" in refused.output and not (tmp_path / "m.xlsx").exists()
    onto = run("template", str(book), "-o", str(book))
    assert onto.exit_code == 2 and "就是输入文件" in onto.output


def test_names_yaml_would_misread_are_quoted(tmp_path):
    book = tmp_path / "book.jx"
    book.write_text("规则集 引号\n事实\n  on 数值\n  “a: b” 数值\n甲 权重 50 达标 ≥1 取 on\n乙 权重 50 达标 ≥1 取 “a: b”\n", encoding="utf-8")
    template = run("template", str(book)).output
    assert set(yaml.safe_load(template)["事实"]) == {"on", "a: b"}


def _fill_xlsx(path: Path) -> None:
    """Fill a blank table from its own cell comments (as a unit would), in place."""
    import openpyxl

    wb = openpyxl.load_workbook(path)
    ws = wb.active
    header = [c.value for c in ws[1]]
    col = {name: i + 1 for i, name in enumerate(header)}
    for r in range(2, ws.max_row + 1):
        ws.cell(r, 1, "表格项目")
        note = (ws.cell(r, 3).comment or ws.cell(r, 2).comment).text
        if "一级指标" in col:  # a self-evaluation table: one target row per group
            weight = re.search(r"分值之和 (\S+)", note).group(1)
            for k, v in {"二级指标": "数量指标", "三级指标": "完成数", "分值": weight, "年度指标值": "≥10个", "实际完成值": "10个"}.items():
                ws.cell(r, col[k], v)
            for name in header[10:]:
                ws.cell(r, col[name], "100万元")
        elif ws.cell(r, col["类别"]).value == "事实":
            ws.cell(r, col["值"], re.search(r"（如 ([^）、]+)", note).group(1) if "（如 " in note else "是")
        else:
            if "档次" in col and note.startswith("档次："):
                ws.cell(r, col["档次"], re.search(r"档次：([^（]+)（", note).group(1))
                m = re.search(r"档次：[^（]+（[\[(]([\d.]+),([\d.]+)[\])]分）", note)
                if m:
                    ws.cell(r, col["得分"], m.group(2))
            elif note.startswith("酌情"):
                ws.cell(r, col["得分"], 0)
            elif note.startswith("扣分："):
                ws.cell(r, col["发现"], "无")
            elif note.startswith("清单"):
                ws.cell(r, col["满足"], "全部")
            elif note.startswith("问卷"):
                options = re.search(r"人数（(.+)）", note).group(1).split("、")
                ws.cell(r, col["问卷"], "、".join(f"{o}=1" for o in options))
    wb.save(path)


@pytest.mark.parametrize("book", ["shandong/qixia-2021", "xinjiang/kashgar-2021", "national/self-eval", "shanxi/xingxian-2022-self-eval"])
def test_a_filled_blank_table_scores_without_missing_data(book, tmp_path):
    """The xlsx template (facts table, or self-evaluation table for 来自目标表) filled from its own
    comments scores every indicator."""
    path = ROOT / f"rulebooks/{book}.jx"
    table = tmp_path / "空白.xlsx"
    made = run("template", str(path), "-o", str(table))
    assert made.exit_code == 0, made.output
    _fill_xlsx(table)
    scored = run("score", str(path), str(table), "--format", "jsonl", "--engine", "interpreter")
    assert scored.exit_code == 0, scored.output
    result = json.loads(scored.output.splitlines()[0])
    assert result["total"] is not None
    assert all(i["status"] in ("scored", "not_applicable", "vetoed") for i in result["indicators"]), scored.output
