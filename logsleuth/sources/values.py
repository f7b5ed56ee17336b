"""What discovery hands to the engine: sources, skipped files, chunks."""

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
    ``ticket.zip!logs/app.log.gz``); ``fs_path`` is the file on disk holding it;
    ``member`` the chain of member names from that file inwards; ``compression``
    the codec of the final content (after leaving the last archive); ``size`` the
    on-disk bytes (for members: their stored size inside the archive).
    ``splittable`` is True only for plain, uncompressed regular files, whose byte
    ranges the engine may read in parallel from ``fs_path``.
    """

    path: str
    fs_path: Path
    member: tuple[str, ...] = ()
    compression: str | None = None
    size: int = 0
    splittable: bool = False
    family: str = ""
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


@dataclass(frozen=True, slots=True)
class Chunk:
    """A slice of a decompressed stream, normally whole lines.

    ``data`` is a view into a buffer that ``read_chunks`` reuses: consume it (or
    copy it) before asking for the next chunk. ``first_line`` is the 1-based
    number of the line that starts ``data``; ``offset`` its byte offset in the
    decompressed stream; ``newlines`` how many ``\\n`` bytes ``data`` holds.

    Oversized lines (``max_line_bytes`` or more bytes before their ``\\n`` or the
    end of the stream) are never held whole: they come as one or more chunks of at most
    ``max_line_bytes`` bytes with ``partial=True`` and ``first_line`` set to that
    line's number. The first piece has ``oversized_lines == 1`` (count the line
    as unparsed there, once); the following pieces have 0. The last piece ends
    with the line's ``\\n``; the next chunk starts at the following line.
    Concatenating every ``data`` in order always gives back the whole stream.
    ``final`` marks the last chunk; it may be empty when the stream ended
    exactly at a chunk boundary (an empty stream yields one empty final chunk).
    """

    data: memoryview | bytes
    first_line: int
    offset: int
    final: bool = False
    newlines: int = 0
    oversized_lines: int = 0
    partial: bool = False
