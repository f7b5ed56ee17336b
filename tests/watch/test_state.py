"""The running analysis: batches of appended bytes give what one scan of them gives."""

from __future__ import annotations

import gzip
import os
import time
from pathlib import Path
from typing import Any

import pytest

from logsleuth import api
from logsleuth.options import ScanOptions
from logsleuth.watch.follow import Follower
from logsleuth.watch.state import PLAN_LINES, RunningAnalysis

SAMPLE = Path(__file__).resolve().parents[2] / "sample_logs" / "incident"


def _running(settle: float = 3600.0, **scan: Any) -> RunningAnalysis:
    return RunningAnalysis.for_scan(ScanOptions(**scan), settle=settle)


def _incident_bytes() -> bytes:
    rolled = [SAMPLE / f"push-server-2026-11-26-{i}.log.gz" for i in range(1, 11)]
    return (b"".join(gzip.decompress(p.read_bytes()) for p in rolled)
            + (SAMPLE / "push-server.log").read_bytes())


def _findings(result: object) -> list[tuple[str, str, int, str]]:
    return sorted((f.rule, f.fingerprint, f.count, str(f.first_seen))
                  for f in result.findings)  # type: ignore[attr-defined]


@pytest.mark.parametrize("batches", [1, 7, 40])
def test_batches_equal_one_scan_of_the_same_bytes(tmp_path: Path, batches: int) -> None:
    data = _incident_bytes()
    log = tmp_path / "push-server.log"
    log.write_bytes(data)
    ref = api.scan([str(tmp_path)], keep_records=False, workers=1)
    log.write_bytes(b"")
    run, follow = _running(), Follower([str(tmp_path)])
    # cuts at arbitrary bytes: mid-line and mid-trace
    cuts = [len(data) * k // batches + 13 * k for k in range(1, batches)] + [len(data)]
    prev = 0
    for cut in cuts:
        with open(log, "ab") as f:
            f.write(data[prev:cut])
        prev = cut
        run.ingest(follow.poll())
        while follow.backlog:  # reads are bounded per poll
            run.ingest(follow.poll())
        if batches <= 7:
            run.finalize()  # as the watcher does every --interval: changes nothing after
    run.flush()
    got = run.finalize()
    assert _findings(got) == _findings(ref)
    assert got.inputs[0].records == ref.inputs[0].records
    assert got.inputs[0].unparsed_lines == ref.inputs[0].unparsed_lines
    t_ref, t_got = ref.table("templates").to_pylist(), got.table("templates").to_pylist()
    assert sorted(map(tuple, (r.values() for r in t_got))) == \
        sorted(map(tuple, (r.values() for r in t_ref)))
    assert got.incident is not None and ref.incident is not None
    assert got.incident.onset.ts_ms == ref.incident.onset.ts_ms
    (leak_ref, *_), (leak_got, *_) = ref.incident.leaks, got.incident.leaks
    assert leak_got.metric == leak_ref.metric
    assert leak_got.per_event.template == leak_ref.per_event.template
    assert leak_got.per_event.amount == pytest.approx(leak_ref.per_event.amount, rel=1e-9)
    assert leak_got.exhaustion_at_ms == leak_ref.exhaustion_at_ms


HEADER = "2026-12-06 06:00:0{s}.000 ERROR [main] com.example.App - request failed\n"
TRACE_1 = ("java.lang.IllegalStateException: wrapper\n"
           "\tat com.example.App.handle(App.java:10)\n")
TRACE_2 = ("Caused by: java.io.IOException: disk full\n"
           "\tat com.example.Disk.write(Disk.java:5)\n"
           "\t... 1 more\n")


def test_trace_being_written_is_not_split(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    start = "".join(HEADER.format(s=0) for _ in range(PLAN_LINES))  # enough to plan on
    log.write_text(start + HEADER.format(s=0) + HEADER.format(s=1) + TRACE_1)
    run, follow = _running(), Follower([str(tmp_path)])
    assert run.ingest(follow.poll()) == PLAN_LINES + 1  # the last record is held: more may come
    with open(log, "a") as f:
        f.write(TRACE_2)
    assert run.ingest(follow.poll()) == 0  # still no next header
    with open(log, "a") as f:
        f.write(HEADER.format(s=2))
    assert run.ingest(follow.poll()) == 1  # the trace, whole
    res = run.finalize()
    (stats,) = res.inputs
    assert stats.unparsed_lines == 0 and stats.records == PLAN_LINES + 2
    assert "java.lang.IllegalStateException > java.io.IOException" in \
        res.exception_fingerprints


def test_quiet_period_completes_the_held_record(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_text(HEADER.format(s=0) + TRACE_1 + TRACE_2)
    run, follow = _running(settle=0.3), Follower([str(tmp_path)])
    assert run.ingest(follow.poll()) == 0
    time.sleep(0.4)
    assert run.ingest(follow.poll()) == 1  # nothing new, the file is quiet: complete
    assert run.finalize().inputs[0].records == 1


def test_streams_of_deleted_rotations_are_retired(tmp_path: Path) -> None:
    """Days of rotations keep one parser per file on disk, and count every record."""
    log = tmp_path / "app.log"
    run, follow = _running(settle=0.0), Follower([str(tmp_path)])
    written = 0
    for gen in range(30):
        lines = "".join(HEADER.format(s=i % 10).replace("request failed", f"gen {gen} no {i}")
                        for i in range(20))
        log.write_text(lines)
        written += 20
        run.ingest(follow.poll())
        run.retire({t.stream for t in follow.files.values()})
        os.rename(log, tmp_path / "app.log.1")  # rolled, and the old roll deleted
        run.ingest(follow.poll())
        (tmp_path / "app.log.1").unlink()
    run.ingest(follow.poll())
    run.retire({t.stream for t in follow.files.values()})
    assert len(run.streams) <= 1 and len(follow.files) <= 1
    res = run.finalize()
    assert sum(s.records for s in res.inputs) == written
    assert {s.path for s in res.inputs} == {"app.log"}


def test_time_only_log_is_dated_like_scan(tmp_path: Path) -> None:
    """A layout printing only the time of day gets its date as scan gives it (mtime)."""
    log = tmp_path / "app.log"
    body = "".join(f"23:59:5{i}.000 INFO  [main] com.example.App - tick {i}\n" for i in range(5))
    body += "".join(f"00:00:0{i}.000 INFO  [main] com.example.App - tock {i}\n" for i in range(5))
    log.write_text(body)
    stamp = 1_796_601_600  # 2026-12-07T00:00:00Z: written just after the midnight crossed
    os.utime(log, (stamp + 30, stamp + 30))
    pattern = "%d{HH:mm:ss.SSS} %-5level [%t] %logger{36} - %msg%n"
    ref = api.scan([str(tmp_path)], keep_records=True, workers=1, tz="UTC", pattern=pattern)
    run = _running(settle=0.0, tz="UTC", pattern=pattern)
    run.ingest(Follower([str(tmp_path)]).poll())
    last = ref.table("records")["ts"].cast("int64").to_pylist()[-1]
    assert last == (stamp + 4) * 1000  # "00:00:04" of the day after the first record
    assert run.evidence_ms == last


def _scratch_bytes(parser: Any) -> int:
    """What a stream's parsers keep between feeds (the app-log parser's line scratch)."""
    total = 0
    while parser is not None:
        mask = getattr(parser, "_mask", None)
        total += 0 if mask is None else mask.nbytes
        parser = getattr(parser, "inner", None)
    return total


def test_a_rolled_file_gone_quiet_keeps_no_chunk_sized_scratch(tmp_path: Path) -> None:
    """A rolled file's stream lives while its archive is on disk (days, with log4j2's
    keep count): once quiet, its parser gives its chunk-sized scratch back (8 MiB at
    the watcher's read size); the stream still written to keeps its own."""
    data = _incident_bytes()
    cut = data.index(b"\n2026-", len(data) // 2) + 1
    log = tmp_path / "app.log"
    log.write_bytes(data[:cut])
    run, follow = _running(settle=3600.0), Follower([str(tmp_path)])
    run.ingest(follow.poll())
    os.rename(log, tmp_path / "app.log.1")  # rolled: the new file gets the rest
    log.write_bytes(data[cut:])
    run.ingest(follow.poll())
    old, new = (run.streams[t.stream] for t in sorted(follow.files.values(),
                                                        key=lambda t: t.path, reverse=True))
    assert old.fs_path.endswith("app.log") and new.fs_path.endswith("app.log")
    assert _scratch_bytes(old.parser) >= cut // 2  # sized to what it read
    old.quiet_since -= 3600.0  # the rolled file has been quiet for an hour (no sleeping)
    with open(log, "ab") as f:  # the new file is written to again; the rolled one is quiet
        f.write(data[cut:cut + 200])
    run.ingest(follow.poll())
    assert _scratch_bytes(old.parser) == 0
    assert _scratch_bytes(new.parser) > 0
    assert sum(run.records_read.values()) > 0


def test_a_stream_keeps_no_reference_to_the_bytes_it_read(tmp_path: Path) -> None:
    """The parser's crash probe kept the stream's first read alive through its closure
    (up to 8 MiB per stream, for as long as a rolled file's archive is on disk)."""
    import sys

    from logsleuth.watch.follow import Chunk

    data = _incident_bytes()[: 4 * 2**20]
    data = data[: data.rindex(b"\n2026-") + 1]
    run = _running()
    run.ingest([Chunk("k", "app.log", data, 1, fs_path=str(tmp_path / "app.log"))])
    assert run.streams["k"].parser is not None and sum(run.records_read.values()) > 0
    assert sys.getrefcount(data) == 2  # this name, and getrefcount's argument
