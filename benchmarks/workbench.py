"""The workbench's speed for the Qixia rulebook: first paint and a live re-check, medians of n runs.

    .venv/bin/python benchmarks/workbench.py          # 10 runs of each
    .venv/bin/python benchmarks/workbench.py --n 30

The server runs in this process (``serve.Background``) on a copy of rulebooks/ and examples/; the
page in headless Chromium.  Measured:

- first paint: the Performance API's ``first-contentful-paint`` of a fresh page (new browser
  context, empty cache), and the time until the editor shows Qixia's text coloured
  (``performance.mark("jxdsl:editor-shown")``) and until its first check is on screen;
- a live re-check in the page: one keystroke after a pause (a weight 4 → 5 and back) until the
  underline, error list and tree are updated, and from the request's start (keystrokes closer
  than 150 ms are a burst, checked 150 ms after its last one; this measures the single keystroke);
- ``POST /api/check`` alone (HTTP round trip, and the server's own ``ms``).

Targets (issue 15): first paint < 1 s, live re-check < 200 ms.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
from playwright.sync_api import sync_playwright

from jxdsl.serve import Background

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from workbench_driver import QIXIA, bundled_folder, launch, type_over  # noqa: E402


def first_paint(browser, url: str) -> dict[str, float]:
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    page.goto(f"{url}/#{QIXIA}")
    page.wait_for_function("performance.getEntriesByName('jxdsl:checked').length > 0")
    got = page.evaluate("""() => ({
        fcp: performance.getEntriesByName('first-contentful-paint')[0].startTime,
        editor: performance.getEntriesByName('jxdsl:editor-shown')[0].startTime,
        checked: performance.getEntriesByName('jxdsl:checked')[0].startTime,
        coloured: document.querySelectorAll('.editor .hl .s-keyword-control').length,
    })""")
    context.close()
    assert got["coloured"] > 50, "the editor is not coloured"
    return got


def rechecks(browser, url: str, n: int) -> list[dict]:
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    page.goto(f"{url}/#{QIXIA}")
    page.wait_for_function("window.jxdsl.lastCheck && window.jxdsl.lastCheck.ok")
    out = []
    for i in range(n):
        old, new = ("4", "5") if i % 2 == 0 else ("5", "4")
        type_over(page, 67, old, new, last=True)
        out.append(page.evaluate("window.jxdsl.lastCheck"))
        time.sleep(0.3)  # let the score that follows a good check finish
    page.close()
    return out


def api_checks(url: str, n: int) -> tuple[list[float], list[float]]:
    text = (ROOT / QIXIA).read_text(encoding="utf-8")
    wall, server = [], []
    with httpx.Client(timeout=30) as client:
        for _ in range(n):
            start = time.perf_counter()
            got = client.post(f"{url}/api/check", json={"text": text, "path": QIXIA}).json()
            wall.append((time.perf_counter() - start) * 1000)
            server.append(got["ms"])
    return wall, server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10)
    n = parser.parse_args().n
    med = statistics.median
    with tempfile.TemporaryDirectory() as tmp:
        folder = bundled_folder(Path(tmp))
        with Background(folder) as server, sync_playwright() as p:
            browser = launch(p)
            first_paint(browser, server.url)  # unmeasured: Chromium's own first start
            paints = [first_paint(browser, server.url) for _ in range(n)]
            checks = rechecks(browser, server.url, n)
            browser.close()
            wall, own = api_checks(server.url, n)
    print(f"Qixia ({QIXIA}), medians of {n} runs, ms")
    print(f"  first-contentful-paint                    {med(p['fcp'] for p in paints):7.1f}")
    print(f"  editor shows the rulebook coloured        {med(p['editor'] for p in paints):7.1f}")
    print(f"  first check on screen (errors, tree)      {med(p['checked'] for p in paints):7.1f}")
    print(f"  re-check: keystroke → shown               {med(c['keystroke'] for c in checks):7.1f}")
    print(f"  re-check: request → shown                 {med(c['request'] for c in checks):7.1f}")
    print(f"    of which the answer's arrival           {med(c['response'] for c in checks):7.1f}")
    print(f"    of which the server's work              {med(c['server'] for c in checks):7.1f}")
    print(f"  POST /api/check round trip                {med(wall):7.1f}")
    print(f"  POST /api/check server time (ms field)    {med(own):7.1f}")


if __name__ == "__main__":
    main()
