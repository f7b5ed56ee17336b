"""HTML fragments below the timeline: finding cards, root causes, inputs, diagnostics.

Every value is escaped with ``esc``; nothing here writes raw log text into markup.
"""

from __future__ import annotations

from typing import Any

from logsleuth.reports.html.context import Context
from logsleuth.reports.html.safe import esc
from logsleuth.reports.html.summary import _loc, _time

MAX_DIAGNOSTICS = 50


def _dd(label: str, value: str) -> str:
    return f"<div><dt>{esc(label)}</dt><dd>{value}</dd></div>"


def finding_cards(findings: list[dict[str, Any]]) -> str:
    if not findings:
        return '<p class="none">No rule fired.</p>'
    out = []
    for i, f in enumerate(findings):
        sev = esc(str(f.get("severity", "info")).lower())
        ex = f.get("example") or {}
        text = str(ex.get("text") or "")
        first_line, _, _ = text.partition("\n")
        stack = str(f.get("stack") or "")
        threads = (f.get("threads") or {}).get("top") or []
        sources = (f.get("sources") or {}).get("top") or []
        meta = "".join([
            _dd("count", f"{int(f.get('count') or 0):,}"),
            _dd("first seen", esc(_time(f["first_seen"])) if f.get("first_seen") else "—"),
            _dd("last seen", esc(_time(f["last_seen"])) if f.get("last_seen") else "—"),
            _dd("peak", f"{int(f.get('peak_per_minute') or 0):,} / min"),
            _dd("example", _loc(ex.get("path"), ex.get("line"))),
        ])
        extracted = "".join(
            f"<li><code>{esc(k)}</code>: {esc(_num(v.get('min')))} … {esc(_num(v.get('max')))}"
            f" {esc(v.get('unit') or '')}</li>" for k, v in (f.get("extracted") or {}).items())
        out.append(f"""
<article class="finding sev-{sev}" id="finding-{i}" data-rule="{esc(f.get('rule'))}">
  <header><span class="badge sev-{sev}">{sev}</span>
    <h3>{esc(f.get('title'))}</h3><code class="rule">{esc(f.get('rule'))}</code></header>
  <dl class="meta">{meta}</dl>
  {f'<p class="advice"><b>Advice:</b> {esc(f.get("advice"))}</p>' if f.get('advice') else ''}
  <p class="signature"><b>Signature:</b> <code>{esc(f.get('signature'))}</code></p>
  <pre class="example">{esc(first_line)}</pre>
  {f'<ul class="extracted">{extracted}</ul>' if extracted else ''}
  {_who('threads', threads, f.get('threads'))}{_who('sources', sources, f.get('sources'))}
  {_stack(stack, i)}
</article>""")
    return "\n".join(out)


def _stack(stack: str, i: int) -> str:
    if not stack.strip():
        return '<p class="none">No stack trace in the example record.</p>'
    n = stack.count("\n") + 1
    return (f'<details class="stack" id="stack-{i}"><summary>stack trace ({n} lines, '
            f"one per fingerprint)</summary><pre>{esc(stack)}</pre></details>")


def _who(label: str, top: list[object], summary: object) -> str:
    if not top:
        return ""
    total = summary.get("count") if isinstance(summary, dict) else len(top)
    items = ", ".join(f"<code>{esc(t)}</code>" for t in top[:5])
    more = f" and {int(total) - 5:,} more" if isinstance(total, int) and total > 5 else ""
    return f'<p class="who"><b>{esc(label)}:</b> {items}{more}</p>'


def _num(v: object) -> str:
    if isinstance(v, float) and v.is_integer():
        return f"{int(v):,}"
    return f"{v:,}" if isinstance(v, int | float) else str(v)


def root_causes(inc: dict[str, Any] | None) -> str:
    cands = (inc or {}).get("root_cause_candidates") or []
    if not cands:
        return ""
    rows = "".join(
        f"<tr><td>{float(c.get('score') or 0):.2f}</td><td><code>{esc(c.get('exception'))}"
        f"</code></td><td>{esc(c.get('message'))}</td><td>{int(c.get('count') or 0):,}</td>"
        f"<td>{esc(_time(c['first_seen'])) if c.get('first_seen') else '—'}</td>"
        f"<td>{_loc((c.get('example') or {}).get('path'), (c.get('example') or {}).get('line'))}"
        f"</td><td>{esc(c.get('why'))}</td></tr>" for c in cands[:10])
    return ("<section><h2>Root-cause candidates</h2><table class=\"grid\"><thead><tr><th>score"
            "</th><th>exception</th><th>message</th><th>count</th><th>first seen</th>"
            f"<th>example</th><th>why</th></tr></thead><tbody>{rows}</tbody></table></section>")


def inputs_table(ctx: Context) -> str:
    rows = []
    for s in ctx.inputs:
        lines = int(s.get("lines") or 0)
        unparsed = int(s.get("unparsed_lines") or 0)
        cov = 100.0 if lines == 0 else 100 * (1 - unparsed / lines)
        cls = ' class="warn"' if unparsed else ""
        samples = "".join(f"<li>{esc(ln)}: <code>{esc(t)}</code></li>"
                          for ln, t in s.get("unparsed_samples") or [])
        rows.append(
            f"<tr{cls}><td><code>{esc(s.get('path'))}</code>"
            + (f'<ul class="samples">{samples}</ul>' if samples else "")
            + f"</td><td>{esc(s.get('kind'))}</td><td>{esc(s.get('layout') or '—')}</td>"
            f"<td>{esc(s.get('timezone') or '—')}</td><td class=\"n\">{lines:,}</td>"
            f"<td class=\"n\">{int(s.get('records') or 0):,}</td>"
            f"<td class=\"n\">{unparsed:,}</td><td class=\"n\">{cov:.1f}%</td>"
            f"<td class=\"n\">{_size(int(s.get('bytes') or 0))}</td></tr>")
    skipped = "".join(f"<li><code>{esc(s['path'])}</code>: {esc(s['reason'])}</li>"
                      for s in ctx.skipped)
    diags = "".join(f"<li><code>{esc(d)}</code></li>" for d in ctx.diagnostics[:MAX_DIAGNOSTICS])
    more = len(ctx.diagnostics) - MAX_DIAGNOSTICS
    t = ctx.totals
    return f"""<section id="inputs"><h2>Inputs and coverage</h2>
<p>{t.get('inputs', 0):,} inputs, {t.get('lines', 0):,} lines, {t.get('records', 0):,} records,
{t.get('unparsed_lines', 0):,} unparsed lines, {_size(t.get('bytes', 0))}.</p>
<table class="grid"><thead><tr><th>input</th><th>detected kind</th><th>layout</th>
<th>timezone</th><th>lines</th><th>records</th><th>unparsed</th><th>parsed</th><th>size</th>
</tr></thead><tbody>{''.join(rows)}</tbody></table>
{f'<h3>Skipped</h3><ul>{skipped}</ul>' if skipped else ''}
{f'<h3>Diagnostics</h3><ul class="diags">{diags}</ul>' if diags else ''}
{f'<p>… and {more:,} more diagnostics.</p>' if more > 0 else ''}
</section>"""


def _size(n: int) -> str:
    for u, f in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= f:
            return f"{n / f:.1f} {u}"
    return f"{n} B"
