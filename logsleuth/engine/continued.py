"""Records that a size-based rotation cut between two files of one family.

log4j2 and logback roll between events, but a runtime or tool that rotates by bytes
(the kubelet's ``containerLogMaxSize`` on a CRI ``0.log``, logrotate's
``copytruncate``) cuts wherever the size is reached, often inside a stack trace: the
next file then opens with the trace's remaining lines, before any record header.
Read file by file those lines are in no record (unparsed) and the record they belong
to loses them. Here the lines before the first header of a rolled file that has a
predecessor in its family are found from the file's head; the predecessor's unit
reads them after its own end (so the record is whole) and the file's own unit skips
them. Cheap: one look at each rolled file's head, done by the planner.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import re2

from logsleuth.errors import InputError
from logsleuth.model import Kind
from logsleuth.parsers.lines import line_offsets
from logsleuth.sources.family import family_key

LEAD_BYTES = 64 * 1024  # a continuation longer than this stays where it is (unparsed)


@dataclass(frozen=True, slots=True)
class Lead:
    """The outer bytes and lines a rolled file opens with before its first record."""

    data: bytes
    lines: int


def _same_reading(a: Any, b: Any) -> bool:
    """Both app logs read alike (layout and wrapper), so one record may span them."""
    return (a.kind == b.kind == Kind.APP_LOG and a.layout is not None
            and getattr(a.layout, "name", None) == getattr(b.layout, "name", None)
            and hasattr(a.layout, "header_regex")
            and _wrapper_name(a) == _wrapper_name(b))


def _wrapper_name(p: Any) -> str | None:
    w = getattr(p, "wrapper", None)
    return None if w is None else str(getattr(w, "name", w))


def lead_of(p: Any) -> Lead | None:
    """The lines before the first record header in ``p``'s head, as outer bytes."""
    with p.source.open() as f:
        raw_head = f.read(LEAD_BYTES)
    raw = np.frombuffer(raw_head, dtype=np.uint8)
    starts = line_offsets(raw, final=len(raw_head) < LEAD_BYTES)
    if len(starts) < 2:
        return None
    wrapper = getattr(p, "wrapper", None)
    if wrapper is not None:
        from logsleuth.parsers.wrappers import unwrap

        u = unwrap(wrapper, raw, starts)
        inner, outer_line = u.data, u.outer_line
    else:
        inner, outer_line = raw_head[: int(starts[-1])], np.arange(len(starts), dtype=np.int64)
    header = re2.compile(("(?m)" + p.layout.header_regex).encode())  # as split_ranges reads it
    m = header.search(inner)
    if m is None:  # no header in the head: not a continuation this can place
        return None
    n_inner = inner.count(b"\n", 0, m.start())
    if n_inner == 0:
        return None
    n_outer = int(outer_line[n_inner])
    return Lead(raw_head[: int(starts[n_outer])], n_outer)


def continuations(planned: Sequence[Any]) -> dict[int, tuple[int, Lead]]:
    """For each rolled file that opens mid-record: index -> (predecessor index, lead).

    ``planned`` is in family order (the planner's), so a file's predecessor is the
    previous input of its family.
    """
    last: dict[tuple[str, str], int] = {}
    out: dict[int, tuple[int, Lead]] = {}
    for i, p in enumerate(planned):
        if p.kind != Kind.APP_LOG or not hasattr(p.source, "family"):
            continue  # only files discovery found (and named) can have rolled siblings
        key = family_key(p.source)
        prev = last.get(key)
        last[key] = i
        if prev is None or not _same_reading(planned[prev], p):
            continue
        try:
            lead = lead_of(p)
        except (OSError, EOFError, zlib.error, InputError):
            continue  # an unreadable head: the file's own unit reports it
        if lead is not None:
            out[i] = (prev, lead)
    return out
