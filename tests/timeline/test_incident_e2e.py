"""Incident analysis end to end: real files through ``logsleuth.scan``, known ground truth.

The bundled sample (a real netty server leaking 256 B per disconnect) and generated
incidents in other shapes: another layout and time zone, a heap OOM, a healthy service.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from logsleuth import api

SAMPLES = Path(__file__).resolve().parents[2] / "sample_logs"

NPE = ("java.lang.NullPointerException: null\n"
       "\tat com.example.push.PacketEncoder.encodePacket(PacketEncoder.java:88)\n"
       "\tat io.netty.handler.codec.MessageToByteEncoder.write(MessageToByteEncoder.java:107)\n"
       "\tat io.netty.channel.AbstractChannelHandlerContext.invokeWrite0(AbstractChannelHandlerContext.java:717)\n")
ODM = ("io.netty.util.internal.OutOfDirectMemoryError: failed to allocate 256 byte(s) of direct memory"
       " (used: {used}, max: {max})\n"
       "\tat io.netty.util.internal.PlatformDependent.incrementMemoryCounter(PlatformDependent.java:754)\n"
       "\tat io.netty.buffer.UnpooledByteBufAllocator.newDirectBuffer(UnpooledByteBufAllocator.java:91)\n")
HEAP = ("java.lang.OutOfMemoryError: Java heap space\n"
        "\tat java.util.Arrays.copyOf(Arrays.java:3512)\n"
        "\tat com.example.push.History.append(History.java:51)\n")

LAYOUTS = {
    "log4j2": ("%d{yyyy-MM-dd HH:mm:ss.SSS} %-5level [%t] %logger{36} - %msg%n",
               lambda t, lvl, th, lg, m: f"{t:%Y-%m-%d %H:%M:%S}.{t.microsecond // 1000:03d} "
                                         f"{lvl:<5} [{th}] {lg} - {m}"),
    "logback-iso": ("%d{yyyy-MM-dd'T'HH:mm:ss.SSS} [%thread] %-5level %logger{36} - %msg%n",
                    lambda t, lvl, th, lg, m: f"{t:%Y-%m-%dT%H:%M:%S}.{t.microsecond // 1000:03d} "
                                              f"[{th}] {lvl:<5} {lg} - {m}"),
}


def generate(path: Path, *, layout: str, zone: str, failure: str | None, seed: int = 7,
             minutes: int = 40, leak: int = 256) -> dict[str, object]:
    """Write an app log; return the ground truth (onset instant and line)."""
    rng = np.random.default_rng(seed)
    fmt = LAYOUTS[layout][1]
    tz = ZoneInfo(zone)
    t0 = datetime(2026, 3, 8, 5, 30, tzinfo=UTC)  # US DST starts during the New York run
    end_s = minutes * 60
    rate = 1.5 + np.sin(np.linspace(0, 6, end_s)) ** 2 * 4  # traffic varies
    disc = np.sort(rng.uniform(0, end_s, int(rate.sum())))
    conn = np.sort(rng.uniform(0, end_s, len(disc)))
    events: list[tuple[float, str, str, str, str]] = []
    for s in conn:
        events.append((s, "INFO", "nioEventLoopGroup-3-1", "com.example.push.SessionHandler",
                       f"Client connected: sessionId={rng.integers(1 << 60):016x}"))
    for s in disc:
        events.append((s, "INFO", "nioEventLoopGroup-3-2", "com.example.push.SessionHandler",
                       f"Client disconnected: sessionId={rng.integers(1 << 60):016x}"))
        if failure == "direct":
            events.append((s + 0.0004, "ERROR", "nioEventLoopGroup-3-2",
                           "com.example.push.PacketEncoder",
                           f"Failed to encode packet for sessionId={rng.integers(1 << 60):016x}\n"
                           + NPE.rstrip("\n")))
    base, limit = 16 << 20, (16 << 20) + leak * int(len(disc) * 0.8)
    onset_s = None
    for sec in range(end_s):
        used = base + leak * int(np.searchsorted(disc, sec + 0.5)) if failure == "direct" else base
        if failure == "direct" and used >= limit and onset_s is None:
            onset_s = sec + 0.7
        if failure != "direct" or onset_s is None:
            events.append((sec + 0.5, "INFO", "direct-memory-monitor", "com.example.push.metrics",
                           f"netty_direct_memory: {used // 1024}k"))
    if failure == "heap":
        onset_s = end_s * 0.8
    if onset_s is not None:
        events = [e for e in events if e[0] < onset_s or e[1] != "ERROR"]
        for k in range(300):
            s = onset_s + k * 0.05
            body = (ODM.format(used=limit - 64, max=limit) if failure == "direct" else HEAP).rstrip("\n")
            events.append((s, "ERROR", f"nioEventLoopGroup-3-{k % 4}", "com.example.push.PushHandler",
                           f"Unhandled exception sessionId={k:08x}\n{body}"))
    events.sort(key=lambda e: e[0])
    lines: list[str] = []
    onset_line = None
    for s, lvl, th, lg, msg in events:
        t = (t0 + timedelta(seconds=s)).astimezone(tz)
        if onset_s is not None and onset_line is None and s >= onset_s:
            onset_line = len(lines) + 1
            onset_ms = int((t0 + timedelta(seconds=s)).timestamp() * 1000)
        lines.extend(fmt(t, lvl, th, lg, msg).split("\n"))
    path.write_text("\n".join(lines) + "\n")
    return {"onset_ms": onset_ms if onset_line else None, "onset_line": onset_line}


def iso_ms(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


def test_sample_incident_matches_ground_truth() -> None:
    truth = json.loads((SAMPLES / "incident.truth.json").read_text())["app"]
    first = truth["first_out_of_direct_memory_error"]
    result = api.scan(SAMPLES / "incident")
    inc = result.incident.to_json()
    # the app log is zone-less; its GC log and nginx say +01:00
    onset = datetime.strptime(first["timestamp"], "%Y-%m-%d %H:%M:%S.%f").replace(
        tzinfo=ZoneInfo("Europe/Berlin"))
    assert iso_ms(inc["onset"]) == int(onset.timestamp() * 1000)
    assert inc["onset_evidence"]["path"] == first["record_file"]
    assert inc["onset_evidence"]["line"] == first["record_line"]
    assert inc["timezone"]["zone"] == "+01:00"
    leak = next(k for k in inc["leaks"] if k["metric"].startswith("netty_direct_memory"))
    assert leak["per_event"]["template"].startswith("Client disconnected")
    assert leak["per_event"]["amount"] == pytest.approx(256, rel=0.01)
    top = inc["root_cause_candidates"][0]
    assert top["exception"] == "java.lang.NullPointerException"


def test_healthy_sample_has_no_incident() -> None:
    result = api.scan(SAMPLES / "healthy")
    assert result.incident is None
    assert result.to_json()["incident"] is None
    assert sum(s.records for s in result.inputs) > 1000


@pytest.mark.parametrize("sample", ["incident", "healthy"])
def test_bundled_samples_hold_evidence_only(sample: str) -> None:
    """The Quickstart's first screen: every input recognised, no line left unparsed."""
    result = api.scan(SAMPLES / sample)
    assert result.inputs
    assert [s.path for s in result.inputs if str(s.kind) == "unknown"] == []
    assert sum(s.unparsed_lines for s in result.inputs) == 0


