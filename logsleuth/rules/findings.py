"""Rule matches and their aggregation into findings, map/reduce friendly.

Each worker process owns a ``FindingAggregator``; aggregators pickle and merge
(counters add, extremes combine, the example is the earliest record), and
``finish()`` runs once on the merged state. Threshold windows are evaluated in
``finish()`` over per-second counts kept per fingerprint, so they are exact at
one-second resolution no matter how records were split across workers.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from logsleuth.model import Record, Severity
from logsleuth.rules.model import RuleInfo

TEXT_CAP = 4000  # characters of example text kept
STACK_CAP = 20000
DISTINCT_CAP = 1000  # distinct threads/sources tracked per finding
LIST_CAP = 10  # shown in a finding


@dataclass(frozen=True, slots=True)
class RuleMatch:
    """One record that satisfied one rule."""

    rule: RuleInfo
    record: Record
    fingerprint: str
    signature: str
    extracted: dict[str, tuple[float, str]] = field(default_factory=dict)  # name: (value, unit)


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem: a rule plus a fingerprint, with its counts and evidence."""

    rule: str
    severity: Severity
    title: str
    count: int
    first_seen: str | None
    last_seen: str | None
    fingerprint: str
    signature: str
    example: dict[str, object]
    peak_per_minute: int
    advice: str
    extracted: dict[str, dict[str, object]]
    sources: dict[str, object]
    threads: dict[str, object]
    stack: str = ""
    description: str = ""
    tags: tuple[str, ...] = ()
    threshold: dict[str, object] | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "rule": self.rule, "severity": str(self.severity), "title": self.title,
            "count": self.count, "first_seen": self.first_seen, "last_seen": self.last_seen,
            "fingerprint": self.fingerprint, "signature": self.signature,
            "example": dict(self.example), "peak_per_minute": self.peak_per_minute,
            "advice": self.advice, "extracted": {k: dict(v) for k, v in self.extracted.items()},
            "sources": dict(self.sources), "threads": dict(self.threads), "stack": self.stack,
            "description": self.description, "tags": list(self.tags),
            "threshold": self.threshold,
        }


def iso(ts_ms: int | None) -> str | None:
    if ts_ms is None:
        return None
    return datetime.fromtimestamp(ts_ms / 1000, tz=UTC).isoformat(timespec="milliseconds")


def _capped_add(counter: Counter[str], key: str | None, n: int = 1) -> None:
    if key is None:
        return
    if key in counter or len(counter) < DISTINCT_CAP:
        counter[key] += n


