"""bench/watch_stream.py --quick runs the whole harness and records well-formed figures.

Nothing here is timed: the checks are that the writer appended, rolled and gzipped, that
the watcher (the real CLI, another process) read every byte it wrote, and that the JSON
holds what docs/benchmarks.md quotes from it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "watch_stream.py"
sys.path.insert(0, str(BENCH.parent))
from watch_stream import samples  # noqa: E402


def test_quick_mode_writes_a_complete_record(tmp_path: Path) -> None:
    out = tmp_path / "run.json"
    env = dict(os.environ, WATCH_STREAM_CACHE=str(tmp_path / "cache"))
    subprocess.run([sys.executable, str(BENCH), "--quick", "--out", str(out)], env=env,
                   check=True, capture_output=True, timeout=300)
    record = json.loads(out.read_text())
    assert record["machine"]["nproc"] >= 1 and record["calibrate_s"] > 0
    assert record["uptime_before"] and record["uptime_after"]
    run = record["run"]
    assert run["exit"] == 0
    assert run["bytes_written"] == record["source"]["bytes"] > 0
    assert run["all_read"] and run["bytes_read_final"] == run["bytes_written"]
    assert run["records_read"] == run["records_true"] == record["source"]["records"]
    assert run["rolls"] >= 1 and run["compressed"] == run["rolls"]  # rename + gzip happened
    assert run["events"]["started"] == 1 and run["events"]["stopped"] == 1
    assert run["onsets"], "the OOM flood at the end of the stream was not an onset"
    rows = samples(run)
    phases = {s["phase"] for s in rows}
    assert {"stream", "idle"} <= phases
    cpu = [s["cpu_s"] for s in rows]
    assert cpu == sorted(cpu)  # cumulative, from one baseline
    assert all(s["rss_mib"] > 0 and s["pss_mib"] > 0 for s in rows)
    assert run["checkpoints"] and all(0 <= c["read"] <= run["bytes_written"]
                                      for c in run["checkpoints"])
    for key in ("stream_cpu_s", "peak_rss_mib", "idle_cpu_s", "idle_wakeups_per_s",
                "catch_up_s", "lag_max_bytes"):
        assert run[key] is not None, key
    # idle wakeups per thread (a thread's name and id), bursts of work told apart: the
    # threads' quiet rates add up to the process's
    by_thread = run["idle_quiet_wakeups_by_thread"]
    assert by_thread and run["idle_threads"] >= 1
    assert sum(by_thread.values()) == pytest.approx(run["idle_wakeups_quiet_per_s"], abs=0.1)
    assert all(b["cpu_s"] >= 0.05 for b in run["idle_bursts"])
