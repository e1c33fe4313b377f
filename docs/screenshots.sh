#!/usr/bin/env bash
# Regenerate the screenshots of the report outputs in docs/images/ (docs/reports.md shows them).
# Needs LibreOffice (soffice) and poppler (pdftoppm); run from the repository root:
#   bash docs/screenshots.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# ---- 自评表: the Xing county 稳岗补助 project's self-evaluation as the form units hand in -------
"$PY" -m jxdsl.cli score rulebooks/shanxi/xingxian-2022-self-eval.jx examples/xingxian-2022-table/self-eval.csv \
  --project 2022年脱贫劳动力稳岗补助 --engine interpreter --format xlsx -o "$work/自评表.xlsx" 2>/dev/null
soffice --headless --convert-to pdf --outdir "$work" "$work/自评表.xlsx" >/dev/null
pdftoppm -png -r 80 -f 1 -l 1 -singlefile "$work/自评表.pdf" "docs/images/自评表-xingxian"
