"""Resource gauges a GC log states after each collection, as ``metrics`` rows.

The leak analysis reads one series table; a GC log feeds it without any
definition from the user:

- ``jvm_heap_after_gc``: the whole heap after every stop-the-world collection
  (``gc_events.heap_after_kb``), any collector, JDK 8 and unified (ZGC: the live set its
  ``gc,heap`` table states at mark end, where logged); to the KiB where the
  collection's young (``PSYoungGen``, ``DefNew``, ``ParNew``) and old generation lines
  both state their size after it (unified Parallel and Serial round the summary line to
  whole MiB). Capped by
  ``jvm_max_heap`` (``-Xmx``, ``MaxHeapSize``, ``Heap Max Capacity``) through the
  ``*heap*`` glob of those ceilings.
- ``jvm_heap_old_after_gc``: the old generation after a collection: Parallel's
  ``ParOldGen``/``PSOldGen``, Serial's ``Tenured``, CMS's ``CMS``, G1's ``Old
  regions`` (times ``Heap Region Size``; skipped when the size is not stated). A
  capacity the line prints is its ceiling (``jvm_heap_old_capacity``).
- ``jvm_metaspace_after_gc``: the *used* metaspace after GC, what a class-loader leak
  grows by (the ``MemoryPoolMXBean`` "Metaspace" ``used``): ``Metaspace: A->B(C)``
  (JDK 8 inside the event, JDK 9-15 on its own ``gc,metaspace`` line; ``C`` is the
  reserved size, never a limit), JDK 16+'s ``used(committed)->used(committed)``, ZGC's
  ``N used, N committed, N reserved``.
- ``jvm_metaspace_committed_after_gc``: the *committed* metaspace, what
  ``-XX:MaxMetaspaceSize`` bounds (the JVM fails when committed space cannot grow past
  it, while used is still below): from JDK 16+'s and ZGC's lines, and from the
  ``Metaspace used U, capacity X, committed C`` line of a heap block (JDK 8's
  ``PrintHeapAtGC`` "after" blocks and every JDK's heap-at-exit block; "before" blocks
  are skipped). It moves in chunks (64 KiB and more), ~3x the used growth of a few
  KiB per class. The ceiling of both is that flag when some evidence prints it.

A pool line is placed at its collection: the pause of the same ``GC(N)`` in
unified logs, else the event at or before its line (JDK 8 prints them inside the
event). One regex pass over the text; lines it finds are already counted as GC
lines by the parser.
"""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from logsleuth.parsers.metrics import METRICS_SCHEMA

HEAP = "jvm_heap_after_gc"
OLD = "jvm_heap_old_after_gc"
OLD_CAPACITY = "jvm_heap_old_capacity"
METASPACE = "jvm_metaspace_after_gc"  # used
METASPACE_COMMITTED = "jvm_metaspace_committed_after_gc"
_PAUSES = ("young", "mixed", "full", "degenerated", "pause-other")
# Concurrent collectors state the heap after a collection on a concurrent line, not on a
# pause: ZGC's whole-collection summary (``Garbage Collection``, generational ZGC's
# ``Minor``/``Major Collection``; its ``Y:``/``O:`` generation rows are parts of it) and
# Shenandoah's ``Concurrent cleanup A->B(C)`` (the space freed, once after final mark and
# once after update refs).
_CONCURRENT_HEAP = ("Garbage Collection", "Minor Collection", "Major Collection",
                    "Concurrent cleanup")

_SIZE = r"(?P<{0}>\d+(?:\.\d+)?)(?P<{0}u>[BKMG])"
_POOL_RE = re.compile(
    r"(?:GC\((?P<id>\d+)\) |\[|\] (?=Metaspace: ))"  # JDK 17 Shenandoah: no GC(n)
    r"(?P<pool>Metaspace|ParOldGen|PSOldGen|Tenured|CMS|Old regions|PSYoungGen|DefNew|ParNew)"
    r": " + _SIZE.format("b") + r"?(?P<bc>\([^)\n]*\))?->"
    + _SIZE.format("a") + r"?(?:\((?P<c>\d+(?:\.\d+)?)(?P<cu>[BKMG])\))?")
# ZGC's after-GC line (with its id) and a heap block's line (JDK 8 PrintHeapAtGC, exit)
_ZGC_META_RE = re.compile(r"GC\((?P<id>\d+)\) Metaspace: " + _SIZE.format("u") + " used, "
                          + _SIZE.format("c") + " committed")
