"""JDK 21+ ``jcmd <pid> Thread.dump_to_file -format=json`` into the thread-dump tables.

The JSON dump lists threads by container (the root, executors, virtual-thread
schedulers) with their stacks. JDK 21 writes no state or lock per thread; later
JDKs add ``state`` and the objects a thread waits for, read here when present.
Frames carry their module (``java.base/java.lang.Object.wait0(...)``), dropped so
they read as in a text dump.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, tzinfo

from logsleuth.errors import DiagLevel, Diagnostic, SourceLocation
from logsleuth.parsers.jstack import _emit, _Out, _Thread

_MODULE = re.compile(r"^[^/(\s]+/(?:[^/(\s]*/)?(?=[\w$])")


def looks_like_json_dump(head: str) -> bool:
    return head.startswith("{") and '"threadDump"' in head[:300]


def parse_json_dump(out: _Out, text: str, lines: list[str], source: str,
                    tz: tzinfo | None, off: int) -> tuple[int, list[Diagnostic]]:
    """Fill ``out``; returns (number of dumps, diagnostics)."""
    try:
        doc = json.loads(text)
        dump = doc["threadDump"]
        containers = dump["threadContainers"]
    except (ValueError, KeyError, TypeError) as err:
        line, col = getattr(err, "lineno", 1), getattr(err, "colno", 1)
        out.n_unparsed += sum(1 for ln in lines if ln.strip())
        out.parsed += sum(1 for ln in lines if not ln.strip())
        out.unparsed.extend((i + 1 + off, ln) for i, ln in enumerate(lines[:10]))
        return 0, [Diagnostic(SourceLocation(source, line + off, col), "TD001",
                              f"not a readable JSON thread dump: {err}", DiagLevel.WARNING)]
    out.parsed += len(lines)
    ts = _time(dump.get("time"), tz)
    threads: list[_Thread] = []
    for container in containers:
        for th in container.get("threads") or []:
            t = _Thread(line=1 + off, g={"name": str(th.get("name", "")), "no": th.get("tid")})
            t.frames = [_MODULE.sub("", str(f)) for f in th.get("stack") or []]
            t.state = th.get("state")
            t.virtual = bool(th.get("virtual", False))
            threads.append(t)
    _emit(out, threads, source, 0, ts)
    return 1, []


def _time(value: object, tz: tzinfo | None) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        ts = datetime.fromisoformat(value)
    except ValueError:
        return None
    ts = ts.replace(microsecond=ts.microsecond // 1000 * 1000)
    return ts if ts.tzinfo is not None else ts.replace(tzinfo=tz)
