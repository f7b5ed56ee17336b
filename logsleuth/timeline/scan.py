"""Incident analysis over a finished scan: the glue between the scan and the timeline.

The scan streams what analysis needs (findings, per-second template counts,
warning/error rows, typed evidence tables); this module turns them into the
``Incident``. No incident (None) when no finding of high severity or worse fired
and no gauge leaks. A leak is an incident even before anything failed: then
``onset`` is None and the incident says when the ceiling will be reached. With a
leak, only a critical finding (the exhaustion itself, an OOM) is a failure: the
errors that grow with the leak are its causes, not its onset.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from logsleuth.model import Severity
from logsleuth.timeline.anomalies import template_anomalies
from logsleuth.timeline.attribution import attribute_increments
from logsleuth.timeline.ceilings import ceilings_for
from logsleuth.timeline.incident import Incident, Onset
from logsleuth.timeline.rootcause import rank_root_causes
from logsleuth.timeline.symptoms import first_symptoms, precursors
from logsleuth.timeline.templates import TemplateIndex
from logsleuth.timeline.trend import LeakEstimate, estimate_leaks
from logsleuth.timeline.tz import TimezoneGuess

DEFINING = (Severity.CRITICAL, Severity.HIGH)


def onset_from_findings(findings: Sequence[Any],
                        defining: Sequence[Severity] = DEFINING) -> Onset | None:
    """The first record of the most severe finding cluster (its example is the earliest)."""
    ranked = [f for f in findings if f.severity in defining and f.first_seen]
    if not ranked:
        return None
    top = max(f.severity.rank for f in ranked)
    cands = [f for f in ranked if f.severity.rank == top]
    first = min(cands, key=lambda f: (pd.Timestamp(f.first_seen), str(f.example.get("path")),
                                      int(f.example.get("line") or 0)))
    text = str(first.example.get("text") or "").split("\n", 1)[0]
    ms = int(pd.Timestamp(first.first_seen).value // 1_000_000)
    exc = first.signature.split(" > ")[0].split(" @ ")[0] if first.signature else None
    return Onset(ms, str(first.example.get("path")), int(first.example.get("line") or 0), text,
                 first.rule, first.fingerprint, exc)


def _maxima(findings: Sequence[Any], metrics: pd.DataFrame) -> dict[str, float]:
    """Known maxima in bytes: the ``max`` a direct-memory OOM message reported."""
    best = None
    for f in findings:
        got = f.extracted.get("max") if isinstance(f.extracted, dict) else None
        if got and got.get("unit") in ("bytes", "B"):
            best = max(best or 0.0, float(got["max"]))
    if best is None:
        return {}
    names = metrics.loc[metrics["unit"].astype(str) == "B", "metric"].astype(str).unique()
    return dict.fromkeys(names, best)


def _family(path: str) -> str:
    from logsleuth.sources import family_of

    head, _, name = path.rpartition("/")
    return f"{head}/{family_of(name)}" if head else family_of(name)


def _frame(result: Any, name: str) -> pd.DataFrame | None:
    t = result.tables.get(name)
    return None if t is None or t.num_rows == 0 else t.to_pandas()


def notable_frame(table: pa.Table) -> pd.DataFrame:
    """Warning/error rows as the timeline reads them, with their exception fingerprint.

    ``table`` is the scan's per-(class, second) summary (``count`` records per row)
    or any table of records.
    """
    keep = [c for c in ("source", "line", "ts", "level", "message", "exception",
                        "root_exception", "count") if c in table.column_names]
    notable = table.select(keep).to_pandas()
    if len(notable):
        # by classes, not frames: once the JIT omits a hot exception's trace
        # (OmitStackTraceInFastThrow) the same failure continues without frames
        fp = notable["exception"].fillna("") + " > " + notable["root_exception"].fillna("")
        notable["fingerprint"] = fp.where(notable["exception"].notna(), None)
    return notable


def _gauge_rows(metrics: pd.DataFrame, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Epoch ms and values of a gauge's own samples (not values from failure messages)."""
    series = metrics[metrics["metric"].astype(str) == name]
    if "origin" in series.columns:
        series = series[series["origin"].astype(str) == "gauge"]
    mts = series["ts"].astype("datetime64[ms, UTC]").astype("int64").to_numpy()
    return mts, series["value"].to_numpy(np.float64)


