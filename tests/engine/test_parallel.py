"""Byte-range splitting and forked workers give exactly the single-process result."""

from __future__ import annotations

import pytest

from logsleuth import api
from logsleuth.engine import local


@pytest.fixture
def split_small(monkeypatch: pytest.MonkeyPatch) -> None:
    # small files take the multi-process path: split into ranges, fork a worker
    monkeypatch.setattr(local, "SPLIT_MIN_BYTES", 1)
    monkeypatch.setattr(local, "PARALLEL_MIN_BYTES", 1)


def test_split_and_forked_scan_equals_single_process(write, app_lines, pattern,
                                                     split_small: None) -> None:
    text = app_lines(3000, trace_every=37)
    path = write("push.log", text)
    one = api.scan(path, pattern=pattern, workers=1, tz="UTC")
    two = api.scan(path, pattern=pattern, workers=2, tz="UTC")
    units = local.make_units(
        [local.PlannedInput(_src(path), "app-log", _layout(pattern), b"")], 2)
    assert len(units) > 2  # really split
    a, b = one.inputs[0], two.inputs[0]
    assert (b.lines, b.records, b.unparsed_lines, b.bytes) == (a.lines, a.records,
                                                               a.unparsed_lines, a.bytes)
    for col in ("line", "n_lines", "ts", "message", "exception", "root_frame"):
        assert two.table("records")[col].to_pylist() == one.table("records")[col].to_pylist()
    assert [f.to_json() for f in two.findings] == [f.to_json() for f in one.findings]
    assert two.table("level_counts").equals(one.table("level_counts"))


def test_worker_failure_is_reported_not_hung(write, app_lines, pattern, split_small: None,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    path = write("push.log", app_lines(2000))
    calls = {"n": 0}
    real = local.run_unit

    def flaky(unit, options):  # the second unit fails wherever it runs
        calls["n"] += 1
        if unit.part == 1:
            raise ValueError("boom in a worker")
        return real(unit, options)

    monkeypatch.setattr(local, "run_unit", flaky)
    with pytest.raises((RuntimeError, ValueError), match="boom"):
        api.scan(path, pattern=pattern, workers=2)


def _src(path):
    from logsleuth.sources import discover

    return discover([path]).sources[0]


def _layout(pattern):
    from logsleuth.layouts import compile_pattern

    return compile_pattern(pattern)


def test_records_spilled_to_parquet_equal_records_in_memory(write, app_lines, pattern, tmp_path,
                                                           split_small: None) -> None:
    """Kept records streamed to disk by two processes (line numbers fixed per range)."""
    from logsleuth.store import open_store

    path = write("push.log", app_lines(3000, trace_every=37))
    memory = api.scan(path, pattern=pattern, workers=1, tz="UTC")
    spill = tmp_path / "spill"
    spill.mkdir()
    disk = api.scan(path, pattern=pattern, workers=2, tz="UTC", spill_dir=spill)
    assert "records" not in disk.tables and len(disk.record_files) > 2
    disk.to_parquet(tmp_path / "store")  # streams the spilled files
    assert "records" not in disk.tables
    back = open_store(tmp_path / "store")
    assert back.table("records").to_pylist() == memory.table("records").to_pylist()
    assert disk.table("records").equals(memory.table("records"))


def test_partials_arriving_out_of_order_merge_as_in_order(split_small: None,
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          ) -> None:
    """The parent merges partials as they arrive (``local.Fold``); with the units claimed
    last first, every partial arrives before the ones it follows, and the scan of the
    bundled incident (plain and rolled .gz app logs, a GC log, a thread dump) still equals
    the scan whose units came in order: JSON and every table. (Not the one-process scan:
    how an input is cut into units may move an exact millisecond count.)"""
    import json
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "sample_logs" / "incident"
    one = api.scan(root, workers=2, tz="UTC", keep_records=False)
    held: list[int] = []
    real_add = local.Fold.add

    def add(self, index, partial):  # what waits for an earlier unit, at each arrival
        real_add(self, index, partial)
        held.append(len(self.waiting))

    monkeypatch.setattr(local.Fold, "add", add)
    monkeypatch.setattr(local, "_claim_order", lambda units: list(range(len(units)))[::-1])
    two = api.scan(root, workers=2, tz="UTC", keep_records=False)
    assert len(held) > 8 and max(held) > 0 and held[-1] == 0  # out of order, then all merged
    assert json.dumps(two.to_json(), sort_keys=True) == json.dumps(one.to_json(),
                                                                   sort_keys=True)
    assert sorted(two.tables) == sorted(one.tables)
    for name, table in one.tables.items():
        assert two.tables[name].equals(table), name


def test_a_large_file_is_cut_into_units_of_bounded_size(split_small: None,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """What a unit holds grows with its span, so a file is cut into units of at most
    ``MAX_UNIT_BYTES`` (plus the record the cut waits for), not only into ``workers * 4``;
    the bundled incident's app log (321 KB) with a 32 KiB bound: ten units, every
    record read once."""
    from pathlib import Path

    log = Path(__file__).resolve().parents[2] / "sample_logs" / "incident" / "push-server.log"
    whole = api.scan(log, workers=2, tz="UTC", keep_records=False)
    monkeypatch.setattr(local, "MAX_UNIT_BYTES", 32 * 1024)
    made: list[list[local.WorkUnit]] = []
    real = local.make_units

    def make_units(planned, workers):
        made.append(real(planned, workers))
        return made[-1]

    monkeypatch.setattr(api, "make_units", make_units)
    cut = api.scan(log, workers=2, tz="UTC", keep_records=False)
    units = made[-1]
    size = log.stat().st_size
    assert len(units) == -(-size // (32 * 1024)) > 2 * 4
    ends = [u.end if u.end is not None else size for u in units]
    longest_record = max(len(r) for r in log.read_bytes().split(b"\n20"))
    assert all(e - u.start <= 32 * 1024 + longest_record for u, e in zip(units, ends,
                                                                          strict=True))
    assert cut.inputs[0].records == whole.inputs[0].records
    assert cut.inputs[0].lines == whole.inputs[0].lines
    assert cut.inputs[0].unparsed_lines == whole.inputs[0].unparsed_lines == 0
