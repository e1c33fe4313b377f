"""The workbench page driven in headless Chromium (Playwright), against the real server on a copy
of rulebooks/ and examples/: what a policy officer does — make a typo and see it underlined, fix
it and see the tree and score come back, change a weight, ask what value reaches a grade, compare
a change on the Xing county table, and never lose an edit across a reload.
"""
from __future__ import annotations

import os

import pytest

from workbench_driver import CHROMIUM, QIXIA, bundled_folder, launch, type_over

if not CHROMIUM.exists():
    pytest.skip("没有 /usr/bin/chromium，跳过浏览器测试", allow_module_level=True)
try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:
    pytest.skip("没有安装 playwright，跳过浏览器测试", allow_module_level=True)

from jxdsl.serve import Background

QIXIA_FACTS = "examples/qixia-2021/facts.yaml"
XINGXIAN = "rulebooks/shanxi/xingxian-2022-self-eval.jx"
XINGXIAN_TABLE = "examples/xingxian-2022-table/self-eval.csv"


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return bundled_folder(tmp_path_factory.mktemp("workbench"))


@pytest.fixture(scope="module")
def server(folder):
    with Background(folder) as running:
        yield running


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        launched = launch(p)
        yield launched
        launched.close()


@pytest.fixture
def page(browser, server):
    """A fresh page (its own localStorage); a script error on it fails the test."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    opened = context.new_page()
    errors = []
    opened.on("pageerror", lambda e: errors.append(str(e)))
    opened.base = server.url
    yield opened
    context.close()
    assert errors == []


def open_rulebook(page, path, facts=None):
    page.goto(f"{page.base}/#{path}")
    page.wait_for_function("window.jxdsl && window.jxdsl.lastCheck && window.jxdsl.lastCheck.ok")
    if facts:
        page.click('button[data-tab="score"]')
        page.select_option("#facts-file", facts)
        expect(page.locator("#score-result [data-total]")).to_be_visible()


def underlined(page):
    """Each underlined span of the highlighted layer: its text, 1-based line and column."""
    return page.evaluate("""() => [...document.querySelectorAll('.editor .hl .err')].map((span) => {
        const range = document.createRange();
        range.setStart(document.querySelector('.editor .hl code'), 0);
        range.setEndBefore(span);
        const before = range.toString().split('\\n');
        return [span.textContent, before.length, [...before[before.length - 1]].length + 1];
    })""")


def tree_row(page, name):
    return page.locator("#tree li", has=page.locator(".name", has_text=name)).first


def score_shown(page):
    return page.inner_text("#score-result [data-total]"), page.inner_text("#score-result [data-grade]")


def test_typo_is_underlined_and_fixing_it_brings_back_tree_and_score(page):
    open_rulebook(page, QIXIA, QIXIA_FACTS)
    assert score_shown(page) == ("92.66", "优")
    # the overlay and the textarea share every metric, so the colours sit under the typed characters
    same = page.evaluate("""() => {
        const a = getComputedStyle(document.querySelector('.editor textarea'));
        const b = getComputedStyle(document.querySelector('.editor .hl'));
        return ['fontFamily', 'fontSize', 'lineHeight', 'letterSpacing', 'paddingLeft', 'paddingTop', 'tabSize', 'whiteSpace']
            .filter((k) => a[k] !== b[k]);
    }""")
    assert same == []
    assert page.locator(".editor .hl .s-keyword-control", has_text="权重").count() > 50

    type_over(page, 67, "权重", "权垂")
    assert underlined(page) == [["权垂", 67, 8]]
    expect(page.locator("#problems li")).to_have_count(1)
    problem = page.inner_text("#problems li")
    assert "67:8" in problem and "此处不应出现“权垂”" in problem and "是否应为“权重”" in problem
    assert page.locator(".gutter-lines .bad").inner_text() == "67"
    assert "上次无误时" in page.inner_text("#tree-note")
    page.click("#problems li")  # the cursor goes to the error
    assert page.evaluate("""() => { const ta = document.querySelector('.editor textarea');
        return ta.value.slice(0, ta.selectionStart).split('\\n').length; }""") == 67

    scored = page.evaluate("window.jxdsl.scoreSeq")
    type_over(page, 67, "权垂", "权重")
    assert underlined(page) == []
    assert page.inner_text("#tree-note") == ""
    expect(page.locator("#problems li.none")).to_have_text("没有错误")
    page.wait_for_function(f"window.jxdsl.scoreSeq > {scored}")
    expect(page.locator("#score-result [data-total]")).to_have_text("92.66")
    assert score_shown(page) == ("92.66", "优")
    assert "总分 92.66" in page.inner_text("#explanation")


def test_changed_weight_shows_in_tree_with_the_sum_mismatch(page):
    open_rulebook(page, QIXIA)
    row = tree_row(page, "项目立项")
    assert row.locator(".weight").inner_text() == "4"
    type_over(page, 67, "权重 4", "权重 5")
    assert row.locator(".weight").inner_text() == "5"
    assert row.locator(".sum").inner_text() == "Σ 4 ✗"
    decision = tree_row(page, "决策")
    assert decision.locator(".sum.bad").inner_text() == "Σ 19 ✗"
    assert row.locator(".badge").inner_text() == "调整"
    assert "权重：8 → 5" in row.get_attribute("title")
    tree_row(page, "事前工作的有效性").click()  # an indicator of this file: the cursor goes to its line
    assert page.evaluate("""() => { const ta = document.querySelector('.editor textarea');
        return ta.value.slice(0, ta.selectionStart).split('\\n').length; }""") == 79


def test_what_if_solves_a_value_and_rescoring_with_it_reaches_the_goal(page):
    pytest.importorskip("jxdsl.whatif", reason="求解（jxdsl/whatif.py）尚未合并")
    open_rulebook(page, QIXIA, QIXIA_FACTS)
    page.click('button[data-tab="whatif"]')
    page.select_option("#wi-fact", "实际支出资金")
    page.select_option("#wi-goal", "grade")
    page.select_option("#wi-grade", "优")
    page.click("#wi-solve")
    solved = page.locator("#wi-result [data-solved]")
    expect(solved).to_be_visible()
    value = solved.inner_text()
    assert value.endswith("万元") and "至少" in page.inner_text("#wi-result .sentence")
    page.click("#wi-apply")  # rescored by the interpreter with exactly that value: 优, at its lowest
    expect(page.locator("#wi-score")).to_contain_text(f"实际支出资金 = {value}")
    assert page.inner_text("#wi-score [data-grade]") == "优"
    # the slider a little below the solved value: no longer 优, so the value is the boundary
    below = float(value.removesuffix("万元")) - 1
    page.evaluate("""(v) => { const s = document.querySelector('#wi-slider');
        s.value = String(v); s.dispatchEvent(new Event('input')); }""", below)
    expect(page.locator("#wi-score [data-grade]")).to_have_text("良")


def test_impact_on_the_xing_county_table_shows_the_grade_matrix(page):
    pytest.importorskip("jxdsl.impact", reason="影响比较（jxdsl/impact.py）尚未合并")
    open_rulebook(page, XINGXIAN)
    # the national default for quantitative targets is proportional; scoring them met/not met instead
    type_over(page, 22, "定性 : 三档", "定量 ≥ : 达标\n  定性 : 三档")
    page.click('button[data-tab="impact"]')
    page.select_option("#im-old", "saved")
    page.select_option("#im-table", XINGXIAN_TABLE)
    page.click("#im-run")
    matrix = page.locator('#im-result table[data-key="matrix"]')
    expect(matrix).to_be_visible(timeout=15_000)
    cells = matrix.locator("tr").evaluate_all("rows => rows.map((r) => [...r.children].map((c) => c.textContent))")
    assert cells[0] == ["", "优", "良", "中", "差"]
    assert cells[1] == ["优", "4", "1", "", ""] and cells[2] == ["良", "", "1", "", ""]
    assert "总分变化 3 个，等级变化 1 个" in page.inner_text("#im-result [data-counts]")
    expect(page.locator('#im-result table[data-key="changed"] tr')).to_have_count(4)


def test_unsaved_text_survives_a_reload_and_save_replaces_the_file(page, folder):
    open_rulebook(page, XINGXIAN)
    type_over(page, 16, "2022", "2023")
    expect(page.locator("#dirty")).to_be_visible()
    warned = []
    page.on("dialog", lambda d: (warned.append(d.type), d.accept()))
    page.reload()
    page.wait_for_function("window.jxdsl && window.jxdsl.lastCheck")
    assert warned == ["beforeunload"]
    assert "年度 2023" in page.input_value(".editor textarea")
    expect(page.locator("#dirty")).to_have_text("未保存")

    disk = folder / XINGXIAN
    before = os.stat(disk).st_ino
    page.keyboard.press("Control+s")
    expect(page.locator("#dirty")).to_be_hidden()
    assert "年度 2023" in disk.read_text(encoding="utf-8")
    assert os.stat(disk).st_ino != before  # written beside and renamed over: never half a file
    assert sorted(p.name for p in disk.parent.iterdir()) == ["xingxian-2022-self-eval.jx"]

    # someone else changes the file: saving asks, and "keep mine" writes mine
    disk.write_text(disk.read_text(encoding="utf-8") + "# 别人的修改\n", encoding="utf-8")
    type_over(page, 16, "2023", "2024")
    page.click("#save")
    expect(page.locator("#conflict")).to_be_visible()
    assert "修改过" in page.inner_text("#conflict-message")
    page.click('#conflict button[value="mine"]')
    expect(page.locator("#dirty")).to_be_hidden()
    assert "年度 2024" in disk.read_text(encoding="utf-8") and "别人的修改" not in disk.read_text(encoding="utf-8")


def test_highlighter_reads_the_grammar_as_vscode_would(page):
    """highlight.js with jxdsl.tmLanguage.json, in the browser's own regex engine: the scope of each word."""
    page.goto(page.base + "/")
    got = page.evaluate("""async () => {
        const { Highlighter } = await import('/static/highlight.js');
        const grammar = await (await fetch('/static/jxdsl.tmLanguage.json')).json();
        const lines = ['规则集 栖霞-2021 继承 财预2020-10', '  项目立项 权重 4 档次 符合＝1 不符合=0  ＃ 注释',
                       '预算执行率 = 实际支出资金 / 预算资金', '调整 决策/项目立项 权重 3180.30万元', '“复合肥+缓控释肥” 达标 ≥24人',
                       '新增就业人数 权重 2 正向 满分=最小(100%, 2)'];
        const tokens = new Highlighter(grammar).lines(lines.join('\\n'));
        return tokens.map((line, i) => line.map((t) => [lines[i].slice(t.start, t.end), t.scopes[t.scopes.length - 1]])
            .filter(([text]) => text.trim()));
    }""")
    scope = {(i, text): name for i, line in enumerate(got) for text, name in line}
    assert scope[0, "规则集"] == scope[0, "继承"] == "keyword.control.jxdsl"
    assert scope[0, "栖霞-2021"] == "entity.name.type.rulebook.jxdsl"
    assert scope[0, "财预2020-10"] == "entity.other.inherited-class.jxdsl"
    assert scope[1, "项目立项"] == "entity.name.function.indicator.jxdsl"
    assert scope[1, "＝"] == scope[1, "="] == "keyword.operator.jxdsl"
    assert scope[1, "＃"] == "punctuation.definition.comment.jxdsl" and scope[1, " 注释"] == "comment.line.number-sign.jxdsl"
    assert scope[2, "预算执行率"] == "variable.other.definition.jxdsl"
    assert scope[3, "决策/项目立项"] == "entity.name.function.indicator.jxdsl"
    assert scope[3, "3180.30"] == "constant.numeric.jxdsl" and scope[3, "万元"] == "keyword.other.unit.jxdsl"
    assert scope[4, "复合肥+缓控释肥"] == "string.quoted.other.jxdsl" and scope[4, "“"] == "punctuation.definition.string.begin.jxdsl"
    assert scope[4, "≥"] == "keyword.operator.jxdsl" and scope[4, "人"] == "keyword.other.unit.jxdsl"
    # 新增 inside a name is not the keyword; 最小 before its bracket is the function
    assert scope[5, "新增就业人数"] == "entity.name.function.indicator.jxdsl"
    assert scope[5, "最小"] == "support.function.builtin.jxdsl" and scope[5, "正向"] == "keyword.control.jxdsl"


def test_facts_changed_in_another_program_are_scored_when_the_page_is_looked_at_again(page, folder):
    facts = folder / QIXIA_FACTS
    before = facts.read_text(encoding="utf-8")
    open_rulebook(page, QIXIA, QIXIA_FACTS)
    assert score_shown(page) == ("92.66", "优")
    assert "实际支出资金: 3142.819772万元" in before
    facts.write_text(before.replace("实际支出资金: 3142.819772万元", "实际支出资金: 1000万元"), encoding="utf-8")
    try:
        page.evaluate("window.dispatchEvent(new Event('focus'))")
        expect(page.locator("#score-result [data-total]")).not_to_have_text("92.66")
        assert float(score_shown(page)[0]) < 92.66
    finally:
        facts.write_text(before, encoding="utf-8")
