"""Can the evidence of each hard case tell the true event from its rival at all?

Measured from each run's own evidence (records to the ms, the gauge's own sample times
and values), before the attribution was changed (issue 15 item 4, issue 19 item 2). The
windows end at the gauge's samples; ``separability.separate`` fits the gauge's increments
on both candidates' counts (amounts never negative) and F-tests what each adds to the
other, with any one window left out. What these figures said, and what the tests below
keep true of the evidence:

- ``pooled-jdk-1024-kv`` (and its JSON twin, the same run): 'Client disconnected' vs
  'Client connected' over 27-28 one-second intervals, counts correlated 0.9996. With every
  interval, 'connected' adds to 'disconnected' (F 6.6, p 0.017; 23-34 in other codings)
  only because of the first interval, where the 4 subscribers connect and the pool maps
  its first 8 KiB chunks; without it neither adds anything (F 0.49 / 1.81, p 0.49 / 0.19).
  Open sessions differ by 0.32 events (sd) between the two counts once the intercept is
  taken out: 332 B against a residual of ~2,700 B per sample (8 KiB chunks: 2,365 B of
  rounding alone): timing cannot tell them apart. The exception can: 97 % of the encoder
  NPE records share their millisecond with a 'Client disconnected' record, 64 % with a
  'Client connected' one (by chance: 11 %), McNemar's paired z far beyond 2.58.
- ``pooled-jdk-256-bufferpool-swallowed``: disconnects vary by 3.9 % (cv) per interval, so
  an event model explains the growth no better than a constant rate per second (F 2.0,
  p 0.17 over 25 intervals); connect vs disconnect F 0.3 / 0 (counts correlated 0.999).
  The level fit gives 269.8 B per either (truth 269.8), but which event, or whether an
  event at all rather than the clock, the evidence does not say; and no exception is logged.
- ``heap-g1`` / ``heap-parallel``: 'Session closed' vs 'Request handled' over 994 / 731 GC
  intervals, counts correlated 0.989 / 0.987, the heap after GC rounded to whole MiB with
  ~160-190 KB of residual per interval against 16 KB per session. The F-tests disagree
  across window sizes (either candidate "wins" at some size, both at others) and no
  winner survives leaving one interval out: not identifiable.
  heap-parallel's heap after GC is now read to the KiB (young + old generation lines):
  inside the growth ranges 'Session closed' adds F 7.3 (p 0.008, 0.027 with one interval
  left out) over 166 intervals, still short of 1 %; only the GC storm before the OOM (a
  'flat' regime by its rate per second: the events slow down, the growth per event does
  not) decides it. Attribution now reads it: a growth run's slower tail below the ceiling
  is read, up to where the floor reached the level it held at the first OOM (the
  resource's own failure marks its ceiling there): with the warm-up set aside, over 229
  intervals 'Session closed' adds F 9.7 (p 0.002, 0.01 with one left out) and 'Request
  handled' F 0.8 (p 0.36): decided, 15,396 B (truth 16,406 B, -6.2 %); read to the end
  of the evidence instead (past the OOM) it was not decided. The test below reads the
  whole range with the warm-up, where the two are still not told apart.
- ``metaspace-g1``: the leak gauge is now the *used* metaspace after GC (the truth's
  measure; the committed space ``MaxMetaspaceSize`` bounds grows ~3x faster in 64 KiB
  steps and is a gauge of its own). G1 collects every ~60 reloads, so with the start-up
  class loading set aside 9 GC intervals remain, 58-68 reloads each (cv 6 %): 'Plugin
  reloaded' fits 2,049 B per event through the origin (truth 2,194 B) with R² -0.16, and
  against a constant rate per second its count adds F 12.2 (p 0.010, 0.030 with one
  interval left out), the clock nothing: the events lead, but not at 1 %.
"""

from __future__ import annotations

import functools
import gzip
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from logsleuth import api
from logsleuth.timeline.separability import f_sf, gauge_intervals, interval_counts, separate

ROOT = Path(__file__).resolve().parents[2] / "sample_logs"


@functools.cache
def _scan(case: str) -> Any:
    return api.scan(ROOT / case, keep_records=True)


def _gauge(case: str, metric: str) -> tuple[np.ndarray, np.ndarray, Any]:
    res = _scan(case)
    leak = next(k for k in res.incident.leaks if k.metric == metric)
    m = res.tables["metrics"].to_pandas()
    m = m[(m["metric"].astype(str) == metric) & (m["origin"].astype(str) == "gauge")]
    ts = m["ts"].astype("datetime64[ms, UTC]").astype("int64").to_numpy()
    return ts, m["value"].to_numpy(np.float64), leak.growth_ranges_ms


def _events(case: str, prefix: str) -> pd.DataFrame:
    rec = _scan(case).records
    rec = rec[rec["message"].astype(str).str.startswith(prefix) & rec["ts"].notna()]
    return pd.DataFrame({"ms": rec["ts"].astype("datetime64[ms, UTC]").astype("int64"),
                         "thread": rec["thread"].astype(str)})


def _separation(case: str, metric: str, a: str, b: str, skip: int = 0) -> Any:
    """The nested tests over the growth ranges' intervals, the first ``skip`` left out."""
    ts, v, ranges = _gauge(case, metric)
    t, vv, same = gauge_intervals(ts, v, ranges, 20_000)
    y = np.diff(vv)[same][skip:]
    xa = interval_counts(t, same, _events(case, a)["ms"].to_numpy(), None)[skip:]
    xb = interval_counts(t, same, _events(case, b)["ms"].to_numpy(), None)[skip:]
    return separate(y, xa, xb, a, b), y, xa, xb


