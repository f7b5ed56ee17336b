"""Per-input accounting: every line is either in a record or counted as unparsed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from logsleuth.errors import DiagLevel, Diagnostic, SourceLocation

MAX_SAMPLES = 5
# Record times outside these are damage (a mutilated year: '026', '0026', '99999'), and
# beyond pandas' nanosecond range they broke the analysis: 1900-01-01 .. 2200-01-01.
PLAUSIBLE_MS = (-2_208_988_800_000, 7_258_118_400_000)


@dataclass(slots=True)
class InputStats:
    """Mergeable counters for one input (or one byte range of it)."""

    path: str
    kind: str = "app-log"
    layout: str | None = None
    wrapper: str | None = None  # docker-json, cri, syslog-3164...: the inner text was read
    timezone: str | None = None
    bytes: int = 0
    lines: int = 0
    records: int = 0
    unparsed_lines: int = 0
    invalid_bytes: int = 0
    oversized_lines: int = 0
    first_ts_ms: int | None = None
    last_ts_ms: int | None = None
    unparsed_samples: list[tuple[int, str]] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add_unparsed(self, line: int, text: str, count: int = 1) -> None:
        self.unparsed_lines += count
        if len(self.unparsed_samples) < MAX_SAMPLES:
            self.unparsed_samples.append((line, text[:200]))

    def plausible(self, times: Any, lines: Any = None) -> Any:
        """``times`` (epoch ms or timestamps) with values before 1900 or from 2200 on
        made null; the first such record of the input is reported with its line."""
        ms = times.cast(pa.int64()) if pa.types.is_timestamp(times.type) else times
        lo, hi = PLAUSIBLE_MS
        bad = pc.fill_null(pc.or_(pc.less(ms, lo), pc.greater_equal(ms, hi)), False)
        if not pc.any(bad).as_py():
            return times
        if not any(d.code == "implausible-time" for d in self.diagnostics):
            first = int(np.flatnonzero(bad.to_numpy(zero_copy_only=False))[0])
            line = None if lines is None else int(np.asarray(lines)[first])
            self.diagnostics.append(Diagnostic(
                SourceLocation(self.path, line), "implausible-time",
                f"a time before 1900 or after 2199 (a damaged date?) is read as unknown: "
                f"{pc.sum(bad).as_py()} in this part of the input", DiagLevel.WARNING))
        return pc.if_else(bad, pa.scalar(None, times.type), times)

    def see_times(self, lo: int | None, hi: int | None) -> None:
        if lo is not None and (self.first_ts_ms is None or lo < self.first_ts_ms):
            self.first_ts_ms = lo
        if hi is not None and (self.last_ts_ms is None or hi > self.last_ts_ms):
            self.last_ts_ms = hi

    def merge(self, other: InputStats) -> None:
        """Fold a later byte range of the same input into this one."""
        self.bytes += other.bytes
        self.lines += other.lines
        self.records += other.records
        self.unparsed_lines += other.unparsed_lines
        self.invalid_bytes += other.invalid_bytes
        self.oversized_lines += other.oversized_lines
        self.see_times(other.first_ts_ms, other.last_ts_ms)
        room = MAX_SAMPLES - len(self.unparsed_samples)
        self.unparsed_samples.extend(other.unparsed_samples[: max(room, 0)])
        self.diagnostics.extend(other.diagnostics)
        self.notes.extend(n for n in other.notes if n not in self.notes)
        if other.timezone != self.timezone:  # byte ranges disagree: the file does not say
            self.timezone = None

    @property
    def parsed_fraction(self) -> float:
        return 1.0 if self.lines == 0 else 1 - self.unparsed_lines / self.lines

    def to_json(self) -> dict[str, object]:
        return {
            "path": self.path,
            "kind": self.kind,
            "layout": self.layout,
            "wrapper": self.wrapper,
            "bytes": self.bytes,
            "lines": self.lines,
            "records": self.records,
            "unparsed_lines": self.unparsed_lines,
            "invalid_bytes": self.invalid_bytes,
            "timezone": self.timezone,
        }
