"""``jxdsl draft``: a first rulebook from an 指标体系/评分表 spreadsheet, for a person to finish.

Why: bureaus already have their indicator system as a table; retyping it into a rulebook loses
weights and text.  The draft keeps the table as written — tree, weights, 指标解释, 评分标准 — and
writes a rule only where ``draftrules`` recognises one; everything else is ``酌情`` with a
``# 待确认：`` comment quoting the standard.  Weights are never "fixed": when they do not add up,
the written draft fails ``check`` and the check's error is shown.

The table: CSV or XLSX, title rows above a header holding 一级指标 (or 一级); level columns
一级…五级指标; 分值/权重; 指标解释; 评分标准/评价标准/评分规则.  A level cell left blank (or
merged) repeats the one above; a weight may also be written in the name, ``决策（18分）``.
"""
from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from jxdsl import link
from jxdsl.draftrules import Recognised, norm, number, quote_name, quote_text, recognise
from jxdsl.errors import FactError, Span, UsageError, remember_source

LEVELS = ("一级指标", "二级指标", "三级指标", "四级指标", "五级指标")
COLUMNS = {
    **{level: (level, level[:2]) for level in LEVELS},
    "分值": ("分值", "权重", "指标分值", "标准分值", "标准分", "分数", "满分"),
    "指标解释": ("指标解释", "指标说明", "指标内涵", "指标释义"),
    "评分标准": ("评分标准", "评价标准", "评分规则", "评分方法", "评分细则", "计分方法", "评价要点"),
}
SKIP_ROWS = {"合计", "总计", "小计", "总分"}
_NAMED_WEIGHT = re.compile(r"^(?P<name>.*?)[(（]\s*(?P<w>\d+(?:\.\d+)?)\s*分\s*[)）][。.]?$")
_WEIGHT = re.compile(r"^(?P<w>\d+(?:\.\d+)?)\s*分?$")


@dataclass
class Node:
    """One indicator of the drafted tree."""

    name: str
    span: Span
    weight: Fraction | None = None  # as written (name or 分值 cell); None: the sum of the children
    weight_span: Span | None = None
    explain: str = ""
    standard: str = ""
    row: int | None = None  # the line whose deepest level this is
    children: dict[str, "Node"] = field(default_factory=dict)

    def total(self) -> Fraction:
        return self.weight if self.weight is not None else sum((c.total() for c in self.children.values()), Fraction(0))


@dataclass
class Table:
    title: str
    roots: dict[str, Node]
    file: str


# ---- reading --------------------------------------------------------------------------------
def read(path: str | Path, sheet: str | None = None, note=lambda t: None) -> Table:
    """The indicator tree of the table; every problem a FactError at its cell."""
    p = Path(path)
    if p.suffix.lower() not in (".csv", ".xlsx", ".xlsm"):
        raise UsageError(f"不支持的表格类型“{p.suffix}”", None, "draft 读 .csv 或 .xlsx 的指标体系/评分表")
    if not p.is_file():
        raise UsageError(f"找不到表格文件“{path}”")
    if p.suffix.lower() == ".csv":
        remember_source(str(p))  # errors show the CSV line
    line, header, rows, title, merges = _records(p, sheet, note)
    cols = _columns(header, str(p), line)
    weight_col = cols["分值"] + 1 if "分值" in cols else None
    spans = [m for m in merges if m[0] == m[2] == weight_col and m[3] > m[1] > line]  # one 分值 for several rows
    if merges:
        from jxdsl.xlsxread import fill_merged

        rows = list(fill_merged(rows, [m for m in merges if m not in spans], line))
    roots: dict[str, Node] = {}
    previous: list[str] = []
    chains: dict[int, list[Node]] = {}
    held = {n for m in spans for n in range(m[1], m[3] + 1)}
    for n, cells in rows:
        previous = _add_row(roots, previous, n, cells, cols, header, str(p), chains, n in held)
        if len(chains) > link.MAX_INDICATORS:  # a rulebook holds no more; stop reading here
            raise FactError(f"表中的指标行超过 {link.MAX_INDICATORS} 行", Span(str(p), n, 1),
                            f"一个规则集最多 {link.MAX_INDICATORS} 个指标：请把表分成几个")
    for m in spans:
        _spanned_weight(m, dict(rows), chains, str(p))
    if not roots:
        raise FactError("表中没有指标行", Span(str(p), line, 1), "表头下面每行写一个指标：各级指标名称、分值、评分标准")
    _check_weights(roots, "分值" in cols, str(p), line)
    return Table(title, roots, str(p))


