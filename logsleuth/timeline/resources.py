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

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from logsleuth.parsers.gc_gauges import HEAP, METASPACE, METASPACE_COMMITTED, OLD
from logsleuth.parsers.jstack_analysis import THREADS
from logsleuth.timeline.trend import LeakEstimate

AFTER_GC = (HEAP, OLD, METASPACE, METASPACE_COMMITTED)
# gauges that bound a resource without measuring what a leak adds (committed space grows in
# chunks ahead of the used space): listed after the gauge that does
SECONDARY = frozenset((METASPACE_COMMITTED,))
# gauges every GC log and thread dump yields: drawn on their own only when they leak (the
# GC and thread lanes already show them otherwise)
EVIDENCE_GAUGES = frozenset((*AFTER_GC, THREADS))


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


def refine_dump_times(metrics: pd.DataFrame, thread_states: pd.DataFrame | None,
                      ) -> pd.DataFrame:
    """Thread-count samples placed to ~0.1 s instead of jstack's whole second.

    A jstack header states the time truncated to the second, but every thread line
    states ``elapsed=`` to 10 ms. The longest-lived thread was started at JVM start
    ``S``, so a dump with header ``H`` and longest ``elapsed`` ``E`` says
    ``S`` is in ``[H - E, H + 1 s - E)``. Dumps of one JVM share ``S``: the intersection
    over them narrows it, and each dump is then at ``S + E``. When the intervals do not
    meet (dumps of several JVMs, or no ``elapsed``), the header times stay.
    """
    sel = (metrics["metric"].astype(str) == THREADS).to_numpy() if len(metrics) else None
    if sel is None or not sel.any() or thread_states is None or not len(thread_states) \
            or "elapsed_s" not in thread_states.columns:
        return metrics
    ts = thread_states.dropna(subset=["ts"])
    per = ts.groupby(["source", "dump_index"]).agg(
        header=("ts", "min"), elapsed=("elapsed_s", "max"), line=("line", "min"))
    if per["elapsed"].isna().any() or len(per) < 2:
        return metrics
    header = per["header"].astype("datetime64[ms, UTC]").astype("int64").to_numpy()
    elapsed = np.round(per["elapsed"].to_numpy(np.float64) * 1000).astype(np.int64)
    lo, hi = int((header - elapsed).max()), int((header + 1000 - elapsed).min())
    if lo >= hi:
        return metrics
    start = (lo + hi) // 2
    at = dict(zip(zip(per.index.get_level_values("source").astype(str),
                      per["line"].astype(np.int64), strict=True),
                  start + elapsed, strict=True))
    out = metrics.copy()
    rows = out.loc[sel]
    new = [at.get((str(src), int(line))) for src, line in zip(rows["source"], rows["line"],
                                                              strict=True)]
    if any(n is None for n in new):
        return metrics
    out.loc[sel, "ts"] = pd.to_datetime(np.array(new, np.int64), unit="ms", utc=True)
    return out


# names of an open-descriptor gauge (openFileDescriptors=, open_fds=, process.files.open)
DESCRIPTOR_GLOBS = ("*descriptor*", "*fd", "*fds", "*_fd_*", "*fds_*", "*open_files*",
                    "*files_open*")
# the failure rule that is a gauge's own exhaustion: its first record is when the gauge hit
# its ceiling, even where the gauge never prints the ceiling's value (a heap after GC stays
# below -Xmx by the young generation it must keep)
EXHAUSTED_BY = {
    "jvm-heap-oom": (HEAP, OLD),
    "jvm-metaspace-oom": (METASPACE, METASPACE_COMMITTED),
    "jvm-native-thread-oom": (THREADS,),
    "hikari-pool-exhausted": ("*active*",),
    "too-many-open-files": DESCRIPTOR_GLOBS,
}


