"""When the JVM started, for GC logs that print only uptime (``-Xlog:gc*`` with ``uptime``).

jstack prints each thread's ``elapsed=`` time and the dump's wall-clock time: the
dump time minus the oldest thread's elapsed time (``main``, the VM threads) is the
JVM's start, to about a second. It anchors uptime-only GC logs of the same
evidence when ``--jvm-start`` was not given; the reason is reported.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from statistics import median
from typing import Any

import pyarrow as pa

from logsleuth.engine.guard import reported
from logsleuth.errors import Diagnostic
from logsleuth.model import Kind


@dataclass(frozen=True, slots=True)
class JvmStart:
    ms: int
    why: str


def _cut(head: bytes) -> bytes:
    return head[: head.rfind(b"\n") + 1]


def gc_logs_lack_wall_clock(planned: Sequence[Any],
                            diagnostics: list[Diagnostic] | None = None) -> bool:
    """True when there are GC logs and none of them prints wall-clock time."""
    from logsleuth.parsers.gc import parse_gc_log

    gcs = [p for p in planned if p.kind == Kind.GC_LOG]
    if not gcs:
        return False
    for p in gcs:
        events = None
        with reported(p.source.path, "reading this GC log's head for wall-clock time",
                      diagnostics):
            events = parse_gc_log(_cut(p.head), p.source.path).tables.get("gc_events")
        if events is not None and events.num_rows and events["ts"].null_count < events.num_rows:
            return False
    return True


def jvm_start_from_dumps(planned: Sequence[Any], default_tz: tzinfo | None,
                         diagnostics: list[Diagnostic] | None = None) -> JvmStart | None:
    """The JVM start implied by the thread dumps' dump time and thread ages."""
    from logsleuth.parsers.jstack import parse_thread_dumps

    starts: list[tuple[int, str]] = []
    for p in planned:
        if p.kind != Kind.THREAD_DUMP:
            continue
        states = None
        with reported(p.source.path, "reading this thread dump's head for the JVM start",
                      diagnostics):
            states = parse_thread_dumps(_cut(p.head), p.source.path,
                                        default_tz=default_tz).tables.get("thread_states")
        if states is None or states.num_rows == 0:
            continue
        t = pa.table({"ts": states["ts"].cast(pa.timestamp("ms", tz="UTC")).cast(pa.int64()),
                      "age": states["elapsed_s"]}).drop_null()
        if t.num_rows == 0:
            continue
        grouped = t.group_by("ts").aggregate([("age", "max")])
        for ts, age in zip(grouped["ts"].to_pylist(), grouped["age_max"].to_pylist(),
                           strict=True):
            starts.append((int(ts - age * 1000), p.source.path))
    if not starts:
        return None
    ms = int(median(s for s, _ in starts))
    when = datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="seconds")
    sources = sorted({src for _, src in starts})
    return JvmStart(ms, f"JVM start {when} estimated from {', '.join(sources)}: dump time "
                        "minus the oldest thread's elapsed time (to about a second)")
