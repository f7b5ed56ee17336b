"""Whole-line chunks: exact bytes, exact line numbers, long lines, failures, reuse."""

from __future__ import annotations

import gzip
import io
import random
from pathlib import Path

import pytest

from logsleuth.errors import InputError
from logsleuth.sources import Chunk, discover, read_chunks


def _collect(stream: io.BufferedIOBase, **kw: int) -> list[Chunk]:
    """Chunks with their data copied (the reader reuses its buffer)."""
    return [Chunk(bytes(c.data), c.first_line, c.offset, c.final, c.newlines,
                  c.oversized_lines, c.partial) for c in read_chunks(stream, **kw)]


def _check_whole_lines(data: bytes, chunks: list[Chunk]) -> None:
    """Concatenation, offsets, line numbers and line ends, checked against ``data``."""
    assert b"".join(c.data for c in chunks) == data  # type: ignore[misc]
    line_starts = [0] + [i + 1 for i, b in enumerate(data) if b == 0x0A]
    offset = 0
    for c in chunks:
        assert c.offset == offset
        if not c.partial and c.data:
            # first_line names the line that starts at this offset
            assert line_starts[c.first_line - 1] == c.offset
        assert c.newlines == bytes(c.data).count(b"\n")
        offset += len(c.data)
    assert [c.final for c in chunks] == [False] * (len(chunks) - 1) + [True]
    for c in chunks[:-1]:
        assert c.partial or c.data.endswith(b"\n")  # type: ignore[union-attr]


@pytest.mark.parametrize("chunk_size", [1, 7, 100, 1000, 4096, 65536, 1 << 20])
def test_chunks_reassemble_exactly(app_log: bytes, chunk_size: int) -> None:
    chunks = _collect(io.BytesIO(app_log), chunk_size=chunk_size, max_line_bytes=1 << 20)
    _check_whole_lines(app_log, chunks)
    assert all(c.oversized_lines == 0 and not c.partial for c in chunks)
    if chunk_size >= 4096:
        assert all(len(c.data) <= chunk_size for c in chunks)


def test_last_line_without_newline(app_log: bytes) -> None:
    data = app_log + b"2026-11-26 23:59:59.999 INFO  [main] c.e.Boot - shutting down"
    chunks = _collect(io.BytesIO(data), chunk_size=5000)
    _check_whole_lines(data, chunks)
    assert chunks[-1].data.endswith(b"shutting down")  # type: ignore[union-attr]
    assert chunks[-1].first_line == app_log.count(b"\n") + 1


def test_empty_stream_yields_one_final_empty_chunk() -> None:
    assert _collect(io.BytesIO(b"")) == [Chunk(b"", 1, 0, True)]


def test_stream_ending_at_chunk_boundary() -> None:
    data = b"0123456789\n" * 10  # 110 bytes
    chunks = _collect(io.BytesIO(data), chunk_size=110)
    _check_whole_lines(data, chunks)


def test_line_longer_than_chunk_but_within_limit_stays_whole(app_log: bytes) -> None:
    long_line = b"2026-11-26 10:00:00.000 WARN [main] c.e.Dump - " + b"x" * 20_000 + b"\n"
    head = app_log[:3000].rsplit(b"\n", 1)[0] + b"\n"
    data = head + long_line + head
    chunks = _collect(io.BytesIO(data), chunk_size=1024, max_line_bytes=64_000)
    _check_whole_lines(data, chunks)
    assert any(bytes(c.data) == long_line for c in chunks)
    assert not any(c.partial for c in chunks)


