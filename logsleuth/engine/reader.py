"""The chunk loop: large reads into one reused buffer, records never split.

Fresh memory is costly (page faults), so one buffer serves the whole input; the
unfinished last record of a chunk moves to the buffer's front for the next read.
"""

from __future__ import annotations

import re
from typing import BinaryIO, Protocol

import numpy as np
import pyarrow as pa

from logsleuth.engine.stats import InputStats
from logsleuth.errors import DiagLevel, Diagnostic, InputError, SourceLocation

# measured on the 1 GiB bench, 2 processes: 4 MiB parses as fast as 8 MiB (once
# per-chunk costs were cut) with ~55 MiB less PSS; 2 MiB is ~10 % slower
DEFAULT_CHUNK = 4 * 2**20


class ChunkFeeder(Protocol):
    stats: InputStats

    def feed(self, buf: memoryview, first_line: int, final: bool) -> tuple[int, int]: ...


def _offsets(n: int) -> pa.Buffer:
    return pa.py_buffer(np.array([0, n], dtype=np.int64))


def _is_utf8(view: memoryview) -> bool:
    """Arrow's SIMD validator over the whole chunk: the common case costs ~nothing."""
    arr = pa.Array.from_buffers(pa.large_string(), 1,
                                [None, _offsets(len(view)), pa.py_buffer(view)])
    try:
        arr.validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True


_NON_ASCII = re.compile(rb"[\x80-\xff]+")


def _repair_utf8(view: memoryview) -> int:
    """Replace each invalid byte by ``?`` in place (offsets stay exact); return the count.

    Only runs of non-ASCII bytes can be invalid, and they are short in logs.
    """
    count = 0
    data = bytes(view)
    for m in _NON_ASCII.finditer(data):
        pos, end = m.start(), m.end()
        while pos < end:
            try:
                data[pos:end].decode("utf-8")
                break
            except UnicodeDecodeError as err:
                s, e = pos + err.start, pos + max(err.end, err.start + 1)
                view[s:e] = b"?" * (e - s)
                count += e - s
                pos = e
    return count


def feed_stream(stream: BinaryIO, feeder: ChunkFeeder, *, chunk_size: int = DEFAULT_CHUNK,
                first_line: int = 1, limit: int | None = None, max_record_chunks: int = 4) -> None:
    """Read ``stream`` (up to ``limit`` bytes) and feed whole records to ``feeder``.

    A record larger than the buffer grows it (up to ``max_record_chunks`` chunks,
    then it is cut); a single line longer than ``chunk_size`` is skipped, counted
    as unparsed and reported. A stream that fails mid-way (truncated archive)
    first delivers everything read, then raises.
    """
    buf = bytearray(chunk_size)
    mv = memoryview(buf)
    fill = 0
    line = first_line
    eof = False
    remaining = limit
    failure: Exception | None = None
    stats = feeder.stats
    # readinto1 makes one raw read: BufferedReader.readinto would drop the bytes of
    # earlier raw reads when a later one raises (a truncated archive)
    read = getattr(stream, "readinto1", stream.readinto)
    while True:
        while fill < len(buf) and not eof:
            want = len(buf) - fill if remaining is None else min(len(buf) - fill, remaining)
            try:
                k = read(mv[fill : fill + want]) if want else 0
            except InputError as err:
                failure, k = err, 0
            if not k:
                eof = True
                break
            fill += k
            if remaining is not None:
                remaining -= k
        if fill == 0:
            break
        cut = fill if eof else buf.rfind(b"\n", 0, fill) + 1
        if fill - cut >= chunk_size:  # the last line alone fills a chunk
            if cut:
                line += feed_buffer(feeder, mv, cut, line, True, stats)[1]
            fill, eof, remaining = _skip_oversized(stream, mv, cut, fill, stats, line, remaining)
            line += 1
            continue
        consumed, lines = feed_buffer(feeder, mv, cut, line, eof, stats)
        if consumed == 0 and not eof:
            if len(buf) < max_record_chunks * chunk_size:  # one record fills the buffer
                bigger = bytearray(2 * len(buf))
                bigger[:fill] = mv[:fill]
                # no mv.release(): a stream's readinto may still hold a view of the old
                # buffer (fsspec casts one), and release() would raise BufferError; the old
                # buffer is freed when its last view goes
                buf, mv = bigger, memoryview(bigger)
                continue
            consumed, lines = feed_buffer(feeder, mv, cut, line, True, stats)
            if not any(d.code == "oversized-record" for d in stats.diagnostics):
                stats.diagnostics.append(Diagnostic(
                    SourceLocation(stats.path, line), "oversized-record",
                    f"record longer than {len(buf)} bytes cut at line {line + lines}: the "
                    "lines after the cut up to the next record are counted as unparsed",
                    DiagLevel.WARNING))
        line += lines
        rest = fill - consumed
        if rest and consumed:
            mv[0:rest] = bytes(mv[consumed:fill])
        fill = rest
        if eof:
            break
    if failure is not None:
        raise failure


