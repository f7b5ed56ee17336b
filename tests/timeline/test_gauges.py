"""Gauges found by themselves in message templates (issue #15 item 2).

A generated log4j2-style service log whose direct-buffer monitor prints a shape no
built-in definition reads, beside lines whose numbers are not resources (an id that
grows by one each line, an uptime, a timestamp, a request duration). Expected,
written before running the analysis: the monitor's ``used`` is discovered (bytes),
found leaking 1024 B per "Request handled" within 1 %, its constant ``max`` is its
ceiling (read at the first monitor line), no id/uptime/timestamp/duration becomes a
gauge, and the printed YAML, given back with ``--metrics``, reads the same series.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from logsleuth import api
from logsleuth.engine.gaugerows import is_candidate
from logsleuth.parsers.metrics import load_metric_text
from logsleuth.timeline.gauges import _variables, series_name

LEAK = 1024
MAX = 64 << 20


def _write(path: Path, seconds: int = 1500, seed: int = 5) -> None:
    rng = np.random.default_rng(seed)
    t0 = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
    handled = np.sort(rng.uniform(0, seconds, 12 * seconds))
    events: list[tuple[float, str, str]] = []
    for i, s in enumerate(handled):
        events.append((s, "INFO", f"Request handled id={1_000_001 + i} took {rng.integers(1, 90)}ms"))
    for sec in range(seconds):
        used = 4096 + LEAK * int(np.searchsorted(handled, sec + 0.25))
        events.append((sec + 0.25, "INFO",
                       f"BufferPoolMXBean[direct] count={used // 1024} memoryUsed={used} "
                       f"max={MAX} bytes"))
        if sec % 10 == 0:
            up = int((sec + 0.5) * 1000)
            events.append((sec + 0.5, "INFO", f"heartbeat seq={sec // 10} uptime={up} ms "
                                              f"epochMs={int((t0.timestamp() + sec + .5) * 1000)}"))
    events.sort(key=lambda e: e[0])
    with path.open("w", encoding="utf-8") as f:
        for s, lvl, msg in events:
            t = t0 + timedelta(seconds=float(s))
            f.write(f"{t:%Y-%m-%d %H:%M:%S}.{t.microsecond // 1000:03d} {lvl:<5} [main] "
                    f"com.example.Service - {msg}\n")


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("gauges")
    _write(d / "service.log")
    return d


def test_candidates_are_named_numbers() -> None:
    assert is_candidate("pool <STR> used <*> MB of <*> MB")
    assert is_candidate("Pool stats (total=<*>, active=<*>, idle=<*>, waiting=<*>)")
    assert not is_candidate("Client <*> connected from <*>")
    tokens = ["mem:", "used:", "<*>", "bytes,", "capacity:", "<*>", "KB"]
    keys = [v.key for v in _variables(tokens)]
    assert keys == ["used", "capacity"]


def test_names_read_as_series_names() -> None:
    """Snake case from the words before the number and its key, each word once: the names
    the blind cases gave before read ``direct_buffers_buffers``, ``directmemory_used``."""
    assert series_name(["Direct", "buffers"], "buffers") == "direct_buffers"
    assert series_name(["DirectMemory"], "used") == "direct_memory_used"
    assert series_name(["Resource", "usage"], "openFileDescriptors") == (
        "resource_usage_open_file_descriptors")
    assert series_name(["Request", "completed"], "bytesOut") == "request_completed_bytes_out"
    assert series_name(["HikariPool"], "max_fds") == "hikari_pool_max_fds"
    assert series_name([], "9lives") == "gauge_9lives"


def test_a_gauge_no_definition_covers_is_found_and_leaks(service: Path) -> None:
    result = api.scan(service, workers=1, keep_records=False, tz="UTC")
    gauges = result.tables["gauges"].to_pylist()
    names = {g["metric"] for g in gauges}
    assert not any(k in n for n in names for k in ("_id", "uptime", "epoch", "seq", "took"))
    inc = result.incident.to_json()
    assert inc["state"] == "leaking" and inc["onset"] is None
    leak = inc["leaks"][0]
    assert leak["unit"] == "B" and leak["metric"].endswith("_memory_used")
    assert leak["gauge"]["template"].startswith("BufferPoolMXBean[direct]")
    assert leak["gauge"]["example"]["line"] >= 1
    assert leak["per_event"]["template"] == "Request handled id=<*> took <*>"
    assert leak["per_event"]["amount"] == pytest.approx(LEAK, rel=0.01)
    ceiling = leak["projection"]["ceiling"]
    assert ceiling["value"] == MAX and ceiling["where"].startswith("service.log:")
    assert leak["projection"]["state"] == "projected"
    # the printed definition is a --metrics file that reads the same series
    text = leak["gauge"]["definition"]
    (service.parent / "g.yaml").write_text(text, encoding="utf-8")
    assert [d.name for d in load_metric_text(text, "g.yaml")] == [leak["metric"]]
    again = api.scan(service, workers=1, keep_records=False, tz="UTC",
                     metrics=[service.parent / "g.yaml"])
    m = again.tables["metrics"].to_pandas()
    assert (m["metric"] == leak["metric"]).sum() == 1500
    assert "gauges" not in again.tables or leak["metric"] not in set(
        again.tables["gauges"]["metric"].to_pylist())


def test_a_few_irregular_numbers_are_not_a_gauge() -> None:
    """Thirty values at bursty, irregular times (intervals spread wider than their mean)
    are neither a monitor's cadence nor enough samples; sixty at a steady tick are."""
    from logsleuth.timeline.gauges import _rejects

    rng = np.random.default_rng(9)
    t0 = 1_796_534_400_000  # log times are epoch ms
    bursty = t0 + np.cumsum(rng.exponential(1000, 30)
                            * rng.choice([0.05, 8.0], 30)).astype(np.int64)
    values = np.arange(30) * 100.0 + rng.integers(0, 50, 30)
    assert _rejects(bursty, values) == "neither a regular cadence nor enough samples"
    steady = t0 + np.arange(60) * 1000
    assert _rejects(steady, np.arange(60) * 100.0 + rng.integers(0, 50, 60)) is None


