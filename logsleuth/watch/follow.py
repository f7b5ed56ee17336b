"""Following the files ``scan`` would read, as log writers really treat them.

Each file is known by its identity (device and inode) and by a fingerprint of its
first bytes, never by its name: a rename (log4j2/logback rollover, logrotate
``create``) keeps the inode and so the offset; a ``.gz`` appearing later whose
decompressed head matches a file already read continues that file from its offset
(nothing read twice); a file that shrinks, or whose head changed under the same
inode, was truncated (``copytruncate``) and is read from 0 again. Only complete
lines are handed on: the bytes after the last newline stay in the file until the
writer finishes the line. Reads are bounded per poll, so memory is too.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import BinaryIO

from logsleuth.errors import InputError
from logsleuth.sources.codecs import sniff_compression
from logsleuth.sources.discovery import walk_files

FINGERPRINT_BYTES = 1024  # a head this long names a file's content
MIN_MATCH_BYTES = 64  # shorter heads are too weak to say a compressed copy is this file
MAX_READ = 8 * 2**20  # per file and poll: a huge backlog is read over several polls
MAX_GONE = 256  # vanished files remembered for late compressed copies


@dataclass(slots=True)
class Tracked:
    """What is known of one followed file; plain values, so a checkpoint is JSON."""

    key: str  # stable id: the first identity it was seen under
    stream: str  # the record stream it continues (its own key, or the file it is a copy of)
    display: str  # the source name its records carry (its name when first seen)
    path: str  # where it is now on disk ("" once gone)
    ident: str  # "dev:ino" of the file holding it now
    offset: int = 0  # bytes handed on (always at a line end)
    lines: int = 0  # lines handed on
    head: str = ""  # sha1 of the first ``head_len`` bytes
    head_len: int = 0
    compressed: str = ""  # its codec: read once, whole (compressed files are not appended to)
    done: bool = False  # fully read (compressed) or a copy of another file
    truncations: int = 0
    mtime_ns: int = 0  # when it was last seen changed (an inode reused at the same size)
    copy_of: str = ""  # a compressed copy of this file, which is still on disk and read
    size: int = 0  # its size when last seen (a plain file deleted unread says how much)

    def to_json(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Chunk:
    """Complete lines newly read from one followed file."""

    stream: str  # one parser per stream: a rolled file's copy continues its records
    display: str
    data: bytes
    first_line: int
    restarted: bool = False  # the file was truncated: its record stream starts over
    final: bool = False  # nothing more will come for this key (a compressed file)
    fs_path: str = ""  # the file read, on disk


def _on_disk(t: Tracked) -> bool:
    """The file is still where it was last seen (not deleted since, not replaced)."""
    try:
        return bool(t.path) and _ident(os.stat(t.path)) == t.ident
    except OSError:
        return False


def _sha(data: bytes) -> str:
    return hashlib.sha1(data, usedforsecurity=False).hexdigest()


def _ident(st: os.stat_result) -> str:
    return f"{st.st_dev}:{st.st_ino}"


def _line_end(data: bytes) -> int:
    """Where the complete lines of ``data`` end; a line longer than a whole read is handed
    on as it is (the parser counts it as an oversized line), never waited for forever."""
    cut = data.rfind(b"\n") + 1
    return len(data) if cut == 0 and len(data) >= MAX_READ else cut


def _same_head(t: Tracked, f: BinaryIO) -> bool:
    """The open file still starts with the bytes ``t`` was read from."""
    if not t.head_len:
        return True
    f.seek(0)
    return _sha(f.read(t.head_len)) == t.head


def _continues(t: Tracked, path: str) -> bool:
    """The file now at ``path`` under ``t``'s inode is ``t`` renamed, not a new file in a
    reused inode (a deleted file's number is handed to the next file created: a rolled
    archive, seen in live runs). A rename keeps the content, so the head still matches."""
    try:
        with _open_as(path, t.ident) as f:
            magic = f.read(8)
            if (sniff_compression(magic) or "") != t.compressed:
                return False
            return bool(t.compressed) or _same_head(t, f)
    except OSError:
        return True  # gone again or moved: the next poll decides


class Moved(OSError):
    """The name now holds another file than the one stat'ed (renamed in between)."""