def find_leaks(result: Any, analysis: Any, limits: Mapping[str, float] | None = None,
               ) -> tuple[list[LeakEstimate], pd.DataFrame | None]:
    """Leaking gauges (declared and discovered), each with its ceiling and the event
    whose count explains its growth; and the metrics table they were read from."""
    metrics = _frame(result, "metrics")
    if metrics is None or not len(metrics):
        return [], metrics
    ceilings = ceilings_for(metrics, limits)
    leaks = estimate_leaks(metrics, _maxima(result.findings, metrics), ceilings=ceilings)
    ev_ts, ev_ids, ev_counts, templates = analysis.events()
    for i, leak in enumerate(leaks):
        mts, values = _gauge_rows(metrics, leak.metric)
        per = attribute_increments(mts, values, ev_ts, ev_ids, unit=leak.unit,
                                   event_weights=ev_counts.astype(np.float64),
                                   ranges_ms=leak.growth_ranges_ms)
        if per is not None:
            per = replace(per, template=templates[int(per.template)],
                          alternatives=tuple(templates[int(a)] for a in per.alternatives))
        leaks[i] = leak.with_per_event(per)
    return leaks, metrics


def analyze_scan(result: Any, analysis: Any, timezone: TimezoneGuess | None,
                 limits: Mapping[str, float] | None = None) -> Incident | None:
    leaks, metrics = find_leaks(result, analysis, limits)
    onset = onset_from_findings(result.findings,
                                (Severity.CRITICAL,) if leaks else DEFINING)
    if onset is None and not leaks:
        return None
    onset_ms = onset.ts_ms if onset else None
    notable = notable_frame(analysis.notable_table())  # what onset, symptoms and ranking read
    gc = _frame(result, "gc_events")
    threads = _frame(result, "thread_states")
    http = _frame(result, "http_requests")
    symptoms, pre = [], []
    if onset is not None and len(notable):
        # symptoms per log, not per rolled file of it
        families = {src: _family(src) for src in notable["source"].unique()}
        by_log = notable.assign(source=notable["source"].map(families))
        symptoms = first_symptoms(by_log, onset.ts_ms, http_requests=http,
                                  thread_states=threads, gc_events=gc)
        pre = precursors(notable, onset.ts_ms, gc_events=gc, thread_states=threads)
    causes = rank_root_causes(notable, leaks, onset_ms, metrics=metrics,
                              events=analysis.exception_events())
    ev_ts, ev_ids, ev_counts, templates = analysis.events()
    hot = []
    if onset_ms is not None:
        index = TemplateIndex(ev_ids.astype(np.int32), templates)
        hot = template_anomalies(ev_ts, index, onset_ms, weights=ev_counts)
    return Incident(onset, timezone, symptoms, pre, leaks, causes, hot[:20])


def template_table(analysis: Any) -> pa.Table:
    """(template, count) of every message template the scan mined."""
    _, ids, counts, templates = analysis.events()
    totals = np.bincount(ids, weights=counts, minlength=len(templates)).astype(np.int64)
    order = np.argsort(-totals, kind="stable")
    return pa.table({"template": pa.array([templates[i] for i in order], pa.string()),
                     "count": pa.array(totals[order], pa.int64())})


def exception_fingerprints(analysis: Any) -> set[str]:
    """``outer > root`` exception classes seen in the evidence (every warning/error class)."""
    from logsleuth.engine.analysis import fingerprint

    return {fingerprint(c[2], c[3]) for c in analysis.classes
            if c[2] is not None and c[3] is not None}
