"""Alerts leave the watcher: a real local HTTP receiver, a real Prometheus scrape."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from logsleuth.watch.events import EventLog
from logsleuth.watch.sinks import MetricsEndpoint, Snapshot, Webhook


class Receiver:
    """127.0.0.1 server that fails the first ``fail`` requests with 500, then records;
    ``note``: called at each recorded POST, its answer kept beside the body (``notes``)."""

    def __init__(self, fail: int = 0, note: Any = None) -> None:
        self.bodies: list[Any] = []
        self.notes: list[Any] = []
        self.fail = fail
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                data = self.rfile.read(int(self.headers["Content-Length"]))
                if outer.fail > 0:
                    outer.fail -= 1
                    self.send_response(500)
                else:
                    outer.notes.append(None if note is None else note())
                    outer.bodies.append(json.loads(data))
                    self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def wait(self, n: int, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while len(self.bodies) < n and time.monotonic() < deadline:
            time.sleep(0.05)


def forecast() -> dict[str, Any]:
    return EventLog().event("forecast", 1_700_000_000_000, metric="netty_direct_memory_used",
                            eta="2026-12-07T09:40:00.000Z", ceiling={"value": 2**31},
                            per_event={"template": "Client disconnected: <*>", "amount": 256.0},
                            confidence=0.99)


def test_webhook_posts_events_and_retries_with_backoff() -> None:
    with Receiver(fail=2) as rx:
        hook = Webhook(rx.url, backoff=0.05)
        hook(EventLog().event("heartbeat", None))  # not an alert: not posted
        hook(forecast())
        rx.wait(1)
        hook.close()
    assert len(rx.bodies) == 1 and rx.bodies[0]["event"] == "forecast"
    assert rx.bodies[0]["per_event"]["amount"] == 256.0
    assert hook.sent == 1 and hook.failed == 0


def test_webhook_alertmanager_body() -> None:
    with Receiver() as rx:
        hook = Webhook(rx.url, "alertmanager")
        hook(forecast())
        rx.wait(1)
        hook.close()
    (alerts,) = rx.bodies
    assert isinstance(alerts, list) and len(alerts) == 1
    alert = alerts[0]
    assert alert["labels"]["alertname"] == "logsleuth_forecast"
    assert alert["labels"]["metric"] == "netty_direct_memory_used"
    assert "2026-12-07T09:40:00.000Z" in alert["annotations"]["summary"]
    assert alert["startsAt"].endswith("Z")


def test_dead_receiver_never_blocks_the_caller() -> None:
    hook = Webhook("http://127.0.0.1:9/none", attempts=3, backoff=0.2, capacity=5)
    start = time.monotonic()
    for _ in range(50):
        hook(forecast())
    assert time.monotonic() - start < 0.5  # queued, never sent inline
    assert hook.dropped >= 40  # the bounded queue kept the newest
    hook.close(timeout=1.0)


class _Leak:
    metric, unit, slope_per_hour, exhaustion_at_ms = "netty_direct_memory_used", "B", 921.6, \
        1_796_534_426_656
    projection, projected = None, True


def test_metrics_endpoint_is_scraped_and_parsed() -> None:
    from prometheus_client.parser import text_string_to_metric_families

    snap = Snapshot()
    snap.leaks = [_Leak()]
    snap.findings = {"netty-out-of-direct-memory": 671}
    snap.records = {"push-server.log": 14988}
    snap.evidence_ms = 1_796_534_414_413
    endpoint = MetricsEndpoint(0, snap)
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{endpoint.port}/metrics",
                                    timeout=10) as resp:
            text = resp.read().decode()
    finally:
        endpoint.close()
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for fam in text_string_to_metric_families(text) for s in fam.samples}
    assert samples[("logsleuth_leak_rate_per_hour",
                    (("metric", "netty_direct_memory_used"), ("unit", "B")))] == 921.6
    assert samples[("logsleuth_exhaustion_timestamp_seconds",
                    (("metric", "netty_direct_memory_used"),))] == pytest.approx(1796534426.656)
    assert samples[("logsleuth_findings_total",
                    (("rule", "netty-out-of-direct-memory"),))] == 671
    assert samples[("logsleuth_records_read_total", (("file", "push-server.log"),))] == 14988


def test_cli_posts_forecasts_and_serves_metrics_end_to_end(tmp_path: Any) -> None:
    """The real CLI on a recorded leak: the webhook receiver gets the forecast and the
    Prometheus endpoint says the same leak, ETA and records read."""
    import gzip
    import os
    import signal
    import socket
    import subprocess
    import sys
    from pathlib import Path

    from prometheus_client.parser import text_string_to_metric_families

    root = Path(__file__).resolve().parents[2]
    case = root / "sample_logs" / "matrix" / "unpooled-netty-256-k-cut"
    rolled = sorted(case.glob("push-server-*.log.gz"),
                    key=lambda p: int(p.name.rsplit("-", 1)[1].split(".")[0]))
    data = b"".join(gzip.decompress(p.read_bytes()) for p in rolled) + \
        (case / "push-server.log").read_bytes()
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "push-server.log").write_bytes(data)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = tmp_path / "events.jsonl"
    with Receiver() as rx:
        proc = subprocess.Popen(
            [sys.executable, "-c", "from logsleuth.cli import main; main()", "watch",
             str(logs), "--tz", "Europe/Berlin", "--interval", "1", "--jsonl", str(out),
             "--webhook", rx.url, "--metrics-port", str(port)],
            env={**os.environ, "PYTHONPATH": str(root)}, stderr=subprocess.PIPE)
        try:
            rx.wait(1, timeout=90)
            deadline = time.monotonic() + 30
            samples: dict[Any, float] = {}
            while time.monotonic() < deadline:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics",
                                            timeout=10) as resp:
                    text = resp.read().decode()
                samples = {(m.name, tuple(sorted(m.labels.items()))): m.value
                           for fam in text_string_to_metric_families(text)
                           for m in fam.samples}
                if samples.get(("logsleuth_records_read_total",
                                (("file", "push-server.log"),))) == 7978:
                    break
                time.sleep(0.5)
        finally:
            proc.send_signal(signal.SIGTERM)
            _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err.decode()
    posted = [b for b in rx.bodies if b["event"] == "forecast"]
    assert posted and posted[0]["metric"] == "netty_direct_memory_used"
    events = [json.loads(line) for line in out.read_text().splitlines()]
    last = [e for e in events if e["event"] == "forecast"][-1]
    eta = samples[("logsleuth_exhaustion_timestamp_seconds",
                   (("metric", "netty_direct_memory_used"),))]
    newest = samples[("logsleuth_evidence_timestamp_seconds", ())]
    # the endpoint's ETA is the latest; the last forecast said stands within 10 % of the
    # time left (else it would have been said again)
    assert abs(eta - _iso_ms(last["eta"]) / 1000) <= 0.1 * max(eta - newest, 1.0)
    bound = {b: samples[("logsleuth_exhaustion_bound_timestamp_seconds",
                         (("bound", b), ("metric", "netty_direct_memory_used")))]
             for b in ("earliest", "latest")}
    assert bound["earliest"] <= eta <= bound["latest"], (bound, eta)
    assert samples[("logsleuth_leak_rate_per_hour",
                    (("metric", "netty_direct_memory_used"), ("unit", "B")))] > 0
    assert samples[("logsleuth_records_read_total", (("file", "push-server.log"),))] == 7978
    assert samples[("logsleuth_findings_total", (("rule", "exception-in-encoder"),))] > 0


def _iso_ms(text: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000
