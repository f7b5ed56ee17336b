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
from logsleuth.errors import Diagnostic, SourceLocation

DEFAULT_CHUNK = 32 * 2**20


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
                first_line: int = 1, limit: int | None = None) -> None:
    """Read ``stream`` (up to ``limit`` bytes) and feed whole records to ``feeder``."""
    buf = bytearray(chunk_size)
    mv = memoryview(buf)
    fill = 0
    line = first_line
    eof = False
    remaining = limit
    stats = feeder.stats
    while True:
        while fill < chunk_size and not eof:
            want = chunk_size - fill if remaining is None else min(chunk_size - fill, remaining)
            if want == 0:
                eof = True
                break
            k = stream.readinto(mv[fill : fill + want])
            if not k:
                eof = True
                break
            fill += k
            if remaining is not None:
                remaining -= k
        if fill == 0:
            return
        if eof:
            cut = fill
        else:
            cut = buf.rfind(b"\n", 0, fill) + 1
            if cut == 0:
                fill, eof, remaining = _skip_oversized(stream, mv, stats, line, remaining)
                line += 1
                continue
        view = mv[:cut]
        if not _is_utf8(view):
            stats.invalid_bytes += _repair_utf8(view)
        consumed, lines = feeder.feed(view, line, eof)
        view.release()
        line += lines
        rest = fill - consumed
        if rest and consumed:
            mv[0:rest] = bytes(mv[consumed:fill])
        fill = rest
        if eof and (fill == 0 or consumed == 0):
            return


def _skip_oversized(stream: BinaryIO, mv: memoryview, stats: InputStats, line: int,
                    remaining: int | None) -> tuple[int, bool, int | None]:
    """Drop one line longer than the buffer; count it as unparsed and keep what follows."""
    skipped = len(mv)
    while True:
        want = len(mv) if remaining is None else min(len(mv), remaining)
        k = stream.readinto(mv[:want]) if want else 0
        if remaining is not None:
            remaining -= k
        if not k:
            fill, eof = 0, True
            break
        pos = bytes(mv[:k]).find(b"\n")
        if pos >= 0:
            skipped += pos + 1
            rest = k - pos - 1
            mv[0:rest] = bytes(mv[pos + 1 : k])
            fill, eof = rest, False
            break
        skipped += k
    stats.bytes += skipped
    stats.lines += 1
    stats.oversized_lines += 1
    stats.add_unparsed(line, f"<line of {skipped} bytes skipped>")
    stats.diagnostics.append(Diagnostic(
        SourceLocation(stats.path, line), "oversized-line",
        f"line of {skipped} bytes exceeds the {len(mv)}-byte chunk; counted as unparsed"))
    return fill, eof, remaining
