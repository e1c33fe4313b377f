"""Generated input tables for the differential tests: facts tables for any rulebook-tree scheme,
self-evaluation tables for the target-table schemes.  Mostly valid, with the mistakes units make
(wrong units, unknown tiers and items, duplicate rows, blank names, full-width digits, stray
spaces), so that every engine's reasons and lines are compared, not only its totals."""
from __future__ import annotations

import csv
import random
from collections import Counter
from pathlib import Path

from jxdsl import ir
from jxdsl.units import plain

FACTS_COLUMNS = ["项目", "年度", "类别", "名称", "值", "档次", "得分", "说明", "不适用", "发生", "次数", "发现", "满足", "未满足", "问卷"]
SELF_EVAL_COLUMNS = ["项目", "一级指标", "二级指标", "三级指标", "分值", "年度指标值", "实际完成值", "档次", "评价得分", "说明", "计分方法", "明细", "年初预算数", "事实:全年预算数"]


def write_csv(path: Path, header: list[str], rows: list[list[str]], encoding: str = "utf-8") -> Path:
    with path.open("w", encoding=encoding, newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


# ---- facts tables (rulebook trees) ------------------------------------------------------------
def _number(rng: random.Random, lo: float, hi: float, places: int) -> str:
    v = rng.uniform(lo, hi)
    return f"{v:.{places}f}"


def fact_value(rng: random.Random, ftype: ir.FactType | None, m: float = 1.0) -> str:
    """A value as a unit would type it, now and then (``m`` scales how often) a wrong one."""
    bad = rng.random() < 0.06 * m
    if bad:
        return rng.choice(["未统计", "-5万元", "１２３", " 100人", "1e9999", "5%%", "", "12个", "2021年13月"])
    if ftype is ir.FactType.MONEY:
        return _number(rng, 0, 5000, rng.choice([0, 2, 4])) + rng.choice(["万元", "万元", "元", "亿元"])
    if ftype is ir.FactType.PERCENT:
        return _number(rng, 0, 120, rng.choice([0, 1, 2])) + "%"
    if ftype is ir.FactType.COUNT:
        return str(rng.randint(0, 500)) + (rng.choice(["个", "人", "户", "", "项"]) if m else "")  # units of a ratio must agree
    if ftype is ir.FactType.DATE:
        return rng.choice(["2021年12月", "2021年6月30日", "2022年1月", "2021-11-15", "2021年底"])
    if ftype is ir.FactType.TEXT:
        return rng.choice(["是", "否", "已完成", "合格"])
    return _number(rng, 0, 1000, rng.choice([0, 2]))


def _tier_record(rng, leaf: ir.Leaf, rule: ir.Tiers, m: float) -> dict:
    t = rng.choice(rule.tiers)
    rec = {"档次": t.name if rng.random() >= 0.05 * m else rng.choice(["优秀", "不清楚", t.name + " "])}
    if t.low != t.high or rng.random() < 0.1:
        low, high = (t.low * leaf.weight, t.high * leaf.weight) if t.of_weight else (t.low, t.high)
        rec["得分"] = _number(rng, float(low), float(high), rng.choice([0, 1, 2])) if rng.random() >= 0.1 * m else rng.choice(["abc", str(leaf.weight + 1), "-1"])
        if not m:
            rec["得分"] = plain((low + high) / 2, 4)  # inside the tier whether its ends are open or closed
    return rec


def _checklist_record(rng, rule: ir.Checklist, m: float) -> dict:
    names = [i.name for i in rule.items]
    met = [n for n in names if rng.random() < 0.7]
    unmet = [n for n in names if n not in met]
    if rng.random() < 0.1 * m:
        met.append(rng.choice(["未知事项", names[0]]))
    if rng.random() < 0.1:
        return {"满足": "全部"}
    rec = {"满足": "\n".join(met) if met else "无"}
    if rng.random() < 0.6:
        rec["未满足"] = "\n".join(unmet) if unmet else "无"
    return rec


def _survey_record(rng, source: ir.SurveyValue, m: float) -> dict:
    lines = []
    for _ in range(rng.randint(1, 3)):
        pairs = [f"{o.name}={rng.randint(0, 40)}" for o in source.options if rng.random() < 0.9]
        if rng.random() < 0.05 * m:
            pairs.append(rng.choice(["很好=3", "满意=abc", "7"]))
        lines.append(rng.choice(["，", "、", " "]).join(pairs))
    return {"问卷": "\n".join(lines)}


def leaf_record(rng: random.Random, leaf: ir.Leaf, m: float = 1.0) -> dict | None:
    """The evaluator's record for a leaf (None: no record)."""
    rule = leaf.rule
    rec: dict = {}
    if isinstance(rule, ir.Tiers):
        rec = _tier_record(rng, leaf, rule, m)
    elif isinstance(rule, ir.Checklist):
        rec = _checklist_record(rng, rule, m)
    elif isinstance(rule, ir.Deduction):
        n = rng.randint(0, 4)
        if rng.random() < 0.5:
            rec = {"发现": "\n".join(f"问题{k}" for k in range(n)) if n else "无"}
        else:
            rec = {"次数": str(n) if rng.random() >= 0.05 * m else "两次"}
    elif isinstance(rule, ir.Judgement):
        rec = {"得分": _number(rng, 0, float(leaf.weight), rng.choice([0, 2])) if rng.random() >= 0.05 * m else "满分"}
    source = getattr(rule, "value", None)
    if isinstance(source, ir.SurveyValue):
        rec.update(_survey_record(rng, source, m))
    if rng.random() < 0.05 * m:
        rec["得分"] = rng.choice([_number(rng, 0, float(leaf.weight), 2), "99", "3分"])
    if rng.random() < 0.04 * m:
        rec["不适用"] = rng.choice(["是", "否", "是 "])
    if leaf.vetoes and rng.random() < 0.3:
        rec["发生"] = rng.choice(["是", "否"])
    if rec and rng.random() < 0.5:
        rec["说明"] = rng.choice(["依据充分", "见附件", "资料不全，酌情扣分"])
    if rng.random() < 0.04 * m:
        return None
    return rec or ({"说明": "无"} if rng.random() < 0.3 or not m else None)


def facts_rows(scheme: ir.Scheme, rng: random.Random, n_projects: int, year: str = "", m: float = 1.0) -> list[list[str]]:
    """Rows of a facts table for ``n_projects`` projects of the scheme; ``m`` scales how often a
    unit's mistakes appear (0: none)."""
    rows: list[list[str]] = []

    def row(project, kind, name, value="", **fields):
        r = dict.fromkeys(FACTS_COLUMNS, "")
        r.update({"项目": project, "年度": year, "类别": kind, "名称": name, "值": value, **fields})
        rows.append([r[c] for c in FACTS_COLUMNS])

    units = _fact_units(scheme) if not m else {}
    for p in range(n_projects):
        project = f"项目{p}" + rng.choice(["", "（县级）"])
        for name, ftype in scheme.facts.items():
            if rng.random() < 0.05 * m:
                continue  # a fact left out
            row(project, rng.choice(["事实", ""]), name, fact_value(rng, ftype, m) + (units.get(name, "") if ftype is ir.FactType.COUNT else ""))
            if rng.random() < 0.02 * m:
                row(project, "事实", name, fact_value(rng, ftype))  # given twice
        for leaf in scheme.leaves():
            rec = leaf_record(rng, leaf, m)
            if rec is None:
                continue
            key = leaf.path[-1] if rng.random() > 0.2 else "/".join(leaf.path[-2:])
            row(project, "评价", key, **rec)
            if rng.random() < 0.02 * m:
                row(project, "评价", key, **rec)  # the same record twice
        for item in (*scheme.bonus, *scheme.penalty):
            if not m or rng.random() < 0.5:
                row(project, "评价", item.name, 发生=rng.choice(["是", "否", "不知道"] if m else ["是", "否"]))
        for name in scheme.vetoes:
            if not m or rng.random() < 0.5:
                row(project, "评价", name, 发生=rng.choice(["是", "否", "否"]))
        if rng.random() < 0.05 * m:
            row(project, "评价", "不存在的指标", 档次="好")
    if rng.random() < 0.3 * m:
        row("", "事实", "孤立数据", "1")
    if rng.random() < 0.2 * m:
        row("项目0", "其他", "类别有误", "1")
    return rows


def _fact_units(scheme: ir.Scheme) -> dict[str, str]:
    """The unit a count fact is compared in (``达标 =24人`` on the fact itself)."""
    out = {}
    for leaf in scheme.leaves():
        target, value = getattr(leaf.rule, "target", None), getattr(leaf.rule, "value", None)
        if isinstance(target, ir.Const) and hasattr(value, "name") and target.dim not in ("", "元"):
            out[value.name] = target.dim
        for veto in leaf.vetoes:
            c = veto.condition
            if isinstance(c, ir.Compare) and isinstance(c.left, ir.Name) and isinstance(c.right, ir.Const) and c.right.dim not in ("", "元"):
                out[c.left.name] = c.right.dim
    return out


# ---- self-evaluation tables (target-table schemes) ----------------------------------------------
WORDS = ["提高", "合格", "及时", "长期", "按时"]
CMP_FORMS = ["不少于{}", "不低于{}", "{}以上", "{}及以上", "达到{}", "不超过{}", "不高于 {}", "{}以下", "{}以内", "控制在{}以内", "控制在{}"]
TIERS = ["达成", "部分达成", "未达成", "基本达成"]


def self_eval_rows(rng: random.Random, n_projects: int, weights: dict[str, float] | None = None, m: float = 1.0, budget_weight: str = "10") -> list[list[str]]:
    """A long self-evaluation table: 6–12 target rows per project plus a budget row, mostly valid;
    ``weights`` are the rulebook's 一级指标 weights (Xing county's 50/30/10 by default); ``m`` 0
    leaves out the unit's mistakes (a table every project of which is scored); ``budget_weight``
    is the 分值 written on the 预算执行率 row."""
    pick = rng.choice
    num = rng.randint

    def dec(lo, hi, places):
        v = num(lo * 10**places, hi * 10**places)
        return f"{v / 10**places:.{places}f}" if places else str(v)

    rows = []
    extra = random.Random(rng.random())  # the optional columns (计分方法, 明细, budget facts)
    for p in range(n_projects):
        name = f"项目{p}" + pick(["", "（县级）", " "])
        budget = pick(["ok", "missing", "zero", "text", "negative", "over", "twice", "exact"] if m else ["ok", "exact"]) if num(0, 4) == 0 else "ok"
        if budget != "missing":
            a = dec(1, 900, 2)
            b = {"ok": dec(0, 900, 2), "zero": "5万元", "text": "未统计", "negative": "-3万元", "twice": dec(1, 900, 2), "over": dec(901, 2000, 1), "exact": a}[budget]
            unit = pick(["万元", "元", "亿元"])
            a_text = "0万元" if budget == "zero" else f"{a}{unit}"
            b_text = b if budget in ("text", "negative", "zero") else f"{b}{pick(['万元', unit]) if budget != 'exact' else unit}"
            if budget == "twice":
                rows.append([name, "预算执行率", "", "预算执行率", budget_weight, "100万元", "1万元", "", "", ""])
            rows.append([name, "预算执行率", "", "预算执行率", budget_weight, a_text, b_text, "", "", ""] + ([] if m else ["", "", a_text, ""]))  # 年初预算数 too
        n_rows = num(6, 12)
        weights = weights or {"产出指标": 50, "效益指标": 30, "满意度指标": 10}
        unset = "满意度指标" in weights and num(0, 5) == 0  # no 满意度 rows: its weight goes to 产出 (财预〔2020〕10号)
        firsts = ["产出指标"] * (n_rows - 2) + ["效益指标"] + ([] if unset else ["满意度指标"])
        shares: dict[str, list[str]] = {}
        for f, k in Counter(firsts).items():
            total = int((weights[f] + (weights["满意度指标"] if unset and f == "产出指标" else 0)) * 4)  # quarter points
            cuts = sorted(num(0, total) for _ in range(k - 1))
            parts = [y - x for x, y in zip([0, *cuts], [*cuts, total])]
            shares[f] = [str(x / 4).removesuffix(".0") for x in parts]
        if num(0, 9) == 0 and m:
            shares["产出指标"][0] = str(float(shares["产出指标"][0]) + 1).removesuffix(".0")  # weights off by one
        for i, first in enumerate(firsts):
            w = shares[first].pop(0)
            second = pick(["数量指标", "质量指标", "时效指标", "成本指标", ""]) if first == "产出指标" else pick(["社会效益指标", "服务对象满意度指标"])
            first_written = pick([first, first.removesuffix("指标"), "其他指标"]) if i == 0 and num(0, 5) == 0 and m else first
            rare = num(0, 9) == 0 and bool(m)
            kind = pick(["ge", "ge", "le", "eq", "plain", "date", "word", "word", "override", "pct", "zero", "cmpword"] + (["bad"] if rare else []))
            t = a = tier = score = ""
            if kind == "ge":
                u = pick(["人", "万人", "个"])
                t = f"{pick(['≥', '>=', '＞＝', '>'])}{dec(1, 3000, pick([0, 0, 2]))}{u}"
                a = f"{dec(0, 3500, pick([0, 1]))}{pick(['人', '户']) if rare else u}"
                if num(0, 4) == 0:  # beyond the target: capped, or reduced by the deviation
                    a = f"{float(t.lstrip('≥>=＞＝').removesuffix(u)) * pick([1.2, 2, 3.5]):.2f}{u}"
            elif kind == "le":
                u = pick(["元", "万元"])
                t = f"{pick(['≤', '<=', '<'])}{dec(1, 500, 2)}{u}"
                a = f"{dec(1, 1200, 2)}{pick([u, '元', '万元', '人']) if rare else u}"
            elif kind == "zero":
                u = pick(["起", "元", "%"])
                t = f"{pick(['≤', '≥', '='])}0{u}"
                a = f"{pick(['0', '0', '2', '0.5'])}{u}"
            elif kind == "eq":
                t = f"={dec(90, 100, 0)}%"
                a = f"{dec(85, 100, pick([0, 2]))}%"
            elif kind == "pct":
                t = f"{pick(['≥', ''])}{dec(80, 100, 0)}%"
                a = pick([f"{dec(40, 130, 2)}%", f"≥{dec(60, 100, 0)}%", "100%"])
            elif kind == "plain":
                u = pick(["万元", "套", "个"])
                t = f"{dec(1, 300, 1)}{u}" if not rare else f"１２{u}"
                a = f"{dec(1, 320, 2)}{u}"
            elif kind == "date":
                t = pick(["2022年底", "2022年12月", "2022-06", "≤2022年10月", "≥2022年1月", "=2022年"] + (["2022年13月"] if rare else []))
                a = pick(["2022年11月", "2022年底", "2023年1月", "2022-05-31", "2022年6月15日"] + (["未完成"] if rare else []))
            elif kind == "word":
                t = pick(WORDS)
                a = pick([t, t, pick(WORDS), ""]) if rare else t
                if num(0, 3) == 0:
                    tier = pick(TIERS) if rare else pick(TIERS[:3])
                    lo, hi = {"达成": (80, 100), "部分达成": (50, 79), "未达成": (0, 49)}.get(tier, (0, 100))
                    inside = f"{float(w) * num(lo, hi) / 100:.2f}"
                    score = pick(["", dec(0, 30, 1), "abc", "5%"]) if rare else inside
                elif rare:
                    score = dec(0, 30, 2)
            elif kind == "cmpword":  # comparison words of published forms (units.CMP_WORDS_BEFORE/AFTER)
                u = pick(["种", "%", "人", "日", "万元"])
                n = f"{dec(1, 100, pick([0, 0, 1]))}{u}"
                t = pick(CMP_FORMS + (["不低于{}以下", "以上{}"] if rare else [])).format(n)
                a = pick([f"{dec(0, 120, pick([0, 1]))}{u}", f"{dec(0, 120, 0)}{u}", f"达到{n}", f"{n}以上", n] + (["", "未统计"] if rare else []))
            elif kind == "override":
                t = f"≥{dec(1, 100, 0)}人"
                a = pick([f"{dec(0, 120, 0)}人", "", "未统计", f"{dec(0, 120, 0)}户"] if m else [f"{dec(0, 120, 0)}人"])
                ok = f"{float(w) * num(0, 100) / 100:.{pick([0, 2])}f}"
                score = pick([dec(0, 10, 2), "99", "abc", "3分"]) if rare else pick([ok, f"{ok}分", "0"])
            else:
                t = pick(["≥", "≥12人", "LPR", "≥1.2.3人", "+5人", "≥1e3人", "≥1e99999人"])
                a = pick(["12人", "", "≥750人", "0人", "abc", " 100人"])
                if t == "≥12人" and num(0, 1):
                    w = pick(["abc", "-1", "5%", w])
            rows.append([name, first_written, second, f"指标{i}", w, t, a, tier, score, pick(["", "说明文字"])])
            _row_extras(extra, rows, first_written, second, t, a, kind, m)
        if num(0, 3) == 0 and m:
            rows.append([name, "", "", "无一级", "5", "1人", "1人", "", "", ""])
    if num(0, 3) == 0 and m:
        rows.append(["", "产出指标", "", "无项目", "5", "1人", "1人", "", "", ""])
    return [r + [""] * (len(SELF_EVAL_COLUMNS) - len(r)) for r in rows]


METHODS = ["正向", "反向", "达标", "定性"]
# without mistakes, a 计分方法 that fits the row (反向 or 达标 on ≤, 定性 on words)
FITTING_METHODS = {"ge": ["正向", "达标"], "pct": ["正向", "达标"], "le": ["反向", "达标"], "eq": ["达标", "正向"], "word": ["定性"]}


def _row_extras(rng: random.Random, rows: list[list[str]], first: str, second: str, target: str, actual: str, kind: str = "", m: float = 1.0) -> None:
    """The optional columns on the row just written: now and then a 计分方法 (rarely a misspelt
    one), a budget fact column (the same value, or now and then another), and breakdown rows (明细)
    below it — rarely one with a wrong 明细 word, or one whose 一级指标 has no row above it. With
    ``m`` 0 only what a careful unit writes: a fitting 计分方法 and plain 明细 rows."""
    row = rows[-1]
    if not m:
        method = rng.choice(["", "", *FITTING_METHODS.get(kind, [""])])
        row += [method, "", "", ""]
        for k in range(rng.choice([0, 0, 0, 0, 1, 2])):
            rows.append([row[0], first, second, f"其中：{k + 1}", "", target, actual, "", "", "", "", "是", "", ""])
        return
    method = rng.choice(["", "", "", "", "", *METHODS, " 达标 "] + (["正相", "酌情"] if rng.random() < 0.1 else []))
    budget = "" if rng.random() < 0.85 else rng.choice(["100万元", "100万元", "100万元", "120万元"])
    row += [method, "", budget, "" if rng.random() < 0.97 else rng.choice(["100万元", "90万元"])]
    for k in range(rng.choice([0, 0, 0, 0, 1, 2])):
        word = rng.choice(["是", "是", "是", " 是", "√"] if rng.random() < 0.2 else ["是"])
        detail_first = rng.choice([first, first, first, "效益指标"]) if rng.random() < 0.1 else first
        rows.append([row[0], detail_first, second, f"其中：{k + 1}", rng.choice(["", "", "2"]), target, rng.choice([actual, "", "3人"]), "", "", "", "", word, "", ""])
