"""Plan units for the inputs, run them (inline or in a local process pool), reduce.

The planner does the cheap per-input work in the main process (sniff kind,
choose a layout, cut large plain files at record boundaries); workers do the
parsing. Partials are merged per input in part order, as they arrive (``Fold``):
the parent never holds every unit's partial at once, and what merging bounds
(long gauge series, template counts) stays bounded.
"""

from __future__ import annotations

import gc
import multiprocessing
import threading
import traceback
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import re2

from logsleuth.engine.memory import release_free_heap
from logsleuth.engine.units import Partial, UnitOptions, WorkUnit, run_unit
from logsleuth.model import Kind
from logsleuth.sources.opening import open_disk

SPLIT_MIN_BYTES = 96 * 2**20  # below this a plain file is one unit
# a split file's units are at most this large: what a unit holds while it is read (its
# analysis counts at three widths, warning rows, metric rows) grows with its span, so a
# 4 GiB file cut in ``workers * 4`` units held 4x what a 1 GiB one does in each process
MAX_UNIT_BYTES = 128 * 2**20
PARALLEL_MIN_BYTES = 48 * 2**20  # below this the whole scan runs inline
HEAD_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class PlannedInput:
    source: object
    kind: Kind
    layout: object | None
    head: bytes  # the inner text's head when ``wrapper`` is set
    wrapper: object | None = None  # a parsers.wrappers.WrapperSpec around every line


