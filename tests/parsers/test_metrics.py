"""Metric extraction: built-in definitions, unit normalisation, located load errors."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from logsleuth.errors import PatternError, RuleError
from logsleuth.parsers.metrics import (
    builtin_metric_defs,
    extract_metrics,
    load_metric_file,
    load_metric_text,
    metric_defs,
    unit_factor,
)

DATA = Path(__file__).resolve().parents[1] / "data"
_APP = re.compile(r"^(?P<ts>\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}) (?P<level>\w+)\s+"
                  r"\[(?P<thread>[^\]]+)\] (?P<logger>\S+) - (?P<message>.*)$")


def _records(rows: list[tuple[int, str, str, str]], source: str = "app.log") -> pa.Table:
    """A records table like the app-log engine's: (line, ts, logger, message)."""
    return pa.table({
        "source": [source] * len(rows), "line": [r[0] for r in rows],
        "ts": pa.array([np.datetime64(r[1].replace(" ", "T"), "ms") for r in rows],
                       pa.timestamp("ms")).cast(pa.timestamp("ms", tz="UTC")),
        "logger": [r[2] for r in rows], "message": [r[3] for r in rows]})


def test_unit_normalisation() -> None:
    assert unit_factor("k", "B") == (1024.0, "B")
    assert unit_factor("KiB", "B")[0] == unit_factor("KB", "B")[0] == 1024.0
    assert unit_factor("MB", "B")[0] == unit_factor("M", "B")[0] == 1024.0 ** 2
    assert unit_factor("GiB", "B")[0] == 1024.0 ** 3
    assert unit_factor(None, "KB") == (1024.0, "B")  # the definition's own default
    assert unit_factor("ms", "s") == (0.001, "s")
    assert unit_factor("m", "s")[0] == 60.0 and unit_factor("M", "s")[0] is None
    assert unit_factor("ms", "B")[0] is None  # a time unit on a bytes value
    assert unit_factor(None, "count") == (1.0, "count")


def test_builtins_load_with_their_samples() -> None:
    defs = builtin_metric_defs(check=True)
    # a scan loads them unchecked (this test checks them): the same definitions
    assert builtin_metric_defs() == defs
    metrics = {v.metric for d in defs for v in d.values}
    assert {"netty_direct_memory_used", "netty_direct_memory_max",
            "netty_direct_alloc_failed_bytes", "jvm_buffer_pool_direct_used",
            "jvm_buffer_pool_direct_capacity", "jvm_buffer_pool_direct_count"} <= metrics
    assert all(re.match(r"metrics_builtin/\w+\.yaml:\d+$", d.where) for d in defs)


def test_heartbeat_lines_of_a_real_console_log() -> None:
    rows = []
    for i, line in enumerate((DATA / "jstack_extra" / "console_kill3.log").read_text()
                             .splitlines(), start=1):
        m = _APP.match(line)
        if m:
            rows.append((i, m["ts"], m["logger"], m["message"]))
    out = extract_metrics(_records(rows), builtin_metric_defs()).to_pandas()
    used = out[out["metric"] == "netty_direct_memory_used"]
    mx = out[out["metric"] == "netty_direct_memory_max"]
    assert len(used) == len(rows) and len(rows) > 20
    # a ceiling is a limit row, kept once per file and value: where it was first stated
    assert len(mx) == 1 and mx["line"].iloc[0] == rows[0][0] and set(mx["origin"]) == {"limit"}
    # Dumper.java prints used = 16384 + 256 * tick, max = 64 MiB
    assert used["value"].iloc[0] == 16384 and set(np.diff(used["value"])) == {256.0}
    assert set(mx["value"]) == {64 * 1024 * 1024} and set(out["unit"]) == {"B"}
    assert list(used["line"]) == [r[0] for r in rows]


