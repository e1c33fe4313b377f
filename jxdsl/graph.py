"""The derived-value graph at link time: dependency order, cycles, and how much one value rests on.

Both walks are iterative and linear in the number of derived values (a chain of thousands is no
deeper than one); the engines then compute each value once, in this order.
"""
from __future__ import annotations

from jxdsl import ast
from jxdsl.errors import JxError, LinkError
from jxdsl.formulas import references

MAX_BEHIND = 100  # facts and derived values one derived value may depend on, directly or not


def order_derived(derived: dict[str, ast.Derived], errors: list[JxError]) -> tuple[ast.Derived, ...]:
    """Derived values in dependency order; each cycle reported once. Iterative (an explicit stack)
    and linear in the size of the graph, so a chain of thousands of values is no deeper than one."""
    order: list[ast.Derived] = []
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    deps = {n: list(dict.fromkeys(r.name for r in references(d.expr) if r.name in derived)) for n, d in derived.items()}
    for root in derived:
        if root in state:
            continue
        path: list[str] = [root]
        todo: list = [iter(deps[root])]
        state[root] = 1
        while todo:
            nxt = next(todo[-1], None)
            if nxt is None:
                done = path.pop()
                todo.pop()
                state[done] = 2
                order.append(derived[done])
            elif state.get(nxt) == 1:
                cycle = path[path.index(nxt):] + [nxt]
                errors.append(LinkError(f"派生值循环引用：{' → '.join(cycle)}", derived[nxt].span))
            elif nxt not in state:
                state[nxt] = 1
                path.append(nxt)
                todo.append(iter(deps[nxt]))
    return tuple(order)


def check_behind(order: tuple[ast.Derived, ...], errors: list[JxError]) -> tuple[ast.Derived, ...]:
    """A derived value may rest on at most MAX_BEHIND names (every engine lists the missing ones
    and the SQL engines carry each as a column). One pass in dependency order, each set capped, so
    the check itself is linear in the number of derived values."""
    behind: dict[str, set[str] | None] = {}  # None: over the limit
    for d in order:
        got: set[str] | None = set()
        for r in references(d.expr):
            inner = behind.get(r.name, set())
            if inner is None or got is None:
                got = None
                break
            got |= inner | {r.name}
            if len(got) > MAX_BEHIND:
                got = None
                break
        behind[d.name] = got
        if got is None and not any(r.name in behind and behind[r.name] is None for r in references(d.expr)):
            errors.append(LinkError(f"派生值“{d.name}”依赖的数据和派生值过多（超过 {MAX_BEHIND} 个）", d.span, "合并中间步骤，或把一部分直接写成数据"))
    return order
