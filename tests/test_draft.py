"""``jxdsl draft``: a rulebook from an 指标体系/评分表, its recognisers, and tables that go wrong."""
from __future__ import annotations

import json
import unicodedata
from fractions import Fraction
from pathlib import Path

import pytest
from click.testing import CliRunner

from jxdsl.cli import main
from jxdsl.draftrules import recognise
from jxdsl.link import Linker

ROOT = Path(__file__).resolve().parent.parent
QIXIA_TABLE = ROOT / "tests/draft/qixia-2021-评分表.csv"


def run(*args: str):
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result


def _tree(book) -> list[tuple[tuple[str, ...], Fraction]]:
    """(path, weight) of every indicator, names compared as the language compares them (full- and
    half-width alike); the hand-written Qixia rulebook writes the published “，” in one name as “、”."""
    def key(name: str) -> str:
        return unicodedata.normalize("NFKC", name).replace(",", "、")

    return [(tuple(key(n) for n in ind.path), ind.weight) for ind in book.walk()]


def _draft(tmp_path: Path, table: Path, *extra: str):
    out = tmp_path / "draft.jx"
    result = run("draft", str(table), "-o", str(out), *extra)
    return result, out


# ---- a table derived from a seed's 评分表 --------------------------------------------------
def test_qixia_scoring_table_drafts_the_published_tree_and_weights(tmp_path):
    """附件4 of the Qixia report (seeds/003…) → draft → check passes; the same tree and weights as
    the hand-written rulebooks/shandong/qixia-2021.jx (18/22/36/24 down to every 四级 indicator)."""
    result, out = _draft(tmp_path, QIXIA_TABLE)
    assert result.exit_code == 0, result.output
    assert run("check", str(out)).exit_code == 0
    drafted = Linker().load(out)
    published = Linker().load(ROOT / "rulebooks/shandong/qixia-2021.jx")
    assert _tree(drafted) == _tree(published)
    assert drafted.max == 100


def test_qixia_draft_rules_where_the_standard_states_one(tmp_path):
    _, out = _draft(tmp_path, QIXIA_TABLE)
    text = out.read_text(encoding="utf-8")
    lines = {line.strip().split(" 权重 ")[0]: line.strip() for line in text.splitlines() if " 权重 " in line}
    assert lines["事前工作的有效性"].endswith("档次 有效=1 较有效=0.5 无效=0")
    assert lines["监督管理"].endswith("扣分 每处0.1 扣完为止")
    assert lines["巩固脱贫攻坚成果、助力乡村振兴的效果"].endswith("档次 效果显著(2,3] 效果较好(1,2] 效果一般(0,1] 效果较差=0")
    assert lines["资金到位率"].endswith("正向 满分=100%")
    assert "资金到位率 = 实际到位资金 / 预算资金" in text
    # the published standard says 满分值2分 while the weight is 3: stated, not silently taken
    assert "# 待确认：评分标准写“满分值2分”，而分值是 3 分；按分值 3 分起草" in text
    # bands (成本节约率), with the published |Y| stated for confirmation
    assert lines["产业项目和基础设施项目成本节约率"].endswith("权重 2 分段 ≥4%:2 ≥3%:1.5 ≥2%:1 ≥0%:0.5 否则:0")
    assert "# 待确认：评分标准写的是绝对值“成本节约率|Y|”" in text
    # satisfaction (一般采用社会调查的方式) states no rule: 酌情, with the standard quoted
    assert lines["受益对象满意度"].endswith("权重 8 酌情")
    assert "# 待确认：评分标准“社会公众或服务对象是指受帮扶对象" in text
    # the veto clause of 资金使用规范性 is not dropped silently
    assert "20%资金使用不规范的,该指标相关三级指标不得分”没有写成规则" in text


