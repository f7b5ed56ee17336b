"""Arguments to sources: files, directories, globs, and what is skipped or reported."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pytest

from logsleuth.errors import DiagLevel
from logsleuth.sources import discover
from logsleuth.sources.binary import binary_reason


def _write(root: Path, rel: str, data: bytes) -> Path:
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data)
    return p


def test_directory_recursive_sorted_hidden_skipped(tmp_path: Path, app_log: bytes) -> None:
    _write(tmp_path, "logs/b.log", app_log)
    _write(tmp_path, "logs/a.log", app_log)
    _write(tmp_path, "logs/sub/gc.log", b"[0.001s][info][gc] Using G1\n")
    _write(tmp_path, "logs/.cache/x.log", app_log)
    _write(tmp_path, "logs/.swp", app_log)
    found = discover([tmp_path / "logs"])
    assert [s.path for s in found.sources] == ["a.log", "b.log", "sub/gc.log"]
    assert found.diagnostics == [] and found.skipped == []
    a = found.sources[0]
    assert a.fs_path == tmp_path / "logs" / "a.log"
    assert a.splittable and a.compression is None and a.member == ()
    assert a.size == len(app_log)


def test_single_file_is_named_by_its_name(tmp_path: Path) -> None:
    p = _write(tmp_path, "deep/dir/push-server.log", b"x\n")
    (src,) = discover([str(p)]).sources
    assert src.path == "push-server.log"
    assert src.family == "push-server"


def test_missing_path_is_reported_and_scan_goes_on(tmp_path: Path) -> None:
    _write(tmp_path, "app.log", b"x\n")
    missing = str(tmp_path / "nope.log")
    found = discover([missing, tmp_path / "app.log"])
    assert [s.path for s in found.sources] == ["app.log"]
    (d,) = found.diagnostics
    assert (d.code, d.location.path, d.level) == ("missing-path", missing, DiagLevel.ERROR)
    assert d.render() == f"{missing}: error[missing-path]: {missing} does not exist"


def test_empty_directory(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    _write(tmp_path, "only-hidden/.x", b"x\n")
    found = discover([tmp_path / "empty", tmp_path / "only-hidden"])
    assert found.sources == []
    assert [d.code for d in found.diagnostics] == ["empty-directory", "empty-directory"]
    assert str(tmp_path / "empty") in found.diagnostics[0].message


def test_globs(tmp_path: Path, app_log: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    _write(tmp_path, "logs/app.log", app_log)
    _write(tmp_path, "logs/app.log.1.gz", gzip.compress(app_log))
    _write(tmp_path, "logs/notes.txt", b"n\n")
    _write(tmp_path, "logs/host2/app.log", app_log)
    _write(tmp_path, "logs/.hidden/app.log", app_log)
    monkeypatch.chdir(tmp_path)
    found = discover(["logs/*.log*"])
    assert [s.path for s in found.sources] == ["app.log", "app.log.1.gz"]
    found = discover(["logs/**"])
    assert [s.path for s in found.sources] == [
        "app.log", "app.log.1.gz", "host2/app.log", "notes.txt"
    ]
    found = discover(["logs/*.zip"])
    assert found.sources == []
    assert [(d.code, d.location.path) for d in found.diagnostics] == [
        ("glob-no-match", "logs/*.zip")
    ]


def test_same_file_twice_is_read_once(tmp_path: Path) -> None:
    _write(tmp_path, "logs/app.log", b"x\n")
    found = discover([tmp_path / "logs", tmp_path / "logs" / "app.log"])
    assert [s.path for s in found.sources] == ["app.log"]


def test_same_name_under_two_roots_is_told_apart(tmp_path: Path) -> None:
    _write(tmp_path, "hostA/app.log", b"a\n")
    _write(tmp_path, "hostB/app.log", b"b\n")
    found = discover([tmp_path / "hostA", tmp_path / "hostB"])
    paths = [s.path for s in found.sources]
    assert len(set(paths)) == 2
    assert paths[0].endswith("hostA/app.log") and paths[1].endswith("hostB/app.log")


def test_binary_files_are_skipped_with_reason(tmp_path: Path, app_log: bytes) -> None:
    _write(tmp_path, "libnetty.so", b"\x7fELF\x02\x01\x01" + bytes(4000))
    _write(tmp_path, "App.class", b"\xca\xfe\xba\xbe\x00\x00\x00\x37" + bytes(100))
    _write(tmp_path, "random.bin", bytes(range(256)) * 40)
    _write(tmp_path, "heap.hprof.gz", gzip.compress(b"JAVA PROFILE 1.0.2\x00" + bytes(9000)))
    _write(tmp_path, "app.log", app_log)
    _write(tmp_path, "empty.log", b"")
    found = discover([tmp_path])
    assert [s.path for s in found.sources] == ["app.log"]
    reasons = {s.path: s.reason for s in found.skipped}
    assert reasons["libnetty.so"] == "binary: ELF executable or core dump"
    assert reasons["App.class"] == "binary: Java class file"
    assert reasons["heap.hprof.gz"] == "binary: hprof heap dump"
    assert reasons["random.bin"].startswith("binary: ")
    assert reasons["empty.log"] == "empty file"


def test_text_with_a_few_nul_bytes_is_text(tmp_path: Path, app_log: bytes) -> None:
    # A JVM killed mid-write leaves a run of NULs in a preallocated log block.
    _write(tmp_path, "app.log", app_log[:4000] + b"\x00" * 200 + app_log[4000:])
    found = discover([tmp_path])
    assert [s.path for s in found.sources] == ["app.log"]
    assert found.skipped == []


def test_binary_reason_threshold() -> None:
    text = b"2026-11-26 10:00:00 INFO ok\n" * 100  # 2800 bytes
    assert binary_reason(text) is None
    assert binary_reason(text[:2500] + b"\x01" * 250) is None  # 9 %
    assert binary_reason(text[:2400] + b"\x01" * 300) is not None  # 11 %
    assert binary_reason(b"\x1b[31mERROR\x1b[0m colour\n\tat x\r\n") is None
    assert binary_reason("Grüße aus Köln\n".encode()) is None
    assert binary_reason(b"\xff\xfe2\x000\x00") == "UTF-16 text is not supported"


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file(tmp_path: Path) -> None:
    p = _write(tmp_path, "secret.log", b"x\n")
    p.chmod(0)
    found = discover([tmp_path])
    assert [d.code for d in found.diagnostics] == ["unreadable"]


def test_fifo_is_skipped(tmp_path: Path) -> None:
    _write(tmp_path, "app.log", b"x\n")
    os.mkfifo(tmp_path / "pipe.log")
    found = discover([tmp_path])
    assert [s.path for s in found.sources] == ["app.log"]
    assert [(s.path, s.reason) for s in found.skipped] == [("pipe.log", "not a regular file")]
