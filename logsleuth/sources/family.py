"""Rolled log files: which belong together, and in which order they were written.

``push-server.log``, ``push-server.log.1``, ``push-server-2026-11-26-7.log.gz``
and ``push-server.2026-11-25.log`` are one family, ``push-server``: the name
left once compression suffixes and a trailing run of rotation tokens (dates,
indexes, ``log``/``txt``/``out``, ``current``) are taken off.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from logsleuth.sources.values import Source

_COMPRESSED = re.compile(r"(?:\.(?:gz|gzip|bz2|xz|zst|zstd|z))+$", re.IGNORECASE)
_DATE = r"\d{4}-?\d{2}-?\d{2}(?:[T_-]?\d{2}(?:[-:.]?\d{2}){0,2})?"
_TOKEN = rf"(?:{_DATE}|\d+|log|txt|out|current)"
_NAME = re.compile(rf"^(?P<stem>.+?)(?P<rest>(?:[._-]{_TOKEN})*)$", re.IGNORECASE)
_DIGITS = re.compile(r"(\d+)")


def _split(name: str) -> tuple[str, str]:
    base = _COMPRESSED.sub("", name.rsplit("/", 1)[-1].rsplit("!", 1)[-1]) or name
    m = _NAME.match(base)
    if m is None:  # pragma: no cover - the pattern matches every non-empty name
        return base, ""
    return m["stem"], m["rest"]


def family_of(name: str) -> str:
    """The log family of a file or member name (its directory is not part of it)."""
    return _split(name)[0]


def _name_key(src: Source) -> tuple[object, ...]:
    """Name order: numeric-aware on the rotation part, the active file last."""
    rest = _split(src.path)[1]
    active = not re.search(r"\d", rest)
    natural = tuple(
        (0, int(part), "") if part.isdigit() else (1, 0, part.lower())
        for part in _DIGITS.split(rest)
        if part
    )
    return (active, natural, src.path)


def family_key(src: Source) -> tuple[str, str]:
    """(directory, family): the files one appender rolled."""
    directory = src.path.rsplit("/", 1)[0] if "/" in src.path else ""
    return directory, src.family or family_of(src.path)



def order_family(sources: Sequence[Source],
                 first_instant: Callable[[Source], int | None]) -> list[Source]:
    """Rolled files ordered by the time of their first record, else by name.

    Sources of several families (grouped by directory and family) come out
    family by family, in the order each family first appears. Within one, files
    sort by name (``.log.9`` before ``.log.10``, the active ``.log`` last); then
    the files whose ``first_instant`` (epoch ms) is known are re-sorted by it
    among the places they hold, so files without a time keep their name slot.
    """
    groups: dict[tuple[str, str], list[Source]] = {}
    for src in sources:
        groups.setdefault(family_key(src), []).append(src)
    ordered: list[Source] = []
    for members in groups.values():
        by_name = sorted(members, key=_name_key)
        instants = [first_instant(s) for s in by_name]
        slots = [i for i, t in enumerate(instants) if t is not None]
        timed = sorted(slots, key=lambda i: (instants[i], i))
        result = list(by_name)
        for slot, i in zip(slots, timed, strict=True):
            result[slot] = by_name[i]
        ordered.extend(result)
    return ordered
