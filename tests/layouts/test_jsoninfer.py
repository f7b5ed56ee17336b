"""JSON layouts inferred from names and value shapes, on public logs and on the shapes
the writers document (expectations written from the files, before running logsleuth)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pytest

from logsleuth import api
from logsleuth.layouts.jsoninfer import infer_json_layout, layout_from_spec
from logsleuth.layouts.jsonthrown import render_throwable

PUBLIC = Path(__file__).resolve().parents[1] / "data" / "public" / "json"


def _ms(iso: str) -> int:
    return int(datetime.fromisoformat(iso).astimezone(UTC).timestamp() * 1000)


# file -> (first ts, last ts, inferred roles that must hold)
EXPECT = {
    "es7-test-json-head.log": (
        _ms("2019-01-18T08:55:08.159+01:00"), _ms("2019-01-18T08:55:08.166+01:00"),
        {"time": "timestamp:iso", "level": "level", "logger": "component", "msg": "message"}),
    "logstash-json.log": (
        1546896321871, 1612827484046,
        {"time": "timeMillis:ms", "level": "level", "logger": "loggerName", "thread": "thread",
         "msg": "logEvent/message"}),
    "elasticsearch-json.800.mixed.log": (
        _ms("2022-01-25T15:12:08.472+00:00"), _ms("2022-01-27T11:48:45.809+00:00"),
        {"time": "@timestamp:iso", "level": "log.level", "logger": "log.logger",
         "thread": "process.thread.name", "msg": "message"}),
    "lnav-logfile_ecs_log.json": (
        _ms("2025-01-13T09:58:13.631+00:00"), _ms("2025-01-13T09:58:13.634+00:00"),
        {"time": "@timestamp:iso", "level": "log.level", "logger": "log/logger",
         "thread": "process/thread/name", "msg": "message"}),
    "otros-json-timestamp.log": (
        1283108786000, 1409339186000,
        {"time": "@timestamp:ms", "level": "level", "logger": "logger", "thread": "thread",
         "msg": "message"}),
    "otros-log4j2-complete.json": (
        1519502084529, 1519502084674,
        {"time": "timeMillis:ms", "level": "level", "logger": "loggerName", "thread": "thread",
         "msg": "message", "thrown": "thrown"}),
}


def _objects(text: str) -> int:
    """Objects in a file, counted by Python's own decoder (independent of Arrow)."""
    decoder, pos, count = json.JSONDecoder(), 0, 0
    while (pos := text.find("{", pos)) >= 0:
        _, pos = decoder.raw_decode(text, pos)
        count += 1
    return count


def _roles(spec: str) -> dict[str, str]:
    return dict(tok.split("=", 1) for tok in spec.split() if "=" in tok)


