"""Build docs/errors.md from real runs: each kind of bad input and the message it gets.

Run from the project root: `.venv/bin/python tests/errors/make_table.py > docs/errors.md`.
tests/test_errors_doc.py checks the document matches what the tool prints today.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

from click.testing import CliRunner

from jxdsl.cli import main

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent

RULEBOOK_KINDS = {
    "keyword-typo": "关键字写错",
    "missing-weight": "缺少“权重”",
    "bad-character": "不认识的字符",
    "code-injection": "在公式里写程序代码",
    "bad-dedent": "缩进对不齐",
    "weights-sum": "下级权重之和不等于上级",
    "duplicate-name": "同级指标重名",
    "unknown-reference": "公式引用未声明的数据（拼写错误）",
    "derived-cycle": "派生值循环引用",
    "tier-overlap": "档次区间重叠",
    "tier-empty": "档次区间为空",
    "grades-order": "等级下限顺序错误",
    "checklist-sum": "清单分数之和不等于权重",
    "missing-rule": "指标缺少计分规则",
    "unknown-parent": "继承的规则集不存在",
    "unknown-fact-type": "数据类型写错",
    "date-invalid": "日期不存在",
    "unit-mismatch": "公式中单位不一致",
    "points-with-unit": "分数带了单位",
    "inherit-duplicate": "两个规则集文件声明同一名称（继承时）",
    "inherit-outside": "继承规则集目录以外的文件",
    "inherit-name-typo": "继承的规则集名称写错（提示相近的名称和查找过的位置）",
    "bare-number": "数字漏写单位（百分数、金额）",
    "band-unreachable": "分段永远用不到（被前面的分段包含）",
    "veto-preempted": "否决条件永远不会起作用",
    "grade-duplicate": "等级名称重复",
    "number-too-long": "数字位数过多",
    "derived-too-many": "派生值依赖过多（链过长）",
    "rounding-mode": "舍入方式写错（小数 2 位 进二）",
    "rounding-digits": "指标的小数位数多于规则集开头的",
    "rounding-target-table": "来自目标表的指标写了小数（应写在默认规则行末）",
    "grade-rate-percent": "按得分率定级，下限没有写成百分数",
    "max-mismatch": "声明的满分与一级指标权重之和不符",
    "merge-unknown-sibling": "“未设置时 并入”的指标不在同一级（拼写错误）",
    "name-operator": "名称里有运算符号或标点却没加引号",
    "name-slash": "名称里有路径分隔符“/”",
}
FACT_KINDS = {
    "missing-fact": "缺少数据",
    "unknown-unit": "单位与目标不一致（不认识的单位）",
    "text-for-number": "需要数值处写了文字",
    "percent-out-of-bound": "百分数超出合理范围",
    "negative-money": "金额为负数",
    "division-by-zero": "除数为零",
    "tier-out-of-interval": "评价得分不在所选档次区间内",
    "unknown-tier": "档次名称写错",
    "findings-not-a-list": "应为问题列表处写了数字",
    "unknown-record": "评价记录对应不到指标（拼写错误）",
    "score-not-a-number": "评价得分不是数字",
    "unknown-top-key": "事实文件顶层项写错",
    "yaml-syntax": "YAML 格式错误",
    "missing-project": "缺少项目名称",
    "duplicate-key": "同一名称写了两次（后一个不会悄悄生效）",
    "yaml-alias": "YAML 锚点、别名或合并键",
    "unknown-record-field": "评价记录中的项写错",
    "too-deep": "事实文件嵌套过深",
    "thousands-separator": "千位分隔符位置不对",
    "scientific-notation": "数值用了科学计数法",
    "number-too-long": "数值位数过多",
}
TABLE_KINDS = {  # table files (tests/errors/facts/<file>), scored with the national self-evaluation rulebook
    "duplicate-header.csv": ("表头两列同名", ()),
    "unknown-encoding.csv": ("CSV 既不是 UTF-8 也不是 GBK/GB18030 编码", ()),
    "cell-too-long.csv": ("CSV 单元格过长（多半是少了右引号）", ()),
    "formula-without-value.xlsx": ("Excel 公式没有保存计算结果", ()),
    "not-a-workbook.xlsx": ("Excel 文件损坏或不是 .xlsx", ()),
    "formula-without-value.xlsx --sheet": ("--sheet 指定的工作表不存在", ("--sheet", "自评")),
    "unknown-method.csv": ("自评表“计分方法”写错", ()),
    "detail-orphan.csv": ("明细行上面没有它所属的行", ()),
    "detail-word.csv": ("“明细”列写了“是”“否”以外的字", ()),
    "fact-conflict.csv": ("自评表中同一数据写了不同的值（预算执行率行与“全年预算数”列）", ()),
    "missing-fact-table.csv": ("自评表缺少规则集需要的数据（提示加一列）", ()),
    "budget-weight.csv": ("预算执行率行的分值与规则集的权重不同", ()),
    "form-no-indicators.xlsx": ("项目支出绩效自评表找不到指标栏", ()),
    "form-two-projects.xlsx": ("一个工作表里填了两份自评表", ()),
    "form-chart-sheet.xlsx": ("自评表工作簿中有图表工作表", ()),
    "form-blank.xlsx": ("空白自评表（项目名称没有填写）", ()),
    "form-amount-without-unit.xlsx": ("自评表资金栏的金额没有单位", ()),
}

DRAFT_KINDS = {  # 指标体系/评分表 files (tests/errors/facts/<file>) given to `jxdsl draft`
    "draft-no-header.csv": "draft：找不到表头（没有“一级指标”列）",
    "draft-no-weight.csv": "draft：没有“分值”列，名称中也没有写分值",
    "draft-weight-text.csv": "draft：分值不是数字",
    "draft-formula.csv": "draft：分值是公式",
    "draft-duplicate.csv": "draft：同一指标路径写了两行",
    "draft-blank-level.csv": "draft：指标名称空着，上面也没有可沿用的",
    "draft-weights-sum.csv": "draft：分值加不拢（照写，草稿的检查报错）",
    "draft-merged-weight.xlsx": "draft：合并的分值单元格跨了几个指标",
}


def first_error(output: str) -> str:
    """The first located message line, shortened for a table cell."""
    for line in output.splitlines():
        if re.match(r"^\S+:\d+:\d+: ", line) or line.startswith(("数据错误", "用法错误", "规则错误", "语法错误")):
            return line.split(": ", 1)[1] if re.match(r"^\S+:\d+:\d+: ", line) else line
    return output.strip().splitlines()[-1]


def cell(text: str) -> str:
    return text.replace("|", "\\|")


def rows() -> list[tuple[str, str, str, int]]:
    runner = CliRunner()
    out = []
    for stem, kind in RULEBOOK_KINDS.items():
        path = f"tests/errors/{stem}.jx"
        run = runner.invoke(main, ["check", path])
        out.append((kind, f"`{path}`", first_error(run.output), run.exit_code))
    for stem, kind in FACT_KINDS.items():
        path = f"tests/errors/facts/{stem}.yaml"
        run = runner.invoke(main, ["score", "tests/errors/facts/rulebook.jx", path, "--format", "json"])
        out.append((kind, f"`{path}`", first_error(run.output), run.exit_code))
    for name, (kind, extra) in TABLE_KINDS.items():
        path = f"tests/errors/facts/{name.split()[0]}"
        run = runner.invoke(main, ["score", "rulebooks/national/self-eval.jx", path, *extra])
        out.append((kind, f"`{path}`" + (f" `{' '.join(extra)}`" if extra else ""), first_error(run.output), run.exit_code))
    for name, kind in DRAFT_KINDS.items():
        path = f"tests/errors/facts/{name}"
        run = runner.invoke(main, ["draft", path])
        out.append((kind, f"`{path}`", first_error(run.output), run.exit_code))
    run = runner.invoke(main, ["score", "rulebooks/national/self-eval.jx", "tests/errors/facts/bad-row-table.csv"])
    out.append(("自评表中一行有误（其余项目照常计分）", "`tests/errors/facts/bad-row-table.csv`", "共 2 个项目：1 个计分完成，1 个有数据问题", run.exit_code))
    run = runner.invoke(main, ["score", "rulebooks/national/self-eval.jx", "没有这个文件.yaml"])
    out.append(("文件不存在", "`没有这个文件.yaml`", first_error(run.output), run.exit_code))
    run = runner.invoke(main, ["score", "rulebooks/national/self-eval.jx", "README.md"])
    out.append(("不支持的文件类型", "`README.md`", first_error(run.output), run.exit_code))
    facts = ["score", "tests/errors/facts/rulebook.jx", "tests/errors/facts/missing-fact.yaml"]
    for kind, target in (("`-o` 是输入文件（规则集、继承的规则集、事实或表格；不写入）", "tests/errors/facts/rulebook.jx"), ("`-o` 是文件夹", "tests/errors")):
        run = runner.invoke(main, [*facts, "-o", target])
        out.append((kind, f"`-o {target}`", first_error(run.output), run.exit_code))
    qixia = ["rulebooks/shandong/qixia-2021.jx", "examples/qixia-2021/facts.yaml"]
    for kind, extra in (
        ("solve：事实名写错（提示相近的名称）", ("--fact", "实际支出", "--grade", "优")),
        ("solve：指标路径写错（提示相近的路径）", ("--fact", "实际支出资金", "--full", "产出/产出数据")),
        ("solve：等级不存在", ("--fact", "实际支出资金", "--grade", "特优")),
        ("solve：目标没写或写了两个", ("--fact", "实际支出资金", "--grade", "优", "--total", "90")),
        ("solve：取任何值都达不到目标（说明最高能达到多少）", ("--fact", "实际支出资金", "--total", "99")),
    ):
        run = runner.invoke(main, ["solve", *qixia, *extra])
        out.append((kind, f"`solve … {' '.join(extra)}`", first_error(run.output), run.exit_code))
    xing = ["diff", "rulebooks/national/self-eval.jx", "rulebooks/shanxi/xingxian-2022-self-eval.jx"]
    for kind, extra in (
        ("diff --on：表格不存在", ("--on", "没有这个表.csv")),
        ("diff --on：`-o` 是输入的表格", ("--on", "examples/xingxian-2022-table/self-eval.csv", "-o", "examples/xingxian-2022-table/self-eval.csv")),
    ):
        run = runner.invoke(main, [*xing, *extra])
        out.append((kind, f"`diff … {' '.join(extra)}`", first_error(run.output), run.exit_code))
    run = runner.invoke(main, ["serve", "没有这个文件夹"])
    out.append(("serve：文件夹不存在", "`serve 没有这个文件夹`", first_error(run.output), run.exit_code))
    return out


def document() -> str:
    lines = [
        "# 错误信息一览",
        "",
        "每种错误输入都得到一条中文信息：文件:行:列、原文和 `^` 指示位置，能猜到时给出建议。从不显示 Python 错误堆栈。",
        "本表由 `tests/errors/make_table.py` 实际运行生成，`tests/test_errors_doc.py` 检查它与程序当前的输出一致。",
        "",
        "退出码：**0** 正常；**1** 规则集或数据有问题（或 `audit` 有发现，舍入提示也算，见 `docs/audit.md`）；**2** 用法错误（文件不存在、类型不支持、参数错误）。",
        "",
        "| 错误 | 示例输入 | 信息（第一行） | 退出码 |",
        "| --- | --- | --- | --- |",
    ]
    for kind, example, message, code in rows():
        lines.append(f"| {cell(kind)} | {example} | {cell(message)} | {code} |")
    lines += [
        "",
        "一个规则集里有多处语法错误时，每个顶格的语句分别检查，全部列出（最多 50 处）；链接阶段的错误（权重、引用、档次等）也一次全部列出。",
        "数据错误按项目和指标列出；自评表中有问题的项目单独报告，其余项目照常计分，最后给出计分完成和有问题的项目数。",
        "",
        "限制（防止损坏或恶意的文件耗尽内存）：规则集文件不超过 2 MB，缩进不超过 12 级，每行不超过 4000 个字符、",
        "括号嵌套不超过 32 层、运算符不超过 200 个，指标不超过 5000 个，继承不超过 32 层，规则集中的数字不超过 30 位有效数字，",
        "指标、上级指标或默认规则行自己的 `小数` 位数不多于开头的 `小数`（各项得分按开头的位数显示和相加），"
        "一个派生值直接或间接依赖的数据和派生值不超过 100 个，计算结果（分子与分母）不超过 1000 位数字；表格（自评表、事实表，CSV、Excel、Parquet，",
        "各引擎相同）不超过 200 万行（环境变量 JXDSL_MAX_ROWS 可放宽，读到上限即停），Excel 工作表的行号不超过 1048576、",
        "解压后不超过 8 GB，CSV 单元格不超过 131072 个字符；单位填写的项目支出绩效自评表原表每个文件解压后不超过 16 MB、每个工作表不超过 2000 行、100 列；",
        "事实文件（YAML/JSON）不超过 50 MB、嵌套不超过 50 层，不允许 YAML 锚点、别名、合并键和标签。",
        "继承只读规则集根目录（本目录树、`JXDSL_PATH`、自带规则集库）中的普通 `.jx` 文件（`JXDSL_INHERIT_ANYWHERE=1` 时不限）；",
        "错误信息只摘录规则集和本次读入的事实文件的原文。",
        "`draft` 读的指标体系/评分表最多 5000 个指标行（与规则集的指标数上限相同）。",
        "事实、目标表和评分表中的数值最多 100 位数字（不计整数部分开头的 0），不用科学计数法（如 1e5），",
        "千位分隔符只能每三位一个（12,500、1,234,567.5；全角逗号同样），否则报错而不猜测；全角数字、阿拉伯-印度数字（٠–٩）和数学字体数字（𝟎–𝟗）按 0–9 读取。",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(document())
