"""Partial forms (issue 13, Language 2): 未设置时 并入 and 不适用时 on 来自目标表 indicators,
the same in every engine."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from conftest import link_errors, load_text, write_rulebook
from test_engines import assert_engines_agree, cli

ROOT = Path(__file__).resolve().parents[1]

# A rulebook that is not the national one: 社会效益 unset goes to 工作产出 (named without 指标).
BOOK = """规则集 测试-并入
小数 2 位
资金使用 权重 20 正向 满分=100%
工作产出 权重 40 来自目标表
社会效益 权重 25 来自目标表 未设置时 并入 工作产出
群众满意 权重 15 来自目标表 不适用时 按比例折算
默认规则
  定量 ≥ : 正向
  定量 ≤ : 反向
  定量 = : 达标
  定性 : 三档 达成[80%,100%] 部分达成[60%,80%) 未达成[0,60%)
"""


def row(first, second, third, weight, target, actual):
    return {"一级指标": first, "二级指标": second, "三级指标": third, "分值": weight, "年度指标值": target, "实际完成值": actual}


def facts(tmp_path: Path, rows, records=None, name="p.yaml") -> Path:
    data = {"项目": "某项目", "事实": {"资金使用": "80%"}, "目标表": rows}
    if records:
        data["评价"] = records
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def scored(book: Path, facts_path: Path) -> tuple[int, dict, str]:
    """score --format json through the interpreter and DuckDB, asserting they agree."""
    got = assert_engines_agree(book, facts_path, engines=("interpreter", "duckdb"))
    (code, out, err), _ = got["interpreter"]
    return code, json.loads(out), err


def by_path(result: dict) -> dict:
    return {"/".join(i["path"]): i for i in result["indicators"]}


# ---- the language --------------------------------------------------------------------------
def test_merge_clause_parses_and_links(tmp_path):
    book = load_text(BOOK, tmp_path)
    social = next(i for i in book.indicators if i.name == "社会效益")
    assert social.merge_into == "工作产出"


def test_merge_clause_can_be_added_by_inheritance(tmp_path):
    parent = write_rulebook(tmp_path, BOOK.replace(" 未设置时 并入 工作产出", ""), "parent.jx")
    child = write_rulebook(tmp_path, f'规则集 子 继承 "{parent.name}"\n调整 社会效益 未设置时 并入 工作产出\n', "child.jx")
    from jxdsl.link import Linker

    book = Linker().load(child)
    assert next(i for i in book.indicators if i.name == "社会效益").merge_into == "工作产出"


def test_merge_on_an_ordinary_indicator_is_an_error(tmp_path):
    text = BOOK.replace("资金使用 权重 20 正向 满分=100%", "资金使用 权重 20 正向 满分=100% 未设置时 并入 工作产出")
    [e] = [e for e in link_errors(text, tmp_path) if "并入" in e.message]
    assert "只有“来自目标表”的指标" in e.message and e.span.line == 3


def test_merge_into_an_unknown_sibling_suggests_the_name(tmp_path):
    text = BOOK.replace("并入 工作产出", "并入 工做产出")
    [e] = [e for e in link_errors(text, tmp_path) if "并入" in e.message]
    assert "没有别的指标叫“工做产出”" in e.message and e.span.line == 5
    assert "工作产出" in e.hint


def test_merge_into_an_ordinary_or_merging_sibling_is_an_error(tmp_path):
    into_leaf = BOOK.replace("并入 工作产出", "并入 资金使用")
    assert any("须是“来自目标表”的指标" in e.message for e in link_errors(into_leaf, tmp_path))
    chain = BOOK.replace("不适用时 按比例折算", "未设置时 并入 社会效益")
    assert any("自己不再并入别处" in e.message for e in link_errors(chain, tmp_path))


# ---- scoring, every engine ---------------------------------------------------------------
def test_unset_group_moves_its_weight_to_the_sibling(tmp_path):
    book = write_rulebook(tmp_path, BOOK)
    rows = [
        row("工作产出", "数量指标", "修缮校舍", 45, "≥9所", "9所"),
        row("工作产出", "质量指标", "验收合格率", 20, "≥95%", "76%"),
        row("群众满意", "满意度", "师生满意度", 15, "≥90%", "90%"),
    ]
    code, result, err = scored(book, facts(tmp_path, rows))
    assert code == 0, err
    nodes = by_path(result)
    assert nodes["工作产出"]["weight"] == 65 and nodes["工作产出"]["score"] == 61
    assert "社会效益" in nodes["工作产出"]["explanation"] and "25" in nodes["工作产出"]["explanation"]
    assert nodes["社会效益"]["status"] == "not_applicable" and nodes["社会效益"]["weight"] == 0 and nodes["社会效益"]["score"] == 0
    assert "工作产出" in nodes["社会效益"]["explanation"]
    assert result["total"] == 16 + 61 + 15 and result["max"] == 100


def test_unset_group_rows_must_carry_the_moved_weight(tmp_path):
    book = write_rulebook(tmp_path, BOOK)
    rows = [row("工作产出", "数量指标", "修缮校舍", 40, "≥9所", "9所"), row("群众满意", "满意度", "师生满意度", 15, "≥90%", "90%")]
    code, result, err = scored(book, facts(tmp_path, rows))
    assert code == 1 and result["total"] is None
    assert "各行分值之和 40 与规则集规定的 65" in err and "社会效益" in err


def test_set_group_keeps_its_own_weight(tmp_path):
    book = write_rulebook(tmp_path, BOOK)
    rows = [
        row("工作产出", "数量指标", "修缮校舍", 40, "≥9所", "9所"),
        row("社会效益", "社会效益指标", "入学率", 25, "≥98%", "98%"),
        row("群众满意", "满意度", "师生满意度", 15, "≥90%", "90%"),
    ]
    code, result, _ = scored(book, facts(tmp_path, rows))
    nodes = by_path(result)
    assert code == 0 and nodes["工作产出"]["weight"] == 40 and nodes["社会效益"]["weight"] == 25 and result["total"] == 96


@pytest.mark.parametrize("mode, total", [("按比例折算", "95.29"), ("满分", "96")])
def test_not_applicable_record_on_a_target_table_indicator(tmp_path, mode, total):
    book = write_rulebook(tmp_path, BOOK.replace("不适用时 按比例折算", f"不适用时 {mode}"))
    rows = [row("工作产出", "数量指标", "修缮校舍", 40, "≥9所", "9所"), row("社会效益", "", "入学率", 25, "≥98%", "98%")]
    code, result, err = scored(book, facts(tmp_path, rows, {"群众满意": {"不适用": "是"}}))
    assert code == 0, err
    nodes = by_path(result)
    assert nodes["群众满意"]["status"] == "not_applicable"
    assert str(result["total"]) == total  # 16 + 40 + 25 = 81 of 85 applicable → 95.29; or 81 + 15


def test_not_applicable_record_without_a_rule_is_a_located_error(tmp_path):
    book = write_rulebook(tmp_path, BOOK.replace(" 不适用时 按比例折算", ""))
    rows = [row("工作产出", "数量指标", "修缮校舍", 40, "≥9所", "9所"), row("社会效益", "", "入学率", 25, "≥98%", "98%"),
            row("群众满意", "满意度", "师生满意度", 15, "≥90%", "90%")]
    code, result, err = scored(book, facts(tmp_path, rows, {"群众满意": {"不适用": "是"}}))
    assert code == 1 and result["total"] is None
    assert "没有规定不适用时如何计分" in err and "不适用时 按比例折算" in err


def test_not_applicable_wins_over_merge(tmp_path):
    """A group marked 不适用 is not “unset”: its weight does not move."""
    book = write_rulebook(tmp_path, BOOK.replace("来自目标表 未设置时", "来自目标表 不适用时 按比例折算 未设置时"))
    rows = [row("工作产出", "数量指标", "修缮校舍", 40, "≥9所", "9所"), row("群众满意", "满意度", "师生满意度", 15, "≥90%", "90%")]
    code, result, err = scored(book, facts(tmp_path, rows, {"社会效益": {"不适用": "是"}}))
    assert code == 0, err
    nodes = by_path(result)
    assert nodes["工作产出"]["weight"] == 40 and nodes["社会效益"]["status"] == "not_applicable"
    assert result["total"] == 94.67  # (16 + 40 + 15) × 100 / 75


def test_national_rulebook_scores_a_table_without_satisfaction_rows(tmp_path):
    """财预〔2020〕10号: 满意度指标 not set → its 10 points are part of 产出 (rows summing to 60)."""
    table = tmp_path / "t.csv"
    table.write_text(
        "项目,一级指标,二级指标,三级指标,分值,年度指标值,实际完成值\n"
        "乙项目,预算执行率,,预算执行率,10,200万元,150万元\n"
        "乙项目,产出指标,数量指标,新建机井,40,≥20眼,20眼\n"
        "乙项目,产出指标,时效指标,完工时间,20,≤2023年10月,2023年9月\n"
        "乙项目,效益指标,经济效益指标,灌溉面积,30,≥3000亩,2400亩\n",
        encoding="utf-8",
    )
    book = ROOT / "rulebooks/national/self-eval.jx"
    got = assert_engines_agree(book, table)
    (code, out, err), _ = got["interpreter"]
    result = json.loads(out.splitlines()[0])
    nodes = by_path(result)
    assert code == 0, err
    assert nodes["产出指标"]["weight"] == 60 and nodes["满意度指标"]["status"] == "not_applicable"
    assert result["total"] == 7.5 + 60 + 24


def test_check_prints_the_clause(tmp_path):
    code, out, _ = cli("check", write_rulebook(tmp_path, BOOK))
    assert code == 0 and "未设置时 并入 工作产出" in out


# ---- 评价 records by a target row's path (Language 9) ---------------------------------------
ROWS = [
    row("工作产出", "数量指标", "培训人数", 20, "≥200人", "150人"),
    row("工作产出", "质量指标", "培训人数", 10, "≥90%", "90%"),
    row("工作产出", "质量指标", "教材质量", 35, "优良", "优良"),
    row("群众满意", "满意度", "学员满意度", 15, "≥90%", "90%"),
]


@pytest.mark.parametrize("key", ["工作产出/质量指标/教材质量", "质量指标/教材质量", "教材质量", "工作产出指标/质量指标/教材质量"])
def test_record_addresses_a_target_row_by_path(tmp_path, key):
    book = write_rulebook(tmp_path, BOOK)
    code, result, err = scored(book, facts(tmp_path, ROWS, {key: {"档次": "部分达成", "得分": 24.5, "说明": "教材有错漏"}}))
    assert code == 0, err
    leaf = by_path(result)["工作产出/质量指标/教材质量"]
    assert leaf["score"] == 24.5 and "教材有错漏" in leaf["explanation"]
    assert "没有对应的指标" not in err


def test_record_naming_two_rows_is_a_located_error_with_candidates(tmp_path):
    book = write_rulebook(tmp_path, BOOK)
    path = facts(tmp_path, ROWS, {"培训人数": {"说明": "按签到表"}})
    code, result, err = scored(book, path)
    assert code == 1
    assert "评价记录“培训人数”对应目标表中的多行" in err
    assert "工作产出/数量指标/培训人数" in err and "工作产出/质量指标/培训人数" in err
    assert f"{path.name}:" in err  # located at the record's line


def test_record_for_a_row_that_contradicts_the_table(tmp_path):
    book = write_rulebook(tmp_path, BOOK)
    rows = [*ROWS[:2], {**ROWS[2], "评价得分": 30, "档次": "达成"}, ROWS[3]]
    code, _, err = scored(book, facts(tmp_path, rows, {"教材质量": {"得分": 20}}))
    assert code == 1 and "评价得分“30”" in err and "“20”" in err


def test_record_for_a_row_only_takes_evaluator_columns(tmp_path):
    book = write_rulebook(tmp_path, BOOK)
    code, _, err = scored(book, facts(tmp_path, ROWS, {"质量指标/教材质量": {"不适用": "是"}}))
    assert code == 1 and "不能写“不适用”" in err and "一级指标" in err


def test_record_for_a_rulebook_indicator_is_not_taken_by_a_row(tmp_path):
    """A row named like a rulebook indicator: the record keeps naming the rulebook's."""
    book = write_rulebook(tmp_path, BOOK.replace("资金使用 权重 20 正向 满分=100%", "资金使用 权重 20 酌情"))
    rows = [*ROWS[:3], row("群众满意", "满意度", "资金使用", 15, "≥90%", "90%")]
    code, result, err = scored(book, facts(tmp_path, rows, {"资金使用": {"得分": 12}}))
    assert code == 0, err
    assert by_path(result)["资金使用"]["score"] == 12 and by_path(result)["群众满意/满意度/资金使用"]["score"] == 15


