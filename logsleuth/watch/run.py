"""The watch loop: backfill, then follow, finalize, emit; checkpoint; stop cleanly.

Waiting uses OS notifications (``watchfiles``) when installed, else a plain
poll: either way an idle watcher sleeps between stat calls of its files.
"""

from __future__ import annotations

import glob
import json
import os
import threading
import time
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from logsleuth.options import ScanOptions
from logsleuth.watch.checkpoint import STATE_VERSION
from logsleuth.watch.events import EventLog
from logsleuth.watch.follow import Follower
from logsleuth.watch.state import SETTLE_SECONDS, RunningAnalysis

HEARTBEAT_MIN_S = 60.0  # heartbeats reach the log at most once a minute
LOST_GRACE_S = 10.0  # a file deleted unread is lost unless a compressed copy appears by then

Emit = Callable[[dict[str, Any]], None]


@dataclass(frozen=True, slots=True)
class WatchOptions:
    """What one watcher does; ``scan`` (layout, zone, rules, metrics, limits) is the
    scan's own options object, whole."""

    paths: tuple[str, ...]
    scan: ScanOptions = field(default_factory=ScanOptions)
    interval: float = 10.0  # seconds between analyses (and heartbeats)
    horizon_ms: int = 7 * 86_400_000
    state: str | None = None
    poll: float = 1.0  # seconds between checks of the files without notifications
    settle: float = SETTLE_SECONDS
    heartbeat_min: float = HEARTBEAT_MIN_S
    notify: bool = True  # use watchfiles when installed
    max_seconds: float | None = None  # stop by itself after this long (bounded runs)
    outputs: tuple[str, ...] = ()  # files the watcher writes (events): never read back


class StopEvent(threading.Event):
    """Set to stop the watcher; also wakes it from its wait at once."""

    def __init__(self) -> None:
        super().__init__()
        self.wake = threading.Event()  # a file changed, or stop was asked

    def set(self) -> None:
        super().set()
        self.wake.set()


