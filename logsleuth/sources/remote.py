"""Inputs named by fsspec URLs (``s3://bucket/logs/``, ``gs://…``, ``file:///…``).

A URL travels inside ``Source.fs_path`` as a string, so a Dask worker opens the
object itself and needs no shared filesystem: only the protocol's package
(``s3fs``, ``gcsfs``) and credentials. Options come as fsspec takes them, for
example ``FSSPEC_S3_ENDPOINT_URL`` for an S3-compatible server.
"""

from __future__ import annotations

import posixpath
import re
from typing import Any, BinaryIO

_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]+://")


def is_url(name: object) -> bool:
    """True for ``proto://...`` (two letters or more: ``C://`` is no protocol)."""
    return isinstance(name, str) and _URL.match(name) is not None


def _fs(url: str) -> tuple[Any, str]:
    try:
        import fsspec
    except ImportError as e:  # pragma: no cover - fsspec comes with dask
        raise OSError(f"reading {url} needs fsspec (pip install fsspec and the protocol's "
                      "package, e.g. s3fs)") from e
    try:
        return fsspec.core.url_to_fs(url)
    except (ImportError, ValueError) as e:
        raise OSError(f"cannot read {url}: {e}") from e


def expand(url: str) -> list[tuple[str, str, str]]:
    """(url, display, fallback) of every file at ``url``: the object, or all under a prefix.

    Sorted; hidden names (a path part starting with ``.``) left out, as for directories.
    Raises ``FileNotFoundError`` when nothing is there.
    """
    fs, root = _fs(url)
    root = root.rstrip("/")
    if fs.isdir(root):
        found = []
        for key in sorted(fs.find(root)):
            rel = posixpath.relpath(key, root)
            if any(part.startswith(".") for part in rel.split("/")):
                continue
            full = fs.unstrip_protocol(key)
            found.append((full, rel, full))
        return found
    if not fs.isfile(root):
        raise FileNotFoundError(url)
    return [(fs.unstrip_protocol(root), posixpath.basename(root), url)]


def stat(url: str) -> tuple[int, float | None]:
    """(size, mtime or None) of one object."""
    fs, path = _fs(url)
    info = fs.info(path)
    mtime = info.get("LastModified") or info.get("mtime") or info.get("updated")
    stamp = getattr(mtime, "timestamp", None)
    return int(info.get("size") or 0), (stamp() if callable(stamp)
                                         else float(mtime) if isinstance(mtime, int | float)
                                         else None)


def open_url(url: str) -> BinaryIO:
    """A seekable binary stream of the object (byte ranges are fetched as read)."""
    fs, path = _fs(url)
    return fs.open(path, "rb")  # type: ignore[no-any-return]


def name_of(fs_path: object) -> str:
    """The file name of a local path or a URL."""
    return posixpath.basename(fs_path) if isinstance(fs_path, str) else fs_path.name  # type: ignore[attr-defined]
