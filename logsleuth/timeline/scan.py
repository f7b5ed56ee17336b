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

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from logsleuth.model import Severity
from logsleuth.parsers.jstack_analysis import THREADS, thread_name_groups
from logsleuth.parsers.metrics import METRICS_SCHEMA
from logsleuth.timeline.anomalies import template_anomalies
from logsleuth.timeline.attribution import (
    Markers,
    NoAttribution,
    PerEventAttribution,
    explain_increments,
)
from logsleuth.timeline.bounds import ThinnedLines, bounded_series
from logsleuth.timeline.ceilings import Ceiling, ceilings_for
from logsleuth.timeline.gauges import DiscoveredGauge, discover_gauges
from logsleuth.timeline.incident import Incident, Onset, first_fatal
from logsleuth.timeline.load import BesideLoad, LoadExplanation, split_load
from logsleuth.timeline.resources import (
    SECONDARY,
    exhausted_at_onset,
    failed_at,
    post_gc_floor,
    refine_dump_times,
)
from logsleuth.timeline.rootcause import event_causes, rank_root_causes, with_event_causes
from logsleuth.timeline.symptoms import first_symptoms, precursors
from logsleuth.timeline.templates import TemplateIndex
from logsleuth.timeline.trend import LeakEstimate, estimate_leaks, with_event_rate
from logsleuth.timeline.tz import TimezoneGuess

DEFINING = (Severity.CRITICAL, Severity.HIGH)
_THROWN = re.compile(r"\b(?:[a-z_$][\w$]*\.)+[A-Z][\w$]*(?:Error|Exception)\b")


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
    if not exc:  # a finding per rule (an exhaustion, traced or not): the record names it
        named = _THROWN.search(str(first.example.get("text") or ""))
        exc = named.group(0) if named else None
    return Onset(ms, str(first.example.get("path")), int(first.example.get("line") or 0), text,
                 first.rule, first.fingerprint, exc)


def _failure_ceilings(findings: Sequence[Any], metrics: pd.DataFrame) -> dict[str, Ceiling]:
    """The largest ``max`` a direct-memory failure reported, as the ceiling of the byte
    gauges no definition caps (a discovered gauge the OOM's own metric does not name),
    with the failure record that stated it: a projection names where its ceiling was
    read. Its values are also the known maxima the leak estimate takes."""
    best = None
    for f in findings:
        got = f.extracted.get("max") if isinstance(f.extracted, dict) else None
        if got and got.get("unit") in ("bytes", "B") and (
                best is None or float(got["max"]) > best[0]):
            ex = f.example if isinstance(f.example, dict) else {}
            where = f"{ex['path']}:{int(ex['line'])}" if ex.get("path") and ex.get(
                "line") else None
            best = (float(got["max"]), str(f.rule), where)
    if best is None:
        return {}
    names = metrics.loc[metrics["unit"].astype(str) == "B", "metric"].astype(str).unique()
    return dict.fromkeys(names, Ceiling(*best))


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


def _gauge_rows(metrics: pd.DataFrame) -> Callable[[str], tuple[np.ndarray, np.ndarray]]:
    """Epoch ms and values of a gauge's own samples (not values from failure messages),
    per metric name: the frame's columns are converted once, not once per leak."""
    names = metrics["metric"].astype(str).to_numpy()
    own = (metrics["origin"].astype(str) == "gauge").to_numpy() if "origin" in metrics.columns \
        else np.ones(len(metrics), bool)
    mts = metrics["ts"].astype("datetime64[ms, UTC]").astype("int64").to_numpy()
    values = metrics["value"].to_numpy(np.float64)

    def rows(name: str) -> tuple[np.ndarray, np.ndarray]:
        sel = own & (names == name)
        return mts[sel], values[sel]
    return rows


