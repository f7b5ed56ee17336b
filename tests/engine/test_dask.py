"""The Dask engine on a real local cluster gives the local engine's result."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from logsleuth import api

SAMPLE = Path(__file__).resolve().parents[2] / "sample_logs" / "incident"


def test_dask_engine_equals_local_engine() -> None:
    local = api.scan(SAMPLE, keep_records=False, workers=2)
    dask = api.scan(SAMPLE, keep_records=False, workers=2, engine="dask")
    assert json.dumps(dask.to_json()) == json.dumps(local.to_json())
    assert dask.incident is not None
    assert dask.incident.onset.line == local.incident.onset.line


def test_unknown_engine_is_a_usage_error() -> None:
    from logsleuth.errors import PatternError

    with pytest.raises(PatternError, match="unknown engine"):
        api.scan(SAMPLE / "gc.log", engine="spark")
