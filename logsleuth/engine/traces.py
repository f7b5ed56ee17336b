"""Exception classes and root frame of each record's trace, with a cache only where it pays.

A flood repeats one trace thousands of times: remembering each distinct trace text
reads it once (a hash instead of the searches). A log whose traces all differ (15 %
ERROR records with their own frames) gains nothing from the cache and pays for
copying, hashing and holding every text (4096 traces of ~5 KB: ~20 MB per process).
So the cache watches its own hit rate and steps aside while it does not pay, trying
again later. Either way the answer per record is the same; only its cost changes.
"""

from __future__ import annotations

from logsleuth.parsers.stacktrace import exception_classes, root_frame, trace_summary

Summary = tuple[str | None, str | None, str | None]  # outermost, root, root frame
_NONE: Summary = (None, None, None)
CACHE_SIZE = 4096  # distinct continuation texts remembered
WINDOW = 1024  # lookups between verdicts on the cache
MIN_HITS = WINDOW // 4  # fewer hits in a window: the cache steps aside ...
OFF_FOR = 8 * WINDOW  # ... for this many traces, then is tried again


def summarise(data: bytes | bytearray, a: int, b: int, head: int) -> Summary:
    """The summary of the continuation ``data[a:b]`` of a record starting at ``head``."""
    quick = trace_summary(data, a, b)
    if quick is not None:
        return quick
    cont = bytes(data[a:b])
    e, r = exception_classes(cont)
    if e is None and (b"\tat " in cont or b"    at " in cont):
        # frames without a header line: the record's first line may name the throwable
        e, r = exception_classes(cont, bytes(data[head:a]))
    return (e, r, root_frame(cont)) if e is not None else (e, r, None)


class TraceReader:
    """Per input (parser): summaries of continuation texts, cached while it pays."""

    __slots__ = ("_hits", "_looks", "_off", "_seen")

    def __init__(self) -> None:
        self._seen: dict[bytes, Summary] = {}
        self._looks = self._hits = self._off = 0

    def read(self, data: bytes | bytearray, view: memoryview, a: int, b: int,
             head: int) -> Summary:
        """``data`` and ``view`` hold the same bytes at the same offsets: searches run on
        ``data``, the cache key is copied once from ``view``."""
        if self._off:
            self._off -= 1
            return summarise(data, a, b, head)
        cont = bytes(view[a:b])
        known = self._seen.get(cont)
        self._looks += 1
        if known is not None:
            self._hits += 1
        else:
            # a trace whose header is in the record's first line is not cached: the
            # first line varies where the trace does not
            known = trace_summary(cont, 0, len(cont))
            if known is None:
                return summarise(data, a, b, head)
            if len(self._seen) >= CACHE_SIZE:
                self._seen.clear()
            self._seen[cont] = known
        if self._looks >= WINDOW:
            if self._hits < MIN_HITS:
                self._off = OFF_FOR
                self._seen.clear()
            self._looks = self._hits = 0
        return known
