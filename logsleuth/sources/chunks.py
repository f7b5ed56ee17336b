"""Whole-line chunks of a stream, read into one reused buffer.

Fresh memory is costly on the scan hosts (a page fault per 4 KiB touched), so
the buffer is allocated once per call (or passed in by the engine and reused
across files) and the partial line after the last ``\\n`` is moved to its front
before the next ``readinto``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from logsleuth.errors import InputError
from logsleuth.sources.values import Chunk

CHUNK_SIZE = 32 * 2**20
MAX_LINE_BYTES = 64 * 2**20


def _long_line_start(buf: bytearray, start: int, stop: int, limit: int) -> int:
    """Start of the first line in ``buf[start:stop]`` longer than ``limit`` bytes, or -1.

    Every line in the range ends with ``\\n``. A window of ``limit`` bytes
    without a newline marks such a line; jumping to just past the last newline
    of each window looks at every byte about once (``rfind`` is a memrchr).
    """
    p = start
    while stop - p > limit:
        q = buf.rfind(b"\n", p, p + limit)
        if q < 0:
            return p
        p = q + 1
    return -1


class _Reader:
    """The state of one ``read_chunks`` call (kept off any long-lived object)."""

    def __init__(self, stream: BinaryIO, chunk_size: int, max_line_bytes: int,
                 buffer: bytearray | None) -> None:
        self.stream = stream
        self.chunk_size = chunk_size
        self.limit = max_line_bytes
        self.max_size = max(chunk_size, max_line_bytes)
        if buffer is None or len(buffer) < chunk_size:
            buffer = bytearray(chunk_size)
        self.buf = buffer
        self.view = memoryview(buffer)
        self.filled = 0  # bytes of valid data at the front of buf
        self.base = 0  # stream offset of buf[0]
        self.line = 1  # number of the line starting at buf[0]
        self.eof = False
        self.error: InputError | None = None

    def fill(self, target: int) -> None:
        """Read until ``target`` bytes are buffered or the stream ends."""
        # readinto1: one raw read per call, so the bytes a decoder delivered before
        # failing are counted here instead of being lost in BufferedReader's loop.
        readinto = getattr(self.stream, "readinto1", None) or self.stream.readinto
        while self.filled < target and not self.eof:
            try:
                n = readinto(self.view[self.filled : target])
            except InputError as e:  # keep what came before; raise after yielding it
                self.error = e
                n = 0
            if not n:
                self.eof = True
            else:
                self.filled += n

    def grow(self, size: int) -> None:
        """A bigger buffer for one long line (rare: lines beyond ``chunk_size``)."""
        if size <= len(self.buf):
            return
        self.view.release()
        new = bytearray(size)
        new[: self.filled] = self.buf[: self.filled]
        self.buf = new
        self.view = memoryview(new)

    def chunk(self, start: int, stop: int, **flags: object) -> Chunk:
        newlines = self.buf.count(b"\n", start, stop)
        c = Chunk(self.view[start:stop], self.line, self.base + start,
                  newlines=newlines, **flags)  # type: ignore[arg-type]
        self.line += newlines
        return c

    def consume(self, upto: int) -> None:
        """Drop ``buf[:upto]``, moving what follows to the front."""
        rest = self.filled - upto
        if rest and upto:
            self.view[:rest] = self.buf[upto : self.filled]
        self.filled = rest
        self.base += upto


def _oversized(r: _Reader, start: int) -> Iterator[Chunk]:
    """Pieces of the oversized line starting at ``buf[start]``, up to and with its ``\\n``."""
    line = r.line
    first = True
    pos = start
    while True:
        nl = r.buf.find(b"\n", pos, r.filled)
        end = r.filled if nl < 0 else nl + 1
        while pos < end:
            stop = min(pos + r.limit, end)
            yield Chunk(r.view[pos:stop], line, r.base + pos, newlines=int(stop == nl + 1),
                        oversized_lines=int(first), partial=True)
            first = False
            pos = stop
        if nl >= 0 or r.eof:
            r.line = line + (nl >= 0)
            r.consume(pos)
            return
        r.consume(pos)
        pos = 0
        r.fill(r.chunk_size)
        if not r.filled:
            return


def read_chunks(stream: BinaryIO, chunk_size: int = CHUNK_SIZE,
                max_line_bytes: int = MAX_LINE_BYTES, *,
                buffer: bytearray | None = None) -> Iterator[Chunk]:
    """Chunks of whole lines from ``stream``; see ``Chunk`` for the exact contract.

    Each chunk holds at most ``chunk_size`` bytes, except that a line longer
    than ``chunk_size`` (up to ``max_line_bytes``) is kept whole in a chunk of
    its own. ``buffer`` lets the engine reuse one bytearray across files. An
    ``InputError`` from the stream (truncated or corrupt archive) is raised
    after the chunks holding every byte read before it.
    """
    if chunk_size < 1 or max_line_bytes < 1:
        raise ValueError("chunk_size and max_line_bytes must be positive")
    r = _Reader(stream, chunk_size, max_line_bytes, buffer)
    try:
        yield from _chunks(r)
    finally:
        r.view.release()


def _chunks(r: _Reader) -> Iterator[Chunk]:
    target = r.chunk_size  # bytes looked at this round; grows only for one long line
    while True:
        r.fill(target)
        end = min(r.filled, target)
        at_end = r.eof and end == r.filled  # the window holds the rest of the stream
        growing = target > r.chunk_size
        # A long line that made the buffer grow is yielded alone, up to its newline.
        nl = r.buf.find(b"\n", 0, end) if growing else r.buf.rfind(b"\n", 0, end)
        complete = nl + 1  # bytes of whole lines at the front
        long_at = _long_line_start(r.buf, 0, complete, r.limit) if complete > r.limit else -1
        if long_at < 0 and end - complete >= r.limit:
            long_at = complete  # the unfinished line at the end is already too long
        if long_at >= 0:
            if long_at > 0:
                yield r.chunk(0, long_at)
                r.consume(long_at)
            yield from _oversized(r, 0)
            target = r.chunk_size
            continue
        if complete and (growing or not at_end or complete == r.filled):
            last = at_end and complete == r.filled
            yield r.chunk(0, complete, final=last)
            r.consume(complete)
            if last:
                break
            target = r.chunk_size
            continue
        if at_end:
            if complete:
                yield r.chunk(0, complete)
                r.consume(complete)
            yield r.chunk(0, r.filled, final=True)
            r.consume(r.filled)
            break
        target = min(2 * target, r.max_size)  # no newline in the window: grow for this line
        r.grow(target)
    if r.error is not None:
        raise r.error
