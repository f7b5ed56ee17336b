"""Collector state as plain data: JSON for small values, Arrow tables for arrays.

A watcher's ``--state`` must let a restarted process continue its analysis without
reading again what it read: the running collectors' state (template miner, template
and exception counts per time bucket, warning/error rows per class and second,
finding aggregates per fingerprint, gauge rows, level counts) is written out and
read back here. No pickle: a state file is data a reader can inspect and a version
can check, never code. Caches (verdicts, level lookup tables, the needle matcher)
are rebuilt; they never change a result.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from logsleuth.engine.collectors import CollectorSet


@dataclass
class Snapshot:
    """``meta`` is JSON; ``tables`` are Arrow tables by name (one-column ``v`` for arrays)."""

    meta: dict[str, Any] = field(default_factory=dict)
    tables: dict[str, pa.Table] = field(default_factory=dict)

    def put_array(self, name: str, values: np.ndarray) -> None:
        self.tables[name] = pa.table({"v": pa.array(values)})

    def array(self, name: str, dtype: Any) -> np.ndarray:
        t = self.tables.get(name)
        if t is None:
            return np.zeros(0, dtype)
        return t["v"].to_numpy().astype(dtype, copy=True)

    def put_table(self, name: str, parts: list[pa.Table]) -> None:
        parts = [t for t in parts if t.num_rows]
        if parts:
            self.tables[name] = pa.concat_tables(parts, promote_options="permissive")

    def table(self, name: str) -> list[pa.Table]:
        t = self.tables.get(name)
        return [] if t is None else [t]


# -- levels ------------------------------------------------------------------------
def _dump_levels(c: Any, snap: Snapshot, at: str) -> None:
    src, ms, level, count = c.rows()
    snap.meta[at] = {"bucket_ms": c.bucket_ms}
    snap.tables[at] = pa.table({"source": pa.array(src, pa.string()),
                                "ms": pa.array(ms, pa.int64()),
                                "level": pa.array(level, pa.string()),
                                "count": pa.array(count, pa.int64())})


def _load_levels(c: Any, snap: Snapshot, at: str) -> None:
    t = snap.tables[at]
    c.load_rows(t["source"].to_pylist(), t["ms"].to_numpy(), t["level"].to_pylist(),
                t["count"].to_numpy(), int(snap.meta[at]["bucket_ms"]))


# -- rules ---------------------------------------------------------------------------
def _counter_table(groups: list[Any], attr: str) -> pa.Table:
    g, k, n = [], [], []
    for i, grp in enumerate(groups):
        counter = getattr(grp, attr)
        g.extend([i] * len(counter))
        k.extend(counter.keys())
        n.extend(counter.values())
    return pa.table({"group": pa.array(g, pa.int64()), "key": pa.array(k, pa.int64()),
                     "count": pa.array(n, pa.int64())})


def _dump_rules(c: Any, snap: Snapshot, at: str) -> None:
    groups = c.aggregator._groups
    keys = list(groups)
    items = [groups[k] for k in keys]
    out = []
    for (rule, fp), g in zip(keys, items, strict=True):
        example = None
        if g.example is not None:
            (ts, src, line), text = g.example
            example = [None if ts == float("inf") else ts, src, line, text]
        out.append({"rule": rule, "fingerprint": fp, "signature": g.signature,
                    "count": g.count, "first_ts": g.first_ts, "last_ts": g.last_ts,
                    "sources": list(g.sources.items()), "threads": list(g.threads.items()),
                    "example": example, "stack": g.stack, "extracted": g.extracted,
                    "folded_peak": g.folded_peak})
    snap.meta[at] = {"groups": out}
    snap.tables[f"{at}.minutes"] = _counter_table(items, "minutes")
    snap.tables[f"{at}.seconds"] = _counter_table(items, "seconds")
    snap.tables[f"{at}.hours"] = _counter_table(items, "hours")


def _load_rules(c: Any, snap: Snapshot, at: str) -> None:
    from logsleuth.rules.findings import _Group

    infos = c.infos
    groups: dict[tuple[str, str], Any] = {}
    built: list[Any] = []
    for d in snap.meta[at]["groups"]:
        info = infos.get(d["rule"])
        if info is None:  # the options key makes this unreachable unless rules changed
            raise KeyError(f"rule {d['rule']!r} of the saved state is not loaded")
        g = _Group(info, d["signature"])
        g.count, g.first_ts, g.last_ts = d["count"], d["first_ts"], d["last_ts"]
        g.sources, g.threads = Counter(dict(d["sources"])), Counter(dict(d["threads"]))
        if d["example"] is not None:
            ts, src, line, text = d["example"]
            g.example = ((float("inf") if ts is None else float(ts), src, int(line)), text)
        g.stack, g.extracted = d["stack"], {k: list(v) for k, v in d["extracted"].items()}
        g.folded_peak = int(d.get("folded_peak", 0))
        groups[(d["rule"], d["fingerprint"])] = g
        built.append(g)
    for attr in ("minutes", "seconds", "hours"):
        t = snap.tables.get(f"{at}.{attr}")
        if t is None:  # a state written before hours were folded
            continue
        for gi, k, n in zip(t["group"].to_pylist(), t["key"].to_pylist(),
                            t["count"].to_pylist(), strict=True):
            getattr(built[gi], attr)[k] = n
    c.aggregator._groups = groups


# -- metrics and embedded dumps --------------------------------------------------------
def _dump_metrics(c: Any, snap: Snapshot, at: str) -> None:
    c._flush()
    snap.put_table(at, c.parts)
    # the streaming bound: widths long series were thinned to, lines thinned away
    bound = c.bound
    snap.meta[at] = {"floors": [[s, m, w] for (s, m), w in sorted(bound.floors.items())]}
    keys = sorted(bound.lines.chunks)
    snap.meta[at]["thinned"] = [[s, m] for s, m in keys]
    for i, key in enumerate(keys):
        chunks = bound.lines.chunks[key]
        snap.put_array(f"{at}.thinned.{i}", np.concatenate(
            [first + np.r_[0, np.cumsum(g, dtype=np.int64)] for first, g in chunks]))


def _load_metrics(c: Any, snap: Snapshot, at: str) -> None:
    c.parts = snap.table(at)
    meta = snap.meta.get(at) or {}  # checkpoints written before the bound have none
    c.bound.floors = {(s, m): int(w) for s, m, w in meta.get("floors", ())}
    for i, (s, m) in enumerate(meta.get("thinned", ())):
        c.bound.lines.add((s, m), snap.array(f"{at}.thinned.{i}", np.int64))


def _dump_dumps(c: Any, snap: Snapshot, at: str) -> None:
    snap.meta[at] = sorted(c.parts)
    for name, parts in c.parts.items():
        snap.put_table(f"{at}.{name}", parts)


def _load_dumps(c: Any, snap: Snapshot, at: str) -> None:
    c.parts = {name: snap.table(f"{at}.{name}") for name in snap.meta[at]}


# -- analysis --------------------------------------------------------------------------
def _dump_counts(counts: Any, snap: Snapshot, at: str) -> dict[str, Any]:
    counts.compact()
    widths = sorted(counts.levels)
    for w in widths:
        level = counts.levels[w]
        keys, cnt = level.whole()  # compact runs, saved as one sorted array
        snap.tables[f"{at}.{w}"] = pa.table({"key": pa.array(keys, pa.int64()),
                                             "count": pa.array(cnt, pa.int64())})
    return {"widths": widths}


def _load_counts(counts: Any, snap: Snapshot, at: str, meta: dict[str, Any]) -> None:
    from logsleuth.engine.analysis import _Level

    counts.levels = {}
    for w in meta["widths"]:
        t = snap.tables[f"{at}.{w}"]
        level = _Level()
        if t.num_rows:
            level.append(t["key"].to_numpy().copy(), t["count"].to_numpy().copy())
            level.compact()
        counts.levels[int(w)] = level


def _pairs(name: str, mapping: dict[str, int], snap: Snapshot) -> None:
    snap.tables[name] = pa.table({"key": pa.array(list(mapping), pa.string()),
                                  "id": pa.array(list(mapping.values()), pa.int64())})


def _unpairs(name: str, snap: Snapshot) -> dict[str, int]:
    t = snap.tables[name]
    return dict(zip(t["key"].to_pylist(), t["id"].to_pylist(), strict=True))


def _dump_analysis(c: Any, snap: Snapshot, at: str) -> None:
    c._keep_notable()
    miner = c.miner
    rows = c.gauges
    rows._compact()
    snap.meta[at] = {
        "miner": {"tokens": miner._tokens, "groups": [[list(k), v] for k, v in
                                                       miner._groups.items()],
                  "sim": miner._sim, "depth": miner._depth},
        "templates": _dump_counts(c.template_counts, snap, f"{at}.templates"),
        "exceptions": _dump_counts(c.class_counts, snap, f"{at}.exceptions"),
        "classes": [list(k) for k in c.classes], "notable_rows": c.notable_rows,
        "dropped": c.dropped}
    _pairs(f"{at}.miner_cache", miner._cache, snap)
    _pairs(f"{at}.shapes", c._shape_ids, snap)
    snap.put_table(f"{at}.notable", c.notable)
    for name in ("lut", "stride", "kept"):
        snap.put_array(f"{at}.gauges.{name}", getattr(rows, name))
    snap.put_table(f"{at}.gauges.rows", rows.parts)
    snap.put_array(f"{at}.gauges.tids", rows.tids[0] if rows.tids else np.zeros(0, np.int64))
    snap.put_array(f"{at}.gauges.hashes", rows.hashes[0] if rows.hashes
                   else np.zeros(0, np.uint64))


def _load_analysis(c: Any, snap: Snapshot, at: str) -> None:
    meta = snap.meta[at]
    m = meta["miner"]
    miner = c.miner
    miner._tokens = [list(t) for t in m["tokens"]]
    miner._groups = {tuple(k): list(v) for k, v in m["groups"]}
    miner._sim, miner._depth = float(m["sim"]), int(m["depth"])
    miner._cache = _unpairs(f"{at}.miner_cache", snap)
    c._shape_ids = _unpairs(f"{at}.shapes", snap)
    _load_counts(c.template_counts, snap, f"{at}.templates", meta["templates"])
    _load_counts(c.class_counts, snap, f"{at}.exceptions", meta["exceptions"])
    c.classes = {tuple(k): i for i, k in enumerate(meta["classes"])}
    c.notable = snap.table(f"{at}.notable")
    c.notable_rows, c.dropped = int(meta["notable_rows"]), int(meta["dropped"])
    rows = c.gauges
    rows.lut = snap.array(f"{at}.gauges.lut", bool)
    rows.stride = snap.array(f"{at}.gauges.stride", np.int64)
    rows.kept = snap.array(f"{at}.gauges.kept", np.int64)
    rows.parts = snap.table(f"{at}.gauges.rows")
    rows.tids = [snap.array(f"{at}.gauges.tids", np.int64)] if rows.parts else []
    rows.hashes = [snap.array(f"{at}.gauges.hashes", np.uint64)] if rows.parts else []


Codec = tuple[Callable[[Any, Snapshot, str], None], Callable[[Any, Snapshot, str], None]]
CODECS: dict[str, Codec] = {
    "levels": (_dump_levels, _load_levels),
    "rules": (_dump_rules, _load_rules),
    "metrics": (_dump_metrics, _load_metrics),
    "dumps": (_dump_dumps, _load_dumps),
    "jvmconsole": (_dump_dumps, _load_dumps),  # the same shape: tables by name
    "analysis": (_dump_analysis, _load_analysis),
}


def dump_collectors(collectors: CollectorSet, snap: Snapshot, prefix: str = "c") -> None:
    """Write every collector's state into ``snap`` under ``prefix``."""
    snap.meta[f"{prefix}.names"] = [c.name for c in collectors.items]
    for c in collectors.items:
        CODECS[c.name][0](c, snap, f"{prefix}.{c.name}")


def load_collectors(names: tuple[str, ...], config: dict[str, Any], snap: Snapshot,
                    prefix: str = "c") -> CollectorSet:
    """Collectors ``names`` (built from ``config``, as scan builds them) with the state
    ``dump_collectors`` wrote."""
    saved = snap.meta[f"{prefix}.names"]
    if list(saved) != list(names):
        raise ValueError(f"the saved collectors {saved} are not {list(names)}")
    out = CollectorSet.create(names, config)
    for c in out.items:
        CODECS[c.name][1](c, snap, f"{prefix}.{c.name}")
    return out