@pytest.mark.parametrize(("layout", "zone"), [("log4j2", "UTC"), ("logback-iso", "America/New_York")])
def test_generated_direct_memory_incident(tmp_path: Path, layout: str, zone: str) -> None:
    truth = generate(tmp_path / "push.log", layout=layout, zone=zone, failure="direct")
    result = api.scan(tmp_path, tz=zone, pattern=LAYOUTS[layout][0])
    inc = result.incident.to_json()
    assert iso_ms(inc["onset"]) == truth["onset_ms"]
    assert inc["onset_evidence"]["line"] == truth["onset_line"]
    per = inc["leaks"][0]["per_event"]
    assert per["template"] == "Client disconnected: sessionId=<*>"
    assert per["amount"] == pytest.approx(256, rel=0.01)
    top = inc["root_cause_candidates"][0]
    assert top["exception"] == "java.lang.NullPointerException"
    assert top["template"] == "Failed to encode packet for sessionId=<*>"


def test_generated_heap_oom_incident(tmp_path: Path) -> None:
    truth = generate(tmp_path / "push.log", layout="log4j2", zone="UTC", failure="heap")
    result = api.scan(tmp_path, tz="UTC")
    inc = result.incident.to_json()
    assert iso_ms(inc["onset"]) == truth["onset_ms"]
    assert inc["onset_evidence"]["line"] == truth["onset_line"]
    assert inc["leaks"] == []  # the direct-memory monitor is flat
    assert inc["root_cause_candidates"][0]["exception"] == "java.lang.OutOfMemoryError"


