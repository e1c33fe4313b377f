"""Where a rule's value comes from: facts, derived values, 取 expressions, surveys (staged).

A ``scope`` is one project's values as an engine holds them (``PyScope`` in the interpreter,
columns in SQL).  It answers, per name, the quantity, whether it is present, whether it was given
but rejected, and where it was written; everything else here is shared by the engines.
"""
from __future__ import annotations

from jxdsl import ir
from jxdsl.kernel.values import FILL_HINT, Step, Valued, evaluate, invalid, missing, substituted
from jxdsl.lower import names


# ---- absent facts ----------------------------------------------------------------------------------
def absent(scope, name: str) -> list[tuple]:
    """(condition, fact) pairs: the facts really missing behind an absent value, in order.

    A derived value names its inputs; when they are all there but it still could not be computed,
    it names itself.  A fact is missing exactly when it is not present (then every derived value
    above it is absent too), so each name behind ``name`` is listed once with a condition of its
    own: linear in the derived values read, however they share inputs (``scope.graph`` is the
    scheme's derived values by name)."""
    b = scope.b
    if not scope.is_derived(name):
        return [(b.not_(scope.present(name)), name)]
    out: dict[str, object] = {}
    stack = [(name, iter(_refs(scope, name)))]  # depth first, inputs in the order written
    while stack:
        d, refs = stack[-1]
        ref = next(refs, None)
        if ref is None:
            stack.pop()
            mine = _refs(scope, d)
            out[d] = b.all(b.not_(scope.present(d)), *[scope.present(r) for r in mine])
        elif ref in out:  # (no cycles: the linker rejects them)
            continue
        elif scope.is_derived(ref):
            stack.append((ref, iter(_refs(scope, ref))))
        else:
            out[ref] = b.not_(scope.present(ref))
    return list(zip(out.values(), out.keys()))


def _refs(scope, name: str) -> list[str]:
    return list(dict.fromkeys(names(scope.derived_expr(name))))


def absent_problem(scope, value_names: list[str], via: str | None = None):
    """Missing (or rejected) facts behind ``value_names`` as a Problem, or None when all are there."""
    b = scope.b
    pairs: dict[str, object] = {}
    for n in value_names:
        for cond, fact in absent(scope, n):
            pairs[fact] = b.any(pairs[fact], cond) if fact in pairs else cond
    if not pairs:
        return None
    pairs_list = [(b.let(c), f) for f, c in pairs.items()]
    listed = b.join("”“", [b.cases((c, b.text(f)), default=b.null) for c, f in pairs_list])
    bad = b.join("”“", [b.cases((b.all(c, scope.rejected(f)), b.text(f)), default=b.null) for c, f in pairs_list])
    count = b.count_true(*[c for c, _ in pairs_list])
    only = b.cases((b.eq(count, b.num(1)), listed), default=b.null)
    if via is not None:
        own = next((c for c, f in pairs_list if f == via), None)
        note = b.cases((b.all(b.eq(count, b.num(1)), own if own is not None else b.flag(False)), b.text("")), default=b.text(f"（计算“{via}”需要）"))
    else:
        note = b.text("")
    return b.cases(
        (b.eq(count, b.num(0)), None),
        (lambda: b.not_(b.eq(bad, b.text(""))), lambda: invalid(b, b.concat(b.text("数据“"), bad, b.text("”有误，无法计分（见上）")))),
        default=lambda: missing(b, b.concat(b.text("缺少数据“"), listed, b.text("”"), note), b.text(FILL_HINT), b.text("fact"), only),
    )


def _steps(scope, refs: list[str]) -> list[Step]:
    return [s for s in (scope.value_step(n) for n in dict.fromkeys(refs)) if s is not None]


# ---- value sources ------------------------------------------------------------------------------
def own_value(scope, name: str) -> Valued:
    """The fact or derived value of this name (a plain fact appears in the score sentence itself)."""
    b = scope.b
    problem = b.cases((scope.present(name), None), default=lambda: absent_problem(scope, [name], via=name))
    return Valued(scope.q(name), problem, _steps(scope, [name]))