def find_leaks(result: Any, analysis: Any, limits: Mapping[str, float] | None = None,
               thinned: Sequence[ThinnedLines] = (),
               ) -> tuple[list[LeakEstimate], pd.DataFrame | None]:
    """Leaking gauges (declared and discovered), each with its ceiling and the event
    whose count explains its growth; and the metrics table they were read from
    (long gauge series thinned by ``bounds.bounded_series``: bounded memory; ``thinned``:
    the lines of rows the metrics collectors thinned away as they read)."""
    table = result.tables.get("metrics")
    metrics = None if table is None or not table.num_rows else bounded_series(table).to_pandas()
    metrics, found = _with_discovered(result, analysis, metrics, thinned)
    if metrics is None or not len(metrics):
        return [], metrics
    metrics = post_gc_floor(metrics)  # after-GC gauges: the live set, not the sawtooth
    metrics = refine_dump_times(metrics, _frame(result, "thread_states"))
    failed = _failure_ceilings(result.findings, metrics)  # also the maxima of the OOM's max:
    ceilings = {**failed, **ceilings_for(metrics, limits)}
    leaks = estimate_leaks(metrics, {m: c.value for m, c in failed.items()}, ceilings=ceilings,
                           failed_ms=failed_at(result.findings, metrics))
    leaks.sort(key=lambda k: (k.unit != "B", k.metric in found, k.metric in SECONDARY, -k.r2))
    _publish_discovered(result, metrics, found, {k.metric for k in leaks})
    leaks = [k if k.metric not in found else replace(k, gauge=found[k.metric].to_json())
             for k in leaks]
    ev_ts, ev_ids, ev_counts, templates = analysis.events()
    series = _gauge_rows(metrics)
    markers = _markers(analysis) if leaks else None
    for i, leak in enumerate(leaks):
        mts, values = series(leak.metric)
        per = explain_increments(mts, values, ev_ts, ev_ids, unit=leak.unit,
                                 event_weights=ev_counts.astype(np.float64),
                                 ranges_ms=leak.growth_ranges_ms, markers=markers)
        if isinstance(per, NoAttribution):  # why not, naming the event it looked at
            per = per.renamed(lambda k: templates[int(k)])
        else:
            sel = ev_ids == int(per.template)
            leak = with_event_rate(leak, per.amount, ev_ts[sel], ev_counts[sel],
                                   int(getattr(analysis.template_counts, "res_ms", 1)))
            name = {k: templates[int(k)] for k in (per.template, *per.alternatives)}
            per = replace(per, template=name[per.template],
                          alternatives=tuple(name[a] for a in per.alternatives),
                          separations=tuple(replace(sp, a=name.get(sp.a, sp.a),
                                                    b=name.get(sp.b, sp.b),
                                                    winner=None if sp.winner is None
                                                    else name.get(sp.winner, sp.winner))
                                            for sp in per.separations))
        leaks[i] = leak.with_per_event(per)
    if leaks:  # growth that a live count explains is load (timeline/load.py)
        own = metrics["origin"].astype(str) == "gauge" if "origin" in metrics.columns else True
        counts = metrics.loc[own & (metrics["unit"].astype(str) == "count"), "metric"]
        units = {k.metric: k.unit for k in leaks}
        leaks, load, beside = split_load(leaks, series, sorted(counts.astype(str).unique()),
                                         (ev_ts, ev_ids, ev_counts, templates))
        if load:
            result.tables["load"] = pa.Table.from_pylist([x.to_json() for x in load])
            _say_load(result, load, units)
        if beside:
            beside = [_told_apart(b, templates, ev_ts, ev_ids, markers) for b in beside]
            result.tables["beside_load"] = pa.Table.from_pylist([x.to_json() for x in beside])
            _say_beside(result, beside, units)
            leaks = [_per_event_beside(k, beside) for k in leaks]
    return leaks, metrics


def _told_apart(got: BesideLoad, templates: Sequence[str], ev_ts: np.ndarray,
                ev_ids: np.ndarray, markers: Markers | None) -> BesideLoad:
    """Events tied beside a live count (the opened and the closed event give one fit)
    told apart as the attribution tells collinear events apart: an exception logged in the
    same millisecond as one event's records (at least COOCCUR of its instances) far more
    often than with each other's (McNemar at 1 %). An exception's own message record is
    the cause logged, not the event. Tied as before when nothing tells them apart."""
    from logsleuth.timeline.attribution import cooccurring

    if len(got.events) < 2 or markers is None or markers.ts is None or markers.keys is None:
        return got
    ids = {name: i for i, name in enumerate(templates)}
    cands = [e for e in got.events if str(ids[e]) not in markers.cause_keys]
    if len(cands) < 2:
        return got
    times = {e: ev_ts[ev_ids == ids[e]] for e in cands}
    mk = np.asarray(markers.keys).astype(str)
    counts = (markers.counts.astype(np.int64) if markers.counts is not None
              else np.ones(len(mk), np.int64))
    for fp in pd.unique(mk):
        marks = np.repeat(markers.ts[mk == fp], counts[mk == fp])
        if len(marks) < 10:
            continue
        told = cooccurring(marks, times)
        if told is not None:
            return replace(got, events=(told[0],), decided="co-occurrence")
    return got


