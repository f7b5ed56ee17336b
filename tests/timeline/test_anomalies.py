import numpy as np
import pytest

from logsleuth.timeline.anomalies import compare_baseline, template_anomalies
from logsleuth.timeline.templates import mine_templates


def test_rate_jump_after_split_is_reported_and_steady_one_is_not():
    t = np.arange(0, 3_600_000, 1000)
    msgs = [f"request {i} ok" for i in range(len(t))]
    ts = list(t)
    burst = np.arange(1_800_000, 3_600_000, 500)
    msgs += [f"retrying send {i}" for i in range(len(burst))] + ["retrying send 1"]
    ts += [*burst.tolist(), 100]
    idx = mine_templates(msgs)
    out = template_anomalies(np.array(ts), idx, split_ms=1_800_000)
    assert [a.template for a in out] == ["retrying send <*>"]
    assert out[0].incident_per_min == pytest.approx(120.0, rel=1e-3)  # 2 per second


def test_compare_baseline_matches_by_template_not_string():
    diff = compare_baseline(
        ["GET /a took <*> ms", "failed to allocate <*> byte(s)"],
        {"GET /a took 12 ms": 5, "heartbeat": 2},
        incident_fingerprints=["NPE@x", "OOM@y"], baseline_fingerprints=["NPE@x"])
    assert [t for t, _ in diff.new_templates] == ["failed to allocate <*> byte(s)"]
    assert diff.gone_templates == ["heartbeat"]
    assert diff.new_fingerprints == ["OOM@y"]