def test_repeated_messages_keep_every_sample_and_constant_lines_give_nothing() -> None:
    """Matching runs once per distinct message (discover_gauges); every row still counts.

    Expected, written first: a gauge printing each value twice (two reporters) is found
    with all 240 rows as samples and their values in time order; a startup line printed
    alike 240 times, with a dozen named numbers, gives no gauge (one distinct value).
    """
    import pyarrow as pa

    from logsleuth.timeline.gauges import discover_gauges

    n = 240
    ts = pa.array(np.arange(n, dtype=np.int64) * 1000 + 1_700_000_000_000).cast(
        pa.timestamp("ms", tz="UTC"))
    used = [4096 + 512 * (i // 2) for i in range(n)]
    gauge = pa.table({"source": ["a.log"] * n, "line": pa.array(range(1, n + 1), pa.int64()),
                      "ts": ts, "message": [f"direct pool used={u} bytes" for u in used]})
    flags = " ".join(f"-Dopt{k}.size={k * 1000}" for k in range(12))
    startup = gauge.set_column(3, "message", pa.array([f"JVM arguments {flags}"] * n))
    templates = ["direct pool used=<*> bytes",
                 "JVM arguments " + " ".join(f"-Dopt{k}.size=<*>" for k in range(12))]
    found, rows = discover_gauges({0: gauge, 1: startup}, templates)
    assert [g.template for g in found] == [templates[0]]
    assert found[0].samples == n
    got = rows.filter(pa.compute.equal(rows["metric"], found[0].metric))
    assert got["value"].to_pylist() == [float(u) for u in used]


def _rows(messages: list[str]) -> object:
    import pyarrow as pa

    n = len(messages)
    ts = pa.array(np.arange(n, dtype=np.int64) * 1000 + 1_700_000_000_000).cast(
        pa.timestamp("ms", tz="UTC"))
    return pa.table({"source": ["a.log"] * n, "line": pa.array(range(1, n + 1), pa.int64()),
                     "ts": ts, "message": messages})


def _human(b: int) -> str:
    """Micrometer's LoggingMeterRegistry: B below 1 KiB, else KiB/MiB with up to 4 decimals."""
    if b < 1024:
        return f"{b} B"
    exp = min(int(np.log(b) / np.log(1024)), 2)
    return f"{round(b / 1024 ** exp, 4):g} {'KM'[exp - 1]}iB"


def test_a_unit_word_that_changes_with_the_value_is_the_unit() -> None:
    """Expected, written first: a human-readable printer switches B -> KiB -> MiB as the
    value grows, so the miner makes the unit a variable; the word after the number is
    still its unit, and every sample is read in bytes (not the bare number)."""
    from logsleuth.timeline.gauges import discover_gauges

    used = [300 + 9000 * i for i in range(240)]  # 300 B .. ~2 MiB
    table = _rows([f"netty.direct.memory.used{{app=push}} value={_human(u)}" for u in used])
    found, rows = discover_gauges({0: table}, ["netty.direct.memory.used{app=<*>} value=<*> <*>"])
    assert [(g.metric, g.unit) for g in found] == [("netty_direct_memory_used_value", "B")]
    got = rows.filter(pa_equal(rows, found[0].metric))["value"].to_numpy()
    assert np.allclose(got, used, rtol=1e-4, atol=0.5)


def pa_equal(rows: object, metric: str) -> object:
    import pyarrow.compute as pc

    return pc.equal(rows["metric"], metric)  # type: ignore[index]


def test_a_reporter_line_per_named_series_gives_one_gauge_per_name() -> None:
    """Expected, written first: Dropwizard's Slf4jReporter prints 'type=GAUGE, name=<n>,
    value=<v>' for every gauge, which the miner folds into one template; each name is its
    own series (never one mixed series), named after it, and a memory area's unitless
    value is in bytes while a thread count stays a count."""
    from logsleuth.timeline.gauges import discover_gauges

    rng = np.random.default_rng(3)
    used = 4096 + np.cumsum(rng.integers(0, 4, 120)) * 1024
    msgs = []
    for i in range(120):
        msgs.append(f"type=GAUGE, name=netty.direct.used, value={used[i]}")
        msgs.append(f"type=GAUGE, name=jvm.threads.count, value={30 + (i * 7) % 11}")
    found, _ = discover_gauges({0: _rows(msgs)}, ["type=<*>, name=<*>, value=<*>"])
    assert sorted((g.metric, g.unit) for g in found) == [
        ("jvm_threads_count_value", "count"), ("netty_direct_used_value", "B")]
    assert {g.samples for g in found} == {120}


def test_unit_token_is_the_same_whatever_the_hash_seed() -> None:
    """Discovered definitions print this regex: a set's order (hash-seeded) once made the
    scan JSON of one input differ from run to run."""
    import subprocess
    import sys

    code = "from logsleuth.timeline.gauges import _UNIT_TOKEN; print(_UNIT_TOKEN)"
    root = Path(__file__).resolve().parents[2]
    seen = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True, cwd=root, env={"PYTHONHASHSEED": seed,
                                                      "PYTHONPATH": str(root)}).stdout
            for seed in ("1", "2", "3", "4")}
    assert len(seen) == 1
