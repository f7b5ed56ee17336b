"""Open a ``Source``: walk its member chain from the file on disk inwards."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, BinaryIO

from logsleuth.errors import InputError
from logsleuth.sources.archives import archive_kind, open_member
from logsleuth.sources.codecs import READ_SIZE, MeteredStream, decoded, peek, sniff_compression
from logsleuth.sources.remote import is_url, open_url

if TYPE_CHECKING:
    from logsleuth.sources.values import Source

HEAD = 512  # enough for every compression magic and the tar ``ustar`` mark


def open_disk(path: str, fs_path: object) -> BinaryIO:
    """The file on disk (or behind an fsspec URL), or an ``InputError`` naming it."""
    try:
        if is_url(fs_path):
            return open_url(fs_path)  # type: ignore[arg-type]
        return open(fs_path, "rb")  # type: ignore[call-overload, no-any-return]
    except OSError as e:
        raise InputError.at(path, "unreadable", f"cannot open: {e.strerror or e}") from e


def unwrap(stream: BinaryIO, path: str, cap: int) -> tuple[bytes, BinaryIO, str | None]:
    """Peel one compression layer if there is one: (head, content stream, compression)."""
    head, stream = peek(stream, HEAD)
    compression = sniff_compression(head)
    if compression is not None:
        stream = decoded(stream, compression, path, cap)
        head, stream = peek(stream, HEAD)
    return head, stream, compression


def open_source(src: Source) -> BinaryIO:
    cap = src.max_decompressed_bytes
    stream = open_disk(src.path, src.fs_path)
    try:
        for name in src.member:
            head, stream, _ = unwrap(stream, src.path, cap)
            inner, archive = open_member(stream, archive_kind(head), name, src.path)
            metered = MeteredStream(inner, src.path, cap, closers=(archive, stream))
            stream = io.BufferedReader(metered, READ_SIZE)  # type: ignore[assignment]
        return decoded(stream, src.compression, src.path, cap)
    except BaseException:
        stream.close()
        raise
