"""What a rulebook needs from each project, and a blank facts file listing exactly that.

Why: a unit filling in data for a rulebook should not guess which facts and evaluator records it
asks for.  Everything is derived from the lowered scheme (``lower.lower``), the same definition
every engine scores with: the facts its rules, 取 expressions, vetoes and derived values read
(derived values themselves are computed, not asked for), the record each leaf's rule takes, the
bonus, penalty and veto items, and the 来自目标表 groups whose rows the project supplies.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from jxdsl import ir
from jxdsl.link import Rulebook
from jxdsl.lower import lower, names


@dataclass
class Needs:
    """The inputs a rulebook needs, in document order."""

    facts: dict[str, tuple[str, list[str]]] = field(default_factory=dict)  # name → (type, the indicators reading it)
    examples: dict[str, str] = field(default_factory=dict)  # name → a value written like the rule's target (24人)
    records: list[tuple[str, str, dict]] = field(default_factory=list)  # (key, what to give, blank record)
    tables: list[tuple[str, str]] = field(default_factory=list)  # (group, weight)


def needs(book: Rulebook) -> Needs:
    """Facts, evaluator records and target-table groups the rulebook asks each project for."""
    scheme = lower(book)
    derived = {d.name: d.expr for d in scheme.derived}
    out = Needs()
    leaf_names = [leaf.name for leaf in scheme.leaves()]
    for node in scheme.walk():
        if isinstance(node, ir.TargetTable):
            out.tables.append((node.name, _num(node.weight)))
        if not isinstance(node, ir.Leaf):
            continue
        shown = "/".join(node.path)
        for name in _reads(node):
            for fact in _base(name, derived, set()):
                kind = scheme.facts.get(fact)
                out.facts.setdefault(fact, (kind.value if kind else "类型未注明", []))[1].append(shown)
        target = getattr(node.rule, "target", None)
        value = getattr(node.rule, "value", None)
        if isinstance(target, ir.Const) and isinstance(value, ir.OwnValue) and value.name not in derived:
            out.examples.setdefault(value.name, target.text)
        for veto in node.vetoes:
            c = veto.condition
            if isinstance(c.left, ir.Name) and isinstance(c.right, ir.Const) and c.left.name not in derived:
                out.examples.setdefault(c.left.name, c.right.text)
        record = _record(node.rule, node.weight)
        if record is not None:
            key = node.name if leaf_names.count(node.name) == 1 else shown
            out.records.append((key, *record))
    for item in scheme.bonus:
        out.records.append((item.name, f"加分项（最多加 {_num(item.points)} 分）：发生了写 是", {"发生": "否"}))
    for item in scheme.penalty:
        out.records.append((item.name, f"扣分项（扣 {_num(item.points)} 分）：发生了写 是", {"发生": "否"}))
    for item in scheme.vetoes:
        out.records.append((item, "一票否决项：发生了写 是（总分为 0）", {"发生": "否"}))
    return out


def _reads(leaf: ir.Leaf) -> list[str]:
    """The names a leaf's rule and vetoes read."""
    rule, found = leaf.rule, []
    value = getattr(rule, "value", None)
    if isinstance(value, ir.OwnValue):
        found.append(value.name)
    elif isinstance(value, ir.ExprValue):
        found += names(value.expr)
    for part in ("target", "zero"):
        e = getattr(rule, part, None)
        e = getattr(e, "expr", e)
        if e is not None and not isinstance(e, (ir.Multiple,)):
            found += names(e)
    if isinstance(rule, ir.Bands):
        found += [n for b in rule.bands for n in names(b.threshold)]
    if isinstance(rule, ir.Formula):
        found += names(rule.expr)
    found += [n for v in leaf.vetoes for n in names(v.condition)]
    return found


