"""Vectorised counting in the collectors must equal the plain definitions."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pyarrow as pa

from logsleuth.engine.analysis import _KEY_BITS, _count_keys
from logsleuth.engine.rulescan import _masked_codes


def _reference(bucket: np.ndarray, ids: np.ndarray) -> Counter[int]:
    return Counter((int(b) << _KEY_BITS) | int(i) for b, i in zip(bucket, ids, strict=True))


def test_key_counts_equal_a_counter_on_dense_and_sparse_buckets() -> None:
    rng = np.random.default_rng(5)
    for spread in (50, 10_000_000):  # dense: bincount; sparse: sort
        bucket = rng.integers(1_000_000, 1_000_000 + spread, 5_000)
        ids = rng.integers(0, 12, 5_000)
        keys, counts = _count_keys(bucket, ids)
        assert dict(zip(keys.tolist(), counts.tolist(), strict=True)) == _reference(bucket, ids)
        assert (np.diff(keys) > 0).all()  # sorted and distinct, as merges expect
        weights = rng.integers(1, 50, 5_000)
        keys, sums = _count_keys(bucket, ids, weights)
        want: Counter[int] = Counter()
        for b, i, w in zip(bucket.tolist(), ids.tolist(), weights.tolist(), strict=True):
            want[(b << _KEY_BITS) | i] += w
        assert dict(zip(keys.tolist(), sums.tolist(), strict=True)) == want
        assert sums.dtype == np.int64


def test_masked_codes_group_values_that_differ_only_in_ids() -> None:
    values = pa.array(["pool-2-thread-1", "pool-2-thread-17", "main", None, "pool-2-thread-1"])
    codes, masked = _masked_codes(values)
    assert codes[0] == codes[1] == codes[4] != codes[2]
    assert masked[codes[0]] == "pool-0-thread-0" and masked[codes[2]] == "main"
    assert masked[codes[3]] is None
    dictionary = pa.array(["INFO", "WARN", "INFO"]).dictionary_encode()
    dcodes, dmasked = _masked_codes(dictionary)
    assert dcodes[0] == dcodes[2] != dcodes[1] and dmasked[dcodes[1]] == "WARN"


def test_metric_rows_parsed_in_batches_equal_per_chunk_parsing(monkeypatch) -> None:
    from pathlib import Path

    import logsleuth
    from logsleuth.engine.evidence import MetricCollector

    sample = Path(__file__).resolve().parents[2] / "sample_logs" / "incident"

    def metrics() -> pa.Table:
        r = logsleuth.scan([sample], workers=1, chunk_size=64 * 1024, rules=False,
                           analysis=False, keep_records=False)
        return r.table("metrics")

    batched = metrics()
    monkeypatch.setattr(MetricCollector, "FLUSH_ROWS", 1)  # parse every chunk at once
    per_chunk = metrics()
    assert batched.num_rows >= 50  # the monitor line of the sample, over many chunks
    assert batched.equals(per_chunk)
