"""Telling collinear events apart: nested tests, warm-up, co-occurrence (issue 15 item 4).

Expectations written before running: the F tail matches published critical values; a
rival decided by one window only is not decided; a warm-up with no events does not force
an intercept; an exception logged in the same ms as the disconnects decides connect vs
disconnect when timing cannot, and nothing else does.
"""

from __future__ import annotations

import numpy as np
import pytest

from logsleuth.timeline.attribution import Markers, attribute_increments
from logsleuth.timeline.separability import f_sf, separate


@pytest.mark.parametrize(("f", "d1", "d2", "p"), [
    (4.171, 1, 30, 0.05), (10.04, 1, 10, 0.01), (3.49, 2, 20, 0.05), (7.56, 1, 30, 0.01)])
def test_f_tail_matches_published_critical_values(f: float, d1: int, d2: int, p: float,
                                                   ) -> None:
    assert f_sf(f, d1, d2) == pytest.approx(p, abs=0.0006)
    assert f_sf(0.0, 1, 10) == 1.0 and f_sf(float("inf"), 1, 10) == 0.0


def test_the_event_whose_timing_matches_the_growth_wins() -> None:
    rng = np.random.default_rng(1)
    n = 200
    disc = rng.poisson(20, n).astype(float)
    conn = np.roll(disc, 1) + rng.poisson(2, n)  # sessions of about one interval
    y = 256.0 * disc + rng.normal(0, 100, n)
    sep = separate(y, disc, conn, "disconnected", "connected")
    assert sep is not None and sep.winner == "disconnected", sep
    assert sep.p_a < 0.01 and sep.p_b > 0.05


def test_one_window_is_not_evidence() -> None:
    """Identical counts but for the first window, where 4 extra connects come with growth
    (an allocator's first chunks): significant with it, nothing without it."""
    rng = np.random.default_rng(2)
    n = 30
    disc = rng.poisson(150, n).astype(float)
    conn = disc.copy()
    conn[0] += 40
    y = 1000.0 * disc + rng.normal(0, 300, n)
    y[0] += 40_000
    sep = separate(y, disc, conn, "disconnected", "connected")
    assert sep is not None and sep.p_b < 0.01
    assert sep.p_b_loo > 0.01 and sep.winner is None, sep


def _short_sessions(seed: int = 3, chunk: float = 8192.0,
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """150 sessions/s of 0-2 ms, 1 KiB lost per disconnect, the gauge rounded up to whole
    8 KiB chunks and sampled every second, plus 4 long sessions connected at the start."""
    rng = np.random.default_rng(seed)
    end = 40
    disc = np.sort(rng.uniform(1, end, 150 * end)) * 1000
    disc = np.round(disc)
    conn = disc - rng.integers(0, 3, len(disc))
    conn = np.r_[conn, [100.0, 120.0, 140.0, 160.0]]
    t = np.arange(0, end + 1) * 1000 + 500
    leaked = 1024.0 * np.searchsorted(disc, t, side="right")
    v = np.ceil(leaked / chunk) * chunk
    ets = np.r_[conn, disc, disc]  # the NPE logged in the same ms as each disconnect
    keys = np.array(["connected"] * len(conn) + ["disconnected"] * len(disc)
                    + ["npe-message"] * len(disc), dtype=object)
    return t, v, ets, keys, disc


def test_without_an_exception_short_sessions_are_ambiguous_with_both_amounts() -> None:
    t, v, ets, keys, _ = _short_sessions()
    per = attribute_increments(t, v, ets, keys)
    assert per is not None and per.decided == "ambiguous", per
    named = {per.template: per.amount, **dict(zip(per.alternatives, per.alternative_amounts,
                                                 strict=True))}
    assert {"connected", "disconnected"} <= set(named)
    for event in ("connected", "disconnected"):
        assert named[event] == pytest.approx(1024.0, rel=0.02)


def test_the_exception_logged_with_the_disconnects_decides() -> None:
    t, v, ets, keys, disc = _short_sessions()
    markers = Markers(ts=disc.astype(np.int64), keys=np.array(["NPE"] * len(disc)),
                      counts=np.ones(len(disc)), cause_keys=frozenset({"npe-message"}))
    per = attribute_increments(t, v, ets, keys, markers=markers)
    assert per is not None and per.template == "disconnected", per
    assert per.decided == "co-occurrence"
    assert per.amount == pytest.approx(1024.0, rel=0.01)
    # an exception logged as often with either event decides nothing
    both = Markers(ts=np.r_[disc[::2], ets[keys == "connected"][1::2]].astype(np.int64),
                   keys=np.array(["X"] * (len(disc[::2]) + len(ets[keys == "connected"][1::2]))),
                   counts=None, cause_keys=frozenset({"npe-message"}))
    per = attribute_increments(t, v, ets, keys, markers=both)
    assert per is not None and per.decided == "ambiguous", per


def test_a_warm_up_without_events_does_not_force_an_intercept() -> None:
    """A JVM loads its own classes first: 6 MiB in the first interval with no event, then
    2 KiB per event at a varying rate."""
    rng = np.random.default_rng(4)
    n = 40
    rate = rng.integers(20, 80, n)
    t = np.arange(n + 1) * 1000
    ets = np.concatenate([rng.uniform(t[i] + 1, t[i + 1], rate[i]) if i else np.zeros(0)
                          for i in range(n)])
    keys = np.array(["reloaded"] * len(ets), dtype=object)
    grow = np.r_[0.0, [6 << 20] + [2048.0 * rate[i] for i in range(1, n)]]
    v = 2.5 * (1 << 20) + np.cumsum(grow)
    per = attribute_increments(t, v, ets, keys, min_windows=10)
    assert per is not None and per.template == "reloaded"
    assert per.model == "origin" and per.amount == pytest.approx(2048.0, rel=0.01), per


def test_a_rival_that_adds_a_sliver_over_thousands_of_windows_does_not_block_the_winner(
        ) -> None:
    """Days of 1 Hz samples: a connect count adds a sliver to the disconnect's fit (a few
    B of its own per event, significant at this size), yet the disconnect alone is by far
    the closer explanation (Vuong's z): decided, not ambiguous."""
    rng = np.random.default_rng(5)
    n = 16_000
    disc = rng.poisson(30, n).astype(float)
    conn = np.roll(disc, 1) + rng.poisson(3, n)
    y = 256.0 * disc + 2.0 * conn + rng.normal(0, 150, n)
    sep = separate(y, disc, conn, "disconnected", "connected")
    assert sep is not None and sep.p_b < 0.05  # the sliver is there
    assert sep.winner == "disconnected" and sep.z > 2.58, sep