def expression(scope, e: ir.Expr, weight=None) -> Valued:
    """An expression's value: its names must be there, then its units must agree."""
    b = scope.b
    refs = list(dict.fromkeys(names(e)))
    lacking = absent_problem(scope, refs) if refs else None
    env = {n: Valued(scope.q(n)) for n in refs}
    if lacking is None:
        return evaluate(b, e, env, weight)
    lacking = b.let(lacking)
    return b.cases((lambda: b.is_null(lacking), lambda: evaluate(b, e, env, weight)), default=lambda: Valued(b.null_qty, lacking))


def expr_value(scope, e: ir.Expr) -> Valued:
    """取 expression: the value, with the steps of the derived values it reads and its own."""
    b = scope.b
    refs = names(e)
    got = expression(scope, e)
    steps = _steps(scope, refs)
    if not isinstance(e, ir.Name):
        env = {n: Valued(scope.q(n)) for n in dict.fromkeys(refs)}
        data = lambda: {"name": b.text("取值"), "formula": b.text(formula(e)), "substituted": substituted(b, e, env, scope.digits), "value": b.show(got.q, scope.digits)}  # noqa: E731
        steps.append(Step("value", data, b.is_null(got.problem)))
    return Valued(got.q, got.problem, steps)


def formula(e: ir.Expr) -> str:
    from jxdsl.kernel.values import formula_text

    return formula_text(e)


def survey_value(scope, rec, source: ir.SurveyValue) -> Valued:
    """Σ(count × option weight) ÷ Σ count over every question the record gives."""
    b = scope.b
    counts = [b.let(rec.option_total(o.name)) for o in source.options]
    total = b.let(b.sum(*counts))
    options = "、".join(o.name for o in source.options)
    bad_kind, bad_option, bad_text = rec.survey_problem([o.name for o in source.options])
    problem = b.cases(
        (b.not_(rec.survey_given), lambda: missing(b, b.text("缺少问卷结果"), b.text("评价记录写 问卷: {满意: 258, 一般: 2, 不满意: 0}"))),
        (lambda: b.eq(bad_kind, b.text("group")), lambda: invalid(b, b.concat(b.text("问卷结果应是“选项: 人数”的映射，实际是“"), bad_text, b.text("”")))),
        (lambda: b.eq(bad_kind, b.text("option")), lambda: invalid(b, b.concat(b.text("问卷选项“"), bad_option, b.text("”不在规则集的选项中")), b.text(f"选项：{options}"), b.text("option"), bad_option)),
        (lambda: b.eq(bad_kind, b.text("count")), lambda: invalid(b, b.concat(b.text("问卷选项“"), bad_option, b.text("”的人数应为非负整数，实际是“"), bad_text, b.text("”")))),
        (lambda: b.eq(total, b.num(0)), lambda: missing(b, b.text("问卷有效人数为 0，无法计算满意度"))),
        default=None,
    )
    problem = b.let(problem)

    def value():
        return b.sum(*[c * b.num(o.weight) for c, o in zip(counts, source.options)]) / total

    ratio = b.let(b.unless(b.not_(b.is_null(problem)), value))
    pieces = []
    for n, (c, o) in enumerate(zip(counts, source.options)):
        pieces += [b.text(" + ")] if n else []
        pieces += [lambda c=c: b.plain(c, 2), b.text("×" + _plain4(o.weight))]
    data = lambda: {"name": b.text(source.label), "terms": b.concat(*[p() if callable(p) else p for p in pieces]), "total": b.plain(total, 2), "value": b.percent(ratio, scope.digits), "questions": rec.questions}  # noqa: E731
    q = b.qty(ratio, b.text(""), b.text("%"), b.text(""))
    return Valued(b.cases((b.is_null(problem), q), default=b.null_qty), problem, [Step("survey", data, b.is_null(problem))])


def _plain4(x) -> str:
    from jxdsl.units import plain

    return plain(x, 4)


def value_of(scope, rec, source: ir.ValueSource) -> Valued:
    if isinstance(source, ir.SurveyValue):
        return survey_value(scope, rec, source)
    if isinstance(source, ir.OwnValue):
        return own_value(scope, source.name)
    return expr_value(scope, source.expr)
