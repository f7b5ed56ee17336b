"""The scan engine end to end on real files: accounting, records, chunking, bad input."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from logsleuth import api
from logsleuth.errors import PatternError


def only_input(result):
    assert len(result.inputs) == 1
    return result.inputs[0]


def test_records_fields_and_accounting(write, app_lines, pattern) -> None:
    text = app_lines(50, trace_every=10)
    p = write("push-server.log", text)
    result = api.scan(p, pattern=pattern, tz="UTC", workers=1)
    s = only_input(result)
    assert s.lines == text.count("\n")
    assert s.records == 50
    assert s.unparsed_lines == 0
    recs = result.records
    assert len(recs) == 50
    first = recs.iloc[0]
    assert first["level"] == "INFO"
    assert first["thread"] == "nioEventLoopGroup-3-0"
    assert first["logger"] == "com.example.push.SessionHandler"
    assert first["message"] == "Client disconnected: sessionId=0000000000000000"
    assert str(first["ts"]) == "2026-11-26 00:00:00+00:00"
    traces = recs[recs["n_lines"] > 1]
    assert len(traces) == 5
    assert set(traces["exception"]) == {"io.netty.util.internal.OutOfDirectMemoryError"}
    assert (traces["line"].diff().dropna() == 10 + 4 * 1).all()  # 9 single lines + a 5-line record


@pytest.mark.parametrize("chunk", [512, 1000, 4096, 1 << 20])
def test_chunk_size_does_not_change_results(write, chunk: int, app_lines, pattern) -> None:
    text = app_lines(120, trace_every=7)
    p = write("a.log", text)
    ref = api.scan(p, pattern=pattern, workers=1)
    got = api.scan(p, pattern=pattern, workers=1, chunk_size=chunk)
    assert only_input(got).lines == only_input(ref).lines == text.count("\n")
    assert only_input(got).records == 120
    for col in ("line", "n_lines", "message", "exception", "root_exception", "ts"):
        assert got.table("records")[col].to_pylist() == ref.table("records")[col].to_pylist()


def test_lines_before_first_header_are_unparsed(write, app_lines, pattern) -> None:
    p = write("a.log", "garbage one\ngarbage two\n" + app_lines(3))
    s = only_input(api.scan(p, pattern=pattern, workers=1))
    assert (s.lines, s.records, s.unparsed_lines) == (5, 3, 2)
    assert s.unparsed_samples[0] == (1, "garbage one")


def test_gzip_rolled_files_ordered_by_content(write, app_lines, pattern) -> None:
    # the archive named -1 holds the OLDER records; content time decides the order
    write("logs/app-2026-11-26-1.log.gz", gzip.compress(app_lines(5, start_second=0).encode()))
    write("logs/app.log", app_lines(5, start_second=100))
    write("logs/app-2026-11-26-2.log.gz", gzip.compress(app_lines(5, start_second=50).encode()))
    result = api.scan(Path(write("logs/app.log", app_lines(5, start_second=100))).parent,
                      pattern=pattern, workers=1)
    order = [s.path for s in result.inputs]
    assert order == ["app-2026-11-26-1.log.gz", "app-2026-11-26-2.log.gz", "app.log"]
    assert all(s.records == 5 for s in result.inputs)


def test_zone_less_logs_say_unknown_or_use_tz(write, app_lines, pattern) -> None:
    p = write("a.log", app_lines(2))
    assert only_input(api.scan(p, pattern=pattern, workers=1)).timezone == "unknown"
    berlin = api.scan(p, pattern=pattern, tz="Europe/Berlin", workers=1)
    assert only_input(berlin).timezone == "Europe/Berlin"
    # 00:00 in Berlin (CET, UTC+1 in November) is 23:00 UTC the day before
    assert str(berlin.records.iloc[0]["ts"]) == "2026-11-25 23:00:00+00:00"


def test_bad_pattern_is_a_located_error(app_lines, pattern) -> None:
    with pytest.raises(PatternError) as err:
        api.scan([], pattern="%d{yyyy} %qqq %m%n")
    assert "qqq" in str(err.value)


def test_bad_timezone_is_an_error(app_lines, pattern) -> None:
    with pytest.raises(PatternError, match="Mars/Olympus"):
        api.scan([], tz="Mars/Olympus")


def test_missing_path_and_empty_dir_are_diagnostics(tmp_path: Path, write, app_lines, pattern) -> None:
    (tmp_path / "empty").mkdir()
    p = write("a.log", app_lines(2))
    result = api.scan([tmp_path / "nope.log", tmp_path / "empty", p], pattern=pattern, workers=1)
    codes = {d.code for d in result.diagnostics}
    assert {"missing-path", "empty-directory"} <= codes
    assert only_input(result).records == 2  # the rest of the scan went on


def test_truncated_gzip_keeps_what_was_read(write, app_lines, pattern) -> None:
    blob = gzip.compress(app_lines(2000).encode())
    p = write("cut.log.gz", blob[: len(blob) // 2])
    result = api.scan(p, pattern=pattern, workers=1)
    s = only_input(result)
    assert any(d.code == "truncated-archive" for d in s.diagnostics)
    assert 0 < s.records < 2000
    assert s.diagnostics[0].render().startswith("cut.log.gz")


def test_nul_bytes_and_invalid_utf8_are_counted_not_lost(write, app_lines, pattern) -> None:
    data = app_lines(3).encode().replace(b"Client", b"Cli\x00nt", 1)
    data = data.replace(b"sessionId=0000000000000001", b"sessionId=caf\xe9\xff")
    p = write("a.log", data)
    result = api.scan(p, pattern=pattern, workers=1)
    s = only_input(result)
    assert s.records == 3 and s.lines == 3
    assert s.invalid_bytes == 2
    assert result.records.iloc[1]["message"] == "Client disconnected: sessionId=caf??"
    assert "\x00" in result.records.iloc[0]["message"]


def test_latin1_lines_in_utf8_log(write, app_lines, pattern) -> None:
    data = app_lines(2).encode() + "2026-11-26 00:00:09.000 WARN  [main] a.B - Größe überschritten\n".encode("latin-1")
    s = only_input(api.scan(write("mixed.log", data), pattern=pattern, workers=1))
    assert (s.records, s.invalid_bytes) == (3, 3)


def test_line_longer_than_chunk_without_newline(write, app_lines, pattern) -> None:
    big = b"x" * (3 * 2**20)
    p = write("long.log", app_lines(2).encode() + big + b"\n" + app_lines(1, start_second=9).encode())
    result = api.scan(p, pattern=pattern, workers=1, chunk_size=2**20)
    s = only_input(result)
    assert s.lines == 4
    assert s.records == 3
    assert s.unparsed_lines == 1
    assert any(d.code == "oversized-line" and d.location.line == 3 for d in s.diagnostics)
    assert s.bytes == p.stat().st_size


def test_fifty_megabyte_line_without_newline_at_eof(write, app_lines, pattern) -> None:
    p = write("tail.log", app_lines(1).encode() + b"y" * (50 * 2**20))
    s = only_input(api.scan(p, pattern=pattern, workers=1))
    assert s.records == 1
    assert s.lines == 2
    assert s.bytes == p.stat().st_size


def test_stack_trace_text_without_layout(write, app_lines, pattern) -> None:
    text = ("Some ticket text\n"
            "java.lang.NullPointerException: boom\n"
            "\tat com.example.push.PacketEncoder.encodePacket(PacketEncoder.java:42)\n"
            "\tat io.netty.handler.codec.MessageToByteEncoder.write(MessageToByteEncoder.java:107)\n"
            "thanks\n")
    result = api.scan(write("ticket.txt", text), workers=1)
    s = only_input(result)
    assert s.layout is None
    assert s.records == 1
    assert s.unparsed_lines == 2
    rec = result.records.iloc[0]
    assert rec["exception"] == "java.lang.NullPointerException"
    assert rec["line"] == 2
    assert any(d.code == "layout-unknown" for d in result.diagnostics)


def test_parse_text_gives_records_with_throwables(app_lines, pattern) -> None:
    recs = api.parse_text(app_lines(3, trace_every=3), layout=pattern)
    assert [r.line for r in recs] == [1, 2, 3]
    th = recs[2].throwable
    assert th is not None and th.frames[0].method == "incrementMemoryCounter"
    assert recs[0].throwable is None


def test_ecs_json_lines(write) -> None:
    lines = [
        '{"@timestamp":"2026-11-26T03:00:00.117Z","log.level":"INFO","message":"Client disconnected: sessionId=ab12",'
        '"process.thread.name":"nioEventLoopGroup-3-2","log.logger":"com.example.push.SessionHandler"}',
        "this line is not json",
        "",
        '{"@timestamp":"2026-11-26T04:00:00.000+01:00","log.level":"ERROR","message":"push failed",'
        '"process.thread.name":"nioEventLoopGroup-3-1","log.logger":"io.netty.channel.DefaultChannelPipeline",'
        '"error.type":"io.netty.util.internal.OutOfDirectMemoryError",'
        '"error.stack_trace":"io.netty.util.internal.OutOfDirectMemoryError: failed to allocate 64 byte(s) of direct memory (used: 4194240, max: 4194304)\\n'
        '\\tat io.netty.util.internal.PlatformDependent.incrementMemoryCounter(PlatformDependent.java:754)\\n'
        'Caused by: java.lang.NullPointerException\\n\\tat com.example.push.PacketEncoder.encodePacket(PacketEncoder.java:42)\\n"}',
    ]
    result = api.scan(write("app.json", "\n".join(lines) + "\n"), workers=1)
    s = only_input(result)
    assert s.layout == "ecs"
    assert (s.lines, s.records, s.unparsed_lines) == (4, 2, 2)
    assert s.unparsed_samples[0] == (2, "this line is not json")
    t = result.table("records").to_pylist()
    assert [r["line"] for r in t] == [1, 4]
    assert t[1]["exception"] == "io.netty.util.internal.OutOfDirectMemoryError"
    assert t[1]["root_exception"] == "java.lang.NullPointerException"
    # 04:00+01:00 is 03:00 UTC: offsets in the JSON are honoured
    assert t[1]["ts"].isoformat() == "2026-11-26T03:00:00+00:00"
    assert "netty-out-of-direct-memory" in {f.rule for f in result.findings}


def test_user_metric_definitions(write, tmp_path: Path, app_lines, pattern) -> None:
    defs = write("metrics.yaml", (
        "metrics:\n"
        "  - name: heap_used\n"
        "    description: a heap gauge\n"
        '    contains: "heapUsed="\n'
        "    regex: 'heapUsed=(?P<value>\\d+)(?P<unit>[kKmM])'\n"
        "    unit: B\n"
        "    samples:\n"
        '      - message: "heapUsed=2M"\n'
        "        values: {heap_used: 2097152}\n"))
    log = write("app.log", app_lines(2) + "2026-11-26 00:00:05.000 INFO  [main] a.B - heapUsed=3k\n")
    result = api.scan(log, pattern=pattern, metrics=[defs], workers=1)
    m = result.frame("metrics")
    row = m[m["metric"] == "heap_used"].iloc[0]
    assert (row["value"], row["line"]) == (3072.0, 3)


def test_broken_metric_definition_stops_the_scan(write, app_lines, pattern) -> None:
    defs = write("bad.yaml", "metrics:\n  - name: x\n    contains: a\n    regex: '(?P<value>\\d+'\n")
    from logsleuth.errors import LogsleuthError

    with pytest.raises(LogsleuthError) as err:
        api.scan(write("app.log", app_lines(1)), pattern=pattern, metrics=[defs], workers=1)
    assert "bad.yaml" in str(err.value)


REPO = Path(__file__).resolve().parents[2]


def test_layout_from_the_services_log4j2_xml() -> None:
    """The sample's own log4j2.xml (properties and all) decides the layout."""
    result = api.scan(REPO / "sample_logs" / "incident" / "push-server.log",
                      log4j2_config=REPO / "sample_logs" / "repro" / "log4j2.xml", workers=1)
    s = only_input(result)
    assert s.layout is not None and s.layout.startswith("config:")
    assert s.unparsed_lines == 0 and s.records > 0


