"""From ``logsleuth scan PATH...`` arguments to the list of text sources to read.

Arguments may be files, directories (walked recursively, sorted, hidden entries
skipped) or globs. Each file is sniffed through its compression and archive
layers down to the first 8 KiB of text; problems become diagnostics or
``Skipped`` entries and the rest of the scan goes on.
"""

from __future__ import annotations

import glob
import io
import os
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from logsleuth.errors import DiagLevel, Diagnostic, InputError, SourceLocation
from logsleuth.sources.archives import (
    ARCHIVE_ERRORS,
    archive_kind,
    clean_name,
    is_hidden,
    iter_members,
    unsafe_reason,
)
from logsleuth.sources.binary import SNIFF_BYTES, binary_reason
from logsleuth.sources.codecs import READ_SIZE, MeteredStream, decoded, peek, sniff_compression
from logsleuth.sources.family import family_of
from logsleuth.sources.opening import open_disk
from logsleuth.sources.remote import expand as expand_url
from logsleuth.sources.remote import is_url, name_of
from logsleuth.sources.remote import stat as stat_url
from logsleuth.sources.values import DEFAULT_CAP, Discovery, Skipped, Source


@dataclass(frozen=True, slots=True)
class _Found:
    fs_path: Path | str  # str: an fsspec URL (sources.remote)
    display: str
    fallback: str  # display used when two arguments yield the same ``display``


def _diag(out: Discovery, path: str, code: str, message: str,
          level: DiagLevel = DiagLevel.ERROR) -> None:
    out.diagnostics.append(Diagnostic(SourceLocation(path), code, message, level))


def walk_files(root: Path) -> Iterator[Path]:
    """Regular files under ``root``, sorted, hidden files and directories left out. Public:
    the watcher finds new files under a root as scan does."""
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if not name.startswith("."):
                yield Path(dirpath) / name


def _glob_root(pattern: str) -> Path:
    """The directory part of ``pattern`` before its first wildcard."""
    parts = Path(pattern).parts
    fixed = [p for p in parts[: next(i for i, p in enumerate(parts) if glob.has_magic(p))]]
    return Path(*fixed) if fixed else Path(".")


def _expand(arg: str, out: Discovery) -> list[_Found]:
    if is_url(arg):
        try:
            return [_Found(url, display, fallback) for url, display, fallback in expand_url(arg)]
        except FileNotFoundError:
            _diag(out, arg, "missing-path", f"{arg} does not exist")
        except OSError as e:
            _diag(out, arg, "unreadable", f"cannot read {arg}: {e}")
        return []
    path = Path(arg)
    if os.path.lexists(path) and path.is_dir():
        found = [_Found(f, f.relative_to(path).as_posix(),
                        (path / f.relative_to(path)).as_posix()) for f in walk_files(path)]
        if not found:
            _diag(out, arg, "empty-directory", f"directory {arg} holds no files to scan",
                  DiagLevel.WARNING)
        return sorted(found, key=lambda f: f.display)
    if os.path.lexists(path):
        return [_Found(path, path.name, path.as_posix())]
    if glob.has_magic(arg):
        root = _glob_root(arg)
        found = []
        for match in sorted(glob.glob(arg, recursive=True)):
            m = Path(match)
            if m.is_dir():
                found.extend(_Found(f, f.relative_to(root).as_posix(), f.as_posix())
                             for f in walk_files(m))
            else:
                found.append(_Found(m, m.relative_to(root).as_posix(), m.as_posix()))
        if not found:
            _diag(out, arg, "glob-no-match", f"no file matches {arg}")
        return sorted(found, key=lambda f: f.display)
    _diag(out, arg, "missing-path", f"{arg} does not exist")
    return []


def discover(paths: Sequence[str | Path], *,
             max_decompressed_bytes: int = DEFAULT_CAP) -> Discovery:
    """Every text source under ``paths``, what was skipped and why, and what went wrong."""
    out = Discovery()
    found: dict[str, _Found] = {}  # by real path: a file named twice is read once
    for arg in paths:
        for f in _expand(str(arg), out):
            key = f.fs_path if isinstance(f.fs_path, str) else os.path.realpath(f.fs_path)
            found.setdefault(key, f)
    counts: dict[str, int] = {}
    for f in found.values():
        counts[f.display] = counts.get(f.display, 0) + 1
    for f in found.values():
        display = f.display if counts[f.display] == 1 else f.fallback
        _examine_file(f.fs_path, display, out, max_decompressed_bytes)
    return out