def test_a_drafted_rulebook_scores_a_project(tmp_path):
    """The draft is a working rulebook: facts for its rules and records for its tiers score."""
    table = tmp_path / "体系.csv"
    table.write_text(
        "某局2024年项目绩效评价指标体系\n"
        "一级,二级,权重,评分细则\n"
        "过程（30分）,经费到位情况,10,到位比率=已拨付经费/批复经费×100%；得分=到位比率×分值\n"
        ",台账管理,10,每出现一次台账缺失扣2分，扣完为止\n"
        ",档案规范,10,规范的得10分；较规范的得6分；不规范的不得分\n",
        encoding="utf-8",
    )
    result, out = _draft(tmp_path, table)
    assert result.exit_code == 0, result.output
    facts = tmp_path / "f.yaml"
    facts.write_text(
        "项目: 甲\n事实:\n  已拨付经费: 45万元\n  批复经费: 50万元\n"
        "评价:\n  台账管理: {发现: [一, 二]}\n  档案规范: {档次: 较规范}\n", encoding="utf-8")
    scored = run("score", str(out), str(facts), "--format", "json")
    assert scored.exit_code == 0, scored.output
    assert json.loads(scored.output)["total"] == 21  # 9 + 6 + 6


# ---- recognisers, with phrasings that are not in the seeds ------------------------------------
@pytest.mark.parametrize("standard, leaf, rule, derived", [
    ("完成比例=已完成任务数÷计划任务数×100%，得分=完成比例×满分", "任务完成情况", "正向 满分=100% 取 完成比例", [("完成比例", "已完成任务数 / 计划任务数")]),
    ("得分=权重×覆盖率", "人口覆盖率", "正向 满分=100%", []),
    ("按照满分乘以执行率计算得分", "预算执行率", "正向 满分=100%", []),
    ("得分＝到位率×分值；资金到位率＝实际到位资金／计划投入资金×100％", "资金到位率", "正向 满分=100%", [("资金到位率", "实际到位资金 / 计划投入资金")]),
])
def test_proportional_phrasings(standard, leaf, rule, derived):
    found, why = recognise(standard, "", leaf, Fraction(5))
    assert found is not None, why
    assert (found.rule, found.derived) == (rule, derived)


@pytest.mark.parametrize("standard, rule, confirm", [
    ("每出现一次违规操作扣2分，扣完为止。", "扣分 每处2 扣完为止", False),
    ("检查台账，每存在1项问题扣0.25分", "扣分 每处0.25 扣完为止", True),
    ("每发现一例未公示的，扣除1分；最低0分", "扣分 每处1 扣完为止", False),
])
def test_deduction_phrasings(standard, rule, confirm):
    found, why = recognise(standard, "", "公示", Fraction(4))
    assert found is not None, why
    assert found.rule == rule
    assert bool(found.notes) == confirm


@pytest.mark.parametrize("standard, weight, rule", [
    ("优（90分以上）得100%，良得80%，中得60%，差得0", 5, "档次 优(90分以上)=5 良=4 中=3 差=0"),
    ("评价为好的得3分；较好的得2分；一般的得1分；差的不得分", 3, "档次 评价为好=3 较好=2 一般=1 差=0"),
    ("效果非常明显得（4，5]分；效果明显得（2，4]分；效果不明显得[0，2]分", 5, "档次 效果非常明显(4,5] 效果明显(2,4] 效果不明显[0,2]"),
])
def test_tier_phrasings(standard, weight, rule):
    found, why = recognise(standard, "", "质量", Fraction(weight))
    assert found is not None, why
    assert found.rule == rule


