"""Archive members read as streams: zip, tar in every compression, refusals."""

from __future__ import annotations

import gzip
import io
import tarfile
import zipfile
from pathlib import Path

import pytest
import zstandard

from logsleuth.errors import InputError
from logsleuth.sources import discover
from logsleuth.sources.archives import clean_name, unsafe_reason


def _tar_bytes(members: dict[str, bytes], mode: str = "w") -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _contents(paths: list[Path | str]) -> dict[str, bytes]:
    out = {}
    for src in discover(paths).sources:
        with src.open() as f:
            out[src.path] = f.read()
    return out


def test_zip_with_nested_gz(tmp_path: Path, app_log: bytes) -> None:
    z = tmp_path / "ticket.zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("logs/app.log.gz", gzip.compress(app_log))
        zf.writestr("logs/app.log", app_log[:5000])
        zf.writestr("logs/", b"")  # a directory entry
    found = discover([z])
    by_path = {s.path: s for s in found.sources}
    assert sorted(by_path) == ["ticket.zip!logs/app.log", "ticket.zip!logs/app.log.gz"]
    nested = by_path["ticket.zip!logs/app.log.gz"]
    assert nested.member == ("logs/app.log.gz",)
    assert nested.compression == "gz"
    assert nested.fs_path == z
    assert not nested.splittable
    assert nested.family == "app"
    with nested.open() as f:
        assert f.read() == app_log
    with by_path["ticket.zip!logs/app.log"].open() as f:
        assert f.read() == app_log[:5000]


@pytest.mark.parametrize(
    ("name", "mode"),
    [("bundle.tar", "w"), ("bundle.tar.gz", "w:gz"), ("bundle.tgz", "w:gz"),
     ("bundle.tar.bz2", "w:bz2"), ("bundle.tar.xz", "w:xz")],
)
def test_tar_members(tmp_path: Path, app_log: bytes, name: str, mode: str) -> None:
    p = tmp_path / name
    p.write_bytes(_tar_bytes({"./var/log/gc.log": b"[0.010s][info][gc] Using G1\n",
                              "var/log/app.log.1.gz": gzip.compress(app_log)}, mode))
    got = _contents([p])
    assert got == {f"{name}!var/log/gc.log": b"[0.010s][info][gc] Using G1\n",
                   f"{name}!var/log/app.log.1.gz": app_log}


def test_tar_zst(tmp_path: Path, app_log: bytes) -> None:
    p = tmp_path / "bundle.tar.zst"
    p.write_bytes(zstandard.ZstdCompressor().compress(_tar_bytes({"app.log": app_log})))
    (src,) = discover([p]).sources
    assert src.path == "bundle.tar.zst!app.log"
    assert src.compression is None  # the member itself is plain; the tar was compressed
    with src.open() as f:
        assert f.read() == app_log


def test_tar_inside_zip(tmp_path: Path, app_log: bytes) -> None:
    p = tmp_path / "outer.zip"
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr("inner.tar.gz", gzip.compress(_tar_bytes({"x/app.log": app_log})))
    (src,) = discover([p]).sources
    assert src.path == "outer.zip!inner.tar.gz!x/app.log"
    assert src.member == ("inner.tar.gz", "x/app.log")
    with src.open() as f:
        assert f.read() == app_log


@pytest.mark.parametrize("bad", ["../escape.log", "/etc/passwd", "C:\\logs\\app.log",
                                 "logs/../../x.log", "..\\win.log"])
def test_traversal_members_are_refused(tmp_path: Path, bad: str) -> None:
    p = tmp_path / "evil.zip"
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr(bad, b"2026-11-26 10:00:00 INFO x\n")
        zf.writestr("ok.log", b"2026-11-26 10:00:00 INFO fine\n")
    found = discover([p])
    assert [s.path for s in found.sources] == ["evil.zip!ok.log"]
    (d,) = found.diagnostics
    assert d.code == "unsafe-member"
    assert repr(bad) in d.message and d.location.path == "evil.zip"


def test_traversal_in_tar_is_refused(tmp_path: Path) -> None:
    p = tmp_path / "evil.tar.gz"
    p.write_bytes(_tar_bytes({"../../etc/cron.d/x": b"* * * * * root id\n",
                              "app.log": b"ok\n"}, "w:gz"))
    found = discover([p])
    assert [s.path for s in found.sources] == ["evil.tar.gz!app.log"]
    assert [d.code for d in found.diagnostics] == ["unsafe-member"]


def test_unsafe_reason_and_clean_name() -> None:
    assert unsafe_reason("logs/app.log") is None
    assert unsafe_reason("logs/..app.log") is None  # '..' inside a name is harmless
    assert unsafe_reason("a/../b") is not None
    assert unsafe_reason("D:x.log") is not None
    assert clean_name("./logs//app.log") == "logs/app.log"


def test_hidden_members_and_macos_forks_are_ignored(tmp_path: Path) -> None:
    p = tmp_path / "mac.zip"
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr("__MACOSX/logs/._app.log", b"\x00\x05\x16\x07" * 100)
        zf.writestr("logs/.hidden.log", b"secret\n")
        zf.writestr("logs/app.log", b"line\n")
    found = discover([p])
    assert [s.path for s in found.sources] == ["mac.zip!logs/app.log"]
    assert found.skipped == [] and found.diagnostics == []


def test_binary_member_is_skipped(tmp_path: Path) -> None:
    p = tmp_path / "dump.zip"
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr("heap.hprof", b"JAVA PROFILE 1.0.2\x00" + bytes(5000))
    found = discover([p])
    assert found.sources == []
    assert [(s.path, s.reason) for s in found.skipped] == [
        ("dump.zip!heap.hprof", "binary: hprof heap dump")
    ]


def test_corrupt_zip_is_a_diagnostic(tmp_path: Path, app_log: bytes) -> None:
    p = tmp_path / "broken.zip"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("app.log", app_log)
    p.write_bytes(buf.getvalue()[:-30])  # the central directory is cut
    found = discover([p])
    assert found.sources == []
    assert [d.code for d in found.diagnostics] == ["corrupt-archive"]
    assert found.diagnostics[0].location.path == "broken.zip"


def test_truncated_tar_gz_member_reports_bytes(tmp_path: Path, app_log: bytes) -> None:
    big = app_log * 30
    whole = gzip.compress(_tar_bytes({"app.log": big}))
    p = tmp_path / "cut.tar.gz"
    p.write_bytes(whole[: len(whole) // 2])
    (src,) = discover([p]).sources
    got = bytearray()
    with src.open() as f, pytest.raises(InputError) as info:
        while piece := f.read1(65536):
            got += piece
    assert info.value.diagnostic.code == "truncated-archive"
    assert info.value.diagnostic.location.path == "cut.tar.gz!app.log"
    assert 0 < len(got) < len(big) and big.startswith(bytes(got))