def _examine_file(fs_path: Path | str, display: str, out: Discovery, cap: int) -> None:
    try:
        if isinstance(fs_path, str):  # a URL: an object store holds only regular files
            size, mtime = stat_url(fs_path)
        else:
            st = os.stat(fs_path)
            size, mtime = st.st_size, st.st_mtime
    except OSError as e:
        _diag(out, display, "unreadable", f"cannot read {display}: {e.strerror or e}")
        return
    if not isinstance(fs_path, str) and not stat.S_ISREG(st.st_mode):
        out.skipped.append(Skipped(display, "not a regular file"))
        return
    try:
        stream = open_disk(display, fs_path)
    except InputError as e:
        out.diagnostics.append(e.diagnostic)
        return
    with stream:
        _Explorer(out, fs_path, cap).explore(stream, display, (), size, on_disk=True,
                                             mtime=mtime)


@dataclass(slots=True)
class _Explorer:
    """Sniffs one file on disk through its layers; lives for that one file."""

    out: Discovery
    fs_path: Path | str
    cap: int

    def explore(self, stream: BinaryIO, display: str, chain: tuple[str, ...], size: int,
                on_disk: bool = False, mtime: float | None = None) -> None:
        try:
            head, stream = peek(stream, SNIFF_BYTES)
            compression = sniff_compression(head)
            if compression is not None:
                stream = decoded(stream, compression, display, self.cap)
                head, stream = peek(stream, SNIFF_BYTES)
        except InputError as e:
            self.out.diagnostics.append(e.diagnostic)
            return
        if not head:
            self.out.skipped.append(Skipped(display, "empty file"))
            return
        kind = archive_kind(head)
        if kind is not None:
            self._archive(stream, kind, display, chain)
            return
        if compression is not None and sniff_compression(head) is not None:
            self.out.skipped.append(Skipped(display, "compressed twice; not supported"))
            return
        reason = binary_reason(head)
        if reason is not None:
            self.out.skipped.append(Skipped(display, reason))
            return
        name = chain[-1] if chain else name_of(self.fs_path)
        self.out.sources.append(Source(
            path=display, fs_path=self.fs_path, member=chain, compression=compression,
            size=size, splittable=on_disk and compression is None,
            family=family_of(name), mtime=mtime, max_decompressed_bytes=self.cap,
        ))

    def _archive(self, stream: BinaryIO, kind: str, display: str,
                 chain: tuple[str, ...]) -> None:
        if kind == "zip" and not stream.seekable():
            self.out.skipped.append(
                Skipped(display, "zip archive inside a compressed stream or another archive")
            )
            return
        names: set[str] = set()
        try:
            for member in iter_members(stream, kind):
                shown = f"{display}!{clean_name(member.name)}"
                bad = unsafe_reason(member.name)
                if bad is not None:
                    _diag(self.out, display, "unsafe-member",
                          f"refused member {member.name!r} of {display}: {bad}")
                    continue
                if is_hidden(member.name):
                    continue
                if member.name in names:
                    _diag(self.out, shown, "duplicate-member",
                          f"{display} holds {member.name!r} more than once; first one kept",
                          DiagLevel.WARNING)
                    continue
                names.add(member.name)
                if member.open is None:
                    self.out.skipped.append(Skipped(shown, member.skip_reason or "skipped"))
                    continue
                inner = MeteredStream(member.open(), shown, self.cap)
                with io.BufferedReader(inner, READ_SIZE) as member_stream:
                    self.explore(member_stream, shown, (*chain, member.name), member.size,
                                 mtime=member.mtime)
        except InputError as e:
            self.out.diagnostics.append(e.diagnostic)
        except ARCHIVE_ERRORS as e:
            _diag(self.out, display, "corrupt-archive", f"cannot read archive {display}: {e}")
