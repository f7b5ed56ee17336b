"""Per-input decisions made before parsing: kind, layout, order of rolled files."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import tzinfo
from pathlib import Path
from typing import Any

from logsleuth.engine.guard import reported
from logsleuth.engine.local import HEAD_BYTES, PlannedInput
from logsleuth.errors import DiagLevel, Diagnostic, InputError, SourceLocation
from logsleuth.model import Kind


@dataclass(frozen=True, slots=True)
class LayoutChoice:
    """Where an input's layout comes from, in priority order."""

    pattern: str | None = None
    flavor: str = "log4j2"
    config_patterns: tuple[tuple[str, str], ...] = ()  # (appender, pattern) from XML configs


def read_head(source: Any) -> bytes:
    with source.open() as f:
        return f.read(HEAD_BYTES)


def head_lines(head: bytes) -> list[str]:
    text = head.decode("utf-8", "replace")
    lines = text.split("\n")
    if len(head) >= HEAD_BYTES:
        lines = lines[:-1]  # the last one may be cut
    return [ln.rstrip("\r") for ln in lines]


def classify_kind(source: Any, head: bytes, overrides: Any) -> Kind:
    """``--kind`` overrides first, then the content decides."""
    from logsleuth.parsers.classify import classify

    forced = overrides.lookup(source.path) if overrides is not None else None
    if forced is not None:
        return forced
    kind = classify(head, name=source.path)
    if kind in (Kind.UNKNOWN, Kind.APP_LOG) and not source.member and head:
        # an access log in the user's own log_format: only its nginx.conf tells
        from logsleuth.parsers.nginx_format import fits_formats, formats_near

        formats = formats_near(Path(source.fs_path))
        if formats and fits_formats(head, formats):
            return Kind.NGINX_ACCESS
    return kind


@functools.cache
def _builtin_layouts() -> tuple[Any, ...]:
    """Loaded once per process (their samples are checked by the test suite)."""
    from logsleuth import layouts

    return tuple(layouts.load_builtin_layouts())


def choose_layout(lines: list[str], choice: LayoutChoice,
                  more_lines: Callable[[], list[str]] | None = None
                  ) -> tuple[Any | None, str | None]:
    """The compiled layout for an app log, and a note when none fits or the fit is weak.

    Built-in layouts come first; the file's own layout is inferred only when no
    built-in reads most of it, or when the inferred one clearly reads more.
    ``more_lines`` gives samples from further into the file, read only then.
    """
    from logsleuth import layouts

    if choice.pattern is not None:
        return (layouts.spec_layout(choice.pattern)
                or layouts.compile_layouts(choice.pattern, flavor=choice.flavor)), None
    candidates = _builtin_layouts()
    if choice.config_patterns:
        candidates = [layouts.compile_pattern(p, flavor=choice.flavor, name=f"config:{name}")
                      for name, p in choice.config_patterns]
    sample = _without_dumps(lines)
    detection = layouts.detect_layout(sample, candidates)
    if choice.config_patterns or (detection.layout is not None
                                  and detection.fraction >= KEEP_BUILTIN):
        if detection.layout is None:
            return None, NO_LAYOUT
        if choice.config_patterns or detection.fraction >= 1.0:
            return detection.layout, None
        return _beside(detection.layout, _header_lines(sample))  # lines it leaves: whose?
    return _infer(sample + (more_lines() if more_lines else []), detection)


KEEP_BUILTIN = 0.9  # a built-in reading this share of header lines is kept without inference
MIXED = "several layouts in one file"  # opens a layout-mixed note
UNREAD = "timestamped sample line(s) fit none of them"  # ... and the note warns
CLEARLY_MORE = 0.25  # an inferred layout replaces a built-in when it reads this much more
NO_LAYOUT_READS = ("only traces, LEAK reports and lines naming an exception are read as records;"
                   " other lines are counted as unparsed")
NO_LAYOUT = "no known layout matched: " + NO_LAYOUT_READS


def _header_lines(sample: list[str]) -> list[str]:
    """The sample's lines that could start a record. A log quoted in a document, a ticket
    or a console keeps the quote's indent on every line: under an indent that every
    non-blank line shares, the lines are judged by what follows it (a frame is still
    indented further) and returned whole, so the inferred layout starts with the indent."""
    import pyarrow as pa

    from logsleuth.layouts.detect import header_looking

    indent = _common_indent(sample)
    if not indent:
        return header_looking(pa.array(sample, pa.string())).to_pylist()
    body = [ln[len(indent):] for ln in sample if ln.strip()]
    return [indent + ln for ln in header_looking(pa.array(body, pa.string())).to_pylist()]


