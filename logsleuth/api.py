"""The Python API: what the CLI and notebooks call.

``scan`` reads evidence and returns a ``ScanResult``; ``parse_text`` turns a
snippet of log text into ``Record`` objects (rule tests use it).
"""

from __future__ import annotations

import dataclasses
import datetime
import io
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pyarrow as pa

from logsleuth.engine.applog import AppLogParser, ChunkBatch
from logsleuth.engine.collectors import CollectorSet
from logsleuth.engine.local import PARALLEL_MIN_BYTES, execute, make_units, reduce_partials
from logsleuth.engine.memory import release_free_heap
from logsleuth.engine.planner import (
    LayoutChoice,
    choose_layout,
    infer_app_zone,
    plan_inputs,
)
from logsleuth.engine.reader import feed_stream
from logsleuth.engine.stats import InputStats
from logsleuth.engine.timeonly import TimeOfDayClock, date_anchors, parse_date
from logsleuth.engine.units import Partial, UnitOptions, WorkUnit
from logsleuth.errors import PatternError
from logsleuth.model import RECORD_SCHEMA, Kind, Record
from logsleuth.options import ScanOptions, resolve_options
from logsleuth.result import ScanResult, SkippedInput

PathLike = str | Path


def resolve_tz(name: str | None) -> tzinfo | None:
    if name is None:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise PatternError.at("--tz", "bad-timezone",
                              f"unknown time zone '{name}' (use an IANA name such as "
                              "Europe/Berlin or UTC)") from None


def parse_instant(text: str | None) -> int | None:
    """Epoch ms of an ISO 8601 instant with an offset (``--jvm-start``)."""
    if text is None:
        return None
    from datetime import datetime

    try:
        t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        t = None
    if t is None or t.tzinfo is None:
        raise PatternError.at("--jvm-start", "bad-instant",
                              f"'{text}' is not an ISO 8601 instant with an offset "
                              "(e.g. 2026-11-26T03:00:00+01:00)")
    return int(t.timestamp() * 1000)


def layout_choice(pattern: str | None = None, log4j2_config: PathLike | None = None,
                  logback_config: PathLike | None = None) -> LayoutChoice:
    from logsleuth import layouts

    if pattern is not None:
        if layouts.spec_layout(pattern) is None:  # a PatternLayout, or "json: ..."
            layouts.compile_layouts(pattern)  # fail early, before any input is read
        return LayoutChoice(pattern=pattern)
    if log4j2_config is not None:
        pats = layouts.patterns_from_log4j2_xml(Path(log4j2_config))
        return LayoutChoice(config_patterns=tuple(pats))
    if logback_config is not None:
        pats = layouts.patterns_from_logback_xml(Path(logback_config))
        return LayoutChoice(flavor="logback", config_patterns=tuple(pats))
    return LayoutChoice()


