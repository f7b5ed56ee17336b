"""Plan units for the inputs, run them (inline or in a local process pool), reduce.

The planner does the cheap per-input work in the main process (sniff kind,
choose a layout, cut large plain files at record boundaries); workers do the
parsing. Partials are merged per input in part order.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import re2

from logsleuth.engine.units import Partial, UnitOptions, WorkUnit, run_unit
from logsleuth.model import Kind

SPLIT_MIN_BYTES = 96 * 2**20  # below this a plain file is one unit
PARALLEL_MIN_BYTES = 48 * 2**20  # below this the whole scan runs inline
HEAD_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class PlannedInput:
    source: object
    kind: Kind
    layout: object | None
    head: bytes


def split_ranges(path: str, size: int, header_regex: str,
                 parts: int) -> list[tuple[int, int | None]]:
    """Byte ranges that start on record headers, so no record is split between workers."""
    if parts <= 1 or size < SPLIT_MIN_BYTES:
        return [(0, None)]
    rx = re2.compile(("(?m)" + header_regex).encode())
    cuts = [0]
    with open(path, "rb") as f:
        for k in range(1, parts):
            target = size * k // parts
            f.seek(target)
            window = f.read(4 * 2**20)
            nl = window.find(b"\n")
            if nl < 0:
                continue
            m = rx.search(window, nl + 1)
            if m is None:
                continue
            at = target + m.start()
            if at > cuts[-1]:
                cuts.append(at)
    return [(s, e) for s, e in zip(cuts, [*cuts[1:], None], strict=True)]


def make_units(planned: Sequence[PlannedInput], workers: int) -> list[WorkUnit]:
    units: list[WorkUnit] = []
    for p in planned:
        src = p.source
        if (p.kind == Kind.APP_LOG and hasattr(p.layout, "header_regex")
                and getattr(src, "splittable", False) and workers > 1):
            ranges = split_ranges(src.fs_path, src.size, p.layout.header_regex, workers * 4)
        else:
            ranges = [(0, None)]
        for i, (s, e) in enumerate(ranges):
            units.append(WorkUnit(src, p.kind, p.layout, s, e, i))
    return units


def execute(units: Sequence[WorkUnit], options: UnitOptions, workers: int,
            progress: Callable[[WorkUnit], None] | None = None) -> list[Partial]:
    """Run units; larger scans use a process pool of ``workers`` processes."""
    total = sum(getattr(u.source, "size", 0) or 0 for u in units)
    results: list[Partial] = []
    if workers <= 1 or len(units) <= 1 or total < PARALLEL_MIN_BYTES:
        for u in units:
            results.append(run_unit(u, options))
            if progress:
                progress(u)
        return results
    # fork: workers start in milliseconds with the engine imported, and scripts or
    # notebooks calling scan() need no __main__ guard (spawn/forkserver re-run
    # __main__). Arrow and jemalloc re-initialise their thread pools after fork.
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    ctx = multiprocessing.get_context(method)
    # largest first keeps both cores busy to the end
    order = sorted(range(len(units)), key=lambda i: -(units[i].source.size or 0) / (
        1 + sum(1 for v in units if v.source is units[i].source)))
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        futures = {i: pool.submit(run_unit, units[i], options) for i in order}
        for i in range(len(units)):
            results.append(futures[i].result())
            if progress:
                progress(units[i])
    return results


def reduce_partials(partials: Sequence[Partial]) -> list[Partial]:
    """Merge the parts of each input (in part order), fixing line numbers on the way."""
    merged: dict[str, Partial] = {}
    order: list[str] = []
    for p in sorted(partials, key=lambda p: p.part):
        head = merged.get(p.path)
        if head is None:
            merged[p.path] = p
            order.append(p.path)
            continue
        p.shift_lines(head.stats.lines)
        head.stats.merge(p.stats)
        head.collectors.merge(p.collectors)
        for name, tables in p.tables.items():
            head.tables.setdefault(name, []).extend(tables)
    # keep the input order the planner gave
    first_seen = {p.path: i for i, p in enumerate(partials) if p.part == 0}
    return sorted((merged[k] for k in order), key=lambda p: first_seen.get(p.path, 0))


def default_workers() -> int:
    return max(1, min(len(os.sched_getaffinity(0)), 8))