def failed_at(findings: Sequence[Any], metrics: pd.DataFrame) -> dict[str, int]:
    """Per gauge, when its resource's own failure was first logged (epoch ms): the first
    record of the rule in ``EXHAUSTED_BY`` whose globs name it. The leak test reads it as
    the gauge reaching its ceiling, at whatever level it held then."""
    first: dict[str, int] = {}
    for f in findings:
        globs = EXHAUSTED_BY.get(getattr(f, "rule", ""))
        seen = getattr(f, "first_seen", None)
        if not globs or seen is None:
            continue
        ms = int(pd.Timestamp(seen).value // 1_000_000)
        for name in metrics["metric"].astype(str).unique():
            if any(fnmatch.fnmatchcase(name, g) for g in globs):
                first[name] = min(first.get(name, ms), ms)
    return first


def exhausted_at_onset(leaks: list[LeakEstimate], rule: str | None,
                       onset_ms: int) -> list[LeakEstimate]:
    """Leaks whose resource the onset's rule says ran out: reached at the onset (when not
    observed earlier), no longer a projection into a future that already failed."""
    globs = EXHAUSTED_BY.get(rule or "")
    if not globs:
        return leaks
    out = []
    for k in leaks:
        if k.ceiling_reached_ms is None and any(fnmatch.fnmatchcase(k.metric, g)
                                                 for g in globs):
            k = replace(k, ceiling_reached_ms=onset_ms, exhaustion_at_ms=onset_ms)
        out.append(k)
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
        "Metaspace used (class metadata after GC; -XX:MaxMetaspaceSize bounds the committed "
        "space, which runs ahead of used, so the JVM fails before used reaches the flag)",
        "look for a class-loader leak: jcmd <pid> VM.classloader_stats (or "
        "GC.class_stats) twice and compare loaders; a heap dump's duplicate classes "
        "and the GC roots of their loaders (MAT: Class Loader Explorer) name who pins "
        "them; per-request proxies, scripting engines and redeploys are usual suspects"),
    METASPACE_COMMITTED: ResourceAdvice(
        "Metaspace committed (what -XX:MaxMetaspaceSize bounds; grows in chunks ahead of "
        "the used metaspace a class-loader leak adds)",
        "read the used metaspace beside it (jvm_metaspace_after_gc) for the growth per event, "
        "then look for a class-loader leak: jcmd <pid> VM.classloader_stats twice and "
        "compare loaders; MAT's Class Loader Explorer names who pins them"),
    THREADS: ResourceAdvice(
        "live threads",
        "take two thread dumps minutes apart and group the threads by name prefix: the "
        "prefix that grows names the pool or code that starts threads and never ends "
        "them; check its executors are shut down and bounded"),
}
_DESCRIPTORS = ResourceAdvice(
    "open file descriptors",
    "list the process' descriptors twice, minutes apart (lsof -p <pid>, or ls -l "
    "/proc/<pid>/fd) and diff them: the kind that grows (one file or directory, sockets to "
    "one peer, pipes) names the code that opens them without closing; check "
    "try-with-resources on its streams, channels and connections")
_POOL = ResourceAdvice(
    "connection pool",
    "turn on the pool's leak detection (HikariCP leakDetectionThreshold) to log the stack "
    "of the code holding a connection; thread dumps show who waits for one")
_DIRECT = ResourceAdvice(
    "direct (off-heap) memory",
    "find who allocates without releasing: netty's -Dio.netty.leakDetection.level=paranoid "
    "names the buffer's last touches; a heap dump shows DirectByteBuffer owners")


# what a counted gauge counts, as a Java engineer says it (first match of its name's words)
_COUNTED = (("thread", "threads"), ("descriptor", "descriptors"), ("fd", "descriptors"),
            ("fds", "descriptors"), ("open_files", "open files"), ("files_open", "open files"),
            ("class", "classes"), ("classes", "classes"), ("connection", "connections"),
            ("connections", "connections"), ("buffer", "buffers"), ("buffers", "buffers"),
            ("pool", "connections"), ("hikari", "connections"),
            ("active", "connections"), ("session", "sessions"), ("sessions", "sessions"),
            ("socket", "sockets"), ("sockets", "sockets"), ("handle", "handles"))


def spoken_unit(metric: str, unit: str) -> str:
    """The unit to print beside a value: a ``count`` gauge names what it counts (threads,
    descriptors, connections, classes) from the gauge's name; other units stay."""
    if unit != "count":
        return unit
    m = metric.lower()
    words = set(m.replace(".", "_").replace("-", "_").split("_"))
    for key, noun in _COUNTED:
        if key in words or ("_" in key and key in m) or (len(key) > 4 and key in m):
            return noun
    return unit


def advice(metric: str) -> ResourceAdvice | None:
    """The resource a gauge measures and the next step to find its leak, when known."""
    if metric in _ADVICE:
        return _ADVICE[metric]
    m = metric.lower()
    if {"fd", "fds"} & set(m.split("_")) or "descriptor" in m or "open_files" in m:
        return _DESCRIPTORS
    if "direct" in m or "buffer" in m:  # a buffer pool is memory, not connections
        return _DIRECT
    if any(w in m for w in ("pool", "active", "connection", "hikari")):
        return _POOL
    return None
