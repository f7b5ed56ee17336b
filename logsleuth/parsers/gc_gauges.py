"""Resource gauges a GC log states after each collection, as ``metrics`` rows.

The leak analysis reads one series table; a GC log feeds it without any
definition from the user:

- ``jvm_heap_after_gc``: the whole heap after every stop-the-world collection
  (``gc_events.heap_after_kb``), any collector, JDK 8 and unified. Capped by
  ``jvm_max_heap`` (``-Xmx``, ``MaxHeapSize``, ``Heap Max Capacity``) through the
  ``*heap*`` glob of those ceilings.
- ``jvm_heap_old_after_gc``: the old generation after a collection: Parallel's
  ``ParOldGen``/``PSOldGen``, Serial's ``Tenured``, CMS's ``CMS``, G1's ``Old
  regions`` (times ``Heap Region Size``; skipped when the size is not stated). A
  capacity the line prints is its ceiling (``jvm_heap_old_capacity``).
- ``jvm_metaspace_after_gc``: ``Metaspace: A->B(C)`` (JDK 8 inside the event,
  unified on its own ``gc,metaspace`` line): the used size after GC, or from JDK 17's
  ``used(committed)->used(committed)`` the committed size, which is what
  ``-XX:MaxMetaspaceSize`` bounds. The ceiling is that flag when some evidence prints
  it; the reserved size JDK 8-11 print in parentheses is never a limit.

A pool line is placed at its collection: the pause of the same ``GC(N)`` in
unified logs, else the event at or before its line (JDK 8 prints them inside the
event). One regex pass over the text; lines it finds are already counted as GC
lines by the parser.
"""

from __future__ import annotations

import itertools
import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from logsleuth.parsers.metrics import METRICS_SCHEMA

HEAP = "jvm_heap_after_gc"
OLD = "jvm_heap_old_after_gc"
OLD_CAPACITY = "jvm_heap_old_capacity"
METASPACE = "jvm_metaspace_after_gc"
_PAUSES = ("young", "mixed", "full", "degenerated", "pause-other")

_SIZE = r"(?P<{0}>\d+(?:\.\d+)?)(?P<{0}u>[BKMG])"
_POOL_RE = re.compile(
    r"(?:GC\((?P<id>\d+)\) |\[)(?P<pool>Metaspace|ParOldGen|PSOldGen|Tenured|CMS|Old regions)"
    r": " + _SIZE.format("b") + r"?(?P<bc>\([^)\n]*\))?->"
    + _SIZE.format("a") + r"?(?:\((?P<c>\d+(?:\.\d+)?)(?P<cu>[BKMG])\))?")
_REGIONS_RE = re.compile(r"GC\((?P<id>\d+)\) Old regions: (?P<b>\d+)->(?P<a>\d+)")
_REGION_SIZE_RE = re.compile(r"Heap Region Size: (?P<v>\d+)(?P<u>[KMG])")
_KB = {"B": 1 / 1024, "K": 1.0, "M": 1024.0, "G": 1024.0 ** 2}


def _kb(value: str | None, unit: str | None) -> float | None:
    return None if value is None else float(value) * _KB[unit or "K"]


def gc_gauges(text: str, events: pa.Table, source: str) -> pa.Table:
    """``metrics`` rows (origin gauge, and old-gen capacities as limits) of one GC log."""
    parts = [_heap_rows(events, source)]
    pools = _pool_rows(text, events, source)
    if pools is not None:
        parts.append(pools)
    out = pa.concat_tables(parts)
    return out.filter(pc.is_valid(out["ts"])) if out.num_rows else out


def _table(source: str, lines: np.ndarray, ts: pa.Array, metric: list[str],
           value: np.ndarray, origin: list[str], caps: list[str | None]) -> pa.Table:
    n = len(lines)
    return pa.table({
        "source": pa.array([source] * n, pa.string()), "line": pa.array(lines, pa.int64()),
        "ts": ts.cast(pa.timestamp("ms", tz="UTC")), "metric": pa.array(metric, pa.string()),
        "value": pa.array(value, pa.float64()),
        "unit": pa.array(["B"] * n, pa.string()), "origin": pa.array(origin, pa.string()),
        "caps": pa.array(caps, pa.string())}, schema=METRICS_SCHEMA)


