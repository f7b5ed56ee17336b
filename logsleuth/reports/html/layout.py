"""Stack the lanes into one figure: y domains, per-lane legends, onset/precursor markers."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from logsleuth.reports.html import series as S
from logsleuth.reports.html.figure import (
    ONSET_COLOR,
    PRECURSOR_COLOR,
    SHOWN_ZONE,
    SYMPTOM_COLOR,
    Lane,
    _plot_time,
    _to_ms,
    gc_lane,
    http_lane,
    level_lane,
    rule_lane,
    thread_lane,
)
from logsleuth.reports.html.metric import metric_lanes
from logsleuth.reports.html.safe import plot_text

GAP_PX = 34
TOP_PX = 30
BOTTOM_PX = 50
MISSING = {
    "levels": "no application log records with timestamps",
    "rules": "no rule fired",
    "gc": "no GC log in the evidence",
    "threads": "no thread dump in the evidence",
    "http": "no nginx log in the evidence",
    "metrics": "no metric lines (e.g. direct-memory gauges) in the evidence",
}


def event_times(incident: dict[str, Any] | None, findings: list[dict[str, Any]]) -> list[int]:
    out = []
    if incident:
        out += [_to_ms(incident["onset"])] if incident.get("onset") else []
        out += [_to_ms(p["ts"]) for p in incident.get("precursors", []) if p.get("ts")]
    for f in findings:
        out += [_to_ms(f[k]) for k in ("first_seen", "last_seen") if f.get(k)]
    return out


def marker_lane(incident: dict[str, Any] | None) -> Lane | None:
    """Onset, precursors and first symptoms as hoverable markers on their own rows."""
    if not incident:
        return None
    rows: list[tuple[str, str, str, list[dict[str, Any]]]] = [
        ("first symptoms", SYMPTOM_COLOR, "triangle-up",
         [{"ts": s["ts"], "text": f"{plot_text(s['kind'])} in {plot_text(s['source'])}"
                                  f"<br>{plot_text(s['detail'])}<br>"
                                  f"{_offset(int(s['offset_ms']))} onset"}
          for s in incident.get("first_symptoms", []) if s.get("ts")]),
        ("precursors", PRECURSOR_COLOR, "diamond",
         [{"ts": p["ts"], "text": f"{plot_text(p['kind'])}: {plot_text(p['detail'])}<br>"
                                  f"{_offset(-int(p['lead_ms']))} onset"}
          for p in incident.get("precursors", []) if p.get("ts")]),
    ]
    if incident.get("onset"):
        ev = incident.get("onset_evidence") or {}
        rows.append(("onset", ONSET_COLOR, "star", [{
            "ts": incident["onset"],
            "text": f"onset<br>{plot_text(ev.get('path'))}:{ev.get('line')}<br>"
                    f"{plot_text(ev.get('text'), 160)}"}]))
    traces = [{"type": "scatter", "mode": "markers", "name": name, "showlegend": False,
               "x": [_plot_time(p["ts"]) for p in pts], "y": [name] * len(pts),
               "text": [p["text"] for p in pts], "legend": "",
               "marker": {"color": color, "symbol": symbol, "size": 13,
                          "line": {"color": "white", "width": 1}},
               "hovertemplate": f"%{{x}} {SHOWN_ZONE.get().name}<br>%{{text}}<extra></extra>"}
              for name, color, symbol, pts in rows if pts]
    if not traces:
        return None
    return Lane("markers", "incident: onset, precursors, first symptoms", 120, traces,
                {"type": "category", "categoryorder": "array",
                 "categoryarray": [r[0] for r in rows], "automargin": True})


def _offset(ms: int) -> str:
    s = abs(ms) / 1000
    txt = f"{s:.1f} s" if s < 120 else f"{s / 60:.1f} min" if s < 7200 else f"{s / 3600:.1f} h"
    return f"{txt} {'before' if ms < 0 else 'after'}"


def build_figure(tables: dict[str, pa.Table], incident: dict[str, Any] | None,
                 findings: list[dict[str, Any]],
                 leaks: list[dict[str, Any]]) -> tuple[dict[str, Any] | None, list[str]]:
    """The figure spec (None without any timestamp) and notes for lanes with no evidence."""
    # per-minute tables would stretch the axis to whole minutes when finer data exists
    finer = any(tables.get(t) is not None and tables[t].num_rows
                for t in ("records", "level_seconds"))
    skip = {"locks", "level_seconds"} | ({"level_counts"} if finer else set())
    span = S.time_span({k: t for k, t in tables.items() if k not in skip},
                       event_times(incident, findings))
    if span is None:
        return None, list(MISSING.values())
    grid = S.make_grid(*span)
    found: dict[str, Lane | list[Lane] | None] = {
        "markers": marker_lane(incident),
        "levels": level_lane(tables, grid),
        "rules": rule_lane(tables, findings, grid),
        "gc": gc_lane(tables),
        "threads": thread_lane(tables, span[1] - span[0]),
        "http": http_lane(tables, grid),
        "metrics": metric_lanes(tables, leaks, span),
    }
    lanes: list[Lane] = []
    for v in found.values():
        lanes += v if isinstance(v, list) else [v] if v is not None else []
    missing = [MISSING[k] for k, v in found.items() if not v and k in MISSING]
    return _assemble(lanes, incident), missing


def _assemble(lanes: list[Lane], incident: dict[str, Any] | None) -> dict[str, Any]:
    height = TOP_PX + BOTTOM_PX + sum(ln.height for ln in lanes) + GAP_PX * (len(lanes) - 1)
    plot_h = height - TOP_PX - BOTTOM_PX
    layout: dict[str, Any] = {
        "height": height, "barmode": "stack", "bargap": 0, "hovermode": "closest",
        "margin": {"l": 70, "r": 170, "t": TOP_PX, "b": BOTTOM_PX},
        "paper_bgcolor": "white", "plot_bgcolor": "#fafafa", "font": {"size": 11},
        "xaxis": {"type": "date", "domain": [0, 1], "anchor": f"y{len(lanes)}",
                  "title": {"text": f"time ({SHOWN_ZONE.get().name})"}, "showspikes": True,
                  "spikemode": "across",
                  "spikethickness": 1, "spikecolor": "#9e9e9e", "spikedash": "solid",
                  "showgrid": True, "gridcolor": "#e0e0e0"},
        "annotations": [], "shapes": [], "dragmode": "zoom",
    }
    data: list[dict[str, Any]] = []
    top = plot_h
    for i, lane in enumerate(lanes, start=1):
        lo, hi = (top - lane.height) / plot_h, top / plot_h
        top -= lane.height + GAP_PX
        ykey, yref, leg = f"yaxis{i}", f"y{i}", f"legend{i}"
        layout[ykey] = {"domain": [max(lo, 0), min(hi, 1)], "anchor": "x", "fixedrange": True,
                        "gridcolor": "#eeeeee", "zeroline": False, **lane.yaxis}
        layout[leg] = {"x": 1.01, "xanchor": "left", "y": min(hi, 1), "yanchor": "top",
                       "font": {"size": 10}, "bgcolor": "rgba(255,255,255,0.6)"}
        layout["annotations"].append({
            "text": f"<b>{lane.title}</b>", "xref": "paper", "yref": "paper", "x": 0,
            "y": min(hi, 1), "xanchor": "left", "yanchor": "bottom", "showarrow": False,
            "font": {"size": 12, "color": "#37474f"}, "name": f"lane:{lane.key}"})
        for tr in lane.traces:
            data.append({**tr, "xaxis": "x", "yaxis": yref,
                         "legend": leg if i > 1 else "legend"})
    layout["legend"] = layout.pop("legend1")
    layout["yaxis"] = layout.pop("yaxis1")
    for tr in data:
        if tr["yaxis"] == "y1":
            tr["yaxis"] = "y"
    layout["xaxis"]["anchor"] = "y" if len(lanes) == 1 else f"y{len(lanes)}"
    _markers(layout, incident)
    return {"data": data, "layout": layout}


def _markers(layout: dict[str, Any], incident: dict[str, Any] | None) -> None:
    """Vertical lines through every lane: onset solid red, precursors dashed orange."""
    if not incident:
        return
    for p in incident.get("precursors", []):
        if p.get("ts"):
            x = _plot_time(p["ts"])
            layout["shapes"].append({
                "type": "line", "xref": "x", "yref": "paper", "x0": x, "x1": x, "y0": 0,
                "y1": 1, "name": f"precursor:{plot_text(p['kind'])}", "layer": "above",
                "line": {"color": PRECURSOR_COLOR, "width": 1.5, "dash": "dash"}})
    if incident.get("onset"):
        x = _plot_time(incident["onset"])
        layout["shapes"].append({
            "type": "line", "xref": "x", "yref": "paper", "x0": x, "x1": x, "y0": 0, "y1": 1,
            "name": "onset", "layer": "above", "line": {"color": ONSET_COLOR, "width": 2}})
        layout["annotations"].append({
            "text": "onset", "xref": "x", "yref": "paper", "x": x, "y": 1, "yanchor": "bottom",
            "showarrow": False, "font": {"color": ONSET_COLOR, "size": 12}, "name": "onset"})
