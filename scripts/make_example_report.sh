#!/usr/bin/env bash
# Regenerate docs/examples/incident-report.html and .png from sample_logs/incident.
# Needs: the package importable, Debian chromium and pip playwright (for the PNG only).
set -euo pipefail
cd "$(dirname "$0")/.."
logsleuth scan sample_logs/incident --html docs/examples/incident-report.html > /dev/null
echo "docs/examples/incident-report.html: $(stat -c %s docs/examples/incident-report.html) bytes"
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