def _base(name: str, derived: dict, seen: set) -> list[str]:
    """The facts a name comes down to (a derived value's own inputs, recursively)."""
    if name not in derived:
        return [name]
    if name in seen:
        return []
    seen.add(name)
    return [f for n in names(derived[name]) for f in _base(n, derived, seen)]


def _record(rule, weight) -> tuple[str, dict] | None:
    """(what the evaluator gives, the blank record) for a leaf's rule; None when data alone scores it."""
    if isinstance(rule, ir.Tiers):
        choices = "、".join(_tier_text(t, weight) for t in rule.tiers)
        ranged = any(not t.is_point for t in rule.tiers)
        return f"档次：{choices}" + ("；区间档次还要写得分" if ranged else ""), ({"档次": None, "得分": None} if ranged else {"档次": None})
    if isinstance(rule, ir.Judgement):
        return "酌情：评价人给的得分（0 到分值之间）和说明", {"得分": None, "说明": None}
    if isinstance(rule, ir.Deduction):
        return f"扣分：发现的问题（每处扣 {_num(rule.per)} 分），没有写 []", {"发现": []}
    if isinstance(rule, ir.Checklist):
        items = "、".join(f"{i.name}（{_num(i.points)}分）" for i in rule.items)
        return f"清单：{items}；全部满足写 全部，否则写 未满足: [条目…]", {"满足": None}
    if isinstance(getattr(rule, "value", None), ir.SurveyValue):
        options = rule.value.options
        return "问卷：每个选项的人数（" + "、".join(o.name for o in options) + "）", {"问卷": {o.name: None for o in options}}
    return None


def _tier_text(t: ir.Tier, weight) -> str:
    """A tier and its points (a 定性 tier's percentages of the weight as points): 达成（[4,5]分）."""
    scale = weight if t.of_weight else 1
    low, high = _num(t.low * scale), _num(t.high * scale)
    if t.is_point:
        return f"{t.name}（{low}分）"
    return f"{t.name}（{'[' if t.low_closed else '('}{low},{high}{']' if t.high_closed else ')'}分）"


def _num(f) -> str:
    from jxdsl.draftrules import number

    return number(f)


# ---- the blank facts file ---------------------------------------------------------------------
_EXAMPLES = {"金额": "如 100万元", "百分比": "如 98.5%", "数量": "如 12人、3个", "日期": "如 2022年12月", "数值": "如 1.5", "文本": "文字", "类型未注明": "带单位的数值"}
_PLAIN_KEY = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fffA-Za-z_][\u3400-\u4dbf\u4e00-\u9fffA-Za-z_0-9（）、/·]*")


def key(name: str) -> str:
    """A YAML key: bare when it is plain and YAML reads it back as that text (not ``on`` → True),
    else JSON-quoted (valid YAML)."""
    import yaml

    if _PLAIN_KEY.fullmatch(name) and yaml.safe_load(f"{name}: 1") == {name: 1}:
        return name
    return json.dumps(name, ensure_ascii=False)


def yaml_template(book: Rulebook) -> str:
    """A blank facts file (YAML) for ``book``: every fact and record it needs, with a comment each."""
    n = needs(book)
    lines = [
        f"# 规则集“{book.name}”的空白事实文件（jxdsl template 生成）：填上每一项，再用 jxdsl score 规则集 本文件 计分。",
        "# 数值带单位；每项的注释写明类型和用到它的指标。",
        "项目: # 项目名称",
    ]
    lines.append("事实:" if n.facts else "事实: {}")
    for name, (kind, used) in n.facts.items():
        example = f"如 {n.examples[name]}" if name in n.examples else _EXAMPLES.get(kind, "")
        lines.append(f"  {key(name)}: # {kind}（{example}）；用于 {'、'.join(dict.fromkeys(used))}")
    lines.append("评价:" if n.records else "评价: {}")
    for name, what, blank in n.records:
        lines.append(f"  {key(name)}: {_flow(blank)} # {what}")
    if n.tables:
        lines.append("目标表: # 绩效目标表，每个指标一行；" + "、".join(f"{g}（{w}分）" for g, w in n.tables) + " 各组的行")
        for group, weight in n.tables:
            lines.append(f"  - {{一级指标: {key(group)}, 二级指标: , 三级指标: , 分值: , 年度指标值: , 实际完成值: }} # 本组各行分值之和 {weight}")
    return "\n".join(lines) + "\n"


