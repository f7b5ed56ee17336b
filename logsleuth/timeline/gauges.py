"""Gauges found by themselves: every named number of every mined template is a candidate.

A candidate is named by the key before it (``used=``, ``capacity:``, ``used <*>
MB``), takes its unit from what follows (``16384k``, ``bytes``, ``MB``, ``%``),
and becomes a *metric definition*, the same object a user writes for
``--metrics``: it is read by the same extractor and printable as YAML. A
candidate is kept as a gauge when it has enough samples at a usable cadence and
does not behave like a counter of lines, an id or the clock; the leak test then
runs on it like on any declared metric. A constant ``max=``/``limit=``/
``capacity=`` beside it, or its own key with a ceiling word (``maxFileDescriptors=``
beside ``openFileDescriptors=``), never below it, is its ceiling.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import yaml

from logsleuth.engine.gaugerows import UNIT_WORDS
from logsleuth.parsers.metrics import METRICS_SCHEMA, MetricDef, extract_metrics

MIN_SAMPLES = 20
ENOUGH_SAMPLES = 100  # fewer samples must come at a regular cadence (a monitor's tick)
IRREGULAR = 1.0  # intervals whose spread exceeds their mean are not a cadence
# A monitor printing every 10-30 s gives a handful of samples in the minutes before a
# failure: so few are a gauge only at a fixed rate's tick (a scheduler's, not traffic's)
MIN_TICKS = 6
TICK = 0.05  # spread of the intervals, over their mean, of a fixed-rate tick
SPANS = 0.5  # ... over at least this share of the evidence's time
_VAR = re.compile(r"(<\*>|<[A-Z]+>)")
_KEY_BEFORE = re.compile(r"([A-Za-z_][\w.-]*)[=:]$")
_EXPOSED = re.compile(r"([A-Za-z_:][\w:.]*)(?:\{.*\})?")  # name{labels}: the labels may vary
_EXPOSED_SEP = re.compile(r"[_.:]")  # a metric name, not a word: process_open_fds, a.b.c
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*")
_CAMEL = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
# Java's Double.toString writes 1.2345678E7 from 10^7 on (exposition samples are doubles)
_NUMBER = r"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?"
# names that are ids, positions or clocks, never a resource
_NOT_A_GAUGE = re.compile(r"(?i)^(?:.*[_.-])?(?:id|ids|seq\w*|serial|uptime|elapsed|timestamp|"
                          r"epoch|time|ts|pid|tid|port|line|offset|index|idx|no|num|number|"
                          r"version|attempt|retry|retries|duration\w*|took|latency)$")
_MEMORY = re.compile(r"(?i)used|memory|size|bytes|capacity|max|limit|total|committed|free|"
                     r"alloc|reserved|heap|direct|mapped")
_CEILING_KEYS = frozenset({"max", "limit", "maximum", "capacity", "cap", "of", "ceiling"})
_BYTE_UNITS = frozenset({"b", "bytes", "byte", "k", "kb", "kib", "m", "mb", "mib", "g", "gb",
                         "gib", "t", "tb", "tib"})
# A variable that names the series rather than measuring it (Dropwizard's Slf4jReporter:
# "type=GAUGE, name=jvm.memory.heap.used, value=N"): the miner masks it, but every name is
# a series of its own, so the rows are split by it and the name is put back as a literal
_IDENTITY = re.compile(r"(?P<key>name|metric|meter|gauge)=<\*>(?P<tail>[,;]?)")
_IDENTITY_VALUE = re.compile(r"[A-Za-z_][\w.:-]*")
_IDENTITY_LITERAL = re.compile(r"(?:name|metric|meter|gauge)=([A-Za-z_][\w.:-]*)[,;]?")
# a unitless number of a memory area (Dropwizard and Graphite-style reporters print bytes
# without a unit): bytes, when the series' name says which memory it is
_MEMORY_AREA = frozenset({"memory", "heap", "direct", "buffer", "buffers", "nonheap",
                          "metaspace", "mapped", "offheap"})
_COUNT_KEYS = frozenset({"count", "counts", "n", "objects", "buffers", "threads"})
_CLOCK_RATES = (1e-3, 1.0, 1e3, 1e6, 1 / 60_000)  # s, ms, us, ns, min per ms of log time


@dataclass(frozen=True, slots=True)
class Variable:
    token: int  # token index in the template
    key: str
    unit: str | None  # a unit word after it (``MB``, ``bytes``, ``%``)
    # the token after it is a variable that may be the unit: a human-readable printer
    # (Micrometer's ``value=512 B`` / ``1.5 KiB`` / ``3.2 MiB``) changes the unit word as
    # the value grows, so the template miner turns it into ``<*>``
    unit_next: bool = False


@dataclass(frozen=True, slots=True)
class DiscoveredGauge:
    """A gauge no definition declared, with the template and a line it came from."""

    metric: str
    unit: str
    template: str
    example: dict[str, object]  # path, line, text
    samples: int
    definition: MetricDef
    ceiling: str | None  # the sibling variable that caps it

    @property
    def yaml(self) -> str:
        """The definition as ``--metrics`` YAML (loads and passes its own sample)."""
        d = self.definition
        values: dict[str, object] = {"value": d.values[0].metric}
        if len(d.values) > 1:
            values["max"] = {"metric": d.values[1].metric, "caps": [d.values[0].metric]}
        text = str(self.example["text"])
        got = _values_of(d, text)
        entry = {"name": d.name, "description": d.description, "contains": d.contains,
                 "regex": d.regex, "unit": d.values[0].unit, "values": values,
                 "samples": [{"message": text, "values": got}]}
        return yaml.safe_dump({"metrics": [entry]}, sort_keys=False, allow_unicode=True)

    def to_json(self) -> dict[str, object]:
        return {"metric": self.metric, "unit": self.unit, "template": self.template,
                "example": self.example, "samples": self.samples, "ceiling": self.ceiling,
                "definition": self.yaml}


def _values_of(d: MetricDef, message: str) -> dict[str, float]:
    rec = pa.table({"source": ["<example>"], "line": [1],
                    "ts": pa.array([None], pa.timestamp("ms")), "message": [message]})
    return {r["metric"]: r["value"] for r in extract_metrics(rec, [d]).to_pylist()}


def exposition_name(tokens: list[str]) -> str | None:
    """The metric of a message that is one exposition sample, ``name{labels} value``
    (Prometheus/OpenMetrics text, StatsD-like ``a.b.c 42``), or None."""
    if len(tokens) != 2 or tokens[1] != "<*>":
        return None
    m = _EXPOSED.fullmatch(tokens[0])
    return m.group(1) if m and ("{" in tokens[0] or _EXPOSED_SEP.search(m.group(1))) else None


def _name_unit(name: str) -> str | None:
    """The unit an exposition name ends in, by its conventions (``_bytes``, ``_seconds``)."""
    last = re.split(r"[_.:]", name.lower())[-1]
    return {"bytes": "bytes", "seconds": "s", "percent": "%"}.get(last)


def _variables(tokens: list[str]) -> list[Variable]:
    """The named numbers of a template's tokens."""
    exposed = exposition_name(tokens)
    if exposed is not None:
        return [Variable(1, exposed, _name_unit(exposed))]
    out = []
    for i, tok in enumerate(tokens):
        pieces = _VAR.split(tok)
        if pieces.count("<*>") != 1:  # one number per token, or it cannot be told apart
            continue
        at = pieces.index("<*>")
        prefix, suffix = "".join(pieces[:at]), "".join(pieces[at + 1:])
        if _VAR.search(prefix) or _VAR.search(suffix):
            continue
        nxt = tokens[i + 1].lower().rstrip(",;)") if i + 1 < len(tokens) else ""
        unit = "%" if suffix.startswith("%") else (
            tokens[i + 1].rstrip(",;)") if not suffix.strip(",;)") and nxt in UNIT_WORDS
            and not _VAR.search(tokens[i + 1]) else None)
        unit_next = (unit is None and not suffix and i + 1 < len(tokens)
                     and tokens[i + 1] == "<*>")
        m = _KEY_BEFORE.search(prefix)
        key = m.group(1) if m else None
        if key is None and not prefix.strip("(["):
            prev = tokens[i - 1] if i else ""
            if prev[-1:] in (":", "=") and not _VAR.search(prev):
                words = _WORD.findall(prev)
                key = words[-1] if words else None
            elif unit is not None and _WORD.fullmatch(prev.lstrip("([") or "-"):
                key = prev.lstrip("([")  # "(limit 2048.0 KiB)", "[max 64 MB]"
        if key:
            out.append(Variable(i, key, unit, unit_next))
    # "used=N max=N bytes": one byte unit at the end speaks for the memory-like numbers
    byte_unit = next((v.unit for v in out if v.unit and v.unit.lower() in _BYTE_UNITS), None)
    if byte_unit:
        out = [Variable(v.token, v.key, byte_unit) if v.unit is None and _MEMORY.search(v.key)
               else v for v in out]
    return out