def test_generated_healthy_service_has_no_incident(tmp_path: Path) -> None:
    generate(tmp_path / "push.log", layout="log4j2", zone="UTC", failure=None)
    result = api.scan(tmp_path, tz="UTC")
    assert result.incident is None
    assert result.findings == []


def test_baseline_lists_what_is_new_in_the_incident() -> None:
    result = api.scan(SAMPLES / "incident", baseline=SAMPLES / "healthy")
    diff = result.to_json()["baseline"]
    new = {t["template"] for t in diff["new_templates"]}
    # the failing publish (the NPE path) never happens on the healthy server
    assert "Failed to publish offline presence for sessionId=<*>" in new
    # while everyday traffic is shared with the healthy run
    assert not any(t.startswith("Client connected") for t in new)
    assert "java.lang.NullPointerException > java.lang.NullPointerException" in \
        diff["new_fingerprints"]
    hot = result.incident.to_json()["template_anomalies"]
    assert hot and hot[0]["template"].startswith("Unhandled exception on channel")


def test_incident_json_validates_against_its_schema() -> None:
    import jsonschema

    from logsleuth.timeline.incident import load_schema

    inc = api.scan(SAMPLES / "incident").incident.to_json()
    jsonschema.validate(inc, load_schema())


def test_template_shapes_keep_distinct_statements_apart(tmp_path: Path) -> None:
    """Messages are mined per hex-masked shape: ids collapse, different words do not."""
    import pyarrow as pa

    from logsleuth.engine.analysis import AnalysisCollector

    c = AnalysisCollector({})
    msgs = pa.array(["Client disconnected: sessionId=3cfd7d93", "Client disconnected: sessionId=cafe0001",
                     "Client connected: sessionId=3cfd7d93", "user alice logged in", "user bob logged in",
                     None, "took 12 ms", "took 977 ms"])
    ids = c._template_ids(msgs)
    assert ids[0] == ids[1]  # ids differ only in hex digits
    assert ids[0] != ids[2]  # another statement
    assert ids[3] != ids[4] or "<*>" in c.miner.templates[ids[3]]  # words are not hex
    assert ids[5] == -1
    assert ids[6] == ids[7] and "<*>" in c.miner.templates[ids[6]]


def test_summary_paragraph_names_onset_in_the_logs_zone_and_in_utc() -> None:
    from logsleuth.reports.clock import display_zone
    from logsleuth.reports.narrative import incident_paragraph

    result = api.scan(SAMPLES / "incident")
    text = incident_paragraph(result)
    assert text.startswith("At 2026-11-26 11:28:23.858 +01:00 (10:28:23.858 UTC)")
    in_utc = incident_paragraph(result, display_zone(result, "utc"))
    assert in_utc.startswith("At 2026-11-26 10:28:23.858 UTC (11:28:23.858 +01:00 in the logs)")
    assert "push-server-2026-11-26-9.log.gz:2592" in text
    assert "java.lang.NullPointerException" in text
