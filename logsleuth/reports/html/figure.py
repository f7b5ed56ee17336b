"""The timeline: one plotly figure, one x axis, one swimlane per kind of evidence.

All lanes share the single x axis ``x`` (each lane has its own y axis), so a
zoom or pan on any lane moves every lane. The figure is a plain JSON-able dict
(plotly.js figure spec); the page embeds it and calls ``Plotly.newPlot`` once.
Every string that came from a log passes through ``plot_text``.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from logsleuth.reports.clock import UTC_ZONE, DisplayZone, wall_clock_ms
from logsleuth.reports.html import series as S
from logsleuth.reports.html.safe import plot_text

LEVEL_COLORS = {"FATAL": "#7f0000", "ERROR": "#d32f2f", "WARN": "#f57c00", "WARNING": "#f57c00",
                "INFO": "#1e88e5", "DEBUG": "#90a4ae", "TRACE": "#cfd8dc", "(none)": "#bdbdbd"}
STATUS_COLORS = {"1xx": "#80cbc4", "2xx": "#43a047", "3xx": "#8e24aa", "4xx": "#fb8c00",
                 "5xx": "#c62828", "other": "#9e9e9e"}
STATE_COLORS = {"BLOCKED": "#c62828", "RUNNABLE": "#43a047", "WAITING": "#90a4ae",
                "TIMED_WAITING": "#b0bec5", "NEW": "#ce93d8", "TERMINATED": "#757575",
                "no Java state": "#e0e0e0"}
PALETTE = ("#5e35b1", "#00897b", "#6d4c41", "#3949ab", "#c0ca33", "#d81b60", "#00acc1",
           "#7cb342", "#f4511e", "#546e7a")
ONSET_COLOR = "#b71c1c"
PRECURSOR_COLOR = "#ef6c00"
SYMPTOM_COLOR = "#6a1b9a"
MAX_METRIC_LANES = 4
MAX_RULES = 10
# the zone of every time the page shows; render_html sets it for one rendering
SHOWN_ZONE: ContextVar[DisplayZone] = ContextVar("shown_zone", default=UTC_ZONE)


@dataclass(slots=True)
class Lane:
    key: str
    title: str
    height: int
    traces: list[dict[str, Any]] = field(default_factory=list)
    yaxis: dict[str, Any] = field(default_factory=dict)


def iso(ms: np.ndarray | list[int] | int) -> list[str] | str:
    """Plotly date strings (wall clock of the shown zone, millisecond precision)."""
    arr = wall_clock_ms(np.atleast_1d(np.asarray(ms, dtype=np.int64)),
                        SHOWN_ZONE.get()).astype("datetime64[ms]")
    out = np.datetime_as_string(arr, unit="ms").tolist()
    return out[0] if np.ndim(ms) == 0 else out


def _bars(name: str, x: list[str], y: np.ndarray, color: str, width_ms: int, legend: str,
          unit: str) -> dict[str, Any]:
    return {"type": "bar", "name": plot_text(name), "x": x, "y": y.tolist(),
            "width": width_ms * 0.9, "marker": {"color": color, "line": {"width": 0}},
            "legend": legend, "offsetgroup": legend,
            "hovertemplate": f"%{{x}}<br>{plot_text(name)}: %{{y}} {unit}<extra></extra>"}


def level_lane(tables: dict[str, pa.Table], grid: S.Grid) -> Lane | None:
    """App records per level, stacked, from records when kept, else ``level_counts``."""
    rec = tables.get("records")
    if rec is not None and rec.num_rows and {"ts", "level"} <= set(rec.column_names):
        ms, (keys, labels), weights = S.column_ms(rec), S.codes(rec, "level"), None
    else:
        fine = tables.get("level_seconds")  # per second while the evidence is short
        lc, column, floor = ((fine, "second", 1000) if fine is not None and fine.num_rows
                             else (tables.get("level_counts"), "minute", 60_000))
        if lc is None or not lc.num_rows:
            return None
        grid = grid.at_least(floor)
        ms, (keys, labels) = S.column_ms(lc, column), S.codes(lc, "level")
        weights = lc.column("count").to_numpy().astype(np.float64)
    counts = S.count_by(grid, ms, keys, labels, weights)
    if not counts:
        return None
    x = iso(grid.centers().astype(np.int64))
    order = sorted(counts, key=lambda lv: list(LEVEL_COLORS).index(lv)
                   if lv in LEVEL_COLORS else -1, reverse=True)
    traces = [_bars(lv, x, counts[lv], LEVEL_COLORS.get(lv, PALETTE[i % len(PALETTE)]),
                    grid.width_ms, "", "records") for i, lv in enumerate(order)]
    return Lane("levels", f"app log records per {_width(grid.width_ms)} by level", 190, traces,
                {"title": {"text": "records"}})


def rule_lane(tables: dict[str, pa.Table], findings: list[dict[str, Any]],
              grid: S.Grid) -> Lane | None:
    """Rule firings per minute per rule; without ``finding_minutes``, first→last seen spans."""
    fm = tables.get("finding_minutes")
    if fm is not None and fm.num_rows:
        grid = grid.at_least(60_000)
        keys, labels = S.codes(fm, "rule")
        counts = S.count_by(grid, S.column_ms(fm, "minute"), keys, labels,
                            fm.column("count").to_numpy().astype(np.float64))
        top = sorted(counts, key=lambda r: -int(counts[r].sum()))[:MAX_RULES]
        x = iso(grid.centers().astype(np.int64))
        traces = [{"type": "scatter", "mode": "lines", "name": plot_text(r), "x": x,
                   "y": counts[r].tolist(), "line": {"color": PALETTE[i % len(PALETTE)],
                                                     "width": 1.5, "shape": "hv"},
                   "legend": "", "hovertemplate": f"%{{x}}<br>{plot_text(r)}: %{{y}} "
                                                  "per minute<extra></extra>"}
                  for i, r in enumerate(top)]
        return Lane("rules", "rule firings per minute", 170, traces,
                    {"title": {"text": "matches"}})
    spans = [f for f in findings if f.get("first_seen") and f.get("last_seen")][:MAX_RULES]
    if not spans:
        return None
    traces = []
    for f in spans:
        label = plot_text(f["rule"])
        hover = (f"{label}: {int(f.get('count') or 0)} matches, peak "
                 f"{int(f.get('peak_per_minute') or 0)}/min<br>{plot_text(f.get('title'))}")
        traces.append({"type": "scatter", "mode": "lines+markers", "name": label,
                       "x": [_plot_time(f["first_seen"]), _plot_time(f["last_seen"])],
                       "y": [label, label], "legend": "",
                       "line": {"color": _sev_color(f.get("severity")), "width": 8},
                       "marker": {"size": 9}, "hovertemplate": hover + "<extra></extra>"})
    return Lane("rules", "rule firings (first → last match)", 40 + 22 * len(spans), traces,
                {"type": "category", "automargin": True})


def gc_lane(tables: dict[str, pa.Table]) -> Lane | None:
    """GC pauses: one marker per pause (largest per bin when there are many)."""
    gc = tables.get("gc_events")
    if gc is None or not gc.num_rows or "pause_ms" not in gc.column_names:
        return None
    ms = S.column_ms(gc)
    pause = gc.column("pause_ms").to_numpy(zero_copy_only=False).astype(np.float64)
    full = (gc.column("is_full").fill_null(False).to_numpy(zero_copy_only=False).astype(bool)
            if "is_full" in gc.column_names else np.zeros(gc.num_rows, bool))
    keep = S.top_per_bin(ms, pause, full.astype(np.int64))
    if not len(keep):
        return None
    text = _gc_hover(gc.take(pa.array(keep)))
    traces = []
    for is_full, name, color, symbol in ((False, "young / mixed", "#26a69a", "circle"),
                                         (True, "full GC", "#c62828", "diamond")):
        sel = keep[full[keep] == is_full]
        if not len(sel):
            continue
        tx = [t for t, k in zip(text, keep, strict=True) if full[k] == is_full]
        traces.append({"type": "scatter", "mode": "markers", "name": name, "x": iso(ms[sel]),
                       "y": pause[sel].round(3).tolist(), "text": tx, "legend": "",
                       "marker": {"color": color, "symbol": symbol, "size": 7, "opacity": 0.8},
                       "hovertemplate": "%{x}<br>%{text}<extra></extra>"})
    return Lane("gc", "GC pauses", 170, traces,
                {"title": {"text": "pause ms"}, "rangemode": "tozero"})


def _gc_hover(t: pa.Table) -> list[str]:
    def col(name: str) -> list[Any]:
        return t.column(name).to_pylist() if name in t.column_names else [None] * t.num_rows

    out = []
    for pause, cause, coll, kind, full, src, line in zip(
            col("pause_ms"), col("cause"), col("collector"), col("kind"), col("is_full"),
            col("source"), col("line"), strict=True):
        what = " ".join(plot_text(v) for v in (coll, kind) if v) or "GC"
        out.append(f"{what}{' (full)' if full else ''}: {pause:.1f} ms<br>cause: "
                   f"{plot_text(cause or 'unknown')}<br>{plot_text(src)}:{line or '?'}")
    return out


def thread_lane(tables: dict[str, pa.Table], span_ms: int) -> Lane | None:
    """Thread states per dump, stacked; BLOCKED in red at the bottom."""
    th = tables.get("thread_states")
    if th is None or not th.num_rows or "state" not in th.column_names:
        return None
    ms = S.column_ms(th)
    src = th.column("source").to_pylist() if "source" in th.column_names else [""] * th.num_rows
    dump = (th.column("dump_index").to_pylist() if "dump_index" in th.column_names
            else [0] * th.num_rows)
    states = [s or "no Java state" for s in th.column("state").to_pylist()]
    per: dict[tuple[int, str, int], dict[str, int]] = {}
    for t, s, d, st in zip(ms.tolist(), src, dump, states, strict=True):
        if t == S.NAT:
            continue
        c = per.setdefault((t, str(s), int(d or 0)), {})
        c[st] = c.get(st, 0) + 1
    if not per:
        return None
    dumps = sorted(per)
    x = iso([d[0] for d in dumps])
    names = [f"{plot_text(s)} #{i}" for _, s, i in dumps]
    all_states = sorted({s for c in per.values() for s in c},
                        key=lambda s: (list(STATE_COLORS).index(s) if s in STATE_COLORS else 99,
                                       s))
    width = max(span_ms / 150, 500)
    traces = [{"type": "bar", "name": plot_text(st), "x": x,
               "y": [per[d].get(st, 0) for d in dumps], "customdata": names,
               "width": width, "legend": "", "offsetgroup": "threads",
               "marker": {"color": STATE_COLORS.get(st, PALETTE[i % len(PALETTE)])},
               "hovertemplate": f"%{{customdata}} at %{{x}}<br>{plot_text(st)}: %{{y}} "
                                "threads<extra></extra>"}
              for i, st in enumerate(all_states)]
    return Lane("threads", "thread states per thread dump", 160, traces,
                {"title": {"text": "threads"}})


def http_lane(tables: dict[str, pa.Table], grid: S.Grid) -> Lane | None:
    """nginx responses per status class and error.log lines, per bin."""
    http = tables.get("http_requests")
    errs = tables.get("nginx_errors")
    traces: list[dict[str, Any]] = []
    x = iso(grid.centers().astype(np.int64))
    if http is not None and http.num_rows and "status" in http.column_names:
        status = http.column("status").fill_null(0).to_numpy(zero_copy_only=False)
        cls = np.clip(status // 100, 0, 6).astype(np.int64)
        labels = ["other", "1xx", "2xx", "3xx", "4xx", "5xx", "other"]
        counts = S.count_by(grid, S.column_ms(http), cls, labels)
        traces += [_bars(c, x, counts[c], STATUS_COLORS[c], grid.width_ms, "", "responses")
                   for c in ("2xx", "1xx", "3xx", "4xx", "5xx", "other") if c in counts]
    if errs is not None and errs.num_rows:
        n = S.count_by(grid, S.column_ms(errs), np.zeros(errs.num_rows, np.int64), ["e"])
        if n:
            traces.append({"type": "scatter", "mode": "lines", "name": "error.log lines",
                           "x": x, "y": n["e"].tolist(), "legend": "",
                           "line": {"color": "#212121", "width": 1.5, "dash": "dot",
                                    "shape": "hv"},
                           "hovertemplate": "%{x}<br>nginx error.log: %{y} lines"
                                            "<extra></extra>"})
    if not traces:
        return None
    return Lane("http", f"nginx responses per {_width(grid.width_ms)} by status class", 170,
                traces, {"title": {"text": "requests"}})


def _width(ms: int) -> str:
    if ms % 86_400_000 == 0:
        return f"{ms // 86_400_000} d" if ms > 86_400_000 else "day"
    if ms % 3_600_000 == 0:
        return f"{ms // 3_600_000} h" if ms > 3_600_000 else "hour"
    if ms % 60_000 == 0:
        return f"{ms // 60_000} min" if ms > 60_000 else "minute"
    return f"{ms // 1000} s" if ms > 1000 else "second"


def _plot_time(value: object) -> str:
    return str(iso(_to_ms(value)))


def _to_ms(value: object) -> int:
    import pandas as pd

    if isinstance(value, int | np.integer):
        return int(value)
    return int(pd.Timestamp(str(value)).tz_convert("UTC").value // 1_000_000) \
        if pd.Timestamp(str(value)).tzinfo else int(pd.Timestamp(str(value)).value // 1_000_000)


def _sev_color(sev: object) -> str:
    return {"critical": "#b71c1c", "high": "#e65100", "medium": "#f9a825", "low": "#1e88e5",
            "info": "#78909c"}.get(str(sev), "#78909c")
