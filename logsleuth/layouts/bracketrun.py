"""Runs of ``[groups]`` whose outer groups some lines lack (Spring Boot 3.2).

Inference agrees on one token slot at a time; a run whose length varies from line to
line breaks that. Here the run is read around its one group of constant width, and the
groups before and after it become optional fields.
"""

from __future__ import annotations

from collections import Counter

from logsleuth.layouts.infer import AGREE, MIN_RECORDS, Tok, _norm, _Slot


def bracket_run(alive: list[list[Tok]], k: int
                 ) -> tuple[list[_Slot], list[list[Tok]]] | None:
    """A run of ``[groups]`` from slot ``k`` whose length varies from line to line around
    one group of the same width on every line: Spring Boot 3.2's ``[app] [%15.15t]
    [correlation]``, where the application name and the correlation id are written only
    when set. The group before the fixed one and the group after it (at most one each)
    become optional fields; a run with nothing optional before the fixed group is left
    to the slot-by-slot agreement (a trailing optional group is read there)."""
    runs = []
    for t in alive:
        n = 0
        while k + n < len(t) and t[k + n].kind == "bracket":
            n += 1
        runs.append(n)
    lines = [(t, n) for t, n in zip(alive, runs, strict=True) if n]
    if k == 0 or len(lines) < max(MIN_RECORDS, AGREE * len(alive)) or len(
            {n for _, n in lines}) < 2 or len({_norm(t[k].sep) for t, _ in lines}) > 1:
        return None
    anchors = _fixed_width_group(lines, k)
    if anchors is None:
        return None
    after = [n - a - 1 for (_, n), a in zip(lines, anchors, strict=True)]
    if max(anchors) != 1 or max(after) > 1:
        return None
    gaps = Counter(t[k + 1].sep for (t, _), a in zip(lines, anchors, strict=True) if a == 1)
    gap = gaps.most_common(1)[0][0]
    tail_seps = Counter(t[k + a + 1].sep for (t, n), a in zip(lines, anchors, strict=True)
                        if a + 1 < n)
    tail = tail_seps.most_common(1)[0][0] if tail_seps else " "
    out: list[list[Tok]] = []
    for (t, n), a in zip(lines, anchors, strict=True):
        lead = t[k] if a == 1 else Tok("bracket", "", t[k].sep)
        fixed = t[k + a]
        row = [*t[:k], lead, Tok(fixed.kind, fixed.text, "", fixed.stamp)]
        if max(after):
            row.append(t[k + a + 1] if a + 1 < n else Tok("bracket", "", tail))
        out.append([*row, *t[k + n:]])
    share = len(lines) / len(alive)
    added = [_Slot("bracket", _norm(lines[0][0][k].sep), [r[k] for r in out],
                   role=f"field{k + 1}", share=share, optional=True, lead=gap),
             _Slot("bracket", "", [r[k + 1] for r in out], share=share)]
    if max(after):
        added.append(_Slot("bracket", _norm(tail), [r[k + 2] for r in out],
                           role=f"field{k + 3}", share=share, optional=True))
    return added, out


def _fixed_width_group(lines: list[tuple[list[Tok], int]], k: int) -> list[int] | None:
    """Per line, where in its run of groups the one group of a width common to all lines
    is (a padded and truncated ``[%15.15t]``); None when no width is on every line once."""
    widths = Counter(w for t, n in lines for w in {len(x.text) for x in t[k:k + n]})
    for width, count in widths.most_common():
        if count < len(lines):
            return None
        at = [[i for i in range(n) if len(t[k + i].text) == width] for t, n in lines]
        if all(len(a) == 1 for a in at):
            return [a[0] for a in at]
    return None
