"""The ingestion harness must check each tool's output and measure the tool, not itself."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"_bench_{name}", BENCH / f"{name}.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up while being built
    spec.loader.exec_module(mod)
    return mod


def test_peak_rss_is_the_commands_own(tmp_path: Path) -> None:
    measure = _load("measure")
    # 64 MiB touched by the child itself must show; the harness's own image must not
    # (this test process has pytest, numpy and friends loaded: well over 20 MiB)
    big = measure.run_once(
        [sys.executable, "-c", "b = bytearray(64 << 20); b[::4096] = b'x' * (16384)"],
        tmp_path / "o", tmp_path / "e")
    small = measure.run_once(["true"], tmp_path / "o", tmp_path / "e")
    assert big.returncode == 0 and small.returncode == 0
    if not Path("/usr/bin/time").exists():
        pytest.skip("GNU time not installed: rusage includes the forked harness")
    assert big.rss_source == small.rss_source == "gnu-time"
    assert big.max_rss_kib >= 64 * 1024
    assert small.max_rss_kib < 20 * 1024


def test_tree_sampler_sees_grandchildren(tmp_path: Path) -> None:
    measure = _load("measure")
    # the shell forks a python grandchild holding 64 MiB for a while; the sampler must
    # find it through /proc/<pid>/task/*/children and add its PSS
    hold = "import time; b = bytearray(64 << 20); b[::4096] = b'x' * 16384; time.sleep(1)"
    run = measure.run_once(["sh", "-c", f'"{sys.executable}" -c "{hold}"; true'],
                           tmp_path / "o", tmp_path / "e", sample=True)
    assert run.returncode == 0 and run.sampled
    assert run.tree_pss_kib >= 64 * 1024
    assert run.tree_cpu_s > 0


def _run_ingest() -> ModuleType:
    sys.path.insert(0, str(BENCH))  # run_ingest imports its sibling modules by name
    try:
        return _load("run_ingest")
    finally:
        sys.path.remove(str(BENCH))


def test_timed_rounds_are_not_sampled_and_memory_rounds_are(tmp_path: Path) -> None:
    """Sampling /proc slows the sampled process: timing and memory come from
    different rounds, and the figures read each from its own."""
    ri = _run_ingest()
    hold = "import time; b = bytearray(32 << 20); b[::4096] = b'x' * 8192; time.sleep(0.4)"
    tool = ri.Tool("holder", [sys.executable, "-c", hold], lambda out: "ok")
    ri.measure([tool], repeat=3, out_dir=tmp_path, timeout_s=60, memory_runs=1)
    s = tool.summary
    assert len(s.runs) == 3 and len(s.memory_runs) == 1
    assert not any(r.sampled for r in s.runs) and all(r.tree_pss_kib == 0 for r in s.runs)
    assert s.memory_runs[0].sampled and s.tree_pss_mib >= 32
    assert s.best_s == min(r.wall_s for r in s.runs) and s.check == "ok"


def test_parse_size() -> None:
    gen = _load_gen()
    assert gen.parse_size("1GiB") == 1 << 30
    assert gen.parse_size("64MiB") == 64 << 20
    assert gen.parse_size("500MB") == 500_000_000
    assert gen.parse_size("4096") == 4096
    with pytest.raises(ValueError):
        gen.parse_size("lots")


def _load_gen() -> ModuleType:
    sys.path.insert(0, str(BENCH))  # gen_incident_log imports its sibling incident_traces
    try:
        return _load("gen_incident_log")
    finally:
        sys.path.remove(str(BENCH))


@pytest.mark.skipif(not (shutil.which("rg") and shutil.which("lnav")), reason="needs rg, lnav")
def test_harness_end_to_end(tmp_path: Path) -> None:
    out = tmp_path / "out" / "ingest.json"
    subprocess.run([sys.executable, str(BENCH / "run_ingest.py"), "--size", "1MiB",
                    "--repeat", "1", "--no-logsleuth", "--data", str(tmp_path),
                    "--out", str(out)], check=True, capture_output=True, timeout=300)
    doc = json.loads(out.read_text())
    manifest = json.loads((tmp_path / "incident-1MiB.log.json").read_text())
    assert doc["file"]["records"] == manifest["records"]
    rows = {r["name"]: r for r in doc["results"]}
    assert set(rows) == {"grep -c", "rg -c", "lnav index", "lnav body LIKE"}
    for row in rows.values():
        assert row["available"], row["note"]
        assert not row["check"].startswith("WRONG"), row["check"]
        assert len(row["runs"]) == 1 and row["best_s"] > 0
        assert len(row["memory_runs"]) == 2  # PSS: 0 for tools done before a sample
    assert rows["lnav index"]["check"].startswith(f"{manifest['records']} log4j2 records")
    assert rows["lnav body LIKE"]["check"] == f"{manifest['oom_records']} OOM records"
    assert rows["lnav index"]["ratio_vs_lnav_index"] == 1.0


def test_paired_ratios_cancel_drift_between_rounds() -> None:
    ri = _run_ingest()
    measure = sys.modules["measure"]

    def tool(name: str, walls: list[float]) -> object:
        t = ri.Tool(name, [name], lambda out: "")
        t.summary.runs = [measure.Run(w, 1, 0) for w in walls]
        return t

    # the machine slows down 2x after round 2: each round the full scan is 10 % slower
    base = [3.0, 3.0, 6.0, 6.0, 6.0]
    got = ri.paired_ratios([tool("logsleuth scan --no-analysis", base),
                            tool("logsleuth scan", [1.1 * b for b in base])])
    r = got["analysis adds (full scan / --no-analysis)"]
    assert abs(r["paired_median"] - 1.1) < 1e-9 and abs(r["best"] - 1.1) < 1e-9
    assert "rules keep (ingestion / + rules)" not in got  # no ingestion-only row
    # two disturbed rounds of one command and a slow phase of the machine: median of
    # each gives 2.2, the paired median still 1.1
    slow = ri.paired_ratios([tool("logsleuth scan --no-analysis", [3.0, 3.0, 3.0, 6.0, 6.0]),
                             tool("logsleuth scan", [3.3, 6.6, 6.6, 6.6, 6.6])])
    r = slow["analysis adds (full scan / --no-analysis)"]
    assert abs(r["paired_median"] - 1.1) < 1e-9 and abs(r["median"] - 2.2) < 1e-9