def _key_words(key: str) -> set[str]:
    """``maxFileDescriptors`` / ``max_fds`` -> {max, file, descriptors} / {max, fds}."""
    return {w.lower() for w in _CAMEL.findall(key)}


def _caps(sib: Variable, var: Variable) -> bool:
    """``sib`` may be ``var``'s ceiling: a bare ``max=``/``limit=``, or the gauge's own name
    with a ceiling word (``openFileDescriptors`` / ``maxFileDescriptors``, ``open_fds`` /
    ``max_fds``), in the same unit."""
    if sib.token == var.token or not _same_unit(sib.unit, var.unit):
        return False
    if sib.key.lower() in _CEILING_KEYS:
        return True
    words = _key_words(sib.key)
    rest = words - _CEILING_KEYS
    return bool(words & _CEILING_KEYS) and bool(rest) and rest <= _key_words(var.key)


def _same_unit(a: str | None, b: str | None) -> bool:
    """Both in bytes, or the same unit, or neither stated."""
    la, lb = (a or "").lower(), (b or "").lower()
    return la == lb or (la in _BYTE_UNITS and lb in _BYTE_UNITS)


# a unit word as its own token (the variable after a number): one of the known words
# (longest first, then alphabetical: a set's order changes with the hash seed, and this
# regex is printed in discovered metric definitions)
_UNIT_TOKEN = "(?P<unit>(?i:" + "|".join(sorted((re.escape(u) for u in UNIT_WORDS),
                                                key=lambda u: (-len(u), u))) + "))"


