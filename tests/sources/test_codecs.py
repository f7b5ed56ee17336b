"""Decompression by magic bytes: every codec, concatenated streams, truncation, the cap."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
from pathlib import Path

import pytest
import zstandard

from logsleuth.errors import InputError
from logsleuth.sources import discover
from logsleuth.sources.codecs import DecodedStream, sniff_compression

COMPRESSORS = {
    "gz": gzip.compress,
    "bz2": bz2.compress,
    "xz": lzma.compress,
    "zst": lambda data: zstandard.ZstdCompressor(level=3).compress(data),
}


def read_all(path: Path, **kw: int) -> bytes:
    (src,) = discover([path], **kw).sources
    with src.open() as f:
        return f.read()


@pytest.mark.parametrize("codec", sorted(COMPRESSORS))
def test_each_codec_round_trips(tmp_path: Path, app_log: bytes, codec: str) -> None:
    p = tmp_path / f"app.log.{codec}"
    p.write_bytes(COMPRESSORS[codec](app_log))
    (src,) = discover([p]).sources
    assert src.compression == codec
    assert not src.splittable
    assert src.size == p.stat().st_size
    with src.open() as f:
        assert f.read() == app_log


@pytest.mark.parametrize("codec", sorted(COMPRESSORS))
def test_concatenated_members_are_all_read(tmp_path: Path, app_log: bytes, codec: str) -> None:
    # gzip -c a >> x; pbzip2, xz and zstd write such concatenations too.
    parts = [app_log[:10_000], app_log[10_000:50_000], app_log[50_000:]]
    p = tmp_path / f"multi.{codec}"
    p.write_bytes(b"".join(COMPRESSORS[codec](part) for part in parts))
    assert read_all(p) == app_log


def test_detected_by_magic_not_suffix(tmp_path: Path, app_log: bytes) -> None:
    gz = tmp_path / "app.log"  # gzip content under a plain name
    gz.write_bytes(gzip.compress(app_log))
    plain = tmp_path / "notes.gz"  # plain text under a .gz name
    plain.write_bytes(app_log)
    by_path = {s.path: s for s in discover([tmp_path]).sources}
    assert by_path["app.log"].compression == "gz"
    assert by_path["notes.gz"].compression is None
    assert by_path["notes.gz"].splittable
    with by_path["app.log"].open() as f:
        assert f.read() == app_log


def test_sniff_compression_magics() -> None:
    assert sniff_compression(b"\x1f\x8b\x08\x00") == "gz"
    assert sniff_compression(b"BZh91AY&SY") == "bz2"
    assert sniff_compression(b"BZhello") is None  # 'BZh' must be followed by a block size
    assert sniff_compression(b"\xfd7zXZ\x00\x00") == "xz"
    assert sniff_compression(b"\x28\xb5\x2f\xfd\x04") == "zst"
    assert sniff_compression(b"2026-11-26 10:00:00") is None


def _read_until_error(path: Path) -> tuple[bytes, InputError]:
    (src,) = discover([path]).sources
    got = bytearray()
    with src.open() as f, pytest.raises(InputError) as info:
        while True:
            piece = f.read1(65536)
            if not piece:
                break
            got += piece
    return bytes(got), info.value


@pytest.mark.parametrize("codec", sorted(COMPRESSORS))
def test_truncated_stream_names_path_and_bytes_read(tmp_path: Path, app_log: bytes,
                                                    codec: str) -> None:
    whole = COMPRESSORS[codec](app_log * 4)
    p = tmp_path / f"app.log.{codec}"
    p.write_bytes(whole[: len(whole) * 2 // 3])
    got, err = _read_until_error(p)
    d = err.diagnostic
    assert d.code == "truncated-archive"
    assert d.location.path == p.name
    assert f"{len(got)} decompressed bytes read" in d.message
    # Everything decoded before the failure was delivered, and it is a true prefix.
    assert 0 < len(got) < len(app_log) * 4
    assert (app_log * 4).startswith(got)


def test_corrupt_gzip_keeps_the_good_prefix(tmp_path: Path, app_log: bytes) -> None:
    whole = app_log * 20
    data = bytearray(gzip.compress(whole))
    assert len(data) > 400_000  # several 64 KiB input pieces before the damage
    data[300_000:300_064] = b"\x00" * 64
    p = tmp_path / "app.log.gz"
    p.write_bytes(bytes(data))
    got, err = _read_until_error(p)
    assert err.diagnostic.code == "corrupt-archive"
    # Deflate cannot tell damage at once (the CRC at the end does), so what came
    # out is right at least up to about where the damage sits.
    good = int(300_000 / len(data) * len(whole) * 0.8)
    assert len(got) > good and got[:good] == whole[:good]
    assert f"{len(got)} decompressed bytes read" in err.diagnostic.message
    assert err.diagnostic.render().startswith("app.log.gz: error[corrupt-archive]: ")


def test_zero_padding_after_gzip_is_accepted(tmp_path: Path, app_log: bytes) -> None:
    p = tmp_path / "padded.log.gz"
    p.write_bytes(gzip.compress(app_log) + b"\x00" * 4096)
    assert read_all(p) == app_log


def test_xz_stream_padding_between_streams(tmp_path: Path, app_log: bytes) -> None:
    p = tmp_path / "padded.log.xz"
    p.write_bytes(lzma.compress(app_log[:7000]) + b"\x00" * 8 + lzma.compress(app_log[7000:]))
    assert read_all(p) == app_log


def test_trailing_garbage_is_corrupt(tmp_path: Path, app_log: bytes) -> None:
    p = tmp_path / "junk.log.gz"
    p.write_bytes(gzip.compress(app_log) + b"\x00\x00garbage")
    got, err = _read_until_error(p)
    assert got == app_log
    assert err.diagnostic.code == "corrupt-archive"


def test_decompressed_size_cap(tmp_path: Path, app_log: bytes) -> None:
    p = tmp_path / "bomb.log.gz"
    p.write_bytes(gzip.compress(app_log))
    cap = len(app_log) // 3
    (src,) = discover([p], max_decompressed_bytes=cap).sources
    got = bytearray()
    with src.open() as f, pytest.raises(InputError) as info:
        while piece := f.read1(10_000):
            got += piece
    assert info.value.diagnostic.code == "decompressed-size-cap"
    assert info.value.diagnostic.location.path == "bomb.log.gz"
    assert bytes(got) == app_log[:cap]  # exactly the cap came out, then the error


def test_cap_not_hit_at_exact_size(tmp_path: Path, app_log: bytes) -> None:
    p = tmp_path / "exact.log.zst"
    p.write_bytes(COMPRESSORS["zst"](app_log))
    assert read_all(p, max_decompressed_bytes=len(app_log)) == app_log


def test_decoded_stream_reads_into_caller_buffer(app_log: bytes) -> None:
    raw = io.BytesIO(lzma.compress(app_log))
    stream = DecodedStream(raw, "xz", "x.xz", cap=2**40)
    buf = bytearray(1000)
    out = bytearray()
    while n := stream.readinto(buf):
        out += buf[:n]
    assert bytes(out) == app_log
