"""A real JVM leaks while the watcher follows its logs as log4j2 writes, rolls and gzips them.

The reproduction (sample_logs/repro: PushServer on netty 4.1.48 and log4j2 2.19, rolled
every 512 KB to ``.gz``) runs with a 1 MiB direct-memory ceiling and 256 B lost per
disconnect, driven by its client on 127.0.0.1 for at most ~90 s. Truth comes from the run
(sample_logs/repro/truth.py reads the written files, never logsleuth). Needs openjdk 17,
libnetty-java, liblog4j2-java and libjackson2-databind-java (scripts/test.sh installs them
in CI).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from logsleuth.options import ScanOptions
from logsleuth.watch.run import Watcher, WatchOptions
from tests.watch.test_sinks import Receiver

ROOT = Path(__file__).resolve().parents[2]
GAUGE = "netty_direct_memory_used"  # the run counts direct memory with netty's counter
REPRO = ROOT / "sample_logs" / "repro"
JARS = ("netty-common", "netty-buffer", "netty-transport", "netty-codec", "netty-codec-http",
        "netty-handler", "log4j-api", "log4j-core")
MISSING = [j for j in JARS if not Path(f"/usr/share/java/{j}.jar").exists()]
if shutil.which("javac") is None:
    MISSING.append("javac (openjdk-17-jdk-headless)")

pytestmark = [
    pytest.mark.live_jvm,
    pytest.mark.skipif(bool(MISSING), reason=f"the live JVM test needs Debian packages "
                       f"openjdk-17-jdk-headless, libnetty-java, liblog4j2-java; missing: "
                       f"{', '.join(MISSING)} (scripts/test.sh installs them as root)"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def matrix(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """sample_logs/repro/matrix.py on a free port, with PushServer compiled once."""
    os.environ["PUSH_MATRIX_PORT"] = str(_free_port())
    sys.path.insert(0, str(REPRO))
    try:
        import matrix as m
        import truth as t
    finally:
        sys.path.remove(str(REPRO))
    classes = tmp_path_factory.mktemp("classes")
    subprocess.run(["javac", "-g", "-cp", ":".join(m.LIBS), "-d", str(classes),
                    str(REPRO / "PushServer.java")], check=True, timeout=300)
    return m, t, classes


def _ms(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000


def _oom_on_disk(t: Any, app: Path) -> bool:
    for f in t.app_log_files(app):
        try:
            data = t.read_bytes(f)
        except (OSError, EOFError):
            continue  # an archive being written
        if b"OutOfDirectMemoryError" in data or b"java.lang.OutOfMemoryError" in data:
            return True
    return False


def _live_run(matrix: Any, tmp_path: Path, leak: bool, seconds: float
              ) -> tuple[list[dict[str, Any]], dict[str, Any], Any, Path]:
    m, t, classes = matrix
    run = m.Run("live", "unpooled", "netty", 256, "k", 1 << 20, leak=leak, max_s=seconds)
    app, js = tmp_path / "app", tmp_path / "json"
    app.mkdir()
    js.mkdir()
    cmd = [*m.jvm_args(run, app, js, tmp_path / "truth.csv"), "-cp",
           f"{classes}:{':'.join(m.LIBS)}", "com.example.push.PushServer"]
    events: list[dict[str, Any]] = []
    oom_at_forecast: list[bool] = []

    def emit(event: dict[str, Any]) -> None:
        if event["event"] == "forecast":
            oom_at_forecast.append(_oom_on_disk(t, app))
        events.append(event)

    watcher = Watcher(WatchOptions(paths=(str(app),), scan=ScanOptions(tz=m.ZONE),
                                   interval=0.5, poll=0.1, settle=1.0, notify=True), emit)
    thread = threading.Thread(target=watcher.run)
    with (tmp_path / "jvm.out").open("ab") as out:
        jvm = subprocess.Popen(cmd, cwd=app, stdout=out, stderr=subprocess.STDOUT,
                               env=dict(os.environ, TZ=m.ZONE))
    client = None
    try:
        m.wait_health(jvm, 60)
        thread.start()
        client = m.client(seconds + 10, run)
        start = time.monotonic()
        while time.monotonic() - start < seconds:
            if leak and _oom_on_disk(t, app):
                time.sleep(2.0)  # the flood, a roll or two
                break
            time.sleep(0.25)
        client.send_signal(15)
        client.communicate(timeout=30)
        client = None
    finally:
        if client is not None:
            client.kill()
        m.stop(jvm)
        time.sleep(2.0)  # the watcher reads what the JVM wrote last
        watcher.stop.set()
        if thread.is_alive():
            thread.join(60)
    truth = t.case_truth(app, tmp_path / "truth.csv", m.ZONE)
    return events, {"truth": truth, "oom_at_forecast": oom_at_forecast}, watcher, app


def test_forecast_before_the_oom_with_the_eta_within_10_percent(matrix: Any,
                                                                  tmp_path: Path) -> None:
    events, seen, watcher, app = _live_run(matrix, tmp_path, leak=True, seconds=90)
    truth = seen["truth"]
    assert truth["onset"] is not None, "the run did not reach its ceiling in time"
    assert len(list(app.glob("push-server-*.log.gz"))) >= 2  # it rolled and compressed
    exhausted = _ms(truth["onset"]["ts_utc"])  # the first OOM record's log time
    # only netty's counter leaks: the heap and metaspace of a JVM a minute old grow while
    # it warms up (the old generation 1 -> 6 MiB in G1 regions, then flat through ten Full
    # GCs), and a forecast of them is a false alarm
    said = [(e, oom) for e, oom in zip([e for e in events if e["event"] == "forecast"],
                                       seen["oom_at_forecast"], strict=True)]
    assert {e["metric"] for e, _ in said} <= {GAUGE}, [e["metric"] for e, _ in said]
    forecasts = [e for e, _ in said if e["eta"]]
    before = [(e, oom) for e, oom in said if e["eta"] and not oom]
    assert before, f"no forecast before the first OOM was written: {forecasts}"

    def lead(e: dict[str, Any]) -> float:
        return exhausted - _ms(e["evidence_time"])

    first, _ = before[0]
    assert lead(first) >= 10_000, first  # a warning, not a last-second notice
    # a forecast said 10 s or more ahead whose ETA is within 10 % of its lead; the earliest
    # ones, from a few samples, may miss more (the churn, and so the leak, speeds up)
    good = [e for e, _ in before if lead(e) >= 10_000
            and abs(_ms(e["eta"]) - exhausted) <= 0.1 * lead(e)]
    assert good, [(e["evidence_time"], e["eta"]) for e, _ in before]
    last = good[-1]
    assert last["ceiling"]["value"] == truth["ceiling"]["bytes"]
    # per disconnect, or per its logged cause (the NPE is logged once per leaked disconnect);
    # the churners' sessions last milliseconds, so connects move with disconnects too: when
    # the analysis says it cannot tell them apart, the disconnect must be among the named.
    # Every forecast before the OOM that names an event is what a user was told: all of them
    # are checked (a later one may name none, with its per_event_reason, when too few
    # windows or a steady event rate cannot tell an event from the clock)
    named_ones = [e for e, _ in before if e["per_event"] is not None]
    assert all(e["per_event_reason"] for e, _ in before if e["per_event"] is None)
    causes = (truth["leak"]["event_template_prefix"], truth["cause"]["template_prefix"])
    # the onset is the first OOM record; said again only as a revision to another instant
    onsets = [e for e in events if e["event"] == "onset"]
    assert onsets and _ms(onsets[-1]["onset"]) == exhausted
    assert [e["revised"] for e in onsets] == [False] + [True] * (len(onsets) - 1)
    assert len({e["onset"] for e in onsets}) == len(onsets)
    # every record the JVM wrote was read once: rolled, compressed files included; and
    # the GC log beside it is read too
    # (9-119 short in most runs until a roll between the poll's stat and open was found:
    # watch/follow.py reads through one descriptor whose inode is checked)
    assert _app_records(watcher) == truth["counts"]["records"]
    assert watcher.analysis.records_read.get("gc.log", 0) > 0
    assert not [e for e in events if e["event"] == "lost"]
    # The attribution last, after every check of the watcher's own. It missed in live runs
    # (issue 15: a weak-fit naming 'Pushed quote', 'Client connected' named as unique or
    # even decided by lead-lag over 16 analyses of one run, per event null at the end,
    # in 3 of 9 recorded runs of the code before the fix) because the identifying
    # variation of a short run is in its first gauge interval, where the client ramps up
    # (~70 disconnects, then ~145 a second at a steady rate): that interval was lost when
    # the reporter's period jittered past the
    # bin width (the growth range began at its bin's last sample), or set aside as a warm-up
    # for a residual within the monitor's KiB rounding; without it the disconnect's count is
    # flat (cv < 5 %) and no candidate. Fixed in regimes.bin_starts and attribution.resolution.
    assert named_ones, "no forecast before the OOM named an event"
    for e in named_ones:
        per = e["per_event"]
        named = per["template"].startswith(causes) or (
            per["decided"] == "ambiguous"
            and any(a.startswith(causes) for a in per["alternatives"]))
        assert named and per["amount"] == pytest.approx(truth["leak"]["bytes_per_event"],
                                                        rel=0.02), (e["evidence_time"], per)


def test_healthy_variant_gives_no_forecast(matrix: Any, tmp_path: Path) -> None:
    events, seen, watcher, _ = _live_run(matrix, tmp_path, leak=False, seconds=25)
    kinds = [e["event"] for e in events]
    assert "forecast" not in kinds and "onset" not in kinds, events
    assert _app_records(watcher) == seen["truth"]["counts"]["records"]


def _app_records(watcher: Any) -> int:
    """Records read of the app log (its rolled files carry its name)."""
    return sum(n for name, n in watcher.analysis.records_read.items()
               if name.startswith("push-server"))


def _scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    import urllib.request

    from prometheus_client.parser import text_string_to_metric_families

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as resp:
        text = resp.read().decode()
    return {(m.name, tuple(sorted(m.labels.items()))): m.value
            for fam in text_string_to_metric_families(text) for m in fam.samples}


def test_cli_restarted_from_state_while_the_jvm_rolls_alerts_by_webhook_and_metrics(
        matrix: Any, tmp_path: Path) -> None:
    """The real CLI as a user runs it (``--state --jsonl --webhook --metrics-port``) on the
    live JVM, stopped with SIGTERM mid-run and started again on the same state while the
    JVM goes on writing and rolling: every record is read once over both runs, nothing
    said twice, the forecast reaches a real webhook receiver before the first OOM is
    written, and the Prometheus endpoint, parsed by prometheus_client, says the leak."""
    import json
    import signal

    m, t, classes = matrix
    run = m.Run("live", "unpooled", "netty", 256, "k", 1 << 20, leak=True, max_s=90)
    app, js = tmp_path / "app", tmp_path / "json"
    app.mkdir()
    js.mkdir()
    cmd = [*m.jvm_args(run, app, js, tmp_path / "truth.csv"), "-cp",
           f"{classes}:{':'.join(m.LIBS)}", "com.example.push.PushServer"]
    hook = Receiver(note=lambda: _oom_on_disk(t, app))  # was the OOM on disk at each POST
    state, port = tmp_path / "watch.state", _free_port()

    def watch(n: int) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-c", "from logsleuth.cli import main; main()", "watch", str(app),
             "--tz", m.ZONE, "--interval", "1", "--state", str(state),
             "--jsonl", str(tmp_path / f"events{n}.jsonl"), "--webhook", hook.url,
             "--metrics-port", str(port)],
            env={**os.environ, "PYTHONPATH": str(ROOT)}, stderr=subprocess.PIPE)

    def stop(proc: subprocess.Popen[bytes]) -> None:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err.decode()[-2000:]

    with (tmp_path / "jvm.out").open("ab") as out:
        jvm = subprocess.Popen(cmd, cwd=app, stdout=out, stderr=subprocess.STDOUT,
                               env=dict(os.environ, TZ=m.ZONE))
    client = first = second = None
    samples: dict[Any, float] = {}
    with hook:
        try:
            m.wait_health(jvm, 60)
            first = watch(1)
            client = m.client(100, run)
            time.sleep(15)
            stop(first)  # the JVM goes on writing and rolling with no watcher
            first = None
            time.sleep(4)
            second = watch(2)
            start = time.monotonic()
            while time.monotonic() - start < 75 and not _oom_on_disk(t, app):
                time.sleep(0.25)
            time.sleep(2.0)
            client.send_signal(15)
            client.communicate(timeout=30)
            client = None
            m.stop(jvm)
            written = t.case_truth(app, tmp_path / "truth.csv", m.ZONE)["counts"]["records"]
            deadline = time.monotonic() + 60  # the last records settle (5 s), are analysed
            while time.monotonic() < deadline:
                samples = _scrape(port)
                if _records_scraped(samples) >= written:
                    break
                time.sleep(0.5)
            stop(second)
            second = None
        finally:
            for proc in (client, first, second):
                if proc is not None:
                    proc.kill()
                    proc.wait(10)
            m.stop(jvm)
    truth = t.case_truth(app, tmp_path / "truth.csv", m.ZONE)
    assert truth["onset"] is not None, "the run did not reach its ceiling in time"
    ev1, ev2 = ([json.loads(x) for x in (tmp_path / f"events{n}.jsonl").read_text().splitlines()]
                for n in (1, 2))
    assert ev1[-1]["event"] == "stopped" and ev2[0]["event"] == "started"
    assert ev2[0]["resumed"] is True and ev2[-1]["event"] == "stopped"
    # every record once over both runs (the state holds what the first one read)
    resumed = Watcher(WatchOptions(paths=(str(app),), scan=ScanOptions(tz=m.ZONE),
                                   state=str(state)), lambda e: None)
    assert resumed.restore()
    assert _app_records(resumed) == truth["counts"]["records"]
    assert not [e for e in ev1 + ev2 if e["event"] == "lost"]
    # nothing said twice: a new finding (a fingerprint is per rule), the onset
    new = [(e["rule"], e["fingerprint"]) for e in ev1 + ev2
           if e["event"] == "finding" and e["reason"] == "new"]
    assert new and len(new) == len(set(new))
    onsets = [e for e in ev1 + ev2 if e["event"] == "onset"]  # revised only, never repeated
    assert onsets and _ms(onsets[-1]["onset"]) == _ms(truth["onset"]["ts_utc"])
    assert [e["revised"] for e in onsets] == [False] + [True] * (len(onsets) - 1)
    assert len({e["onset"] for e in onsets}) == len(onsets)
    # the webhook: a forecast of the leaking gauge with an ETA, received before the first
    # OOM record was on disk, and only the kinds it is for
    got = list(zip(hook.bodies, hook.notes, strict=True))
    posted = [(b, oom) for b, oom in got if b["event"] == "forecast"]
    assert {b["event"] for b, _ in got} <= {"forecast", "onset", "finding"}
    assert any(b["metric"] == GAUGE and b["eta"] and not oom for b, oom in posted), posted
    assert {b["metric"] for b, _ in posted} <= {GAUGE}
    # the endpoint: the leak's rate, the findings, and the records read, as the state has them
    assert samples[("logsleuth_leak_rate_per_hour", (("metric", GAUGE), ("unit", "B")))] > 0
    assert samples[("logsleuth_findings_total", (("rule", "exception-in-encoder"),))] > 0
    assert _records_scraped(samples) == truth["counts"]["records"]


def _records_scraped(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float]) -> float:
    return sum(v for (name, labels), v in samples.items()
               if name == "logsleuth_records_read_total"
               and dict(labels)["file"].startswith("push-server"))