def _regex(tokens: list[str], target: int, sibling: int | None,
           unit_next: bool = False) -> str:
    """An anchored RE2 pattern for the template, capturing the target (and its ceiling);
    with ``unit_next`` the variable token after the target is captured as its unit."""
    parts = []
    for i, tok in enumerate(tokens):
        out = []
        if unit_next and i == target + 1:
            parts.append(_UNIT_TOKEN)
            continue
        for piece in _VAR.split(tok):
            if piece == "<*>" and i == target and unit_next:
                out.append(f"(?P<value>{_NUMBER})")
            elif piece == "<*>" and i == target:
                out.append(f"(?P<value>{_NUMBER})(?P<unit>[A-Za-z]*)")
            elif piece == "<*>" and i == sibling:
                out.append(f"(?P<max>{_NUMBER})(?P<max_unit>[A-Za-z]*)")
            elif piece == "<*>":
                out.append(r"\S*?")
            elif _VAR.fullmatch(piece):
                out.append(".*?")
            elif piece:
                out.append(re.escape(piece))
        parts.append("".join(out))
    return r"^\s*" + r"\s+".join(parts) + r"\s*$"


def _slug(words: list[str]) -> str:
    s = "_".join(w.lower() for w in words if w)
    s = re.sub(r"[^a-z0-9_]+", "_", s).strip("_")
    return s if s and s[0].isalpha() else f"gauge_{s}".strip("_")


def series_name(lead: list[str], key: str) -> str:
    """The series' name as an SRE writes it: the words before the number, then its key, in
    snake case (``DirectMemory: used=`` -> ``direct_memory_used``, ``openFileDescriptors``
    -> ``open_file_descriptors``), each word once (``Direct buffers: 12 KiB`` names the
    number ``buffers``: ``direct_buffers``, not ``direct_buffers_buffers``)."""
    words: list[str] = []
    for w in [*lead, key]:
        for part in _CAMEL.findall(w) or [w]:
            if part.lower() not in words:
                words.append(part.lower())
    return _slug(words)


