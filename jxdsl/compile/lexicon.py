"""Every distinct text of a table read once: the lexicon the queries join their readings from.

A province's tables repeat their texts (``≥95%``, ``合格``, ``10``): each distinct text is read
here (as a quantity, as a target with its comparison sign, as a count, why it is no number) with the kernel's own SQL
primitives, and the facts, records and target rows join the readings back by text.
"""
from __future__ import annotations

from sqlglot import exp

from jxdsl.compile.sqlb import col
from jxdsl.kernel.sql import Caps, Program, expr_of
from jxdsl.kernel.sqlops import SqlOps

QTY = ("dim", "unit", "num", "den", "start", "text", "words", "ndig", "ddig", "over")


def _texts() -> exp.Expression:
    parts = [
        exp.select(col("value").as_("x")).from_("facts"),
        exp.select(col("value").as_("x")).from_("records").where(exp.and_(col("field").isin(exp.Literal.string("得分"), exp.Literal.string("次数"), exp.Literal.string("分值")), exp.Is(this=col("item"), expression=exp.null()))),
        *[exp.select(col(c).as_("x")).from_("jx_targets") for c in ("weight", "target", "actual", "score")],
    ]
    union = parts[0]
    for p in parts[1:]:
        union = exp.union(union, p, distinct=False, copy=False)
    return exp.select(col("x")).distinct().from_(union.subquery("u")).where(exp.not_(exp.Is(this=col("x"), expression=exp.null())))


def statements(caps: Caps) -> list[tuple[str, exp.Expression]]:
    p = Program(exp.to_table("jx_lex_src"), ["x"], prefix="l")
    b = SqlOps(p, caps)
    x = col("x")
    outs: dict[str, exp.Expression] = {}

    def quantity(prefix, got):
        q, ndig, ddig, over = got
        fields = {"dim": q.dim, "unit": q.unit, "num": q.value.num, "den": q.value.den, "start": q.start.num, "text": q.text, "words": q.words, "ndig": ndig, "ddig": ddig, "over": over}
        for k, v in fields.items():
            outs[prefix + k] = p.bind(expr_of(v))

    quantity("q_", b.read_quantity(x))
    outs["p_problem"] = p.bind(b.read_number_problem(x).e)
    op, body = b.read_cmp(x)
    outs["c_op"], outs["c_body"] = p.bind(op.e), p.bind(body.e)
    quantity("b_", b.read_quantity(outs["c_body"]))
    quantity("n_", b.read_target_number(outs["c_body"]))
    n, ndig, over = b.read_count(x)
    outs["k_num"], outs["k_ndig"], outs["k_over"] = p.bind(n.num), p.bind(ndig), p.bind(over)
    return [("jx_lex_src", _texts()), ("jx_lex", p.query("jx_lk", outs, ["x"]))]


def reading_columns(prefix: str, kinds=("q_",)) -> list[str]:
    """The lexicon columns a text column brings when joined (named ``prefix`` + reading)."""
    out = []
    for k in kinds:
        if k in ("q_", "b_", "n_"):
            out += [k + f for f in QTY]
        elif k == "c_":
            out += ["c_op", "c_body"]
        elif k == "p_":
            out += ["p_problem"]
        elif k == "k_":
            out += ["k_num", "k_ndig", "k_over"]
    return out
