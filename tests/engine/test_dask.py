"""The Dask engine on a real local cluster gives the local engine's result."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from logsleuth import api

SAMPLE = Path(__file__).resolve().parents[2] / "sample_logs" / "incident"


def first_difference(a: object, b: object, path: str = "$") -> str | None:
    """The JSON path of the first place two documents differ, and both values there."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in list(a) + [k for k in b if k not in a]:
            if key not in a or key not in b:
                return f"{path}.{key}: only in {'dask' if key in a else 'local'}"
            found = first_difference(a[key], b[key], f"{path}.{key}")
            if found:
                return found
        return None if list(a) == list(b) else f"{path}: key order {list(a)} vs {list(b)}"
    if isinstance(a, list) and isinstance(b, list):
        for i, (x, y) in enumerate(zip(a, b, strict=False)):
            found = first_difference(x, y, f"{path}[{i}]")
            if found:
                return found
        return None if len(a) == len(b) else f"{path}: {len(a)} vs {len(b)} items"
    return None if a == b else f"{path}: dask {a!r:.300} vs local {b!r:.300}"


def test_dask_engine_equals_local_engine() -> None:
    local = api.scan(SAMPLE, keep_records=False, workers=2)
    dask = api.scan(SAMPLE, keep_records=False, workers=2, engine="dask")
    # A path, not a truncated string diff: the one failure seen under load (session 6)
    # could not be read from pytest's diff, and it did not come back in 6 reruns.
    assert dask.to_json()["diagnostics"] == local.to_json()["diagnostics"]
    assert first_difference(dask.to_json(), local.to_json()) is None
    assert json.dumps(dask.to_json()) == json.dumps(local.to_json())
    assert dask.incident is not None
    assert dask.incident.onset.line == local.incident.onset.line


def test_unknown_engine_is_a_usage_error() -> None:
    from logsleuth.errors import PatternError

    with pytest.raises(PatternError, match="unknown engine"):
        api.scan(SAMPLE / "gc.log", engine="spark")


def _bench_generators() -> object:
    import importlib.util
    import sys

    bench = Path(__file__).resolve().parents[2] / "bench"
    spec = importlib.util.spec_from_file_location("gen_shapes", bench / "gen_shapes.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules["gen_shapes"] = mod
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("shape", ["orders", "jsonlayout"])
def test_dask_engine_equals_local_on_the_benchmark_shapes(
        shape: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Deep traces of many exception classes, and JSON events with ``thrown``, split
    in byte ranges across two worker processes, reduce to the local engine's JSON."""
    from logsleuth.engine import local as local_engine

    monkeypatch.setattr(local_engine, "SPLIT_MIN_BYTES", 1 << 20)  # split a 3 MiB file
    made: list[int] = []

    def spy(planned: object, workers: int) -> list:
        units = local_engine.make_units(planned, workers)
        made.append(len(units))
        return units

    monkeypatch.setattr(api, "make_units", spy)
    gen = _bench_generators()
    out = tmp_path / f"{shape}.log"
    manifest = gen.GENERATORS[shape](out, 3 << 20, 11)
    pattern = gen.ORDERS_LAYOUT if shape == "orders" else None
    local = api.scan(out, pattern=pattern, keep_records=False, workers=2, chunk_size=1 << 20)
    dask = api.scan(out, pattern=pattern, keep_records=False, workers=2, chunk_size=1 << 20,
                    engine="dask")
    assert local.to_json()["totals"]["records"] == manifest.records
    assert made[0] > 1, "the file was not split: the test would not exercise the merge"
    assert json.dumps(dask.to_json()) == json.dumps(local.to_json())