def _contains(tokens: list[str]) -> str | None:
    literal = [t for t in tokens if not _VAR.search(t)]
    if not literal:
        literal = [p for t in tokens for p in _VAR.split(t) if p and not _VAR.fullmatch(p)]
    best = max(literal, key=len, default="")
    return best if len(best) >= 3 else None


def _default_unit(raw_units: list[str], unit_word: str | None) -> str:
    """The definition's unit: the word after the number, else what the numbers carry."""
    if unit_word:
        return unit_word
    seen = {u.lower() for u in raw_units if u}
    if seen and seen <= _BYTE_UNITS:
        return "B"
    if seen:
        return "ms"
    return "count"


def _rejects(t: np.ndarray, v: np.ndarray, span_ms: int = 0) -> str | None:
    """Why a series is not a resource gauge (None when it may be one). ``span_ms``: how
    long the evidence runs; a handful of samples must come from a monitor printing all
    along (half of it at least), not from a warning printed each second near the end."""
    gaps = np.diff(t)
    if len(v) < MIN_TICKS or len(np.unique(v)) < 3:
        return "too few samples or values"
    if len(v) < MIN_SAMPLES and not (gaps.mean() > 0 and gaps.std() <= TICK * gaps.mean()):
        return "too few samples, and not at a fixed tick"
    if len(v) < MIN_SAMPLES and np.ptp(t) < SPANS * span_ms:
        return "too few samples, printed over a short part of the evidence"
    if len(v) < ENOUGH_SAMPLES and len(gaps) and gaps.mean() > 0 \
            and gaps.std() > IRREGULAR * gaps.mean():
        return "neither a regular cadence nor enough samples"
    steps = np.diff(v)
    if len(steps) and (steps > 0).all():
        counts = np.unique(steps, return_counts=True)[1]
        if counts.max() >= 0.9 * len(steps):
            return "grows by the same amount every line (a sequence or counter)"
    dt = np.diff(t)
    if (dt > 0).sum() >= 2:
        x = (t - t[0]).astype(np.float64)
        slope = float(np.polyfit(x, v, 1)[0]) if np.ptp(x) > 0 else 0.0
        r = np.corrcoef(x, v)[0, 1] if np.ptp(x) > 0 and np.ptp(v) > 0 else 0.0
        if r * r > 0.999 and any(abs(slope / c - 1) < 0.02 for c in _CLOCK_RATES):
            return "moves with the clock (an uptime or timestamp)"
        if np.all(np.abs(v - t) < 86_400_000) or np.all(np.abs(v * 1000 - t) < 86_400_000):
            return "is a timestamp"
    return None


def discover_gauges(rows: Mapping[int, pa.Table], templates: list[str],
                    declared: pd.DataFrame | None = None,
                    ) -> tuple[list[DiscoveredGauge], pa.Table]:
    """Gauges in the kept rows of candidate templates, and their metrics rows.

    ``declared`` (the metrics table) marks lines a definition already reads: a
    template whose lines are declared is not discovered again.
    """
    taken: dict[str, np.ndarray] = {}  # source -> sorted lines a definition reads
    names: set[str] = set()
    if declared is not None and len(declared):
        lines = declared["line"].to_numpy(np.int64)
        for src, idx in declared.groupby("source", sort=False).indices.items():
            taken[str(src)] = np.sort(lines[idx])
        names = set(declared["metric"].astype(str).unique())
    found: list[DiscoveredGauge] = []
    parts: list[pa.Table] = []
    span = _span_ms(rows.values())
    for tid, table in sorted(rows.items()):
        if tid >= len(templates) or table.num_rows < MIN_TICKS:
            continue
        if taken and _declared_share(table, taken) >= 0.5:
            continue
        got = _from_template(templates[tid], table, names, span)
        for gauge, metric_rows in got:
            names.add(gauge.metric)
            found.append(gauge)
            parts.append(metric_rows)
    out = pa.concat_tables(parts) if parts else METRICS_SCHEMA.empty_table()
    return found, out


