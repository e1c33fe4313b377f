"""Names as printed on published forms (issue 13, Language 4): quoted names everywhere a name is,
the unquoted forms that are unambiguous (★…, 1、…, …(…) after a Chinese character), the real reason
when a character cannot be in a bare name, and names matched between rulebook, records and tables
as ``units.normalize`` matches them (full- and half-width the same)."""
from __future__ import annotations

import json
import pytest
from click.testing import CliRunner
from test_engines import assert_engines_agree

from jxdsl import ast
from jxdsl.cli import main
from jxdsl.errors import JxError, LinkError, RulebookSyntaxError
from jxdsl.link import Linker
from jxdsl.parse import parse
from jxdsl.trees import name_text
from jxdsl.printer import print_document

H = "规则集 名称测试\n"


def doc(text: str) -> ast.Document:
    return parse(H + text, "f.jx")


def syntax_error(text: str) -> RulebookSyntaxError:
    with pytest.raises(RulebookSyntaxError) as info:
        parse(H + text, "f.jx")
    return info.value


def roundtrip(d: ast.Document) -> None:
    assert parse(print_document(d), "f.jx") == d


# ---- what is a name --------------------------------------------------------------------------------
@pytest.mark.parametrize("written,name", [
    ("“☆重点村饮水达标率”", "☆重点村饮水达标率"),
    ('"监测点位+在线设备"', "监测点位+在线设备"),
    ("「其中：脱贫户」", "其中：脱贫户"),
    ("“ 3、玉米种植面积 ”", "3、玉米种植面积"),  # spaces inside the quotes are not part of the name
    ("“(一)基础设施”", "(一)基础设施"),
    ("“权重”", "权重"),  # a keyword in quotes is a name
    ("☆重点村饮水达标率", "☆重点村饮水达标率"),
    ("★新建道路长度", "★新建道路长度"),
    ("3、玉米种植面积", "3、玉米种植面积"),
    ("１２、培训人次", "１２、培训人次"),
    ("培训人次(农民)", "培训人次(农民)"),
    ("资金(省级)到位率", "资金(省级)到位率"),
    ("培训人次（农民）", "培训人次（农民）"),
])
def test_indicator_names_as_printed(written, name):
    (ind,) = doc(f"{written} 权重 10 酌情\n").statements[1:]
    assert ind.name == name
    roundtrip(doc(f"{written} 权重 10 酌情\n"))


def test_quoted_names_everywhere_a_name_is():
    text = (
        "事实\n"
        "  “耕地面积(亩)” 数值 \"全县\"\n"
        "“化肥+农药减量” = “耕地面积(亩)” / 2\n"
        "「★产出」 权重 100\n"
        "  “1、水稻+玉米” 权重 40 得分 = 最小(“化肥+农药减量”, 40)\n"
        "  『' 权重 0 酌情\n"
    )
    with pytest.raises(RulebookSyntaxError):
        doc(text)  # 『 is no quote: a character that cannot start anything
    text = text.replace("  『' 权重 0 酌情\n", "  \"其中:县级\" 权重 30 清单\n    “台账+档案” 10\n    「制度:2项」 20\n  ★满意度 权重 30 达标 ≥90%\n    “满意度(%)” 问卷 “很满意(90+)”=1 满意=0.8\n")
    text += "加分\n  “省级+表彰” 加 2\n扣分\n  \"通报:批评\" 扣 3\n一票否决\n  “虚报+冒领”\n"
    d = doc(text)
    facts, derived, top, bonus, penalty, veto = d.statements[1:]
    assert facts.facts[0].name == "耕地面积(亩)" and facts.facts[0].type == "数值"
    assert derived.name == "化肥+农药减量" and derived.expr == ast.BinOp("/", ast.Ref("耕地面积(亩)"), ast.Number("2", 2, ""))
    assert top.name == "★产出"
    first, checklist, survey = top.children
    assert first.name == "1、水稻+玉米" and first.rule.expr.args[0] == ast.Ref("化肥+农药减量")
    assert checklist.name == "其中:县级" and [i.name for i in checklist.items] == ["台账+档案", "制度:2项"]
    assert survey.survey.label == "满意度(%)" and [o.name for o in survey.survey.options] == ["很满意(90+)", "满意"]
    assert bonus.items[0].name == "省级+表彰" and penalty.items[0].name == "通报:批评" and veto.items == ("虚报+冒领",)
    roundtrip(d)