# ---- a partial total when a group is missing and no rule says what to do --------------------------
def test_missing_group_without_a_rule_gives_a_marked_partial_total(tmp_path):
    book = write_rulebook(tmp_path, BOOK.replace(" 未设置时 并入 工作产出", ""))
    rows = [row("工作产出", "数量指标", "修缮校舍", 40, "≥9所", "6所"), row("群众满意", "满意度", "师生满意度", 15, "≥90%", "90%")]
    code, result, err = scored(book, facts(tmp_path, rows))
    assert code == 1 and "没有一级指标为“社会效益”的行" in err
    assert result["total"] is None and result["grade"] is None  # never passed off as the total
    assert result["partial"] == {"total": 16 + 26.67 + 15, "max": 75, "unscored": "社会效益"}
    _, text, _ = cli("explain", book, tmp_path / "p.yaml")
    assert "已计分部分 57.67 / 75" in text.splitlines()[0] and "社会效益" in text.splitlines()[0]


def test_partial_max_leaves_out_what_not_applicable_excludes(tmp_path):
    book = write_rulebook(tmp_path, BOOK.replace(" 未设置时 并入 工作产出", ""))
    rows = [row("工作产出", "数量指标", "修缮校舍", 40, "≥9所", "9所")]
    code, result, _ = scored(book, facts(tmp_path, rows, {"群众满意": {"不适用": "是"}}))
    assert code == 1 and result["partial"] == {"total": 56, "max": 60, "unscored": "社会效益"}


def test_complete_or_unscorable_projects_have_no_partial(tmp_path):
    book = write_rulebook(tmp_path, BOOK)
    rows = [row("工作产出", "数量指标", "修缮校舍", 65, "≥9所", "9所"), row("群众满意", "满意度", "师生满意度", 15, "≥90%", "90%")]
    code, result, _ = scored(book, facts(tmp_path, rows))
    assert code == 0 and "partial" not in result
    path = facts(tmp_path, [], name="empty.yaml")
    path.write_text("项目: 空项目\n事实: {}\n", encoding="utf-8")
    code, result, _ = scored(book, path)
    assert code == 1 and "partial" not in result  # nothing scored: nothing to show


def test_diff_reports_a_changed_merge(tmp_path):
    old = write_rulebook(tmp_path, BOOK.replace(" 未设置时 并入 工作产出", ""), "old.jx")
    new = write_rulebook(tmp_path, BOOK, "new.jx")
    code, out, _ = cli("diff", old, new)
    assert "社会效益" in out and "未设置时 并入" in out and "工作产出" in out