def test_oom_message_gives_three_metrics_and_needle_prefilter() -> None:
    oom = ("failed to allocate 64 byte(s) of direct memory (used: 1073741760, max: 1073741824)")
    rec = _records([
        (10, "2026-11-26 03:12:45.001", "io.netty.channel.DefaultChannelPipeline", oom),
        (11, "2026-11-26 03:12:45.002", "c.e.Report", "netty_direct_memory: 1048575k"),
        (12, "2026-11-26 03:12:45.003", "c.e.Report", "BufferPool direct: count=3 used=2 KiB capacity=2KB"),
        (13, "2026-11-26 03:12:45.004", "c.e.Report", "direct buffer pool used: 12 MB"),
        # matches the OOM regex shape but lacks the needle's exact wording: not extracted
        (14, "2026-11-26 03:12:45.005", "c.e.X", "failed to allocate 64 byte(s) of direct memory used"),
    ])
    got = {(r["line"], r["metric"]): r["value"]
           for r in extract_metrics(rec, builtin_metric_defs()).to_pylist()}
    assert got == {
        (10, "netty_direct_alloc_failed_bytes"): 64.0,
        (10, "netty_direct_memory_used"): 1073741760.0,
        (10, "netty_direct_memory_max"): 1073741824.0,
        (11, "netty_direct_memory_used"): 1048575.0 * 1024,
        (12, "jvm_buffer_pool_direct_count"): 3.0,
        (12, "jvm_buffer_pool_direct_used"): 2048.0,
        (12, "jvm_buffer_pool_direct_capacity"): 2048.0,
        (13, "jvm_buffer_pool_direct_used"): 12.0 * 1024 * 1024,
    }


USER = """\
metrics:
  - name: request_latency
    description: request durations with a unit
    contains: "took "
    logger: "com.example.*"
    regex: 'took (?P<value>\\d+(?:\\.\\d+)?)\\s*(?P<unit>ms|s|us|min)\\b'
    unit: s
    samples:
      - message: "GET /x took 250ms"
        logger: com.example.Web
        values: {request_latency: 0.25}
"""


def test_user_file_durations_and_logger_glob(tmp_path: Path) -> None:
    p = tmp_path / "mine.yaml"
    p.write_text(USER)
    defs = metric_defs([p])
    assert defs[-1].name == "request_latency" and defs[-1].where == f"{p}:2"
    rec = _records([(1, "2026-11-26 03:00:00.000", "com.example.Web", "GET /a took 2s"),
                    (2, "2026-11-26 03:00:01.000", "com.example.Web", "GET /b took 1.5min"),
                    (3, "2026-11-26 03:00:02.000", "org.other.Thing", "job took 5s")])
    out = extract_metrics(rec, load_metric_file(p)).to_pylist()
    assert [(r["line"], r["value"], r["unit"]) for r in out] == [(1, 2.0, "s"), (2, 90.0, "s")]


@pytest.mark.parametrize(("edit", "error", "code", "line"), [
    (("    contains: \"took \"\n", ""), RuleError, "LS-METRIC-SCHEMA", 2),
    (("(?P<value>", "(?<=x)(?P<value>"), PatternError, "LS-METRIC-REGEX", 2),
    (("{request_latency: 0.25}", "{request_latency: 250}"), RuleError, "LS-METRIC-SAMPLE", 9),  # the sample entry
    (("(?P<value>", "(?P<v>"), RuleError, "LS-METRIC-GROUP", 2),
])
def test_bad_definitions_fail_with_location(edit: tuple[str, str], error: type, code: str,
                                            line: int) -> None:
    text = USER.replace(*edit)
    assert text != USER
    with pytest.raises(error) as exc:
        load_metric_text(text, "rules/mine.yaml")
    d = exc.value.diagnostic
    assert (d.location.path, d.location.line, d.code) == ("rules/mine.yaml", line, code)
    assert d.render().startswith(f"rules/mine.yaml:{line}: error[{code}]: ")


def test_no_hits_gives_empty_typed_table() -> None:
    rec = _records([(1, "2026-11-26 03:00:00.000", "x", "nothing to see")])
    out = extract_metrics(rec, builtin_metric_defs())
    assert out.num_rows == 0 and out.schema.field("value").type == pa.float64()