def _flow(record: dict) -> str:
    """A record as a one-line YAML mapping with blank values: ``{档次: , 得分: }``."""
    def value(v) -> str:
        return _flow(v) if isinstance(v, dict) else "[]" if v == [] else "" if v is None else str(v)

    return "{" + ", ".join(f"{key(k)}: {value(v)}" for k, v in record.items()) + "}"


def render_needs(book: Rulebook) -> str:
    """The short “需要的数据” section ``check`` prints after the tree."""
    n = needs(book)
    out = ["需要的数据："]
    if n.facts:
        out.append("  事实：" + "、".join(f"{f}（{k}）" for f, (k, _) in n.facts.items()))
    if n.records:
        out.append("  评价记录：" + "、".join(f"{name}（{re.split('[：（]', what)[0]}）" for name, what, _ in n.records))
    if n.tables:
        out.append("  目标表：" + "、".join(g for g, _ in n.tables) + " 各组的行")
    if len(out) == 1:
        out.append("  无")
    return "\n".join(out)


# ---- the blank table (xlsx) ----------------------------------------------------------------------
def write_xlsx(book: Rulebook, path) -> int:
    """A blank table for ``book`` at ``path``: a self-evaluation table (one row per 来自目标表 group,
    a column per fact) when it scores target tables, else a facts table (docs/facts-table.md: one
    row per fact and per evaluator record, with a cell comment saying what to write).  Returns the
    number of rows."""
    import openpyxl
    from openpyxl.comments import Comment

    from jxdsl.errors import UsageError
    from jxdsl.facts import FACT_COLUMNS
    from jxdsl.tables import SELF_EVAL_COLUMNS

    n = needs(book)
    wb = openpyxl.Workbook()
    ws = wb.active
    if n.tables:
        if n.records:
            raise UsageError("这个规则集既有目标表又有评价记录，一张自评表写不下", None, "用 -o 事实.yaml 写空白事实文件")
        ws.title = "自评表"
        facts = [f if f in FACT_COLUMNS else f"事实:{f}" for f in n.facts]
        ws.append([*SELF_EVAL_COLUMNS, "档次", "评价得分", "说明", *facts])
        for group, weight in n.tables:
            ws.append(["", group])
            ws.cell(ws.max_row, 2).comment = Comment(f"{group}的每个三级指标一行；本组各行分值之和 {weight}", "jxdsl")
        for i, (name, (kind, used)) in enumerate(n.facts.items()):
            ws.cell(1, len(SELF_EVAL_COLUMNS) + 4 + i).comment = Comment(f"{kind}；用于 {'、'.join(dict.fromkeys(used))}；填在该项目任一行", "jxdsl")
    else:
        ws.title = "事实表"
        columns = ["项目", "类别", "名称", "值", *dict.fromkeys(k for _, _, blank in n.records for k in blank)]
        ws.append(columns)
        for name, (kind, used) in n.facts.items():
            ws.append(["", "事实", name])
            example = f"如 {n.examples[name]}" if name in n.examples else _EXAMPLES.get(kind, "")
            ws.cell(ws.max_row, 3).comment = Comment(f"{kind}（{example}）；用于 {'、'.join(dict.fromkeys(used))}", "jxdsl")
        for name, what, blank in n.records:
            ws.append(["", "评价", name, *[blank.get(c) if isinstance(blank.get(c), str) else None for c in columns[4:]]])
            ws.cell(ws.max_row, 3).comment = Comment(what, "jxdsl")
    wb.save(path)
    return ws.max_row - 1