def test_paths_with_quoted_names_in_changes():
    d = doc(
        "调整 产出/“★农户+合作社”/「其中:县级」 权重 6\n"
        "替换 \"1、水稻\" 权重 5 酌情\n"
        "删除 效益/“满意度(%)”\n"
        "新增 「产出+效益」\n  “新+指标” 权重 2 酌情\n"
    )
    adjust, replace, remove, add = d.statements[1:]
    assert adjust.path == ("产出", "★农户+合作社", "其中:县级")
    assert replace.path == ("1、水稻",) and replace.indicator.name == "1、水稻"
    assert remove.path == ("效益", "满意度(%)")
    assert add.parent == ("产出+效益",) and add.indicators[0].name == "新+指标"
    roundtrip(d)


@pytest.mark.parametrize("name,written", [
    ("普通名称", "普通名称"), ("☆重点", "☆重点"), ("培训(农民)", "培训(农民)"), ("有机肥+生物肥", "“有机肥+生物肥”"),
    ("其中:县级", "“其中:县级”"), ("清单", "“清单”"), ("最大", "“最大”"), ("甲 “乙”", "「甲 “乙”」"), ("x”」", '"x”」"'),
    ("eval(1)", "“eval(1)”"), ("3、", "“3、”"),
])
def test_name_text_quotes_only_what_needs_it(name, written):
    assert name_text(name) == written
    (ind,) = doc(f"{written} 权重 1 酌情\n").statements[1:]
    assert ind.name == name


def test_calls_stay_calls():
    """最小(…)/最大(…) are calls even with one argument and no space; 甲(乙) after a Chinese character is a name."""
    (d,) = doc("甲 = 最大(乙值) + 最小（丙，1）\n").statements[1:]
    assert isinstance(d.expr.left, ast.Call) and d.expr.left.func == "最大"
    assert isinstance(d.expr.right, ast.Call) and d.expr.right.func == "最小"
    (d,) = doc("甲 = 补助(县级) * 2\n").statements[1:]
    assert d.expr.left == ast.Ref("补助(县级)")


# ---- what is not, and why -------------------------------------------------------------------------
@pytest.mark.parametrize("line,ch,column,word", [
    ("有机肥+生物肥 权重 10 酌情", "+", 4, "有机肥+生物肥"),
    ("其中：脱贫户 权重 10 酌情", "：", 3, "其中：脱贫户"),
    ("其中:脱贫户 权重 10 酌情", ":", 3, "其中:脱贫户"),
    ("调整 产出/农户-合作社 权重 6", "-", 9, "农户-合作社"),
    ("产出 权重 10\n  达标率% 权重 10 酌情", "%", 6, "达标率%"),
    ("加分\n  省级@表彰 加 2", "@", 5, "省级@表彰"),
])
def test_a_character_glued_to_a_name_is_the_reason(line, ch, column, word):
    e = syntax_error(line + "\n")
    assert e.message == f"名称中不能有“{ch}”"
    assert e.span.column == column and e.span.line == 2 + line.count("\n")
    assert f"请加引号：“{word}”" in e.hint


@pytest.mark.parametrize("line,why", [
    ("“城镇/农村” 权重 10 酌情", "名称中不能有“/”"),
    ("调整 产出/「a／b」 权重 6", "名称中不能有“/”"),
    ("“” 权重 10 酌情", "引号里的名称是空的"),
    ("「 」 权重 10 酌情", "引号里的名称是空的"),
    ("“甲\t乙” 权重 10 酌情", "名称中不能有制表符"),
])
def test_what_a_quoted_name_cannot_hold(line, why):
    e = syntax_error(line + "\n")
    assert e.message.replace("／", "/") == why
    assert e.span.line == 2


def test_keyword_as_a_bare_name_suggests_quotes():
    e = syntax_error("清单 权重 10 酌情\n")
    assert "关键字" in e.message or "此处不应出现" in e.message


# ---- one name, however its brackets are written ------------------------------------------------------
def test_changes_find_a_name_with_the_other_brackets(tmp_path):
    (tmp_path / "父.jx").write_text("规则集 父\n产出 权重 10\n  试验（水稻） 权重 10 酌情\n", encoding="utf-8")
    (tmp_path / "子.jx").write_text("规则集 子 继承 父\n调整 产出/试验(水稻) 权重 10 得分 = 分值\n", encoding="utf-8")
    book = Linker().load(tmp_path / "子.jx")
    (leaf,) = [i for i in book.walk() if not i.children]
    assert leaf.name == "试验（水稻）" and isinstance(leaf.rule, ast.Formula)


