"""Driving the workbench page in headless Chromium: shared by the browser tests, the workbench
benchmark (benchmarks/workbench.py) and the screenshots (docs/workbench_screenshots.py), so that
all three type into the editor and wait for its check the same way."""
from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
# Debian's chromium as root, on a machine without internet: no sandbox, no GPU, no background calls home
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
QIXIA = "rulebooks/shandong/qixia-2021.jx"


def bundled_folder(root: Path) -> Path:
    """``root`` with copies of the bundled rulebooks and examples: the workbench writes into its folder."""
    shutil.copytree(ROOT / "rulebooks", root / "rulebooks")
    shutil.copytree(ROOT / "examples", root / "examples")
    return root


def launch(playwright):
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)


def type_over(page, line: int, old: str, new: str, last: bool = False) -> None:
    """Select ``old`` on a 1-based line of the editor (its last occurrence with ``last``) and type
    ``new`` over it, as a person would; then wait until the page has shown the check of that text."""
    seq = page.evaluate("window.jxdsl.checkSeq")
    page.evaluate("""([line, old, last]) => {
        const ta = document.querySelector('.editor textarea');
        const lines = ta.value.split('\\n');
        let offset = 0;
        for (let i = 0; i < line - 1; i++) offset += lines[i].length + 1;
        const at = last ? lines[line - 1].lastIndexOf(old) : lines[line - 1].indexOf(old);
        if (at < 0) throw new Error(`no ${old} on line ${line}`);
        ta.focus();
        ta.setSelectionRange(offset + at, offset + at + old.length);
    }""", [line, old, last])
    page.keyboard.type(new)
    page.wait_for_function(f"window.jxdsl.checkSeq > {seq} && !window.jxdsl.pending && window.jxdsl.lastCheck.seq === window.jxdsl.checkSeq")
