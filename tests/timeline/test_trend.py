import numpy as np
import pytest

from logsleuth.timeline._cols import to_ms
from logsleuth.timeline.trend import change_points, detect_leak, estimate_trend, theil_sen

from .conftest import LEAK, MAX, make_incident


def test_theil_sen_ignores_outliers():
    x = np.arange(100.0)
    y = 3.0 * x + 7.0
    y[::10] += 1000.0
    slope, intercept = theil_sen(x, y)
    assert slope == pytest.approx(3.0) and intercept == pytest.approx(7.0)


def test_change_points_find_a_rate_shift():
    y = np.r_[np.full(50, 1.0), np.full(50, 5.0)] + np.random.default_rng(0).normal(0, .3, 100)
    assert change_points(y) == [50]
    assert change_points(np.random.default_rng(1).normal(0, 1, 200)) == []


def test_synthetic_leak_slope_and_exhaustion():
    inc = make_incident()
    m = inc.metrics
    est = estimate_trend(m["ts"], m["value"], metric="d", unit="B", maximum=MAX)
    assert est is not None and est.is_leak
    # ground truth: 256 B per disconnect; disconnects per hour before saturation
    pre = inc.disconnect_ms[inc.disconnect_ms < inc.onset_ms]
    true_per_hour = LEAK * len(pre) / ((pre[-1] - pre[0]) / 3_600_000)
    growth = m[to_ms(m["ts"]) < inc.onset_ms]
    pre_est = estimate_trend(growth["ts"], growth["value"])
    assert pre_est.slope_per_hour == pytest.approx(true_per_hour, rel=0.05)
    # first monitor sample at the cap happens just before the onset allocation
    assert 0 <= inc.onset_ms - est.exhaustion_at_ms < 5_000


def test_projection_when_not_yet_exhausted():
    t = np.arange(0, 3_600_000, 1000)
    v = 1000.0 + t / 1000.0  # 1 unit per second
    est = estimate_trend(t, v, maximum=10_000.0)
    assert est.slope_per_hour == pytest.approx(3600.0)
    assert est.exhaustion_at_ms == pytest.approx((10_000 - 1000) * 1000, abs=1000)


def test_healthy_and_sawtooth_series_are_not_leaks():
    rng = np.random.default_rng(3)
    t = np.arange(0, 3_600_000, 1000)
    assert detect_leak(t, 5e6 + rng.normal(0, 1e4, len(t))) is None
    saw = (t % 600_000) * 10.0 + rng.normal(0, 100, len(t))  # GC releases every 10 min
    assert detect_leak(t, saw) is None