def _span_ms(tables: Iterable[pa.Table]) -> int:
    """How long the evidence runs, as the candidate rows (frequent templates) show it."""
    lo, hi = None, None
    for table in tables:
        got = pc.min_max(table["ts"].cast(pa.int64()))
        if got["min"].is_valid:
            lo = got["min"].as_py() if lo is None else min(lo, got["min"].as_py())
            hi = got["max"].as_py() if hi is None else max(hi, got["max"].as_py())
    return 0 if lo is None else int(hi - lo)


def _declared_share(table: pa.Table, taken: Mapping[str, np.ndarray]) -> float:
    """Share of a template's kept rows that a declared definition already reads."""
    src = table["source"].to_numpy(zero_copy_only=False)
    lines = table["line"].to_numpy(zero_copy_only=False)
    hits = 0
    for s in np.unique(src):
        known = taken.get(str(s))
        if known is not None:
            mine = lines[src == s]
            at = np.minimum(np.searchsorted(known, mine), len(known) - 1)
            hits += int((known[at] == mine).sum())
    return hits / max(table.num_rows, 1)


def _by_identity(tokens: list[str], table: pa.Table,
                 ) -> list[tuple[list[str], pa.Table]] | None:
    """The template's rows split by the series each names (``name=<*>``), each with its
    tokens where the name is a literal again; None when no variable names a series."""
    at = [i for i, tok in enumerate(tokens) if _IDENTITY.fullmatch(tok)]
    if not at:
        return None
    enc = table["message"].combine_chunks().dictionary_encode()
    keys = []
    for msg in enc.dictionary.to_pylist():
        words = (msg or "").split()
        vals = tuple(words[i].split("=", 1)[1].rstrip(",;") if len(words) == len(tokens)
                     and "=" in words[i] else "" for i in at)
        keys.append(vals if all(_IDENTITY_VALUE.fullmatch(v) for v in vals) else None)
    codes = enc.indices.fill_null(-1).to_numpy(zero_copy_only=False)
    out = []
    for vals in sorted({k for k in keys if k is not None}):
        mine = np.flatnonzero(np.isin(codes, [c for c, k in enumerate(keys) if k == vals]))
        if len(mine) < MIN_TICKS:
            continue
        named = list(tokens)
        for i, v in zip(at, vals, strict=True):
            m = _IDENTITY.fullmatch(tokens[i])
            assert m is not None
            named[i] = f"{m.group('key')}={v}{m.group('tail')}"
        out.append((named, table.take(pa.array(mine))))
    return out


def _lead(tokens: list[str], first_var: int) -> list[str]:
    """Words that name the series: a literal series name (``name=jvm.heap.used,``, an
    exposition name before its ``{labels}``) whole, else the first two literal words."""
    for tok in tokens:
        m = _IDENTITY_LITERAL.fullmatch(tok)
        if m is not None:
            return _WORD.findall(m.group(1))
    for tok in tokens[:first_var + 1]:  # labels may hold the first variable
        base = tok.split("{", 1)[0]
        if "{" in tok and not _VAR.search(base) and _EXPOSED_SEP.search(base):
            return _WORD.findall(base)
    return [w for t in tokens[:first_var] if not _VAR.search(t) for w in _WORD.findall(t)][:2]


def _from_template(template: str, table: pa.Table, names: set[str], span_ms: int,
                   ) -> list[tuple[DiscoveredGauge, pa.Table]]:
    tokens = template.split()
    split = _by_identity(tokens, table)
    if split is not None:
        return [g for named, rows in split
                for g in _from_template(" ".join(named), rows, names, span_ms)]
    variables = _variables(tokens)
    contains = _contains(tokens)
    if not variables or contains is None:
        return []
    lead = _lead(tokens, variables[0].token)
    # A series needs 3 distinct values, so 3 distinct messages (a startup line printed
    # alike by every run, e.g. JVM arguments with dozens of numbers, has one): no
    # variable of a template with fewer can be a gauge, and the regexes of the others
    # run once per distinct message, not once per row.
    enc = table["message"].combine_chunks().dictionary_encode()
    if len(enc.dictionary) < 3:
        return []
    messages = (enc.dictionary, enc.indices.fill_null(-1).to_numpy(zero_copy_only=False))
    out: list[tuple[DiscoveredGauge, pa.Table]] = []
    seen_series: list[np.ndarray] = []
    caps_some = {s.token for s in variables for v in variables if _caps(s, v)}
    for var in variables:
        if _NOT_A_GAUGE.match(var.key) or var.key.lower() in _CEILING_KEYS \
                or var.token in caps_some:
            continue
        sibling = next((s for s in variables if _caps(s, var)), None)
        tries = [(sib, un) for un in ([True, False] if var.unit_next else [False])
                 for sib in ([sibling, None] if sibling else [None])]
        for sib, un in tries:
            got = _try(tokens, template, var, sib, contains, lead, table, names, seen_series,
                       span_ms, messages, un)
            if got is not None:
                out.append(got)
                break
    return out


