"""Result objects from the SQL engines' relations, so that ``explain.to_json``, the explanations and
the reports format one kind of result, whichever engine computed it."""
from __future__ import annotations

import json
from fractions import Fraction

from jxdsl.compile import Compiled
from jxdsl.errors import FactError, Span
from jxdsl.evaluate import FUNDS, IndicatorResult, ItemResult, Result, Step
from jxdsl.kernel import hints
from jxdsl.tables import fetch_inputs


def _span(text: str | None) -> Span | None:
    if not text:
        return None
    file, line, column = text.rsplit(":", 2)
    return Span(file, int(line), int(column))


def _frac(v, scale: int) -> Fraction | None:
    return None if v is None else Fraction(int(v), scale)


def results(con, c: Compiled, pids: list[int]) -> dict[int, Result]:
    """The Result of each project ``pid`` from jx_proj, jx_nodes and jx_errors (rows fetched as needed)."""
    plan = c.plan
    scheme = plan.scheme
    scale = 10**plan.scale
    if not pids:
        return {}
    keep = ", ".join(str(int(p)) for p in pids)
    nodes: dict[int, list] = {p: [] for p in pids}
    for row in con.execute(f"SELECT pid, path, status, explanation, source, s_int, w_int, ex_int, target, actual, method, tier, given, note FROM jx_nodes WHERE pid IN ({keep}) ORDER BY pid, k, g, r").fetchall():
        nodes[row[0]].append(row[1:])
    funds: dict[int, list] = {p: [] for p in pids}
    names = ", ".join(f"'{n}'" for n in FUNDS)
    for pid, name, value in con.execute(f"SELECT pid, name, value FROM facts WHERE pid IN ({keep}) AND name IN ({names}) AND value IS NOT NULL AND value <> ''").fetchall():
        funds[pid].append((name, value))
    errs_of = project_errors(con, c, pids)
    cols = ["total_s", "grade", "bonus", "penalty", "ptotal", "pmax", "punscored"] + [f"ts{n}_on" for n in range(len(c.total_steps))]
    cols += [f"ts{n}_{k}" for n, (_, keys) in enumerate(c.total_steps) for k in keys]
    items = [t for t in plan.targets if t.kind in ("加分", "扣分", "否决")]
    cols += [f"i{t.index}_{s}" for t in items for s in ("a", "st", "ev")]
    head = {}
    for row in con.execute(f"SELECT p.pid, p.project, p.year, p.source, {', '.join('j.' + x for x in cols)} FROM projects p JOIN jx_proj j USING (pid) WHERE p.pid IN ({keep})").fetchall():
        head[row[0]] = dict(zip(["project", "year", "source", *cols], row[1:]))
    out = {}
    for pid in pids:
        h = head[pid]
        roots = _tree(nodes[pid], scale)
        errs = errs_of.get(pid, [])
        steps = []
        for n, (kind, keys) in enumerate(c.total_steps):
            if h[f"ts{n}_on"]:
                steps.append(Step(kind, {k: h[f"ts{n}_{k}"] for k in keys}))
        bonus = [ItemResult(t.node.name, t.node.points, _dec(h[f"i{t.index}_a"]), h[f"i{t.index}_ev"], h[f"i{t.index}_st"]) for t in items if t.kind == "加分"]
        penalty = [ItemResult(t.node.name, t.node.points, _dec(h[f"i{t.index}_a"]), h[f"i{t.index}_ev"], h[f"i{t.index}_st"]) for t in items if t.kind == "扣分"]
        vetoes = [ItemResult(t.node, Fraction(0), _dec(h[f"i{t.index}_a"]), h[f"i{t.index}_ev"], h[f"i{t.index}_st"]) for t in items if t.kind == "否决"]
        total = _frac(h["total_s"], scale)
        warnings = []
        year = int(h["year"]) if h["year"] else None
        if year is not None and not scheme.in_force(year):
            a, b = scheme.years
            warnings.append(f"规则集“{scheme.name}”适用于 {f'{a} 年' if a == b else f'{a}–{b} 年'}，项目年度为 {year} 年")
        out[pid] = Result(
            rulebook=scheme.name, version=scheme.version, content_hash=scheme.content_hash, files=scheme.files, project=h["project"],
            max=scheme.max, subtotal=None, total=total, grade=h["grade"], bonus=_dec(h["bonus"]) or Fraction(0), penalty=_dec(h["penalty"]) or Fraction(0),
            indicators=roots, bonus_items=tuple(bonus), penalty_items=tuple(penalty), veto_items=tuple(vetoes), total_steps=tuple(steps),
            errors=tuple(errs), warnings=tuple(warnings), digits=scheme.digits, rounding=scheme.rounding_text(), grade_max=scheme.grade_max, bonus_cap=scheme.bonus_cap,
            partial_total=_dec(h["ptotal"]), partial_max=_dec(h["pmax"]), unscored=h["punscored"],
            funds=tuple(sorted(funds[pid], key=lambda f: FUNDS.index(f[0]))),
        )
    return out