class _Group:
    """Running state of one (rule, fingerprint)."""

    __slots__ = ("count", "example", "extracted", "first_ts", "folded_peak", "hours", "last_ts",
                 "minutes", "rule", "seconds", "signature", "sources", "stack", "threads")

    def __init__(self, rule: RuleInfo, signature: str) -> None:
        self.rule = rule
        self.signature = signature
        self.count = 0
        self.first_ts: int | None = None
        self.last_ts: int | None = None
        self.minutes: Counter[int] = Counter()
        self.seconds: Counter[int] = Counter()  # only for threshold rules
        # old minutes folded per hour (a watcher's retention): kept apart from the
        # minutes, with the busiest minute folded, so the peak per minute stays exact
        self.hours: Counter[int] = Counter()
        self.folded_peak = 0
        self.sources: Counter[str] = Counter()
        self.threads: Counter[str] = Counter()
        self.example: tuple[tuple[float, str, int], str] | None = None
        self.stack = ""
        # name -> [min, max, last_ts, last_value, unit]
        self.extracted: dict[str, list[object]] = {}

    def add(self, m: RuleMatch) -> None:
        rec = m.record
        self.add_hit(rec.ts_ms, rec.source, rec.line, rec.thread, m.extracted, lambda: rec.text)

    def add_hit(self, ts: int | None, source: str, line: int, thread: str | None,
                extracted: dict[str, tuple[float, str]], text: Callable[[], str]) -> None:
        """Count one matching record; ``text`` is called only if it becomes the example."""
        self.count += 1
        if ts is not None:
            self.first_ts = ts if self.first_ts is None else min(self.first_ts, ts)
            self.last_ts = ts if self.last_ts is None else max(self.last_ts, ts)
            self.minutes[ts // 60000] += 1
            if self.rule.threshold is not None:
                self.seconds[ts // 1000] += 1
        _capped_add(self.sources, source)
        _capped_add(self.threads, thread)
        key = (float("inf") if ts is None else float(ts), source, line)
        if self.example is None or key < self.example[0]:
            full = text()
            self.example = (key, full[:TEXT_CAP])
            nl = full.find("\n")
            self.stack = full[nl + 1:][:STACK_CAP] if nl >= 0 else ""
        order = -1 if ts is None else ts
        for name, (value, unit) in extracted.items():
            self._extract(name, value, unit, order)

    def add_bulk(self, ts: np.ndarray, lines: np.ndarray, source: str, threads: list[str | None],
                 extracted: dict[str, tuple[np.ndarray, str]], text: Callable[[int], str]) -> None:
        """Count many matching records of one source at once (arrays aligned by row).

        ``ts`` uses -1 for records without a time; ``extracted`` values use NaN
        where the number was absent; ``text(k)`` gives row k's text for the example.
        """
        n = len(ts)
        if n == 0:
            return
        self.count += n
        timed = ts[ts >= 0]
        if len(timed):
            lo, hi = int(timed.min()), int(timed.max())
            self.first_ts = lo if self.first_ts is None else min(self.first_ts, lo)
            self.last_ts = hi if self.last_ts is None else max(self.last_ts, hi)
            mins, counts = np.unique(timed // 60000, return_counts=True)
            self.minutes.update(dict(zip(mins.tolist(), counts.tolist(), strict=True)))
            if self.rule.threshold is not None:
                secs, counts = np.unique(timed // 1000, return_counts=True)
                self.seconds.update(dict(zip(secs.tolist(), counts.tolist(), strict=True)))
        _capped_add(self.sources, source, n)
        for name, k in Counter(threads).items():
            _capped_add(self.threads, name, k)
        order_key = np.where(ts >= 0, ts, np.iinfo(np.int64).max)
        best = int(np.lexsort((lines, order_key))[0])
        key = (float("inf") if ts[best] < 0 else float(ts[best]), source, int(lines[best]))
        if self.example is None or key < self.example[0]:
            full = text(best)
            self.example = (key, full[:TEXT_CAP])
            nl = full.find("\n")
            self.stack = full[nl + 1:][:STACK_CAP] if nl >= 0 else ""
        for name, (values, unit) in extracted.items():
            ok = ~np.isnan(values)
            if not ok.any():
                continue
            v = values[ok]
            o = order_key[ok]
            last_i = int(np.argmax(o))
            last_order = -1 if ts[ok][last_i] < 0 else int(ts[ok][last_i])
            self._extract(name, float(v.min()), unit, last_order, float(v.max()),
                          float(v[last_i]))

    def _extract(self, name: str, lo: float, unit: str, order: int, hi: float | None = None,
                 last: float | None = None) -> None:
        hi = lo if hi is None else hi
        last = lo if last is None else last
        cur = self.extracted.get(name)
        if cur is None:
            self.extracted[name] = [lo, hi, order, last, unit]
            return
        cur[0] = min(cur[0], lo)  # type: ignore[call-overload]
        cur[1] = max(cur[1], hi)  # type: ignore[call-overload]
        if order >= cur[2]:  # type: ignore[operator]
            cur[2], cur[3] = order, last

    def merge(self, o: _Group) -> None:
        self.count += o.count
        for ts in (o.first_ts, o.last_ts):
            if ts is not None:
                self.first_ts = ts if self.first_ts is None else min(self.first_ts, ts)
                self.last_ts = ts if self.last_ts is None else max(self.last_ts, ts)
        self.minutes.update(o.minutes)
        self.seconds.update(o.seconds)
        self.hours.update(o.hours)
        self.folded_peak = max(self.folded_peak, o.folded_peak)
        for k, n in o.sources.items():
            _capped_add(self.sources, k, n)
        for k, n in o.threads.items():
            _capped_add(self.threads, k, n)
        if o.example is not None and (self.example is None or o.example[0] < self.example[0]):
            self.example, self.stack = o.example, o.stack
        for name, (lo, hi, order, last, unit) in o.extracted.items():
            self._extract(name, lo, unit, order, hi, last)  # type: ignore[arg-type]

    def peak_minute(self) -> int:
        return max(self.minutes.values(), default=0)

    def fold_minutes(self, before_ms: int, days_before_ms: int | None = None) -> None:
        """Minutes older than ``before_ms`` summed per hour (into ``hours``); their
        busiest count is kept as ``folded_peak``. Hours older than ``days_before_ms`` are
        summed into the first hour of their UTC day."""
        old = [m for m in self.minutes if m * 60_000 < before_ms]
        for m in old:
            n = self.minutes.pop(m)
            self.folded_peak = max(self.folded_peak, n)
            self.hours[m // 60] += n
        if days_before_ms is not None:
            for h in [h for h in self.hours if h * 3_600_000 < days_before_ms and h % 24]:
                self.hours[h - h % 24] += self.hours.pop(h)

    def window_peak(self) -> int:
        """Most matches inside any window of the rule's threshold length."""
        assert self.rule.threshold is not None
        width = max(1, int(self.rule.threshold.window_s))
        secs = sorted(self.seconds.items())
        best = total = lo = 0
        for t, n in secs:
            total += n
            while secs[lo][0] <= t - width:
                total -= secs[lo][1]
                lo += 1
            best = max(best, total)
        return best

    def finding(self, fp: str) -> Finding | None:
        r = self.rule
        threshold = None
        if r.threshold is not None:
            peak = self.window_peak()
            if peak < r.threshold.count:
                return None
            threshold = {"count": r.threshold.count, "window": r.threshold.window,
                         "peak_in_window": peak}
        (_, path, line), text = self.example  # type: ignore[misc]
        return Finding(
            rule=r.id, severity=r.severity, title=r.title, count=self.count,
            first_seen=iso(self.first_ts), last_seen=iso(self.last_ts), fingerprint=fp,
            signature=self.signature, example={"path": path, "line": line, "text": text},
            peak_per_minute=max(self.peak_minute(), self.folded_peak), advice=r.advice,
            extracted={k: {"min": v[0], "max": v[1], "last": v[3], "unit": v[4]}
                       for k, v in sorted(self.extracted.items())},
            sources=_summary(self.sources), threads=_summary(self.threads), stack=self.stack,
            description=r.description, tags=r.tags, threshold=threshold)


def _summary(counter: Counter[str]) -> dict[str, object]:
    return {"count": len(counter), "truncated": len(counter) >= DISTINCT_CAP,
            "top": [k for k, _ in counter.most_common(LIST_CAP)]}


class FindingAggregator:
    """Collects ``RuleMatch``es into findings; mergeable and picklable."""

    __slots__ = ("_groups",)

    def __init__(self) -> None:
        self._groups: dict[tuple[str, str], _Group] = {}

    def __getstate__(self) -> dict[tuple[str, str], _Group]:
        return self._groups

    def __setstate__(self, state: dict[tuple[str, str], _Group]) -> None:
        self._groups = state

    def add(self, match: RuleMatch) -> None:
        key = (match.rule.id, match.fingerprint)
        g = self._groups.get(key)
        if g is None:
            g = self._groups[key] = _Group(match.rule, match.signature)
        g.add(match)

    def add_hit(self, rule: RuleInfo, fingerprint: str, signature: str, ts: int | None,
                source: str, line: int, thread: str | None,
                extracted: dict[str, tuple[float, str]], text: Callable[[], str]) -> None:
        """Count a match known without a Record (the scan's evaluation cache)."""
        key = (rule.id, fingerprint)
        g = self._groups.get(key)
        if g is None:
            g = self._groups[key] = _Group(rule, signature)
        g.add_hit(ts, source, line, thread, extracted, text)

    def add_bulk(self, rule: RuleInfo, fingerprint: str, signature: str, ts: np.ndarray,
                 lines: np.ndarray, source: str, threads: list[str | None],
                 extracted: dict[str, tuple[np.ndarray, str]], text: Callable[[int], str]) -> None:
        """Count many records known to match (see ``_Group.add_bulk``)."""
        key = (rule.id, fingerprint)
        g = self._groups.get(key)
        if g is None:
            g = self._groups[key] = _Group(rule, signature)
        g.add_bulk(ts, lines, source, threads, extracted, text)

    def add_all(self, matches: list[RuleMatch]) -> None:
        for m in matches:
            self.add(m)

    def merge(self, other: FindingAggregator) -> FindingAggregator:
        for key, g in other._groups.items():
            mine = self._groups.get(key)
            if mine is None:
                mine = self._groups[key] = _Group(g.rule, g.signature)
            mine.merge(g)
        return self

    def minutes_table(self) -> list[tuple[str, str, int, int]]:
        """(rule, fingerprint, minute epoch ms, count) rows: the rule lane of a timeline
        (hours folded by a watcher's retention: one row at the hour's middle minute)."""
        return [(rule, fp, ms, n) for (rule, fp), g in sorted(self._groups.items())
                for ms, n in sorted([*((m * 60_000, n) for m, n in g.minutes.items()),
                                     *((h * 3_600_000 + 1_800_000, n)
                                       for h, n in g.hours.items())])]

    def shift_lines(self, path: str, delta: int) -> None:
        """A later byte range of ``path`` counted lines from 1: make examples absolute."""
        for g in self._groups.values():
            if g.example is not None and g.example[0][1] == path:
                (ts, src, line), text = g.example
                g.example = ((ts, src, line + delta), text)

    def finish(self) -> list[Finding]:
        """Findings ordered by severity (highest first), then count."""
        out = [f for (_, fp), g in self._groups.items() if (f := g.finding(fp)) is not None]
        out.sort(key=lambda f: (-f.severity.rank, -f.count, f.rule, f.fingerprint))
        return out