def _common_indent(sample: list[str]) -> str:
    """The blank prefix all non-blank lines share ('' for a log written from column 0)."""
    lines = [ln for ln in sample if ln.strip()]
    if not lines:
        return ""
    first = lines[0]
    indent = first[:len(first) - len(first.lstrip(" \t"))]
    for ln in lines[1:]:
        while indent and not ln.startswith(indent):
            indent = indent[:-1]
        if not indent:
            return ""
    return indent


def _beside(layout: Any, lines: list[str], inferred: Any = None) -> tuple[Any, str | None]:
    """``layout``, joined by the layouts of the timestamped lines it does not read (those
    ``inferred`` found beside it, or inferred here), with the note that names them all
    and the timestamped lines none of them reads."""
    from logsleuth.layouts.compile import LINE_BREAK, CompiledLayout, with_others
    from logsleuth.layouts.infer import _stamped, header_hits
    from logsleuth.layouts.mixed import next_lines, other_layouts, reads

    if not isinstance(layout, CompiledLayout) or LINE_BREAK in layout.fields_regex:
        return layout, None  # a JSON layout, or a record over two lines: one layout
    if inferred is not None:
        others, own, total = inferred.others, inferred.share, inferred.header_lines
    else:
        read = header_hits(layout, lines) if lines else []
        others, _why = other_layouts(read, lines, exclude=layout.name)
        own, total = sum(read) / max(len(lines), 1), len(lines)
    if not others:
        return layout, None
    shares = " and ".join(f"'{o.layout.pattern}' ({o.lines / total:.0%})" for o in others)
    note = (f"{MIXED}: read as '{layout.pattern}' ({own:.0%} of header lines) and as {shares};"
            " a line in any of them starts a record, read in its own layout")
    left = [ln for ln, hit in zip(lines, header_hits(layout, lines), strict=True)
            if not hit and _stamped(ln)]
    following = next_lines(lines)
    for other in others:
        left = [ln for ln, hit in zip(left, reads(other.layout, left, following), strict=True)
                if not hit] if left else left
    if left:  # too few to be a layout: said, not silently glued
        note += (f"; {len(left)} {UNREAD} and continue the record before them, e.g."
                 f" '{left[0][:100]}'")
    return with_others(layout, [o.layout for o in others]), note


def _infer(sample: list[str], detection: Any) -> tuple[Any | None, str | None]:
    from logsleuth.layouts.infer import infer_layout

    lines = _header_lines(sample)
    inferred = infer_layout(lines)
    if detection.layout is not None and not (
            inferred.usable and inferred.share >= detection.fraction + CLEARLY_MORE):
        return _beside(detection.layout, lines)
    if inferred.confident and not inferred.others:
        return inferred.layout, None
    if inferred.mixed:
        return _beside(inferred.layout, lines, inferred)
    best = [(f"inferred '{inferred.pattern}'", inferred.share)] if inferred.pattern else []
    best += [(f"inferred '{o.layout.pattern}'", o.lines / inferred.header_lines)
             for o in inferred.others]
    if detection.runner_up is not None:
        best.append((f"built-in {detection.runner_up.name}", detection.runner_up_fraction))
    listed = "; ".join(f"{what} reads {share:.0%}" for what, share in
                       sorted(best, key=lambda b: -b[1])) or "none"
    why = inferred.evidence[-1] if inferred.evidence else ""
    if inferred.usable:
        layout, _mixed = _beside(inferred.layout, lines, inferred)
        return layout, (f"layout inferred with low confidence ({why}); candidates: "
                        f"{listed}; pass --pattern to be sure")
    return None, (f"no layout fits ({why}); candidates: {listed}; {NO_LAYOUT_READS}; pass"
                  " --pattern with the log's PatternLayout")


def layout_diagnostic(path: str, layout: Any, note: str) -> Diagnostic:
    """What ``choose_layout``'s note means: no layout, several, or an unsure one. Public:
    the watcher plans a new file with the same words as scan."""
    code = ("layout-unknown" if layout is None else "layout-mixed"
            if note.startswith(MIXED) else "layout-uncertain")
    # a mixed file whose every dated line is read: how, not a problem
    level = (DiagLevel.INFO if code == "layout-mixed" and UNREAD not in note
             else DiagLevel.WARNING)
    return Diagnostic(SourceLocation(path), code, note, level=level)