def _records(p: Path, sheet: str | None, note) -> tuple[int, list[str], list[tuple[int, list[str]]], str, list]:
    """(header line, header, data rows, the title: the first text above the header, the merged
    ranges of a workbook as (min_col, min_row, max_col, max_row), not yet filled)."""
    from jxdsl.tables import find_header, whole_table

    if p.suffix.lower() == ".csv" and sheet is not None:
        raise UsageError(f"--sheet 只用于 Excel 文件（.xlsx），“{p}”不是", None, "去掉 --sheet")
    rows, merges = whole_table(p, sheet, note)
    line, header, rest = find_header(rows, tuple((alias,) for alias in COLUMNS["一级指标"]))
    return line, header, list(rest), _title(rows, line), merges


def _title(rows, line: int) -> str:
    return next((c.strip() for n, r in rows if n < line for c in r if c.strip()), "")


def _columns(header: list[str], file: str, line: int) -> dict[str, int]:
    """Column index of each known column; the level columns must start at 一级 and not skip one."""
    cols: dict[str, int] = {}
    for i, cell in enumerate(header):
        key = next((k for k, aliases in COLUMNS.items() if norm(cell) in aliases), None)
        if key is None:
            continue
        if key in cols:
            span, ref = at(file, line, i + 1)
            raise FactError(f"表头有两列“{key}”（{at(file, line, cols[key] + 1)[1]} 和 {ref}）", span, "删去或改名其中一列")
        cols[key] = i
    if LEVELS[0] not in cols:
        raise FactError("找不到表头：没有“一级指标”列", Span(file, line, 1),
                        "表头一行写 一级指标、二级指标、三级指标、分值、指标解释、评分标准（表头上面可以有标题行）")
    present = [lv for lv in LEVELS if lv in cols]
    if present != list(LEVELS[: len(present)]):
        missing = next(lv for lv in LEVELS if lv not in cols)
        raise FactError(f"表头缺少“{missing}”列（有 {'、'.join(present)}）", Span(file, line, 1), f"加上“{missing}”列")
    return cols


def at(file: str, line: int, col: int) -> tuple[Span, str]:
    """The span of a cell (a CSV's column 1, where the shown line starts) and its name, such as C5."""
    from jxdsl.tables import column_letter

    return Span(file, line, 1 if file.lower().endswith(".csv") else col), f"{column_letter(col)}{line}"


def _cell(cells: list[str], cols: dict[str, int], key: str) -> str:
    i = cols.get(key)
    return cells[i].strip() if i is not None and i < len(cells) else ""


def _add_row(roots, previous: list[str], n: int, cells: list[str], cols, header, file: str, chains: dict, held: bool) -> list[str]:
    """Put one row's indicator into the tree; returns its path (for the blank cells of the next row).
    ``chains`` gets the row's nodes; ``held``: its 分值 is a merged cell of several rows (``_spanned_weight``)."""
    levels = [lv for lv in LEVELS if lv in cols]
    names = [re.sub(r"\s+", "", _cell(cells, cols, lv)) for lv in levels]
    if [norm(c) for c in cells] == [norm(c) for c in header] or norm(names[0]) in SKIP_ROWS:
        return previous  # a repeated header (a table split over pages) or the 合计 row
    deepest = max((i for i, name in enumerate(names) if name), default=-1)
    other = any(_cell(cells, cols, k) for k in ("分值", "指标解释", "评分标准"))
    if deepest < 0:
        if other:
            span, ref = at(file, n, cols[LEVELS[0]] + 1)
            raise FactError(f"第 {n} 行没有指标名称（{ref} 是空的）", span, "在这一行写上指标名称，或删去这一行")
        return previous
    path: list[tuple[str, Fraction | None, int]] = []
    for i in range(deepest + 1):
        if names[i]:
            path.append((*_named(names[i]), i))
        elif i < len(previous):
            path.append((previous[i], None, i))
        else:
            span, ref = at(file, n, cols[levels[i]] + 1)
            raise FactError(f"第 {n} 行的“{levels[i]}”（{ref}）是空的，上面也没有可沿用的指标", span,
                            f"填上{levels[i]}名称（合并单元格或空着表示与上一行相同）")
    node, siblings, chain = None, roots, chains.setdefault(n, [])
    for name, weight, i in path:
        span, _ = at(file, n, cols[levels[i]] + 1)
        node = siblings.get(norm(name))
        if node is None:
            node = siblings[norm(name)] = Node(name, span)
        if weight is not None:
            _set_weight(node, weight, span)
        siblings = node.children
        chain.append(node)
    _leaf_row(node, n, cells, cols, file, held)
    return [name for name, _, _ in path]


