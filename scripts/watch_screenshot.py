"""Screenshot of `logsleuth watch`'s live view, for the README.

    python scripts/watch_screenshot.py [OUT.png]

A real watcher follows a file while the recorded run ``sample_logs/matrix/
unpooled-netty-256-k-cut`` (a leak cut before its first OOM) is appended to it; its live
view is then drawn by rich into an SVG and rendered to PNG by headless Chromium.
"""

from __future__ import annotations

import gzip
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from rich.console import Console

from logsleuth.options import ScanOptions
from logsleuth.watch.run import Watcher, WatchOptions
from logsleuth.watch.view import LiveView

ROOT = Path(__file__).resolve().parents[1]
CASE = ROOT / "sample_logs" / "matrix" / "unpooled-netty-256-k-cut"


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "examples" / "watch-live.png"
    rolled = sorted(CASE.glob("push-server-*.log.gz"),
                    key=lambda p: int(p.name.rsplit("-", 1)[1].split(".")[0]))
    data = b"".join(gzip.decompress(p.read_bytes()) for p in rolled) + \
        (CASE / "push-server.log").read_bytes()
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "push-server.log"
        view = LiveView()
        w = Watcher(WatchOptions(paths=(tmp,), scan=ScanOptions(tz="Europe/Berlin"),
                                 interval=0.2, poll=0.05, settle=0.5, notify=False), view.add)
        t = threading.Thread(target=w.run)
        t.start()
        for k in range(1, 11):
            with open(log, "ab") as f:
                f.write(data[len(data) * (k - 1) // 10: len(data) * k // 10])
            time.sleep(0.5)
        time.sleep(2)
        console = Console(record=True, width=118, file=open("/dev/null", "w"))  # noqa: SIM115
        console.print(view.render(w))
        w.stop.set()
        t.join()
        svg = Path(tmp) / "view.svg"
        text = console.export_svg(title="logsleuth watch")
        svg.write_text(text)
        # the page is the picture: no margin, the window the SVG's own size
        box = re.search(r'viewBox="0 0 ([\d.]+) ([\d.]+)"', text)
        width, height = (int(float(v)) for v in box.groups()) if box else (1180, 900)
        page = Path(tmp) / "view.html"
        page.write_text(f'<body style="margin:0"><img src="{svg.name}" '
                        f'width="{width}" height="{height}"></body>')
        subprocess.run(["chromium", "--headless", "--no-sandbox", "--hide-scrollbars",
                        f"--screenshot={out}", f"--window-size={width},{height}",
                        page.as_uri()],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       timeout=120)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
