"""Following real files as writers and logrotate treat them: each edge case on disk."""

from __future__ import annotations

import gzip
import os
import shutil
from pathlib import Path

import pytest

from logsleuth.watch import follow
from logsleuth.watch.follow import Chunk, Follower


def lines(prefix: str, a: int, b: int) -> bytes:
    """Lines long enough that a fingerprint (64 B at least) identifies the file."""
    return b"".join(f"2026-12-06 06:00:{i % 60:02d}.000 INFO  [main] app.Main - {prefix} "
                    f"event number {i} of the test\n".encode() for i in range(a, b))


def text(chunks: list[Chunk]) -> bytes:
    return b"".join(c.data for c in chunks)


def append(path: Path, data: bytes) -> None:
    with open(path, "ab") as f:
        f.write(data)


def test_backfill_then_appends_only(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_bytes(lines("old", 0, 50))
    f = Follower([str(tmp_path)])
    first = f.poll()
    assert text(first) == lines("old", 0, 50)
    assert first[0].first_line == 1
    assert f.poll() == []  # nothing written: nothing read
    append(log, lines("new", 50, 53))
    got = f.poll()
    assert text(got) == lines("new", 50, 53)
    assert got[0].first_line == 51


def test_half_written_line_is_read_once_complete(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_bytes(lines("a", 0, 3))
    f = Follower([str(tmp_path)])
    f.poll()
    append(log, b"2026-12-06 06:01:00.000 INFO  [main] app.Main - half")
    assert f.poll() == []
    append(log, b" and the rest\n")
    got = f.poll()
    assert text(got) == b"2026-12-06 06:01:00.000 INFO  [main] app.Main - half and the rest\n"
    assert got[0].first_line == 4
    assert f.poll() == []


def test_rename_rotation_with_new_file(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_bytes(lines("gen1", 0, 10))
    f = Follower([str(tmp_path)])
    (c1,) = f.poll()
    # the writer logs a little more, then rolls over (rename) and creates a new file
    append(log, lines("gen1", 10, 12))
    os.rename(log, tmp_path / "app.log.1")
    log.write_bytes(lines("gen2", 0, 4))
    got = f.poll()
    by_stream = {c.stream: c for c in got}
    assert by_stream[c1.stream].data == lines("gen1", 10, 12)  # the rest, read once
    assert by_stream[c1.stream].first_line == 11
    new = [c for c in got if c.stream != c1.stream]
    assert len(new) == 1 and new[0].data == lines("gen2", 0, 4) and new[0].first_line == 1
    assert new[0].display == "app.log"  # the family keeps its name
    assert f.poll() == []


def test_rolled_file_compressed_later_is_not_read_twice(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_bytes(lines("gen1", 0, 20))
    f = Follower([str(tmp_path)])
    (c1,) = f.poll()
    rolled = tmp_path / "app.log.1"
    os.rename(log, rolled)
    append(rolled, lines("gen1", 20, 22))  # written after our last read, before compression
    with open(rolled, "rb") as src, gzip.open(tmp_path / "app.log.1.gz", "wb") as dst:
        shutil.copyfileobj(src, dst)
    rolled.unlink()
    got = f.poll()
    assert text(got) == lines("gen1", 20, 22)  # only what the plain file had not given
    assert got[0].stream == c1.stream and got[0].final
    assert got[0].first_line == 21
    assert f.poll() == []


def test_compressed_copy_of_a_file_still_being_read_waits_for_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A loaded watcher is still behind in the rolled file when its .gz appears beside it
    (bench/watch_stream.py at 20 MB/s read 10.7 M records of 59.3 M twice): the plain file
    is read to its end, the copy gives only what is left, every byte once."""
    monkeypatch.setattr(follow, "MAX_READ", 4096)
    log = tmp_path / "app.log"
    data = lines("gen1", 0, 400)
    log.write_bytes(data)
    f = Follower([str(tmp_path)])
    got = f.poll()
    assert 0 < len(text(got)) < len(data)
    rolled = tmp_path / "app.log.1"
    os.rename(log, rolled)
    with open(rolled, "rb") as src, gzip.open(tmp_path / "app.log.1.gz", "wb") as dst:
        shutil.copyfileobj(src, dst)
    for _ in range(3):  # both on disk: the compressor has not deleted the plain file yet
        got += f.poll()
    rolled.unlink()
    for _ in range(len(data) // 4096 + 3):
        got += f.poll()
    assert {c.stream for c in got} == {got[0].stream}
    assert text(got) == data
    assert f.poll() == []


def test_roll_between_stat_and_open_loses_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """log4j2 rolls (rename, new file, gzip, delete) between the poll's stat of ``app.log``
    and its open. Reading the name then read the new file as the old one's rest: the old
    file was taken as truncated and its unread lines were lost (9-119 records of ~14,600 in
    live runs, tests/watch/test_live_jvm.py). Every line must come out once, in its own
    file's stream."""
    log = tmp_path / "app.log"
    log.write_bytes(lines("gen1", 0, 20))
    f = Follower([str(tmp_path)])
    got = f.poll()
    append(log, lines("gen1", 20, 25))  # written since: still to be read
    real_stat = os.stat
    rolled = tmp_path / "app-1.log"

    def stat_then_roll(path: object, *a: object, **k: object) -> os.stat_result:
        st = real_stat(path, *a, **k)  # type: ignore[arg-type]
        if str(path) == str(log) and not rolled.exists() \
                and not (tmp_path / "app-1.log.gz").exists():
            os.rename(log, rolled)  # the roll happens after the stat, before the open
            log.write_bytes(lines("gen2", 0, 7))
        return st

    monkeypatch.setattr(follow.os, "stat", stat_then_roll)
    for _ in range(3):
        got += f.poll()
    with open(rolled, "rb") as src, gzip.open(tmp_path / "app-1.log.gz", "wb") as dst:
        shutil.copyfileobj(src, dst)
    monkeypatch.undo()
    rolled.unlink()
    append(log, lines("gen2", 7, 9))
    for _ in range(3):
        got += f.poll()
    assert not any(c.restarted for c in got)  # nothing was truncated
    streams: dict[str, bytes] = {}
    for c in got:
        streams[c.stream] = streams.get(c.stream, b"") + c.data
    assert sorted(streams.values()) == sorted([lines("gen1", 0, 25), lines("gen2", 0, 9)])


def test_compressed_copy_does_not_wait_for_an_inode_that_now_holds_another_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The rolled file's .gz appears while its plain file is still being read; then the
    plain file's inode holds a new file (the filesystem reused the number for the writer's
    new ``app.log``, seen in live runs; here the same inode rewritten). The copy must not
    wait for that inode: the old file's rest comes from the copy, once."""
    monkeypatch.setattr(follow, "MAX_READ", 4096)
    log = tmp_path / "app.log"
    old = lines("gen1", 0, 200)
    log.write_bytes(old)
    f = Follower([str(tmp_path)])
    got = f.poll()
    with gzip.open(tmp_path / "app.log.1.gz", "wb") as dst:
        dst.write(old)
    got += f.poll()  # the copy waits: its plain file is there, unfinished
    assert 0 < len(text(got)) < len(old)
    with open(log, "r+b") as w:  # the inode now holds another file
        w.truncate(0)
        w.write(lines("gen2", 0, 5))
    for _ in range(len(old) // 4096 + 4):
        got += f.poll()
    streams: dict[str, bytes] = {}
    for c in got:
        streams[c.stream] = streams.get(c.stream, b"") + c.data
    assert sorted(streams.values()) == sorted([old, lines("gen2", 0, 5)])


def test_compressed_after_fully_read_gives_nothing(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_bytes(lines("gen1", 0, 20))
    f = Follower([str(tmp_path)])
    f.poll()
    with open(log, "rb") as src, gzip.open(tmp_path / "app.log.1.gz", "wb") as dst:
        shutil.copyfileobj(src, dst)
    log.unlink()
    got = f.poll()
    assert text(got) == b"" and all(c.final for c in got)
    assert f.poll() == []


def test_unrelated_archive_is_read_whole(tmp_path: Path) -> None:
    (tmp_path / "app.log").write_bytes(lines("live", 0, 5))
    f = Follower([str(tmp_path)])
    f.poll()
    with gzip.open(tmp_path / "old-2026-12-01.log.gz", "wb") as g:
        g.write(lines("archived", 0, 30))
    assert text(f.poll()) == lines("archived", 0, 30)


@pytest.mark.parametrize("copy", ["app.log.1", "app.1.log"])  # listed after / before app.log
def test_copytruncate(tmp_path: Path, copy: str) -> None:
    log = tmp_path / "app.log"
    log.write_bytes(lines("before", 0, 30))
    f = Follower([str(tmp_path)])
    f.poll()
    shutil.copyfile(log, tmp_path / copy)  # logrotate copytruncate: copy, then truncate
    with open(log, "r+b") as w:
        w.truncate(0)
    append(log, lines("after", 0, 3))
    got = f.poll()
    assert text(got) == lines("after", 0, 3)  # the copy is the file already read
    assert got[0].restarted and got[0].first_line == 1


def test_truncated_and_rewritten_past_old_size_between_polls(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_bytes(lines("before", 0, 3))
    f = Follower([str(tmp_path)])
    f.poll()
    with open(log, "r+b") as w:
        w.truncate(0)
    append(log, lines("after", 0, 10))  # longer than before: only the head tells
    got = f.poll()
    assert text(got) == lines("after", 0, 10) and got[0].restarted


def test_new_file_appears(tmp_path: Path) -> None:
    (tmp_path / "a.log").write_bytes(lines("a", 0, 2))
    f = Follower([str(tmp_path)])
    f.poll()
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.log").write_bytes(b"")  # created empty: nothing yet
    assert f.poll() == []
    append(tmp_path / "sub" / "b.log", lines("b", 0, 2))
    (got,) = f.poll()
    assert got.display == "sub/b.log" and got.data == lines("b", 0, 2)


def test_checkpoint_round_trip_continues_where_it_stopped(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_bytes(lines("a", 0, 10))
    f = Follower([str(tmp_path)])
    f.poll()
    append(log, lines("a", 10, 12))
    g = Follower([str(tmp_path)])
    g.restore(f.to_json())
    got = g.poll()
    assert text(got) == lines("a", 10, 12) and got[0].first_line == 11


def test_a_path_that_appears_later_is_followed(tmp_path: Path) -> None:
    later = tmp_path / "later"
    f = Follower([str(later)])
    assert f.poll() == []
    later.mkdir()
    (later / "app.log").write_bytes(lines("late", 0, 3))
    (got,) = f.poll()
    assert got.display == "app.log" and got.data == lines("late", 0, 3)


def test_large_archive_is_read_in_bounded_pieces(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from logsleuth.watch import follow

    monkeypatch.setattr(follow, "MAX_READ", 4096)
    body = lines("archived", 0, 400)  # ~34 KB: nine reads or so
    with gzip.open(tmp_path / "old.log.gz", "wb") as g:
        g.write(body)
    f = Follower([str(tmp_path)])
    got = f.poll()
    pieces = [got]
    while f.backlog:
        pieces.append(f.poll())
    chunks = [c for p in pieces for c in p]
    assert len(chunks) > 5 and all(len(c.data) <= 4096 for c in chunks)
    assert b"".join(c.data for c in chunks) == body  # whole lines, nothing twice
    assert [c.first_line for c in chunks if c.data][:2] == [1, 1 + chunks[0].data.count(b"\n")]
    assert chunks[-1].final and f.poll() == []


def test_line_longer_than_a_read_is_handed_on(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from logsleuth.watch import follow

    monkeypatch.setattr(follow, "MAX_READ", 1024)
    (tmp_path / "app.log").write_bytes(b"x" * 3000 + b"\n" + lines("after", 0, 2))
    f = Follower([str(tmp_path)])
    data = b""
    for _ in range(10):
        data += text(f.poll())
        if not f.backlog:
            break
    assert data == b"x" * 3000 + b"\n" + lines("after", 0, 2)


def test_a_file_deleted_before_it_was_read_to_its_end_is_said_lost(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A watcher far behind a writer that keeps few archives: the unread rest of a deleted
    file cannot be read, so it is said (once), with how much; a file whose compressed copy
    continues it is not lost."""
    monkeypatch.setattr(follow, "MAX_READ", 4096)
    lost_log, kept_log = tmp_path / "a.log", tmp_path / "b.log"
    a, b = lines("gone", 0, 200), lines("kept", 0, 200)
    lost_log.write_bytes(a)
    kept_log.write_bytes(b)
    f = Follower([str(tmp_path)])
    got = f.poll()
    read_a = sum(len(c.data) for c in got if c.display == "a.log")
    assert 0 < read_a < len(a)
    lost_log.unlink()
    with gzip.open(tmp_path / "b.log.1.gz", "wb") as dst:
        dst.write(b)
    kept_log.unlink()
    for _ in range(len(b) // 4096 + 3):
        got += f.poll()
    assert b"".join(c.data for c in got if c.display == "b.log") == b
    (gone,) = f.lost(0.0)
    assert gone.display == "a.log" and gone.path == str(lost_log)
    assert gone.size - gone.offset == len(a) - read_a
    assert f.lost(0.0) == []  # said once


def test_an_inode_reused_under_another_name_is_a_new_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A deleted file's inode number goes to the next file created (seen in live runs: a
    rolled ``.gz`` got the number of a log just deleted). The same inode under another
    name with another head is a new file, not the old one renamed and truncated: it is
    read whole as what it is, and the old file's unread rest is said lost."""
    monkeypatch.setattr(follow, "MAX_READ", 4096)
    log = tmp_path / "a.log"
    a, b = lines("old", 0, 200), lines("new", 0, 30)
    log.write_bytes(a)
    f = Follower([str(tmp_path)])
    got = f.poll()
    read = len(text(got))
    archive = tmp_path / "b.log.1.gz"
    os.rename(log, archive)  # the same inode under a new name, holding a new file
    with open(archive, "r+b") as w:
        w.truncate(0)
        w.write(gzip.compress(b))
    got = []
    for _ in range(3):
        got += f.poll()
    assert text(got) == b and not any(c.restarted for c in got)
    (gone,) = f.lost(0.0)
    assert gone.display == "a.log" and gone.size - gone.offset == len(a) - read
