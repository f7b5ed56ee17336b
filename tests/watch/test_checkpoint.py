"""``--state``: the analysis itself is checkpointed, so a restart reads nothing twice.

Expected before running (issue 16, "Incremental state"): a watcher stopped after k
batches and restarted from its state file, fed the rest, emits exactly the events an
uninterrupted watcher emits (none lost, none repeated) and ends with the same result,
which is also what one scan of the same bytes gives: findings, templates, the leak
with its per-event attribution and exhaustion time, the onset, every input's counts.
The bytes read before the checkpoint are never read again: after the checkpoint they
are overwritten on disk with junk lines, which a re-reading watcher would count.
"""

from __future__ import annotations

import gzip
import zipfile
from pathlib import Path
from typing import Any

import pytest

from logsleuth import api
from logsleuth.errors import PatternError
from logsleuth.options import ScanOptions
from logsleuth.watch.checkpoint import STATE_VERSION, read_state
from logsleuth.watch.run import Watcher, WatchOptions

INCIDENT = Path(__file__).resolve().parents[2] / "sample_logs" / "incident"
BATCHES = 6


def _files() -> dict[str, bytes]:
    """The incident as it was written: app log (rolled archives joined), GC log, two
    thread dumps, nginx access and error logs."""
    rolled = [INCIDENT / f"push-server-2026-11-26-{i}.log.gz" for i in range(1, 11)]
    app = b"".join(gzip.decompress(p.read_bytes()) for p in rolled) + \
        (INCIDENT / "push-server.log").read_bytes()
    out = {"push-server.log": app, "gc.log": (INCIDENT / "gc.log").read_bytes(),
           "nginx/access.log": (INCIDENT / "nginx" / "access.log").read_bytes(),
           "nginx/error.log": (INCIDENT / "nginx" / "error.log").read_bytes()}
    for p in sorted(INCIDENT.glob("jstack-*.txt"))[:2]:
        out[p.name] = p.read_bytes()
    return out


def _append(root: Path, files: dict[str, bytes], k: int) -> None:
    """Batch ``k`` of ``BATCHES``: each file's next share, cut at an arbitrary byte."""
    for name, data in files.items():
        lo = 0 if k == 0 else min(len(data), len(data) * k // BATCHES + 11 * k)
        hi = len(data) if k == BATCHES - 1 else min(len(data),
                                                      len(data) * (k + 1) // BATCHES + 11 * (k + 1))
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "ab") as f:
            f.write(data[lo:hi])


def _watcher(root: Path, state: Path | None) -> Watcher:
    events: list[dict[str, Any]] = []
    opts = WatchOptions((str(root),), ScanOptions(tz="UTC"), interval=0.0,
                        state=None if state is None else str(state), settle=3600.0,
                        notify=False)
    w = Watcher(opts, events.append)
    w.said = events  # type: ignore[attr-defined]
    return w


def _batch(w: Watcher) -> None:
    """What the loop does when bytes came and the interval passed (deterministic)."""
    w._drain()
    w._analyse()


def _feed(w: Watcher, root: Path, files: dict[str, bytes], batches: range) -> None:
    """Append each batch of ``batches`` and let the watcher take it."""
    for k in batches:
        _append(root, files, k)
        _batch(w)


def _end(w: Watcher) -> None:
    w.analysis.flush()
    w._analyse()


def _said(w: Watcher) -> list[dict[str, Any]]:
    return [{k: v for k, v in e.items() if k != "wall_time"}
            for e in w.said]  # type: ignore[attr-defined]


def _summary(result: Any) -> dict[str, Any]:
    inc = result.incident
    return {
        "findings": sorted((f.rule, f.fingerprint, f.count, f.first_seen, f.last_seen,
                            f.example["line"]) for f in result.findings),
        "templates": sorted(map(tuple, (r.values() for r in
                                        result.table("templates").to_pylist()))),
        "inputs": sorted((s.path, s.kind, s.lines, s.records, s.unparsed_lines)
                         for s in result.inputs),
        "onset": None if inc is None or inc.onset is None else inc.onset.ts_ms,
        "leaks": [] if inc is None else [
            (k.metric, k.per_event and k.per_event.template,
             k.per_event and round(k.per_event.amount, 6), k.exhaustion_at_ms)
            for k in inc.leaks],
    }


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Any], dict[str, Any],
                                                                      dict[str, Any]]:
    root = tmp_path_factory.mktemp("whole")
    files = _files()
    w = _watcher(root, None)
    _feed(w, root, files, range(BATCHES))
    _end(w)
    ref = api.scan([str(root)], keep_records=False, workers=1, tz="UTC")
    return _said(w), _summary(w.latest), _summary(ref)


