"""What ``继承 名称`` can reach from a folder, for ``jxdsl rulebooks``: every named rulebook in each
root of the search path (resolve.py), which one a name resolves to, and its title, version and
years.  Files are only parsed, not linked, so a long JXDSL_PATH lists quickly; a version or years
a rulebook does not state are its parent's, as linking would give them."""
from __future__ import annotations

from pathlib import Path

import attrs

from jxdsl import ast
from jxdsl.errors import JxError
from jxdsl import trees
from jxdsl.resolve import Resolver, shown


SOURCES = {"本规则集所在的目录树": "own-tree", "JXDSL_PATH": "JXDSL_PATH", "jxdsl 自带的规则集库": "installed"}


@attrs.define
class Entry:
    name: str
    file: Path
    origin: str  # 本规则集所在的目录树 / JXDSL_PATH / jxdsl 自带的规则集库
    title: str | None = None
    version: str | None = None
    years: tuple[int, int] | None = None
    parent: str | None = None
    problem: str | None = None  # why 继承 cannot use it: a syntax error, a name two files in a root declare
    hidden_by: Path | None = None  # an earlier root has the same name; 继承 takes that one

    def as_json(self) -> dict:
        return {
            "name": self.name, "title": self.title, "version": self.version,
            "years": list(self.years) if self.years else None, "parent": self.parent,
            "file": str(shown(self.file)), "origin": self.origin, "source": SOURCES[self.origin], "used": self.problem is None and self.hidden_by is None,
            "hidden_by": str(shown(self.hidden_by)) if self.hidden_by else None, "problem": self.problem,
        }


def search_path(folder: Path, extra: list[Path]) -> tuple[Resolver, list[Path], list[tuple[str, Path]]]:
    """The resolver a rulebook in ``folder`` gets, its roots, and the roots named in search order."""
    resolver = Resolver(extra)
    roots = resolver.roots(folder.resolve() / "_")  # the search path of a rulebook written in folder
    return resolver, roots, resolver.places(roots)


def available(folder: Path, extra: list[Path]) -> tuple[list[tuple[str, Path]], list[Entry]]:
    """The search path and every named rulebook on it, in search order."""
    resolver, roots, places = search_path(folder, extra)
    entries: list[Entry] = []
    seen: set[Path] = set()
    chosen: dict[str, Entry] = {}
    for origin, root in places:
        index = resolver.index(root, roots, None)
        for f, name in sorted((f, name) for name, files in index.items() for f in files if f not in seen):
            seen.add(f)
            entry = read_entry(Entry(name, f, origin))
            if len(index[name]) > 1:
                entry.problem = f"本目录中有 {len(index[name])} 个文件都名为“{name}”，继承时报错"
            elif name in chosen:
                entry.hidden_by = chosen[name].file
            chosen.setdefault(name, entry)
            entries.append(entry)
    for e in entries:
        _inherit(e, chosen)
    return places, entries


def read_entry(entry: Entry) -> Entry:
    """The entry with what its file says of itself: parent, title, version, years (or its problem)."""
    try:
        doc, _ = trees.load(entry.file)
    except JxError as e:
        entry.problem = f"{e.kind}：{e.message}（jxdsl check 可看详情）"
        return entry
    for st in doc.statements:
        if isinstance(st, ast.RulebookDecl):
            entry.parent = st.parent
        elif isinstance(st, ast.Setting) and st.key in ("标题", "版本", "年度"):
            if st.key == "年度":
                entry.years = (st.value[0], st.value[-1])
            else:
                setattr(entry, "title" if st.key == "标题" else "version", st.value[0])
    return entry


def _inherit(entry: Entry, chosen: dict[str, Entry]) -> None:
    """A version or years left unstated come from the parent a name leads to (as when linked)."""
    parent, hops = entry, 0
    while (entry.version is None or entry.years is None) and parent.parent in chosen and hops < 32:
        parent, hops = chosen[parent.parent], hops + 1
        entry.version = entry.version or parent.version
        entry.years = entry.years or parent.years


def render(places: list[tuple[str, Path]], entries: list[Entry]) -> str:
    """The listing in Chinese: the search path, then one short block per rulebook."""
    lines = ["按名称继承时依次查找（先找到的为准）："]
    lines += [f"  {n}. {origin}：{shown(root)}" for n, (origin, root) in enumerate(places, 1)]
    lines.append("")
    if not entries:
        lines.append("没有找到有名称的规则集（.jx 文件第一条语句“规则集 名称”）。")
    for e in entries:
        facts = [f"版本 {e.version}" if e.version else "", _years(e.years), f"继承 {e.parent}" if e.parent else ""]
        lines.append("　".join([e.name, *(f for f in facts if f)]))
        if e.title:
            lines.append(f"  {e.title}")
        lines.append(f"  文件：{shown(e.file)}（{e.origin}）")
        if e.problem:
            lines.append(f"  不可用：{e.problem}")
        elif e.hidden_by:
            lines.append(f"  未使用：前面的“{shown(e.hidden_by)}”同名，继承 {e.name} 时用那一个")
    return "\n".join(lines)


def _years(years: tuple[int, int] | None) -> str:
    if not years:
        return ""
    return f"年度 {years[0]}" if years[0] == years[1] else f"年度 {years[0]}–{years[1]}"