def test_uptime_only_gc_log_anchored_by_jvm_start() -> None:
    gc = REPO / "tests" / "data" / "gc" / "g1-uptime.log"
    loose = api.scan(gc, workers=1)
    assert loose.table("gc_events")["ts"].null_count == loose.table("gc_events").num_rows
    anchored = api.scan(gc, jvm_start="2026-11-26T03:00:00+01:00", workers=1)
    ts = anchored.table("gc_events")["ts"].drop_null().to_pylist()
    assert ts and ts[0].isoformat().startswith("2026-11-26T02:00:00")


def test_uptime_only_gc_log_anchored_by_a_dump_of_the_same_jvm() -> None:
    from datetime import datetime

    data = REPO / "tests" / "data" / "jvmstart"
    result = api.scan(data, tz="UTC", workers=1)
    gc = result.table("gc_events")
    assert gc.num_rows > 5 and gc["ts"].null_count == 0
    launched = datetime.fromisoformat((data / "started-approx.txt").read_text().strip())
    first = gc["ts"][0].as_py()
    # the first GC event happens milliseconds after launch; jstack prints whole seconds,
    # so the estimate is good to about a second
    assert abs((first - launched).total_seconds()) < 1.5
    assert any(d.code == "gc-anchored" for d in result.diagnostics)


def test_level_counts_per_second_while_short_per_minute_always(write, app_lines, pattern) -> None:
    result = api.scan(write("a.log", app_lines(150)), pattern=pattern, workers=1, tz="UTC")
    seconds, minutes = result.table("level_seconds"), result.table("level_counts")
    assert sum(seconds["count"].to_pylist()) == sum(minutes["count"].to_pylist()) == 150
    assert seconds.num_rows == 150 and minutes.num_rows == 3  # 150 s of one record a second


def test_level_counts_coarsen_to_minutes_when_long() -> None:
    from collections import Counter

    from logsleuth.engine.collectors import LevelCounts

    lc = LevelCounts({})
    lc.counts = Counter({("a.log", s * 1000, "INFO"): 1 for s in range(LevelCounts.MAX_SECOND_KEYS)})
    other = LevelCounts({})
    other.counts = Counter({("a.log", 5_000_000_000, "INFO"): 7})
    lc.merge(other)
    assert lc.seconds_table() is None and lc.bucket_ms == 60_000
    assert lc.counts[("a.log", 4_999_980_000, "INFO")] == 7  # its minute
    assert sum(lc.table()["count"].to_pylist()) == LevelCounts.MAX_SECOND_KEYS + 7
