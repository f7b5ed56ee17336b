"""Per-file layout auto-detection from a sample of lines.

Every candidate is scored over the whole sample at once (Arrow regex kernels,
or one JSON parse): the share of header-looking lines whose header regex and
fields regex both match. Ties go to the layout extracting more fields, then to
the one with the longer (more specific) header regex.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from logsleuth.layouts.compile import CompiledLayout
from logsleuth.layouts.jsoninfer import json_candidates, json_matches
from logsleuth.layouts.jsonlayout import JsonLayout
from logsleuth.layouts.library import Layout, load_builtin_layouts

# Lines that cannot start a record: indented frames, causes, "... 12 more",
# bare throwable lines ("java.lang.NullPointerException: x") and blank lines.
_CONTINUATION = (
    r"^(?:\s|$|Caused by:|Suppressed:|\.\.\. \d+ (?:more|common frames omitted)"
    r"|Recent access records:|Created at:|#\d+:\s*$"  # netty LEAK report sections
    r"|[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+(?:Exception|Error|Throwable)\b)"
)
MIN_FRACTION = 0.5


@dataclass(frozen=True, slots=True)
class Detection:
    """Chosen layout (None when nothing fits), its match share, and the runner-up."""

    layout: Layout | None
    fraction: float  # matched / header-looking lines, for ``layout``
    runner_up: Layout | None = None
    runner_up_fraction: float = 0.0
    header_lines: int = 0  # how many sample lines looked like record headers


def _matches(layout: Layout, lines: pa.Array) -> tuple[int, int]:
    """(lines matched, fields extracted on matched lines) for one candidate."""
    head = pc.match_substring_regex(lines, layout.header_regex)
    full = pc.is_valid(pc.extract_regex(lines, layout.fields_regex))
    hit = pc.and_(head, full)
    count = pc.sum(pc.cast(hit, pa.int64())).as_py() or 0
    return count, count * len(layout.fields)


def _date_literals(pattern: str) -> list[tuple[int, str]] | None:
    """(offset, char) of the literal characters of a fixed-width date pattern."""
    out: list[tuple[int, str]] = []
    pos = i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "'":
            end = pattern.find("'", i + 1)
            if end < 0:
                return None
            for lit in pattern[i + 1 : end]:
                out.append((pos, lit))
                pos += 1
            i = end + 1
            continue
        if ch.isalpha():
            j = i
            while j < len(pattern) and pattern[j] == ch:
                j += 1
            if ch not in "yMdHhmsSk" or (ch == "M" and j - i > 2) or (ch == "y" and j - i == 3):
                return None  # month names, zones, am/pm: not fixed width
            pos += j - i
            i = j
            continue
        out.append((pos, ch))
        pos += 1
        i += 1
    return out


def _exactness(layout: Layout, lines: pa.Array) -> int:
    """Matched lines whose timestamp has the layout's own separators (``.`` vs ``,``).

    Lenient date regexes let log4j 1.x ISO8601 (``,SSS``) and log4j2 (``.SSS``)
    layouts match the same lines; the literal characters tell them apart.
    """
    if not isinstance(layout, CompiledLayout) or layout.timestamp is None:
        return 0
    lits = _date_literals(layout.timestamp.pattern)
    if not lits:
        return 0
    ts = pc.extract_regex(lines, layout.fields_regex).field("ts").drop_null()
    score = 0
    for value in ts.to_pylist()[:200]:
        score += all(at < len(value) and value[at] == ch for at, ch in lits)
    return score


def _specificity(layout: Layout) -> int:
    return len(layout.header_regex) if isinstance(layout, CompiledLayout) else 0


def header_looking(lines: pa.Array) -> pa.Array:
    """The lines that could start a record (no trace frames, causes or blank lines)."""
    arr = pc.utf8_rtrim(pc.cast(lines, pa.string()), "\r\n")
    return arr.filter(pc.invert(pc.fill_null(pc.match_substring_regex(arr, _CONTINUATION),
                                             True)))


def detect_layout(sample_lines: Sequence[str] | pa.Array,
                  candidates: Sequence[Layout] | None = None) -> Detection:
    """Pick the layout that explains most header-looking lines of ``sample_lines``.

    ``candidates`` defaults to the built-in library (loaded per call: pass a
    list to reuse it across files). A layout must match at least half the
    header-looking lines to be chosen; text of stack traces only gives None.
    """
    layouts = list(candidates) if candidates is not None else load_builtin_layouts()
    arr = sample_lines if isinstance(sample_lines, pa.Array) else pa.array(
        list(sample_lines), pa.string())
    arr = pc.utf8_rtrim(pc.cast(arr, pa.string()), "\r\n")
    headerish = pc.invert(pc.fill_null(pc.match_substring_regex(arr, _CONTINUATION), True))
    lines = arr.filter(headerish)
    total = len(lines)
    if total == 0:
        return Detection(None, 0.0)
    layouts += json_candidates(arr)  # JSON objects: a layout inferred from them too
    scored = []
    for i, layout in enumerate(layouts):
        count, filled = (json_matches(layout, arr, headerish) if isinstance(layout, JsonLayout)
                         else _matches(layout, lines))
        if count:
            scored.append((count, filled, _exactness(layout, lines), _specificity(layout), -i,
                           layout))
    scored.sort(key=lambda s: s[:5], reverse=True)
    best = scored[0] if scored else None
    second = scored[1] if len(scored) > 1 else None
    if best is None or best[0] / total < MIN_FRACTION:
        return Detection(None, best[0] / total if best else 0.0,
                         best[-1] if best else None, best[0] / total if best else 0.0, total)
    return Detection(best[-1], best[0] / total, second[-1] if second else None,
                     second[0] / total if second else 0.0, total)
