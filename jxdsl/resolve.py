"""Finding the rulebook a ``继承`` names: by file path, or by the name its header line declares.

Only rulebook roots are read: the rulebook's own tree (the nearest ``rulebooks`` folder above it,
or its folder), the folders of ``JXDSL_PATH`` and of ``Linker(search_paths=…)``, and the library
shipped with jxdsl (``rulebooks/``).  ``JXDSL_INHERIT_ANYWHERE=1`` lifts that for file paths.
A name is looked up by reading only the first few kilobytes of regular ``.jx`` files (never a
FIFO or a device, never a file a link leads out of the roots).  The roots are a search path,
in that order: the first root that has the name wins; a name declared by two files in one root
is an error naming both, as soon as it is looked up.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

from jxdsl.data import library_dir
from jxdsl.errors import LinkError, Span, suggest
from jxdsl.files import read_regular

LIBRARY = library_dir()
ANYWHERE_ENV = "JXDSL_INHERIT_ANYWHERE"
MAX_INHERITANCE = 32  # levels of 继承 above a rulebook
HEADER_BYTES = 8192  # the declared name is looked for in this much of a file
MAX_WALK = 200_000  # files looked at under one root while indexing names (a rulebook at / or in ~)
_DECL = re.compile(r"^\s*规则集\s+(\S+)", re.M)


def shown(path: Path) -> Path:
    """Paths as people gave them: relative to the working directory when inside it."""
    try:
        return Path(os.path.relpath(path.resolve(), Path.cwd())) if path.resolve().is_relative_to(Path.cwd()) else path.resolve()
    except (OSError, ValueError):
        return path


def declared_name(f: Path) -> str | None:
    """The name on a rulebook's header line, from a bounded prefix of a regular file."""
    try:
        head, _ = read_regular(f, HEADER_BYTES)
    except OSError:
        return None
    m = _DECL.search(head.decode("utf-8-sig", errors="ignore"))
    return m.group(1) if m else None


def parent_span(span: Span | None, ref: str, text: str) -> Span | None:
    """The place of the parent's name after ``继承`` on the header line, for the caret."""
    if span is None:
        return None
    lines = text.splitlines()
    line = lines[span.line - 1] if 0 < span.line <= len(lines) else ""
    at = line.find(ref, max(line.find("继承"), 0))
    return Span(span.file, span.line, at + 1) if at >= 0 else span


class Resolver:
    """Rulebook roots and the name index of each (built once per root, on first lookup)."""

    def __init__(self, search_paths: list[Path], anywhere: bool | None = None):
        self.search_paths = [p.resolve() for p in search_paths]
        self.anywhere = os.environ.get(ANYWHERE_ENV) == "1" if anywhere is None else anywhere
        self._names: dict[Path, dict[str, list[Path]]] = {}

    def own_root(self, child: Path) -> Path:
        here = child.resolve().parent
        return next((p for p in [here, *here.parents] if p.name == "rulebooks"), here)

    def roots(self, child: Path) -> list[Path]:
        return [self.own_root(child), *self.search_paths, LIBRARY.resolve()]

    def inside(self, path: Path, roots: list[Path]) -> bool:
        real = path.resolve()
        return any(real.is_relative_to(r) for r in roots)

    def find(self, ref: str, child: Path, span: Span | None) -> Path:
        """The file ``继承 ref`` means, written in ``child``."""
        roots = self.roots(child)
        if ref.endswith(".jx"):
            p = (child.parent / ref) if not Path(ref).is_absolute() else Path(ref)
            if not self.anywhere and not self.inside(p, roots):
                raise LinkError(
                    f"被继承的规则集文件“{ref}”不在规则集目录内",
                    span,
                    f"放进本规则集所在的 rulebooks 目录，或把它的目录加入环境变量 JXDSL_PATH；确需读取任意位置时设 {ANYWHERE_ENV}=1",
                )
            if not p.is_file():
                raise LinkError(f"找不到被继承的规则集文件“{ref}”", span)
            if p.resolve().suffix != ".jx":  # a link named .jx to some other file
                raise LinkError(f"被继承的文件“{ref}”不是规则集文件（.jx）", span)
            return p
        # a search path: the rulebook's own tree, each JXDSL_PATH folder in order, the library shipped
        # with jxdsl; the first root that has the name wins, two files with it in one root are an error
        names: set[str] = set()
        for root in dict.fromkeys(roots):
            found = sorted(set(self.index(root, roots, span).get(ref, [])))
            names |= set(self.index(root, roots, span))
            if len(found) > 1:
                files = "、".join(f"“{shown(f)}”" for f in found[:5])
                raise LinkError(f"有 {len(found)} 个规则集文件都名为“{ref}”：{files}，无法确定继承哪一个", span, "规则集名称应唯一：改名或删去多余的文件，或写文件路径")
            if found:
                return found[0]
        raise LinkError(f"找不到名为“{ref}”的规则集", span, self._not_found_hint(ref, names, roots))

    def _not_found_hint(self, ref: str, names: set[str], roots: list[Path]) -> str:
        """A close name, or the name declared by a file called ``ref``.jx, then every place looked in."""
        stems = {f.stem: (n, f) for r in dict.fromkeys(roots) for n, fs in self._names.get(r, {}).items() for f in fs}
        close = suggest(ref, names)
        if close:
            first = f"是否应为“{close}”？"
        elif ref in stems:
            first = f"文件“{shown(stems[ref][1])}”的规则集名称是“{stems[ref][0]}”：“继承”后面写规则集名称，不是文件名。"
        else:
            first = "把该规则集放进本规则集所在的目录树或 JXDSL_PATH 中的目录，或写文件路径。"
        return first + "已查找：" + "；".join(f"{what}“{shown(r)}”" for what, r in self.places(roots))

    def places(self, roots: list[Path]) -> list[tuple[str, Path]]:
        """The roots in search order, each named as a user knows it, without repeats."""
        labelled = [("本规则集所在的目录树", roots[0])] + [("JXDSL_PATH", r) for r in self.search_paths]
        labelled.append(("jxdsl 自带的规则集库", LIBRARY.resolve()))
        seen: set[Path] = set()
        return [(w, r) for w, r in labelled if not (r in seen or seen.add(r))]

    def index(self, root: Path, roots: list[Path], span: Span | None) -> dict[str, list[Path]]:
        """Declared name → files under one root (built once per root)."""
        if root in self._names:
            return self._names[root]
        index: dict[str, list[Path]] = {}
        seen = 0
        if root.is_dir():
            for dirpath, dirs, files in os.walk(root):  # links to folders are not followed
                dirs.sort()
                seen += len(files) + len(dirs)
                if seen > MAX_WALK:
                    raise LinkError(
                        f"按名称查找被继承的规则集时，“{shown(root)}”下的文件过多（超过 {MAX_WALK} 个）",
                        span,
                        "把规则集放进一个 rulebooks 目录，或写被继承文件的路径",
                    )
                for name in sorted(files):
                    f = Path(dirpath) / name
                    if not name.endswith(".jx") or f.resolve().suffix != ".jx" or not self.inside(f, roots):
                        continue
                    declared = declared_name(f)
                    if declared:
                        index.setdefault(declared, []).append(f.resolve())
        self._names[root] = index
        return index