def _per_event_beside(leak: LeakEstimate, beside: Sequence[BesideLoad]) -> LeakEstimate:
    """The amount per event of a leak that rises with a live count is the one fitted
    beside the count: fitted alone, the event also carries what each live unit holds
    (940.9 B per connect for 512 B per disconnect during a ramp of 4 KiB sessions). The
    events tied beside the count are alternatives at the same amount, and ambiguous; the
    event first named keeps its place when it is among them."""
    per = leak.per_event
    got = next((b for b in beside if b.metric == leak.metric), None)
    if got is None or not isinstance(per, PerEventAttribution):
        return leak
    names = list(got.events)
    first = per.template if per.template in names else names[0]
    rest = tuple(n for n in names if n != first)
    # an exception logged in the same millisecond as the named event's records told it
    # apart: evidence a live count does not confound, so it keeps its decision
    kept = per.decided == "co-occurrence" and per.template == first
    decided = ("co-occurrence" if kept else got.decided if got.decided
               else "ambiguous" if rest else "unique")
    return leak.with_per_event(replace(
        per, template=first, amount=got.amount, r2=got.r2, model="beside-load",
        intercept=0.0, alternatives=per.alternatives if kept else rest,
        alternative_amounts=per.alternative_amounts if kept else (got.amount,) * len(rest),
        decided=decided, separations=per.separations if kept else ()))


def _say_beside(result: Any, beside: Sequence[BesideLoad], units: Mapping[str, str]) -> None:
    """A leak that a live count seemed to explain says why it was kept: a user who sees
    the count rise with the memory learns which event adds memory beside it."""
    from logsleuth.errors import DiagLevel, Diagnostic, SourceLocation

    for x in beside:
        unit = units.get(x.metric, "")
        result.diagnostics.append(Diagnostic(
            SourceLocation("<analysis>"), "growth-beside-load",
            f"{x.metric} rises with '{x.by}', but " + " or ".join(f"'{e}'" for e in x.events)
            + f" adds {x.amount:,.4g}{' ' + unit if unit else ''} per event beside it "
            f"({x.share:.0%} of the growth"
            + ("; tied: these counts cannot tell which" if len(x.events) > 1
               else "; told apart by an exception logged with it" if x.decided else "")
            + "): a leak, not load", level=DiagLevel.INFO))


def _say_load(result: Any, load: Sequence[LoadExplanation], units: Mapping[str, str]) -> None:
    """Growth set aside as load is said, not dropped silently: a user who expected a leak
    there learns what explained it and how well."""
    from logsleuth.errors import DiagLevel, Diagnostic, SourceLocation

    for x in load:
        unit = units.get(x.metric, "")
        by = f"'{x.by}'" if x.kind == "gauge" else f"opened minus closed ({x.by})"
        result.diagnostics.append(Diagnostic(
            SourceLocation("<analysis>"), "growth-is-load",
            f"{x.metric} grows with {by} ({x.per_unit:,.4g}{' ' + unit if unit else ''} per "
            f"unit of it, R² {x.r2:.4f} against it, {x.r2_time:.4f} against the clock): "
            "load, not a leak", level=DiagLevel.INFO))


def _markers(analysis: Any) -> Markers | None:
    """Exception instants and the templates of records that carry an exception: what may
    tell collinear events apart when timing cannot. The instants only when both they and
    the events are exact to the millisecond (small evidence); coarser buckets cannot say
    which record an exception was logged with."""
    exact = all(getattr(getattr(analysis, name, None), "res_ms", 0) == 1
                for name in ("template_counts", "class_counts"))
    table = analysis.notable_table()
    causes: frozenset[str] = frozenset()
    miner = getattr(analysis, "miner", None)
    if miner is not None and table.num_rows and "exception" in table.column_names:
        thrown = table.filter(pc.is_valid(table["exception"]))
        if thrown.num_rows:
            ids = np.asarray(miner.match(thrown["message"]))
            causes = frozenset(str(int(i)) for i in np.unique(ids[ids >= 0]))
    if not exact:
        return Markers(cause_keys=causes)
    ts, keys, counts = analysis.exception_events()
    return Markers(np.asarray(ts, np.int64), np.asarray(keys), np.asarray(counts), causes)


def _with_discovered(result: Any, analysis: Any, metrics: pd.DataFrame | None,
                     thinned: Sequence[ThinnedLines] = (),
                     ) -> tuple[pd.DataFrame | None, dict[str, DiscoveredGauge]]:
    """The metrics table plus the gauges discovered in message templates."""
    gauges = getattr(analysis, "gauges", None)
    if gauges is None:
        return metrics, {}
    candidates = gauges.tables()
    found, rows = discover_gauges(candidates, analysis.miner.templates,
                                  _declared(metrics, result.tables.get("metrics"), candidates,
                                            thinned))
    if not found:
        return metrics, {}
    extra = rows.to_pandas()
    both = extra if metrics is None else pd.concat([metrics, extra], ignore_index=True)
    return both, {g.metric: g for g in found}


