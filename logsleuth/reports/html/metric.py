"""Metric lanes: the series, its known maximum, the fitted leak trend and exhaustion.

The incident's leak estimate gives a Theil–Sen slope; the line drawn is that
slope through the median residual of the plotted metric, from the first sample
to the projected exhaustion (when it falls near the evidence) or the last sample.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from logsleuth.reports.html import series as S
from logsleuth.reports.html.figure import (
    MAX_METRIC_LANES,
    PALETTE,
    SHOWN_ZONE,
    Lane,
    _to_ms,
    iso,
)
from logsleuth.reports.html.safe import plot_text
from logsleuth.timeline.resources import AFTER_GC, spoken_unit

HOUR_MS = 3_600_000


def metric_lanes(tables: dict[str, pa.Table], leaks: list[dict[str, Any]],
                 span: tuple[int, int]) -> list[Lane]:
    """One lane per metric (leaking metrics first), at most ``MAX_METRIC_LANES``."""
    mt = tables.get("metrics")
    if mt is None or not mt.num_rows or not {"metric", "value"} <= set(mt.column_names):
        return []
    names = [str(n) for n in pc.unique(mt.column("metric")).to_pylist() if n is not None]
    by_leak = {str(k.get("metric")): k for k in leaks}
    names.sort(key=lambda n: (n not in by_leak, n))
    ms_all = S.column_ms(mt)
    values_all = mt.column("value").to_numpy(zero_copy_only=False).astype(np.float64)
    metric_col = mt.column("metric")
    # ceilings and values read from failure messages are drawn with their gauge, not alone
    gauge = (pc.equal(mt.column("origin"), "gauge").to_numpy(zero_copy_only=False)
             .astype(bool) if "origin" in mt.column_names else np.ones(mt.num_rows, bool))
    shown = set(pc.unique(pc.filter(metric_col, pa.array(gauge))).to_pylist())
    from logsleuth.timeline.resources import EVIDENCE_GAUGES

    names = [n for n in names if n in shown and (n in by_leak or n not in EVIDENCE_GAUGES)]
    lanes = []
    for i, name in enumerate(names[:MAX_METRIC_LANES]):
        sel = pc.equal(metric_col, name).to_numpy(zero_copy_only=False).astype(bool)
        sel &= (ms_all != S.NAT) & np.isfinite(values_all) & gauge
        if not sel.any():
            continue
        ms, v = ms_all[sel], values_all[sel]
        unit = str(mt.column("unit")[int(np.flatnonzero(sel)[0])]) \
            if "unit" in mt.column_names else ""
        lane = _lane(name, unit, ms, v, by_leak.get(name), span, PALETTE[i % 10])
        if name in AFTER_GC:  # the leak test reads the floor: draw it over the sawtooth
            lane.traces.insert(1, _floor_trace(mt, sel, ms, v, unit))
        lanes.append(lane)
    return lanes


def _lane(name: str, unit: str, ms: np.ndarray, v: np.ndarray, leak: dict[str, Any] | None,
          span: tuple[int, int], color: str) -> Lane:
    keep = S.extremes(ms, v)
    label = plot_text(name)
    traces: list[dict[str, Any]] = [{
        "type": "scatter", "mode": "lines", "name": label, "x": iso(ms[keep]),
        "y": v[keep].tolist(), "line": {"color": color, "width": 1.5}, "legend": "",
        "hovertemplate": f"%{{x}}<br>{label}: %{{y:,.0f}} {plot_text(unit)}<extra></extra>"}]
    t0, t1 = int(ms.min()), int(ms.max())
    maximum = leak.get("maximum") if leak else None
    ex_ms = _to_ms(leak["exhaustion_at"]) if leak and leak.get("exhaustion_at") else None
    end = t1
    if leak and leak.get("slope_per_hour") is not None:
        slope = float(leak["slope_per_hour"]) / HOUR_MS
        g0 = _to_ms(leak["growth_start"]) if leak.get("growth_start") else t0
        g1 = _to_ms((leak.get("projection") or {}).get("window", {}).get("end")) \
            if (leak.get("projection") or {}).get("window", {}).get("end") else t1
        inside = (ms >= g0) & (ms <= g1)
        t0 = g0 if inside.any() else t0
        inside = inside if inside.any() else np.ones(len(ms), bool)
        b = float(np.median(v[inside] - slope * (ms[inside] - t0)))
        # draw to exhaustion if it is within half the evidence span after its end
        end = ex_ms if ex_ms is not None and ex_ms <= span[1] + (span[1] - span[0]) // 2 else t1
        per = leak.get("per_event") or {}
        said = spoken_unit(str(leak.get("metric") or ""), unit)  # "threads", not "count"
        words = f"{_human(float(leak['slope_per_hour']), said)}/h, R² {float(leak['r2']):.3f}"
        if per.get("amount") is not None:
            words += (f"<br>≈ {_human(float(per['amount']), said)} per "
                      f"“{plot_text(per.get('template'), 80)}”")
        elif leak.get("per_event_reason"):  # why no event is named (the summary says it all)
            words += f"<br>no event named ({plot_text(leak['per_event_reason']['code'], 40)})"
        traces.append({"type": "scatter", "mode": "lines", "name": "fitted trend",
                       "x": iso([t0, end]), "y": [b, b + slope * (end - t0)], "legend": "",
                       "line": {"color": "#424242", "width": 1.5, "dash": "dash"},
                       "hovertemplate": f"trend: {words}<extra></extra>"})
        if ex_ms is not None and maximum is not None and end == ex_ms:
            reached = (leak.get("projection") or {}).get("state") == "reached"
            what = "ceiling reached" if reached else "projected exhaustion"
            traces.append({"type": "scatter", "mode": "markers+text", "name": "exhaustion",
                           "x": iso([ex_ms]), "y": [maximum], "text": [what],
                           "textposition": "top left", "legend": "",
                           "marker": {"symbol": "x", "size": 12, "color": "#b71c1c"},
                           "hovertemplate": f"{what} %{{x}} {SHOWN_ZONE.get().name}<br>{words}"
                                            "<extra></extra>"})
    if maximum is not None:
        ceiling = (leak or {}).get("projection", {}).get("ceiling") or {}
        said = (f" ({plot_text(ceiling.get('source'))}, {plot_text(ceiling.get('where'))})"
                if ceiling.get("where") else "")
        lo = min(t0, span[0])
        hi = max(t1, span[1], end)
        traces.append({"type": "scatter", "mode": "lines", "name": "known maximum",
                       "x": iso([lo, hi]), "y": [maximum, maximum], "legend": "",
                       "line": {"color": "#b71c1c", "width": 1, "dash": "dot"},
                       "hovertemplate": f"maximum {_human(float(maximum), unit)}{said}"
                                        "<extra></extra>"})
    title = f"metric {label}" + (f" ({plot_text(unit)})" if unit else "")
    return Lane(f"metric:{name}", title, 200, traces,
                {"title": {"text": plot_text(unit) or "value"}, "rangemode": "tozero"})


def _floor_trace(mt: pa.Table, sel: np.ndarray, ms: np.ndarray, v: np.ndarray,
                 unit: str) -> dict[str, Any]:
    """The post-GC floor (the live set) of an after-GC gauge, per GC log as analysed."""
    import pandas as pd

    from logsleuth.timeline.resources import post_gc_floor

    rows = np.flatnonzero(sel)
    df = pd.DataFrame({"source": mt.column("source").take(pa.array(rows)).to_pylist(),
                       "metric": AFTER_GC[0], "ts": ms, "line": np.arange(len(ms)),
                       "value": v})
    floor = post_gc_floor(df)["value"].to_numpy(np.float64)
    keep = S.extremes(ms, floor)
    return {"type": "scatter", "mode": "lines", "name": "floor (live set)",
            "x": iso(ms[keep]), "y": floor[keep].tolist(), "legend": "",
            "line": {"color": "#212121", "width": 1},
            "hovertemplate": f"%{{x}}<br>floor after GC: %{{y:,.0f}} {plot_text(unit)}"
                             "<extra></extra>"}


def _human(value: float, unit: str) -> str:
    """Bytes in KiB/MiB/GiB, other units as they are."""
    if unit in ("B", "bytes"):
        for u, f in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
            if abs(value) >= f:
                return f"{value / f:,.1f} {u}"
        return f"{value:,.0f} B"
    if abs(value) >= 1000:  # 42,200 threads, not 4.22e+04
        return f"{value:,.0f} {plot_text(unit)}".strip()
    return f"{value:,.4g} {plot_text(unit)}".strip()