def scan(paths: Sequence[PathLike] | PathLike, options: ScanOptions | None = None, *,
         progress: Callable[[int, int], None] | None = None, **overrides: Any) -> ScanResult:
    """Scan files, directories, globs and archives of evidence.

    ``options`` (a ``ScanOptions``) configures the scan; keywords named after its
    fields override it, so ``scan(path, tz="UTC")`` and
    ``scan(path, ScanOptions(tz="UTC"))`` are the same scan. An unknown keyword
    raises TypeError naming the fields. ``progress(done, total)`` is called as
    units finish (an observer, not an option: it never reaches the workers).

    Expected input problems (missing paths, corrupt archives, odd lines) become
    diagnostics on the result; a bad pattern, config or zone raises PatternError.
    """
    from logsleuth.parsers.classify import KindOverrides
    from logsleuth.sources import discover

    opts = resolve_options(options, overrides)
    if isinstance(paths, (str, Path)):
        paths = [paths]
    default_tz = resolve_tz(opts.tz)
    explicit_date = parse_date(opts.date)
    choice = layout_choice(opts.pattern, opts.log4j2_config, opts.logback_config)
    kind_overrides = KindOverrides.parse(list(opts.kinds))
    stated = opts.stated_limits()
    collectors, config = collectors_for(default_tz, opts)
    found = discover(list(paths), max_decompressed_bytes=opts.max_decompressed_bytes)
    diagnostics = list(found.diagnostics)
    planned = plan_inputs(found.sources, choice, kind_overrides, diagnostics, default_tz)
    inferred = infer_app_zone(planned, diagnostics) if default_tz is None else None
    if inferred is not None:
        default_tz = inferred.tz
    base_dates = date_anchors(planned, explicit_date, default_tz, diagnostics)
    jvm_start_ms = parse_instant(opts.jvm_start)
    if jvm_start_ms is None:
        jvm_start_ms = jvm_start_from_evidence(planned, default_tz, diagnostics, base_dates)
    units = make_units(planned, opts.worker_count)
    unit_options = UnitOptions(scan=opts, default_tz=default_tz, jvm_start_ms=jvm_start_ms,
                               collectors=collectors, collector_config=config,
                               base_dates=base_dates)
    done = [0]

    def tick(_unit: WorkUnit) -> None:
        done[0] += 1
        if progress:
            progress(done[0], len(units))

    try:
        ran = run_units(units, unit_options, tick)
    finally:
        if "scan_token" in config:
            from logsleuth.engine.analysis import forget_scan

            forget_scan(config["scan_token"])
    partials = reduce_partials(ran)
    tz_label = opts.tz or (f"{inferred.label} (inferred)" if inferred else None)
    for p, plan in zip(partials, planned, strict=True):
        p.stats.timezone = p.stats.timezone or _zone_label(plan.layout, tz_label)
    keep_records = opts.keep_records and opts.spill_dir is None
    result = ScanResult(
        inputs=[p.stats for p in partials],
        skipped=[SkippedInput(s.path, s.reason) for s in found.skipped],
        diagnostics=diagnostics,
        tables=_tables(partials, keep_records),
        record_files=[f for p in partials for f in p.record_files],
    )
    result.written_zones = _written_zones(planned, diagnostics)
    _limits_elsewhere(result, planned)
    _reduce_collectors(result, partials, _timezone_guess(result, opts.tz, inferred), stated)
    if opts.baseline is not None:
        result.baseline = _compare_baseline(result, opts)
    if opts.html is not None:
        from logsleuth.reports.html import write_html

        write_html(result, opts.html)
    return result


def run_units(units: Sequence[WorkUnit], options: UnitOptions,
              progress: Callable[[WorkUnit], None] | None = None) -> list[Partial]:
    """Run the units on the engine ``options.scan.engine`` names."""
    if options.scan.engine == "dask":
        from logsleuth.engine.dask import execute_dask

        return execute_dask(units, options, progress)
    return execute(units, options, progress)


def result_from_collectors(collectors: CollectorSet, *, inputs: Sequence[InputStats] = (),
                           tables: dict[str, list[pa.Table]] | None = None,
                           heads: Sequence[Any] = (), diagnostics: Sequence[Any] = (),
                           tz: str | None = None, inferred: Any = None,
                           limits: dict[str, float] | None = None) -> ScanResult:
    """What scan does once its partials are merged, for collectors fed elsewhere (the
    watcher's running set, a notebook's own batches): findings, timelines, leaks and the
    incident, the same objects scan returns. ``tables`` are evidence tables (GC events,
    thread states, requests...), ``heads`` planned-input-like values (``kind``, ``head``,
    ``source``) whose first lines state ceilings. The collectors keep their state."""
    merged = Partial("<merged>", 0, InputStats("<merged>"), collectors,
                     tables={k: list(v) for k, v in (tables or {}).items()})
    result = ScanResult(inputs=list(inputs), diagnostics=list(diagnostics),
                        tables=_tables([merged], False))
    _limits_elsewhere(result, heads)
    _reduce_collectors(result, [merged], _timezone_guess(result, tz, inferred), limits)
    return result


def _written_zones(planned: Sequence[Any], diagnostics: list[Any]) -> dict[str, str]:
    """The offset each app log that writes one writes (the zone reports display)."""
    from logsleuth.engine.guard import reported
    from logsleuth.engine.zone import written_offset

    out: dict[str, str] = {}
    for p in planned:
        if p.kind != Kind.APP_LOG:
            continue
        with reported(p.source.path, "reading the offset this input writes", diagnostics):
            if (label := written_offset(p)) is not None:
                out[p.source.path] = label
    return out


def _limits_elsewhere(result: ScanResult, planned: Sequence[Any]) -> None:
    """Ceilings GC logs and flag dumps state in their first lines join the metrics table."""
    from logsleuth.timeline.ceilings import limits_from_heads

    found = limits_from_heads(planned)
    if found.num_rows:
        old = result.tables.get("metrics")
        result.tables["metrics"] = found if old is None else pa.concat_tables(
            [old, found], promote_options="permissive")