@dataclass
class Watcher:
    """One watcher's parts; ``run`` drives them until ``stop`` is set."""

    options: WatchOptions
    emit: Emit
    stop: StopEvent = field(default_factory=StopEvent)
    on_result: Callable[[Any, Watcher], None] | None = None  # live view, metrics
    follower: Follower = field(init=False)
    analysis: RunningAnalysis = field(init=False)
    events: EventLog = field(init=False)
    latest: Any = None
    state_bytes: int = 0  # size of the last checkpoint written

    def __post_init__(self) -> None:
        from logsleuth import api

        o = self.options
        scan = o.scan
        default_tz, tz_label = api.resolve_tz(scan.tz), scan.tz
        self.diagnostics: list[Any] = []
        jvm_start = api.parse_instant(scan.jvm_start)
        if default_tz is None or jvm_start is None:  # as scan decides them, on what is there
            planned = plan_now(o.paths, scan, [])  # its own diagnostics: the streams say them
            if default_tz is None:  # GC and nginx logs beside zone-less app logs tell it
                from logsleuth.engine.planner import infer_app_zone

                inferred = infer_app_zone(planned, self.diagnostics)
                if inferred is not None:
                    default_tz, tz_label = inferred.tz, f"{inferred.label} (inferred)"
            if jvm_start is None:  # uptime-only GC logs: the thread dumps' JVM start
                jvm_start = api.jvm_start_from_evidence(planned, default_tz, self.diagnostics)
        own = [*o.outputs, *([o.state] if o.state else [])]
        self.follower = Follower(list(o.paths),
                                 exclude=frozenset(os.path.abspath(p) for p in own))
        self.context = {"zone": _zone_json(default_tz), "tz": tz_label,
                        "jvm_start_ms": jvm_start}  # decided on the files there at start
        self.analysis = self._analysis(self.context)
        self.analysis.diagnostics.extend(self.diagnostics)
        self.events = EventLog(horizon_ms=o.horizon_ms)

    def _analysis(self, context: dict[str, Any]) -> RunningAnalysis:
        return RunningAnalysis.for_scan(self.options.scan, default_tz=_zone(context["zone"]),
                                        tz=context["tz"], settle=self.options.settle,
                                        jvm_start_ms=context["jvm_start_ms"])

    # -- checkpoint -----------------------------------------------------------
    def restore(self) -> bool:
        """Continue from ``--state``: offsets and identities, what was said, and the
        analysis itself (``watch.checkpoint``): nothing already read is read again."""
        from logsleuth.errors import PatternError
        from logsleuth.watch.checkpoint import load_analysis, read_state

        path = self.options.state
        if path is None or not os.path.exists(path):
            return False
        try:
            snap = read_state(path)
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as err:
            raise PatternError.at(path, "bad-state",
                                  f"not a logsleuth watch state ({err}); remove it to start "
                                  "afresh") from None
        meta = snap.meta
        if meta.get("version") != STATE_VERSION:
            raise PatternError.at(path, "bad-state",
                                  f"state file version {meta.get('version')} is not "
                                  f"{STATE_VERSION}; remove it to start afresh")
        if meta.get("options") != _options_key(self.options.scan):
            raise PatternError.at(path, "bad-state",
                                  "the state was written with other analysis options "
                                  "(zone, layout, rules, metrics, limits); remove it to "
                                  "start afresh")
        self.follower.restore(meta["follower"])
        self.events.restore(meta["events"])
        if meta["context"] != self.context:  # the zone or JVM start read when it began
            self.context = meta["context"]  # (the files that told them may be gone now)
            self.analysis = self._analysis(self.context)
        try:
            load_analysis(self.analysis, snap)
        except (KeyError, ValueError) as err:  # e.g. collectors of another version
            raise PatternError.at(path, "bad-state",
                                  f"the saved analysis does not fit this version ({err}); "
                                  "remove it to start afresh") from None
        return True

    def checkpoint(self) -> None:
        from logsleuth.engine.snapshot import Snapshot
        from logsleuth.watch.checkpoint import dump_analysis, write_state

        path = self.options.state
        if path is None:
            return
        snap = Snapshot({"version": STATE_VERSION, "paths": list(self.options.paths),
                         "options": _options_key(self.options.scan),
                         "context": self.context,
                         "follower": self.follower.to_json(),
                         "events": self.events.to_json()})
        dump_analysis(self.analysis, snap)
        self.state_bytes = write_state(path, snap)

    # -- the loop -------------------------------------------------------------
    def run(self) -> int:
        o = self.options
        started = time.monotonic()
        resumed = self.restore()
        missing = [p for p in o.paths if not os.path.exists(p) and not glob.has_magic(p)]
        self.emit(self.events.event("started", self.analysis.evidence_ms,
                                    paths=list(o.paths), resumed=resumed,
                                    files=[name for _, name in self.follower.listing()],
                                    missing=missing, interval=o.interval,
                                    horizon_ms=o.horizon_ms))
        self._drain()  # backfill: everything already there, analysed once
        self._analyse()
        last_analysis = last_beat = time.monotonic()
        pending = False
        with _Waiter(o, self.stop.wake) as wait:
            while not self.stop.is_set():
                if o.max_seconds is not None and time.monotonic() - started > o.max_seconds:
                    break
                if not self.follower.backlog:  # else: more is there to read now
                    wait(self.stop, o.poll)
                if self.stop.is_set():
                    break
                pending |= self._drain(budget=o.interval) > 0
                now = time.monotonic()
                if pending and now - last_analysis >= o.interval:
                    self._analyse()
                    self.checkpoint()
                    last_analysis, pending = now, False
                if now - last_beat >= max(o.interval, o.heartbeat_min):
                    self._heartbeat()
                    last_beat = now
        # stopping: what was written before the stop was asked is read, and new files
        # are read on the lines they have (a record still being written stays held: the
        # state keeps it for the next run)
        pending |= self._drain() > 0
        pending |= self.analysis.start_new() > 0
        if self.options.state is None:  # no next run to see a late copy: say them now
            self._report_lost(0.0)
        if pending:
            self._analyse()
        self.checkpoint()
        self.emit(self.events.event("stopped", self.analysis.evidence_ms,
                                    records=sum(self.analysis.records_read.values())))
        return 0

    def _drain(self, budget: float | None = None) -> int:
        """Read until nothing is left to read now, or for ``budget`` seconds; records parsed.

        Without the budget a stream appended faster than one poll reads (``MAX_READ``)
        kept the loop here as long as it lasted: no analysis, heartbeat or checkpoint
        for minutes (8 min of a 20 MB/s stream, bench/watch_stream.py).
        """
        start = time.monotonic()
        n = self.analysis.ingest(self.follower.poll())
        while (self.follower.backlog and not self.stop.is_set()
               and (budget is None or time.monotonic() - start < budget)):
            n += self.analysis.ingest(self.follower.poll())
        self.analysis.retire({t.stream for t in self.follower.files.values()})
        self._report_lost(LOST_GRACE_S)
        return n

    def _report_lost(self, grace: float) -> None:
        """Bytes a writer deleted before the watcher read them: said loudly, once (a
        watcher far behind a writer that keeps few archives loses them)."""
        from logsleuth.errors import DiagLevel, Diagnostic, SourceLocation

        for t in self.follower.lost(grace):
            unread = t.size - t.offset
            self.analysis.diagnostics.append(Diagnostic(
                SourceLocation(t.path or t.display, t.lines + 1), "unread-deleted",
                f"deleted or moved away with at least {unread} bytes not read (read "
                f"{t.offset} of {t.size}; no compressed copy of it appeared): the records "
                "in them are lost to this watch (it was behind the writer)",
                level=DiagLevel.WARNING))
            self.emit(self.events.event("lost", self.analysis.evidence_ms, path=t.display,
                                        file=t.path, line=t.lines + 1, bytes=unread,
                                        read_bytes=t.offset))

    def _analyse(self) -> None:
        result = self.analysis.finalize()
        self.latest = result
        for event in self.events.from_result(result, self.analysis.evidence_ms):
            self.emit(event)
        if self.on_result is not None:
            self.on_result(result, self)
        give_back_memory()

    def _heartbeat(self) -> None:
        self.emit(self.events.event(
            "heartbeat", self.analysis.evidence_ms,
            files=len(self.follower.files), records=sum(self.analysis.records_read.values()),
            findings=len(self.latest.findings) if self.latest is not None else 0))


