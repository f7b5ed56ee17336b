"""Ceilings of resource gauges, read from the evidence or stated by hand (``--limit``).

A ceiling is a ``limit`` row of the metrics table: a value some definition read
(``max: N`` of an OutOfDirectMemoryError, ``-XX:MaxDirectMemorySize=16m`` on a
printed command line, a constant ``max=`` beside a discovered gauge) with the globs
of the gauges it caps. For each gauge the most specific ceiling wins: one naming
the gauge exactly over a glob, then the most often stated, then the earliest
stated. ``--limit METRIC=SIZE`` overrides them all.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from logsleuth.errors import PatternError


@dataclass(frozen=True, slots=True)
class Ceiling:
    """``value`` (in the gauge's unit), what stated it and where (``path:line``)."""

    value: float
    source: str  # the limit metric, or "--limit"
    where: str | None  # path:line of the first line stating it

    def to_json(self) -> dict[str, object]:
        return {"value": self.value, "source": self.source, "where": self.where}


_LIMIT = re.compile(r"^\s*([a-z][a-z0-9_]*)\s*=\s*([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]*)\s*$")


def parse_limits(items: Iterable[str]) -> dict[str, float]:
    """``METRIC=SIZE`` strings (``netty_direct_memory_used=2GiB``) to values in base units."""
    from logsleuth.parsers.metrics import unit_factor

    out: dict[str, float] = {}
    for item in items:
        m = _LIMIT.match(item)
        factor = unit_factor(m.group(3) or None, "B")[0] if m else None
        if m and not m.group(3):
            factor = 1.0
        if m is None or factor is None:
            raise PatternError.at("--limit", "bad-limit",
                                  f"'{item}' is not METRIC=SIZE (e.g. "
                                  "netty_direct_memory_used=2GiB or jvm_threads=4000)")
        out[m.group(1)] = float(m.group(2)) * factor
    return out


def ceilings_for(metrics: pd.DataFrame, limits: Mapping[str, float] | None = None,
                 ) -> dict[str, Ceiling]:
    """The ceiling of each gauge of ``metrics`` (columns metric, value, origin, caps...)."""
    out: dict[str, Ceiling] = {}
    names = [str(n) for n in metrics["metric"].unique()] if len(metrics) else []
    if len(metrics) and "origin" in metrics.columns:
        lim = metrics[metrics["origin"] == "limit"]
        gauges = [n for n in names if n not in set(lim["metric"].astype(str))]
        stated = []
        units = _units(metrics)
        for (metric, caps), grp in lim.groupby(["metric", "caps"], sort=True):
            first = grp.sort_values(["ts", "line"], kind="stable").iloc[0]
            value = float(grp["value"].mode().iloc[0])  # the value most often stated
            where = f"{first['source']}:{int(first['line'])}"
            stated.append((str(metric), str(caps).split(","), value, where, len(grp),
                           first["ts"]))
        for g in gauges:
            best = None
            for metric, caps, value, where, n, ts in stated:
                exact = g in caps
                if not exact and not any(fnmatch.fnmatchcase(g, c) for c in caps):
                    continue
                if not exact and _unlike(units.get(g), units.get(metric)):
                    continue  # a glob's byte limit does not cap a count (buffers, threads)
                key = (exact, n, -pd.Timestamp(ts).value if pd.notna(ts) else 0)
                if best is None or key > best[0]:
                    best = (key, Ceiling(value, metric, where))
            if best is not None:
                out[g] = best[1]
    for g, value in (limits or {}).items():
        out[g] = Ceiling(float(value), "--limit", None)
    return out


def _units(metrics: pd.DataFrame) -> dict[str, str]:
    """Each metric's unit (its first row's), where the table states units."""
    if "unit" not in metrics.columns:
        return {}
    first = metrics.drop_duplicates("metric")
    return {str(m): str(u) for m, u in zip(first["metric"], first["unit"], strict=True)
            if isinstance(u, str)}


def _unlike(a: str | None, b: str | None) -> bool:
    """One is bytes and the other a count: a ceiling of one kind is no limit of the other."""
    kinds = {"B": "bytes", "count": "count"}
    return a in kinds and b in kinds and kinds[a] != kinds[b]


def limits_from_heads(planned: Iterable[object]) -> pa.Table:
    """Ceilings stated near the top of non-application evidence: a JDK 8 GC log's
    ``CommandLine flags:``, a unified GC log's ``Heap Max Capacity``, a saved
    ``jcmd VM.flags`` output. Application logs are read whole by the metric collector."""
    from logsleuth.model import Kind
    from logsleuth.parsers.metrics import METRICS_SCHEMA, builtin_metric_defs, extract_metrics

    defs = [d for d in builtin_metric_defs() if any(v.caps for v in d.values)]
    needles = [d.contains for d in defs]
    parts = []
    for p in planned:
        if getattr(p, "kind", None) in (Kind.APP_LOG, None):
            continue
        lines = bytes(getattr(p, "head", b"") or b"").decode("utf-8", "replace").splitlines()
        hits = [(i + 1, ln) for i, ln in enumerate(lines) if any(n in ln for n in needles)]
        if not hits:
            continue
        rec = pa.table({"source": [str(p.source.path)] * len(hits),  # type: ignore[attr-defined]
                        "line": pa.array([i for i, _ in hits], pa.int64()),
                        "ts": pa.array([None] * len(hits), pa.timestamp("ms", tz="UTC")),
                        "message": [ln for _, ln in hits]})
        got = extract_metrics(rec, defs)
        got = got.filter(pc.equal(got["origin"], "limit"))
        if got.num_rows:
            parts.append(got)
    return pa.concat_tables(parts) if parts else METRICS_SCHEMA.empty_table()
