"""Wrapper detection and unwrapping on small hand-made cases (real files: tests/engine)."""

from __future__ import annotations

import numpy as np

from logsleuth.parsers.lines import line_offsets
from logsleuth.parsers.wrappers import NO_TIME, WrapperSpec, detect_wrapper, unwrap, unwrap_bytes


def no_layout(_lines: object) -> bool:
    return False


def _unwrap(name: str, data: bytes):
    raw = np.frombuffer(data, dtype=np.uint8)
    return unwrap(WrapperSpec(name), raw, line_offsets(raw, final=True))


def test_cri_partial_lines_are_joined_and_mapped() -> None:
    data = (b"2016-10-06T00:17:09.669794202Z stdout P java.lang.IllegalState\n"
            b"2016-10-06T00:17:09.669794203Z stdout F Exception: boom\n"
            b"2016-10-06T00:17:10.113242941Z stderr F \tat a.B.c(B.java:1)\n")
    u = _unwrap("cri", data)
    assert u.data == b"java.lang.IllegalStateException: boom\n\tat a.B.c(B.java:1)\n"
    assert u.outer_line.tolist() == [0, 2, 3]
    assert u.ms.tolist() == [1475713029669, 1475713030113]


def test_docker_partial_entries_and_bad_lines() -> None:
    data = (b'{"log":"part one ","stream":"stdout","time":"2019-04-01T17:58:33.5Z"}\n'
            b'{"log":"part two\\n","stream":"stdout","time":"2019-04-01T17:58:34Z"}\n')
    u = _unwrap("docker-json", data)
    assert u.data == b"part one part two\n"
    assert u.outer_line.tolist() == [0, 2] and u.ms.tolist() == [1554141513500]
    broken = data + b"not json\n"
    u = _unwrap("docker-json", broken)  # Arrow refuses the chunk: the slow path keeps it
    assert u.data == b"part one part two\nnot json\n"
    assert u.outer_line.tolist() == [0, 2, 3] and u.ms[1] == NO_TIME


def test_syslog_5424_and_escaped_tabs() -> None:
    data = (b'<165>1 2003-10-11T22:14:15.003Z host app 42 ID47 [x@1 a="b"] '
            b"java.lang.IllegalStateException: boom\n"
            b"<165>1 2003-10-11T22:14:15.004Z host app 42 ID47 - #011at a.B.c(B.java:1)\n")
    lines = data.decode().splitlines()
    assert detect_wrapper(lines, no_layout) == WrapperSpec("syslog-5424")
    u = _unwrap("syslog-5424", data)
    assert u.data == b"java.lang.IllegalStateException: boom\n\tat a.B.c(B.java:1)\n"
    assert u.ms.tolist() == [1065910455003, 1065910455004]


def test_multiplexed_and_constant_prefixes() -> None:
    compose = ["web-1  | started", "db-1   | ready", "web-1  | java.lang.Error: x"]
    assert detect_wrapper(compose, no_layout) == WrapperSpec("multiplexed")
    assert unwrap_bytes(WrapperSpec("multiplexed"), ("\n".join(compose) + "\n").encode()) == (
        b"started\nready\njava.lang.Error: x\n")
    # a prefix is taken only when it hides a trace, and never over a known layout
    chat = ["content: hello", "content: world", "content: bye"]
    assert detect_wrapper(chat, no_layout) is None
    trace = ["content: java.lang.IllegalStateException: boom", "content: at a.B.c(B.java:1)"]
    assert detect_wrapper(trace, no_layout) == WrapperSpec("prefix", "content: ")
    assert detect_wrapper(trace, lambda _: True) is None


def test_kubectl_needs_nanoseconds_or_inner_evidence() -> None:
    millis = ["2026-11-26T00:00:01.123Z INFO a", "2026-11-26T00:00:02.123Z INFO b"]
    assert detect_wrapper(millis, lambda _: True) is None  # an ISO app log, not a wrapper
    # nginx's $time_iso8601 opens its lines the same way, with no layout of ours behind it
    nginx = ['2026-12-06T06:32:46+01:00 client=127.0.0.1 method=GET status=200 ua="curl"'] * 3
    assert detect_wrapper(nginx, no_layout) is None
    nanos = ["2026-11-26T00:00:01.123456789Z INFO a", "2026-11-26T00:00:02.1Z INFO b",
             "2026-11-26T00:00:03.123456Z INFO c"]
    assert detect_wrapper(nanos, lambda _: True) == WrapperSpec("kubectl-timestamps")