@pytest.mark.parametrize("chunk_size", [1000, 4096, 100_000])
def test_oversized_line_is_cut_and_counted(app_log: bytes, chunk_size: int) -> None:
    head = app_log[:5000].rsplit(b"\n", 1)[0] + b"\n"
    long_line = b"{\"payload\":\"" + b"A" * 50_000 + b"\"}\n"
    data = head + long_line + head + long_line[:-1]  # the last one has no newline
    limit = 8192
    chunks = _collect(io.BytesIO(data), chunk_size=chunk_size, max_line_bytes=limit)
    _check_whole_lines(data, chunks)
    line_of_first = head.count(b"\n") + 1
    line_of_second = line_of_first + 1 + head.count(b"\n")
    pieces = [c for c in chunks if c.partial]
    assert all(len(c.data) <= limit for c in pieces)
    starts = [c for c in chunks if c.oversized_lines]
    assert [(c.first_line, c.oversized_lines) for c in starts] == [
        (line_of_first, 1), (line_of_second, 1)
    ]
    assert {c.first_line for c in pieces} == {line_of_first, line_of_second}
    # no non-partial chunk holds a line longer than the limit
    for c in chunks:
        if not c.partial:
            assert all(len(x) < limit for x in bytes(c.data).split(b"\n"))


def test_fifty_megabyte_line_without_newline_stays_bounded() -> None:
    data = b"Z" * (50 * 2**20)
    buf = bytearray(1 << 20)
    total = 0
    starts = 0
    for c in read_chunks(io.BytesIO(data), chunk_size=1 << 20, max_line_bytes=1 << 20,
                         buffer=buf):
        assert c.data.obj is buf  # type: ignore[union-attr]  # every piece in the one buffer
        assert len(c.data) <= 1 << 20
        total += len(c.data)
        starts += c.oversized_lines
    assert total == len(data) and starts == 1


def test_buffer_is_reused_across_chunks(app_log: bytes) -> None:
    buf = bytearray(8192)
    owners = {id(c.data.obj) for c in read_chunks(io.BytesIO(app_log), chunk_size=8192,  # type: ignore[union-attr]
                                                  buffer=buf)}
    assert owners == {id(buf)}


def test_compressed_source_chunks(tmp_path: Path, app_log: bytes) -> None:
    p = tmp_path / "app.log.gz"
    p.write_bytes(gzip.compress(app_log))
    (src,) = discover([p]).sources
    with src.open() as f:
        chunks = _collect(f, chunk_size=10_000)
    _check_whole_lines(app_log, chunks)


def test_truncated_source_yields_what_it_read_then_raises(tmp_path: Path,
                                                          app_log: bytes) -> None:
    big = app_log * 10
    whole = gzip.compress(big)
    p = tmp_path / "app.log.gz"
    p.write_bytes(whole[: len(whole) // 2])
    (src,) = discover([p]).sources
    got: list[Chunk] = []
    with src.open() as f, pytest.raises(InputError) as info:
        for c in read_chunks(f, chunk_size=50_000):
            got.append(Chunk(bytes(c.data), c.first_line, c.offset, c.final))
    data = b"".join(c.data for c in got)  # type: ignore[misc]
    assert info.value.diagnostic.code == "truncated-archive"
    assert f"; {len(data)} decompressed bytes read" in info.value.diagnostic.message
    assert big.startswith(data) and got[-1].final


def test_random_line_lengths_against_a_line_split() -> None:
    """Many seeded layouts: oversized lines are exactly those the split says are long."""
    rng = random.Random(20261126)
    for _ in range(300):
        lengths = [rng.choice([0, 1, 5, 40, 80, rng.randint(100, 3000)])
                   for _ in range(rng.randint(0, 60))]
        data = b"".join(b"x" * n + b"\n" for n in lengths)
        if rng.random() < 0.5:
            data += b"y" * rng.randint(1, 2000)  # an unterminated last line
        chunk_size = rng.randint(1, 1500)
        limit = rng.randint(1, 1500)
        chunks = _collect(io.BytesIO(data), chunk_size=chunk_size, max_line_bytes=limit)
        _check_whole_lines(data, chunks)
        lines = data.split(b"\n")
        if data.endswith(b"\n"):
            lines.pop()
        expected = [i + 1 for i, line in enumerate(lines) if len(line) >= limit]
        assert [c.first_line for c in chunks if c.oversized_lines] == expected
        for c in chunks:
            if c.partial:
                assert len(c.data) <= limit
            else:
                assert all(len(x) < limit for x in bytes(c.data).split(b"\n"))
                if c.newlines > 1:  # several lines: the chunk_size bound holds
                    assert len(c.data) <= chunk_size
