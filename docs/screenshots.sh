#!/usr/bin/env bash
# The screenshots in docs/images/, made from the examples by the tool itself.
#
#     docs/screenshots.sh              # from the repository root; PY=path/to/python to choose the interpreter
#
# Each block below makes the images of one output and stands on its own.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-python}
JXDSL=("$PY" -c "from jxdsl.cli import entry; entry()")
IMAGES=docs/images
mkdir -p "$IMAGES"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# ==== Word 得分表 (docs/reports.md, “Word 得分表”) =============================================
# Qixia's 得分表 as Word writes it, printed to PDF by LibreOffice: the first page, and the page of
# the 综合评定得分表 when it is another.  Without LibreOffice: the HTML report of the same table in
# headless Chromium.
word_screenshots() {
    local docx="$WORK/qixia.docx" png="$IMAGES/得分表-qixia-word.png"
    "${JXDSL[@]}" score rulebooks/shandong/qixia-2021.jx examples/qixia-2021/facts.yaml --format docx -o "$docx"
    if command -v soffice >/dev/null; then
        # The fonts the document names (宋体, 仿宋, 黑体) are Windows fonts; on Linux print them
        # in the Noto CJK faces of the same kind (serif for 宋体 and 仿宋, sans for 黑体).
        cat >"$WORK/fonts.conf" <<'EOF'
<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig>
  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>
  <alias binding="same"><family>宋体</family><prefer><family>Noto Serif CJK SC</family></prefer></alias>
  <alias binding="same"><family>仿宋</family><prefer><family>Noto Serif CJK SC</family></prefer></alias>
  <alias binding="same"><family>黑体</family><prefer><family>Noto Sans CJK SC</family></prefer></alias>
</fontconfig>
EOF
        FONTCONFIG_FILE="$WORK/fonts.conf" soffice "-env:UserInstallation=file://$WORK/lo-profile" \
            --headless --convert-to pdf --outdir "$WORK" "$docx" >/dev/null
        local pdf="$WORK/qixia.pdf" pages summary=1 n
        pages=$(pdfinfo "$pdf" | awk '/^Pages:/ {print $2}')
        for n in $(seq 1 "$pages"); do
            if pdftotext -f "$n" -l "$n" "$pdf" - | grep -q "综合评定得分表"; then summary=$n; fi
        done
        pdftoppm -png -r 70 -f 1 -l 1 -singlefile "$pdf" "${png%.png}"
        if [ "$summary" != 1 ]; then
            pdftoppm -png -r 70 -f "$summary" -l "$summary" -singlefile "$pdf" "$IMAGES/得分表-qixia-word-综合评定"
        fi
    else
        echo "soffice not found: $png shows the HTML report of the same table" >&2
        local html="$WORK/qixia.html" browser
        "${JXDSL[@]}" score rulebooks/shandong/qixia-2021.jx examples/qixia-2021/facts.yaml --format html -o "$html"
        browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome)
        "$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --user-data-dir="$WORK/chromium" \
            --window-size=1400,1000 --screenshot="$png" "file://$html" 2>/dev/null
    fi
    ls -l "$IMAGES"/得分表-qixia-word*.png
}
word_screenshots
# ==== end of Word 得分表 ========================================================================

# ==== 自评表 (docs/reports.md, “自评表”) ==========================================================
# The Xing county 稳岗补助 project's self-evaluation as the form units hand in, printed by LibreOffice.
self_eval_screenshot() {
    command -v soffice >/dev/null || { echo "soffice not found: $IMAGES/自评表-xingxian.png not made" >&2; return; }
    "${JXDSL[@]}" score rulebooks/shanxi/xingxian-2022-self-eval.jx examples/xingxian-2022-table/self-eval.csv \
        --project 2022年脱贫劳动力稳岗补助 --engine interpreter --format xlsx -o "$WORK/自评表.xlsx" 2>/dev/null || true
    soffice "-env:UserInstallation=file://$WORK/lo-profile" --headless --convert-to pdf --outdir "$WORK" "$WORK/自评表.xlsx" >/dev/null
    pdftoppm -png -r 80 -f 1 -l 1 -singlefile "$WORK/自评表.pdf" "$IMAGES/自评表-xingxian"
    ls -l "$IMAGES/自评表-xingxian.png"
}
self_eval_screenshot
# ==== end of 自评表 =============================================================================

# ==== 工作台 (docs/workbench.md) ================================================================
# The workbench in headless Chromium on a copy of rulebooks/ and examples/: an underlined error, the
# indicator tree, the score, what-if and impact (docs/images/workbench-*.png).
workbench_screenshots() {
    [ -x /usr/bin/chromium ] || { echo "chromium not found: $IMAGES/workbench-*.png not made" >&2; return; }
    PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" "$PY" docs/workbench_screenshots.py
}
workbench_screenshots
# ==== end of 工作台 ============================================================================
