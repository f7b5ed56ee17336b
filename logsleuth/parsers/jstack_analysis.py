"""What thread dumps say once parsed: blocked threads, lock contention, stuck threads.

Functions over the ``thread_states`` and ``locks`` tables of
``logsleuth.parsers.jstack.parse_thread_dumps``.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import pyarrow as pa


def blocked_per_dump(thread_states: pa.Table) -> pd.DataFrame:
    """Thread counts per state for each dump (columns: one per state, plus ``threads``)."""
    df = thread_states.select(["source", "dump_index", "ts", "state"]).to_pandas()
    df["state"] = df["state"].fillna("NONE")
    out = df.groupby(["source", "dump_index", "ts", "state"], dropna=False).size().unstack(
        fill_value=0)
    out.columns.name = None
    out["threads"] = out.sum(axis=1)
    for s in ("BLOCKED", "WAITING", "TIMED_WAITING", "RUNNABLE"):
        if s not in out.columns:
            out[s] = 0
    return out.reset_index()


def lock_graph(locks: pa.Table) -> pd.DataFrame:
    """Waits-for edges ``waiter -> lock -> owner``, one row per waiter per dump."""
    df = locks.to_pandas().explode("waiters").dropna(subset=["waiters"])
    df = df.rename(columns={"waiters": "waiter"})
    return df[["source", "dump_index", "ts", "waiter", "lock", "lock_class", "owner",
               "owner_top_frame"]].reset_index(drop=True)


@dataclass(frozen=True, slots=True)
class ContendedLock:
    lock: str
    lock_class: str
    owner: str | None
    owner_top_frame: str | None
    max_waiters: int  # in the worst dump
    dumps: int  # dumps in which it had waiters


def most_contended_lock(locks: pa.Table) -> ContendedLock | None:
    """The lock with the most waiters in any one dump (ties: seen in more dumps)."""
    df = locks.to_pandas()
    df = df[df["n_waiters"] > 0]
    if df.empty:
        return None
    g = df.groupby("lock")["n_waiters"].agg(["max", "count"]).sort_values(
        ["max", "count"], ascending=False)
    lock = str(g.index[0])
    worst = df[df["lock"] == lock].sort_values("n_waiters", ascending=False).iloc[0]
    return ContendedLock(lock, str(worst["lock_class"]), worst["owner"], worst["owner_top_frame"],
                         int(g.iloc[0]["max"]), int(g.iloc[0]["count"]))


def stuck_threads(thread_states: pa.Table, *, min_dumps: int = 2,
                  states: tuple[str, ...] | None = ("BLOCKED", "RUNNABLE")) -> pd.DataFrame:
    """Threads in the same state at the same top frame across consecutive dumps.

    Threads are matched across dumps of one source by name and ``nid``. Idle
    states (pool workers parked in ``take()``) are excluded by default.
    """
    cols = ["source", "dump_index", "ts", "thread", "nid", "state", "top_frame"]
    df = thread_states.select(cols).to_pandas().dropna(subset=["state", "top_frame"])
    if states is not None:
        df = df[df["state"].isin(states)]
    df = df.sort_values(["source", "thread", "nid", "dump_index"])
    key = ["source", "thread", "nid"]
    prev = df.groupby(key)[["state", "top_frame", "dump_index"]].shift()
    same = ((df["state"] == prev["state"]) & (df["top_frame"] == prev["top_frame"])
            & (df["dump_index"] - prev["dump_index"] == 1))
    df["run"] = (~same).cumsum()
    agg = df.groupby("run").agg(
        source=("source", "first"), thread=("thread", "first"), nid=("nid", "first"),
        state=("state", "first"), top_frame=("top_frame", "first"),
        first_dump=("dump_index", "min"), last_dump=("dump_index", "max"),
        first_ts=("ts", "min"), last_ts=("ts", "max"), dumps=("dump_index", "count"))
    return agg[agg["dumps"] >= min_dumps].reset_index(drop=True)


THREADS = "jvm_threads_live"


def thread_name_groups(thread_states: pd.DataFrame, top: int = 3) -> list[dict[str, object]]:
    """The thread-name groups (every digit run masked: ``pool-<N>-thread-<N>``) that grow
    from the first dump to the last, most first: what an engineer does by hand to name the
    pool or code that starts threads and never ends them. Dumps without a time are not
    ordered and count for nothing."""
    df = thread_states[["source", "dump_index", "ts", "thread"]].dropna(subset=["ts"])
    if not len(df):
        return []
    group = df["thread"].astype(str).str.replace(r"\d+", "<N>", regex=True)
    dump = df["source"].astype(str) + "\0" + df["dump_index"].astype(str)
    order = (df.assign(dump=dump).groupby("dump", sort=False)["ts"].min()
             .sort_values(kind="stable"))
    counts = pd.crosstab(dump, group).reindex(order.index)
    growth = counts.iloc[-1] - counts.iloc[0]
    grown = growth[growth > 0].sort_index().sort_values(ascending=False, kind="stable")
    return [{"name": str(name), "first": int(counts.iloc[0][name]),
             "last": int(counts.iloc[-1][name]), "dumps": len(counts)}
            for name in grown.index[:top]]


def thread_gauges(thread_states: pa.Table, stated: dict[int, int] | None = None) -> pa.Table:
    """Live threads per dump as ``metrics`` rows (``jvm_threads_live``, unit count): the
    gauge a thread leak grows, at the dump's time and first line. Dumps without a time
    cannot be placed in a series and give none. A count the dump states itself
    (``stated``, by dump index: a JMX export's "Thread Count: 816" above the stacks it
    kept) is the JVM's, and wins over the stacks counted."""
    import pyarrow.compute as pc

    from logsleuth.parsers.metrics import METRICS_SCHEMA

    t = thread_states.select(["source", "dump_index", "ts", "line"])
    t = t.filter(pc.is_valid(t["ts"]))
    if t.num_rows == 0:
        return METRICS_SCHEMA.empty_table()
    g = t.group_by(["source", "dump_index"]).aggregate(
        [("ts", "min"), ("line", "min"), ("line", "count")]).sort_by("line_min")
    n = g.num_rows
    return pa.table({
        "source": g["source"].cast(pa.string()), "line": g["line_min"].cast(pa.int64()),
        "ts": g["ts_min"].cast(pa.timestamp("ms", tz="UTC")),
        "metric": pa.array([THREADS] * n, pa.string()),
        "value": pa.array([float((stated or {}).get(int(i), c)) for i, c in zip(
            g["dump_index"].to_pylist(), g["line_count"].to_pylist(), strict=True)],
            pa.float64()),
        "unit": pa.array(["count"] * n, pa.string()),
        "origin": pa.array(["gauge"] * n, pa.string()),
        "caps": pa.array([None] * n, pa.string())}, schema=METRICS_SCHEMA)