def _named(cell: str) -> tuple[str, Fraction | None]:
    """A level cell's name and the weight written in it: ``决策（18分）`` → (决策, 18)."""
    m = _NAMED_WEIGHT.match(cell)
    if m and m.group("name").strip():
        return m.group("name").strip().rstrip("。."), Fraction(m.group("w"))
    return cell.rstrip("。."), None


def _set_weight(node: Node, weight: Fraction, span: Span) -> None:
    if node.weight is not None and node.weight != weight:
        raise FactError(f"“{node.name}”的分值写了两个：{number(node.weight)}（第 {node.weight_span.line} 行）和 {number(weight)}",
                        span, "同一指标只写一个分值")
    node.weight, node.weight_span = weight, node.weight_span or span


def _leaf_row(node: Node, n: int, cells, cols, file: str, held: bool = False) -> None:
    """The 分值, 指标解释 and 评分标准 of the row whose deepest level is ``node``."""
    if node.row is not None:
        raise FactError(f"第 {n} 行的指标与第 {node.row} 行相同：“{node.name}”（同一路径写了两次）", Span(file, n, 1),
                        "删去重复的一行；若是两个不同的指标，请改用不同的名称")
    node.row = n
    node.explain, node.standard = _cell(cells, cols, "指标解释"), _cell(cells, cols, "评分标准")
    text = _cell(cells, cols, "分值")
    if text and not held:
        _set_weight(node, _weight(text, *at(file, n, cols["分值"] + 1)), at(file, n, cols["分值"] + 1)[0])


def _weight(text: str, span: Span, ref: str) -> Fraction:
    """A 分值 cell's number: ``5``, ``5分``; a formula or other text is a located error."""
    if text.startswith("="):
        raise FactError(f"分值“{text}”（{ref}）是公式", span, "请写出数值（在 Excel 中复制后“粘贴为数值”，或另存后再读）")
    m = _WEIGHT.match(norm(text))
    if not m:
        raise FactError(f"分值“{text}”（{ref}）不是数字", span, "分值写数字，如 5 或 5分")
    return Fraction(m.group("w"))


def _spanned_weight(merge, rows: dict, chains: dict, file: str) -> None:
    """A 分值 cell merged over several rows is the weight of the indicator those rows make up
    (a 三级指标 over its 四级 rows); over part of an indicator's rows, or over several, an error."""
    min_col, first, _, last = merge
    lines = [n for n in range(first, last + 1) if chains.get(n)]
    cells = rows.get(first, [])
    text = cells[min_col - 1].strip() if len(cells) >= min_col else ""
    if not lines or not text:
        return
    span, ref = at(file, first, min_col)
    same = itertools.takewhile(lambda nodes: all(x is nodes[0] for x in nodes), zip(*(chains[n] for n in lines)))
    common = [nodes[0] for nodes in same]
    under = [n for n, chain in chains.items() if common and any(x is common[-1] for x in chain)]
    if not common or sorted(under) != lines:
        names = "、".join(dict.fromkeys(chains[n][-1].name for n in lines))
        raise FactError(f"合并单元格 {ref} 的分值 {text} 跨了第 {first}–{last} 行（{names}），不是一个指标的全部行", span,
                        "把分值写在各指标自己的行（或名称后，如 资金到位率（3分）），不要跨指标合并")
    _set_weight(common[-1], _weight(text, span, ref), span)


def _check_weights(roots: dict[str, Node], has_column: bool, file: str, line: int) -> None:
    """Every leaf needs a weight (written in the 分值 column or in its name)."""
    for node in _walk(roots.values()):
        if not node.children and node.weight is None:
            if not has_column:
                raise FactError("表中没有“分值”列，指标名称中也没有写分值", Span(file, line, 1),
                                "加一列“分值”（或“权重”），或在名称后写分值，如 资金到位率（3分）")
            raise FactError(f"“{node.name}”没有分值", node.span, "在“分值”列填上这个指标的分值")


def _walk(nodes):
    for node in nodes:
        yield node
        yield from _walk(node.children.values())


