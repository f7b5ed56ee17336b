"""Lines the JVM itself writes into a console capture, which end the record before them.

On a container's stdout the JVM's own output lands between the application's records:
``-Xlog:gc`` lines (stdout is -Xlog's default target), kill -3 thread dumps, the notice
of -XX:+HeapDumpOnOutOfMemoryError (``java.lang.OutOfMemoryError: Java heap space``,
``Dumping heap to ...``, ``Heap dump file created [...]``) and the VM's last word when a
thread's uncaught-exception handler fails. None of it belongs to the record it follows: a
logger writes a record and its stack trace in one piece. Left in, the heap-dump notice
made a ``Request handled`` record an OutOfMemoryError record.

``console_cut`` gives each record's own line count (its lines before the first such
line). The record keeps all its lines for the accounting (every line stays counted); its
text, exception and rule matching use its own lines; the embedded evidence collectors
(thread dumps, GC lines) read the whole span.
"""

from __future__ import annotations

import re

import numpy as np

# the first bytes of those lines: a continuation line starting otherwise is none of them
# (stack traces start with a tab, a blank or a lower-case package)
_FIRST = np.frombuffer(b"[DHFE0123456789", np.uint8)
JVM_LINE = re.compile(
    rb"^(?:\[[^\]\n]*\](?:\[[^\]\n]*\])*?\[gc[\w,]*\s*\]"  # -Xlog:gc with any decorations
    rb"|\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\r?\nFull thread dump |Full thread dump "  # kill -3
    rb"|(?:java\.lang\.OutOfMemoryError: [^\n]*\r?\n)?Dumping heap to |Heap dump file created \["
    rb"|Exception: \S+ thrown from the UncaughtExceptionHandler in thread )", re.M)


def console_cut(data: bytes | bytearray, starts: np.ndarray, heads: np.ndarray,
                nlines: np.ndarray) -> np.ndarray | None:
    """Per record, its lines before the first line the JVM wrote (``nlines`` where there is
    none); None when the chunk holds no such line. The common case costs one gather of the
    continuation lines' first bytes; the regex runs only where one of them could start."""
    if not len(heads):
        return None
    last = min(int(heads[-1] + nlines[-1]), len(starts) - 1)
    cont = np.ones(last - int(heads[0]), dtype=bool)
    cont[heads - heads[0]] = False
    lines = np.flatnonzero(cont) + heads[0]
    raw = np.frombuffer(data, np.uint8)
    firsts = raw[np.minimum(starts[lines], len(raw) - 1)]
    if not np.isin(firsts, _FIRST).any():
        return None
    end = int(starts[last])
    at = np.fromiter((m.start() for m in JVM_LINE.finditer(data, 0, end)), dtype=np.int64)
    if len(at) == 0:
        return None
    jvm = np.searchsorted(starts, at)  # line indexes (each match starts a line)
    k = np.searchsorted(jvm, heads + 1)
    first = np.where(k < len(jvm), jvm[np.minimum(k, len(jvm) - 1)], np.iinfo(np.int64).max)
    own = np.minimum(first - heads, nlines).astype(nlines.dtype)
    return None if np.array_equal(own, nlines) else own
