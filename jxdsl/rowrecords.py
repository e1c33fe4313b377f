"""评价 records written for a target-table row, by its path as the output prints it
(``产出指标/数量指标/整理档案单位个数``), a shorter suffix of it, or the row's own 一级指标 name.

Such a record gives the row's evaluator columns (档次, 评价得分, 说明), exactly as if they had been
written in the table: it is folded into the row before any engine reads the inputs, so that the
interpreter and the SQL engines read one definition.  A key that names a rulebook indicator keeps
naming it; a key that names no row is left for the usual "没有对应的指标" error.
"""
from __future__ import annotations

import attrs

from jxdsl import ir
from jxdsl.facts import TargetRow
from jxdsl.inputs import Problem, ProjectInputs, Record

# record field → the row's column it fills, as the table's header calls it
ROW_FIELDS = {"档次": ("tier", "档次"), "得分": ("score", "评价得分"), "说明": ("note", "说明")}


def fold_row_records(scheme: ir.Scheme, inputs: ProjectInputs) -> ProjectInputs:
    """``inputs`` with every record that names one target row folded into that row."""
    if not inputs.records or not inputs.targets:
        return inputs
    from jxdsl.kernel.pyscope import record_index, record_key

    index, _ = record_index(scheme)
    paths = _row_paths(scheme, inputs.targets)
    rows = list(inputs.targets)
    kept: list[Record] = []
    problems: list[Problem] = []
    taken: dict[int, str] = {}
    for rec in inputs.records:
        key = record_key(rec.key)
        hits = [] if index.get(key) else sorted(n for n, paths_of in paths.items() if _names(key, *paths_of))
        if not hits:
            kept.append(rec)
        elif len(hits) > 1:
            shown = "；".join("/".join(paths[n][0]) for n in hits)
            problems.append(Problem(f"评价记录“{rec.key}”对应目标表中的多行：{shown}", rec.line, "用完整路径写评价记录，如 " + "/".join(paths[hits[0]][0])))
        elif hits[0] in taken:
            problems.append(Problem(f"评价记录“{rec.key}”与“{taken[hits[0]]}”对应目标表中的同一行", rec.line, "每行只写一条评价记录"))
        else:
            taken[hits[0]] = rec.key
            rows[hits[0]], trouble = _fold(rows[hits[0]], rec)
            problems += trouble
    return attrs.evolve(inputs, records=tuple(kept), targets=tuple(rows), problems=inputs.problems + tuple(problems))


def _row_paths(scheme: ir.Scheme, targets) -> dict[int, tuple[tuple[str, ...], tuple[str, ...]]]:
    """Each row that belongs to a 来自目标表 indicator: (its path in the output, its path as the
    table writes it), normalized as record keys are."""
    from jxdsl.lower import table_key
    from jxdsl.units import normalize

    homes = {t.key: t.path for t in scheme.tables()}
    out = {}
    for n, row in enumerate(targets):
        home = homes.get(table_key(row.first))
        if home is None:
            continue
        tail = ((row.second,) if row.second else ()) + (row.third,)
        out[n] = (tuple(normalize(p) for p in (*home, *tail)), tuple(normalize(p) for p in (row.first, *tail)))
    return out


def _names(key: tuple[str, ...], full: tuple[str, ...], own: tuple[str, ...]) -> bool:
    """A suffix of either path, or the whole path with its 一级指标 as 产出 or 产出指标."""
    from jxdsl.lower import table_key

    if any(len(key) <= len(p) and p[len(p) - len(key):] == key for p in (full, own)):
        return True
    return len(key) == len(own) and key[1:] == own[1:] and table_key(key[0]) == table_key(own[0])


def _fold(row: TargetRow, rec: Record) -> tuple[TargetRow, list[Problem]]:
    """The row with the record's 档次/得分/说明; any other field, or a value that contradicts the
    table's own, is a problem at the record's line."""
    problems = []
    changes = {}
    for name in rec.fields:
        if name not in ROW_FIELDS:
            problems.append(Problem(f"评价记录“{rec.key}”对应目标表中的一行，只能写 档次、得分、说明，不能写“{name}”", rec.line,
                                    "整组不适用时，对一级指标写 {不适用: 是}" if name == "不适用" else None))
            continue
        attr, column = ROW_FIELDS[name]
        value, given = rec.text(name), getattr(row, attr)
        if value is None:
            problems.append(Problem(f"评价记录“{rec.key}”的“{name}”应是一个值", rec.line))
        elif given not in (None, "") and str(given).strip() != value.strip():
            problems.append(Problem(f"评价记录“{rec.key}”的{name}“{value}”与目标表中该行的{column}“{given}”不一致", rec.line, "只在一处写"))
        else:
            changes[attr] = value
    return attrs.evolve(row, **changes), problems
