import jsonschema
import numpy as np
import pyarrow as pa
import pytest

from logsleuth.timeline._cols import to_ms
from logsleuth.timeline.incident import analyze_incident, detect_onset, load_schema
from logsleuth.timeline.templates import mine_templates

from .conftest import APP, LEAK, NPE_FP, OOM_FP, TIMEOUT_FP


def test_onset_is_the_first_out_of_direct_memory_record(incident):
    onset = detect_onset(incident.records, incident.findings)
    assert onset.ts_ms == incident.onset_ms
    assert (onset.path, onset.line) == (APP, incident.onset_line)
    assert onset.text.startswith("failed to allocate 64 byte(s) of direct memory")
    assert onset.fingerprint == OOM_FP


def test_onset_without_findings_falls_back_to_oom_class(incident):
    assert detect_onset(incident.records, []).ts_ms == incident.onset_ms
    healthy = incident.records[to_ms(incident.records["ts"]) < incident.onset_ms - 600_000]
    assert detect_onset(healthy, []) is None


@pytest.fixture(scope="module")
def analysed(incident):
    idx = mine_templates(pa.array(incident.records["message"].tolist()))
    keys = np.array(idx.templates, dtype=object)[idx.template_ids]
    return analyze_incident(incident.records, incident.findings, metrics=incident.metrics,
                            gc_events=incident.gc_events, thread_states=incident.thread_states,
                            http_requests=incident.http_requests, event_keys=keys)


def test_incident_json_validates_against_schema(analysed):
    jsonschema.validate(analysed.to_json(), load_schema())


def test_top_root_cause_is_the_encoder_npe(analysed):
    top = analysed.root_cause_candidates[0]
    assert top.fingerprint == NPE_FP and top.exception == "java.lang.NullPointerException"
    oom = next(c for c in analysed.root_cause_candidates if c.fingerprint == OOM_FP)
    assert oom.score < top.score / 2  # the symptom ranks far below the cause


def test_leak_attributed_per_disconnect(analysed):
    (leak,) = analysed.leaks
    assert leak.per_event is not None
    assert leak.per_event.amount == pytest.approx(LEAK, rel=0.01)


def test_symptoms_and_precursors_have_ground_truth_offsets(analysed, incident):
    by_kind = {s.kind: s for s in analysed.first_symptoms}
    assert by_kind["first-5xx"].offset_ms > 30_000  # 5xx start 30 s after onset
    assert by_kind["first-5xx"].offset_ms < 31_000
    assert by_kind["first-gc-anomaly"].offset_ms == -300_000  # storm 5 min before
    assert by_kind["first-blocked-threads"].offset_ms > 60_000
    kinds = {p.kind for p in analysed.precursors}
    assert {"gc-spike", "new-fingerprint"} <= kinds
    new = [p for p in analysed.precursors if p.kind == "new-fingerprint"]
    assert [TIMEOUT_FP in p.detail for p in new] == [True]
    leads = [p.lead_ms for p in analysed.precursors]
    assert leads == sorted(leads, reverse=True) and min(leads) > 0
