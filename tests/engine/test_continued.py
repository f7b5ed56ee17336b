"""A record that a size-based rotation cut between two files of one family.

The kubelet (``containerLogMaxSize``) and logrotate's ``copytruncate`` rotate by bytes,
so a stack trace can begin in one file and end in the next, which then opens with
trace lines before any record header. Expected, written before the fix: the record is
read whole (its ``Caused by:`` found, every line of it in it), the next file's opening
lines are in no other record and not unparsed, and every line of every file is
counted once; a first file of a family that opens with such lines has no predecessor
and keeps them as unparsed.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from logsleuth import api

HEAD = "2026-12-06 16:00:0{s}.000 {lvl} [worker-1] com.example.App - {msg}"
TRACE = [
    "java.lang.IllegalStateException: encoder failed",
    "\tat com.example.Encoder.encode(Encoder.java:42)",
    "\tat com.example.App.run(App.java:7)",
    "Caused by: io.netty.util.internal.OutOfDirectMemoryError: failed to allocate 256 "
    "byte(s) of direct memory (used: 1048320, max: 1048576)",
    "\tat io.netty.util.internal.PlatformDependent.incrementMemoryCounter("
    "PlatformDependent.java:742)",
    "\t... 2 more",
]


def _lines() -> list[str]:
    out = [HEAD.format(s=1, lvl="INFO ", msg="started"),
           HEAD.format(s=2, lvl="ERROR", msg="Unhandled exception"), *TRACE,
           HEAD.format(s=3, lvl="INFO ", msg="still here"),
           HEAD.format(s=4, lvl="INFO ", msg="done")]
    return out


def _cri(line: str, i: int) -> str:
    return f"2026-12-06T15:00:0{i // 10}.{i % 10:09d}Z stdout F {line}"


@pytest.mark.parametrize("wrapped", [False, True], ids=["plain", "cri"])
def test_a_record_cut_by_rotation_is_read_whole(tmp_path: Path, wrapped: bool) -> None:
    lines = _lines()
    if wrapped:
        lines = [_cri(ln, i) for i, ln in enumerate(lines)]
    cut = 5  # inside the trace: header + 3 trace lines in the rotated file
    older = tmp_path / ("0.log.20261206-150001.gz" if wrapped else "app.log.1.gz")
    with gzip.open(older, "wt") as f:
        f.write("\n".join(lines[:cut]) + "\n")
    (tmp_path / ("0.log" if wrapped else "app.log")).write_text("\n".join(lines[cut:]) + "\n")
    result = api.scan(tmp_path, workers=1, tz="UTC")
    apps = [s for s in result.inputs if s.kind == "app-log"]
    assert sum(s.lines for s in apps) == len(lines)
    assert sum(s.records for s in apps) == 4
    assert not any(s.unparsed_lines for s in apps), [s.unparsed_samples for s in apps]
    recs = result.table("records").to_pylist()
    err = next(r for r in recs if r["level"] == "ERROR")
    assert err["n_lines"] == 1 + len(TRACE)
    assert err["exception"] == "java.lang.IllegalStateException"
    assert err["root_exception"] == "io.netty.util.internal.OutOfDirectMemoryError"


def test_a_first_file_that_opens_mid_record_keeps_its_lines_unparsed(tmp_path: Path) -> None:
    lines = _lines()
    (tmp_path / "app.log").write_text("\n".join(lines[4:]) + "\n")
    result = api.scan(tmp_path, workers=1, tz="UTC")
    s = next(s for s in result.inputs if s.kind == "app-log")
    assert (s.records, s.unparsed_lines) == (2, 4)
