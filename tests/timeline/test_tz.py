import numpy as np

from logsleuth.timeline.tz import infer_offset


def _bursts(seed):
    rng = np.random.default_rng(seed)
    base = 1_710_057_600_000
    bursts = base + np.array([17, 95, 96, 240]) * 60_000
    return np.sort(np.concatenate([b + rng.integers(0, 90_000, 40) for b in bursts]
                                  + [base + rng.integers(0, 6 * 3_600_000, 30)]))


def test_recovers_plus_two_hours_from_aligned_bursts():
    utc = _bursts(0)  # nginx 5xx, with offsets
    local = _bursts(1) + 2 * 3_600_000  # app errors, zone-less wall clock in +02:00
    guess = infer_offset(local, utc, local_label="app ERROR burst", utc_label="nginx 5xx")
    assert guess is not None and guess.zone == "+02:00" and guess.offset_ms == 7_200_000
    assert "nginx 5xx" in guess.source


def test_negative_half_hour_zone():
    utc = _bursts(2)
    assert infer_offset(utc - 9 * 3_600_000 - 1_800_000, utc).zone == "-09:30"


def test_none_when_nothing_aligns():
    rng = np.random.default_rng(4)
    base = 1_710_057_600_000
    a = base + rng.integers(0, 6 * 3_600_000, 300)
    b = base + rng.integers(0, 6 * 3_600_000, 300)
    assert infer_offset(a, b) is None
    assert infer_offset(a[:3], b) is None
