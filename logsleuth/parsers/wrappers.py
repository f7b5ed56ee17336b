"""Container and collector wrappers around log lines: detected from a sample, unwrapped per chunk.

Runtimes and collectors put an envelope or a prefix around each line an application
writes: docker's json-file (``{"log": "...\\n", "stream": ..., "time": ...}``), CRI
(containerd, CRI-O: ``<RFC3339Nano> stdout F ...``, ``P`` for a partial line that the
next entry continues), ``kubectl logs --timestamps``, syslog RFC 5424 and RFC 3164
(rsyslog escapes a tab as ``#011``), the ``name | `` prefixes of multiplexed output
(docker compose), a collector's ``<instant> source=<node> `` (lnav's demultiplexed
logs) and a constant prefix such as ``content: ``. Unwrapping gives
the inner text, so layouts, inference and rules see what the application wrote; each
inner line keeps the outer line it starts on and the outer time.

Every outer line is kept: a line a wrapper does not explain stays verbatim as an
inner line (the inner parser then counts it as unparsed), and partial lines are
joined, never dropped. Unwrapping is one regex pass per chunk plus numpy gathers;
docker JSON is decoded by Arrow's JSON reader.
"""

from __future__ import annotations

import io
import json
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from logsleuth.parsers.lines import line_offsets, lines_array
from logsleuth.parsers.traceshape import has_trace_evidence

NO_TIME = np.iinfo(np.int64).min
_ISO = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})"
STRONG_SHARE = 0.9  # of a sample's non-blank lines, for a wrapper to be taken as given
WEAK_SHARE = 0.6  # for a constant prefix, which must also reveal a trace


@dataclass(frozen=True, slots=True)
class WrapperSpec:
    """A detected wrapper: its name and, for a constant prefix, the prefix (picklable)."""

    name: str
    prefix: str = ""

    def describe(self) -> str:
        return f"{self.name} {self.prefix!r}" if self.prefix else self.name


@dataclass(frozen=True, slots=True)
class Unwrapped:
    """Inner text of a chunk and, per inner line, where it starts outside and when."""

    data: bytes
    outer_line: np.ndarray  # int64 (n_inner + 1): outer line index of each inner line, + end
    ms: np.ndarray  # int64 (n_inner): outer epoch ms, NO_TIME where the wrapper has none
    outer_lines: int  # outer lines this chunk covered


@dataclass(frozen=True, slots=True)
class _Prefix:
    """A wrapper that is a prefix per line, found by one anchored regex."""

    name: str
    regex: str  # RE2; group ``pre`` is the whole prefix; optional ``ts`` and ``tag``
    times: bool = False  # ``ts`` is RFC 3339 and gives the outer time
    partial: bool = False  # ``tag`` P marks a line continued by the next one
    syslog_tabs: bool = False  # rsyslog's #011 is a tab


_CRI = _Prefix("cri", rf"^(?P<pre>(?P<ts>{_ISO}) (?:stdout|stderr) (?P<tag>[FP]) ?)",
               times=True, partial=True)
_KUBECTL = _Prefix("kubectl-timestamps", rf"^(?P<pre>(?P<ts>{_ISO}) )", times=True)
# a collector's instant and source before each line, as lnav demultiplexes them
_MUX_SOURCE = _Prefix("mux-source", rf"^(?P<pre>(?P<ts>{_ISO}) source=\S+ )", times=True)
_SYSLOG5424 = _Prefix(
    "syslog-5424",
    rf"^(?P<pre><\d{{1,3}}>1 (?P<ts>{_ISO}|-) \S+ \S+ \S+ \S+ (?:-|(?:\[[^\]]*\])+) ?)",
    times=True, syslog_tabs=True)
_SYSLOG3164 = _Prefix(
    "syslog-3164",
    r"^(?P<pre>(?:<\d{1,3}>)?[A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2} \S+ "
    r"[^\s:\[]+(?:\[\d+\])?: ?)", syslog_tabs=True)
_MULTIPLEX = _Prefix("multiplexed", r"^(?P<pre>[A-Za-z0-9][\w.-]*\s*\| )")


def _prefix_regex(spec: WrapperSpec) -> _Prefix:
    if spec.name == "prefix":
        return _Prefix("prefix", "^(?P<pre>" + re.escape(spec.prefix) + ")")
    return _BY_NAME[spec.name]


_BY_NAME = {p.name: p for p in (_CRI, _KUBECTL, _MUX_SOURCE, _SYSLOG5424, _SYSLOG3164,
                                  _MULTIPLEX)}
_DOCKER = re.compile(r'^\{"log":".*","stream":"(?:stdout|stderr)".*"time":"[^"]+"')