@pytest.mark.parametrize("name", sorted(EXPECT))
def test_public_json_log_read_without_flags(name: str) -> None:
    path = PUBLIC / name
    first, last, _ = EXPECT[name]
    result = api.scan(path, workers=1, analysis=False)
    stats = result.inputs[0]
    assert stats.kind == "app-log" and stats.layout is not None
    assert stats.records == _objects(path.read_text(encoding="utf-8"))
    assert stats.unparsed_lines <= max(1, stats.lines // 100)
    ts = result.table("records").column("ts").to_pylist()
    assert int(ts[0].timestamp() * 1000) == first and int(ts[-1].timestamp() * 1000) == last


@pytest.mark.parametrize("name", sorted(EXPECT))
def test_public_json_roles_inferred(name: str) -> None:
    lines = (PUBLIC / name).read_text(encoding="utf-8").splitlines()
    layout = infer_json_layout(lines)
    assert layout is not None
    roles = _roles(layout.spec())
    for role, path in EXPECT[name][2].items():
        assert roles.get(role, "").split(",")[0] == path, (role, layout.spec())
    assert layout_from_spec(layout.name).spec() == layout.spec()


def test_log4j2_pretty_json_exceptions() -> None:
    records = api.scan(PUBLIC / "otros-log4j2-complete.json", workers=1,
                       analysis=False).table("records")
    rows = [r for r in records.to_pylist() if r["exception"]]
    assert len(rows) == 3
    assert {r["root_frame"] for r in rows} == {"Log4j2Example.lambda$main$0"}


# GELF as logstash-gelf / Spring Boot's structured GELF write it (float seconds,
# syslog level numbers, short_message, full_message with the trace, _logger, _thread)
GELF = [
    '{"version":"1.1","host":"h","short_message":"Started","timestamp":1679049030.468963200,'
    '"level":6,"_logger":"com.example.App","_thread":"main"}',
    '{"version":"1.1","host":"h","short_message":"500 Server Error","full_message":'
    '"io.netty.handler.codec.EncoderException: java.lang.OutOfMemoryError: Cannot reserve 64 '
    'bytes of direct buffer memory (allocated: 16777152, limit: 16777216)\\n\\tat '
    'io.netty.handler.codec.MessageToByteEncoder.write(MessageToByteEncoder.java:107)\\n'
    'Caused by: java.lang.OutOfMemoryError: Cannot reserve 64 bytes of direct buffer memory '
    '(allocated: 16777152, limit: 16777216)\\n\\tat java.nio.Bits.reserveMemory(Bits.java:178)\\n'
    '\\t... 1 more\\n","timestamp":1679049090.535760400,"level":3,'
    '"_logger":"com.example.Encoder","_thread":"nioEventLoopGroup-3-2"}',
]


def test_gelf_roles_levels_and_trace(tmp_path: Path) -> None:
    layout = infer_json_layout(GELF)
    assert layout is not None
    roles = _roles(layout.spec())
    assert roles["time"] == "timestamp:s" and roles["levels"] == "syslog"
    assert roles["msg"] == "short_message" and roles["logger"] == "_logger"
    assert roles["thread"] == "_thread"
    table = layout.parse(pa.array(GELF))
    assert table["ts"].to_pylist() == [1679049030469, 1679049090536]
    assert table["level"].to_pylist() == ["INFO", "ERROR"]
    log = tmp_path / "gelf.json"
    log.write_text("\n".join(GELF) + "\n")
    result = api.scan(log, workers=1, analysis=False)
    rec = result.table("records").to_pylist()[1]
    assert rec["exception"] == "io.netty.handler.codec.EncoderException"
    assert rec["root_exception"] == "java.lang.OutOfMemoryError"
    assert rec["root_frame"] == "java.nio.Bits.reserveMemory"
    assert "jdk-direct-buffer-oom" in {f.rule for f in result.findings}


# Elasticsearch 7's JSON layout puts each stacktrace element on a line of its own
ES7_TRACE = """\
{"type": "server", "timestamp": "2019-05-21T06:26:05,267Z", "level": "INFO", "component": "o.e.n.Node", "cluster.name": "docker-cluster", "node.name": "es01", "message": "initializing ..." }
{"type": "server", "timestamp": "2019-05-21T06:26:05,268Z", "level": "ERROR", "component": "o.e.b.ElasticsearchUncaughtExceptionHandler", "cluster.name": "docker-cluster", "node.name": "es01", "message": "uncaught exception in thread [main]",
"stacktrace": ["org.elasticsearch.bootstrap.StartupException: ElasticsearchException[failed to bind service]; nested: AccessDeniedException[/usr/share/elasticsearch/data/nodes];",
"at org.elasticsearch.bootstrap.Elasticsearch.init(Elasticsearch.java:163) ~[elasticsearch-7.1.0.jar:7.1.0]",
"at org.elasticsearch.cli.Command.main(Command.java:90) ~[elasticsearch-cli-7.1.0.jar:7.1.0]",
"Caused by: java.nio.file.AccessDeniedException: /usr/share/elasticsearch/data/nodes",
"at sun.nio.fs.UnixException.translateToIOException(UnixException.java:90) ~[?:?]",
"... 6 more"] }
{"type": "server", "timestamp": "2019-05-21T06:26:05,300Z", "level": "INFO", "component": "o.e.n.Node", "cluster.name": "docker-cluster", "node.name": "es01", "message": "stopping ..." }
"""


def test_es7_stacktrace_over_lines(tmp_path: Path) -> None:
    log = tmp_path / "es.json"
    log.write_text(ES7_TRACE)
    result = api.scan(log, workers=1, analysis=False)
    stats = result.inputs[0]
    assert (stats.records, stats.unparsed_lines, stats.lines) == (3, 0, 9)
    rows = result.table("records").to_pylist()
    assert [r["n_lines"] for r in rows] == [1, 7, 1]
    assert rows[1]["exception"] == "org.elasticsearch.bootstrap.StartupException"
    assert rows[1]["root_exception"] == "java.nio.file.AccessDeniedException"
    assert rows[1]["root_frame"] == "sun.nio.fs.UnixException.translateToIOException"
    assert rows[1]["level"] == "ERROR" and rows[1]["logger"].endswith("ExceptionHandler")


def test_es7_record_cut_by_a_chunk_is_read_whole(tmp_path: Path) -> None:
    log = tmp_path / "es.json"
    log.write_text(ES7_TRACE * 30)
    for chunk in (700, 1500, 4096):
        stats = api.scan(log, workers=1, analysis=False, chunk_size=chunk).inputs[0]
        assert (stats.records, stats.unparsed_lines) == (90, 0), chunk


def test_ecs_error_fields_and_array_trace() -> None:
    line = json.dumps({
        "@timestamp": "2024-03-11T14:07:52.117Z", "log.level": "ERROR", "message": "boom",
        "log.logger": "a.B", "process.thread.name": "main",
        "error.type": "java.lang.IllegalStateException", "error.message": "bad",
        "error.stack_trace": ["java.lang.IllegalStateException: bad", "\tat a.B.c(B.java:1)",
                              "Caused by: java.io.IOException: disk", "\tat a.B.d(B.java:2)"]})
    layout = infer_json_layout([line, line])
    assert layout is not None
    row = layout.parse(pa.array([line])).to_pylist()[0]
    assert row["error_class"] == "java.lang.IllegalStateException"
    assert row["stack_trace"].splitlines()[2] == "Caused by: java.io.IOException: disk"


def test_render_throwable_matches_java_layout() -> None:
    thrown = {"name": "a.Outer", "message": "x", "extendedStackTrace": [
        {"class": "a.B", "method": "m", "file": "B.java", "line": 3, "exact": True,
         "location": "app.jar", "version": "1.0"},
        {"class": "a.N", "method": "n", "line": -2}],
        "suppressed": [{"name": "a.Closing", "extendedStackTrace": [
            {"class": "a.C", "method": "close", "file": "C.java", "line": 9}]}],
        "cause": {"name": "a.Root", "message": "y", "commonElementCount": 1,
                  "extendedStackTrace": [{"class": "a.D", "method": "d", "file": "D.java",
                                          "line": 4}]}}
    assert render_throwable(thrown) == (
        "a.Outer: x\n\tat a.B.m(B.java:3) [app.jar:1.0]\n\tat a.N.n(Native Method)\n"
        "\tSuppressed: a.Closing\n\t\tat a.C.close(C.java:9)\n"
        "Caused by: a.Root: y\n\tat a.D.d(D.java:4)\n\t... 1 more")
    assert render_throwable({"name": "x", "other": 1}) is None


def test_no_time_field_no_layout() -> None:
    assert infer_json_layout(['{"a": 1, "message": "x"}', '{"a": 2, "message": "y"}']) is None
    # a number is a time only under a time-like name
    assert infer_json_layout(['{"bytes": 1700000000000, "message": "x"}']) is None


def test_spec_errors_are_clear() -> None:
    with pytest.raises(ValueError, match="time=PATH"):
        layout_from_spec("level=level")
    with pytest.raises(ValueError, match="unknown role"):
        layout_from_spec("time=t:ms colour=red")


def test_arrow_renderer_equals_python_renderer() -> None:
    """The vectorised renderer must print exactly what the Python one prints."""
    from logsleuth.layouts.jsonrecords import parse_json_lines
    from logsleuth.layouts.jsonthrown_arrow import render_column

    twin = Path(__file__).resolve().parents[1] / "data" / "twin"
    for name in ("twin.json", "twin-string.json"):
        lines = (twin / name).read_text(encoding="utf-8").splitlines()
        column = parse_json_lines(pa.array(lines)).column("thrown").combine_chunks()
        want = [render_throwable(json.loads(line).get("thrown")) for line in lines]
        assert sum(w is not None for w in want) >= 30
        assert render_column(column).to_pylist() == want


def test_trace_inside_the_message_splits_like_a_text_record(tmp_path: Path) -> None:
    """A JSON template with ``%m%n%ex`` in its message: first line message, rest trace."""
    lines = [json.dumps({"timestamp": "2023-03-17T10:33:42.531Z", "severity": "ERROR",
                         "_logger": "a.Gateway", "message": (
                             "500 Server Error\nio.netty.channel.ConnectTimeoutException: x\n"
                             "\tat a.B.c(B.java:1)\nCaused by: java.net.ConnectException: no\n"
                             "\tat d.E.f(E.java:2)")}),
             json.dumps({"timestamp": "2023-03-17T10:33:43.000Z", "severity": "INFO",
                         "_logger": "a.Gateway", "message": "two\nlines"})]
    log = tmp_path / "gcp.json"
    log.write_text("\n".join(lines) + "\n")
    rows = api.scan(log, workers=1, analysis=False).table("records").to_pylist()
    assert rows[0]["message"] == "500 Server Error"
    assert rows[0]["exception"] == "io.netty.channel.ConnectTimeoutException"
    assert (rows[0]["root_exception"], rows[0]["root_frame"]) == ("java.net.ConnectException",
                                                                  "d.E.f")
    assert rows[1]["message"] == "two\nlines" and rows[1]["exception"] is None


@pytest.mark.parametrize(("stamps", "zone"), [
    (["2024-03-11T14:07:52.117Z", "2024-03-11T15:07:53+01:00"], "from-log"),
    (["2024-03-11T14:07:52.117Z", "2024-03-11 14:07:53.000"], "unknown"),
    (["2024-03-11 14:07:52,117", "2024-03-11 14:07:53,000"], "unknown"),
])
def test_timezone_is_from_log_only_when_every_time_carries_it(
        stamps: list[str], zone: str, tmp_path: Path) -> None:
    log = tmp_path / "app.json"
    log.write_text("".join(json.dumps({"@timestamp": t, "level": "INFO", "message": "m"}) + "\n"
                           for t in stamps))
    result = api.scan(log, workers=1, analysis=False)
    assert result.inputs[0].records == 2 and result.inputs[0].timezone == zone