_BLOCK_META_RE = re.compile(r" Metaspace +used " + _SIZE.format("u")
                            + r", (?:capacity [^,\n]*, )?committed " + _SIZE.format("c"))
_HEAP_BLOCK_RE = re.compile(r"Heap (?P<when>before|after) GC invocations|\] Heap$|^Heap$",
                            re.MULTILINE)
# ZGC's gc,heap table: "GC(7)      Live:  -  20M (66%)  20M (66%) ..." (mark end first)
_ZGC_LIVE_RE = re.compile(r"GC\((?P<id>\d+)\)\s+Live:\s+-\s+(?P<v>\d+(?:\.\d+)?)(?P<u>[BKMG]) \(")
_REGIONS_RE = re.compile(r"GC\((?P<id>\d+)\) Old regions: (?P<b>\d+)->(?P<a>\d+)")
# JDK 17 ``Heap Region Size: 1M`` (gc,init); JDK 11 ``Heap region size: 1M`` (gc,heap)
_REGION_SIZE_RE = re.compile(r"Heap [Rr]egion [Ss]ize: (?P<v>\d+)(?P<u>[KMG])")
_KB = {"B": 1 / 1024, "K": 1.0, "M": 1024.0, "G": 1024.0 ** 2}


def _kb(value: str | None, unit: str | None) -> float | None:
    return None if value is None else float(value) * _KB[unit or "K"]


def gc_gauges(text: str, events: pa.Table, source: str) -> pa.Table:
    """``metrics`` rows (origin gauge, and old-gen capacities as limits) of one GC log."""
    finer: dict[int, float] = {}  # event row -> whole heap after it, KiB (young + old)
    pools = _pool_rows(text, events, source, finer)
    _zgc_live(text, events, finer)
    parts = [_heap_rows(events, source, finer)]
    if pools is not None:
        parts.append(pools)
    out = pa.concat_tables(parts)
    return out.filter(pc.is_valid(out["ts"])) if out.num_rows else out


def _zgc_live(text: str, events: pa.Table, finer: dict[int, float]) -> None:
    """ZGC's live set at mark end (``gc,heap`` table's ``Live:`` row) for its cycle's
    summary. The summary's after figure is the heap at relocation end, which holds what
    the application allocated while the cycle ran concurrently (MiBs at a high rate) and
    garbage not relocated; the marked live set is the floor a leak raises."""
    if "Live:" not in text:
        return
    live = {int(m["id"]): _kb(m["v"], m["u"]) for m in _ZGC_LIVE_RE.finditer(text)}
    if not live:
        return
    phase = events["phase"].cast(pa.string()).to_pylist()
    for row, (gid, ph) in enumerate(zip(events["gc_id"].to_pylist(), phase, strict=True)):
        if gid in live and ph in _CONCURRENT_HEAP[:3]:
            finer[row] = live[gid]


def _table(source: str, lines: np.ndarray, ts: pa.Array, metric: list[str],
           value: np.ndarray, origin: list[str], caps: list[str | None]) -> pa.Table:
    n = len(lines)
    return pa.table({
        "source": pa.array([source] * n, pa.string()), "line": pa.array(lines, pa.int64()),
        "ts": ts.cast(pa.timestamp("ms", tz="UTC")), "metric": pa.array(metric, pa.string()),
        "value": pa.array(value, pa.float64()),
        "unit": pa.array(["B"] * n, pa.string()), "origin": pa.array(origin, pa.string()),
        "caps": pa.array(caps, pa.string())}, schema=METRICS_SCHEMA)


