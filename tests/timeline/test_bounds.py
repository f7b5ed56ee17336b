"""Long gauge series are thinned to a bounded size by a documented rule (timeline.bounds)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

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


def _generated(tmp_path, size: str = "32MiB"):
    import subprocess
    import sys
    from pathlib import Path

    gen = Path(__file__).resolve().parents[2] / "bench" / "gen_incident_log.py"
    log = tmp_path / "incident.log"
    subprocess.run([sys.executable, str(gen), "--size", size, "--out", str(log)],
                   check=True, capture_output=True)
    return log


def test_thinning_while_reading_keeps_the_rows_and_the_incident_of_the_rule(
        tmp_path, monkeypatch) -> None:
    """The generator's 1 Hz monitor (~10,000 samples) read with a bound of 3,000, cut into
    eight units on two processes: the metrics collector thins as it reads, yet the metrics
    table is the rule applied to every row (the old end-of-scan thinning), the thinned-away
    lines are all remembered (so discovery still sees them declared), and the incident's
    JSON is the same."""
    import json

    import logsleuth
    from logsleuth.engine import local
    from logsleuth.timeline import bounds

    log = _generated(tmp_path)
    monkeypatch.setattr(local, "SPLIT_MIN_BYTES", 1)
    monkeypatch.setattr(bounds, "MAX_SAMPLES", 3000)
    streamed = logsleuth.scan([log], workers=2, keep_records=False)
    # the reference: the collector keeps every row and only the analysis thins
    monkeypatch.setattr(bounds.StreamingBound, "reduce",
                        lambda self, parts, final=False: parts)
    whole = logsleuth.scan([log], workers=2, keep_records=False)

    raw = whole.tables["metrics"]
    used = pc.equal(raw["metric"], "netty_direct_memory_used")
    assert pc.sum(used.cast(pa.int64())).as_py() > 8000  # the bound below does thin it
    want = bounded_series(raw, max_samples=3000)
    got = streamed.tables["metrics"]
    assert got.num_rows < raw.num_rows
    assert got.combine_chunks().equals(want.combine_chunks())
    # every row thinned away is remembered by its line, none twice
    assert streamed.incident is not None and whole.incident is not None
    assert json.dumps(streamed.to_json(), sort_keys=True) == json.dumps(
        whole.to_json(), sort_keys=True)
    assert streamed.tables.get("gauges") is None or not any(
        "netty_direct_memory" in t for t in streamed.tables["gauges"]["template"].to_pylist())


def test_thinned_lines_are_exact_and_move_with_their_unit(tmp_path, monkeypatch) -> None:
    """Lines of the generator's thinned monitor rows, kept delta-encoded, come back exactly
    (also shifted as a later unit's lines are), in one or two bytes a row."""
    import logsleuth
    from logsleuth.engine.evidence import MetricCollector
    from logsleuth.timeline import bounds

    log = _generated(tmp_path, "8MiB")
    monkeypatch.setattr(bounds, "MAX_SAMPLES", 500)
    kept: list[MetricCollector] = []
    real_tables = MetricCollector.tables

    def tables(self):  # the collector of the scan, after its final thinning
        out = real_tables(self)
        kept.append(self)
        return out

    monkeypatch.setattr(MetricCollector, "tables", tables)
    res = logsleuth.scan([log], workers=1, keep_records=False)
    monkeypatch.setattr(bounds.StreamingBound, "reduce", lambda self, parts, final=False: parts)
    monkeypatch.setattr(MetricCollector, "tables", real_tables)
    raw = logsleuth.scan([log], workers=1, keep_records=False).tables["metrics"]

    lines = kept[-1].bound.lines
    source = res.tables["metrics"]["source"][0].as_py()  # as scan names the file
    key = (source, "netty_direct_memory_used")
    assert set(lines.chunks) == {key}
    dropped = set(raw["line"].to_pylist()) - set(res.tables["metrics"]["line"].to_pylist())
    assert len(dropped) > 1000
    everything = np.arange(0, max(dropped) + 10)
    back = lines.among(everything)
    assert set(back["line"].tolist()) == dropped and len(back) == len(dropped)
    assert set(back["source"]) == {source} and set(back["metric"]) == {key[1]}
    assert lines.nbytes() <= 2 * len(dropped) + 8 * len(lines.chunks[key])
    lines.shift(source, 1000)
    assert set(lines.among(everything + 1000)["line"].tolist()) == {d + 1000 for d in dropped}
    lines.shift("other.log", 5)
    assert len(lines.among(everything + 1000)) == len(dropped)
