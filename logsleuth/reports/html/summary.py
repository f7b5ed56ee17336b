"""The header: what happened, when it began, what led to it, what to look at.

Built from the incident when there is one, else from the most severe finding,
else it says plainly that nothing was found. Returns escaped HTML.
"""

from __future__ import annotations

from typing import Any

from logsleuth.reports.html.context import Context
from logsleuth.reports.html.figure import SHOWN_ZONE
from logsleuth.reports.html.metric import _human
from logsleuth.reports.html.safe import esc


def _time(iso: object) -> str:
    """``2026-11-26T10:14:01.073Z`` → ``2026-11-26 11:14:01.073`` in the page's zone
    (stated once in the header)."""
    return SHOWN_ZONE.get().fmt(iso if iso else None)


def _onset(iso: object) -> str:
    """The onset names its zone, with UTC beside it."""
    return SHOWN_ZONE.get().with_utc(iso)


def _loc(path: object, line: object) -> str:
    return f'<code class="loc">{esc(path)}:{esc(line)}</code>'


def _ago(ms: int) -> str:
    s = abs(ms) / 1000
    return f"{s:.1f} s" if s < 120 else f"{s / 60:.1f} min" if s < 7200 else f"{s / 3600:.1f} h"


def summary_rows(ctx: Context) -> tuple[str, list[tuple[str, str]]]:
    """A one-line verdict and (label, html) rows for the header."""
    inc, findings = ctx.incident, ctx.findings
    top = findings[0] if findings else None
    if inc and inc.get("onset"):
        return _from_incident(inc, top, ctx)
    if inc and ctx.leaks:
        return _from_leak(inc, ctx)
    if top is not None:
        return _from_finding(top, findings)
    n = ctx.totals.get("inputs", 0)
    return ("No incident found.", [(
        "what happened",
        f"No rule fired and no failure (an OutOfMemoryError or similar) was found in "
        f"{n} input{'s' if n != 1 else ''} ({ctx.totals.get('records', 0):,} records). "
        "Check the inputs table below for files that were not recognised.")])


def _leak_line(k: dict[str, Any]) -> str:
    """A leak's growth, its ceiling (and where it was read) and when it is reached."""
    from logsleuth.timeline.resources import spoken_unit

    unit = spoken_unit(str(k["metric"]), str(k.get("unit") or ""))
    s = (f"<b>{esc(k['metric'])}</b> grew {esc(_human(float(k['slope_per_hour']), unit))} "
         f"per hour (R² {float(k['r2']):.3f})")
    proj = k.get("projection") or {}
    ceiling = proj.get("ceiling") or {}
    if k.get("maximum") is not None:
        s += f" towards its maximum of {esc(_human(float(k['maximum']), unit))}"
        if ceiling.get("where"):
            s += f" (stated at {_loc(*str(ceiling['where']).rsplit(':', 1))})"
        elif ceiling.get("source") == "--limit":
            s += " (given with --limit)"
    if proj.get("state") == "reached":
        s += f", reached {esc(_time(k['exhaustion_at']))}"
    elif k.get("exhaustion_at"):
        window = proj.get("window") or {}
        s += (f", projected to run out {esc(_time(k['exhaustion_at']))} (growth rate of "
              f"{esc(_time(window.get('start')))} to {esc(_time(window.get('end')))}, "
              f"{esc(_ago(int(proj.get('horizon_ms') or 0)))} past the evidence)")
    elif proj.get("state") == "no-ceiling-known":
        s += "; no ceiling is known (state one with --limit METRIC=SIZE)"
    per = k.get("per_event")
    if per:
        s += (f"; each <q>{esc(per['template'])}</q> adds about "
              f"{esc(_human(float(per['amount']), unit))} (R² {float(per['r2']):.3f}, "
              f"{int(per['n'])} windows)")
    elif k.get("per_event_reason"):
        s += f"; no event is named: {esc(k['per_event_reason']['message'])}"
    return s