def _heap_rows(events: pa.Table, source: str) -> pa.Table:
    pause = pc.and_(pc.is_in(events["kind"].cast(pa.string()), pa.array(_PAUSES)),
                    pc.is_valid(events["heap_after_kb"]))
    e = events.filter(pc.fill_null(pause, False))
    n = e.num_rows
    return _table(source, e["line"].to_numpy(), e["ts"].combine_chunks() if n else
                  pa.array([], pa.timestamp("ms", tz="UTC")), [HEAP] * n,
                  e["heap_after_kb"].to_numpy(zero_copy_only=False).astype(np.float64) * 1024,
                  ["gauge"] * n, [None] * n)


def _pool_rows(text: str, events: pa.Table, source: str) -> pa.Table | None:
    found = [(m.start(), m) for m in _POOL_RE.finditer(text)]
    if not found or events.num_rows == 0:
        return None
    region = _REGION_SIZE_RE.search(text)
    region_kb = _kb(region["v"], region["u"]) if region else None
    starts = np.array([s for s, _ in found], np.int64)
    lines = 1 + np.array([text.count("\n", 0, s) for s in starts[:1]] or [0], np.int64)
    # line numbers of every hit: one count per gap between consecutive hits
    gaps = [text.count("\n", int(a), int(b)) for a, b in itertools.pairwise(starts)]
    lines = np.concatenate([lines, lines[0] + np.cumsum(np.array(gaps, np.int64))])
    ev_line = events["line"].to_numpy()
    ev_id = events["gc_id"].to_numpy(zero_copy_only=False)
    ev_kind = events["kind"].cast(pa.string()).to_numpy(zero_copy_only=False)
    ev_ts = events["ts"].combine_chunks()
    is_pause = np.isin(ev_kind, _PAUSES)
    pause_by_id = {int(i): k for k, i in enumerate(ev_id) if is_pause[k] and i == i}
    order = np.argsort(ev_line, kind="stable")
    rows: list[tuple[int, int, str, float, str, str | None]] = []
    for (_, m), line in zip(found, lines.tolist(), strict=True):
        at = pause_by_id.get(int(m["id"])) if m["id"] else None
        if at is None:  # JDK 8: the event this line belongs to starts at or before it
            k = int(np.searchsorted(ev_line[order], line, side="right")) - 1
            if k < 0:
                continue
            at = int(order[k])
        pool = m["pool"]
        if pool == "Old regions":
            r = _REGIONS_RE.match(text, m.start())
            if r is None or region_kb is None:
                continue
            rows.append((line, at, OLD, float(r["a"]) * region_kb * 1024, "gauge", None))
            continue
        after = _kb(m["a"], m["au"])
        if after is None:
            continue
        metric = METASPACE if pool == "Metaspace" else OLD
        cap = _kb(m["c"], m["cu"])
        if metric == METASPACE and m["bc"] and cap:
            # JDK 17+ prints used(committed)->used(committed): MaxMetaspaceSize bounds the
            # committed space, which is what runs out; older JDKs print the reserved size
            after = cap
        rows.append((line, at, metric, after * 1024, "gauge", None))
        if metric == OLD and cap:
            rows.append((line, at, OLD_CAPACITY, cap * 1024, "limit", OLD))
    if not rows:
        return None
    at = pa.array([r[1] for r in rows], pa.int64())
    t = _table(source, np.array([r[0] for r in rows], np.int64), pc.take(ev_ts, at),
               [r[2] for r in rows], np.array([r[3] for r in rows]), [r[4] for r in rows],
               [r[5] for r in rows])
    from logsleuth.parsers.metrics import first_statements

    return first_statements(t)
