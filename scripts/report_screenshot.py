"""Screenshot the demo's stage report for the README: `python scripts/report_screenshot.py [REPORT] [PNG]`.

Needs Debian's chromium and a font with Hangul (e.g. `apt-get install fonts-nanum`), or the Korean text shows
as boxes. Run `make demo` first.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright


def main(report: Path, out: Path) -> None:
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1200, "height": 1600}, device_scale_factor=1)
        page.goto(report.resolve().as_uri())
        page.screenshot(path=str(out), full_page=False)
        browser.close()
    print(f"{out}: {out.stat().st_size:,} bytes")


if __name__ == "__main__":
    args = sys.argv[1:]
    main(Path(args[0] if args else ".dokja/demo/report-stage-1.html"), Path(args[1] if len(args) > 1 else
                                                                            "docs/report.png"))
