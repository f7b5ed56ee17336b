"""Long gauge series are thinned to a bounded size by a documented rule (timeline.bounds)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from logsleuth.parsers.metrics import METRICS_SCHEMA
from logsleuth.timeline.bounds import bounded_series, thinned_width

T0 = 1_700_000_000_000


def _table(rows: list[tuple[str, int, str, float, str]]) -> pa.Table:
    return pa.table({
        "source": [r[0] for r in rows], "line": list(range(1, len(rows) + 1)),
        "ts": pa.array([r[1] for r in rows], pa.int64()).cast(pa.timestamp("ms", tz="UTC")),
        "metric": [r[2] for r in rows], "value": [r[3] for r in rows],
        "unit": ["B"] * len(rows), "origin": [r[4] for r in rows],
        "caps": pa.array([None] * len(rows), pa.string())}, schema=METRICS_SCHEMA)


def test_short_series_are_untouched() -> None:
    t = _table([("a.log", T0 + i * 1000, "direct", float(i), "gauge") for i in range(50)])
    assert bounded_series(t, max_samples=50).equals(t)


def test_a_long_series_keeps_the_last_sample_of_each_bucket() -> None:
    # 1 Hz for 1,000 s, a value growing by a random step each second; 64 samples allowed
    rng = np.random.default_rng(1)
    n, cap = 1000, 64
    ts = T0 + 1000 * np.arange(n) + rng.integers(0, 1000, n)  # jittered within its second
    values = np.cumsum(rng.integers(0, 512, n)).astype(float)
    rows = [("a.log", int(t), "direct", float(v), "gauge") for t, v in zip(ts, values, strict=True)]
    # another file's series, failure values and a ceiling: none thinned
    rows += [("b.log", T0 + i * 1000, "direct", float(i), "gauge") for i in range(cap)]
    rows += [("a.log", T0 + i * 1000, "direct", 1e6, "error") for i in range(200)]
    rows += [("a.log", T0 + i * 1000, "jvm_heap_after_gc", 1.0, "gauge") for i in range(200)]
    got = bounded_series(_table(rows), max_samples=cap).to_pandas()

    width = thinned_width(np.sort(ts), cap)
    assert width == 16_000  # 1,000 s: 8 s gives 125 buckets, 16 s gives 63 (<= 64)
    kept = got[(got["source"] == "a.log") & (got["metric"] == "direct")
               & (got["origin"] == "gauge")]
    assert len(kept) <= cap
    bucket = (ts // width).tolist()
    last = [i for i in range(n) if i == n - 1 or bucket[i + 1] != bucket[i]]
    assert kept["value"].tolist() == values[last].tolist()
    # increments between kept samples telescope: the growth is kept exactly
    assert kept["value"].iloc[-1] - kept["value"].iloc[0] == values[-1] - values[last[0]]
    assert (got["source"] == "b.log").sum() == cap
    assert (got["origin"] == "error").sum() == 200
    assert (got["metric"] == "jvm_heap_after_gc").sum() == 200


def test_a_thinned_monitor_keeps_its_leak_and_is_not_discovered_again(tmp_path, monkeypatch,
                                                                       ) -> None:
    """Some 10,000 samples of a 1 Hz monitor (the benchmark's generator), read with a bound
    of 3,000 samples: the declared series is thinned to 4 s buckets, yet its lines stay declared
    (no duplicate discovered gauge), and the leak per disconnect stays 256 B within 1 %."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    import logsleuth
    from logsleuth.timeline import bounds

    gen = Path(__file__).resolve().parents[2] / "bench" / "gen_incident_log.py"
    log = tmp_path / "incident.log"
    subprocess.run([sys.executable, str(gen), "--size", "32MiB",
                    "--out", str(log)], check=True, capture_output=True)
    monitors = json.loads(Path(f"{log}.json").read_text())["monitor_records"]
    assert monitors > 8000  # the bound below does thin it

    def leaks() -> dict[str, object]:
        r = logsleuth.scan([log], workers=1, keep_records=False)
        assert r.incident is not None
        gauges = r.tables.get("gauges")
        templates = [] if gauges is None else gauges["template"].to_pylist()
        assert not any("netty_direct_memory" in t for t in templates)
        return {k.metric: k for k in r.incident.leaks}

    whole = leaks()
    monkeypatch.setattr(bounds, "MAX_SAMPLES", 3000)
    thinned = leaks()
    assert set(thinned) == set(whole) and "netty_direct_memory_used" in thinned
    leak = thinned["netty_direct_memory_used"]
    assert leak.per_event is not None
    assert leak.per_event.template.startswith("Client disconnected")
    assert abs(leak.per_event.amount - 256) / 256 < 0.01
    assert whole["netty_direct_memory_used"].n > 8000
    assert leak.n - leak.error_values <= 3000