def give_back_memory() -> None:
    """Return what an analysis (and the view fed by it) freed to the system before the
    watcher waits: glibc's malloc and Arrow's pool keep freed pages for reuse, so an
    idle watcher's RSS sat ~65 MiB above its live state (30-day bench, in-process).
    The analysis trims the heap where it starts (``analyze_scan``); this trims where
    it ends. A few ms per analysis; only Arrow's pool without glibc."""
    import pyarrow as pa

    from logsleuth.engine.memory import release_free_heap

    pa.default_memory_pool().release_unused()
    release_free_heap()


def plan_now(paths: Sequence[str], scan: ScanOptions, diagnostics: list[Any]) -> list[Any]:
    """The inputs under ``paths`` now, planned as scan plans them (kind, layout, head)."""
    from logsleuth import api
    from logsleuth.engine.planner import plan_inputs
    from logsleuth.parsers.classify import KindOverrides
    from logsleuth.sources import discover

    choice = api.layout_choice(scan.pattern, scan.log4j2_config, scan.logback_config)
    found = discover(list(paths))
    return plan_inputs(found.sources, choice, KindOverrides.parse(list(scan.kinds)),
                       diagnostics, None)


def _zone_json(tz: Any) -> Any:
    """A resolved zone as JSON: an IANA key, or a fixed offset in seconds (inferred)."""
    if tz is None:
        return None
    key = getattr(tz, "key", None)
    if key is not None:
        return key
    return int(tz.utcoffset(None).total_seconds())


def _zone(data: Any) -> Any:
    from datetime import timedelta, timezone
    from zoneinfo import ZoneInfo

    if data is None:
        return None
    return ZoneInfo(data) if isinstance(data, str) else timezone(timedelta(seconds=data))


def _options_key(scan: ScanOptions) -> dict[str, Any]:
    """The options a saved analysis depends on: another value makes it meaningless."""
    keep = ("pattern", "log4j2_config", "logback_config", "tz", "date", "kinds", "jvm_start",
            "rules", "rules_dirs", "only", "exclude", "metrics", "limits", "analysis")
    return json.loads(json.dumps({k: getattr(scan, k) for k in keep}, default=str))


class _Waiter:
    """``wait(stop, timeout)``: returns on a file change (watchfiles) or after ``timeout``."""

    def __init__(self, options: WatchOptions, changed: threading.Event) -> None:
        self.options = options
        self.changed = changed
        self.quit = threading.Event()
        self.thread: threading.Thread | None = None

    def __enter__(self) -> Callable[[threading.Event, float], None]:
        if self.options.notify:
            try:
                import watchfiles
            except ImportError:
                watchfiles = None  # type: ignore[assignment]
            roots = _roots(self.options.paths)
            if watchfiles is not None and roots:
                self.thread = threading.Thread(target=self._notify, args=(watchfiles, roots),
                                               name="logsleuth-notify", daemon=True)
                self.thread.start()
        return self.wait

    def _notify(self, watchfiles: Any, roots: list[str]) -> None:
        try:
            # step: how often the notifier's thread wakes to look for changes; its
            # default of 50 ms was 20 wakeups a second on an idle host (bench/watch_stream.py
            # idle), 500 ms keeps them at 2 for a watcher that analyses every --interval s
            for _ in watchfiles.watch(*roots, stop_event=self.quit, debounce=50, step=500,
                                      rust_timeout=1000, yield_on_timeout=False,
                                      raise_interrupt=False):
                self.changed.set()
        except Exception:  # notifications are an optimisation: polling goes on
            return

    def wait(self, stop: threading.Event, timeout: float) -> None:
        # with notifications the poll is only a safety net: wait longer between stats
        self.changed.wait(timeout * (5 if self.thread is not None else 1))
        self.changed.clear()
        if stop.is_set():
            self.changed.set()

    def __exit__(self, *exc: object) -> None:
        self.quit.set()
        if self.thread is not None:
            self.thread.join(2.0)


def _roots(paths: Sequence[str]) -> list[str]:
    """Directories to be notified about (a watched file's folder sees its rotations)."""
    out = []
    for p in paths:
        path = Path(p)
        root = path if path.is_dir() else path.parent
        if root.exists() and str(root) not in out:
            out.append(str(root))
    return out
