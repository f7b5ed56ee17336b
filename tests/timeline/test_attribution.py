import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from logsleuth.timeline.attribution import attribute_increments
from logsleuth.timeline.templates import mine_templates

from .conftest import LEAK, make_incident


def _pre_onset(inc):
    m = inc.metrics
    keep = m["ts"] < pd.Timestamp(inc.onset_ms, unit="ms", tz="UTC")
    idx = mine_templates(pa.array(inc.records["message"].tolist()))
    keys = np.array(idx.templates, dtype=object)[idx.template_ids]
    return m[keep], keys


@pytest.mark.parametrize("seed", [1, 2])
def test_recovers_256_bytes_per_disconnect(seed):
    inc = make_incident(seed=seed)
    m, keys = _pre_onset(inc)
    # the NPE record shares the disconnect's count exactly; keep the template test pure
    rows = inc.records["fingerprint"].isna().to_numpy()
    got = attribute_increments(m["ts"], m["value"], inc.records["ts"][rows], keys[rows], unit="B")
    assert got is not None
    assert got.template.startswith("Client disconnected")
    assert got.amount == pytest.approx(LEAK, rel=0.01)
    assert got.unit == "B" and got.r2 > 0.9 and got.n >= 30


def test_healthy_metric_is_not_attributed():
    inc = make_incident(seed=3)
    m, keys = _pre_onset(inc)
    rng = np.random.default_rng(0)
    flat = 16e6 + rng.normal(0, 2048, len(m))
    assert attribute_increments(m["ts"], flat, inc.records["ts"], keys) is None


def test_metric_unrelated_to_any_event_is_rejected():
    rng = np.random.default_rng(5)
    t = np.arange(0, 3_600_000, 1000)
    walk = np.cumsum(np.abs(rng.normal(0, 100, len(t))))  # grows, but not per event
    ev_t = np.sort(rng.integers(0, 3_600_000, 20_000))
    ev_k = rng.choice(["a", "b", "c"], size=len(ev_t))
    assert attribute_increments(t, walk, ev_t, ev_k) is None


