"""A program: columns computed over a source relation, laid out as one query of stage CTEs.

The kernel binds every value it reuses (``b.let``) and every intermediate it wants computed once.
Laid out naively, a rulebook's thousands of such columns make a deep chain of wide CTEs, and the
engine pays for every column of every stage (DuckDB allocates a vector per column per stage before
it reads a row).  ``query`` therefore first folds back into their single reader the columns read
once, and the small ones wherever they are read; what remains is staged by dependency depth, and
each stage carries only the columns a later stage still reads.
"""
from __future__ import annotations

from sqlglot import exp

from jxdsl.kernel import sqlnodes as N

FOLD_DEPTH = 24  # columns folded into one another: bounds the depth of the SQL text
SMALL = 4  # nodes: an expression this small is recomputed where it is read rather than carried
ATOMS = (exp.Column, exp.Literal, exp.Null, exp.Boolean, exp.Func, exp.Case, exp.Cast, exp.Paren)


class Program:
    """Columns over a source relation; a column may read the source and earlier columns."""

    def __init__(self, source, base: list[str], prefix: str = "k"):
        self.source = source  # a relation, or a function of the set of source columns read
        self.base = list(base)
        self.prefix = prefix
        self.defs: dict[str, exp.Expression] = {}
        self.pinned: set[str] = set()  # columns kept as columns (read before they are defined)
        self._named: dict[tuple, exp.Column] = {}

    def bind(self, e: exp.Expression) -> exp.Expression:
        """A column for ``e`` (the same column for an expression bound before; constants stay)."""
        if isinstance(e, (exp.Column, exp.Literal, exp.Null, exp.Boolean)) or (isinstance(e, exp.Cast) and isinstance(e.this, exp.Literal)):
            return e
        key = N.key(e)
        if key in self._named:
            return self._named[key]
        name = f"{self.prefix}{len(self.defs) + 1}"
        self.defs[name] = e
        col = N.column(name, N.stage_of(e) + 1)
        self._named[key] = col
        return col

    def statements(self, table: str, outputs: dict[str, exp.Expression], keep: list[str]) -> list[tuple[str, exp.Expression]]:
        """(table, query) to create: the program's query, after its source when the source is
        built from what the program reads (a join of long relations, materialized first: DuckDB
        sets up the query's thousands of expressions again for every join it probes)."""
        if not callable(self.source):
            return [(table, self.query(f"{table}_k", outputs, keep))]
        got: list = []
        q = self.query(f"{table}_k", outputs, keep, lambda read: got.append(self.source(read)) or exp.to_table(f"{table}_src"))
        return [(f"{table}_src", got[0].this if isinstance(got[0], exp.Subquery) else got[0]), (table, q)]

    def query(self, name: str, outputs: dict[str, exp.Expression], keep: list[str], source=None) -> exp.Select:
        """SELECT keep, outputs FROM the stages (named ``name_1`` …) over the source."""
        source = source or self.source
        kept, outs = _fold(self.defs, outputs, self.pinned)
        stage: dict[str, int] = {}
        reads: dict[str, set[str]] = {c: {x.name for x in e.find_all(exp.Column) if x.name in kept} for c, e in kept.items()}

        def stage_of(c: str) -> int:  # a pinned column is defined after columns that read it
            todo = [c]
            while todo:
                top = todo[-1]
                if top in stage:
                    todo.pop()
                    continue
                waiting = [r for r in reads[top] if r not in stage]
                if waiting and len(todo) > len(kept):
                    raise RuntimeError(f"columns read in a cycle: {todo[-5:]}")
                if waiting:
                    todo += waiting
                    continue
                stage[top] = 1 + max((stage[r] for r in reads[top]), default=0)
                todo.pop()
            return stage[c]

        for c in kept:
            stage_of(c)
        stages: list[dict[str, exp.Expression]] = [{} for _ in range(max(stage.values(), default=0))]
        for c, e in kept.items():
            stages[stage[c] - 1][c] = e
        final = set(keep)
        for e in outs.values():
            final |= {x.name for x in e.find_all(exp.Column)}
        last: dict[str, int] = {}
        for c, rs in reads.items():
            for r in rs:
                last[r] = max(last.get(r, 0), stage[c])
        for c, e in kept.items():
            for x in e.find_all(exp.Column):
                if x.name not in kept:
                    last[x.name] = max(last.get(x.name, 0), stage[c])
        end = len(stages) + 1
        for r in final:
            last[r] = end
        defined = {c: 0 for c in [*self.base, *sorted(set(last) - set(kept) - set(self.base))]}
        ctes = []
        prev: exp.Expression = source(set(last) - set(kept)) if callable(source) else source
        for k, cols in enumerate(stages, 1):
            carried = [N.column(c) for c, at in defined.items() if at < k and last.get(c, 0) > k]
            alias = f"{name}_{k}"
            ctes.append((alias, select_from([*carried, *[alias_of(e, c) for c, e in cols.items()]], prev)))
            for c in cols:
                defined[c] = k
            prev = exp.to_table(alias)
        out = select_from([*[N.column(c) for c in keep], *[alias_of(e, c) for c, e in outs.items()]], prev)
        for alias, q in ctes:
            out = out.with_(alias, as_=q, copy=False)
        return out