def feed_buffer(feeder: ChunkFeeder, mv: memoryview, cut: int, line: int, final: bool,
                stats: InputStats) -> tuple[int, int]:
    """Feed ``mv[:cut]`` (UTF-8 repaired, counted in ``stats``) to ``feeder``: (bytes
    consumed, lines). Public: the watcher feeds appended bytes through it as scan does."""
    view = mv[:cut]
    if not _is_utf8(view):
        stats.invalid_bytes += _repair_utf8(view)
    try:
        return feeder.feed(view, line, final)
    finally:
        _release(view)


def _release(view: memoryview) -> None:
    """Release a chunk's view before its buffer is reused.

    An export still held by unreachable objects (a reference cycle not yet collected)
    is collected first. ``gc.collect()`` returns at once without collecting while
    another thread's collection is running its finalizers (a Dask worker's event loop
    thread, under load: seen as a ``parser-crash`` on 1 of 8 Dask scans of the sample),
    so it is retried for a bounded time. A live export still raises, as it must: the
    buffer is about to be overwritten.
    """
    try:
        view.release()
        return
    except BufferError:
        pass
    import gc
    import time

    for attempt in range(_RELEASE_TRIES):
        gc.collect()
        try:
            view.release()
            return
        except BufferError:
            if attempt == _RELEASE_TRIES - 1:
                raise
            time.sleep(0.002 * (attempt + 1))


_RELEASE_TRIES = 20  # at most ~0.4 s of waiting for another thread's collection


def _skip_oversized(stream: BinaryIO, mv: memoryview, start: int, fill: int, stats: InputStats,
                    line: int, remaining: int | None) -> tuple[int, bool, int | None]:
    """Drop the line at ``mv[start:fill]`` up to its newline; count and report it."""
    skipped = fill - start
    fill, eof = 0, False
    while True:
        want = len(mv) if remaining is None else min(len(mv), remaining)
        try:
            k = stream.readinto(mv[:want]) if want else 0
        except InputError:
            k = 0
        if remaining is not None:
            remaining -= k
        if not k:
            eof = True
            break
        pos = mv[:k].tobytes().find(b"\n")
        if pos >= 0:
            skipped += pos + 1
            fill = k - pos - 1
            mv[0:fill] = bytes(mv[pos + 1 : k])
            break
        skipped += k
    stats.bytes += skipped
    stats.lines += 1
    stats.oversized_lines += 1
    stats.add_unparsed(line, f"<line of {skipped} bytes skipped>")
    stats.diagnostics.append(Diagnostic(
        SourceLocation(stats.path, line), "oversized-line",
        f"line of {skipped} bytes is longer than the {len(mv)}-byte chunk; counted as unparsed"))
    return fill, eof, remaining
