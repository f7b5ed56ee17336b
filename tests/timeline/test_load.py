"""Growth that a live count explains is load; growth per closed session is a leak."""

from __future__ import annotations

import numpy as np

from logsleuth.timeline.load import EventIndex, by_count_gauge, by_event_balance

RNG = np.random.default_rng(7)


def _sessions(n: int = 120) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A ramp: each second ~2.5 more sessions open than close, over a churn of 20/s."""
    t = np.arange(n, dtype=np.int64) * 1000
    opened = RNG.poisson(22.5, n)
    closed = RNG.poisson(20.0, n)
    live = np.maximum.accumulate(np.cumsum(opened - closed).clip(0))
    return t, live.astype(np.float64), opened, closed


def test_memory_that_follows_live_sessions_is_load() -> None:
    t, live, _, _ = _sessions()
    mem = 4096.0 * live + RNG.normal(0, 2000, len(t))
    got = by_count_gauge("direct", t, mem, {"sessions": (t, live)})
    assert got is not None and got.by == "sessions" and got.kind == "gauge"
    assert abs(got.per_unit - 4096) < 0.02 * 4096
    assert got.r2 >= got.r2_time or 1 - got.r2 <= 2 * (1 - got.r2_time)


def test_memory_that_grows_per_close_with_flat_sessions_is_not_load() -> None:
    t = np.arange(120, dtype=np.int64) * 1000
    closed = RNG.poisson(20.0, len(t))
    live = (6 + RNG.integers(-2, 3, len(t))).astype(np.float64)
    mem = 256.0 * np.cumsum(closed)
    assert by_count_gauge("direct", t, mem, {"sessions": (t, live)}) is None


def test_the_growth_per_session_must_hold_in_both_halves() -> None:
    t, live, _, _ = _sessions()
    per = np.where(np.arange(len(t)) < len(t) // 2, 1024.0, 8192.0)
    mem = np.cumsum(np.diff(live, prepend=live[0]) * per)
    assert by_count_gauge("direct", t, mem, {"sessions": (t, live)}) is None


def _events(t: np.ndarray, *per_tick: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    ts = np.concatenate([t] * len(per_tick))
    ids = np.concatenate([np.full(len(t), i) for i in range(len(per_tick))])
    return ts, ids, np.concatenate(per_tick).astype(np.float64)


def test_a_live_count_that_is_opened_minus_closed_is_load() -> None:
    t, _, opened, closed = _sessions()
    live = np.cumsum(opened) - np.cumsum(closed) + 5.0
    ts, ids, counts = _events(t, opened, closed)
    got = by_event_balance("sessions", t, live, EventIndex(ts, ids, counts),
                           ["opened", "closed"])
    assert got is not None and got.by == "opened - closed" and abs(got.per_unit - 1) < 0.01


def test_a_count_that_never_falls_on_a_close_is_not_a_balance() -> None:
    t, _, opened, closed = _sessions()
    leaked = np.cumsum(opened).astype(np.float64)  # closed sessions stay registered
    ts, ids, counts = _events(t, opened, closed)
    assert by_event_balance("sessions", t, leaked, EventIndex(ts, ids, counts),
                            ["opened", "closed"]) is None


def test_a_count_one_event_moves_alone_is_not_a_balance_with_a_rare_event() -> None:
    """A buffer count that rises per request is not 'requests minus heartbeats' just
    because a heartbeat every 10 s subtracts next to nothing."""
    t, _, opened, _ = _sessions()
    beats = (np.arange(len(t)) % 10 == 0).astype(np.int64)
    count = np.cumsum(opened).astype(np.float64)
    ts, ids, counts = _events(t, opened, beats)
    assert by_event_balance("buffers", t, count, EventIndex(ts, ids, counts),
                            ["request", "beat"]) is None
