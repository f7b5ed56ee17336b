"""``logsleuth watch``: follow live logs and warn before the failure."""

from __future__ import annotations

import signal
import sys
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import typer

from logsleuth.cli import options as opt
from logsleuth.options import ScanOptions


def register(app: typer.Typer) -> None:
    app.command("watch")(watch)


def parse_duration(text: str) -> int:
    """``90s``, ``15m``, ``12h``, ``7d`` (or plain seconds) to milliseconds."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
    t = text.strip().lower()
    k = units.get(t[-1:])
    try:
        value = float(t[:-1] if k else t)
    except ValueError:
        raise typer.BadParameter(f"'{text}' is not a duration such as 12h or 7d",
                                 param_hint="--horizon") from None
    return int(value * (k or 1) * 1000)


# the analysis is what a watcher is for: its flags but --no-analysis
_ANALYSIS = tuple(f for f in opt.ANALYSIS if f.name != "no_analysis")


@opt.scan_options(opt.READING, opt.RULES, _ANALYSIS)
def watch(
    paths: opt.Paths,
    options: ScanOptions | None = None,  # built from the READING, RULES, ANALYSIS flags
    interval: Annotated[float, typer.Option(
        help="Seconds between analyses of what was read (and heartbeats, at most one a "
             "minute).")] = 10.0,
    horizon: Annotated[str, typer.Option(
        help="Forecast an exhaustion only when it is this close (e.g. 12h, 7d).")] = "7d",
    jsonl: Annotated[str | None, typer.Option(
        help="Write events as JSON lines to FILE ('-' for stdout).")] = None,
    state: Annotated[Path | None, typer.Option(
        help="Checkpoint FILE: a restarted watcher continues where it stopped.")] = None,
    webhook: Annotated[str | None, typer.Option(
        help="POST each forecast, onset and finding as JSON to URL.")] = None,
    webhook_format: Annotated[str, typer.Option(
        help="Webhook body: json (the event) or alertmanager (a /api/v2/alerts list).")]
        = "json",
    metrics_port: Annotated[int | None, typer.Option(
        help="Serve Prometheus metrics on 127.0.0.1:PORT.")] = None,
    live: Annotated[bool, typer.Option(
        help="Show the live view when stdout is a terminal.")] = True,
) -> None:
    """Follow logs as they are written; warn on findings, leaks and their forecast.

    Reads what is there, then follows appends, rotations, compressed rolls and
    truncation. Ends with a 'stopped' event and exit code 0 on SIGINT/SIGTERM.
    """
    from logsleuth.watch.run import Watcher, WatchOptions
    from logsleuth.watch.sinks import JsonLines, MetricsEndpoint, Snapshot, Webhook

    if webhook_format not in ("json", "alertmanager"):
        raise typer.BadParameter(f"'{webhook_format}' is not json or alertmanager",
                                 param_hint="--webhook-format")
    # nothing is kept but what the collectors keep; rules and analysis are the point
    scan = replace(options or ScanOptions(), keep_records=False, rules=True, analysis=True)
    watch_options = WatchOptions(paths=tuple(paths), scan=scan, interval=interval,
                                 horizon_ms=parse_duration(horizon),
                                 state=None if state is None else str(state),
                                 outputs=() if jsonl in (None, "-") else (jsonl,))
    sinks: list[Any] = []
    closers: list[Any] = []
    if jsonl is not None:
        lines = JsonLines(jsonl)
        sinks.append(lines)
        closers.append(lines.close)
    if webhook is not None:
        hook = Webhook(webhook, webhook_format)
        sinks.append(hook)
        closers.append(hook.close)
    snapshot = Snapshot()
    if metrics_port is not None:
        endpoint = MetricsEndpoint(metrics_port, snapshot)
        closers.append(endpoint.close)
    view = None
    if live and sys.stdout.isatty() and jsonl != "-":
        from logsleuth.watch.view import LiveView

        view = LiveView()
        sinks.append(view.add)

    def emit(event: dict[str, Any]) -> None:
        for sink in sinks:
            sink(event)

    def on_result(result: Any, w: Watcher) -> None:
        snapshot.leaks = list(result.incident.leaks) if result.incident is not None else []
        snapshot.findings = {}
        for f in result.findings:
            snapshot.findings[f.rule] = snapshot.findings.get(f.rule, 0) + f.count
        snapshot.records = dict(w.analysis.records_read)
        snapshot.evidence_ms = w.analysis.evidence_ms

    watcher = Watcher(watch_options, emit, on_result=on_result)
    previous = {s: signal.signal(s, lambda *_: watcher.stop.set())
                for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        if view is None:
            watcher.run()
        else:
            _run_live(watcher, view)
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        for close in closers:
            close()


def _run_live(watcher: Any, view: Any) -> None:
    """The loop in a thread; this one redraws the view twice a second."""
    import threading

    from rich.live import Live

    failed: list[BaseException] = []

    def loop() -> None:
        try:
            watcher.run()
        except BaseException as err:  # a bad --state, a bad layout: the CLI reports it
            failed.append(err)

    thread = threading.Thread(target=loop, name="logsleuth-watch", daemon=True)
    thread.start()
    with Live(view.render(watcher), refresh_per_second=2, screen=False) as live:
        while thread.is_alive():
            thread.join(0.5)
            try:
                live.update(view.render(watcher))
            except RuntimeError:  # the loop changed a table while it was drawn: next time
                continue
    if failed:
        raise failed[0]
