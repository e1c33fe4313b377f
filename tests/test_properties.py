"""Property tests: scores stay within their weights, parents add up, spelling variants parse equal."""
from __future__ import annotations

import tempfile
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from jxdsl.parse import parse

from conftest import evaluate_text, messages


def dec(f: Fraction, places: int = 4) -> str:
    """An exact decimal string for a Fraction with at most ``places`` decimals."""
    d = Decimal(f.numerator) / Decimal(f.denominator)
    s = format(d.quantize(Decimal(1).scaleb(-places)), "f")
    assert Fraction(Decimal(s)) == f, (f, s)
    s = s.rstrip("0").rstrip(".") if "." in s else s
    return "0" if s in ("-0", "") else s


def half_up(f: Fraction) -> Fraction:
    d = (Decimal(f.numerator) / Decimal(f.denominator)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return Fraction(d)


# weights: two decimals in (0, 100]
weights = st.integers(min_value=1, max_value=10_000).map(lambda c: Fraction(c, 100))
# values and targets: up to four decimals, zero included and often drawn
magnitudes = st.one_of(st.just(Fraction(0)), st.integers(min_value=0, max_value=2_000_000).map(lambda n: Fraction(n, 10_000)))
signed = st.one_of(magnitudes, magnitudes.map(lambda f: -f))


def in_weight(w: Fraction):
    """A score in [0, w] with two decimals."""
    return st.integers(min_value=0, max_value=int(w * 100)).map(lambda c: Fraction(c, 100))


@st.composite
def rule_cases(draw):
    """(kind, rulebook text, values, evaluations, weight, expected score or None)."""
    w = draw(weights)
    W = dec(w, 2)
    kind = draw(st.sampled_from(["正向", "反向", "达标", "清单", "档次", "定性", "分段", "扣分", "公式", "酌情", "否决"]))
    if kind == "正向":
        v, t = draw(signed), draw(magnitudes)
        text = f"甲 权重 {W} 正向 满分={dec(t)}%\n"
        if t <= 0:
            expected = w if v >= t else Fraction(0)
        else:
            expected = half_up(min(max(w * v / t, Fraction(0)), w))
        return kind, text, {"甲": f"{dec(v)}%"}, {}, w, expected
    if kind == "反向":
        v, t = draw(magnitudes), draw(magnitudes)
        text = f"甲 权重 {W} 反向 满分={dec(t)}万元\n"
        expected = w if v <= t else half_up(w * t / v)
        return kind, text, {"甲": f"{dec(v)}万元"}, {}, w, expected
    if kind == "达标":
        v, t = draw(signed), draw(signed)
        op = draw(st.sampled_from(["≥", "≤", "=", ">", "<"]))
        met = {"≥": v >= t, "≤": v <= t, "=": v == t, ">": v > t, "<": v < t}[op]
        if t < 0:  # a negative literal needs the unary minus of the expression grammar
            target = f"-{dec(-t)}人"
        else:
            target = f"{dec(t)}人"
        text = f"甲 权重 {W} 达标 {op}{target}\n"
        return kind, text, {"甲": f"{dec(v)}人"}, {}, w, w if met else Fraction(0)
    if kind == "清单":
        a = draw(in_weight(w))
        items = [("第一条", a), ("第二条", w - a)]
        text = f"甲 权重 {W} 清单\n" + "".join(f"  {n} {dec(p, 2)}\n" for n, p in items)
        unmet = draw(st.lists(st.sampled_from(["第一条", "第二条"]), unique=True))
        expected = w - sum((p for n, p in items if n in unmet), Fraction(0))
        return kind, text, {}, {"甲": {"未满足": unmet} if unmet else {"满足": "全部"}}, w, expected
    if kind == "档次":
        mid = draw(in_weight(w))
        tiers = {"好": w, "中": mid, "差": Fraction(0)}
        if mid in (w, 0):
            tiers = {"好": w, "差": Fraction(0)} if w != 0 else {"好": w}
        text = f"甲 权重 {W} 档次 " + " ".join(f"{n}={dec(p, 2)}" for n, p in tiers.items()) + "\n"
        pick = draw(st.sampled_from(sorted(tiers)))
        return kind, text, {}, {"甲": {"档次": pick}}, w, tiers[pick]
    if kind == "定性":
        s = draw(in_weight(w))
        text = f"甲 权重 {W} 定性 三档 达成[80%,100%] 部分达成[60%,80%) 未达成[0,60%)\n"
        return kind, text, {}, {"甲": {"得分": dec(s, 2)}}, w, s
    if kind == "分段":
        pts = sorted((draw(in_weight(w)) for _ in range(3)), reverse=True)
        ths = sorted(draw(st.lists(signed, min_size=2, max_size=2, unique=True)), reverse=True)  # equal bounds: an unreachable band
        v = draw(signed)
        text = f"甲 权重 {W} 分段 ≥{dec(ths[0]) if ths[0] >= 0 else '-' + dec(-ths[0])}%:{dec(pts[0], 2)} "
        text += f"≥{dec(ths[1]) if ths[1] >= 0 else '-' + dec(-ths[1])}%:{dec(pts[1], 2)} 否则:{dec(pts[2], 2)}\n"
        expected = pts[0] if v >= ths[0] else pts[1] if v >= ths[1] else pts[2]
        return kind, text, {"甲": f"{dec(v)}%"}, {}, w, expected
    if kind == "扣分":
        per = draw(st.integers(min_value=1, max_value=1000).map(lambda c: Fraction(c, 100)))
        n = draw(st.integers(min_value=0, max_value=30))
        floored = draw(st.booleans())
        text = f"甲 权重 {W} 扣分 每处{dec(per, 2)}" + (" 扣完为止" if floored else "") + "\n"
        return kind, text, {}, {"甲": {"发现": [f"问题{i}" for i in range(n)]}}, w, max(w - per * n, Fraction(0))
    if kind == "公式":
        x = draw(signed)
        text = f"事实\n  乙 数值\n甲 权重 {W} 得分 = 分值 × 最小(乙, 1)\n"
        return kind, text, {"乙": dec(x)}, {}, w, half_up(min(max(w * min(x, 1), Fraction(0)), w))
    if kind == "酌情":
        s = draw(in_weight(w))
        return kind, f"甲 权重 {W} 酌情\n", {}, {"甲": {"得分": dec(s, 2)}}, w, s
    # 否决: a veto condition under a 正向 rule
    v, share = draw(magnitudes), draw(magnitudes)
    text = f"事实\n  占比 百分比\n甲 权重 {W} 正向 满分=100%\n  若 占比 ≥20% 则 0\n"
    expected = Fraction(0) if share / 100 >= Fraction(1, 5) else half_up(min(w * v / 100, w))
    return kind, text, {"甲": f"{dec(v)}%", "占比": f"{dec(share)}%"}, {}, w, expected


@settings(max_examples=100)
@given(rule_cases())
def test_every_rule_kind_scores_within_weight(case):
    kind, text, values, evaluations, w, expected = case
    with tempfile.TemporaryDirectory() as d:
        result = evaluate_text("规则集 性质\n" + text, values, evaluations, directory=Path(d))
    (r,) = result.indicators
    assert not result.errors, (kind, text, values, messages(result))
    assert r.score is not None
    assert 0 <= r.score <= w, (kind, text, values, r.score)
    assert r.score == expected, (kind, text, values, evaluations, r.score, expected)
    assert result.total == r.score


# ---- (b) parents add up ------------------------------------------------------------------------
@st.composite
def trees(draw, cents: int, depth: int, counter: list):
    """A node of ``cents`` hundredths: either a leaf (score, rule) or children partitioning it."""
    counter[0] += 1
    name = f"指标{counter[0]}号"
    if depth == 0 or cents < 2 or draw(st.integers(min_value=0, max_value=2)) == 0:
        if draw(st.booleans()):
            s = draw(st.integers(min_value=0, max_value=cents))
            return {"name": name, "cents": cents, "rule": "酌情", "score": Fraction(s, 100)}
        value = draw(st.integers(min_value=0, max_value=15_000))
        return {"name": name, "cents": cents, "rule": "正向", "value": Fraction(value, 10_000)}
    k = draw(st.integers(min_value=2, max_value=min(4, cents)))
    cuts = sorted(draw(st.lists(st.integers(min_value=1, max_value=cents - 1), min_size=k - 1, max_size=k - 1, unique=True)))
    parts = [b - a for a, b in zip([0, *cuts], [*cuts, cents])]
    return {"name": name, "cents": cents, "children": [draw(trees(p, depth - 1, counter)) for p in parts]}


@st.composite
def forests(draw):
    counter = [0]
    total = draw(st.integers(min_value=1, max_value=10_000))
    n = draw(st.integers(min_value=1, max_value=min(4, total)))
    cuts = sorted(draw(st.lists(st.integers(min_value=1, max_value=total - 1), min_size=n - 1, max_size=n - 1, unique=True))) if n > 1 else []
    parts = [b - a for a, b in zip([0, *cuts], [*cuts, total])]
    return [draw(trees(p, 3, counter)) for p in parts]


def render(node, depth=0):
    pad = "  " * depth
    w = dec(Fraction(node["cents"], 100), 2)
    if "children" in node:
        return f"{pad}{node['name']} 权重 {w}\n" + "".join(render(c, depth + 1) for c in node["children"])
    if node["rule"] == "酌情":
        return f"{pad}{node['name']} 权重 {w} 酌情\n"
    return f"{pad}{node['name']} 权重 {w} 正向 满分=100%\n"


def leaves(node):
    if "children" in node:
        for c in node["children"]:
            yield from leaves(c)
    else:
        yield node


@settings(max_examples=60)
@given(forests())
def test_parents_equal_sum_of_children(forest):
    text = "规则集 树\n" + "".join(render(n) for n in forest)
    values, evaluations = {}, {}
    for leaf in (x for n in forest for x in leaves(n)):
        if leaf["rule"] == "酌情":
            evaluations[leaf["name"]] = {"得分": dec(leaf["score"], 2)}
        else:
            values[leaf["name"]] = f"{dec(leaf['value'] * 100, 2)}%"
    with tempfile.TemporaryDirectory() as d:
        result = evaluate_text(text, values, evaluations, directory=Path(d))
    assert not result.errors, messages(result)
    count = 0
    for r in result.walk():
        count += 1
        assert r.score is not None and 0 <= r.score <= r.weight
        if r.children:
            assert r.weight == sum(c.weight for c in r.children)
            assert r.score == sum(c.score for c in r.children), r.path
    assert count == sum(1 for n in forest for _ in _walk(n))
    assert result.total == sum(r.score for r in result.indicators)
    assert result.max == sum(Fraction(n["cents"], 100) for n in forest)


def _walk(node):
    yield node
    for c in node.get("children", []):
        yield from _walk(c)


# ---- (c) spelling variants parse equal -------------------------------------------------------------
VARIANTS = {
    "EQ": ["=", "＝"],
    "COLON": [":", "："],
    "LP": ["(", "（"],
    "RP": [")", "）"],
    "LB": ["[", "［"],
    "RB": ["]", "］"],
    "COMMA": [",", "，"],
    "GE": [">=", "≥", "≧", "＞＝"],
    "LE": ["<=", "≤", "≦", "＜＝"],
    "MUL": ["*", "×", "＊"],
    "DIV": ["/", "÷", "／"],
    "SUB": ["-", "－", "−"],
    "ADD": ["+", "＋"],
    "SP": [" ", "  ", "　", "\t"],
    "IND": ["  ", "　"],  # one indentation level: two spaces or one full-width space
    "EOL": ["", " # 注释", "　＃ 全角注释", "#"],
}
TEMPLATE = [
    "规则集 测试{EOL}",
    "等级 优{SP}{GE}90{SP}良{SP}{GE}80{SP}中{SP}{GE}60{SP}差{EOL}",
    "事实{EOL}",
    "{IND}计划成本{SP}金额{EOL}",
    "{IND}实际成本{SP}金额{EOL}",
    "成本节约率{SP}{EQ}{SP}{LP}计划成本{SP}{SUB}{SP}实际成本{RP}{SP}{DIV}{SP}计划成本{EOL}",
    "加权值{SP}{EQ}{SP}成本节约率{SP}{MUL}{SP}2{SP}{ADD}{SP}1{EOL}",
    "决策{SP}权重{SP}20{EOL}",
    "{IND}效果{SP}权重{SP}3{SP}档次{SP}显著{LP}2{COMMA}3{RB}{SP}较好{LB}1{COMMA}2{RB}{SP}较差{EQ}0{EOL}",
    "{IND}成本节约率{SP}权重{SP}2{SP}分段{SP}{GE}4%{COLON}2{SP}{GE}0%{COLON}0.5{SP}否则{COLON}0{EOL}",
    "{IND}资金{SP}权重{SP}5{SP}得分{SP}{EQ}{SP}分值{SP}{MUL}{SP}最小{LP}成本节约率{COMMA}{SP}1{RP}{EOL}",
    "{IND}人数{SP}权重{SP}5{SP}达标{SP}{LE}24人{EOL}",
    "{IND}满意度{SP}权重{SP}5{SP}达标{SP}{GE}98%{EOL}",
    "{IND}{IND}满意度{SP}问卷{SP}满意{EQ}1{SP}一般{EQ}0.8{SP}不满意{EQ}0{EOL}",
]


def _fill(line: str, choose) -> str:
    out, i = [], 0
    while i < len(line):
        if line[i] == "{":
            j = line.index("}", i)
            out.append(choose(line[i + 1 : j]))
            i = j + 1
        else:
            out.append(line[i])
            i += 1
    return "".join(out)


CANONICAL = "\n".join(_fill(line, lambda k: VARIANTS[k][0]) for line in TEMPLATE) + "\n"


@settings(max_examples=100)
@given(st.data())
def test_spelling_variants_parse_to_equal_asts(data):
    text = "\n".join(_fill(line, lambda k: data.draw(st.sampled_from(VARIANTS[k]), label=k)) for line in TEMPLATE) + "\n"
    assert parse(text, "variant.jx") == parse(CANONICAL, "canonical.jx"), text


def test_canonical_template_is_meaningful():
    doc = parse(CANONICAL, "canonical.jx")
    # the template really exercises tiers, bands, a formula, a survey and derived values
    kinds = {type(s).__name__ for s in doc.statements}
    assert {"RulebookDecl", "Grades", "FactsBlock", "Derived", "Indicator"} <= kinds
    (decision,) = [s for s in doc.statements if type(s).__name__ == "Indicator"]
    assert [type(c.rule).__name__ for c in decision.children] == ["Tiers", "Bands", "Formula", "TargetMet", "TargetMet"]
    assert decision.children[-1].survey is not None