@pytest.mark.parametrize("standard, rule", [
    ("覆盖率≥95%得5分；90%≤覆盖率<95%得3分；覆盖率<90%不得分", "分段 ≥95%:5 ≥90%:3 否则:0"),
    ("当Y>=10%时，得4分；5%<=Y<10%时，得2分；0%>Y，得0分", None),  # 0% is not the lower bound above (5%): a gap
    ("Y≥10%时，得4分；5%≤Y<10%时，得2分；Y<5%时，得0分", "分段 ≥10%:4 ≥5%:2 否则:0"),
    ("Y≥4%得2分；2%≤Y<3%得1分", None),  # a gap between 3% and 4%
])
def test_band_phrasings(standard, rule):
    found, why = recognise(standard, "", "覆盖率", Fraction(5))
    assert (found.rule if found else None) == rule, why


@pytest.mark.parametrize("standard", [
    "得分=完成率×分值；每发现一处问题扣1分",  # two rules at once
    "成本节约率≥4%得2分；3%≤成本节约率<4%得1.5分",  # bands without a lowest band: not all values covered
    "由专家综合评定",
    "合格得2分",  # one tier is not a tier rule
    "",
])
def test_no_rule_or_several_is_not_guessed(standard):
    found, why = recognise(standard, "", "某指标", Fraction(2))
    assert found is None and why


def test_unrecognised_standard_becomes_judgement_with_the_text_quoted(tmp_path):
    table = tmp_path / "t.csv"
    table.write_text("一级指标,二级指标,分值,评分标准\n效益,社会影响,10,由评审专家结合走访情况综合评定\n效益,其他,10,\n", encoding="utf-8")
    result, out = _draft(tmp_path, table)
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert "# 待确认：评分标准“由评审专家结合走访情况综合评定”未能确定计分规则；暂按酌情" in text
    assert "社会影响 权重 10 酌情" in text
    assert "# 待确认：没有评分标准；暂按酌情" in text


# ---- adversarial tables -------------------------------------------------------------------
@pytest.mark.parametrize("body, message, where", [
    ("一级指标,二级指标,评分标准\n决策,立项,合规得2分，不合规得0分\n", "表中没有“分值”列，指标名称中也没有写分值", ":1:1:"),
    ("一级指标,二级指标,分值\n决策,立项,2\n决策,立项,2\n", "第 3 行的指标与第 2 行相同", ":3:1:"),
    ("一级指标,二级指标,分值\n决策,立项,两分\n", "分值“两分”（C2）不是数字", ":2:1:"),
    ("一级指标,二级指标,分值\n决策,立项,=1+1\n", "分值“=1+1”（C2）是公式", ":2:1:"),
    ("一级指标,二级指标,分值\n,立项,2\n", "“一级指标”（A2）是空的", ":2:1:"),
    ("一级指标,二级指标,分值\n决策,立项,2\n,,3\n", "第 3 行没有指标名称", ":3:1:"),
    ("名称,分值\n决策,2\n", "找不到表头", ":1:1:"),
    ("一级指标,二级指标,分值,分数\n决策,立项,2,2\n", "表头有两列“分值”", ":1:1:"),
    ("一级指标,三级指标,分值\n决策,立项,2\n", "表头缺少“二级指标”列", ":1:1:"),
    ("一级指标,二级指标,分值\n决策（10分）,立项,2\n决策（12分）,绩效,2\n", "“决策”的分值写了两个：10（第 2 行）和 12", ":3:1:"),
    ("一级指标,二级指标,分值\n决策,立项（2分）,3\n", "“立项”的分值写了两个：2（第 2 行）和 3", ":2:1:"),
])
def test_bad_tables_are_located_errors(tmp_path, body, message, where):
    table = tmp_path / "t.csv"
    table.write_text(body, encoding="utf-8")
    result = run("draft", str(table), "-o", str(tmp_path / "d.jx"))
    assert result.exit_code == 1
    assert message in result.output and f"t.csv{where}" in result.output, result.output
    assert not (tmp_path / "d.jx").exists()


