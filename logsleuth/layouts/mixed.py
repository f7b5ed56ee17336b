"""Further layouts of one file (a console capture: a build tool's lines, a framework's
banner, another logger's records, a JVM warning). Layouts are inferred from the
timestamped sample lines the dominant layout does not read, each seen on several
lines; a built-in layout is accepted on a single line it reads in full, since its
shape is known rather than guessed (see ``other_layouts`` for the order). Each becomes
an ordinary compiled layout beside the dominant one (``compile.with_others``); the
parser starts a record at any line one of them reads (``engine.mixed``)."""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from logsleuth.layouts.compile import LINE_BREAK, CompiledLayout
from logsleuth.layouts.infer import LEVELS, MIN_RECORDS, _stamped, header_hits, infer_layout

MAX_OTHERS = 3  # further layouts looked for among the lines the dominant one does not read
MATERIAL = 0.01  # of header-looking lines an inferred layout must read (and MIN_RECORDS)
MIN_KNOWN = 1  # lines a built-in layout must read in full: its shape is not a guess
_LEVEL_LINE = re.compile("(?:" + "|".join(sorted(LEVELS)) + "): ")


@dataclass(frozen=True, slots=True)
class Other:
    """A further layout of the same file and the header-looking sample lines it reads."""

    layout: CompiledLayout
    lines: int


def two_line(layout: CompiledLayout) -> bool:
    """The layout's fields regex reads a record's first two lines (SimpleFormatter)."""
    return LINE_BREAK in layout.fields_regex


@functools.cache
def known_layouts() -> tuple[CompiledLayout, ...]:
    """Built-in text layouts that can stand beside another: each prints a full date."""
    from logsleuth.layouts.library import load_builtin_layouts

    return tuple(lay for lay in load_builtin_layouts(beside=True)
                 if isinstance(lay, CompiledLayout) and lay.timestamp is not None
                 and not lay.timestamp.needs_base_date)


def reads(layout: CompiledLayout, lines: Sequence[str],
          following: dict[str, str]) -> list[bool]:
    """Per line: does ``layout`` read it in full as a record's start (the parser's test).
    A two-line layout reads it with the line that follows it in the file
    (``following``), which must start with a level word and a colon."""
    if not two_line(layout):
        return header_hits(layout, list(lines))
    nxt = [following.get(ln) for ln in lines]
    pairs = [f"{ln}\n{n}" if n is not None and _LEVEL_LINE.match(n) else ln
             for ln, n in zip(lines, nxt, strict=True)]
    return header_hits(layout, pairs)


def next_lines(ordered: Sequence[str]) -> dict[str, str]:
    """Each line of a sample in file order -> the line after its first occurrence."""
    following: dict[str, str] = {}
    for a, b in itertools.pairwise(ordered):
        following.setdefault(a, b)
    return following


def other_layouts(read: Sequence[bool], lines: Sequence[str], *,
                  name_prefix: str = "inferred: ", ordered: Sequence[str] | None = None,
                  exclude: str | None = None) -> tuple[tuple[Other, ...], list[str]]:
    """Layouts of the timestamped ``lines`` not ``read`` by the dominant layout (named
    ``exclude`` when a built-in). A built-in layout needs to read only ``MIN_KNOWN`` of
    them in full, its shape being known, not guessed; a two-line one reads a line with
    the next line of ``ordered`` (the sample in file order, by default ``lines``) and is
    looked for first, since inference sees only the dated lines. Layouts are inferred
    one after the other from the rest, each reading at least ``MIN_RECORDS`` lines and
    a ``MATERIAL`` share of ``lines``, and printing more than a date and free text (any
    text with dates is that); a date without a day, or an inferred record over two
    lines, needs state the dominant layout's records do not give it. One-line built-ins
    read what is left. Returns the layouts with the evidence."""
    left = [ln for ln, hit in zip(lines, read, strict=True) if not hit and _stamped(ln)]
    found: list[Other] = []
    why: list[str] = []
    if not left:
        return (), why
    following = next_lines(ordered if ordered is not None else lines)

    def known(two: bool) -> None:
        nonlocal left
        for layout in known_layouts():
            if len(found) >= MAX_OTHERS or not left:
                return
            if layout.name == exclude or two_line(layout) != two:
                continue
            hits = reads(layout, left, following)
            count = sum(hits)
            if count < MIN_KNOWN:
                continue
            found.append(Other(layout, count))
            why.append(f"built-in layout {layout.name} on {count} timestamped line(s) no"
                       f" other reads: '{layout.pattern}'")
            left = [ln for ln, hit in zip(left, hits, strict=True) if not hit]

    known(two=True)  # inference sees only the dated lines, never the line under them
    need = max(MIN_RECORDS, MATERIAL * len(lines))
    while len(left) >= need and len(found) < MAX_OTHERS:
        got = infer_layout(left, name_prefix=name_prefix, _others=False)
        layout = got.layout
        if (layout is None or layout.fields == ("ts", "msg") or layout.timestamp is None
                or layout.timestamp.needs_base_date or two_line(layout)):
            break
        hits = header_hits(layout, left)
        count = sum(hits)
        if count < need:
            break
        found.append(Other(layout, count))
        why.append(f"another layout on {count} timestamped lines it does not read: "
                   f"'{got.pattern}'")
        left = [ln for ln, hit in zip(left, hits, strict=True) if not hit]
    known(two=False)  # the lines too few to infer from
    return tuple(found), why
