"""The live terminal view: watched files, top findings, leaks with their ETA, events."""

from __future__ import annotations

from collections import deque
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from logsleuth.watch.events import iso


def _size(value: float, unit: str) -> str:
    if unit != "B":
        return f"{value:,.1f} {unit}"
    for name, k in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if abs(value) >= k:
            return f"{value / k:,.1f} {name}"
    return f"{value:,.0f} B"


class LiveView:
    """Holds the latest events; ``render`` builds the screen from a watcher's state."""

    def __init__(self, keep: int = 8) -> None:
        self.events: deque[dict[str, Any]] = deque(maxlen=keep)

    def add(self, event: dict[str, Any]) -> None:
        if event["event"] != "heartbeat":
            self.events.append(event)

    def render(self, watcher: Any) -> Group:
        analysis, result = watcher.analysis, watcher.latest
        files = Table(title="Watched files", expand=True, title_justify="left")
        for col in ("file", "records", "bytes read", "layout"):
            files.add_column(col, justify="right" if col in ("records", "bytes read") else "left")
        streams = {s.display: s for s in analysis.streams.values()}
        for t in list(watcher.follower.files.values())[:12]:
            s = streams.get(t.display)
            files.add_row(t.path.rsplit("/", 1)[-1] or t.display,
                          f"{analysis.records_read.get(t.display, 0):,}", f"{t.offset:,}",
                          (s.stats.layout or s.stats.kind) if s else "")
        findings = Table(title="Top findings", expand=True, title_justify="left")
        for col in ("severity", "rule", "count", "last seen"):
            findings.add_column(col)
        for f in (result.findings if result is not None else [])[:6]:
            findings.add_row(str(f.severity), f.rule, f"{f.count:,}", f.last_seen or "")
        leaks = Table(title="Leaks", expand=True, title_justify="left")
        for col in ("metric", "now", "growth", "per event", "ETA (ceiling)"):
            leaks.add_column(col)
        incident = result.incident if result is not None else None
        for k in (incident.leaks if incident is not None else [])[:4]:
            per = k.per_event
            c = k.ceiling
            eta = iso(k.exhaustion_at_ms) or "no ceiling known"
            leaks.add_row(k.metric, _size(k.last_value, k.unit),
                          f"{_size(k.slope_per_hour, k.unit)}/h",
                          f"{_size(per.amount, k.unit)} per '{per.template[:40]}'" if per else "-",
                          f"{eta} ({_size(c.value, k.unit)})" if c else eta)
        events = Table(title="Latest events", expand=True, title_justify="left")
        events.add_column("wall time")
        events.add_column("event")
        events.add_column("what")
        for e in list(self.events)[::-1]:
            what = e.get("metric") or e.get("rule") or e.get("onset") or ""
            if e["event"] == "forecast":
                what = f"{e['metric']} ETA {e.get('eta')}"
            events.add_row(str(e["wall_time"])[11:19], e["event"], str(what))
        head = Text(f"logsleuth watch - evidence time {iso(analysis.evidence_ms) or '-'}",
                    style="bold")
        return Group(head, files, findings, leaks, events)