def mid_file_lines(source: Any, size: int = 16 * 1024) -> list[str]:
    """Whole lines from a third and two thirds into a plain file (cheap seeks)."""
    if not getattr(source, "splittable", False) or source.size < 4 * HEAD_BYTES:
        return []
    out: list[str] = []
    try:
        with open(source.fs_path, "rb") as f:
            for at in (source.size // 3, 2 * source.size // 3):
                f.seek(at)
                cut = f.read(size).decode("utf-8", "replace").split("\n")[1:-1]
                out.extend(ln.rstrip("\r") for ln in cut)  # whole lines only
    except OSError:
        return []
    return out


def unwrap_head(head: bytes, choice: LayoutChoice) -> tuple[Any | None, bytes]:
    """The wrapper around an input's lines (docker, CRI, syslog...) and its inner head.

    A user's ``--pattern`` describes the file as it is, so nothing is unwrapped then.
    """
    from logsleuth.parsers.wrappers import detect_wrapper, unwrap_bytes

    if choice.pattern is not None or not head:
        return None, head
    lines = head_lines(head)
    spec = detect_wrapper(lines, _has_builtin_layout)
    if spec is None:
        return None, head
    if len(head) >= HEAD_BYTES and b"\n" in head:
        head = head[: head.rindex(b"\n") + 1]  # whole lines only
    return spec, unwrap_bytes(spec, head)


def _has_builtin_layout(lines: Sequence[str]) -> bool:
    from logsleuth import layouts

    return layouts.detect_layout(_without_dumps(list(lines)), _builtin_layouts()).layout is not None


def _without_dumps(lines: list[str]) -> list[str]:
    """Drop kill -3 thread dumps from a console log's head before detecting its layout."""
    from logsleuth.parsers.jstack import find_dumps

    ranges = find_dumps("\n".join(lines))
    if not ranges:
        return lines
    keep = [True] * len(lines)
    for start, end in ranges:
        keep[start:end] = [False] * (end - start)
    return [ln for ln, k in zip(lines, keep, strict=True) if k]


def plan_inputs(sources: Sequence[Any], choice: LayoutChoice,
                overrides: Any, diagnostics: list[Diagnostic],
                default_tz: tzinfo | None) -> list[PlannedInput]:
    planned: list[PlannedInput] = []
    for src in sources:
        try:
            head = read_head(src)
        except InputError as err:
            diagnostics.append(err.diagnostic)
            head = b""
        except OSError as err:
            diagnostics.append(Diagnostic(SourceLocation(src.path), "unreadable",
                                          f"cannot read: {err.strerror or err}"))
            continue
        kind, layout, wrapper = Kind.APP_LOG, None, None  # what a crash below leaves
        with reported(src.path, "choosing this input's kind and layout", diagnostics):
            wrapper, head = unwrap_head(head, choice)
            kind = classify_kind(src, head, overrides)
            if wrapper is not None and kind == Kind.UNKNOWN:
                kind = Kind.APP_LOG  # a container's or a daemon's output, whatever it says
            if kind == Kind.UNKNOWN and _reads_as_app_log(head, src, overrides):
                kind = Kind.APP_LOG  # long multi-line messages hid its record headers
            if kind == Kind.APP_LOG:
                # mid-file samples are raw lines: only for files that are not wrapped
                more = functools.partial(mid_file_lines, src) if wrapper is None else None
                layout, note = choose_layout(head_lines(head), choice, more)
                if note and wrapper is not None and layout is None:
                    note = (f"no known layout inside the {wrapper.describe()} lines: each line"
                            " the wrapper delimits is a record (traces kept whole)")
                if note:
                    diagnostics.append(layout_diagnostic(src.path, layout, note))
        planned.append(PlannedInput(src, kind, layout, head, wrapper))
    shared = share_family_layouts(planned)
    _own_guess_dropped(planned, shared, diagnostics)
    return _order_families(shared, default_tz, diagnostics)


def share_family_layouts(planned: list[PlannedInput]) -> list[PlannedInput]:
    """Rolled files of one appender written in one layout get the one inferred layout that
    reads them all.

    Each file's layout is inferred from its own head, and a head can hide a field's padding:
    an archive rolled in an error flood shows only ``ERROR`` levels, so ``%p`` and ``%-5p``
    read it alike, and ``%p`` then glues the file's few ``INFO  |`` records onto the trace
    before them. Among the layouts inferred for the files of one family, each file keeps
    the one that reads most of its own header lines; of those that tie, the one that reads
    most of the family's, then the one inferred from the most header lines (a freshly
    rolled file's one or two lines leave fields out that the archive's hundreds show).
    A file of the family with no layout of its own (too few lines to infer one) gets the
    family's layout (inferred or built-in) that reads its header lines. Built-in and user
    layouts are never replaced. Public: the watcher plans each new file with it.
    """
    from logsleuth.layouts.compile import CompiledLayout
    from logsleuth.layouts.infer import header_hits
    from logsleuth.sources.family import family_key

    def inferred(p: PlannedInput) -> bool:
        return isinstance(p.layout, CompiledLayout) and p.layout.name.startswith("inferred: ")

    groups: dict[tuple[str, str], list[int]] = {}
    for i, p in enumerate(planned):
        if p.kind == Kind.APP_LOG and p.wrapper is None:
            groups.setdefault(family_key(p.source), []).append(i)
    out = list(planned)
    for members in groups.values():
        bare = [i for i in members if planned[i].layout is None]
        guessed = [i for i in members if inferred(planned[i])]
        offered = {}  # pattern -> layout: what the family's files are read with
        for i in members:
            lay = planned[i].layout
            if lay is not None and hasattr(lay, "pattern"):
                offered.setdefault(lay.pattern, lay)
        own = {k for k, lay in offered.items() if lay.name.startswith("inferred: ")}
        if not offered or (len(own) < 2 and not bare):
            continue
        found = list(offered.values())
        heads = {i: _header_lines(head_lines(planned[i].head)) for i in members}
        support = {lay.pattern: max((len(heads[i]) for i in members
                                     if planned[i].layout is lay), default=0) for lay in found}
        hits = {(i, k): sum(header_hits(lay, heads[i])) if heads[i] else 0
                for i in members for k, lay in enumerate(found)}
        family = [sum(hits[(i, k)] for i in members) for k in range(len(found))]
        for i in [*guessed, *bare]:
            choices = [k for k in range(len(found)) if planned[i].layout is None
                       or found[k].pattern in own]
            best = max(choices, key=lambda k: (hits[(i, k)], family[k],
                                               support[found[k].pattern]))
            if planned[i].layout is None and heads[i] and not hits[(i, best)]:
                continue  # its header lines are not the family's: it stays unread as it was
            if found[best] is not planned[i].layout:
                out[i] = replace(planned[i], layout=found[best])
    return out


def _own_guess_dropped(before: Sequence[PlannedInput], after: Sequence[PlannedInput],
                       diagnostics: list[Diagnostic]) -> None:
    """A file that took its family's layout is no longer read with the guess its own
    head gave: the warning about that guess goes (the family's layout has its own)."""
    changed = {b.source.path for b, a in zip(before, after, strict=True)  # type: ignore[attr-defined]
               if a.layout is not b.layout}
    if changed:
        diagnostics[:] = [d for d in diagnostics if not (
            d.code in ("layout-unknown", "layout-uncertain") and d.location.path in changed)]


def _reads_as_app_log(head: bytes, source: Any, overrides: Any) -> bool:
    """An unclassified file whose own layout can be inferred with confidence is an app log."""
    if overrides is not None and overrides.lookup(source.path) is not None:
        return False
    import pyarrow as pa

    from logsleuth.layouts.detect import header_looking
    from logsleuth.layouts.infer import infer_layout

    lines = header_looking(pa.array(head_lines(head), pa.string())).to_pylist()
    inferred = infer_layout(lines)
    return inferred.confident and inferred.layout is not None and inferred.layout.fields != (
        "ts", "msg")  # a date and free text is any text with dates, not yet a log


def infer_app_zone(planned: Sequence[PlannedInput],
                   diagnostics: list[Diagnostic] | None = None) -> Any:
    """ZoneInference for zone-less app logs from GC/nginx siblings (see engine.zone)."""
    from logsleuth.engine.zone import zone_for

    return zone_for(planned, lambda p: _first_instant(p, None),  # type: ignore[arg-type]
                    diagnostics)


def _first_instant(p: PlannedInput, default_tz: tzinfo | None) -> int | None:
    """Epoch ms of the first timestamp in an input's head, for ordering rolled files."""
    layout = p.layout
    if (layout is None or not hasattr(layout, "fields_regex") or layout.timestamp is None
            or layout.timestamp.needs_base_date):  # no date printed: no instant to order by
        return None
    if p.wrapper is not None:  # the head is the inner text: its times may lack a date
        return None
    import pyarrow.compute as pc

    ts = head_timestamps(p)
    if ts is None:
        return None
    return pc.min(layout.timestamp.to_epoch_ms(ts, default_tz).ms).as_py()


def head_timestamps(p: PlannedInput) -> Any:
    """The timestamp strings of the header lines in an input's head (None when none)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    layout = p.layout
    lines = pa.array(head_lines(p.head), pa.large_string())
    parts = pc.extract_regex(lines.filter(pc.match_substring_regex(lines, layout.header_regex)),
                             layout.fields_regex)
    return parts.field("ts") if len(parts) else None


def _order_families(planned: list[PlannedInput], default_tz: tzinfo | None,
                    diagnostics: list[Diagnostic] | None = None) -> list[PlannedInput]:
    from logsleuth.sources import order_family

    by_source = {id(p.source): p for p in planned}
    instants: dict[int, int | None] = {}
    for p in planned:
        instants[id(p.source)] = None
        with reported(p.source.path, "reading the first timestamp of this input", diagnostics):
            instants[id(p.source)] = _first_instant(p, default_tz)
    ordered = order_family([p.source for p in planned], lambda s: instants.get(id(s)))
    return [by_source[id(s)] for s in ordered]
