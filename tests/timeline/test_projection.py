"""The ETA of a leak on campaign traffic, on a generated stream (no mocks).

The stream is the `lead` benchmark's 1024 B / 64 MiB case (bench/gen_incident_log.py,
seed 1): 2 h of flat gauge, then 1024 B per logged disconnect in campaign bursts
(~5 min of 200-700 records/s) between quiet stretches of ~27 min, up to a ceiling the
first line states; its manifest says when the first OOM record came. The bounds are
those written before the change (bench/expectations/eta_lead.md): one burst grows
~11 MB of the 48 MiB room, so the time to go is that of 4-5 random bursts and no
estimator can promise 10 % early on; +-60 % of the time left is what the burst count
allows in the first half of the leak (half-way, this stream's traffic tripled: a known
miss), and a 90 % range must hold the truth most of the time. The regime line it replaces was +1,500 % off at the first forecast.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))
from eta_replay import eta_at, read_log  # noqa: E402
from gen_incident_log import LeakPlan, generate  # noqa: E402

from logsleuth.timeline.projection import (  # noqa: E402
    Projection,
    first_passage,
    from_events,
    rate_by_time,
)


@pytest.fixture(scope="module")
def campaign(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    path = tmp_path_factory.mktemp("lead") / "incident.log"
    size = 4_000_000_000  # an upper bound: the log ends after the OOM flood
    generate(path, size, 1, size * 0.7 / 10_000.0,
             LeakPlan(per_disconnect=1024, start_s=7200.0, ceiling=64 << 20))
    log = read_log(path)
    path.unlink()  # ~170 MB
    return log


def _at(log: dict[str, Any], share: float) -> dict[str, Any] | None:
    """The forecast ``share`` of the way from the leak's start to the first OOM (None
    when the evidence then is not judged a leak: a long quiet stretch after a burst)."""
    return eta_at(log, int(log["leak"] + share * (log["oom"] - log["leak"])))


def _error(log: dict[str, Any], f: dict[str, Any]) -> float:
    return (f["eta"] - log["oom"]) / (log["oom"] - f["now"])


def test_the_first_forecast_is_within_60_percent(campaign: dict[str, Any]) -> None:
    """The first instant (5 log-minute steps) with a projected leak, as a watcher's first
    forecast: the expectation written before the change."""
    first = next(f for s in np.arange(0.01, 0.5, 5 * 60_000 / (campaign["oom"] - campaign["leak"]))
                 if (f := _at(campaign, float(s))) is not None)
    # (its amount, from a burst or two, may be a few % off: issue 15's attribution)
    assert first["source"] == "per-event"
    assert abs(_error(campaign, first)) <= 0.6, first
    assert first["earliest"] <= campaign["oom"] <= first["latest"], first


SURGE = ("the disconnects per half hour of the leak were 3.7k, 0.4k, 4.1k, 6.0k, 3.8k, then "
         "16.5k and 14.6k in its last hour: half-way the rate seen so far was a third of what "
         "came, so the ETA is +70 % of the time left; the range (0.9) still holds the OOM")


@pytest.mark.parametrize("share", [0.1, 0.2, 0.3, 0.4, pytest.param(
    0.5, marks=pytest.mark.xfail(strict=True, reason=SURGE))])
def test_eta_in_the_first_half_of_the_leak_within_60_percent(campaign: dict[str, Any],
                                                             share: float) -> None:
    f = _at(campaign, share)
    assert f is not None, f"no projected leak {share:.0%} into the leak"
    assert f["source"] == "per-event" and f["amount"] == pytest.approx(1024, rel=0.01)
    assert abs(_error(campaign, f)) <= 0.6, f


def test_the_range_holds_the_first_oom_most_of_the_time(campaign: dict[str, Any]) -> None:
    shares = np.linspace(0.05, 0.95, 19)
    said = [(float(s), f) for s in shares if (f := _at(campaign, float(s))) is not None]
    assert len(said) >= len(shares) / 2, "the leak was judged at too few instants"
    for _, f in said:
        assert f["earliest"] <= f["eta"] <= f["latest"], f
    held = [(round(s, 2), f["earliest"] <= campaign["oom"] <= f["latest"]) for s, f in said]
    # a 90 % range: fewer than 70 % of the correlated instants would say it is too narrow
    assert np.mean([h for _, h in held]) >= 0.7, held


def test_the_event_rate_is_counted_before_the_growth_began(campaign: dict[str, Any]) -> None:
    """Early on the growth has seen one or two bursts: the disconnect rate is counted
    over a window as long as the time to go, reaching into the 2 h before the leak."""
    from logsleuth.timeline import trend
    from logsleuth.timeline.ceilings import Ceiling

    now = int(campaign["leak"] + 0.1 * (campaign["oom"] - campaign["leak"]))
    k = campaign["gt"] <= now
    est = trend.estimate_trend(campaign["gt"][k], campaign["gv"][k], unit="B",
                               ceiling=Ceiling(campaign["ceiling"], "stated", None))
    assert est is not None and est.is_leak and est.projection is not None
    # the gauge's rate is taken from where it left its flat 16 MiB (the regime the change
    # points give may begin hours earlier, at the log's start)
    assert est.projection.window_ms[0] >= campaign["leak"], (est.projection, campaign["leak"])
    sel = (campaign["eid"] == 1) & (campaign["ets"] <= now)
    per = trend.with_event_rate(est, 1024.0, campaign["ets"][sel], campaign["ecount"][sel],
                                1000)
    assert per.projection.source == "per-event"
    assert per.projection.window_ms[0] < campaign["leak"] <= per.projection.window_ms[1]


def test_a_room_smaller_than_a_burst_waits_for_the_next_burst() -> None:
    """A staircase: 10 units in the first second of every 100 s. From any instant, 5
    units more take between the rest of the current period and one period."""
    t = np.arange(0, 1000, 1.0)
    grown = 10.0 * np.ceil(t / 100.0)
    waits = first_passage(t, grown - grown[0], 5.0)
    assert waits.min() > 0 and waits.max() <= 100.0 + 1e-9
    assert rate_by_time(t, grown, 0, 999) == pytest.approx(0.1, rel=0.02)


ROOT = Path(__file__).resolve().parents[2]


def test_a_steady_leak_cut_before_its_oom_is_projected_with_its_range() -> None:
    """The matrix's real JVM run cut before the first OOM (steady churn): the scan's
    ETA lands within a tenth of the horizon, its range holds the first OOM, and the
    paragraph says the range."""
    import json

    from logsleuth import api
    from logsleuth.reports.narrative import incident_paragraph
    from logsleuth.watch.events import _ms

    run = ROOT / "sample_logs" / "matrix" / "unpooled-netty-256-k-cut"
    truth = json.loads((run.parent / f"{run.name}.truth.json").read_text())
    result = api.scan([str(run)], keep_records=False, workers=1, tz="Europe/Berlin")
    leak = next(k for k in result.incident.to_json()["leaks"] if k["unit"] == "B")
    proj = leak["projection"]
    assert proj["state"] == "projected", proj
    oom, cut = (_ms(truth["cut"][k]) for k in ("first_oom_after_cut_utc", "at_utc"))
    eta, lo, hi = (_ms(x) for x in (leak["exhaustion_at"], proj["earliest"], proj["latest"]))
    assert abs(eta - oom) <= max(2000, (oom - cut) // 10)
    assert lo <= eta <= hi and lo <= oom <= hi, (proj, truth["cut"])
    assert proj["source"] == "per-event" and proj["level"] == 0.9
    assert "(90% range)" in incident_paragraph(result)


def _per_event(ts: np.ndarray, counts: np.ndarray, room: float,
               bucket_ms: int) -> Projection | None:
    """``from_events`` at 256 B per event, the gauge's window being the whole stream."""

    end, value = int(ts[-1]), 256.0 * float(counts.sum())
    gauge = Projection(at_ms=end + 60_000, earliest_ms=end, latest_ms=end + 120_000, rate=1.0,
                       cv=0.1, source="gauge", window_ms=(0, end), from_ms=end, value=value)
    return from_events(gauge, 256.0, ts, counts, growth_start=0, earliest_start=0,
                       bucket_ms=bucket_ms, ceiling=value + room)