# -- detection ---------------------------------------------------------------------
def _share(lines: Sequence[str], rx: re.Pattern[str]) -> float:
    full = [ln for ln in lines if ln.strip()]
    return sum(1 for ln in full if rx.match(ln)) / len(full) if full else 0.0


def _py(prefix: _Prefix) -> re.Pattern[str]:
    return re.compile(prefix.regex)


def detect_wrapper(lines: Sequence[str],
                   has_layout: Callable[[Sequence[str]], bool]) -> WrapperSpec | None:
    """The wrapper around a sample of lines, or None.

    Envelopes with an unmistakable shape are taken when they explain nearly every
    line. A bare RFC 3339 prefix is ``kubectl --timestamps`` only with sub-millisecond
    stamps or when a trace follows it; a constant prefix only when the text has no
    known layout and the prefix hides a trace.
    """
    if _share(lines, _DOCKER) >= STRONG_SHARE:
        return WrapperSpec("docker-json")
    for prefix in (_CRI, _MUX_SOURCE, _SYSLOG5424, _SYSLOG3164, _MULTIPLEX):
        if _share(lines, _py(prefix)) >= STRONG_SHARE:
            return WrapperSpec(prefix.name)
    kubectl = _py(_KUBECTL)
    if _share(lines, kubectl) >= STRONG_SHARE:
        inner = [kubectl.sub("", ln, count=1) for ln in lines]
        nanos = [m for ln in lines if (m := re.match(r"\S+\.(\d+)", ln))]
        # an ISO stamp and a space also open app logs and nginx $time_iso8601 lines:
        # only Go's RFC3339Nano precision, or a trace behind the stamp, says kubectl
        if (sum(len(m[1]) > 3 for m in nanos) > len(nanos) / 2
                or has_trace_evidence("\n".join(inner))):
            return WrapperSpec("kubectl-timestamps")
        return None
    prefix = _constant_prefix(lines)
    if prefix and not has_layout(lines):
        return WrapperSpec("prefix", prefix)
    return None


_PREFIX_CANDIDATE = re.compile(r"^([^\s:|>#]{1,40}(?::|\s*\||>) )")


def _constant_prefix(lines: Sequence[str]) -> str | None:
    """A prefix such as ``content: `` on most lines, behind which a trace appears."""
    full = [ln for ln in lines if ln.strip()]
    found = Counter(m[1] for ln in full if (m := _PREFIX_CANDIDATE.match(ln)))
    if not found:
        return None
    prefix, count = found.most_common(1)[0]
    if count < 2 or count / len(full) < WEAK_SHARE:
        return None
    inner = "\n".join(ln[len(prefix):] if ln.startswith(prefix) else ln for ln in lines)
    return prefix if has_trace_evidence(inner) else None


# -- unwrapping ------------------------------------------------------------------------
def unwrap(spec: WrapperSpec, raw: np.ndarray, starts: np.ndarray) -> Unwrapped:
    """The inner text of whole outer lines ``raw[starts[0]:starts[-1]]``."""
    if spec.name == "docker-json":
        return _unwrap_docker(raw, starts)
    return _unwrap_prefix(_prefix_regex(spec), raw, starts)


def unwrap_bytes(spec: WrapperSpec, data: bytes) -> bytes:
    """Inner text of a whole buffer (a file head, or a structured-evidence file)."""
    raw = np.frombuffer(data, dtype=np.uint8)
    return unwrap(spec, raw, line_offsets(raw, final=True)).data