def test_batches_equal_one_scan(uninterrupted: Any) -> None:
    said, got, ref = uninterrupted
    assert got == ref
    assert got["leaks"] and got["leaks"][0][1] is not None  # attributed to an event
    assert got["onset"] is not None
    kinds = {e["event"] for e in said}
    assert {"finding", "leak", "onset"} <= kinds
    assert any(e["event"] == "finding" and e["rule"].startswith("nginx") for e in said)


@pytest.mark.parametrize("stop_after", [1, 3, 5])
def test_restart_from_state_loses_nothing_repeats_nothing_reads_nothing_twice(
        tmp_path: Path, uninterrupted: Any, stop_after: int) -> None:
    said_whole, got_whole, _ = uninterrupted
    root, state = tmp_path / "logs", tmp_path / "watch.state"
    root.mkdir()
    files = _files()
    first = _watcher(root, state)
    _feed(first, root, files, range(stop_after))
    first.checkpoint()
    assert read_state(str(state)).meta["version"] == STATE_VERSION
    # what was read is overwritten with junk lines of the same length (the first KiB,
    # which names a file, kept): a watcher that read it again would count them
    offsets = {t.path: t.offset for t in first.follower.files.values()}
    for path, offset in offsets.items():
        with open(path, "r+b") as f:
            f.seek(1024)
            n = max(0, offset - 1024)
            f.write((b"junk" * (n // 4 + 1))[:n - 1] + b"\n" if n else b"")
    read: list[int] = []
    second = _watcher(root, state)
    poll = second.follower.poll
    second.follower.poll = lambda: [c for c in poll() if read.append(len(c.data)) or True]
    assert second.restore()
    _feed(second, root, files, range(stop_after, BATCHES))
    _end(second)
    # no event lost, none repeated: the two runs said what one run said
    assert _said(first) + _said(second) == said_whole
    assert _summary(second.latest) == got_whole
    # only the bytes written after the checkpoint were read
    total = sum(len(d) for d in files.values())
    assert sum(read) == total - sum(offsets.values())


def test_state_is_compact_and_refuses_other_options(tmp_path: Path) -> None:
    root, state = tmp_path / "logs", tmp_path / "watch.state"
    root.mkdir()
    files = _files()
    w = _watcher(root, state)
    _feed(w, root, files, range(BATCHES))
    w.checkpoint()
    evidence = sum(len(d) for d in files.values())
    assert 0 < w.state_bytes < evidence / 10  # aggregates, not the records (4 % here)
    with zipfile.ZipFile(state) as z:
        assert "state.json" in z.namelist()
        assert not any("records" in n for n in z.namelist())
    other = Watcher(WatchOptions((str(root),), ScanOptions(tz="Europe/Berlin"),
                                 state=str(state), notify=False), lambda e: None)
    with pytest.raises(PatternError, match="other analysis options"):
        other.restore()
    state.write_bytes(b"{\"version\": 1}")
    with pytest.raises(PatternError, match=r"not a logsleuth"):
        _watcher(root, state).restore()


def test_a_state_from_another_version_is_refused_in_one_line(tmp_path: Path) -> None:
    """A state written before a collector existed (here: saved without jvmconsole, as
    before session 9) cannot continue, since that collector missed what was read: a
    one-line bad-state error naming the file, not a traceback."""
    from logsleuth.watch.checkpoint import write_state

    root, state = tmp_path / "logs", tmp_path / "watch.state"
    root.mkdir()
    w = _watcher(root, state)
    _feed(w, root, _files(), range(1))
    w.checkpoint()
    snap = read_state(str(state))
    lists = [k for k, v in snap.meta.items() if k.endswith(".names") and "jvmconsole" in v]
    assert lists, "no saved collector list names jvmconsole"
    for k in lists:
        snap.meta[k] = [n for n in snap.meta[k] if n != "jvmconsole"]
    write_state(str(state), snap)
    with pytest.raises(PatternError, match="does not fit this version") as err:
        _watcher(root, state).restore()
    assert str(state) in str(err.value) and "\n" not in str(err.value).strip()
    snap.meta["version"] = STATE_VERSION - 1
    write_state(str(state), snap)
    with pytest.raises(PatternError, match=f"version {STATE_VERSION - 1} is not"):
        _watcher(root, state).restore()


def test_restart_keeps_the_zone_read_when_it_began(tmp_path: Path) -> None:
    """The zone inferred from a GC log's offsets stays the state's after the GC log is
    gone (rotated away): the records read after the restart are on the same clock."""
    root, state = tmp_path / "logs", tmp_path / "watch.state"
    root.mkdir()
    (root / "gc.log").write_bytes((INCIDENT / "gc.log").read_bytes())
    app = (INCIDENT / "push-server.log").read_bytes()
    half = app.index(b"\n2026-", len(app) // 2) + 1
    (root / "push-server.log").write_bytes(app[:half])
    opts = WatchOptions((str(root),), ScanOptions(), state=str(state), settle=3600.0,
                        notify=False)
    first = Watcher(opts, lambda e: None)
    assert first.context["tz"] and "inferred" in first.context["tz"]
    first._drain()
    first.checkpoint()
    (root / "gc.log").unlink()
    with open(root / "push-server.log", "ab") as f:
        f.write(app[half:])
    second = Watcher(opts, lambda e: None)
    assert second.context != first.context  # alone, the app log says no zone
    assert second.restore()
    assert second.context == first.context
    assert second.analysis.default_tz == first.analysis.default_tz
    second._drain()
    second.analysis.flush()
    ref = api.scan([str(INCIDENT / "push-server.log"), str(INCIDENT / "gc.log")],
                   keep_records=False, workers=1)
    got = second.analysis.finalize()
    want = {s.path: (s.first_ts_ms, s.last_ts_ms) for s in ref.inputs}["push-server.log"]
    assert {s.path: (s.first_ts_ms, s.last_ts_ms) for s in got.inputs}["push-server.log"] == want


def _switches_elsewhere() -> int:
    """Voluntary context switches of every thread of this process but the calling one."""
    import re
    import threading

    me, total = threading.get_native_id(), 0
    for task in Path("/proc/self/task").iterdir():
        if int(task.name) != me:
            text = (task / "status").read_text()
            total += int(re.search(r"^voluntary_ctxt_switches:\s+(\d+)", text, re.M)[1])
    return total


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(),
                    reason="threads' context switches are read from Linux /proc")
def test_writing_the_state_wakes_no_other_thread(tmp_path: Path) -> None:
    """A checkpoint compresses its tables on the calling thread: Arrow's default handed
    every buffer to its pool (~600 wakeups of its threads for the incident's state,
    thousands for a large one: the burst an idle watcher showed after its last write)."""
    root, state = tmp_path / "logs", tmp_path / "watch.state"
    root.mkdir()
    files = _files()
    w = _watcher(root, state)
    _feed(w, root, files, range(BATCHES))
    w.checkpoint()  # the first one may start what a process starts once
    before = _switches_elsewhere()
    w.checkpoint()
    assert _switches_elsewhere() - before <= 5
    assert read_state(str(state)).tables  # and the tables were written