def _from_leak(inc: dict[str, Any], ctx: Context) -> tuple[str, list[tuple[str, str]]]:
    """A leak and no failure yet: what grows, and when it will run out."""
    k = ctx.leaks[0]
    when = (f", projected to run out {esc(_time(k['exhaustion_at']))}"
            if k.get("exhaustion_at") else "")
    verdict = f"Leaking, no failure yet: {esc(k['metric'])} grows without release{when}."
    rows = [("what happened", verdict), ("what grows", "<br>".join(
        _leak_line(x) for x in ctx.leaks))]
    for c in inc.get("root_cause_candidates", [])[:1]:
        ex = c.get("example") or {}
        rows.append(("where to look", f"<b>{esc(c.get('exception') or 'an event')}</b> "
                     f"<q>{esc(c.get('message'))}</q> ({_loc(ex.get('path'), ex.get('line'))})"
                     + (f" — {esc(c['why'])}" if c.get("why") else "")))
    return verdict, rows


def _from_incident(inc: dict[str, Any], top: dict[str, Any] | None,
                   ctx: Context) -> tuple[str, list[tuple[str, str]]]:
    ev = inc.get("onset_evidence") or {}
    what = esc(top["title"]) if top else "The service failed"
    verdict = f"{what}, beginning {esc(_time(inc['onset']))}."
    happened = (f"{what}" + (f" — {int(top['count']):,} times, peaking at "
                             f"{int(top.get('peak_per_minute') or 0):,} per minute"
                             if top else "") + ".")
    began = (f"{esc(_onset(inc['onset']))} at {_loc(ev.get('path'), ev.get('line'))}: "
             f"<q>{esc(ev.get('text'))}</q>")
    led: list[str] = []
    for c in inc.get("root_cause_candidates", [])[:1]:
        ex = c.get("example") or {}
        led.append(f"most likely cause: <b>{esc(c.get('exception') or 'an event')}</b> "
                   f"<q>{esc(c.get('message'))}</q>, {int(c.get('count') or 0):,} times from "
                   f"{esc(_time(c.get('first_seen')))} ({_loc(ex.get('path'), ex.get('line'))})"
                   + (f" — {esc(c['why'])}" if c.get("why") else ""))
    led.extend(_leak_line(k) for k in ctx.leaks)
    for p in inc.get("precursors", [])[:4]:
        led.append(f"{esc(_ago(int(p['lead_ms'])))} before: {esc(p['kind'])} — "
                   f"{esc(p['detail'])}")
    look: list[str] = []
    if top:
        ex = top.get("example") or {}
        look.append(f"{esc(top.get('advice') or top['title'])} (first example "
                    f"{_loc(ex.get('path'), ex.get('line'))})")
    for c in inc.get("root_cause_candidates", [])[:1]:
        ex = c.get("example") or {}
        look.append(f"the code behind {esc(c.get('exception') or c.get('template'))} at "
                    f"{_loc(ex.get('path'), ex.get('line'))}")
    rows = [("what happened", happened), ("when it began", began)]
    if led:
        rows.append(("what led to it", "<ul>" + "".join(f"<li>{x}</li>" for x in led)
                     + "</ul>"))
    if look:
        rows.append(("what to look at", "<ul>" + "".join(f"<li>{x}</li>" for x in look)
                     + "</ul>"))
    return verdict, rows


def _from_finding(top: dict[str, Any],
                  findings: list[dict[str, Any]]) -> tuple[str, list[tuple[str, str]]]:
    ex = top.get("example") or {}
    verdict = f"{esc(top['title'])} ({esc(top['severity'])})."
    rows = [
        ("what happened", f"{esc(top['title'])}: {int(top['count']):,} matches of rule "
                          f"<code>{esc(top['rule'])}</code>; {len(findings)} finding"
                          f"{'s' if len(findings) != 1 else ''} in all. No incident onset "
                          "was determined."),
        ("when it began", f"first seen {esc(_time(top['first_seen']))} at "
                          f"{_loc(ex.get('path'), ex.get('line'))}"
         if top.get("first_seen") else f"at {_loc(ex.get('path'), ex.get('line'))}"),
        ("what to look at", esc(top.get("advice") or "the example evidence below")),
    ]
    return verdict, rows