def split_ranges(path: str, size: int, header_regex: str,
                 parts: int) -> list[tuple[int, int | None]]:
    """Byte ranges that start on record headers, so no record is split between workers."""
    if parts <= 1 or size < SPLIT_MIN_BYTES:
        return [(0, None)]
    rx = re2.compile(("(?m)" + header_regex).encode())
    cuts = [0]
    with open_disk(path, path) as f:  # a local file or an fsspec URL
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
    from logsleuth.engine.continued import continuations

    units: list[WorkUnit] = []
    cont = continuations(planned)
    tails = {prev: lead for prev, lead in cont.values()}
    for n, p in enumerate(planned):
        src = p.source
        # a time-only layout carries its day from record to record: one unit per input
        dated = not getattr(getattr(p.layout, "timestamp", None), "needs_base_date", False)
        if (p.kind == Kind.APP_LOG and hasattr(p.layout, "header_regex") and dated
                and getattr(p, "wrapper", None) is None and getattr(src, "splittable", False)
                and workers > 1):
            parts = max(workers * 4, -(-src.size // MAX_UNIT_BYTES))
            ranges = split_ranges(src.fs_path, src.size, p.layout.header_regex, parts)
        else:
            ranges = [(0, None)]
        lead, tail = cont.get(n), tails.get(n)
        for i, (s, e) in enumerate(ranges):
            units.append(WorkUnit(
                src, p.kind, p.layout, s, e, i, wrapper=getattr(p, "wrapper", None),
                skip=lead[1].data.__len__() if lead and i == 0 else 0,
                skip_lines=lead[1].lines if lead and i == 0 else 0,
                tail=tail.data if tail and e is None else b""))
    return units


def execute(units: Sequence[WorkUnit], options: UnitOptions,
            progress: Callable[[WorkUnit], None] | None = None) -> list[Partial]:
    """Run units inline, or on ``options.scan.worker_count`` processes of which this
    process is one."""
    workers = options.scan.worker_count
    total = sum(getattr(u.source, "size", 0) or 0 for u in units)
    if workers <= 1 or len(units) <= 1 or total < PARALLEL_MIN_BYTES:
        fold = Fold()
        for i, u in enumerate(units):
            fold.add(i, run_unit(u, options))
            if progress:
                progress(u)
        results = fold.merged()
    elif "fork" not in multiprocessing.get_all_start_methods():  # pragma: no cover - Windows
        results = _pool(units, options, workers, progress)
    else:
        results = _forked(units, options, workers, progress)
    if total >= PARALLEL_MIN_BYTES:  # the analysis runs next in this process: start it low
        release_free_heap()
    return results


def _claim_order(units: Sequence[WorkUnit]) -> list[int]:
    """Largest first keeps every process busy to the end."""
    return sorted(range(len(units)), key=lambda i: -(units[i].source.size or 0) / (
        1 + sum(1 for v in units if v.source is units[i].source)))


def _forked(units: Sequence[WorkUnit], options: UnitOptions, workers: int,
            progress: Callable[[WorkUnit], None] | None) -> list[Partial]:
    """This process parses too, beside ``workers - 1`` forked children.

    Units are claimed from a shared counter, so the work balances itself; children
    inherit the units by fork (nothing to pickle on the way in) and send partials
    back through a pipe. One process fewer than a pool: on two cores that is one
    Python heap fewer (measured: ~150 MB of PSS). fork also means no ``__main__``
    re-import, so scripts and notebooks need no guard; Arrow and jemalloc
    re-initialise their thread pools after fork.
    """
    ctx = multiprocessing.get_context("fork")
    order = _claim_order(units)
    counter = ctx.Value("i", 0)
    receive, send = ctx.Pipe(duplex=False)
    children = [ctx.Process(target=_child, args=(units, order, options, counter, send),
                            daemon=True) for _ in range(workers - 1)]
    gc.freeze()  # the collector would touch every inherited object: copy-on-write for all
    try:
        for child in children:
            child.start()
    finally:
        gc.unfreeze()
    send.close()
    received: deque[tuple[int, Partial | None, str | None]] = deque()
    # a thread drains the pipe while this process parses: a child blocked on a full
    # pipe would otherwise wait for this process to finish all its own units
    done_elsewhere = (lambda i: progress(units[i])) if progress else None
    reader = threading.Thread(target=_drain, args=(receive, received, done_elsewhere),
                              daemon=True)
    reader.start()
    fold = Fold()
    fold.trim = True
    failed: list[tuple[int, str]] = []

    def take_received() -> None:  # the children's partials, merged as they come
        while received:
            i, partial, error = received.popleft()
            if error is not None:
                failed.append((i, error))
            elif not failed:
                assert partial is not None
                fold.add(i, partial)

    try:
        for i in _claims(order, counter):
            fold.add(i, run_unit(units[i], options))
            take_received()
            if progress:
                progress(units[i])
    except BaseException:
        for child in children:  # this process failed: the children's work is moot
            child.terminate()
        raise
    finally:
        for child in children:
            child.join()
        reader.join()
    take_received()
    if failed:
        i, error = failed[0]
        raise RuntimeError(f"scan worker failed on {units[i].source.path}:\n{error}")
    if fold.count < len(units):
        raise RuntimeError("a scan worker died without reporting its results")
    return fold.merged()


def _drain(receive: Any, into: deque[tuple[int, Partial | None, str | None]],
           progress: Callable[[int], None] | None) -> None:
    while True:
        try:
            item = receive.recv()
        except (EOFError, OSError):  # every child closed its end (or was terminated)
            return
        into.append(item)
        if progress and item[2] is None:
            progress(item[0])


def _claims(order: list[int], counter: Any) -> Iterator[int]:
    while True:
        with counter.get_lock():
            k = counter.value
            counter.value = k + 1
        if k >= len(order):
            return
        yield order[k]


def _child(units: Sequence[WorkUnit], order: list[int], options: UnitOptions, counter: Any,
           send: Any) -> None:
    for i in _claims(order, counter):
        try:
            send.send((i, run_unit(units[i], options), None))
        except Exception:  # a bug: hand the traceback to the parent, which raises it
            send.send((i, None, traceback.format_exc()))
            return
        release_free_heap()  # the unit's pages, freed once its partial is sent
    send.close()


def _pool(units: Sequence[WorkUnit], options: UnitOptions, workers: int,
          progress: Callable[[WorkUnit], None] | None) -> list[Partial]:
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        futures = {i: pool.submit(run_unit, units[i], options) for i in _claim_order(units)}
        results = []
        for i in range(len(units)):
            results.append(futures[i].result())
            if progress:
                progress(units[i])
    return results


class Fold:
    """Partials merged in unit order as they arrive from any process: a partial waits
    only for the units before it. Units are planned input by input, parts in order,
    so this is ``reduce_partials``'s order, and ``merged`` its result, made while the
    units run: the parent holds the merged state and at most the few partials that
    came early, not every unit's (10 GiB bench: eight partials of ~1.3 GiB each)."""

    def __init__(self) -> None:
        self.waiting: dict[int, Partial] = {}
        self.next = 0
        self.count = 0
        self.heads: dict[str, Partial] = {}
        self.trim = False  # hand the merge's freed heap back (large scans: ``execute``)

    def add(self, index: int, partial: Partial) -> None:
        self.waiting[index] = partial
        self.count += 1
        merged = False
        while self.next in self.waiting:
            p = self.waiting.pop(self.next)
            self.next += 1
            head = self.heads.get(p.path)
            if head is None:
                self.heads[p.path] = p
            else:
                _fold_into(head, p)
                merged = True
        if merged and self.trim:
            # merging frees big temporaries (template counts re-bucketed, metric parts
            # joined): glibc keeps their pages, and the parent's RSS would only grow
            release_free_heap()

    def merged(self) -> list[Partial]:
        """One partial per input, in unit order (every unit must have been added)."""
        assert not self.waiting, "a unit before these never arrived"
        return list(self.heads.values())


def _fold_into(head: Partial, p: Partial) -> None:
    """``p``, the next part of ``head``'s input, merged into it (line numbers made
    absolute)."""
    p.shift_lines(head.stats.lines)
    head.stats.merge(p.stats)
    head.collectors.merge(p.collectors)
    head.record_files.extend(p.record_files)
    for name, tables in p.tables.items():
        head.tables.setdefault(name, []).extend(tables)


def reduce_partials(partials: Sequence[Partial]) -> list[Partial]:
    """Merge the parts of each input (in part order), fixing line numbers on the way;
    partials ``Fold`` merged already pass through."""
    merged: dict[str, Partial] = {}
    order: list[str] = []
    for p in sorted(partials, key=lambda p: p.part):
        head = merged.get(p.path)
        if head is None:
            merged[p.path] = p
            order.append(p.path)
            continue
        _fold_into(head, p)
    # keep the input order the planner gave
    first_seen = {p.path: i for i, p in enumerate(partials) if p.part == 0}
    return sorted((merged[k] for k in order), key=lambda p: first_seen.get(p.path, 0))