def test_siblings_differing_only_in_bracket_width_are_duplicates(tmp_path):
    (tmp_path / "r.jx").write_text("规则集 r\n产出 权重 10\n  试验（水稻） 权重 5 酌情\n  试验(水稻) 权重 5 酌情\n", encoding="utf-8")
    with pytest.raises(JxError) as info:
        Linker().load(tmp_path / "r.jx")
    assert "两个“试验(水稻)”" in str(info.value) or any("两个“试验(水稻)”" in str(e) for e in getattr(info.value, "errors", []))
    assert isinstance(info.value, LinkError) or getattr(info.value, "errors", None)


RULEBOOK = """规则集 名称计分
事实
  “支出'金额” 金额
  「预算"数」 金额
“执行率+调整” = “支出'金额” / 「预算"数」
★产出 权重 60
  “1、水稻+玉米” 权重 30 正向 满分=100% 取 “执行率+调整”
  试验（水稻） 权重 30 酌情
「其中:效益」 权重 40 得分 = 分值 × 最小(“执行率+调整”, 1)
加分
  “省级+表彰” 加 2
"""
FACTS = """项目: 甲
事实:
  支出'金额: 80万元
  预算"数: 100万元
评价:
  ★产出/试验(水稻): {得分: 20}
  省级+表彰: {发生: 是}
"""


def _files(tmp_path):
    rb, facts = tmp_path / "r.jx", tmp_path / "f.yaml"
    rb.write_text(RULEBOOK, encoding="utf-8")
    facts.write_text(FACTS, encoding="utf-8")
    return rb, facts


def test_records_and_output_use_the_names_as_written(tmp_path):
    """Facts and records are keyed as the form prints the name (half-width brackets, no quotes, quote
    characters inside); JSON prints it as written in the rulebook, without quotes; interpreter and
    DuckDB agree (names are data to SQL, never identifiers or code)."""
    got = assert_engines_agree(*_files(tmp_path))
    (code, out, err), (_, explained, _) = got["duckdb"]
    assert code == 0, err
    (project,) = map(json.loads, out.splitlines())
    scores = {"/".join(i["path"]): i["score"] for i in project["indicators"]}
    assert scores["★产出/1、水稻+玉米"] == 24 and scores["★产出/试验（水稻）"] == 20 and scores["其中:效益"] == 32
    assert project["total"] == 24 + 20 + 32 + 2
    assert "“" not in "".join(scores) and "执行率+调整" in explained and "80万元 ÷ 100万元" in explained.replace(".00", "")


def test_names_as_written_in_spark(tmp_path):
    assert_engines_agree(*_files(tmp_path), engines=("interpreter", "spark"), explain=False)


def test_check_prints_the_located_reason(tmp_path):
    rb = tmp_path / "r.jx"
    rb.write_text("规则集 r\n产出 权重 10\n  复合肥＋缓控释肥 权重 10 酌情\n", encoding="utf-8")
    r = CliRunner().invoke(main, ["check", str(rb)])
    assert r.exit_code == 1 and "Traceback" not in r.output
    assert f"{rb}:3:6: 语法错误：名称中不能有“＋”" in r.output and "“复合肥＋缓控释肥”" in r.output


def test_audit_finds_the_rulebook_indicator_whatever_the_bracket_width(tmp_path):
    from jxdsl.audit import audit, read_table

    rb = tmp_path / "r.jx"
    rb.write_text("规则集 r\n产出 权重 100\n  试验（水稻） 权重 60 正向 满分=100%\n  “其中:县级” 权重 40 酌情\n", encoding="utf-8")
    table = tmp_path / "a.csv"
    table.write_text("路径,分值,得分,指标值,实际值\n产出/试验(水稻),50,30,100%,50%\n产出/其中:县级,40,40,,\n产出,90,70,,\n合计,90,70,,\n", encoding="utf-8")
    findings = audit(read_table(table), Linker().load(rb))
    found = {(f.path, f.kind) for f in findings if f.kind in ("weight_vs_rulebook", "rule")}
    # findings name the rulebook's indicator (as audit does for a row printed with its leaf name only);
    # the line points at the row as printed
    assert found == {("产出/试验（水稻）", "rule"), ("产出/试验（水稻）", "weight_vs_rulebook"), ("产出", "weight_vs_rulebook")}
    assert {f.line for f in findings if f.path == "产出/试验（水稻）"} == {2}
