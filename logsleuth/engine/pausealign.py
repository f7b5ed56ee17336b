"""The JVM start of an uptime-only GC log, from the app log's silence during GC pauses.

A stop-the-world pause stalls every application thread, so the app log holds no record
stamped inside a pause's interval ``[start + u - d, start + u]`` (``u`` the uptime the
unified log prints on the pause's end line, ``d`` its duration). With hundreds of pauses
one JVM start ``start`` leaves those intervals far emptier than the app log's local
record rate predicts; any other start does not. The search covers every offset at which
the two logs overlap, on a 1 ms grid, as one FFT cross-correlation (records per ms
against the pause mask), so rolled app logs that begin long after the JVM are covered.

Unified logging (JDK 9+) only, where the uptime stamps the pause's end line; JDK 8 logs
stamp its start and are not aligned (no validation case). It is a last resort
(``--jvm-start``, wall-clock decorations or thread dumps come first) and refuses unless
the optimum is deep and unique: ``z <= MIN_Z`` (Poisson z-score of the
records counted inside the pauses against the count expected at the local rate) and at
least twice as deep as the best offset more than ``EXCLUDE_MS`` (or the longest pause)
away. Validated in tests/timeline/test_pausealign.py against GC logs that print both
clocks: the start is found to 1 ms, and mismatched logs are refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from logsleuth.engine.guard import reported
from logsleuth.errors import Diagnostic
from logsleuth.model import Kind

MIN_PAUSE_MS = 3.0  # app stamps are whole ms: shorter pauses hide no record reliably
MIN_PAUSES = 20
MIN_RECORDS = 100
MIN_Z = -6.0  # ~1e5 offsets searched: the deepest chance dip of matched noise is ~ -4.5
DEPTH_RATIO = 2.0  # the best dip at least this many times deeper than the next one
EXCLUDE_MS = 100  # the next dip is looked for this far (or a longest pause) from the best
RATE_WINDOW_MS = 1000  # the local record rate the expected count is taken from
MAX_GRID = 1 << 23  # ~2.3 h of app log + twice the pause window, 1 ms grid (~0.5 GB peak)
PAUSE_WINDOW_MS = 15 * 60_000  # a longer GC log: its 15 min holding the most pauses


@dataclass(frozen=True, slots=True)
class PauseAnchor:
    ms: int  # the JVM start, epoch ms
    uncertainty_ms: int  # half-width of the optimum (within 2 sigma of the best), + 1 ms
    z: float  # the best offset's z-score (records in pauses vs expected)
    z_next: float  # the deepest dip elsewhere
    pauses: int  # pauses >= MIN_PAUSE_MS used
    observed: int  # app records stamped inside them at the best offset
    expected: float  # ... and how many the local rate predicts


def align_start(uptime_end_ms: np.ndarray, pause_ms: np.ndarray,
                record_ms: np.ndarray) -> PauseAnchor | None:
    """The JVM start that empties the pause intervals of app records, or None when the
    evidence does not single one out (too few pauses or records, no deep unique dip)."""
    keep = (pause_ms >= MIN_PAUSE_MS) & np.isfinite(uptime_end_ms)
    end = np.round(uptime_end_ms[keep]).astype(np.int64)
    dur = np.round(pause_ms[keep]).astype(np.int64)
    times = np.sort(np.asarray(record_ms, dtype=np.int64))
    if len(end) < MIN_PAUSES or len(times) < MIN_RECORDS:
        return None
    order = np.argsort(end)
    end, dur = end[order], dur[order]
    base = 0
    if end[-1] - end[0] > PAUSE_WINDOW_MS:  # keeps the grid small for long GC logs
        last = np.searchsorted(end, end + PAUSE_WINDOW_MS, side="right")
        first = int(np.argmax(last - np.arange(len(end))))
        end, dur = end[first:last[first]], dur[first:last[first]]
        base = max(int(end[0] - dur.max()) - 1, 0)
        if len(end) < MIN_PAUSES:
            return None
    end = end - base  # the start found is then that of uptime ``base``
    beg = np.maximum(end - dur + 1, 0)  # shrink by the app stamps' 1 ms resolution
    width = int(end.max()) + 1
    t0 = int(times[0])
    span = int(times[-1]) - t0 + 1
    n = 1 << int(np.ceil(np.log2(span + 2 * width)))
    if n > MAX_GRID:
        return None
    mask = np.zeros(width + 1)
    np.add.at(mask, beg, 1.0)
    np.add.at(mask, np.minimum(end - 1, width), -1.0)
    mask = (np.cumsum(mask)[:width] > 0).astype(float)
    counts = np.bincount(times - t0, minlength=span).astype(float)
    csum = np.concatenate(([0.0], np.cumsum(counts)))
    half = RATE_WINDOW_MS // 2
    lo = np.clip(np.arange(span) - half, 0, span)
    hi = np.clip(np.arange(span) + half, 0, span)
    rate = (csum[hi] - csum[lo]) / RATE_WINDOW_MS
    spec = np.conj(np.fft.rfft(mask, n))
    padded = np.zeros(n)
    padded[width:width + span] = counts
    observed = np.fft.irfft(np.fft.rfft(padded) * spec, n)[:span + width]
    padded[width:width + span] = rate
    expected = np.fft.irfft(np.fft.rfft(padded) * spec, n)[:span + width]
    offsets = np.arange(span + width) - width  # JVM start - first record
    ok = expected > 5.0
    if not ok.any():
        return None
    z = np.full(len(offsets), np.inf)
    z[ok] = (observed[ok] - expected[ok]) / np.sqrt(expected[ok])
    best = int(np.argmin(z))
    far = np.abs(offsets - offsets[best]) > max(EXCLUDE_MS, int(dur.max()))
    z_next = float(z[far & ok].min()) if (far & ok).any() else 0.0
    if z[best] > MIN_Z or z[best] > DEPTH_RATIO * z_next:
        return None
    apart = np.flatnonzero(z > z[best] + 2.0)  # the optimum: offsets within 2 sigma of it
    left = int(apart[apart < best].max()) + 1 if (apart < best).any() else 0
    right = int(apart[apart > best].min()) - 1 if (apart > best).any() else len(z) - 1
    return PauseAnchor(t0 + int(offsets[best]) - base, (right - left) // 2 + 1, float(z[best]),
                       z_next, len(end), round(float(observed[best])),
                       float(expected[best]))


def jvm_start_from_pauses(planned: Sequence[Any], default_tz: tzinfo | None,
                          base_dates: dict[str, date] | None = None,
                          diagnostics: list[Diagnostic] | None = None
                          ) -> tuple[PauseAnchor, str] | None:
    """Read the GC logs' pauses and the app logs' record times (a second read of the app
    logs, paid only when no other evidence anchors the GC logs) and align them."""
    pauses = _pauses(planned, diagnostics)
    if pauses is None:
        return None
    times = _record_times(planned, default_tz, base_dates or {}, diagnostics)
    if times is None:
        return None
    found = align_start(pauses[0], pauses[1], times)
    if found is None:
        return None
    when = datetime.fromtimestamp(found.ms / 1000, tz=UTC).isoformat(timespec="milliseconds")
    return found, (
        f"JVM start {when} (± {found.uncertainty_ms} ms) estimated by aligning "
        f"{found.pauses} stop-the-world pauses >= {MIN_PAUSE_MS:g} ms with the app log's "
        f"silences: {found.observed} app records fall inside them where the local rate "
        f"predicts {found.expected:.0f} (z {found.z:.1f}; the next best start gives "
        f"z {found.z_next:.1f}); pass --jvm-start if you know better")


def _pauses(planned: Sequence[Any],
            diagnostics: list[Diagnostic] | None) -> tuple[np.ndarray, np.ndarray] | None:
    from logsleuth.parsers.gc import is_unified_gc_log, parse_gc_log

    ups: list[np.ndarray] = []
    durs: list[np.ndarray] = []
    for p in planned:
        if p.kind != Kind.GC_LOG or getattr(p, "wrapper", None) is not None:
            continue
        events = None
        with reported(p.source.path, "reading this GC log's pauses to align them with the "
                      "app log", diagnostics), p.source.open() as stream:
            data = stream.read()
            # unified logging only: validated there; JDK 8 stamps a pause's start
            if is_unified_gc_log(data):
                events = parse_gc_log(data, p.source.path).tables.get("gc_events")
        if events is None or events.num_rows == 0:
            continue
        t = events.select(["uptime_ms", "pause_ms"]).drop_null()
        ups.append(t["uptime_ms"].to_numpy())
        durs.append(t["pause_ms"].to_numpy())
    if not ups:
        return None
    return np.concatenate(ups), np.concatenate(durs)


def _record_times(planned: Sequence[Any], default_tz: tzinfo | None,
                  base_dates: dict[str, date],
                  diagnostics: list[Diagnostic] | None) -> np.ndarray | None:
    from logsleuth.engine.collectors import CollectorSet
    from logsleuth.engine.reader import feed_stream
    from logsleuth.engine.stats import InputStats
    from logsleuth.engine.units import Partial, UnitOptions, WorkUnit, app_log_parser

    options = UnitOptions(default_tz=default_tz, base_dates=dict(base_dates))
    found: list[pa.Array] = []

    def sink(cb: Any) -> None:
        found.append(pc.drop_null(cb.batch.column("ts")).cast(pa.int64()))

    for p in planned:
        if p.kind != Kind.APP_LOG or p.layout is None:
            continue
        unit = WorkUnit(p.source, p.kind, p.layout, wrapper=getattr(p, "wrapper", None))
        scratch = Partial(p.source.path, 0, InputStats(p.source.path),
                          CollectorSet.create((), {}))
        with reported(p.source.path, "reading this app log's record times to align the GC "
                      "log's pauses with them", diagnostics), p.source.open() as stream:
            feed_stream(stream, app_log_parser(unit, options, scratch, sink),
                        chunk_size=options.chunk_size)
    if not found:
        return None
    return np.concatenate([a.to_numpy(zero_copy_only=False) for a in found])
