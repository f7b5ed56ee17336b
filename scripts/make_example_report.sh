#!/usr/bin/env bash
# Regenerate docs/examples/incident-report.html and .png from sample_logs/incident.
# Needs: the package importable, Debian chromium and pip playwright (for the PNG only).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 - <<'PY'
import sys
from pathlib import Path

sys.path.insert(0, "tests/browser")
from evidence import scan_with_incident  # the incident analysis until scan() attaches one

from logsleuth.reports.html import write_html

result = scan_with_incident(Path("sample_logs/incident"), tz="Europe/Berlin")
out = write_html(result, "docs/examples/incident-report.html")
print(f"{out}: {out.stat().st_size:,} bytes")
PY
python3 - <<'PY'
import shutil
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

html = Path("docs/examples/incident-report.html").resolve()
with tempfile.TemporaryDirectory() as profile, sync_playwright() as pw:
    ctx = pw.chromium.launch_persistent_context(
        profile, executable_path=shutil.which("chromium"), headless=True,
        args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
              "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        viewport={"width": 1400, "height": 900})
    page = ctx.new_page()
    page.goto(html.as_uri())
    page.wait_for_selector("body[data-rendered='1']", timeout=60_000)
    page.screenshot(path="docs/examples/incident-report.png", full_page=True,
                    clip={"x": 0, "y": 0, "width": 1400, "height": 1900})
    ctx.close()
print("docs/examples/incident-report.png")
PY