@pytest.mark.parametrize("case", ["matrix/pooled-jdk-1024-kv", "matrix/pooled-jdk-1024-kv-json"])
def test_connect_and_disconnect_cannot_be_told_apart_by_timing_but_the_npe_tells(
        case: str) -> None:
    sep, *_ = _separation(case, "direct_used", "Client disconnected", "Client connected")
    assert sep is not None and sep.corr > 0.99
    assert sep.winner is None, sep  # timing: not identifiable
    npe = _events(case, "Failed to publish offline presence")
    marks = npe["ms"].to_numpy()
    share = {}
    hits = {}
    for name in ("Client disconnected", "Client connected"):
        ev = np.unique(_events(case, name)["ms"].to_numpy())
        k = np.searchsorted(ev, marks)
        hits[name] = (k < len(ev)) & (ev[np.minimum(k, len(ev) - 1)] == marks)
        share[name] = float(hits[name].mean())
    assert share["Client disconnected"] >= 0.9 > share["Client connected"], share
    n10 = int((hits["Client disconnected"] & ~hits["Client connected"]).sum())
    n01 = int((~hits["Client disconnected"] & hits["Client connected"]).sum())
    assert (n10 - n01) / math.sqrt(n10 + n01) > 2.58
    # and on the same thread: the handler of the disconnect logs the NPE
    disc = _events(case, "Client disconnected")
    same_thread = npe.merge(disc, on=["ms", "thread"], how="left", indicator=True)
    assert (same_thread["_merge"] == "both").mean() >= 0.9


def test_steady_disconnects_cannot_be_told_from_connects_nor_from_the_clock() -> None:
    case = "matrix/pooled-jdk-256-bufferpool-swallowed"
    # the growth run's first interval (it starts at the first sample of its first bin) is
    # the pool's warm-up, which the attribution sets aside: 13 disconnects against ~24 KB,
    # the first 8 KiB chunks mapped; what follows is the steady growth measured here
    _, y0, x0, _ = _separation(case, "jvm_buffer_pool_direct_used", "Client disconnected",
                               "Client connected")
    assert y0[0] > 5 * 270 * x0[0] and x0[0] < 0.2 * np.median(x0)
    sep, y, xa, _ = _separation(case, "jvm_buffer_pool_direct_used", "Client disconnected",
                                "Client connected", skip=1)
    assert sep is not None and sep.winner is None, sep
    assert xa.std() / xa.mean() < 0.05  # counts per interval barely vary
    ts, v, ranges = _gauge(case, "jvm_buffer_pool_direct_used")
    t, _, same = gauge_intervals(ts, v, ranges, 20_000)
    dt = np.diff(t).astype(np.float64)[same][1:]
    # does the event count add to a constant rate per second? (nested F, 1 and n-2 df)
    def sse(cols: list[np.ndarray]) -> float:
        m = np.column_stack(cols)
        r = y - m @ np.linalg.lstsq(m, y, rcond=None)[0]
        return float(r @ r)
    joint = sse([xa, dt])
    f = (sse([dt]) - joint) / (joint / (len(y) - 2))
    assert f_sf(f, 1, len(y) - 2) > 0.05, f


@pytest.mark.parametrize("case", ["resources/heap-g1", "resources/heap-parallel"])
def test_session_closed_and_request_handled_are_not_identifiable_on_the_heap(case: str,
                                                                             ) -> None:
    sep, *_ = _separation(case, "jvm_heap_after_gc", "Session closed", "Request handled")
    assert sep is not None and sep.corr > 0.95
    assert sep.winner is None, sep


def test_metaspace_committed_space_grows_faster_than_the_used_truth() -> None:
    """Why the leak gauge is the used metaspace: committed space (what the flag bounds)
    grows in chunks, more than twice as fast as the used space the truth measures."""
    with gzip.open(ROOT / "resources/metaspace-g1/gc.log.gz", "rt") as f:
        text = f.read()
    rows = [(float(m["u"]), float(m["c"])) for m in re.finditer(
        r"GC\(\d+\) Metaspace: \d+K\(\d+K\)->(?P<u>\d+)K\((?P<c>\d+)K\)", text)]
    used, committed = np.array(rows).T
    # over the steady growth (after the JVM's own class loading, before the ceiling):
    grow = slice(2, int(np.argmax(committed)) + 1)
    ratio = np.ptp(committed[grow]) / np.ptp(used[grow])
    assert ratio > 2.0, ratio


def test_metaspace_used_gauge_is_read_as_the_leak() -> None:
    """The scan's leak gauge carries the used figures (not the committed ones) of the log."""
    res = _scan("resources/metaspace-g1")
    m = res.tables["metrics"].to_pandas()
    used = m[(m["metric"] == "jvm_metaspace_after_gc") & (m["origin"] == "gauge")]
    with gzip.open(ROOT / "resources/metaspace-g1/gc.log.gz", "rt") as f:
        text = f.read()
    want = [float(m_["u"]) * 1024 for m_ in re.finditer(
        r"GC\(\d+\) Metaspace: \d+K\(\d+K\)->(?P<u>\d+)K\(", text)]
    assert sorted(used["value"].tolist()) == sorted(want)
