"""The HTML incident report: one self-contained file people open instead of the logs.

``render_html(result)`` returns the page; ``write_html(result, path)`` writes it.
Plotly.js is inlined once; the figure and the incident travel as JSON inside
``<script type="application/json">`` (escaped so log text cannot close the tag),
and a Content-Security-Policy allows only the page's own two scripts (by hash)
and no network access at all.
"""

from __future__ import annotations

import base64
import hashlib
from importlib import resources
from pathlib import Path
from string import Template
from typing import TYPE_CHECKING

from logsleuth.reports.html.safe import esc, script_json

if TYPE_CHECKING:
    from logsleuth.reports.clock import DisplayZone
    from logsleuth.result import ScanResult

__all__ = ["render_html", "write_html"]


def _asset(*parts: str) -> str:
    return resources.files("logsleuth.reports.html").joinpath(*parts).read_text("utf-8")


def _plotly_js() -> str:
    from plotly.offline import get_plotlyjs

    # the bundle is trusted, but an inline script must not contain its own end tag
    return get_plotlyjs().replace("</script", "<\\/script")


def _sha256(script: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"


def _csp(*scripts: str) -> str:
    return ("default-src 'none'; script-src " + " ".join(_sha256(s) for s in scripts)
            + "; style-src 'unsafe-inline'; img-src data: blob:; font-src data:; "
            "connect-src 'none'; base-uri 'none'; form-action 'none'")


def render_html(result: ScanResult, *, title: str | None = None,
                zone: DisplayZone | None = None) -> str:
    """The report as one HTML document (plotly.js inline, no external requests).

    Times show in ``zone`` (default: the evidence's own), stated once in the header;
    the embedded incident JSON keeps its UTC instants."""
    from logsleuth.reports.clock import display_zone
    from logsleuth.reports.html.figure import SHOWN_ZONE

    zone = zone or display_zone(result)
    token = SHOWN_ZONE.set(zone)
    try:
        return _render(result, title, zone)
    finally:
        SHOWN_ZONE.reset(token)


def _render(result: ScanResult, title: str | None, zone: DisplayZone) -> str:
    from logsleuth.reports.html.context import build_context
    from logsleuth.reports.html.layout import build_figure
    from logsleuth.reports.html.sections import finding_cards, inputs_table, root_causes
    from logsleuth.reports.html.summary import _onset, summary_rows

    ctx = build_context(result)
    figure, missing = build_figure(result.tables, ctx.incident, ctx.findings, ctx.leaks)
    verdict, rows = summary_rows(ctx)
    if title is None:
        onset = (ctx.incident or {}).get("onset")
        title = "Incident report" + (f" — onset {_onset(onset)}" if onset else "")
    plotly_js, app_js = _plotly_js(), _asset("assets", "report.js")
    missing_html = ("<p class=\"missing\">Lanes without evidence: "
                    + "; ".join(esc(m) for m in missing) + ".</p>") if missing else ""
    return Template(_asset("templates", "report.html")).substitute(
        csp=esc(_csp(plotly_js, app_js)),
        title=esc(title),
        zone=esc(f"{zone.name} ({zone.source})"),
        css=_asset("assets", "report.css"),
        verdict=verdict,
        summary="".join(f"<div><dt>{esc(k)}</dt><dd>{v}</dd></div>" for k, v in rows),
        missing=missing_html,
        findings=finding_cards(ctx.findings),
        root_causes=root_causes(ctx.incident),
        inputs=inputs_table(ctx),
        n_inputs=f"{len(ctx.inputs):,}",
        figure_json=script_json(figure),
        incident_json=script_json(ctx.incident),
        plotly_js=plotly_js,
        app_js=app_js,
    )


def write_html(result: ScanResult, path: str | Path, *, title: str | None = None,
               zone: DisplayZone | None = None) -> Path:
    """Write ``render_html(result)`` to ``path`` (UTF-8) and return the path."""
    out = Path(path)
    out.write_text(render_html(result, title=title, zone=zone), encoding="utf-8")
    return out
