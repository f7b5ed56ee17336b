"""The one paragraph an on-call engineer reads first: what, when, what led to it, where to look.

Used by the terminal summary and the HTML report, so both say the same thing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from logsleuth.reports.clock import DisplayZone, display_zone, evidence_zone


def _local(iso: str | None, shown: DisplayZone, evidence: DisplayZone) -> str:
    """`` (11:28:23.858 +01:00 in the logs)`` when times are shown in another zone."""
    if not iso or evidence.name == shown.name or evidence.source.startswith(
            ("the app logs carry no zone", "no input states")):
        return ""
    return f" ({evidence.fmt(iso, date=False, zone=True)} in the logs)"


def _bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:,.1f} {unit}" if unit != "B" else f"{n:,.1f} B"
        n /= 1024
    return f"{n:.1f}"


def _amount(value: float, unit: str) -> str:
    if unit in ("B", "bytes"):
        return _bytes(value)
    # whole numbers from a thousand up (42,200 threads), three figures below (1.01 threads)
    return (f"{value:,.0f} {unit}" if abs(value) >= 1000 else f"{value:,.3g} {unit}").strip()


def _lead(ms: int) -> str:
    s = abs(ms) / 1000
    text = f"{s:.1f} s" if s < 120 else f"{s / 60:.1f} min" if s < 7200 else f"{s / 3600:.1f} h"
    return f"{text} {'before' if ms < 0 else 'after'} onset"


def unread_warning(result: Any) -> str:
    """A sentence naming app logs that gave no record, or "" when every one was read."""
    unread = result.unread_app_logs() if hasattr(result, "unread_app_logs") else []
    if not unread:
        return ""
    named = ", ".join(f"{s.path} ({s.lines:,} lines)" for s in unread[:3])
    more = f" and {len(unread) - 3} more" if len(unread) > 3 else ""
    return (f"WARNING: {len(unread)} app log(s) could not be read (0 records, or no layout "
            f"and most lines unparsed): {named}{more}; their evidence is missing from what "
            "follows; pass --pattern with their layout.")


def incident_paragraph(result: Any, zone: DisplayZone | None = None, *,
                       warn: bool = True) -> str:
    """Plain text; no markup (renderers escape it). Unread app logs are said first
    (unless ``warn`` is false: the caller said it already); instants in ``zone``
    (default: the evidence's own, ``clock.evidence_zone``), the onset with UTC beside it."""
    warning = unread_warning(result) if warn else ""
    text = _incident_text(result, zone or display_zone(result))
    return f"{warning} {text}" if warning else text


def _incident_text(result: Any, zone: DisplayZone) -> str:
    _when = zone.fmt
    inc = result.incident.to_json() if result.incident is not None else None
    if inc is None:
        if result.findings:
            worst = result.findings[0]
            return (f"No incident: the most severe finding is {worst.severity} "
                    f"({worst.rule}, {worst.count:,} records, first at "
                    f"{worst.example.get('path')}:{worst.example.get('line')}).")
        tot = result.totals()
        return (f"No incident: {tot['records']:,} records in {tot['inputs']} inputs, no rule "
                f"fired at high or critical severity.")
    if inc.get("onset") is None:
        return _leaking_paragraph(inc, zone)
    ev = inc["onset_evidence"] or {}
    top = next((f for f in result.findings if f.first_seen and f.example.get("line") ==
                ev.get("line") and f.example.get("path") == ev.get("path")), None)
    what = (f"{top.title} ({top.rule}, {top.count:,} records until {_when(top.last_seen)})"
            if top else "the defining failure")
    tz = inc.get("timezone") or {}
    onset = zone.with_utc(inc["onset"]) + _local(inc["onset"], zone, evidence_zone(result))
    parts = [f"At {onset} the service "
             f"began failing: {what}; first record at {ev.get('path')}:{ev.get('line')}."]
    if tz.get("zone") == "unknown":
        parts.append("The app logs carry no time zone (read as UTC; use --tz).")
    for leak in inc["leaks"]:
        parts.append(_leak_sentence(leak, "Before that, ", zone))
    parts.extend(_heap_dumps(result))
    if inc["precursors"]:
        pre = "; ".join(f"{p['detail']} ({_lead(-int(p['lead_ms']))})"
                        for p in inc["precursors"][:3])
        parts.append(f"What led to it: {pre}.")
    symptoms = [s for s in inc["first_symptoms"] if s["kind"] != "first-error-burst"]
    if symptoms:
        parts.append("Around it: " + "; ".join(
            f"{s['kind'].replace('-', ' ')} in {s['source']} {_lead(int(s['offset_ms']))}"
            for s in symptoms[:4]) + ".")
    parts.extend(_cause(inc, zone))
    return " ".join(parts)


def _heap_dumps(result: Any) -> list[str]:
    """The dump -XX:+HeapDumpOnOutOfMemoryError wrote: the reader opens it, not a new one."""
    table = getattr(result, "tables", {}).get("heap_dumps")
    if table is None or table.num_rows == 0:
        return []
    d = table.slice(0, 1).to_pylist()[0]
    size = f", {d['bytes'] / (1 << 20):.1f} MiB" if d["bytes"] else ""
    more = f" ({table.num_rows} dumps in all)" if table.num_rows > 1 else ""
    return [f"The JVM wrote a heap dump when the heap ran out: {d['path']} "
            f"({Path(d['source']).name}:{d['line']}{size}){more}; open it in MAT's dominator "
            f"tree first."]


def _leak_sentence(leak: dict[str, Any], lead: str, zone: DisplayZone) -> str:
    """Growth, amount per event, and the ceiling: reached, projected, or unknown."""
    from logsleuth.timeline.resources import spoken_unit

    _when = zone.fmt
    leak = {**leak, "unit": spoken_unit(leak["metric"], leak["unit"])}  # "threads", not "count"
    rate = _amount(leak["slope_per_hour"], leak["unit"])
    since = f" since {_when(leak['growth_start'])}" if leak.get("growth_start") else ""
    text = f"{lead}{leak['metric']} grew {rate} per hour{since} without release"
    per = leak.get("per_event")
    if per:
        text += (f", {_amount(per['amount'], leak['unit'])} per \"{per['template']}\" "
                 f"(R² {per['r2']:.2f}, {per['n']} windows)")
        if per.get("decided") == "ambiguous" and per.get("alternatives"):
            amounts = per.get("alternative_amounts") or []
            text += (" - it cannot be told apart from " + ", ".join(
                f"\"{a}\"" + (f" ({_amount(amounts[i], leak['unit'])} per event)"
                               if i < len(amounts) else "")
                for i, a in enumerate(per["alternatives"][:2])) + ", whose counts move with it")
            text += _separation_words(per)
        elif per.get("decided") == "lead-lag":
            text += " (told apart from events that move with it by their timing)"
        elif per.get("decided") == "co-occurrence":
            text += (" (told apart from events that move with it by the exception logged "
                     "in the same millisecond as its records)")
    elif leak.get("per_event_reason"):  # say why no event is named, with the figures
        text += f" (no event is named: {leak['per_event_reason']['message']})"
    groups = leak.get("thread_groups") or []
    if groups:  # which threads: the name group that grew, as the dumps hold it
        g = groups[0]
        text += (f"; the threads named \"{g['name']}\" ({g['first']} -> {g['last']} over "
                 f"{g['dumps']} dumps) grew most")
    proj = leak.get("projection") or {}
    ceiling = proj.get("ceiling") or {}
    said = (f" ({ceiling['source']} at {ceiling['where']})" if ceiling.get("where")
            else " (--limit)" if ceiling.get("source") == "--limit" else "")
    if proj.get("state") == "reached":
        text += (f"; it reached its ceiling of {_amount(ceiling['value'], leak['unit'])}{said} "
                 f"at {_when(leak['exhaustion_at'])}")
    elif leak.get("exhaustion_at"):
        window = proj.get("window") or {}
        text += (f"; at that rate it reaches its ceiling of "
                 f"{_amount(ceiling.get('value') or 0, leak['unit'])}{said} at "
                 f"{_when(leak['exhaustion_at'])}{_range(proj, _when)} (projected from the "
                 f"{'event rate' if proj.get('source') == 'per-event' else 'growth'} between "
                 f"{_when(window.get('start'))} and {_when(window.get('end'))}, "
                 f"{_span(int(proj.get('horizon_ms') or 0))} after the evidence ends)")
    elif proj.get("state") == "no-ceiling-known":
        text += "; no ceiling is known, so no exhaustion time is projected (use --limit)"
    res = leak.get("resource")
    if res:  # what runs out, and what a Java engineer does next
        text += f". {res['name'][:1].upper()}{res['name'][1:]}: {res['next_step']}"
    return text + "."


def _separation_words(per: dict[str, Any]) -> str:
    """The figures of the test that could not tell the named event from its first rival."""
    sp = next((s for s in per.get("separations") or []
               if per.get("template") in s.get("candidates", [])), None)
    if not sp:
        return ""
    i = sp["candidates"].index(per["template"])
    return (f" (counts correlated {sp['corr']:.2f} over {sp['windows']} intervals; what it "
            f"adds to the rival: F {sp['f'][i]:.1f}, p {sp['p'][i]:.2g}, "
            f"{sp['p_leave_one_out'][i]:.2g} with one interval left out; what the rival "
            f"adds: F {sp['f'][1 - i]:.1f}, p {sp['p'][1 - i]:.2g})")


def _span(ms: int) -> str:
    s = abs(ms) / 1000
    return f"{s:.1f} s" if s < 120 else f"{s / 60:.1f} min" if s < 7200 else f"{s / 3600:.1f} h"


def _leaking_paragraph(inc: dict[str, Any], zone: DisplayZone) -> str:
    """A leak and nothing failed yet: say so, and when it will."""
    parts = ["Nothing has failed yet, but a resource is leaking."]
    parts += [_leak_sentence(leak, "", zone) for leak in inc["leaks"]]
    parts.extend(_cause(inc, zone))
    return " ".join(parts)


def _cause(inc: dict[str, Any], zone: DisplayZone) -> list[str]:
    _when = zone.fmt
    parts = []
    causes = inc["root_cause_candidates"]
    if inc["leaks"] and not any(c.get("tracks_leak") for c in causes):
        # no logged exception follows the growth: a one-off is no lead, the event is
        per = next((lk["per_event"] for lk in inc["leaks"] if lk.get("per_event")), None)
        if per is not None:
            rivals = (per.get("alternatives") or [])[:2] if per.get("decided") == "ambiguous" \
                else []
            also = (" (or \"" + "\" or \"".join(rivals) + "\", whose counts move with it)"
                    if rivals else "")
            parts.append(f"The cause was never logged: no logged exception grows with the "
                         f"leak, which follows \"{per['template']}\"{also}; read what that "
                         "event's code opens or keeps and never releases.")
        elif causes:
            parts.append("No logged exception grows with the leak.")
        return parts
    if causes:
        c = causes[0]
        ex = c.get("example") or {}
        what = c["exception"] or "the event"
        parts.append(f"Look at {what} logged as \"{c['template']}\" ({c['count']:,} "
                     f"times since {_when(c['first_seen'])}, first at {ex.get('path')}:"
                     f"{ex.get('line')}): {c['why']}.")
    return parts


def _range(proj: dict[str, Any], when: Any) -> str:
    """The projection's range, when it has one (``when`` formats an instant)."""
    if not proj.get("earliest") or not proj.get("latest"):
        return ""
    return (f", between {when(proj['earliest'])} and {when(proj['latest'])} "
            f"({proj.get('level', 0.9):.0%} range)")