@pytest.mark.parametrize("n", [3001, 3000, 2999, 611])
def test_window_counts_summed_from_the_gcd_size_equal_counts_binned_per_size(n):
    """Every size's windows are sums of the gcd size's: the same counts as binning."""
    from logsleuth.timeline.attribution import _coarser, _count_matrix, _windows

    rng = np.random.default_rng(n)
    t = np.cumsum(rng.integers(900, 1100, n))
    ets = rng.integers(t[0] - 5000, t[-1] + 5000, 20_000)
    codes = rng.integers(0, 7, len(ets))
    weights = rng.integers(1, 4, len(ets)).astype(np.float64)
    interval = np.searchsorted(t, ets) - 1
    inside = interval >= 0
    interval, codes, weights = interval[inside], codes[inside], weights[inside]
    base = _count_matrix(_windows(t, t, 10)[0], interval, 10, codes, 7, weights)
    for k in (10, 20, 30, 60, 120, 300):
        edges = _windows(t, t, k)[0]
        want = _count_matrix(edges, interval, k, codes, 7, weights)
        got = _coarser(base, k // 10, len(edges) - 1)
        assert got.shape == want.shape and want.sum() > 0
        np.testing.assert_array_equal(got, want)


def test_integer_ids_are_read_as_their_own_codes():
    """Template ids skip the hashing of labels and name the same candidate."""
    inc = make_incident(seed=1)
    m, keys = _pre_onset(inc)
    rows = inc.records["fingerprint"].isna().to_numpy()
    labels = keys[rows]
    ids, names = pd.factorize(labels)
    by_label = attribute_increments(m["ts"], m["value"], inc.records["ts"][rows], labels)
    by_id = attribute_increments(m["ts"], m["value"], inc.records["ts"][rows], ids.astype(np.int64))
    assert by_label is not None and by_id is not None
    assert names[int(by_id.template)] == by_label.template
    assert by_id.amount == pytest.approx(by_label.amount) and by_id.n == by_label.n


# Why no event is named (explain_increments): each shape below is built so one reason holds.
def _steady(rate_cv: float, seed: int = 0, n: int = 60, per: float = 100.0,
            jitter_ms: int = 0) -> tuple[np.ndarray, ...]:
    """A gauge sampled every ~1 s, ``per`` units per event, events per interval with a given
    coefficient of variation around 50."""
    rng = np.random.default_rng(seed)
    t = np.cumsum(np.full(n, 1000) + (rng.integers(-jitter_ms, jitter_ms + 1, n) if jitter_ms
                                      else 0))
    counts = np.maximum(1, np.round(50 * (1 + rate_cv * rng.standard_normal(n - 1)))).astype(int)
    ev_t = np.concatenate([np.sort(rng.integers(a + 1, b, c)) for a, b, c in
                           zip(t[:-1], t[1:], counts, strict=True)])
    v = np.concatenate([[0.0], np.cumsum(counts * per)])
    return t, v, ev_t, np.array(["Plugin reloaded"] * len(ev_t), dtype=object)


def test_a_steady_event_rate_is_flat_counts_not_silence():
    from logsleuth.timeline.attribution import NoAttribution, explain_increments

    t, v, ev_t, keys = _steady(0.0)  # exactly 50 events per interval: the clock is the same
    got = explain_increments(t, v, ev_t, keys, unit="B")
    assert isinstance(got, NoAttribution) and got.code == "flat-counts", got
    assert got.amount == pytest.approx(100.0) and got.windows == 59
    assert "constant event rate" in got.to_json()["message"]
    assert got.clock is None  # equal intervals: time and a steady rate are one model


def test_a_varying_event_rate_is_named():
    from logsleuth.timeline.attribution import PerEventAttribution, explain_increments

    t, v, ev_t, keys = _steady(0.3)
    got = explain_increments(t, v, ev_t, keys, unit="B")
    assert isinstance(got, PerEventAttribution) and got.amount == pytest.approx(100.0)


def test_too_few_events_and_too_few_samples_are_said():
    from logsleuth.timeline.attribution import NoAttribution, explain_increments

    t, v, ev_t, keys = _steady(0.3)
    few = explain_increments(t, v, ev_t[:5], keys[:5], unit="B")
    assert isinstance(few, NoAttribution) and few.code == "no-events", few
    two = explain_increments(t[:2], v[:2], ev_t, keys, unit="B")
    assert isinstance(two, NoAttribution) and two.code == "no-samples", two
    assert "1 gauge intervals" in two.message
    # events in only 3 intervals (10 each): below the 5 a fit needs
    sparse = np.concatenate([np.full(10, t[i] + 500) for i in (3, 20, 40)])
    got = explain_increments(t, v, sparse, np.array(["Job"] * 30, dtype=object), unit="B")
    assert isinstance(got, NoAttribution) and got.code == "few-windows", got
    assert "3 of 59" in got.to_json()["message"]


def test_growth_with_the_clock_not_the_events_is_weak_and_says_the_clock_test():
    """Growth per second while the events come at a varying rate: no event explains it,
    and the test against a constant rate per second is reported."""
    from logsleuth.timeline.attribution import NoAttribution, explain_increments

    t, _, ev_t, keys = _steady(0.3, jitter_ms=400)
    v = (t - t[0]) * 5.0  # 5 units per ms, whatever the events do
    got = explain_increments(t, v, ev_t, keys, unit="B")
    assert isinstance(got, NoAttribution) and got.code in ("weak-fit", "not-significant"), got
    js = got.to_json()
    assert js["clock"] is not None and js["clock"]["winner"] == "clock", js
    assert js["clock"]["candidates"] == ["Plugin reloaded", "clock"]


def _live_edge(seed: int) -> tuple[np.ndarray, ...]:
    """The live JVM's first seconds: a monitor printing netty's counter in whole KiB every
    second, 256 B per disconnect, the client ramping up in the first second (70 events,
    then 140-149 a second: after it the counts vary by ~2 %), each connect 3 ms before its
    disconnect, and an unrelated event at 6-12 a second."""
    rng = np.random.default_rng(seed)
    t = np.arange(0, 15_001, 1000)
    counts = np.r_[70, rng.integers(140, 150, len(t) - 2)]
    disc = np.concatenate([np.sort(rng.integers(a + 1, b, c))
                           for a, b, c in zip(t[:-1], t[1:], counts, strict=True)])
    quote = np.concatenate([np.sort(rng.integers(a + 1, b, c)) for a, b, c in
                            zip(t[:-1], t[1:], rng.integers(6, 13, len(t) - 1), strict=True)])
    v = np.floor(256.0 * np.searchsorted(disc, t, side="right") / 1024) * 1024
    keys = np.array(["Client disconnected"] * len(disc) + ["Client connected"] * len(disc)
                    + ["Pushed quote"] * len(quote), dtype=object)
    return t, v, np.r_[disc, disc - 3, quote], keys


def test_rounding_of_a_whole_kib_monitor_is_not_a_warm_up():
    """The first window's growth misses the event model by less than the monitor's KiB:
    not a warm-up to set aside. Set aside, it took with it the only variation of the
    disconnect's count, and a rival that happened to vary more was named (in live runs:
    'Pushed quote' as the weak best fit, or 'Client connected' as unique)."""
    from logsleuth.timeline.attribution import PerEventAttribution, explain_increments, resolution

    for seed in range(40):
        t, v, ets, keys = _live_edge(seed)
        assert resolution(v) == 1024.0
        got = explain_increments(t, v, ets, keys, unit="B")
        assert isinstance(got, PerEventAttribution), (seed, got)
        named = got.template == "Client disconnected" or (
            got.decided == "ambiguous" and "Client disconnected" in got.alternatives)
        assert named and got.amount == pytest.approx(256.0, rel=0.02), (seed, got)


def test_resolution_is_the_printed_unit_or_none():
    from logsleuth.timeline.attribution import resolution

    assert resolution(np.array([0.0, 1 << 20, 3 << 20, 4 << 20])) == float(1 << 20)
    assert resolution(np.array([1.5, 2.0, 3.25])) == 0.0  # not whole numbers: unknown
    assert resolution(np.array([5.0, 5.0])) == 0.0 and resolution(np.array([1.0])) == 0.0


def test_a_fit_with_a_negative_amount_does_not_rank_a_candidate():
    """metaspace-g1's 'Request handled': through the origin 712.9 B per request (R² -0.16),
    with an intercept -23,457 B per request plus 6.6 MB per window (R² 0.99, the JVM's
    own class loading in the first window). Ranked by 0.99 it came first, for a model
    that says the event shrinks the gauge; only models with a positive amount rank."""
    from logsleuth.timeline.attribution import CandidateFit

    f = CandidateFit("Request handled", 3000, 11, 712.9, -0.157, -23456.8, 6.6e6, 0.993)
    assert f.best_r2 == pytest.approx(-0.157)
    g = CandidateFit("Plugin reloaded", 600, 11, 3125.7, -0.158, 2049.0, 1.0, 0.2)
    assert g.best_r2 == pytest.approx(0.2)


def test_a_steady_event_that_fits_best_is_said_not_a_weak_rival():
    """A live run's seconds with no ramp: ~145 disconnects a second (cv ~2 %), each
    connect 3 ms before, and a subscribe at 30-54 a second. The reason for naming no event
    used to be a weak fit of the subscribe (~850 B per event, R² far below 0), an event
    that explains nothing. Whether the disconnect's steady count can be told from the clock
    is the gauge's to say (``visible``): on this whole-KiB monitor (reading error 418 B) its
    spread of ~2.9 events moves the gauge by ~740 B, so it is a candidate and the fit
    decides: it names the disconnect (or names it tied with the connect) at 256 B in most
    draws, as a nested F-test against a constant rate per interval says too (F 20-110,
    p < 1 % with any interval left out, in 29 of these 30 draws; every draw was flat-counts
    by the fixed 5 % rule). Under 8 KiB chunks (reading error 3.3 KB) the same
    counts are flat: no event is named, and the reason names the steady event that fits
    the growth (256 B if the events drive it), never the subscribe."""
    from logsleuth.timeline.attribution import (
        NoAttribution,
        PerEventAttribution,
        explain_increments,
    )
    from logsleuth.timeline.visibility import reading_error

    named = 0
    for seed in range(30):
        rng = np.random.default_rng(seed)
        t = np.arange(0, 15_001, 1000)
        disc = np.concatenate([np.sort(rng.integers(a + 1, b, c)) for a, b, c in
                               zip(t[:-1], t[1:], rng.integers(140, 150, 15), strict=True)])
        sub = np.concatenate([np.sort(rng.integers(a + 1, b, c)) for a, b, c in
                              zip(t[:-1], t[1:], rng.integers(30, 55, 15), strict=True)])
        n = np.searchsorted(disc, t, side="right")
        keys = np.array(["Client disconnected"] * len(disc) + ["Client connected"] * len(disc)
                        + ["Message subscribe"] * len(sub), dtype=object)
        ets = np.r_[disc, disc - 3, sub]
        spread = 256.0 * np.diff(n).std()
        got = explain_increments(t, np.floor(256.0 * n / 1024) * 1024, ets, keys, unit="B")
        if spread > reading_error(1024) and isinstance(got, PerEventAttribution):
            assert "Client disconnected" in (got.template, *got.alternatives), (seed, got)
            assert got.decided == "ambiguous" or got.template == "Client disconnected", got
            assert got.amount == pytest.approx(256.0, rel=0.02), (seed, got)
        elif spread > reading_error(1024):  # a candidate: the fit's own verdict stands
            assert got.code in ("weak-fit", "not-significant"), (seed, spread, got)
            assert got.template in ("Client disconnected", "Client connected"), (seed, got)
        else:
            assert got.code == "flat-counts", (seed, spread, got)
        named += isinstance(got, PerEventAttribution)
        got = explain_increments(t, np.ceil(256.0 * n / 8192) * 8192, ets, keys, unit="B")
        assert isinstance(got, NoAttribution) and got.code == "flat-counts", (seed, got)
        assert got.template in ("Client disconnected", "Client connected"), (seed, got)
        assert got.amount == pytest.approx(256.0, rel=0.02)
        assert "cannot be told apart" in got.to_json()["message"]
    assert named >= 20  # most draws: the events' count variation shows on a KiB monitor


def test_events_tied_with_a_rejected_candidate_are_named_with_their_figures():
    """The steady live-run shape above under 8 KiB chunks: the disconnect is named, and so
    is the connect 3 ms before it, whose counts move with it, each with its amount per event and the
    correlation, and the timing test that could not tell them apart (issue 15 item 4: say
    so honestly when they cannot be told apart); unless the disconnect alone misses the
    growth significantly less (Vuong at 1 %), which the draws allow now and then."""
    from logsleuth.timeline.attribution import NoAttribution, explain_increments

    tied = 0
    for seed in range(10):
        rng = np.random.default_rng(seed)
        t = np.arange(0, 15_001, 1000)
        disc = np.concatenate([np.sort(rng.integers(a + 1, b, c)) for a, b, c in
                               zip(t[:-1], t[1:], rng.integers(140, 150, 15), strict=True)])
        v = np.ceil(256.0 * np.searchsorted(disc, t, side="right") / 8192) * 8192
        keys = np.array(["Client disconnected"] * len(disc) + ["Client connected"] * len(disc),
                        dtype=object)
        got = explain_increments(t, v, np.r_[disc, disc - 3], keys, unit="B")
        assert isinstance(got, NoAttribution) and got.code == "flat-counts", (seed, got)
        js = got.to_json()
        named = {js["template"], *js["alternatives"]}
        if named == {"Client disconnected"}:  # the disconnect alone is the closer fit
            continue
        tied += 1
        assert named == {"Client disconnected", "Client connected"}, (seed, js)
        assert js["decided"] == "ambiguous" and len(js["separations"]) == 1, (seed, js)
        # tied: counts that move together, or timing that prefers neither
        assert js["alternative_corr"][0] >= 0.9 or js["separations"][0]["winner"] is None
        assert js["alternative_amounts"][0] == pytest.approx(256.0, rel=0.02)
        other = js["alternatives"][0]
        assert f"cannot be told apart from '{other}' (" in js["message"], js["message"]
        assert "with one interval left out" in js["message"]
    assert tied >= 7


def test_a_tie_timing_decides_names_the_event_the_gauge_follows():
    """A constant client rate (cv ~2 %) over a gauge with 1.5 KB of noise per sample: each
    session's connect comes 0-900 ms before its disconnect, so sessions straddle the
    gauge's samples and the disconnect's count, not the connect's, changes where the
    gauge's increments do. A rejection that looked at the connect is corrected by timing:
    the disconnect is named (lead-lag) with its amount, the connect kept as the alternative
    with its own, and the message's figures still say whose they are."""
    from logsleuth.timeline.attribution import NoAttribution, explain_increments
    from logsleuth.timeline.ties import with_ties

    for seed in range(10):
        rng = np.random.default_rng(seed)
        t = np.arange(0, 60_001, 1000)
        disc = np.concatenate([np.sort(rng.integers(a + 1, b, c)) for a, b, c in
                               zip(t[:-1], t[1:], rng.integers(140, 150, 60), strict=True)])
        conn = disc - rng.integers(0, 900, len(disc))
        v = 256.0 * np.searchsorted(disc, t, side="right") + rng.normal(0, 1500, len(t))
        keys = np.array(["Client disconnected"] * len(disc) + ["Client connected"] * len(disc),
                        dtype=object)
        ets = np.r_[disc, conn]
        got = explain_increments(t, v, ets, keys, unit="B")
        assert got.template == "Client disconnected", (seed, got)
        looked = NoAttribution("flat-counts", "{event} varies by 2 %", 60,
                               "Client connected", 255.0, unit="B")
        fixed = with_ties(looked, t, v, ets, keys, None, None, 10).to_json()
        assert fixed["decided"] == "lead-lag" and fixed["template"] == "Client disconnected"
        assert fixed["alternatives"] == ["Client connected"], fixed
        assert fixed["amount"] == pytest.approx(256.0, rel=0.1), fixed
        assert fixed["message"].startswith("'Client connected' varies by 2 %"), fixed
        assert "timing names 'Client disconnected'" in fixed["message"], fixed


# The candidacy of a steady event (issue 15): decided by whether its count's variation can
# show in the gauge (``visible``), not by a fixed 5 % share.
def _steady_exact(cv: float, chunk: int = 0, n: int = 60, per: int = 256,
                  seed: int = 3) -> tuple[np.ndarray, ...]:
    """~100 events per 1 s interval with a given cv (the same draws for every cv), each
    adding ``per`` bytes; the gauge prints the exact count (netty's counter) or rounds it up
    to whole ``chunk``s (a pool mapping 8 KiB chunks)."""
    rng = np.random.default_rng(seed)
    z = rng.standard_normal(n - 1)
    counts = np.maximum(np.round(100 * (1 + cv * z / z.std())), 1).astype(int)
    t = np.arange(n) * 1000
    ev = np.concatenate([np.sort(rng.integers(a + 1, b, c))
                         for a, b, c in zip(t[:-1], t[1:], counts, strict=True)])
    v = per * np.searchsorted(ev, t, side="right").astype(np.float64)
    if chunk:
        v = np.ceil(v / chunk) * chunk
    return t, v, ev, np.array(["Client disconnected"] * len(ev), dtype=object)


def test_candidacy_is_continuous_across_the_old_five_percent_cut():
    """Counts varying by 4.9 % and by 5.1 % are judged alike: on an exact gauge both are
    named at 256 B (the count's spread moves it by ~1.3 KB, its reading error is ~100 B),
    and both, under 8 KiB chunks (reading error 3.3 KB), are flat-counts with the figures
    that decided it. The old rule named neither on the exact gauge below 5 %."""
    from logsleuth.timeline.attribution import (
        NoAttribution,
        PerEventAttribution,
        explain_increments,
    )

    exact = [explain_increments(*_steady_exact(cv), unit="B") for cv in (0.049, 0.051)]
    for got in exact:
        assert isinstance(got, PerEventAttribution), got
        assert got.amount == pytest.approx(256.0, rel=1e-3) and got.r2 > 0.99
    chunked = [explain_increments(*_steady_exact(cv, chunk=8192), unit="B")
               for cv in (0.049, 0.051)]
    for got in chunked:
        assert isinstance(got, NoAttribution) and got.code == "flat-counts", got
        assert "reading error of 3344 B" in got.to_json()["message"], got.message
    assert chunked[0].amount == pytest.approx(chunked[1].amount, rel=0.02)


def test_candidacy_follows_the_gauge_not_a_share():
    """Across count variations of 1-30 %, an exact gauge names the event every time (even at
    1 %: ±1 event of 256 B is above its ~100 B reading error), while 8 KiB chunks hide it
    until the count's spread moves the gauge past their 3.3 KB reading error (sd > 13
    events, cv > 13 %) and name it at 256 B once it dominates (cv 30 %)."""
    from logsleuth.timeline.attribution import (
        NoAttribution,
        PerEventAttribution,
        explain_increments,
    )
    from logsleuth.timeline.visibility import reading_error, visible

    y_kib = np.array([25600.0, 26624.0, 24576.0, 25600.0])  # ~ 256 B x the counts below

    for cv in (0.01, 0.03, 0.1, 0.2, 0.3):
        got = explain_increments(*_steady_exact(cv), unit="B")
        assert isinstance(got, PerEventAttribution), (cv, got)
        assert got.amount == pytest.approx(256.0, rel=1e-3), (cv, got)
    assert reading_error(8192) == pytest.approx(3344.3, abs=0.1)
    for cv in (0.01, 0.03, 0.1):
        got = explain_increments(*_steady_exact(cv, chunk=8192), unit="B")
        assert isinstance(got, NoAttribution) and got.code == "flat-counts", (cv, got)
    got = explain_increments(*_steady_exact(0.3, chunk=8192), unit="B")
    assert isinstance(got, PerEventAttribution), got
    assert got.amount == pytest.approx(256.0, rel=0.05), got
    x = np.array([[100.0, 104.0, 96.0, 100.0]]).T  # sd 2.83 events
    assert visible(x, 256.0, 1024.0, y_kib)[0] and not visible(x, 256.0, 8192.0, y_kib)[0]
    # the same counts against increments spread by 5 KB of the gauge's own noise: hidden
    assert not visible(x, 256.0, 0.0, y_kib + np.array([5e3, -5e3, 5e3, -5e3]))[0]
    assert not visible(np.full((4, 1), 100.0), 256.0, 0.0, y_kib)[0]  # constant: the clock
