"""``ScanOptions``: everything that configures a scan, in one frozen value.

``logsleuth.scan``, ``logsleuth check``, the CLI and the engines pass this one
object instead of two dozen keywords hand to hand: adding an option means a field
here, a flag in ``cli/options.py`` and the code that reads it, nothing between.
It is picklable (it travels to Dask workers inside ``UnitOptions``) and hashable.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from logsleuth.engine.reader import DEFAULT_CHUNK
from logsleuth.errors import PatternError

PathLike = str | Path
ENGINES = ("local", "dask")


@dataclass(frozen=True, slots=True)
class ScanOptions:
    """How to read the evidence, what to look for in it, where to run, what to keep.

    Sequences are stored as tuples (a single path becomes a 1-tuple); a ``limits``
    mapping becomes sorted ``(metric, value)`` pairs. ``replace`` or
    ``with_overrides`` derive a changed copy.
    """

    # how the evidence is read
    pattern: str | None = None  # PatternLayout or "json: ..." spec of the app logs
    log4j2_config: PathLike | None = None  # read appender patterns from a log4j2.xml
    logback_config: PathLike | None = None  # read encoder patterns from a logback.xml
    tz: str | None = None  # IANA zone of timestamps written without an offset
    date: str | None = None  # YYYY-MM-DD of the first record of time-only app logs
    kinds: tuple[str, ...] = ()  # GLOB=KIND: force an input's kind
    jvm_start: str | None = None  # ISO 8601 instant anchoring uptime-only GC logs
    max_decompressed_bytes: int = 20 * 2**30  # archive bomb guard
    # what is looked for
    rules: bool = True  # run the rule packs (findings)
    rules_dirs: tuple[PathLike, ...] = ()  # extra rule directories
    only: tuple[str, ...] = ()  # rule ids or tags to run
    exclude: tuple[str, ...] = ()  # rule ids or tags to skip
    metrics: tuple[PathLike, ...] = ()  # YAML files of extra metric definitions
    limits: tuple[str, ...] | tuple[tuple[str, float], ...] = ()  # gauge ceilings
    analysis: bool = True  # onset, leaks, root causes
    baseline: tuple[PathLike, ...] | None = None  # healthy logs to compare with
    # where it runs
    engine: str = "local"  # local (processes) or dask
    dask_address: str | None = None  # Dask scheduler (None: a LocalCluster)
    workers: int | None = None  # processes (None: the number of cores, at most 8)
    chunk_size: int = DEFAULT_CHUNK  # bytes read per parser call
    # what is kept and written
    keep_records: bool = True  # keep the records table
    spill_dir: PathLike | None = None  # stream kept records to Parquet here
    html: PathLike | None = None  # also write the HTML incident timeline here

    def __post_init__(self) -> None:
        for name in ("kinds", "rules_dirs", "only", "exclude", "metrics"):
            object.__setattr__(self, name, _as_tuple(getattr(self, name)))
        if self.baseline is not None:
            object.__setattr__(self, "baseline", _as_tuple(self.baseline) or None)
        limits = self.limits
        object.__setattr__(self, "limits", tuple(sorted(limits.items()))
                           if isinstance(limits, Mapping) else _as_tuple(limits))
        if self.engine not in ENGINES:
            raise PatternError.at("--engine", "bad-engine",
                                  f"unknown engine '{self.engine}' (local or dask)")

    @classmethod
    def fields(cls) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(cls))

    def with_overrides(self, **overrides: Any) -> ScanOptions:
        """A copy with ``overrides`` applied; an unknown name raises TypeError saying so."""
        unknown = sorted(set(overrides) - set(self.fields()))
        if unknown:
            raise TypeError(unknown_option_message(unknown))
        return dataclasses.replace(self, **overrides) if overrides else self

    @property
    def worker_count(self) -> int:
        """Processes to use: ``workers``, or the cores this process may run on (at most 8)."""
        if self.workers:
            return self.workers
        return max(1, min(len(os.sched_getaffinity(0)), 8))

    def stated_limits(self) -> dict[str, float]:
        """``limits`` as base-unit ceilings by metric (strings parsed: ``name=2GiB``)."""
        from logsleuth.timeline.ceilings import parse_limits

        texts = [x for x in self.limits if isinstance(x, str)]
        pairs = {x[0]: x[1] for x in self.limits if not isinstance(x, str)}
        return {**parse_limits(texts), **pairs} if texts else pairs


def unknown_option_message(names: Sequence[str]) -> str:
    parts = []
    for name in names:
        near = difflib.get_close_matches(name, ScanOptions.fields(), n=1)
        parts.append(f"'{name}'" + (f" (did you mean '{near[0]}'?)" if near else ""))
    return (f"unknown scan option{'s' if len(parts) > 1 else ''} {', '.join(parts)}; "
            f"ScanOptions fields are: {', '.join(ScanOptions.fields())}")


def resolve_options(options: ScanOptions | None, overrides: Mapping[str, Any]) -> ScanOptions:
    """``options`` (default: the defaults) with keyword ``overrides`` on top."""
    if options is not None and not isinstance(options, ScanOptions):
        raise TypeError(f"options must be a ScanOptions, not {type(options).__name__}")
    return (options or ScanOptions()).with_overrides(**overrides)


def _as_tuple(value: Any) -> tuple[Any, ...]:
    if value is None:
        return ()
    if isinstance(value, (str, Path)):  # one path or name, not its characters
        return (value,)
    return tuple(value)