def _times(values: pa.Array) -> np.ndarray:
    """RFC 3339 strings as epoch ms; NO_TIME where missing or not parsable."""
    text = values.cast(pa.large_string())
    ok = pc.fill_null(pc.match_substring_regex(text, f"^{_ISO}$"), False)
    out = np.full(len(values), NO_TIME, dtype=np.int64)
    good = np.flatnonzero(ok.to_numpy(zero_copy_only=False))
    if len(good):
        picked = text.take(pa.array(good))
        try:
            stamps = pc.cast(picked, pa.timestamp("ns", tz="UTC"))
        except pa.ArrowInvalid:  # a well-shaped but impossible date: value by value
            stamps = pa.array([_one_time(v) for v in picked.to_pylist()],
                              pa.timestamp("ns", tz="UTC"))
        ms = stamps.cast(pa.int64()).fill_null(NO_TIME).to_numpy(zero_copy_only=False)
        out[good] = np.where(ms == NO_TIME, NO_TIME, ms // 1_000_000)
    return out


def _one_time(value: str) -> object:
    try:
        return pc.cast(pa.array([value]), pa.timestamp("ns", tz="UTC"))[0]
    except pa.ArrowInvalid:
        return None


def _unwrap_prefix(prefix: _Prefix, raw: np.ndarray, starts: np.ndarray) -> Unwrapped:
    n = len(starts) - 1
    lines = lines_array(raw, starts)
    parts = pc.extract_regex(lines, prefix.regex)
    matched = parts.is_valid().to_numpy(zero_copy_only=False)
    pre = pc.binary_length(parts.field("pre")).fill_null(0).to_numpy(
        zero_copy_only=False).astype(np.int64)
    begin = starts[:-1] + pre
    end = starts[1:].copy()
    cont = np.zeros(n, dtype=bool)
    if prefix.partial:
        cont = matched & pc.equal(parts.field("tag"), b"P").fill_null(False).to_numpy(
            zero_copy_only=False)
        newline = raw[np.maximum(end - 1, 0)] == 10
        trim = cont & newline
        end[trim] -= 1
        end[trim & (end > begin) & (raw[np.maximum(end - 1, 0)] == 13)] -= 1
    end = np.maximum(end, begin)
    data = _drop(raw, starts, begin, end)
    if prefix.syslog_tabs and b"#011" in data:
        data = data.replace(b"#011", b"\t")
    new_line = np.ones(n, dtype=bool)
    new_line[1:] = ~cont[:-1]
    firsts = np.flatnonzero(new_line)
    ms = np.full(len(firsts), NO_TIME, dtype=np.int64)
    if prefix.times:
        ms = _times(parts.field("ts").take(pa.array(firsts)))
    return Unwrapped(data, np.append(firsts, n), ms, n)


def _drop(raw: np.ndarray, starts: np.ndarray, begin: np.ndarray, end: np.ndarray) -> bytes:
    """Keep ``raw[begin[i]:end[i]]`` of each line ``starts[i]:starts[i+1]``, in order.

    One mask over the chunk: the dropped ranges (prefixes, a partial line's newline)
    are marked with a running sum, so the cost is a few passes over the bytes.
    """
    lo, hi = int(starts[0]), int(starts[-1])
    marks = np.zeros(hi - lo + 1, dtype=np.int32)
    # indexes are distinct within each statement, so ``+=`` adds as np.add.at would
    marks[starts[:-1] - lo] += 1
    marks[begin - lo] -= 1
    marks[end - lo] += 1
    marks[starts[1:] - lo] -= 1
    drop = np.cumsum(marks[:-1]) > 0
    return raw[lo:hi][~drop].tobytes()


_DOCKER_SCHEMA = pa.schema([("log", pa.string()), ("time", pa.string())])


def _unwrap_docker(raw: np.ndarray, starts: np.ndarray) -> Unwrapped:
    """json-file lines: the ``log`` strings joined (a value without ``\\n`` is partial)."""
    import pyarrow.json as pj

    n = len(starts) - 1
    chunk = raw[starts[0]:starts[-1]].tobytes()
    try:
        table = pj.read_json(io.BytesIO(chunk), read_options=pj.ReadOptions(
            block_size=max(len(chunk), 1 << 20)), parse_options=pj.ParseOptions(
            explicit_schema=_DOCKER_SCHEMA, unexpected_field_behavior="ignore"))
        logs = table.column("log").combine_chunks()
        times = table.column("time").combine_chunks()
        if len(logs) != n or logs.null_count:
            raise ValueError("not one log per line")
        values = logs
    except (pa.ArrowInvalid, ValueError):
        values, times = _docker_slow(raw, starts)
    offs = np.frombuffer(values.buffers()[1], dtype=np.int32)[values.offset:values.offset + n + 1]
    data = values.buffers()[2].to_pybytes()[offs[0]:offs[-1]]
    offs = offs.astype(np.int64) - offs[0]
    # each inner line belongs to the entry holding its first byte: an entry without a
    # newline (docker splits lines at 16 KiB) is continued by the next entry
    inner_starts = line_offsets(np.frombuffer(data, dtype=np.uint8), final=True)[:-1]
    outer_of = np.searchsorted(offs, inner_starts, side="right") - 1
    ms = _times(times)[outer_of] if len(outer_of) else np.zeros(0, dtype=np.int64)
    return Unwrapped(data, np.append(outer_of, n), ms, n)


def _docker_slow(raw: np.ndarray, starts: np.ndarray) -> tuple[pa.Array, pa.Array]:
    """Line by line, for a chunk Arrow refused: a line that is not an entry stays as is."""
    logs: list[str] = []
    times: list[str | None] = []
    for a, b in zip(starts[:-1].tolist(), starts[1:].tolist(), strict=True):
        line = raw[a:b].tobytes().decode("utf-8", "replace")
        try:
            entry = json.loads(line)
            log, when = entry["log"], entry.get("time")
            if not isinstance(log, str):
                raise TypeError
        except (ValueError, TypeError, KeyError):
            log, when = line if line.endswith("\n") else line + "\n", None
        logs.append(log)
        times.append(when if isinstance(when, str) else None)
    return pa.array(logs, pa.string()), pa.array(times, pa.string())
