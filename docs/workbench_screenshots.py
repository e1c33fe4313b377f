"""The workbench screenshots of docs/workbench.md (docs/images/workbench-*.png), taken in headless
Chromium from the real server on a copy of rulebooks/ and examples/.

    python docs/workbench_screenshots.py      # from the repository root; docs/screenshots.sh calls it
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

from jxdsl.serve import Background

ROOT = Path(__file__).resolve().parent.parent
IMAGES = ROOT / "docs/images"
sys.path.insert(0, str(ROOT / "tests"))

from workbench_driver import QIXIA, bundled_folder, launch, type_over  # noqa: E402


def shoot(page, name: str, part: str | None = None) -> None:
    """The whole page, or one part of it (a CSS selector)."""
    path = IMAGES / f"workbench-{name}.png"
    (page.locator(part) if part else page).screenshot(path=path)
    size = path.stat().st_size
    print(f"{path.relative_to(ROOT)}  {size // 1024} KB")
    if size > 400_000:
        sys.exit(f"{path} is over 400 KB")


def main() -> None:
    IMAGES.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        folder = bundled_folder(Path(tmp))
        with Background(folder) as server, sync_playwright() as p:
            browser = launch(p)
            page = browser.new_page(viewport={"width": 1280, "height": 720})
            page.goto(f"{server.url}/#{QIXIA}")
            page.wait_for_function("window.jxdsl.lastCheck && window.jxdsl.lastCheck.ok")

            # the tree, scrolled to the indicators the typo will touch
            page.evaluate("document.querySelector('.editor textarea').scrollTop = 60 * 20")
            type_over(page, 67, "权重 4", "权重 5")
            page.locator("#tree li", has_text="项目立项").first.scroll_into_view_if_needed()
            page.locator("#tree li", has_text="项目立项").first.hover()
            shoot(page, "tree", ".side")

            type_over(page, 67, "权重 5", "权垂 4")
            page.mouse.move(0, 0)
            shoot(page, "error", ".center")

            type_over(page, 67, "权垂 4", "权重 4")
            page.click('button[data-tab="score"]')
            page.select_option("#facts-file", "examples/qixia-2021/facts.yaml")
            expect(page.locator("#score-result [data-total]")).to_have_text("92.66")
            shoot(page, "score", ".side")

            page.click('button[data-tab="whatif"]')
            page.select_option("#wi-fact", "实际支出资金")
            page.select_option("#wi-goal", "grade")
            page.select_option("#wi-grade", "优")
            page.click("#wi-solve")
            page.click("#wi-apply")
            expect(page.locator("#wi-score [data-grade]")).to_have_text("优")
            shoot(page, "whatif", ".side")

            seq = page.evaluate("window.jxdsl.checkSeq")
            page.click('#rulebooks li[data-path="rulebooks/shanxi/xingxian-2022-self-eval.jx"]')
            page.wait_for_function(f"window.jxdsl.checkSeq > {seq} && window.jxdsl.lastCheck.ok")
            type_over(page, 22, "定性 : 三档", "定量 ≥ : 达标\n  定性 : 三档")
            page.click('button[data-tab="impact"]')
            page.select_option("#im-old", "saved")
            page.select_option("#im-table", "examples/xingxian-2022-table/self-eval.csv")
            page.click("#im-run")
            expect(page.locator('#im-result table[data-key="matrix"]')).to_be_visible(timeout=60_000)
            shoot(page, "impact", ".side")
            browser.close()


if __name__ == "__main__":
    main()