def totals(con, c: Compiled) -> dict[int, tuple[Fraction | None, str | None]]:
    """Every project's total and grade, exactly as ``results`` gives them, without assembling the
    Results (comparing two rulebooks needs the whole Result only where these differ)."""
    scale = 10**c.plan.scale
    return {pid: (_frac(t, scale), grade) for pid, t, grade in con.execute("SELECT pid, total_s, grade FROM jx_proj").fetchall()}


def project_errors(con, c: Compiled, pids: list[int]) -> dict[int, list[FactError]]:
    """Each project's errors, in the interpreter's order, with their suggestions."""
    from jxdsl.kernel.values import Problem

    plan, scheme = c.plan, c.plan.scheme
    keep = ", ".join(str(int(p)) for p in pids)
    rows = con.execute(
        f"SELECT e.pid, p.project, p.source, e.path, e.message, e.hint, e.code, e.arg, e.line, e.node FROM jx_errors e JOIN projects p USING (pid) "
        f"WHERE e.pid IN ({keep}) ORDER BY e.pid, e.phase, e.k, e.sub"
    ).fetchall()
    needs = sorted({r[0] for r in rows if r[6] is not None})
    inputs = dict(zip(needs, fetch_inputs(con, needs))) if needs else {}
    out: dict[int, list[FactError]] = {}
    for pid, project, source, path, message, hint, code, arg, line, node in rows:
        if code is not None:
            target = plan.nodes[node] if node is not None else None
            leaf = target if target is not None and hasattr(target, "rule") else None
            hint = hints.refine(Problem(None, message, hint, code, arg), leaf, scheme, inputs[pid])
        where = f"项目“{project}”" + (f"，指标“{path}”" if path else "")
        out.setdefault(pid, []).append(FactError(f"{where}：{message}", Span(source, int(line) if line else 1, 1), hint))
    return out


def _dec(text) -> Fraction | None:
    return None if text is None else Fraction(text)


def _tree(rows, scale: int) -> tuple[IndicatorResult, ...]:
    """Indicators in output order → the tree (a node's parent is the nearest earlier prefix)."""
    built: list[tuple[tuple, dict]] = []
    roots: list[dict] = []
    stack: list[tuple[tuple, dict]] = []
    for path_json, status, explanation, source, s, w, ex, target, actual, method, tier, given, note in rows:
        path = tuple(json.loads(path_json))
        steps = (Step("row", {"target": target, "actual": actual, "tier": tier, "given": given}),) if target is not None else ()
        steps += (Step("row_method", {"method": method}),) if method else ()  # kernel.rows.scored_method
        node = {"path": path, "weight": _frac(w, scale) if w is not None else Fraction(0), "score": _frac(s, scale), "status": status,
                "text": explanation, "origin": _span(source), "excluded": _frac(ex, scale) or Fraction(0), "children": [], "steps": steps,
                "evidence": note}
        while stack and not (len(stack[-1][0]) < len(path) and path[: len(stack[-1][0])] == stack[-1][0]):
            stack.pop()
        (stack[-1][1]["children"] if stack else roots).append(node)
        stack.append((path, node))
        built.append((path, node))

    def freeze(n) -> IndicatorResult:
        kids = tuple(freeze(k) for k in n["children"])
        return IndicatorResult(n["path"], n["weight"], n["score"], n["status"], n["steps"], n["evidence"], n["origin"], kids, n["excluded"], n["text"])

    return tuple(freeze(r) for r in roots)