def _heap_rows(events: pa.Table, source: str, finer: dict[int, float]) -> pa.Table:
    """The whole heap after each pause: the summary's figure (whole MiB in unified logs),
    or young + old after in KiB where the pause's generation lines state both."""
    kind = events["kind"].cast(pa.string())
    concurrent = pc.and_(pc.is_in(kind, pa.array(["cycle", "concurrent"])),
                         pc.is_in(events["phase"].cast(pa.string()), pa.array(_CONCURRENT_HEAP)))
    pause = pc.and_(pc.or_(pc.is_in(kind, pa.array(_PAUSES)), concurrent),
                    pc.is_valid(events["heap_after_kb"]))
    mask = pc.fill_null(pause, False)
    e = events.filter(mask)
    n = e.num_rows
    kb = e["heap_after_kb"].to_numpy(zero_copy_only=False).astype(np.float64)
    if finer:
        rows = np.flatnonzero(mask.to_numpy(zero_copy_only=False))
        kb = np.array([finer.get(int(r), k) for r, k in zip(rows, kb, strict=True)],
                      np.float64)
    return _table(source, e["line"].to_numpy(), e["ts"].combine_chunks() if n else
                  pa.array([], pa.timestamp("ms", tz="UTC")), [HEAP] * n, kb * 1024,
                  ["gauge"] * n, [None] * n)


def _line_numbers(text: str, offsets: np.ndarray) -> np.ndarray:
    """1-based line of each text offset: newline positions found once, vectorised."""
    raw = np.frombuffer(text.encode("latin-1"), np.uint8)
    return 1 + np.searchsorted(np.flatnonzero(raw == 10), offsets, side="left")


def _sizes_kb(values: list[str | None], units: list[str | None]) -> np.ndarray:
    """KiB per (number, unit) pair; NaN where no number was printed."""
    num = np.array([np.nan if v is None else float(v) for v in values], np.float64)
    factor = np.array([_KB[u or "K"] for u in units], np.float64)
    return num * factor


_YOUNG = ("PSYoungGen", "DefNew", "ParNew")
_OLD_KIB = ("ParOldGen", "PSOldGen", "Tenured", "CMS")  # in KiB (G1's regions are MiB)


def _pool_rows(text: str, events: pa.Table, source: str,
               finer: dict[int, float]) -> pa.Table | None:
    """Pool lines placed at their collection; Python only collects the regex groups."""
    groups = [(m.start(), *m.group("id", "pool", "bc", "a", "au", "c", "cu"))
              for m in _POOL_RE.finditer(text)]
    if events.num_rows == 0:
        return None
    if not groups:  # ZGC prints no "A->B" pool line, but its metaspace and heap blocks
        groups = [(0, None, "", None, None, None, None, None)]
    start, gc_id, pool, bc, a, au, c, cu = (list(col) for col in zip(*groups, strict=True))
    lines = _line_numbers(text, np.array(start, np.int64))
    pool_arr = np.array(pool, dtype=object)
    after, cap = _sizes_kb(a, au), _sizes_kb(c, cu)
    regions = pool_arr == "Old regions"
    if regions.any():  # G1 counts regions: bytes only when the log states a region's size
        region = _REGION_SIZE_RE.search(text)
        after[regions] = after[regions] / _KB["K"] * (_kb(region["v"], region["u"])
                                                        if region else np.nan)
        cap[regions] = np.nan
    meta = pool_arr == "Metaspace"
    # JDK 16+ prints used(committed)->used(committed); JDK 8-15's one parenthesis is the
    # reserved size, never a limit
    committed = np.where(meta & np.array([x is not None for x in bc]), cap, np.nan)
    cap[meta] = np.nan
    at = _collection_of(events, gc_id, lines)
    young = np.isin(pool_arr, _YOUNG)
    _young_plus_old(at, after, young, np.isin(pool_arr, _OLD_KIB), finer)
    ok = (at >= 0) & ~np.isnan(after) & ~young
    metric = np.where(meta, METASPACE, OLD)
    limit = ok & ~meta & ~np.isnan(cap)
    com = (at >= 0) & ~np.isnan(committed)
    rows = [(lines[ok], at[ok], metric[ok], after[ok], "gauge", None),
            (lines[com], at[com], np.full(int(com.sum()), METASPACE_COMMITTED, object),
             committed[com], "gauge", None),
            (lines[limit], at[limit], np.full(int(limit.sum()), OLD_CAPACITY, object),
             cap[limit], "limit", OLD),
            *_metaspace_lines(text, events)]
    rows = [r for r in rows if len(r[0])]
    if not rows:
        return None
    ev_ts = events["ts"].combine_chunks()
    t = _table(source, np.concatenate([r[0] for r in rows]),
               pc.take(ev_ts, pa.array(np.concatenate([r[1] for r in rows]))),
               [m for r in rows for m in r[2].tolist()],
               np.concatenate([r[3] for r in rows]) * 1024,
               [r[4] for r in rows for _ in range(len(r[0]))],
               [r[5] for r in rows for _ in range(len(r[0]))])
    t = t.sort_by([("line", "ascending")])
    from logsleuth.parsers.metrics import first_statements

    return first_statements(t)


