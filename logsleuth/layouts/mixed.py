"""Further layouts of one file (a console capture: a build tool's lines, a framework's
banner, another logger's records), inferred from the timestamped sample lines the
dominant layout does not read. Each becomes an ordinary compiled layout beside the
dominant one (``compile.with_others``); the parser starts a record at any line one of
them reads (``engine.mixed``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from logsleuth.layouts.compile import LINE_BREAK, CompiledLayout
from logsleuth.layouts.infer import MIN_RECORDS, _stamped, header_hits, infer_layout

MAX_OTHERS = 3  # further layouts looked for among the lines the dominant one does not read
MATERIAL = 0.01  # of header-looking lines another layout must read (and MIN_RECORDS lines)


@dataclass(frozen=True, slots=True)
class Other:
    """A further layout of the same file and the header-looking sample lines it reads."""

    layout: CompiledLayout
    lines: int


def other_layouts(read: Sequence[bool], lines: Sequence[str], *,
                  name_prefix: str = "inferred: ") -> tuple[tuple[Other, ...], list[str]]:
    """Layouts inferred, one after the other, from the timestamped ``lines`` not ``read``
    by the dominant layout (a console capture: a build tool's lines, a framework's banner,
    another logger's records). Each must read at least ``MIN_RECORDS`` lines and a
    ``MATERIAL`` share of ``lines``, and print more than a date and free text (any text
    with dates is that); a date without a day, or a record over two lines, needs state
    the dominant layout's records do not give it. Returns them with the evidence."""
    left = [ln for ln, hit in zip(lines, read, strict=True) if not hit and _stamped(ln)]
    need = max(MIN_RECORDS, MATERIAL * len(lines))
    found: list[Other] = []
    why: list[str] = []
    while len(left) >= need and len(found) < MAX_OTHERS:
        got = infer_layout(left, name_prefix=name_prefix, _others=False)
        layout = got.layout
        if (layout is None or layout.fields == ("ts", "msg") or layout.timestamp is None
                or layout.timestamp.needs_base_date or LINE_BREAK in layout.fields_regex):
            break
        hits = header_hits(layout, left)
        count = sum(hits)
        if count < need:
            break
        found.append(Other(layout, count))
        why.append(f"another layout on {count} timestamped lines it does not read: "
                   f"'{got.pattern}'")
        left = [ln for ln, hit in zip(left, hits, strict=True) if not hit]
    return tuple(found), why