def _fold(defs: dict[str, exp.Expression], outputs: dict[str, exp.Expression], pinned: set[str] = frozenset()):
    """The definitions and outputs with single-use and small columns (not pinned) written in place."""
    uses: dict[str, int] = dict.fromkeys(defs, 0)
    for e in [*defs.values(), *outputs.values()]:
        for x in e.find_all(exp.Column):
            if x.name in uses:
                uses[x.name] += 1
    inline: dict[str, tuple[exp.Expression, bool]] = {}  # column → (expression, read more than once)
    depth: dict[str, int] = {}  # columns folded one inside another (a chain of derived values)
    kept: dict[str, exp.Expression] = {}
    for c, e in defs.items():  # in binding order: a column's inputs are bound before it
        folded = 1 + max((depth[x.name] for x in e.find_all(exp.Column) if x.name in inline), default=0)
        e = _substitute(e, inline)
        if c not in pinned and folded <= FOLD_DEPTH and (uses[c] <= 1 or _size(e) <= SMALL):
            inline[c] = (e, uses[c] > 1)
            depth[c] = folded
        else:
            kept[c] = e
    return kept, {c: _substitute(e, inline) for c, e in outputs.items()}


def _substitute(e: exp.Expression, inline: dict) -> exp.Expression:
    if isinstance(e, exp.Column):
        return _place(*inline[e.name]) if e.name in inline else e
    if not any(x.name in inline for x in e.find_all(exp.Column)):
        return e

    def swap(node):
        if isinstance(node, exp.Column) and node.name in inline:
            return _place(*inline[node.name])
        return node

    return e.transform(swap, copy=True)


def _place(e: exp.Expression, shared: bool) -> exp.Expression:
    """``e`` where a column stood: parenthesised unless atomic, copied if it stands in several."""
    e = e.copy() if shared else e
    return e if isinstance(e, ATOMS) else exp.Paren(this=e)


def _size(e: exp.Expression, limit: int = SMALL + 1) -> int:
    n = 0
    for _ in e.walk():
        n += 1
        if n >= limit:
            break
    return n


def alias_of(e: exp.Expression, name: str) -> exp.Alias:
    """``e AS name`` without copying ``e``."""
    return exp.Alias(this=e, alias=exp.to_identifier(name))


def select_from(columns: list, source) -> exp.Select:
    """SELECT columns FROM source, built without copies."""
    src = source if isinstance(source, exp.Expression) else exp.to_table(source)
    return exp.Select(expressions=columns, **{"from" if "from" in exp.Select.arg_types else "from_": exp.From(this=src)})
