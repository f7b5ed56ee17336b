"""What a leaking gauge is, as a Java engineer names it, and the floor the leak test reads.

Gauges read after a garbage collection (heap, old generation, metaspace) are a
sawtooth: young collections leave behind garbage that only the next old or full
collection frees, so the value after one GC is the live set *plus* whatever is not
collected yet. The live set is the floor: the lowest the gauge gets from then on.
``post_gc_floor`` replaces each after-GC sample by the minimum of it and every later
sample of the same log (one JVM per GC log), so

- a leak (live set growing) keeps a rising floor;
- a heap that is simply too small (a full heap that collections keep freeing, a high
  allocation rate) has a flat floor, however busy its sawtooth, and is no leak.

``advice`` gives the next step per resource: the paragraph and the advice read it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from logsleuth.parsers.gc_gauges import HEAP, METASPACE, OLD
from logsleuth.parsers.jstack_analysis import THREADS

AFTER_GC = (HEAP, OLD, METASPACE)


def post_gc_floor(metrics: pd.DataFrame) -> pd.DataFrame:
    """``metrics`` with every after-GC gauge replaced by its floor (see the module doc)."""
    if not len(metrics):
        return metrics
    names = metrics["metric"].astype(str)
    sel = names.isin(AFTER_GC).to_numpy()
    if "origin" in metrics.columns:
        sel = sel & (metrics["origin"].astype(str) == "gauge").to_numpy()
    if not sel.any():
        return metrics
    out = metrics.copy()
    part = out.loc[sel, ["source", "metric", "ts", "line", "value"]]
    part = part.sort_values(["source", "metric", "ts", "line"], kind="stable")
    values = part["value"].to_numpy(np.float64).copy()
    keys = (part["source"].astype(str) + "\0" + part["metric"].astype(str)).to_numpy()
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    for a, b in zip(starts, [*starts[1:], len(keys)], strict=True):
        values[a:b] = np.minimum.accumulate(values[a:b][::-1])[::-1]
    out.loc[part.index, "value"] = values
    return out


@dataclass(frozen=True, slots=True)
class ResourceAdvice:
    resource: str  # what runs out, as an engineer names it
    next_step: str


_ADVICE = {
    HEAP: ResourceAdvice(
        "Java heap (live set after GC)",
        "take a heap dump (jcmd <pid> GC.heap_dump, or -XX:+HeapDumpOnOutOfMemoryError) and "
        "open MAT's dominator tree: the leaking collection holds the growth; compare two "
        "dumps taken minutes apart to see which one grows"),
    OLD: ResourceAdvice(
        "Java heap, old generation (after GC)",
        "take a heap dump and open MAT's dominator tree; objects surviving into the old "
        "generation per event are what is kept, compare two dumps minutes apart"),
    METASPACE: ResourceAdvice(
        "Metaspace (class metadata)",
        "look for a class-loader leak: jcmd <pid> VM.classloader_stats (or "
        "GC.class_stats) twice and compare loaders; a heap dump's duplicate classes "
        "and the GC roots of their loaders (MAT: Class Loader Explorer) name who pins "
        "them; per-request proxies, scripting engines and redeploys are usual suspects"),
    THREADS: ResourceAdvice(
        "live threads",
        "take two thread dumps minutes apart and group the threads by name prefix: the "
        "prefix that grows names the pool or code that starts threads and never ends "
        "them; check its executors are shut down and bounded"),
}
_DESCRIPTORS = ResourceAdvice(
    "open file descriptors",
    "list the process' descriptors twice (lsof -p <pid>, or ls -l /proc/<pid>/fd) and "
    "diff them: the kind that grows (sockets to one peer, one file) names the leak; "
    "check try-with-resources on streams and connections")
_POOL = ResourceAdvice(
    "connection pool",
    "turn on the pool's leak detection (HikariCP leakDetectionThreshold) to log the stack "
    "of the code holding a connection; thread dumps show who waits for one")
_DIRECT = ResourceAdvice(
    "direct (off-heap) memory",
    "find who allocates without releasing: netty's -Dio.netty.leakDetection.level=paranoid "
    "names the buffer's last touches; a heap dump shows DirectByteBuffer owners")


def advice(metric: str) -> ResourceAdvice | None:
    """The resource a gauge measures and the next step to find its leak, when known."""
    if metric in _ADVICE:
        return _ADVICE[metric]
    m = metric.lower()
    if {"fd", "fds"} & set(m.split("_")) or "descriptor" in m or "open_files" in m:
        return _DESCRIPTORS
    if any(w in m for w in ("pool", "active", "connection", "hikari")):
        return _POOL
    if "direct" in m:
        return _DIRECT
    return None