def test_a_client_warming_up_is_set_aside() -> None:
    """The live JVM's shape: nothing for 3 s, a second at half rate, then ~150 a second.
    Counted from the start the rate is 124/s and the ETA 21 % late; the warm-up lies far
    below the steady blocks' spread, so the ETA is that of the steady rate."""
    rng = np.random.default_rng(7)
    ts = np.arange(50, 20_000, 100, dtype=np.int64)
    lam = np.where(ts < 3000, 0.0, np.where(ts < 4000, 7.5, 15.0))  # per 100 ms
    counts = rng.poisson(lam).astype(np.int64)
    p = _per_event(ts, counts, 256.0 * 150 * 20, 100)  # 20 s to go at 150/s
    assert p is not None and 3000 <= p.window_ms[0] <= 10_000, p
    assert abs(p.at_ms - p.from_ms - 20_000) <= 0.05 * 20_000, p
    assert p.earliest_ms <= p.from_ms + 20_000 <= p.latest_ms, p


def test_a_quiet_stretch_of_bursty_traffic_is_no_warm_up() -> None:
    """Campaign-like traffic (30 s bursts of ~200/s every 3 min, ~2/s between) whose
    window begins in a quiet stretch: the bursts' spread keeps the quiet start in."""
    rng = np.random.default_rng(7)
    ts = np.arange(500, 900_000, 1000, dtype=np.int64)
    burst = (ts % 180_000 >= 100_000) & (ts % 180_000 < 130_000)
    counts = rng.poisson(np.where(burst, 200.0, 2.0)).astype(np.int64)
    p = _per_event(ts, counts, 256.0 * 5000, 1000)
    assert p is not None and p.window_ms[0] == 0, p
