"""Real traces and reports that people committed to public repositories (issue 14, item 1).

Each file sits under tests/data/public/traces/ with its source in SOURCES.md. The
expectations below were written from reading each file, before the scanner ran on
it: what a person sees at a glance (the exception classes, the rule that must fire)
and that every line is accounted for (in a record or counted unparsed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from logsleuth import api

DATA = Path(__file__).resolve().parents[1] / "data" / "public" / "traces"


@dataclass(frozen=True)
class Expect:
    """What a reader sees in one file."""

    name: str
    rules: frozenset[str]  # rules that must fire
    exceptions: tuple[tuple[str, str], ...]  # (outer, root) per record holding a throwable
    trace_lines: int  # lines of the file that belong to the records above
    first_line: int  # line where the first trace record starts
    forbidden: frozenset[str] = field(default_factory=frozenset)  # rules that must not fire


DIRECT = "jdk-direct-buffer-oom"
OODM = "netty-out-of-direct-memory"
COUNTER = "netty-direct-memory-counter-frame"
LEAK = "netty-resource-leak"
ENCODER = "exception-in-encoder"
OOM = "java.lang.OutOfMemoryError"
MEMORY_RULES = frozenset({DIRECT, OODM, COUNTER, LEAK})

CASES = [
    # shell prompt lines and a blank line, then a header-less JDK 8 trace
    Expect("jdk8-direct-buffer-console.txt", frozenset({DIRECT}), ((OOM, OOM),), 5, 5),
    # a count printed by the program, then the trace
    Expect("jdk8-direct-buffer-stdout-count.txt", frozenset({DIRECT}), ((OOM, OOM),), 5, 2),
    # the exception line alone, no frames
    Expect("jdk-direct-buffer-no-trace.txt", frozenset({DIRECT}), ((OOM, OOM),), 1, 2),
    # a cause pasted alone, two-space frames, "... 16 more"
    Expect("spring-caused-by-2-space.txt", frozenset(),
           (("org.springframework.context.ApplicationContextException",) * 2,), 5, 1,
           forbidden=MEMORY_RULES),
    Expect("catalina-caused-by-4-space.txt", frozenset(),
           (("org.apache.catalina.LifecycleException",) * 2,), 5, 1, forbidden=MEMORY_RULES),
    # "content: " before every trace line, frames not indented after it
    Expect("netty-oodm-content-prefix.txt", frozenset({OODM, COUNTER}),
           (("io.netty.util.internal.OutOfDirectMemoryError",) * 2,), 21, 2),
    # LEAK reports: no throwable, the report is the record
    Expect("netty-leak-custom-header.log", frozenset({LEAK}), (), 26, 1),
    Expect("netty-leak-spring-boot-spaces.log", frozenset({LEAK}), (), 125, 1,
           forbidden=frozenset({"netty-leak-without-records"})),
    # the report's first line alone: a leak all the same, without the place
    Expect("netty-leak-first-line-only.log", frozenset({"netty-leak-without-records"}), (), 1, 1,
           forbidden=frozenset({LEAK})),
    Expect("xml-caused-by-common-frames.txt", frozenset(),
           (("org.xml.sax.SAXParseException",) * 2,), 22, 1, forbidden=MEMORY_RULES),
    # Suppressed assembly trace, a blank line, then the cause thrown in encode()
    Expect("netty-encoder-exception-suppressed.txt", frozenset({ENCODER}),
           (("io.netty.handler.codec.EncoderException", "java.lang.IllegalStateException"),),
           118, 1, forbidden=MEMORY_RULES),
    # rsyslog: RFC 3164 prefix on every line, tabs escaped as #011; three services fail
    Expect("syslog-lettuce-redis-refused.log", frozenset(),
           (("io.lettuce.core.RedisConnectionException", "java.net.ConnectException"),) * 3,
           15, 1, forbidden=MEMORY_RULES),
]


def _scan(name: str) -> api.ScanResult:
    return api.scan(DATA / name, workers=1)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_rules_fire_on_real_traces(case: Expect) -> None:
    result = _scan(case.name)
    fired = {f.rule for f in result.findings}
    assert case.rules <= fired, f"missing {case.rules - fired}; fired {fired}"
    assert not (case.forbidden & fired), f"false alarm {case.forbidden & fired}"


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_real_traces_become_records(case: Expect) -> None:
    result = _scan(case.name)
    (stats,) = result.inputs
    assert stats.kind == "app-log"
    text = (DATA / case.name).read_bytes()
    assert stats.lines == text.count(b"\n") + (not text.endswith(b"\n"))
    rows = result.table("records").to_pylist()
    with_exc = [(r["exception"], r["root_exception"]) for r in rows if r["exception"]]
    assert tuple(with_exc) == case.exceptions
    # every line is in a record or counted unparsed, and the traces are whole
    assert sum(r["n_lines"] for r in rows) + stats.unparsed_lines == stats.lines
    assert sum(r["n_lines"] for r in rows) >= case.trace_lines
    assert rows and min(r["line"] for r in rows if r["n_lines"] > 1 or r["exception"]
                        or "LEAK" in (r["message"] or "")) == case.first_line


def test_leak_report_keeps_its_sections_in_one_record() -> None:
    """The spaces-indented report is one record from its header to the last frame."""
    result = _scan("netty-leak-spring-boot-spaces.log")
    (row,) = result.table("records").to_pylist()
    assert row["n_lines"] == 125
    assert row["ts"] is not None and row["ts"].isoformat().startswith("2019-03-28T")
    (finding,) = [f for f in result.findings if f.rule == LEAK]
    assert finding.count == 1