def jvm_start_from_evidence(planned: Sequence[Any], default_tz: tzinfo | None,
                            diagnostics: list[Any],
                            base_dates: dict[str, Any] | None = None) -> int | None:
    """Anchor uptime-only GC logs with the JVM start the evidence states (Spring Boot's
    uptime, jcmd VM.uptime -date, log4j2's %r), else the one thread dumps imply, else
    (last resort) the one that aligns their pauses with the app log's silences (each
    reported, with what placed the logs).
    Public: the watcher anchors the GC logs it follows the same way."""
    from logsleuth.engine.jvmstart import gc_logs_lack_wall_clock, jvm_start_from_dumps
    from logsleuth.engine.pausealign import jvm_start_from_pauses
    from logsleuth.engine.startanchor import jvm_start_stated
    from logsleuth.errors import DiagLevel, Diagnostic, SourceLocation

    if not gc_logs_lack_wall_clock(planned, diagnostics):
        return None
    start = (jvm_start_stated(planned, default_tz, base_dates or {}, diagnostics)
             or jvm_start_from_dumps(planned, default_tz, diagnostics))
    gc = next(p for p in planned if p.kind == Kind.GC_LOG)
    if start is None and (aligned := jvm_start_from_pauses(planned, default_tz, base_dates,
                                                           diagnostics)) is not None:
        diagnostics.append(Diagnostic(SourceLocation(gc.source.path), "gc-anchored-by-pauses",
                                      aligned[1], level=DiagLevel.WARNING))
        return aligned[0].ms
    if start is None:  # said loudly: its pauses and heap gauges drop out of every timeline
        diagnostics.append(Diagnostic(
            SourceLocation(gc.source.path), "gc-unanchored",
            "the GC logs print uptimes only (-Xlog's default decorations), no evidence "
            "states the JVM's start and their pauses do not line up with the app log's "
            "silences: their pauses and heap-after-GC gauges are not placed "
            "in time (pass --jvm-start, or log with -Xlog:gc*:file=...:time,uptime)",
            level=DiagLevel.WARNING))
        return None
    diagnostics.append(Diagnostic(SourceLocation(gc.source.path), "gc-anchored", start.why,
                                  level=DiagLevel.WARNING))
    return start.ms


def collectors_for(default_tz: tzinfo | None,
                   opts: ScanOptions) -> tuple[tuple[str, ...], dict[str, Any]]:
    """Which collectors a scan with ``opts`` runs (names for ``CollectorSet.create``) and
    their configuration, checked up front: a broken rule or metric definition stops the
    scan before any input is read. Public: the watcher and notebooks feed the same ones."""
    names = ["levels", "metrics", "dumps", "jvmconsole"]
    config: dict[str, Any] = {"default_tz": default_tz,
                              "metric_files": [str(m) for m in opts.metrics]}
    if opts.metrics:
        from logsleuth.parsers.metrics import metric_defs

        metric_defs(config["metric_files"])
    if opts.rules:
        from logsleuth.rules.loader import load_rules

        config.update({"rules_dirs": [str(d) for d in opts.rules_dirs],
                       "only": list(opts.only) or None, "exclude": list(opts.exclude) or None})
        load_rules(opts.rules_dirs, only=config["only"], exclude=config["exclude"])
        names.append("rules")
    if opts.analysis:
        names.append("analysis")
        # lets the units one process reads share what they learnt (engine.analysis._Floor)
        config["scan_token"] = uuid.uuid4().hex
    return tuple(names), config


def _tables(partials: Sequence[Partial], keep_records: bool) -> dict[str, pa.Table]:
    """Typed tables of every input (evidence parsers and collectors), concatenated."""
    parts: dict[str, list[pa.Table]] = {}
    for p in partials:
        for source in (p.tables, p.collectors.tables()):
            for name, tables in source.items():
                parts.setdefault(name, []).extend(tables)
    merged = {name: pa.concat_tables(tables, promote_options="permissive")
              for name, tables in parts.items() if tables}
    if keep_records and "records" not in merged:
        merged["records"] = RECORD_SCHEMA.empty_table()
    return merged


