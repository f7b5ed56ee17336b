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


def test_key_counts_keep_the_finest_width_that_fits(monkeypatch) -> None:
    from logsleuth.engine import analysis as an

    monkeypatch.setattr(an, "EXACT_KEYS", 400)
    rng = np.random.default_rng(3)
    ts = np.sort(rng.integers(1_700_000_000_000, 1_700_000_600_000, 2_000))
    ids = rng.integers(0, 3, 2_000)
    kc = an._KeyCounts()
    for part in np.array_split(np.arange(2_000), 60):  # chunk by chunk, as a unit does
        kc.add(ts[part], ids[part])
    got_ts, got_ids, got_n = kc.events()
    assert kc.res_ms == 1000  # ~2,000 distinct ms and ~1,700 distinct 100 ms keys overflow
    want = Counter(zip((ts // 1000 * 1000 + 500).tolist(), ids.tolist(), strict=True))
    got: Counter[tuple[int, int]] = Counter()  # a (bucket, id) may repeat: readers sum
    for key, n in zip(zip(got_ts.tolist(), got_ids.tolist(), strict=True), got_n.tolist(),
                      strict=True):
        got[key] += n
    assert got == want


def test_floor_learnt_from_earlier_units_changes_nothing(monkeypatch) -> None:
    """Units that start coarser (a process's floor) give the counts of a full merge."""
    from logsleuth.engine import analysis as an

    monkeypatch.setattr(an, "EXACT_KEYS", 300)
    rng = np.random.default_rng(4)
    # five units of one log: 200 events in 60 s each, disjoint in time
    units = [(np.sort(rng.choice(np.arange(s, s + 60_000), 200, replace=False)),
              rng.integers(0, 4, 200))
             for s in range(1_700_000_000_000, 1_700_000_500_000, 100_000)]

    def read(kc: an._KeyCounts, ts: np.ndarray, ids: np.ndarray) -> an._KeyCounts:
        for part in np.array_split(np.arange(len(ts)), 10):  # chunks under EXACT_KEYS // 8
            kc.add(ts[part], ids[part])
        return kc

    def merged(floor: an._Floor | None) -> tuple[int, dict[tuple[int, int], int]]:
        parts = []
        for ts, ids in units:
            kc = read(an._KeyCounts(floor.finest if floor else 1), ts, ids)
            if floor:
                floor.learn(kc)
            parts.append(kc)
        first = parts[0]
        for other in parts[1:]:
            first.merge(other, np.arange(4))
        t, i, n = first.events()
        summed: Counter[tuple[int, int]] = Counter()
        for key, c in zip(zip(t.tolist(), i.tolist(), strict=True), n.tolist(), strict=True):
            summed[key] += c
        return first.res_ms, dict(summed)

    floor = an._Floor()
    assert merged(floor) == merged(None)
    assert merged(None)[0] == 1000

    learnt = an._Floor()
    for k, want in enumerate((1, 1000)):  # one unit fits (200 keys); two prove > 300
        learnt.learn(read(an._KeyCounts(learnt.finest), *units[k]))
        assert learnt.finest == want
    same = an._Floor()
    for _ in range(3):  # one span three times overlaps itself: no proof
        same.learn(read(an._KeyCounts(), *units[0]))
    assert same.finest == 1
    # units of one file touch: the next starts in the bucket the last one ended in
    ts0, ids0 = units[0]
    touching = an._Floor()
    for ts in (ts0, ts0 + (int(ts0[-1]) - int(ts0[0]))):
        touching.learn(read(an._KeyCounts(), ts, ids0))
    # >= 399 distinct instants and ~370 distinct 100 ms buckets: both widths proven lost
    assert touching.finest == 1000


def test_known_message_shapes_keep_their_template_across_chunks() -> None:
    from logsleuth.engine.analysis import AnalysisCollector
    from logsleuth.timeline.templates import TemplateMiner

    first = ["Client connected: sessionId=3fa91c", "GC pause 12 ms",
             "Client connected: sessionId=77b002", "user alice logged in"]
    second = [None, "user bob logged in", "GC pause 340 ms", "Client connected: sessionId=9",
              "Client disconnected: sessionId=aa01", "GC pause 7 ms"]
    col = AnalysisCollector({})
    a = col._template_ids(pa.array(first, pa.string()))
    b = col._template_ids(pa.array(second, pa.string()))
    texts = col.miner.templates
    assert b[0] == -1  # a null message has no template
    # the same shape in a later chunk: the id the first chunk gave it
    assert b[2] == b[5] == a[1] and a[0] == a[2]
    # every id names the template the plain miner gives that message
    ref = TemplateMiner()
    want = ref.add(pa.array(first + second[1:], pa.string()))
    got = [*a.tolist(), *b[1:].tolist()]
    assert [texts[i] for i in got] == [ref.templates[i] for i in want.tolist()]


def test_chunks_of_empty_messages_get_a_template() -> None:
    from logsleuth.engine.analysis import AnalysisCollector

    col = AnalysisCollector({})
    ids = col._template_ids(pa.array(["", None, ""], pa.string()))
    assert ids.tolist()[1] == -1 and ids[0] == ids[2] >= 0
    later = col._template_ids(pa.array(["job 17 done", ""], pa.string()))
    assert later[1] == ids[0] and col.miner.templates[later[0]] == "job <*> done"


def _summed(t: np.ndarray, i: np.ndarray, n: np.ndarray) -> dict[tuple[int, int], int]:
    out: Counter[tuple[int, int]] = Counter()
    for key, c in zip(zip(t.tolist(), i.tolist(), strict=True), n.tolist(), strict=True):
        out[key] += c
    return dict(out)


def test_key_counts_stay_bounded_over_a_long_span(monkeypatch) -> None:
    """Past MAX_KEYS the bucket doubles: the counts held never pass a few MAX_KEYS
    however long the evidence, the width is the finest of 1 s, 2 s, 4 s ... that fits
    the whole scan, and it does not depend on how the input was cut into units."""
    from logsleuth.engine import analysis as an

    monkeypatch.setattr(an, "EXACT_KEYS", 200)
    monkeypatch.setattr(an, "MAX_KEYS", 500)
    rng = np.random.default_rng(5)
    n = 40_000  # one event every ~15 s over a week, 3 templates
    ts = np.sort(rng.integers(1_700_000_000_000, 1_700_000_000_000 + 7 * 86_400_000, n))
    ids = rng.integers(0, 3, n)

    # the expected width: the finest ladder width with at most MAX_KEYS distinct keys
    width = 1000
    while len(np.unique((ts // width) << 20 | ids)) > 500:
        width *= 2
    want = _summed(ts // width * width + width // 2, ids, np.ones(n, np.int64))

    def scan(cuts: int) -> tuple[int, dict[tuple[int, int], int]]:
        parts = []
        for unit in np.array_split(np.arange(n), cuts):
            kc = an._KeyCounts()
            for chunk in np.array_split(unit, 50):
                kc.add(ts[chunk], ids[chunk])
                held = sum(len(k) for lv in kc.levels.values() for k in lv.keys)
                # pending pieces may wait for the next compaction: bounded all the same
                assert held <= 2 * 500 + 3 * len(chunk) * len(an._KeyCounts.WIDTHS)
            kc.compact()
            assert sum(len(k) for k in kc.levels[kc.res_ms].keys) <= 500
            parts.append(kc)
        first = parts[0]
        for other in parts[1:]:
            first.merge(other, np.arange(3))
            # the parent never holds more than MAX_KEYS at 1 s or coarser between merges
            assert sum(len(k) for k in first.levels[first.top].keys) <= 500
        got = first.events()
        assert len(got[0]) <= 500
        return first.res_ms, _summed(*got)

    assert width >= 8000  # the case does coarsen several times
    for cuts in (1, 3, 8):
        assert scan(cuts) == (width, want)


def test_key_counts_merge_a_coarser_partial_into_a_finer_one(monkeypatch) -> None:
    from logsleuth.engine import analysis as an

    monkeypatch.setattr(an, "EXACT_KEYS", 100)
    monkeypatch.setattr(an, "MAX_KEYS", 100)
    dense = np.arange(1_700_000_000_000, 1_700_000_000_000 + 400_000, 1000)  # 400 s at 1 Hz
    sparse = np.array([1_700_000_500_000, 1_700_000_501_000])
    a, b = an._KeyCounts(), an._KeyCounts()
    a.add(sparse, np.zeros(2, np.int64))
    b.add(dense, np.ones(len(dense), np.int64))
    a.compact()
    b.compact()
    assert a.res_ms == 1 and b.res_ms == 4000  # 400 -> 200 -> 100 keys
    a.merge(b, np.array([0, 1]))
    t, i, c = a.events()
    assert a.res_ms == 8000  # together: 101 keys at 4 s
    got = _summed(t, i, c)
    assert sum(got.values()) == len(dense) + 2
    assert got[(1_700_000_496_000 + 4000, 0)] == 2  # both sparse events in one 8 s bucket


def test_floor_past_one_second_lets_later_units_start_coarser(monkeypatch) -> None:
    """Disjoint units whose 1 s buckets add up past MAX_KEYS prove the scan is coarser:
    the next units start at 2 s, and the merged counts are those of a plain merge."""
    from logsleuth.engine import analysis as an

    monkeypatch.setattr(an, "EXACT_KEYS", 50)
    monkeypatch.setattr(an, "MAX_KEYS", 300)
    starts = range(1_700_000_000_000, 1_700_002_000_000, 400_000)  # 5 units, disjoint
    units = [(np.arange(s, s + 200_000, 1000), np.zeros(200, np.int64)) for s in starts]

    def merged(floor: an._Floor | None) -> tuple[int, dict[tuple[int, int], int]]:
        parts = []
        for ts, ids in units:
            kc = an._KeyCounts(floor.finest if floor else 1)
            kc.add(ts, ids)
            if floor:
                floor.learn(kc)
                kc.limit(floor.finest)
            parts.append(kc)
        first = parts[0]
        for other in parts[1:]:
            first.merge(other, np.arange(1))
        return first.res_ms, _summed(*first.events())

    floor = an._Floor()
    assert merged(floor) == merged(None)
    # two units (400 buckets at 1 s) proved 1 s lost; three at 2 s (300) prove nothing
    assert floor.finest == 2000
    assert merged(None)[0] == 4000  # 1,000 s of 1 Hz events fit 300 keys at 4 s


def test_rebucketing_by_blocks_equals_one_pass(monkeypatch) -> None:
    """Blocks cut where a new bucket starts: no key straddles two, so the sums are the
    same as one pass over every key, including blocks that one new bucket fills."""
    from logsleuth.engine import analysis

    rng = np.random.default_rng(7)
    buckets = np.sort(np.r_[rng.integers(0, 50_000, 20_000), np.full(3_000, 60_001)])
    keys = np.unique(buckets << _KEY_BITS | rng.integers(0, 40, len(buckets)))
    counts = rng.integers(1, 1_000, len(keys))
    for factor in (2, 16, 1_000):
        whole = _count_keys((keys >> _KEY_BITS) // factor, keys & analysis._ID_MASK, counts)
        for block in (1, 97, 2_500):
            monkeypatch.setattr(analysis, "REBUCKET_BLOCK", block)
            got = analysis._rebucket(keys, counts, factor)
            assert np.array_equal(got[0], whole[0]) and np.array_equal(got[1], whole[1])
        assert len(whole[0]) < len(keys)  # buckets did merge


def test_level_counts_merge_equal_a_counter_of_every_record() -> None:
    """Level counts kept as arrays: merged across units with other sources and levels,
    the per-minute and per-second tables hold what counting every record gives."""
    from logsleuth.engine.collectors import LevelCounts

    rng = np.random.default_rng(3)
    parts, truth = [], Counter()
    for src, levels in (("a.log", ["INFO", "WARN"]), ("b.log", ["ERROR", "INFO", "DEBUG"])):
        lc = LevelCounts({})
        ms = np.sort(rng.integers(0, 3_000_000, 500))
        lv = rng.integers(0, len(levels), 500)
        lc.counts = Counter()
        for m, i in zip(ms.tolist(), lv.tolist(), strict=True):
            lc.load_rows([src], np.array([m - m % 1000]), [levels[i]], np.array([1]), 1000)
            truth[(src, m - m % 1000, levels[i])] += 1
        parts.append(lc)
    parts[0].merge(parts[1])
    assert parts[0].counts == truth
    seconds = parts[0].seconds_table()
    assert seconds is not None and sum(seconds["count"].to_pylist()) == 1_000
    minutes = Counter()
    for (src, ms, level), n in truth.items():
        minutes[(src, ms - ms % 60_000, level)] += n
    table = parts[0].table()
    got = Counter({(s, m, lv): n for s, m, lv, n in zip(
        table["source"].to_pylist(), table["minute"].cast(pa.int64()).to_pylist(),
        table["level"].to_pylist(), table["count"].to_pylist(), strict=True)})
    assert got == minutes


def test_bulk_extraction_of_records_matched_without_the_number(tmp_path) -> None:
    """The rule matches on the throwable's class alone; its extractors find no number in
    these records. Read in bulk (past ``FAST_PATH_MIN`` candidates) they once made the
    cast of "" fail and the parser count every line unparsed."""
    from logsleuth import api
    from logsleuth.engine.rulescan import FAST_PATH_MIN

    n = FAST_PATH_MIN + 6
    lines = []
    for i in range(n):
        lines += [f"2020-04-14 00:00:{i % 60:02d}.{i:03d} ERROR [loop-1] a.Handler - write failed",
                  "io.netty.util.internal.OutOfDirectMemoryError: direct memory exhausted",
                  "\tat io.netty.util.internal.PlatformDependent.incrementMemoryCounter(P.java:1)"]
    (tmp_path / "app.log").write_text("\n".join(lines) + "\n")
    result = api.scan(tmp_path, workers=1)
    (stats,) = result.inputs
    assert (stats.records, stats.unparsed_lines, stats.diagnostics) == (n, 0, [])
    found = {f.rule: f for f in result.findings}
    assert found["netty-out-of-direct-memory"].count == n
    assert found["netty-out-of-direct-memory"].extracted == {}


def test_level_runs_equal_a_counter_and_stay_ordered(monkeypatch) -> None:
    """Pieces folded into sorted, disjoint runs: in time order they join as runs (the
    shared boundary buckets summed), out of order they are sorted as one; either way the
    counts are a plain Counter's, and the whole is one sorted distinct array."""
    from logsleuth.engine import analysis as an

    monkeypatch.setattr(an, "RUNS_COALESCE", 50)  # keep the runs apart at this size
    rng = np.random.default_rng(11)
    pieces = []
    for start in range(0, 2_000, 200):  # units sharing their boundary buckets
        b = np.sort(rng.integers(start, start + 210, 120))
        k = b << _KEY_BITS | rng.integers(0, 9, 120)  # unsorted within a bucket
        pieces.append((k, rng.integers(1, 5, 120)))
    for order in (range(len(pieces)), [3, 0, 7, 1, 9, 2, 8, 4, 6, 5]):
        level = an._Level()
        want: Counter[int] = Counter()
        for n, i in enumerate(order):
            k, c = pieces[i]
            level.append(k.copy(), c.copy())
            for key, cnt in zip(k.tolist(), c.tolist(), strict=True):
                want[key] += cnt
            if n % 3 == 2:
                level.compact()
        n_keys = level.compact()
        assert n_keys == len(want)
        for a, b in zip(level.keys, level.keys[1:], strict=False):
            assert a[-1] < b[0]  # runs ordered and disjoint
        if order == range(len(pieces)):
            assert len(level.keys) > 1  # joined as runs, not sorted as one
        first, last, n_buckets = level.buckets()
        assert (first, last) == (min(want) >> _KEY_BITS, max(want) >> _KEY_BITS)
        assert n_buckets == len({key >> _KEY_BITS for key in want})
        keys, counts = level.whole()
        assert (np.diff(keys) > 0).all()
        assert dict(zip(keys.tolist(), counts.tolist(), strict=True)) == want