def test_blank_levels_repeat_the_row_above_and_a_weight_may_say_fen(tmp_path):
    table = tmp_path / "t.csv"
    table.write_text("一级指标,二级指标,三级指标,分值\n决策,立项,依据,5分\n,,程序,5 分\n,目标,,10\n过程,管理,,80\n", encoding="utf-8")
    result, out = _draft(tmp_path, table)
    assert result.exit_code == 0, result.output
    book = Linker().load(out)
    assert [(ind.path, ind.weight) for ind in book.walk()] == [
        (("决策",), 20), (("决策", "立项"), 10), (("决策", "立项", "依据"), 5), (("决策", "立项", "程序"), 5),
        (("决策", "目标"), 10), (("过程",), 80), (("过程", "管理"), 80)]


def test_weights_that_do_not_add_up_are_kept_and_the_check_fails(tmp_path):
    table = tmp_path / "t.csv"
    table.write_text("一级指标,二级指标,分值\n决策（20分）,立项,10\n,目标,5\n", encoding="utf-8")
    result, out = _draft(tmp_path, table)
    assert result.exit_code == 1
    assert "决策 权重 20" in out.read_text(encoding="utf-8")  # as written, not fixed to 15
    assert "“决策”的下级指标权重之和 10 + 5 = 15，与本级权重 20 不符" in result.output
    assert "规则集检查未通过" in result.output
    screen = run("draft", str(table))
    assert screen.exit_code == 1 and "草稿（屏幕输出）:" in screen.output


def test_names_that_need_quotes_and_weights_not_100(tmp_path):
    table = tmp_path / "t.csv"
    table.write_text("一级指标,二级指标,分值,评分标准\n产出,“复合肥+缓控释肥”推广,5,好得5分，差得0分\n产出,事实,5,\n", encoding="utf-8")
    result, out = _draft(tmp_path, table)
    assert result.exit_code == 0, result.output
    assert "一级指标权重之和为 10，不是 100" in result.output  # check's warning shown
    book = Linker().load(out)
    assert [ind.name for ind in book.walk()] == ["产出", "“复合肥+缓控释肥”推广", "事实"]


def test_xlsx_with_title_merged_levels_and_formulas(tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["某县项目绩效评价指标体系"])
    ws.merge_cells("A1:E1")
    ws.append(["一级指标", "二级指标", "分值", "指标解释", "评分标准"])
    ws.append(["决策", "立项", 4, "", "合规得4分，不合规得0分"])
    ws.append([None, "目标", 6.0, "", "每发现一处不明确扣1分，扣完为止"])
    ws.merge_cells("A3:A4")
    wb.save(tmp_path / "体系.xlsx")
    result, out = _draft(tmp_path, tmp_path / "体系.xlsx")
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert "标题 “某县项目绩效评价指标体系”" in text
    assert "决策 权重 10" in text and "目标 权重 6 扣分 每处1 扣完为止" in text

    ws["C3"] = "=2*2"  # a formula Excel never calculated: no cached value in the file
    wb.save(tmp_path / "公式.xlsx")
    bad = run("draft", str(tmp_path / "公式.xlsx"), "-o", str(tmp_path / "x.jx"))
    assert bad.exit_code == 1 and "单元格 C3 是公式" in bad.output


# ---- the output file ----------------------------------------------------------------------
def test_out_onto_the_input_or_an_existing_file_is_refused(tmp_path):
    table = tmp_path / "t.csv"
    body = "一级指标,二级指标,分值\n决策,立项,100\n"
    table.write_text(body, encoding="utf-8")
    onto = run("draft", str(table), "-o", str(table))
    assert onto.exit_code == 2 and "就是输入文件" in onto.output
    assert table.read_text(encoding="utf-8") == body
    out = tmp_path / "d.jx"
    out.write_text("旧的\n", encoding="utf-8")
    again = run("draft", str(table), "-o", str(out))
    assert again.exit_code == 2 and "已存在" in again.output and "--force" in again.output
    assert out.read_text(encoding="utf-8") == "旧的\n"
    forced = run("draft", str(table), "-o", str(out), "--force")
    assert forced.exit_code == 0 and "立项 权重 100" in out.read_text(encoding="utf-8")
    onto_forced = run("draft", str(table), "-o", str(table), "--force")
    assert onto_forced.exit_code == 2 and table.read_text(encoding="utf-8") == body


