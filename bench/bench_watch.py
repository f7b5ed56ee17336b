"""`logsleuth watch` under load: CPU and memory idle, and following an append stream.

    python bench/bench_watch.py [--rate-mb 20] [--seconds 60] [--idle 60]

A generated incident log (bench/gen_incident_log.py) is appended to a watched file at
``--rate-mb`` MB/s in 100 ms slices for ``--seconds``; the watcher runs as the real CLI
in a child process (``--state`` checkpointing, ``--jsonl`` events). Its CPU and RSS come
from /proc; catch-up is the time from the last byte written until its checkpoint holds
the file's size. Then the watcher idles for ``--idle`` seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from gen_incident_log import generate  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def read_offset(state: Path) -> int:
    try:
        data = json.loads(state.read_text())
    except (OSError, ValueError):
        return 0
    return sum(int(f["offset"]) for f in data["follower"]["files"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rate-mb", type=float, default=20.0)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--idle", type=float, default=60.0)
    args = ap.parse_args()
    rate = int(args.rate_mb * 1e6)
    with tempfile.TemporaryDirectory(prefix="bench-watch.") as tmp:
        work = Path(tmp)
        source = work / "source.log"
        generate(source, int(rate * args.seconds) + 2**20)
        data = source.read_bytes()
        watched = work / "logs"
        watched.mkdir()
        log, state, events = watched / "app.log", work / "state.json", work / "events.jsonl"
        log.write_bytes(b"")
        proc = subprocess.Popen(
            [sys.executable, "-c", "from logsleuth.cli import main; main()", "watch",
             str(watched), "--tz", "UTC", "--interval", "5", "--state", str(state),
             "--jsonl", str(events), "--no-live"])
        time.sleep(5)  # imports, started
        cpu0, t0 = cpu_s(proc.pid), time.monotonic()
        peak = 0.0
        written = 0
        slice_bytes = rate // 10
        with open(log, "ab") as f:
            while written < rate * args.seconds:
                due = t0 + written / rate
                time.sleep(max(0.0, due - time.monotonic()))
                f.write(data[written: written + slice_bytes])
                f.flush()
                written += slice_bytes
                peak = max(peak, rss_mib(proc.pid))
        end_write = time.monotonic()
        size = log.stat().st_size
        while read_offset(state) < size - 65536 and time.monotonic() - end_write < 600:
            time.sleep(0.5)
            peak = max(peak, rss_mib(proc.pid))
        caught = time.monotonic()
        busy_cpu = cpu_s(proc.pid) - cpu0
        busy_s = caught - t0
        cpu1, i0 = cpu_s(proc.pid), time.monotonic()
        time.sleep(args.idle)
        idle_cpu = cpu_s(proc.pid) - cpu1
        idle_rss = rss_mib(proc.pid)
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
        kinds: dict[str, int] = {}
        for line in events.read_text().splitlines():
            k = json.loads(line)["event"]
            kinds[k] = kinds.get(k, 0) + 1
        print(json.dumps({
            "rate_mb_s": args.rate_mb, "seconds": args.seconds, "bytes": size,
            "stream_cpu_s": round(busy_cpu, 1), "stream_wall_s": round(busy_s, 1),
            "stream_cpu_share": round(busy_cpu / busy_s, 3),
            "catch_up_s": round(caught - end_write, 1), "peak_rss_mib": round(peak),
            "idle_s": round(time.monotonic() - i0), "idle_cpu_s": round(idle_cpu, 2),
            "idle_rss_mib": round(idle_rss), "exit": proc.returncode, "events": kinds,
        }, indent=1))


if __name__ == "__main__":
    main()
