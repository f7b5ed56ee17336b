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