def test_unsupported_or_missing_table_is_a_usage_error(tmp_path):
    assert run("draft", str(tmp_path / "无.csv")).exit_code == 2
    (tmp_path / "t.txt").write_text("x", encoding="utf-8")
    assert run("draft", str(tmp_path / "t.txt")).exit_code == 2


def test_a_ratio_defined_in_a_shared_explanation_is_not_given_to_other_leaves():
    """A merged 指标解释 defines one generic ratio for a group; only the leaf of that name reads it,
    the others read their own data (with a 待确认 note), never all the same value."""
    explain = "各项完成的比率。完成率Y=(实际完成数/计划数)×100%。"
    other, _ = recognise("得分=完成率×满分值", explain, "培训人次", Fraction(2))
    assert other.rule == "正向 满分=100%" and other.derived == [] and other.facts[0][0] == "培训人次"
    assert other.notes and "培训人次" in other.notes[0]
    same, _ = recognise("得分=完成率×满分值", explain, "完成率", Fraction(2))
    assert same.derived == [("完成率", "实际完成数 / 计划数")]


def _merged_weight_book(path: Path, spans: list[str], weights=(2, None, 3)) -> None:
    """A four-level table as published (Qixia 附件4): the 分值 column merged over each 三级 group."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["一级指标", "二级指标", "三级指标", "四级指标", "分值", "评价标准"])
    ws.append(["决策", "项目立项", "立项依据充分性", "必要性（1分）", 2, "符合得1分，不符合得0分"])
    ws.append([None, None, None, "合理性（1分）", None, "相符得1分，不相符得0分"])
    ws.append([None, None, "立项程序规范性", "合规性", 3, "合规得3分，不合规得0分"])
    for row, weight in zip((2, 3, 4), weights):
        ws.cell(row, 5).value = weight
    for ref in spans:
        ws.merge_cells(ref)
    wb.save(path)


def test_a_weight_merged_over_a_group_is_the_groups_weight(tmp_path):
    """Merged over the rows of one 三级指标, the 分值 is that indicator's (not each 四级 row's:
    copying it into every row would double the group silently)."""
    table = tmp_path / "体系.xlsx"
    _merged_weight_book(table, ["A2:A4", "B2:B4", "C2:C3", "E2:E3"])
    result, out = _draft(tmp_path, table)
    assert result.exit_code == 0, result.output
    book = Linker().load(out)
    assert [(i.name, i.weight) for i in book.walk()] == [
        ("决策", 5), ("项目立项", 5), ("立项依据充分性", 2), ("必要性", 1), ("合理性", 1), ("立项程序规范性", 3), ("合规性", 3)]
    table2 = tmp_path / "跨.xlsx"
    _merged_weight_book(table2, ["A2:A4", "B2:B4", "C2:C3", "E3:E4"], (None, 4, None))
    bad = run("draft", str(table2), "-o", str(tmp_path / "b.jx"))
    assert bad.exit_code == 1 and "合并单元格 E3 的分值" in bad.output and "不是一个指标的全部行" in bad.output


def test_more_rows_than_a_rulebook_holds_stop_with_a_located_error(tmp_path, monkeypatch):
    monkeypatch.setattr("jxdsl.link.MAX_INDICATORS", 3)
    table = tmp_path / "t.csv"
    table.write_text("一级指标,二级指标,分值\n" + "".join(f"决策,指标{chr(0x4e00 + i)},1\n" for i in range(6)), encoding="utf-8")
    result = run("draft", str(table))
    assert result.exit_code == 1 and "t.csv:5:1:" in result.output and "表中的指标行超过 3 行" in result.output