def _open_as(path: str, ident: str) -> BinaryIO:
    """``path`` opened, if it still is the file ``ident`` names.

    Everything read of a file goes through one descriptor checked this way: a writer
    rolls a file between our stat and our open (log4j2 renames ``app.log`` and creates
    a new one), and reading the name then read the new file as the old one's rest: its
    head "changed", so the old file was taken as truncated and its last lines were never
    read (9-119 records of ~14,600 lost in live runs, tests/watch/test_live_jvm.py).
    """
    f = open(path, "rb")  # noqa: SIM115 - returned to the caller, who closes it
    if _ident(os.fstat(f.fileno())) != ident:
        f.close()
        raise Moved(path)
    return f


def _decoded(raw: BinaryIO, path: str, compression: str | None) -> BinaryIO:
    """A binary stream of a file's decompressed content."""
    from logsleuth.sources.codecs import decoded

    if compression is None:
        return raw
    return decoded(raw, compression, path, 20 * 2**30)


@dataclass
class Follower:
    """The followed file set under ``paths`` (files, directories, globs)."""

    paths: Sequence[str]
    files: dict[str, Tracked] = field(default_factory=dict)  # by key
    gone: list[Tracked] = field(default_factory=list)
    backlog: bool = False  # the last poll left bytes unread (``MAX_READ``): poll again now
    exclude: frozenset[str] = frozenset()  # absolute paths never read (the watcher's outputs)
    # files that vanished before they were read to their end, and when: lost unless a
    # compressed copy of them turns up (``lost`` says them once the grace is over)
    unread: dict[str, tuple[Tracked, float]] = field(default_factory=dict)
    # compressed files being read in pieces: their open decoders, and a cut line's rest
    _decoders: dict[str, object] = field(default_factory=dict, repr=False)
    _decoded_tail: dict[str, bytes] = field(default_factory=dict, repr=False)

    # -- the file set ---------------------------------------------------------
    def listing(self) -> list[tuple[Path, str]]:
        """(file on disk, display name) of every regular, non-hidden file watched; a file
        named twice is listed twice (``poll`` keeps one per identity)."""
        import glob

        out: list[tuple[Path, str]] = []
        for arg in self.paths:
            p = Path(arg)
            if p.is_dir():
                out.extend((f, f.relative_to(p).as_posix()) for f in walk_files(p))
            elif p.exists():
                out.append((p, p.name))
            elif glob.has_magic(arg):
                out.extend((Path(m), Path(m).name) for m in sorted(glob.glob(arg, recursive=True))
                           if Path(m).is_file())
        if self.exclude:
            out = [(f, name) for f, name in out if os.path.abspath(f) not in self.exclude]
        return out

    # -- one poll -------------------------------------------------------------
    def poll(self) -> list[Chunk]:
        """New complete lines of every file, and the files that appeared."""
        by_ident = {t.ident: t for t in self.files.values() if t.path}
        seen: set[str] = set()
        chunks: list[Chunk] = []
        self.backlog = False
        for path, display in self.listing():
            try:
                st = os.stat(path)
                ident = _ident(st)
                if ident in seen:
                    continue
                seen.add(ident)
                t = by_ident.get(ident)
                if t is not None and t.path != str(path) and not _continues(t, str(path)):
                    self._vanished(t)  # its inode now holds a new file of another name
                    t = None
                if t is None:
                    with _open_as(str(path), ident) as f:
                        magic = f.read(8)
                    if not magic:
                        continue  # created, nothing written yet
                    t = self._new_file(str(path), display, ident, sniff_compression(magic))
            except Moved:
                self.backlog = True  # renamed under us: look again at once
                continue
            except OSError:
                continue  # rotated away between listing and reading: next poll
            if t is None:
                continue
            t.path = str(path)
            if not t.compressed:
                t.size = st.st_size
            if t.done or (t.copy_of and self._copy_waits(t)):
                continue
            if st.st_size == t.offset and st.st_mtime_ns == t.mtime_ns and not t.compressed:
                continue  # unchanged: no read at all
            t.mtime_ns = st.st_mtime_ns
            chunks.extend(self._read(t, st.st_size))
        for t in self.files.values():
            if t.path and t.ident not in seen:  # deleted (or renamed outside the set)
                self._vanished(t)
        self._forget()
        return chunks

    def _vanished(self, t: Tracked) -> None:
        """``t`` is no longer on disk; its unread rest is lost unless a copy continues it."""
        copied = any(c.compressed and c.stream == t.stream and c.key.startswith(f"{t.key}>")
                     for c in self.files.values())  # seen in this poll, before the loss
        if not t.compressed and t.size > t.offset and not copied:
            self.unread[t.key] = (replace(t), time.monotonic())
        t.path = ""

    def lost(self, grace: float) -> list[Tracked]:
        """Files deleted (or moved out of the set) before they were read to their end, and
        for ``grace`` seconds no compressed copy continued them: their unread bytes
        (``size - offset``, at least) are lost; each is returned once."""
        now = time.monotonic()
        out = [t for t, since in self.unread.values() if now - since >= grace]
        for t in out:
            del self.unread[t.key]
        return out

    def _new_file(self, path: str, display: str, ident: str,
                  compression: str | None) -> Tracked | None:
        try:
            with _decoded(_open_as(path, ident), path, compression) as f:
                head = f.read(FINGERPRINT_BYTES)
        except Moved:
            self.backlog = True
            return None
        except (InputError, OSError, EOFError):  # a compressed file still being written
            return None
        if compression is not None:
            twin = self._twin(head)
            if twin is not None:  # a rolled file compressed after we read it
                self.unread.pop(twin.key, None)
                key = f"{twin.key}>{ident}"
                self.files[key] = Tracked(key, twin.stream, twin.display, path, ident,
                                          twin.offset, twin.lines, twin.head, twin.head_len,
                                          compression,
                                          copy_of=twin.key if _on_disk(twin) else "")
                return self.files[key]
        elif len(head) >= MIN_MATCH_BYTES:
            twin = self._twin(head)
            if twin is not None and (not twin.path or self._changed(twin)):
                # copied away (logrotate copy, copytruncate): the copy continues the file
                self.unread.pop(twin.key, None)
                key = f"{twin.key}>{ident}"
                self.files[key] = Tracked(key, twin.stream, twin.display, path, ident,
                                          twin.offset, twin.lines, twin.head, twin.head_len)
                return self.files[key]
        key = ident
        while key in self.files or any(g.key == key for g in self.gone):  # inode reused
            key += "+"
        # records carry the name the file had when first seen (a rolled generation
        # shares its name with the next: the family stays one log)
        t = Tracked(key, key, display, path, ident, compressed=compression or "")
        self.files[key] = t
        return t

    def _copy_waits(self, t: Tracked) -> bool:
        """A compressed copy waits while the plain file it copies is on disk: that one is
        read to its end (reading both handed the same bytes on twice when a loaded
        watcher was still behind at the roll), then the copy continues where it stopped."""
        twin = self.files.get(t.copy_of)
        if twin is not None and twin.stream == t.stream and _on_disk(twin):
            return True  # (a twin whose stream started over is another file in its inode)
        # where the copied stream was left: a twin truncated since has a new stream under
        # the same key, whose offset says nothing of the copy
        same = [g for g in [*([twin] if twin else []), *self.gone]
                if g.key == t.copy_of and g.stream == t.stream]
        end = max(same, key=lambda g: g.offset, default=None)
        if end is not None and end.offset > t.offset:
            t.offset, t.lines = end.offset, end.lines
        t.copy_of = ""
        return False

    def _twin(self, head: bytes) -> Tracked | None:
        """A file already read whose first bytes are ``head``'s."""
        for t in [*self.files.values(), *self.gone]:
            if (t.head_len >= MIN_MATCH_BYTES and len(head) >= t.head_len
                    and t.offset and _sha(head[: t.head_len]) == t.head):
                return t
        return None

    def _read(self, t: Tracked, size: int) -> list[Chunk]:
        if t.compressed:
            data = self._read_compressed(t)
            return [] if data is None else self._hand_on(t, data, False)
        try:
            with _open_as(t.path, t.ident) as f:
                size = os.fstat(f.fileno()).st_size  # the descriptor's, not the name's
                restarted = False
                if size < t.offset or not _same_head(t, f):
                    # truncated: what was read stays known (a copy of it may appear), and
                    # the file's new content is a new record stream
                    self.gone.append(replace(t, path=""))
                    t.truncations += 1
                    t.stream = f"{t.key}~{t.truncations}"
                    t.offset, t.lines, t.head, t.head_len = 0, 0, "", 0
                    restarted = True
                if size == t.offset:
                    return []
                f.seek(t.offset)
                data = f.read(MAX_READ)
                self.backlog |= len(data) >= MAX_READ
                data = data[: _line_end(data)]  # a half-written line waits in the file
                if data and t.head_len < FINGERPRINT_BYTES and t.offset < FINGERPRINT_BYTES:
                    f.seek(0)
                    joined = f.read(min(FINGERPRINT_BYTES, t.offset + len(data)))
                    t.head, t.head_len = _sha(joined), len(joined)
        except Moved:
            self.backlog = True  # renamed between stat and open: look again at once
            return []
        except OSError:  # rotated away between stat and open: next poll
            return []
        return self._hand_on(t, data, restarted)

    @staticmethod
    def _hand_on(t: Tracked, data: bytes, restarted: bool) -> list[Chunk]:
        """``data`` (complete lines at ``t.offset``) as a chunk; the offset moves past it."""
        if not data:
            return [Chunk(t.stream, t.display, b"", t.lines + 1, restarted, t.done, t.path)] \
                if restarted or t.done else []
        if t.compressed and not t.head_len and t.offset == 0:  # read from its start
            joined = data[:FINGERPRINT_BYTES]
            t.head, t.head_len = _sha(joined), len(joined)
        chunk = Chunk(t.stream, t.display, data, t.lines + 1, restarted, t.done, t.path)
        t.offset += len(data)
        t.lines += data.count(b"\n")
        return [chunk]

    def _read_compressed(self, t: Tracked) -> bytes | None:
        """The next ``MAX_READ`` bytes of a compressed file, cut at a line end; its decoder
        stays open between polls (a large archive is read in bounded pieces). None: not
        readable yet (still being written), try again."""
        f = self._decoders.get(t.key)
        try:
            if f is None:
                f = _decoded(_open_as(t.path, t.ident), t.path, t.compressed)
                left = t.offset  # skip what was read before (as a plain file, or earlier)
                while left > 0:
                    got = f.read(min(left, 2**20))  # type: ignore[attr-defined]
                    if not got:
                        break
                    left -= len(got)
                self._decoders[t.key] = f
            tail = self._decoded_tail.pop(t.key, b"")
            want = max(MAX_READ - len(tail), 1)
            got = f.read(want)  # type: ignore[attr-defined]
            data = tail + got
        except (InputError, OSError, EOFError):  # a half-written archive: from scratch later
            self._close(t.key)
            return None
        if len(got) == want:  # more to come
            cut = _line_end(data)
            self._decoded_tail[t.key] = data[cut:]
            self.backlog = True
            return data[:cut]
        self._close(t.key)
        t.done = True
        if data and not data.endswith(b"\n"):
            data += b"\n"  # the writer is gone: its last line is complete
        return data

    def _close(self, key: str) -> None:
        f = self._decoders.pop(key, None)
        self._decoded_tail.pop(key, None)
        if f is not None:
            f.close()  # type: ignore[attr-defined]

    @staticmethod
    def _changed(t: Tracked) -> bool:
        """The file no longer holds what was read of it (truncated, rewritten, or another
        file now has its name)."""
        try:
            with _open_as(t.path, t.ident) as f:
                return os.fstat(f.fileno()).st_size < t.offset or not _same_head(t, f)
        except OSError:
            return True

    def _forget(self) -> None:
        """Gone files leave the live set; a few stay known for late compressed copies."""
        for key in [k for k, t in self.files.items() if not t.path]:
            self.gone.append(self.files.pop(key))
        del self.gone[:-MAX_GONE]

    # -- checkpoint -----------------------------------------------------------
    def to_json(self) -> dict[str, object]:
        return {"files": [t.to_json() for t in self.files.values()],
                "gone": [t.to_json() for t in self.gone],
                "unread": [t.to_json() for t, _ in self.unread.values()]}

    def restore(self, data: dict[str, list[dict[str, object]]]) -> None:
        self.files = {str(d["key"]): Tracked(**d) for d in data.get("files", [])}  # type: ignore[arg-type]
        self.gone = [Tracked(**d) for d in data.get("gone", [])]  # type: ignore[arg-type]
        now = time.monotonic()  # a pending loss waits its grace again
        self.unread = {str(d["key"]): (Tracked(**d), now)  # type: ignore[arg-type]
                       for d in data.get("unread", [])}