def _reduce_collectors(result: ScanResult, partials: Sequence[Partial], timezone: Any,
                       limits: dict[str, float] | None = None) -> None:
    """Fold the collectors of all inputs into timelines, findings and the incident."""
    levels = _merged(partials, "levels")
    if levels is not None:
        result.tables["level_counts"] = levels.table()
        seconds = levels.seconds_table()
        if seconds is not None:
            result.tables["level_seconds"] = seconds
    rules = _merged(partials, "rules")
    if rules is not None:
        result.findings = rules.findings()
        rows = rules.aggregator.minutes_table()
        result.tables["finding_minutes"] = pa.table({
            "rule": pa.array([r[0] for r in rows], pa.string()),
            "fingerprint": pa.array([r[1] for r in rows], pa.string()),
            "minute": pa.array([r[2] for r in rows], pa.int64()).cast(
                pa.timestamp("ms", tz="UTC")),
            "count": pa.array([r[3] for r in rows], pa.int64()),
        })
    studied = _merged(partials, "analysis")
    if studied is not None:
        from logsleuth.engine.analysis import MAX_NOTABLE_ROWS
        from logsleuth.timeline.scan import analyze_scan, exception_fingerprints, template_table

        if studied.dropped:
            from logsleuth.errors import DiagLevel, Diagnostic, SourceLocation

            result.diagnostics.append(Diagnostic(
                SourceLocation("<analysis>"), "analysis-rows-capped",
                f"{studied.dropped} warning/error records were counted but not kept for the "
                f"incident analysis (more than {MAX_NOTABLE_ROWS} warning/error seconds)",
                level=DiagLevel.WARNING))
        coarse = {name: kc.res_ms for name, kc in (("message templates", studied.template_counts),
                                                   ("exception classes", studied.class_counts))
                  if kc.res_ms > 1000}
        if coarse:  # counts stay exact; their instants are known to the bucket only
            from logsleuth.engine.analysis import MAX_KEYS
            from logsleuth.errors import DiagLevel, Diagnostic, SourceLocation

            result.diagnostics.append(Diagnostic(
                SourceLocation("<analysis>"), "analysis-counts-coarsened",
                "counted per " + ", ".join(f"{ms // 1000} s ({name})"
                                           for name, ms in coarse.items())
                + f" instead of per second: more than {MAX_KEYS} (second, key) pairs; "
                "every record is counted",
                level=DiagLevel.INFO))
        thinned = [c.bound.lines for p in partials
                   if (c := p.collectors.get("metrics")) is not None]
        if sum(s.bytes for s in result.inputs) >= PARALLEL_MIN_BYTES:
            # what merging and the tables above freed goes back before the analysis
            # allocates its own (10 GiB bench: 18 MiB of the parent's heap)
            release_free_heap()
        result.incident = analyze_scan(result, studied, timezone, limits, thinned)
        result.tables["templates"] = template_table(studied)
        result.exception_fingerprints = sorted(exception_fingerprints(studied))


def _compare_baseline(result: ScanResult, opts: ScanOptions) -> Any:
    """Templates and fingerprints of this evidence that healthy ``baseline`` logs lack.

    The healthy logs are read as this evidence is (layout, zone, kinds, rules, engine);
    what belongs to this evidence alone (its JVM start, ceilings, outputs) is not passed.
    """
    from logsleuth.timeline.anomalies import compare_baseline

    assert opts.baseline is not None
    healthy = scan(opts.baseline, dataclasses.replace(
        opts, baseline=None, html=None, keep_records=False, spill_dir=None, analysis=True,
        jvm_start=None, limits=()))
    mine, theirs = result.table("templates"), healthy.table("templates")

    def counts(t: pa.Table) -> dict[str, int]:
        if t.num_rows == 0:
            return {}
        return dict(zip(t["template"].to_pylist(), t["count"].to_pylist(), strict=True))

    return compare_baseline(
        counts(mine), counts(theirs),
        incident_fingerprints=[*result.exception_fingerprints,
                               *(f"{f.rule}:{f.signature}" for f in result.findings)],
        baseline_fingerprints=[*healthy.exception_fingerprints,
                               *(f"{f.rule}:{f.signature}" for f in healthy.findings)])


def _timezone_guess(result: ScanResult, tz: str | None, inferred: Any) -> Any:
    """How the incident's times were anchored: --tz, offsets in the logs, inferred, unknown."""
    from logsleuth.timeline.tz import TimezoneGuess

    if tz is not None:
        return TimezoneGuess(tz, 0, 1.0, 1.0, "--tz")
    if inferred is not None:
        return TimezoneGuess(inferred.label, 0, 1.0, 1.0, inferred.why)
    zones = {s.timezone for s in result.inputs if s.kind == "app-log" and s.timezone}
    if zones and zones <= {"from-log"}:
        return TimezoneGuess("from-log", 0, 1.0, 1.0, "offsets written in the app logs")
    return TimezoneGuess("unknown", 0, 0.0, 0.0,
                         "app logs carry no zone and none was given (--tz): read as UTC")


