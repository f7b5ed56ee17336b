"""Warning/error rows grouped per (class, second) must read like every row.

The scan ships the first record of each (source, level, exception classes, second)
with a ``count`` instead of every warning and error; symptoms, precursors and the
root-cause ranking must come out as they do from the full rows.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from logsleuth import api
from logsleuth.engine import analysis as an
from logsleuth.engine.applog import ChunkBatch
from logsleuth.timeline.rootcause import rank_root_causes
from logsleuth.timeline.scan import notable_frame
from logsleuth.timeline.symptoms import MINUTE_MS, first_symptoms, precursors
from tests.timeline.test_incident_e2e import LAYOUTS, generate


def _warnings(path: Path, minutes: int) -> None:
    """A second log whose warning rate jumps 12 minutes in: a rate-change precursor."""
    fmt = LAYOUTS["log4j2"][1]
    t0 = datetime(2026, 3, 8, 5, 30, tzinfo=UTC)
    times = [*np.arange(0, 720, 20.0), *np.arange(720, minutes * 60, 0.2)]
    path.write_text("".join(
        fmt(t0 + timedelta(seconds=float(s) + 0.013), "WARN", "pool-2-thread-1",
            "com.example.push.Outbound", f"slow consumer, {i} bytes queued") + "\n"
        for i, s in enumerate(times)))


def _collect(records: pa.Table, batch_rows: int) -> an.AnalysisCollector:
    """Feed the records in small batches, so seconds straddle batches as chunks do."""
    col = an.AnalysisCollector({})
    for batch in records.to_batches(max_chunksize=batch_rows):
        col.consume(ChunkBatch(batch, pa.array([], pa.large_binary()), {}, lambda i: None))
    col.finish()
    return col


def _every_row(records: pa.Table) -> pa.Table:
    level = pc.utf8_upper(records["level"].cast(pa.string()))
    keep = pc.or_(pc.is_in(level, an._NOTABLE_LEVELS), pc.is_valid(records["exception"]))
    t = records.filter(keep).select(list(an._NOTABLE_COLS))
    return t.set_column(0, "source", t["source"].cast(pa.string())).set_column(
        3, "level", t["level"].cast(pa.string()))


@pytest.mark.parametrize("group_rows", [an.NOTABLE_BATCH_ROWS, 1_000])
def test_grouped_rows_give_the_symptoms_precursors_and_causes_of_every_row(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, group_rows: int) -> None:
    """Also when pending rows are grouped several times, so groups straddle batches."""
    monkeypatch.setattr(an, "NOTABLE_BATCH_ROWS", group_rows)
    log = tmp_path / "app.log"
    truth = generate(log, layout="log4j2", zone="UTC", failure="direct", minutes=30)
    _warnings(tmp_path / "outbound.log", minutes=30)
    scanned = api.scan([log, tmp_path / "outbound.log"], workers=1, keep_records=True,
                       analysis=False)
    records = scanned.table("records")
    full = notable_frame(_every_row(records))
    col = _collect(records, batch_rows=700)
    summary = notable_frame(col.notable_table())
    assert len(summary) < len(full) / 3  # 20 OOMs a second and bursts of NPEs fold
    assert int(summary["count"].sum()) == len(full)  # every notable record is counted
    assert col.dropped == 0

    onset = int(truth["onset_ms"])
    assert first_symptoms(summary, onset) == first_symptoms(full, onset)
    got, want = precursors(summary, onset), precursors(full, onset)
    assert got == want and {p.kind for p in want} >= {"rate-change"}
    for p in want:
        if p.kind == "rate-change":  # whole clock minutes
            assert p.ts_ms % MINUTE_MS == 0

    metrics = scanned.frame("metrics")
    from logsleuth.timeline.trend import estimate_leaks

    leaks = estimate_leaks(metrics, {})
    assert leaks
    causes = rank_root_causes(summary, leaks, onset, metrics=metrics,
                              events=col.exception_events())
    ref = rank_root_causes(full, leaks, onset, metrics=metrics)
    assert causes == ref  # tracking reads the exception records at their own instants
    assert causes[0].exception == "java.lang.NullPointerException"
    assert causes[0].tracking_r2 > 0.9


def test_notable_rows_beyond_the_cap_are_counted_as_dropped(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "app.log"
    generate(log, layout="log4j2", zone="UTC", failure="direct", minutes=10)
    records = api.scan([log], workers=1, keep_records=True, analysis=False).table("records")
    monkeypatch.setattr(an, "MAX_NOTABLE_ROWS", 50)
    col = _collect(records, batch_rows=500)
    kept = int(notable_frame(col.notable_table())["count"].sum())
    assert col.notable_rows == 50  # the earliest groups fill the cap, the rest are counted
    assert kept + col.dropped == len(_every_row(records))
    capped = api.scan([log], workers=1, keep_records=False)
    said = [d for d in capped.diagnostics if d.code == "analysis-rows-capped"]
    assert len(said) == 1 and int(said[0].message.split()[0]) > 0  # chunks differ: not equal


def test_counts_coarsened_past_their_bound_are_said_and_stay_exact(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past ``MAX_KEYS`` (second, template) pairs the counts go to 2, 4, 8 ... s buckets:
    the scan says so (info diagnostic) and every record is still counted."""
    log = tmp_path / "app.log"
    generate(log, layout="log4j2", zone="UTC", failure="direct", minutes=10)
    fine = api.scan([log], workers=1, keep_records=False)
    assert not [d for d in fine.diagnostics if d.code == "analysis-counts-coarsened"]
    monkeypatch.setattr(an, "EXACT_KEYS", 100)
    monkeypatch.setattr(an, "MAX_KEYS", 200)  # 10 minutes of templates: coarser than 1 s
    coarse = api.scan([log], workers=1, keep_records=False)
    said = [d for d in coarse.diagnostics if d.code == "analysis-counts-coarsened"]
    assert len(said) == 1 and said[0].level == "info"
    assert "(message templates)" in said[0].message and "200" in said[0].message
    totals = {r["template"]: r["count"] for r in fine.tables["templates"].to_pylist()}
    assert {r["template"]: r["count"]
            for r in coarse.tables["templates"].to_pylist()} == totals  # counts stay exact
