"""The clock people read: instants shown in the evidence's own zone.

An on-call engineer compares the report with the logs, dashboards and colleagues
of the service, which all speak the service's zone; UTC makes them convert every
time back. ``evidence_zone`` finds that zone from what the scan learnt (``--tz``,
an offset inferred from sibling logs, offsets the logs write); ``display_zone``
applies a ``--display-tz`` override. Only rendering uses it: the JSON keeps its
ISO 8601 instants, so it stays byte-identical whatever is displayed.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from logsleuth.errors import PatternError

_OFFSET = re.compile(r"^(?:UTC|GMT)?([+-])(\d{1,2}):?(\d{2})?$")
_NOT_A_ZONE = {"", "unknown", "from-log", "assumed"}


@dataclass(frozen=True, slots=True)
class DisplayZone:
    """A zone instants are shown in, its name as printed, and why it was chosen."""

    tz: tzinfo
    name: str  # "+01:00", "Asia/Shanghai", "UTC"
    source: str  # "inferred from nginx/access.log", "--tz", "--display-tz", ...

    @property
    def is_utc(self) -> bool:
        return self.name == "UTC"

    def local(self, instant: Any) -> datetime | None:
        """``instant`` (ISO 8601 text, epoch ms or datetime) in this zone; None if absent."""
        t = _instant(instant)
        return None if t is None else t.astimezone(self.tz)

    def fmt(self, instant: Any, *, date: bool = True, zone: bool = False) -> str:
        """``2026-11-26 11:28:23.858`` (``zone`` appends the zone's name)."""
        t = self.local(instant)
        if t is None:
            return "an unknown time"
        text = t.strftime("%Y-%m-%d %H:%M:%S." if date else "%H:%M:%S.")
        text += f"{t.microsecond // 1000:03d}"
        return f"{text} {self.name}" if zone else text

    def iso(self, instant: Any) -> str | None:
        """ISO 8601 with this zone's offset: ``2026-11-26T11:28:23.858+01:00``."""
        t = self.local(instant)
        return None if t is None else t.isoformat(timespec="milliseconds")

    def with_utc(self, instant: Any) -> str:
        """The onset form: ``2026-11-26 11:28:23.858 +01:00 (10:28:23.858 UTC)``."""
        if self.is_utc:
            return self.fmt(instant, zone=True)
        utc = UTC_ZONE.fmt(instant, date=_day(self, instant) != _day(UTC_ZONE, instant))
        return f"{self.fmt(instant, zone=True)} ({utc} UTC)"

    def header(self) -> str:
        """The one sentence that states the zone of every time shown after it."""
        return f"Times in {self.name} ({self.source})."

    def pandas_tz(self) -> Any:
        """For ``Series.dt.tz_convert``."""
        return self.name if isinstance(self.tz, ZoneInfo) else self.tz


UTC_ZONE = DisplayZone(UTC, "UTC", "UTC")


def display_zone(result: Any, override: str | None = None) -> DisplayZone:
    """``override`` (a zone name, an offset, ``utc``, ``local`` or ``evidence``), else the
    evidence's own zone. A zone that does not exist raises PatternError."""
    if override is None or override.lower() == "evidence":
        return evidence_zone(result)
    if override.lower() == "utc":
        return DisplayZone(UTC, "UTC", "--display-tz utc")
    if override.lower() == "local":
        tz, name = _machine_zone()
        return DisplayZone(tz, name, "--display-tz local: this machine's zone")
    found = parse_zone(override)
    if found is None:
        raise PatternError.at("--display-tz", "bad-timezone",
                              f"unknown time zone '{override}' (an IANA name such as "
                              "Asia/Shanghai, an offset such as +08:00, utc, local or "
                              "evidence)")
    return DisplayZone(found[0], found[1], "--display-tz")


def check_display_tz(value: str | None) -> str | None:
    """Fail on a bad ``--display-tz`` before any input is read."""
    if value is not None:
        display_zone(None, value)
    return value


def evidence_zone(result: Any) -> DisplayZone:
    """The zone the evidence speaks: the incident's (--tz or inferred), else the offsets
    the inputs write (app logs first), else UTC (said so)."""
    inc = incident_json(getattr(result, "incident", None)) if result is not None else None
    guess = (inc or {}).get("timezone") or {}
    found = parse_zone(str(guess.get("zone") or ""))
    if found is not None and guess.get("source") != "assumed":
        return DisplayZone(found[0], found[1], _short_source(str(guess.get("source") or "")))
    inputs = list(getattr(result, "inputs", None) or [])
    written = dict(getattr(result, "written_zones", None) or {})
    read_as_utc = "the app logs carry no zone and none was given (--tz): read as UTC"
    if guess.get("zone") == "unknown":  # app-log times are their wall clock read as UTC
        return DisplayZone(UTC, "UTC", read_as_utc)
    for app_only in (True, False):
        labels = [(s.path, written.get(s.path) or s.timezone) for s in inputs
                  if not app_only or s.kind == "app-log"]
        best = _most_common(labels)
        if best is not None:
            tz, name, path, label = best
            how = "inferred for" if "(inferred)" in label else "written in"
            return DisplayZone(tz, name, f"{how} {path}")
        if app_only and any(label == "unknown" for _, label in labels):
            return DisplayZone(UTC, "UTC", read_as_utc)
    return DisplayZone(UTC, "UTC", "no input states a zone")


def parse_zone(text: str) -> tuple[tzinfo, str] | None:
    """A zone label as the scan writes it (``+01:00``, ``+0100``, ``UTC+01:00``,
    ``+01:00 (inferred)``, an IANA name) as (tzinfo, printed name)."""
    text = text.replace("(inferred)", "").strip()
    if text in _NOT_A_ZONE:
        return None
    if text.upper() in ("UTC", "Z", "GMT", "ETC/UTC"):
        return UTC, "UTC"
    m = _OFFSET.match(text)
    if m:
        minutes = int(m[2]) * 60 + int(m[3] or 0)
        if minutes > 14 * 60:
            return None
        minutes = -minutes if m[1] == "-" else minutes
        if minutes == 0:
            return UTC, "UTC"
        name = f"{m[1]}{minutes // 60 if minutes > 0 else -minutes // 60:02d}:" \
               f"{abs(minutes) % 60:02d}"
        return timezone(timedelta(minutes=minutes)), name
    try:
        return ZoneInfo(text), text
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _most_common(labels: Iterable[tuple[str, str | None]],
                 ) -> tuple[tzinfo, str, str, str] | None:
    """The zone most inputs state (the first stated wins a tie): tz, name, path, label."""
    seen: Counter[str] = Counter()
    first: dict[str, tuple[tzinfo, str, str]] = {}
    for path, label in labels:
        found = parse_zone(label or "")
        if found is None:
            continue
        seen[found[1]] += 1
        first.setdefault(found[1], (found[0], path, label or ""))
    if not seen:
        return None
    name = max(seen, key=lambda n: (seen[n], -list(first).index(n)))
    tz, path, label = first[name]
    return tz, name, path, label


def _short_source(source: str) -> str:
    """``inferred from nginx/access.log, which writes ...`` → up to the first comma."""
    return source.split(",", 1)[0].split(":", 1)[0] if source.startswith("inferred") \
        else source or "the evidence"


def _machine_zone() -> tuple[tzinfo, str]:
    name = os.environ.get("TZ", "").lstrip(":")
    if not name:
        link = Path("/etc/localtime")
        if link.is_symlink():
            name = str(link.resolve()).split("zoneinfo/", 1)[-1]
    if name and (found := parse_zone(name)) is not None:
        return found
    local = datetime.now().astimezone().tzinfo or UTC
    offset = local.utcoffset(None) or timedelta(0)
    found = parse_zone(f"{'+' if offset >= timedelta(0) else '-'}"
                       f"{abs(int(offset.total_seconds())) // 3600:02d}:"
                       f"{abs(int(offset.total_seconds())) % 3600 // 60:02d}")
    return found or (UTC, "UTC")


def _instant(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value / 1000, tz=UTC)
    t = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def _day(zone: DisplayZone, instant: Any) -> Any:
    t = zone.local(instant)
    return None if t is None else t.date()


def incident_json(incident: Any) -> dict[str, Any] | None:
    """An incident (object, dict or None) as its JSON dict, for every renderer."""
    if incident is None:
        return None
    if isinstance(incident, dict):
        return incident
    to_json = getattr(incident, "to_json", None)
    return dict(to_json()) if callable(to_json) else None


def wall_clock_ms(ms: Sequence[int] | Any, zone: DisplayZone) -> Any:
    """Epoch ms shifted to ``zone``'s wall clock (DST-correct), for plot axes."""
    import numpy as np
    import pandas as pd

    arr = np.atleast_1d(np.asarray(ms, dtype=np.int64))
    if zone.is_utc or arr.size == 0:
        return arr
    local = pd.to_datetime(arr, unit="ms", utc=True).tz_convert(zone.pandas_tz())
    return np.asarray(local.tz_localize(None).as_unit("ms").asi8, dtype=np.int64)