def _merged(partials: Sequence[Partial], name: str) -> Any | None:
    """One input's collectors were merged already; fold the inputs together."""
    items = [c for p in partials if (c := p.collectors.get(name)) is not None]
    if not items:
        return None
    first = items[0]
    for other in items[1:]:
        first.merge(other)
    return first


def _zone_label(layout: object | None, tz: str | None) -> str | None:
    if getattr(layout, "zoned", False):  # JSON epoch times are instants already
        return "from-log"
    fmt = getattr(layout, "timestamp", None)
    if fmt is None:
        return None
    if getattr(fmt, "has_zone", False):
        return "from-log"
    return tz or "unknown"


_EPOCH_DAY = datetime.date(1970, 1, 1)


def _converter(ts_format: Any, default_tz: tzinfo | None) -> Callable[[pa.Array], pa.Array]:
    def convert(values: pa.Array) -> pa.Array:
        return ts_format.to_epoch_ms(values, default_tz).ms

    return convert


def parse_text(text: str, *, source: str = "<text>", layout: str | None = None,
               tz: str | None = None, date: str | None = None) -> list[Record]:
    """Parse a snippet of log text into Records (with parsed throwables).

    ``layout`` is a PatternLayout string; by default the layout is detected.
    ``date`` dates the first record of a time-only layout (default 1970-01-01:
    times and their order stay right, the day is a placeholder).
    """
    from logsleuth import layouts

    data = text.encode("utf-8")
    default_tz = resolve_tz(tz)
    lines = text.split("\n")[:2000]
    if layout is not None:
        compiled = layouts.compile_pattern(layout)
    else:
        compiled, _ = choose_layout(lines, LayoutChoice())
    converter: Callable[[pa.Array], pa.Array] | None = None
    if compiled is not None and compiled.timestamp is not None:
        start = parse_date(date) or _EPOCH_DAY
        converter = TimeOfDayClock(compiled.timestamp, start, default_tz) \
            if compiled.timestamp.needs_base_date else _converter(compiled.timestamp, default_tz)

    records: list[Record] = []

    def sink(cb: ChunkBatch) -> None:
        records.extend(cb.make_record(i) for i in range(cb.batch.num_rows))

    stats = InputStats(source, kind=str(Kind.APP_LOG))
    parser = AppLogParser(source, compiled, converter, stats, sink, default_tz=default_tz)
    feed_stream(io.BytesIO(data), parser, chunk_size=max(len(data) + 1, 1024))
    return records


@dataclass(frozen=True, slots=True)
class LayoutExplanation:
    """How ``scan`` reads one input's lines, and what inference makes of them."""

    path: str
    layout: str | None  # the layout scan uses (built-in name, or "inferred: <pattern>")
    note: str | None  # the layout-unknown / layout-uncertain warning, if any
    inferred: str | None  # the PatternLayout inferred from the file's lines
    share: float  # of header-looking sample lines the inferred layout reads
    evidence: tuple[str, ...]  # why each field was read as it was


def explain_layouts(paths: Sequence[PathLike] | PathLike) -> list[LayoutExplanation]:
    """The layout of each input as ``scan`` chooses it, with the inference's evidence.

    Every input is treated as an app log (its kind is not checked); archives are read.
    """
    import functools

    from logsleuth.engine.planner import head_lines, mid_file_lines, read_head
    from logsleuth.layouts.detect import header_looking
    from logsleuth.layouts.infer import infer_layout
    from logsleuth.sources import discover

    if isinstance(paths, (str, Path)):
        paths = [paths]
    out: list[LayoutExplanation] = []
    for src in discover(list(paths)).sources:
        lines = head_lines(read_head(src))
        more = mid_file_lines(src)
        layout, note = choose_layout(lines, LayoutChoice(), functools.partial(list, more))
        sample = header_looking(pa.array(lines + more, pa.string())).to_pylist()
        inference = infer_layout(sample)
        out.append(LayoutExplanation(src.path, getattr(layout, "name", None), note,
                                     inference.pattern, inference.share, inference.evidence))
    return out