def _young_plus_old(at: np.ndarray, after: np.ndarray, young: np.ndarray, old: np.ndarray,
                    finer: dict[int, float]) -> None:
    """The whole heap after a collection to the KiB, where its young and old generation
    lines both state theirs (unified Parallel and Serial round the summary to whole MiB,
    ~300 KB of noise per sample against a leak of a few KB per event)."""
    y = {int(a): float(v) for a, v in zip(at[young], after[young], strict=True)
         if a >= 0 and not np.isnan(v)}
    for a, v in zip(at[old], after[old], strict=True):
        if int(a) in y and not np.isnan(v):
            finer[int(a)] = y[int(a)] + float(v)


_Rows = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, str, str | None]


def _metaspace_lines(text: str, events: pa.Table) -> list[_Rows]:
    """Used and committed metaspace from ZGC's after-GC line, and committed from a heap
    block's ``Metaspace used U, ... committed C`` line. A block printed *before* a GC
    (JDK 8 ``PrintHeapAtGC``) is skipped: it is not an after-GC reading. A block's line
    has no collection id: it is placed at the event at or before it (the exit block at
    the last one)."""
    out: list[_Rows] = []
    z = [(m.start(), m["id"], m["u"], m["uu"], m["c"], m["cu"])
         for m in _ZGC_META_RE.finditer(text)]
    b = [(m.start(), None, m["u"], m["uu"], m["c"], m["cu"])
         for m in _BLOCK_META_RE.finditer(text)]
    if b:
        heads = [(m.start(), m["when"] == "before") for m in _HEAP_BLOCK_RE.finditer(text)]
        pos = np.array([h[0] for h in heads], np.int64)
        before = np.array([h[1] for h in heads], bool)
        k = np.searchsorted(pos, np.array([x[0] for x in b], np.int64), side="right") - 1
        b = [x for x, j in zip(b, k, strict=True) if j < 0 or not before[j]]
    for found, with_used in ((z, True), (b, False)):
        if not found:
            continue
        start, gc_id, u, uu, c, cu = (list(col) for col in zip(*found, strict=True))
        lines = _line_numbers(text, np.array(start, np.int64))
        at = _collection_of(events, gc_id, lines)
        ok = at >= 0
        n = int(ok.sum())
        if with_used:
            out.append((lines[ok], at[ok], np.full(n, METASPACE, object),
                        _sizes_kb(u, uu)[ok], "gauge", None))
        out.append((lines[ok], at[ok], np.full(n, METASPACE_COMMITTED, object),
                    _sizes_kb(c, cu)[ok], "gauge", None))
    return out


def _collection_of(events: pa.Table, gc_ids: list[str | None], lines: np.ndarray) -> np.ndarray:
    """Row of the collection each pool line belongs to (-1: none): the pause of the same
    ``GC(N)`` in unified logs, else the event at or before its line (JDK 8 prints pools
    inside the event)."""
    ev_line = events["line"].to_numpy()
    ev_id = events["gc_id"].to_numpy(zero_copy_only=False).astype(np.float64)
    is_pause = np.isin(events["kind"].cast(pa.string()).to_numpy(zero_copy_only=False),
                       _PAUSES) & ~np.isnan(ev_id)
    order = np.argsort(ev_line, kind="stable")
    k = np.searchsorted(ev_line[order], lines, side="right") - 1
    at = np.where(k >= 0, order[np.maximum(k, 0)], -1)
    ids = np.array([np.nan if i is None else float(i) for i in gc_ids], np.float64)
    pause_rows = np.flatnonzero(is_pause)
    if len(pause_rows) and not np.isnan(ids).all():
        # last pause row of each id wins, as a dict built in row order would
        by_id = pause_rows[np.argsort(ev_id[pause_rows], kind="stable")]
        keys = ev_id[by_id]
        pos = np.searchsorted(keys, ids, side="right") - 1
        hit = (pos >= 0) & ~np.isnan(ids)
        hit[hit] &= keys[pos[hit]] == ids[hit]
        at = np.where(hit, by_id[np.maximum(pos, 0)], np.where(np.isnan(ids), at, -1))
    return at