def _try(tokens: list[str], template: str, var: Variable, sib: Variable | None,
         contains: str, lead: list[str], table: pa.Table, names: set[str],
         seen_series: list[np.ndarray], span_ms: int, messages: tuple[pa.Array, np.ndarray],
         unit_next: bool = False) -> tuple[DiscoveredGauge, pa.Table] | None:
    """``messages``: the table's distinct messages and each row's index into them;
    ``unit_next``: read the unit from the variable token after the number."""
    regex = _regex(tokens, var.token, None if sib is None else sib.token, unit_next)
    # Which rows match is decided once per distinct message, without captures (RE2's
    # DFA); the numbers are extracted once, by extract_metrics, for candidates left.
    distinct, codes = messages
    hit = pc.match_substring_regex(distinct, regex).fill_null(False).to_numpy(
        zero_copy_only=False)
    ok = np.append(hit, False)[codes]  # code -1: a null message
    if ok.sum() < MIN_TICKS or ok.mean() < 0.9:
        return None
    if len(np.unique(codes[ok])) < 3:  # fewer values than _rejects asks for
        return None
    units = [] if var.unit else pc.struct_field(
        pc.extract_regex(distinct.filter(pa.array(hit)), regex), "unit").to_pylist()
    unit = _default_unit([u for u in units if u], var.unit)
    if unit == "count" and var.key.lower() not in _COUNT_KEYS and _MEMORY_AREA & {
            w.lower() for w in [*lead, *_CAMEL.findall(var.key)]}:
        unit = "B"
    name = series_name(lead, var.key)
    while name in names:
        name += "_2"
    spec: dict[str, object] = {
        "name": name, "contains": contains, "regex": regex, "unit": unit,
        "description": f"discovered in messages like: {template}"}
    values: dict[str, object] = {"value": {"metric": name, "unit": unit}}
    if sib is not None:
        values["max"] = {"metric": f"{name}_max", "unit": sib.unit or unit, "caps": [name]}
    spec["values"] = values
    try:
        d = MetricDef.from_dict(spec, path="<discovered>")
    except Exception:
        return None
    rows = extract_metrics(table, [d])
    gauge = rows.filter(pc.equal(rows["metric"], name)).sort_by("ts")
    t = gauge["ts"].cast(pa.int64()).to_numpy(zero_copy_only=False)
    v = gauge["value"].to_numpy(zero_copy_only=False).astype(np.float64)
    if _rejects(t, v, span_ms) is not None:
        return None
    if sib is not None:  # a ceiling is constant and never below the gauge
        cap = rows.filter(pc.equal(rows["metric"], f"{name}_max"))["value"].to_numpy(
            zero_copy_only=False)
        if not len(cap) or np.ptp(cap) > 0.01 * cap.max() or cap.min() < v.max():
            return None
    for other in seen_series:  # the same series under another key (used/capacity)
        if len(other) == len(v) and np.allclose(other, v, rtol=1e-3):
            return None
    seen_series.append(v)
    first = table.slice(0, 1).to_pylist()[0]
    example = {"path": first["source"], "line": first["line"], "text": first["message"]}
    unit_out = str(gauge["unit"][0]) if gauge.num_rows else unit
    return (DiscoveredGauge(name, unit_out, template, example, gauge.num_rows, d,
                            None if sib is None else f"{name}_max"), rows)
