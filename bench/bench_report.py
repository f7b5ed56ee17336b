"""HTML report benchmark: size of the report for the 1 GiB bench log, and how long
headless Chromium (Debian's, driven by Playwright) takes to load it and draw every chart.

    python bench/bench_report.py [--size 1GiB] [--repeat 3]

Prints a Markdown table and writes bench/out/report.json. Load time is measured from
navigation start until every plotly graph div reports drawn traces (in-page clock).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
DRAWN = """() => {
  const gds = [...document.querySelectorAll('.js-plotly-plot')];
  return gds.length > 0 && gds.every(g => g._fullData && g.querySelector('.main-svg'));
}"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="1GiB")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    log = ROOT / "bench" / "data" / f"incident-{args.size}.log"
    if not log.exists():
        subprocess.run([sys.executable, str(ROOT / "bench" / "gen_incident_log.py"),
                        "--size", args.size, "--out", str(log)], check=True)
    out_dir = ROOT / "bench" / "out"
    out_dir.mkdir(parents=True, exist_ok=True)
    report = out_dir / f"report-{args.size}.html"
    t0 = time.perf_counter()
    subprocess.run(["logsleuth", "scan", str(log), "--format", "json", "--html", str(report)],
                   check=True, stdout=subprocess.DEVNULL)
    scan_s = time.perf_counter() - t0

    from playwright.sync_api import sync_playwright

    loads: list[float] = []
    requests: list[str] = []
    errors: list[str] = []
    with tempfile.TemporaryDirectory() as profile, sync_playwright() as pw:
        ctx = pw.chromium.launch_persistent_context(
            profile, executable_path=shutil.which("chromium"), headless=True, args=FLAGS,
            viewport={"width": 1400, "height": 1000})
        for _ in range(args.repeat):
            page = ctx.new_page()
            page.on("request", lambda r: requests.append(r.url))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.goto(report.as_uri())
            page.wait_for_function(DRAWN, timeout=60_000)
            loads.append(page.evaluate("() => performance.now()") / 1000)
            page.close()
        ctx.close()
    foreign = sorted({u for u in requests if u != report.as_uri()})
    result = {"size": args.size, "report_bytes": report.stat().st_size, "scan_with_html_s": scan_s,
              "load_draw_s": loads, "foreign_requests": foreign, "console_errors": errors}
    (out_dir / "report.json").write_text(json.dumps(result, indent=2))
    print("| input | report size | scan --html s | load+draw s (best / runs) | requests | console errors |")
    print("|---|---:|---:|---:|---:|---:|")
    print(f"| {args.size} | {report.stat().st_size / 1e6:.1f} MB | {scan_s:.2f} | "
          f"{min(loads):.2f} / {', '.join(f'{x:.2f}' for x in loads)} | {len(foreign)} | "
          f"{len(errors)} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