# ---- writing --------------------------------------------------------------------------------
def render(table: Table, name: str) -> str:
    """The rulebook text of the drafted table."""
    facts: dict[str, tuple[str, str]] = {}  # name → (type or "", description)
    derived: dict[str, str] = {}
    body: list[str] = []
    for node in table.roots.values():
        _indicator(node, 0, body, facts, derived)
    head = [
        f"# 由 jxdsl draft 从“{Path(table.file).name}”起草。请逐条核对“待确认”的地方，核对后删去这些注释。",
        f"规则集 {name}",
    ]
    if table.title:
        head.append(f"标题 {quote_text(table.title)}")
    head += ["# 待确认：等级按财预〔2020〕10号的通行划分，表中没有写明", "等级 优 ≥90 良 ≥80 中 ≥60 差", ""]
    if facts:
        head.append("事实")
        head += [f"  {quote_name(f)} {kind + ' ' if kind else ''}{quote_text(d)}" for f, (kind, d) in facts.items()]
        head.append("")
    head += [f"{quote_name(d)} = {' / '.join(quote_name(x) for x in expr.split(' / '))}" for d, expr in derived.items()]
    if derived:
        head.append("")
    return "\n".join(head + body) + "\n"


def _indicator(node: Node, depth: int, out: list[str], facts: dict, derived: dict) -> None:
    pad = "  " * depth
    weight = number(node.total())
    if node.children:
        out.append(f"{pad}{quote_name(node.name)} 权重 {weight}")
    else:
        rule, notes = _rule(node, facts, derived)
        out += [f"{pad}# 待确认：{note}" for note in notes]
        out.append(f"{pad}{quote_name(node.name)} 权重 {weight} {rule}")
    for kind, text in (("解释", node.explain), ("标准", node.standard)):
        if text:
            out.append(f"{pad}  {kind} {quote_text(one_line(text))}")
    for child in node.children.values():
        _indicator(child, depth + 1, out, facts, derived)


def _rule(node: Node, facts: dict, derived: dict) -> tuple[str, list[str]]:
    """The leaf's rule and its 待确认 notes; 酌情 unless a recogniser is sure."""
    found, why = recognise(node.standard, node.explain, node.name, node.total())
    if found is not None and _fits(found, facts, derived):
        for name, kind, desc in found.facts:
            facts.setdefault(name, (kind, desc))
        derived.update(found.derived)
        return found.rule, found.notes
    if found is not None:
        why = f"按比例计分的“{found.derived[0][0]}”与前面同名的公式不同"
    quoted = one_line(node.standard)
    what = f"评分标准“{quoted}”{why}" if quoted else why
    return "酌情", [f"{what}；暂按酌情（评价人在 0 到分值之间给分）"]


def one_line(text: str) -> str:
    """Cell text on one line (a rulebook string and a comment cannot span lines)."""
    return re.sub(r"\s+", " ", text).strip()


def _fits(found: Recognised, facts: dict, derived: dict) -> bool:
    """A derived value may be drafted twice only with the same formula."""
    return all(derived.get(name, expr) == expr for name, expr in found.derived)


def draft_name(path: str | Path) -> str:
    """The drafted rulebook's name: the file's stem made a plain name, else 草稿."""
    stem = re.sub(r"[^\u3400-\u4dbf\u4e00-\u9fffA-Za-z0-9_-]", "", Path(path).stem)
    return f"{stem}-草稿" if stem and not stem[0].isdigit() and not stem[0] == "-" else "草稿"


def draft(table_path: str, out: str | None, force: bool, sheet: str | None = None, note=lambda t: None) -> str:
    """Draft ``table_path`` into ``out`` (refused onto the input, or onto an existing file without
    ``force``); returns the text.  The caller checks the written file."""
    from jxdsl.outfile import check_out, write_text

    if out is not None:
        check_out(out, [table_path])
        if Path(out).exists() and not force:
            raise UsageError(f"输出文件“{out}”已存在", None, "换一个文件名，或加 --force 覆盖它")
    text = render(read(table_path, sheet, note), draft_name(table_path))
    if out is not None:
        write_text(out, text, inputs=[table_path])
    return text


SCREEN = "草稿（屏幕输出）"  # how check messages name a draft that went to the screen


def check_draft(text: str, out: str | None) -> tuple[list[str], bool]:
    """What ``jxdsl check`` says about the draft (its messages, and whether it failed), located in
    ``out``; a draft that went to the screen is checked in a temporary copy named ``SCREEN``."""
    import tempfile

    from jxdsl.errors import JxError
    from jxdsl.link import Linker

    with tempfile.TemporaryDirectory(prefix="jxdsl-draft-") as tmp:
        path = out
        if path is None:
            path = str(Path(tmp) / "草稿.jx")
            Path(path).write_text(text, encoding="utf-8")
        shown = (lambda m: m) if out is not None else (lambda m: m.replace(path, SCREEN))
        try:
            book = Linker().load(path)
        except JxError as e:
            return [shown(str(e))], True
        return [shown(str(w.with_sources(book.sources))) for w in book.warnings], False