def _declared(metrics: pd.DataFrame | None, table: pa.Table | None,
              candidates: Mapping[int, pa.Table],
              thinned: Sequence[ThinnedLines] = ()) -> pd.DataFrame | None:
    """What discovery must know is declared: every metric name, and every line a
    definition reads among the candidate rows, also where a long series was thinned,
    here or while it was read (only those rows of the whole table become pandas)."""
    dropped = [t for t in thinned if t.chunks]
    if metrics is None or table is None or not candidates or (
            len(metrics) == table.num_rows and not dropped):
        return metrics
    lines = pc.unique(pa.chunked_array(
        [c for t in candidates.values() for c in t["line"].chunks], pa.int64()))
    on = table.filter(pc.is_in(table["line"], value_set=lines))
    wanted = lines.to_numpy(zero_copy_only=False)
    return pd.concat([metrics[["source", "line", "metric"]],
                      on.select(["source", "line", "metric"]).to_pandas(),
                      *(t.among(wanted) for t in dropped)], ignore_index=True)


def _publish_discovered(result: Any, metrics: pd.DataFrame, found: Mapping[str, Any],
                        leaking: set[str]) -> None:
    """Discovered gauges as a ``gauges`` table; the leaking ones join ``metrics``."""
    if not found:
        return
    g = list(found.values())
    result.tables["gauges"] = pa.table({
        "metric": [x.metric for x in g], "unit": [x.unit for x in g],
        "template": [x.template for x in g], "samples": [x.samples for x in g],
        "leak": [x.metric in leaking for x in g],
        "example_path": [str(x.example["path"]) for x in g],
        "example_line": pa.array([int(x.example["line"]) for x in g], pa.int64()),
        "example_text": [str(x.example["text"]) for x in g],
        "definition": [x.yaml for x in g]})
    shown = {m for m in leaking if m in found} | {f"{m}_max" for m in leaking if m in found}
    if shown:
        rows = metrics[metrics["metric"].astype(str).isin(shown)]
        table = pa.Table.from_pandas(rows, schema=METRICS_SCHEMA, preserve_index=False)
        old = result.tables.get("metrics")
        result.tables["metrics"] = table if old is None else pa.concat_tables(
            [old, table], promote_options="permissive")


def corroborated(leak: LeakEstimate) -> bool:
    """Growth that stands on its own as a leak: an event explains it, or it ran into its
    ceiling. Growth nothing explains, short of any known ceiling, is not enough to call
    an incident when nothing failed: a pool warming up looks the same over minutes."""
    return leak.per_event is not None or leak.ceiling_reached_ms is not None


def analyze_scan(result: Any, analysis: Any, timezone: TimezoneGuess | None,
                 limits: Mapping[str, float] | None = None,
                 thinned: Sequence[ThinnedLines] = ()) -> Incident | None:
    from logsleuth.engine.memory import release_free_heap

    release_free_heap()  # the merged partials' garbage: not the analysis's to carry
    leaks, metrics = find_leaks(result, analysis, limits, thinned)
    sure = [k for k in leaks if corroborated(k)]
    onset = onset_from_findings(result.findings, (Severity.CRITICAL,) if sure else DEFINING)
    notable = notable_frame(analysis.notable_table())  # what onset, symptoms and ranking read
    if onset is None:  # no rule named the failure: the first OutOfMemoryError-like record
        onset = first_fatal(notable)
    if onset is None and not sure:
        return None
    if onset is None:
        leaks = sure
    onset_ms = onset.ts_ms if onset else None
    if onset is not None:  # a resource's own exhaustion says when its gauge hit the ceiling
        leaks = exhausted_at_onset(leaks, onset.rule, onset.ts_ms)
    # what ran out first: a gauge at its ceiling comes before growth that has not got there
    # (the heap objects of leaked direct buffers grow too, but the direct memory failed)
    leaks = sorted(leaks, key=lambda k: k.ceiling_reached_ms is None)
    gc = _frame(result, "gc_events")
    threads = _frame(result, "thread_states")
    if threads is not None and any(k.metric == THREADS for k in leaks):
        groups = tuple(thread_name_groups(threads))
        leaks = [replace(k, thread_groups=groups) if k.metric == THREADS else k for k in leaks]
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
    miner = getattr(analysis, "miner", None)
    if leaks and miner is not None and len(notable):  # a WARN event the leak follows
        ids = np.asarray(miner.match(pa.array(notable["message"].astype(str).tolist())))
        names = np.array([*templates, ""], dtype=object)[np.where(ids >= 0, ids, len(templates))]
        causes = with_event_causes(causes, event_causes(notable, leaks, names, onset_ms))
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
