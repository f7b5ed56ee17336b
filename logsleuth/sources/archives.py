"""zip and tar members as streams, never extracted to disk.

zip needs a seekable stream (a file on disk, or a member of a zip on disk);
tar is read in streaming mode when the stream below it is compressed, so a
``.tar.gz`` costs one pass of decompression per pass over it.
"""

from __future__ import annotations

import re
import tarfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import BinaryIO

from logsleuth.errors import InputError

_DRIVE = re.compile(r"^[A-Za-z]:")
ARCHIVE_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, tarfile.TarError, EOFError, OSError)


def archive_kind(head: bytes) -> str | None:
    """``zip`` or ``tar`` when ``head`` (decompressed) opens such an archive."""
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "zip"
    if len(head) >= 263 and head[257:262] == b"ustar":
        return "tar"
    return None


def unsafe_reason(name: str) -> str | None:
    """Why a member name could escape the archive (None when it cannot)."""
    if name.startswith(("/", "\\")):
        return "absolute path"
    if _DRIVE.match(name):
        return "drive letter"
    if ".." in re.split(r"[\\/]", name):
        return "path traversal ('..')"
    return None


def clean_name(name: str) -> str:
    """The member name as displayed: ``./logs//a.log`` becomes ``logs/a.log``."""
    parts = [p for p in name.replace("\\", "/").split("/") if p not in ("", ".")]
    return "/".join(parts)


def is_hidden(name: str) -> bool:
    """Dot files and macOS ``__MACOSX`` resource forks, which hold no logs."""
    return any(p.startswith(".") or p == "__MACOSX" for p in clean_name(name).split("/"))


@dataclass(frozen=True, slots=True)
class Member:
    """One archive entry; ``open`` is valid only until the iteration moves on."""

    name: str
    size: int
    open: Callable[[], BinaryIO] | None  # None when the entry is skipped
    skip_reason: str | None = None
    mtime: float | None = None  # as the archive recorded it (zip: read as UTC)


def iter_members(stream: BinaryIO, kind: str) -> Iterator[Member]:
    """Regular-file entries of a zip or tar, in archive order (directories omitted)."""
    if kind == "zip":
        yield from _zip_members(stream)
    else:
        yield from _tar_members(stream)


def _zip_members(stream: BinaryIO) -> Iterator[Member]:
    with zipfile.ZipFile(stream) as zf:
        for info in zf.infolist():
            if info.is_dir():
                continue
            if info.flag_bits & 0x1:
                yield Member(info.filename, info.compress_size, None, "encrypted zip member")
                continue
            yield Member(info.filename, info.compress_size, _zip_opener(zf, info),
                         mtime=_zip_mtime(info))


def _zip_mtime(info: zipfile.ZipInfo) -> float | None:
    """Zip stores local wall-clock time without a zone; read it as UTC."""
    try:
        return datetime(*info.date_time, tzinfo=UTC).timestamp()
    except ValueError:
        return None


def _zip_opener(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> Callable[[], BinaryIO]:
    return lambda: zf.open(info)  # type: ignore[return-value]


def _tar_open(stream: BinaryIO) -> tarfile.TarFile:
    mode = "r:" if stream.seekable() else "r|"
    return tarfile.open(fileobj=stream, mode=mode)  # type: ignore[call-overload, no-any-return]


def _tar_members(stream: BinaryIO) -> Iterator[Member]:
    with _tar_open(stream) as tf:
        for ti in tf:
            if ti.isdir():
                continue
            if not ti.isfile():
                yield Member(ti.name, ti.size, None, "link or special tar member")
                continue
            yield Member(ti.name, ti.size, _tar_opener(tf, ti), mtime=float(ti.mtime))


def _tar_opener(tf: tarfile.TarFile, ti: tarfile.TarInfo) -> Callable[[], BinaryIO]:
    return lambda: tf.extractfile(ti)  # type: ignore[return-value]


def open_member(stream: BinaryIO, kind: str | None, name: str,
                display: str) -> tuple[BinaryIO, object]:
    """The member ``name`` (first of that name) and the archive object to close after it."""
    if kind is None:
        raise InputError.at(display, "missing-member", f"not an archive, no member {name!r}")
    try:
        if kind == "zip":
            zf = zipfile.ZipFile(stream)
            return zf.open(name), zf  # type: ignore[return-value]
        tf = _tar_open(stream)
        for ti in tf:
            if ti.name == name and ti.isfile():
                member = tf.extractfile(ti)
                if member is not None:
                    return member, tf  # type: ignore[return-value]
        tf.close()
    except KeyError:
        pass
    except ARCHIVE_ERRORS as e:
        raise InputError.at(display, "corrupt-archive", f"cannot read archive: {e}") from e
    raise InputError.at(display, "missing-member", f"archive has no member {name!r}")
