"""Where watch events go: JSON lines, a webhook, a Prometheus endpoint.

The webhook posts from a background thread with retries and backoff through a
bounded queue, so a slow or dead receiver never holds up reading; the oldest
queued alert is dropped (and counted) when the queue is full.
"""

from __future__ import annotations

import json
import queue
import sys
import threading
import time
import urllib.error
import urllib.request
from typing import IO, Any

WEBHOOK_KINDS = ("forecast", "onset", "finding")


class JsonLines:
    """One JSON object per line, flushed per event (``-`` is stdout)."""

    def __init__(self, target: str) -> None:
        self._own = target != "-"
        self.stream: IO[str] = (open(target, "a", encoding="utf-8") if self._own  # noqa: SIM115
                                else sys.stdout)

    def __call__(self, event: dict[str, Any]) -> None:
        self.stream.write(json.dumps(event, ensure_ascii=False, default=str) + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self._own:
            self.stream.close()


def alertmanager_body(event: dict[str, Any]) -> list[dict[str, Any]]:
    """An Alertmanager ``POST /api/v2/alerts`` body: a list with one alert."""
    kind = event["event"]
    labels = {"alertname": f"logsleuth_{kind}", "source": "logsleuth"}
    for key in ("metric", "rule", "severity", "fingerprint"):
        if event.get(key) is not None:
            labels[key] = str(event[key])
    if kind == "forecast":
        summary = (f"{event['metric']} reaches its ceiling at {event['eta']}"
                   if event.get("eta") else f"{event['metric']} leaks (no ceiling known)")
    elif kind == "onset":
        summary = f"failure began at {event.get('onset')}: {event.get('text')}"
    else:
        summary = f"{event.get('title')} ({event.get('count')} so far)"
    return [{"labels": labels,
             "annotations": {"summary": summary,
                             "description": json.dumps(event, default=str)[:4000]},
             "startsAt": event["wall_time"]}]


class Webhook:
    """POSTs events as JSON (or Alertmanager alerts) without ever blocking the caller."""

    def __init__(self, url: str, fmt: str = "json", *, attempts: int = 5,
                 backoff: float = 0.5, timeout: float = 5.0, capacity: int = 1000) -> None:
        self.url, self.fmt = url, fmt
        self.attempts, self.backoff, self.timeout = attempts, backoff, timeout
        self.queue: queue.Queue[dict[str, Any] | None] = queue.Queue(capacity)
        self.sent = self.failed = self.dropped = 0
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="logsleuth-webhook",
                                        daemon=True)
        self._thread.start()

    def __call__(self, event: dict[str, Any]) -> None:
        if event["event"] not in WEBHOOK_KINDS:
            return
        while True:
            try:
                self.queue.put_nowait(event)
                return
            except queue.Full:
                try:
                    self.queue.get_nowait()
                    self.dropped += 1
                except queue.Empty:
                    pass

    def _run(self) -> None:
        while True:
            event = self.queue.get()
            if event is None:
                return
            body = alertmanager_body(event) if self.fmt == "alertmanager" else event
            data = json.dumps(body, default=str).encode()
            for attempt in range(self.attempts):
                try:
                    req = urllib.request.Request(self.url, data=data, method="POST",
                                                 headers={"Content-Type": "application/json"})
                    with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                        resp.read()
                    self.sent += 1
                    break
                except (urllib.error.URLError, OSError, ValueError):
                    if attempt + 1 == self.attempts or self._stopping.wait(
                            self.backoff * 2 ** attempt):
                        self.failed += 1
                        break

    def close(self, timeout: float = 5.0) -> None:
        """Send what is queued (for up to ``timeout`` seconds), then stop."""
        deadline = time.monotonic() + timeout
        self.queue.put(None)
        self._thread.join(max(0.0, deadline - time.monotonic()))
        self._stopping.set()
        self._thread.join(1.0)


class Snapshot:
    """The latest figures the Prometheus endpoint reports (set by the watch loop)."""

    def __init__(self) -> None:
        self.leaks: list[Any] = []
        self.findings: dict[str, int] = {}
        self.records: dict[str, int] = {}
        self.evidence_ms: int | None = None

    def collect(self) -> Any:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        rate = GaugeMetricFamily("logsleuth_leak_rate_per_hour",
                                 "Growth of a leaking gauge, in its unit per hour",
                                 labels=["metric", "unit"])
        eta = GaugeMetricFamily("logsleuth_exhaustion_timestamp_seconds",
                                "When the leaking gauge reaches its ceiling (Unix time)",
                                labels=["metric"])
        bounds = GaugeMetricFamily("logsleuth_exhaustion_bound_timestamp_seconds",
                                   "The range of the projected exhaustion (90 %, Unix time)",
                                   labels=["metric", "bound"])
        for k in self.leaks:
            rate.add_metric([k.metric, k.unit], float(k.slope_per_hour))
            if k.exhaustion_at_ms is not None:
                eta.add_metric([k.metric], k.exhaustion_at_ms / 1000)
            p = k.projection
            if p is not None and k.projected:
                bounds.add_metric([k.metric, "earliest"], p.earliest_ms / 1000)
                bounds.add_metric([k.metric, "latest"], p.latest_ms / 1000)
        found = CounterMetricFamily("logsleuth_findings", "Records matched, by rule",
                                    labels=["rule"])
        for rule, n in sorted(self.findings.items()):
            found.add_metric([rule], n)
        read = CounterMetricFamily("logsleuth_records_read", "Records read, by file",
                                   labels=["file"])
        for name, n in sorted(self.records.items()):
            read.add_metric([name], n)
        newest = GaugeMetricFamily("logsleuth_evidence_timestamp_seconds",
                                   "Log time of the newest record read")
        if self.evidence_ms is not None:
            newest.add_metric([], self.evidence_ms / 1000)
        return [rate, eta, bounds, found, read, newest]


class MetricsEndpoint:
    """A Prometheus endpoint on 127.0.0.1 serving a ``Snapshot``."""

    def __init__(self, port: int, snapshot: Snapshot, addr: str = "127.0.0.1") -> None:
        try:
            from prometheus_client import CollectorRegistry, start_http_server
        except ImportError as err:  # an optional extra
            from logsleuth.errors import PatternError

            raise PatternError.at("--metrics-port", "missing-extra",
                                  "--metrics-port needs prometheus_client: "
                                  "pip install 'logsleuth[watch]'") from err
        self.registry = CollectorRegistry()
        self.registry.register(snapshot)  # type: ignore[arg-type]
        got = start_http_server(port, addr=addr, registry=self.registry)
        self._server = got[0] if isinstance(got, tuple) else None
        self.port = self._server.server_port if self._server is not None else port

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
