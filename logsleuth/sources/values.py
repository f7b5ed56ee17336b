"""What discovery hands to the engine: sources and skipped files."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from logsleuth.errors import Diagnostic

DEFAULT_CAP = 20 * 2**30


@dataclass(frozen=True, slots=True)
class Source:
    """One readable text input: a file, or a member (chain) inside archives.

    ``path`` is for display (relative to the scan root, archive members as
    ``ticket.zip!logs/app.log.gz``); ``fs_path`` is the file on disk holding it
    (or, as a string, the fsspec URL of the object holding it: ``sources.remote``);
    ``member`` the chain of member names from that file inwards; ``compression``
    the codec of the final content (after leaving the last archive); ``size`` the
    on-disk bytes (for members: their stored size inside the archive).
    ``splittable`` is True only for plain, uncompressed regular files, whose byte
    ranges the engine may read in parallel from ``fs_path``.
    """

    path: str
    fs_path: Path | str
    member: tuple[str, ...] = ()
    compression: str | None = None
    size: int = 0
    splittable: bool = False
    family: str = ""
    # seconds since the epoch the content was last modified (file, or archive member)
    mtime: float | None = field(default=None, compare=False)
    max_decompressed_bytes: int = field(default=DEFAULT_CAP, compare=False)

    def open(self) -> BinaryIO:
        """A readable binary stream of the decompressed content; close it when done.

        Decompression failures surface as ``InputError`` on read, after all the
        data decoded before them (codes ``truncated-archive``, ``corrupt-archive``,
        ``decompressed-size-cap``).
        """
        from logsleuth.sources.opening import open_source

        return open_source(self)


@dataclass(frozen=True, slots=True)
class Skipped:
    """A file or member left out of the scan on purpose, and why."""

    path: str
    reason: str


@dataclass(slots=True)
class Discovery:
    """Everything ``discover`` found: what to scan, what it left out, what went wrong."""

    sources: list[Source] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
