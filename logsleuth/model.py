"""Typed values shared by parsers, rules, timeline and reports.

Records travel through the scan as Arrow batches (see ``RECORD_SCHEMA``); only
the rare records a later stage needs (stack traces, rule hits) become Python
``Record`` objects.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

import pyarrow as pa


class Kind(StrEnum):
    """What an input file is, decided by its content."""

    APP_LOG = "app-log"
    GC_LOG = "gc-log"
    THREAD_DUMP = "thread-dump"
    NGINX_ACCESS = "nginx-access"
    NGINX_ERROR = "nginx-error"
    JVM_INFO = "jvm-info"  # saved jcmd output (VM.flags, VM.command_line, ...)
    UNKNOWN = "unknown"


class Severity(StrEnum):
    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return list(Severity).index(self)


@dataclass(frozen=True, slots=True)
class Frame:
    """One ``at pkg.Class.method(File.java:12) ~[jar:version]`` line."""

    cls: str
    method: str
    file: str | None = None
    line: int | None = None
    module: str | None = None  # the ``~[netty-all-4.1.48.Final.jar:4.1.48.Final]`` suffix

    @property
    def qualified(self) -> str:
        return f"{self.cls}.{self.method}"


@dataclass(frozen=True, slots=True)
class Throwable:
    """A parsed throwable with its ``Caused by:`` and ``Suppressed:`` children."""

    cls: str
    message: str | None
    frames: tuple[Frame, ...] = ()
    omitted: int = 0  # the N of ``... N more``
    cause: Throwable | None = None
    suppressed: tuple[Throwable, ...] = ()

    def chain(self) -> Iterator[Throwable]:
        """This throwable, then every cause and suppressed one, depth first."""
        yield self
        for s in self.suppressed:
            yield from s.chain()
        if self.cause is not None:
            yield from self.cause.chain()

    def all_frames(self) -> Iterator[Frame]:
        for t in self.chain():
            yield from t.frames

    @property
    def root_cause(self) -> Throwable:
        t = self
        while t.cause is not None:
            t = t.cause
        return t


@dataclass(frozen=True, slots=True)
class Record:
    """One log record: a header line plus its continuation lines."""

    source: str  # path relative to the scan root (archive members as ``a.zip!dir/x.log``)
    line: int  # 1-based line number of the header line in the (decompressed) source
    n_lines: int
    ts_ms: int | None  # epoch milliseconds, UTC; None when the record has no timestamp
    level: str | None
    thread: str | None
    logger: str | None
    message: str  # the first line's message
    text: str  # the whole raw record, header and continuation lines
    kind: Kind = Kind.APP_LOG
    fields: Mapping[str, str] = field(default_factory=dict)  # MDC, pid, class, method...
    throwable: Throwable | None = None

    @property
    def time(self) -> datetime | None:
        if self.ts_ms is None:
            return None
        return datetime.fromtimestamp(self.ts_ms / 1000, tz=UTC)


# Columns of the records table every scan produces (Arrow). ``exception`` is the
# outermost throwable class, ``root_exception`` the deepest cause and
# ``root_frame`` the top frame of that cause (``pkg.Class.method``), all null when
# the record carries no stack trace.
RECORD_SCHEMA = pa.schema(
    [
        ("source", pa.dictionary(pa.int32(), pa.string())),
        ("kind", pa.dictionary(pa.int8(), pa.string())),
        ("line", pa.int64()),
        ("n_lines", pa.int32()),
        ("ts", pa.timestamp("ms", tz="UTC")),
        ("level", pa.dictionary(pa.int32(), pa.string())),
        ("thread", pa.string()),
        ("logger", pa.string()),
        ("message", pa.string()),
        ("exception", pa.string()),
        ("root_exception", pa.string()),
        ("root_frame", pa.string()),
    ]
)


@dataclass(slots=True)
class EvidenceResult:
    """What a structured-evidence parser (GC log, thread dump, nginx) returns for one file.

    ``tables`` maps a typed table name (``gc_events``, ``thread_states``, ``locks``,
    ``http_requests``, ``metrics``, ``records``...) to its Arrow table; every table
    has a ``source`` column and an epoch-ms UTC ``ts`` column where time is known.
    Every input line is counted either in ``parsed_lines`` or ``unparsed_lines``.
    """

    source: str
    kind: Kind
    lines: int = 0
    parsed_lines: int = 0
    unparsed_lines: int = 0
    tables: dict[str, pa.Table] = field(default_factory=dict)
    unparsed_samples: list[tuple[int, str]] = field(default_factory=list)  # first few (line, text)
    diagnostics: list[object] = field(default_factory=list)  # errors.Diagnostic
    timezone: str | None = None  # zone name/offset when known, None when not
    notes: list[str] = field(default_factory=list)  # e.g. "uptime-only: anchored via --jvm-start"
