"""nginx access and error logs into ``http_requests`` and ``nginx_errors`` tables.

Access logs are large, so nothing here loops over lines in Python: the buffer is
cut into lines with numpy (newline offsets become the offsets of a zero-copy
Arrow string array) and every field comes from RE2 ``extract_regex`` over that
array. Only unparsed lines (for samples) are touched one by one.

Access formats: with ``log_formats`` (from an ``nginx.conf`` among the evidence,
see ``nginx_format``) the user's own format is used when it fits the file at least
as well as the built-in shapes. Otherwise the shapes are inferred per line:
``common``, ``combined``, an ``X-Forwarded-For`` chain before the address
(``10.0.0.2, 10.0.0.1 - - [...]`` or quoted; ``remote_addr`` is the last address,
the one nginx saw, ``forwarded_for`` the chain before it), and combined followed by
``$request_time $upstream_response_time $upstream_addr $upstream_status`` in that
order, each optionally quoted; also ``rt=``/``urt=``/``uaddr=``/``us=`` style
key=value extras (``request_time=``, ``upstream_response_time=``,
``upstream_addr=``, ``upstream_status=`` spelled out work too), or by
ingress-nginx's ``upstreaminfo`` fields (request length, request time,
``[upstream name]`` ``[alternative]``, addresses, lengths, times, statuses, id). Extras are
recognised by shape per line, so one file may mix formats. With several upstream
tries (``0.000, 1.001``) ``upstream_time_s`` is their sum, ``upstream_status`` the
last status and ``upstream_tries`` the count.

Error logs carry local time without an offset: ``default_tz`` places them on the
UTC clock; without it they are read as UTC and ``timezone`` stays None (unknown).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import tzinfo

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from logsleuth.model import EvidenceResult, Kind, Record
from logsleuth.parsers.classify import resolve_tz, rows_to_records
from logsleuth.parsers.lines import line_offsets

_Q = r'(?:[^"\\]|\\.)*'  # inside double quotes, nginx escapes " as \x22 but be lenient
_NUM = r"(?:\d+(?:\.\d+)?|-)"
_SEP = r"(?:, | : )"
_ACCESS_TAIL = (
    r" \S+ (?P<remote_user>\S+) \[(?P<time>[^\]]+)\] "
    rf'"(?P<request>{_Q})" (?P<status>\d{{3}}) (?P<bytes>\d+|-)'
    rf'(?: "(?P<referer>{_Q})" "(?P<user_agent>{_Q})")?(?P<extra>.*?)\s*$'
)
_ACCESS = r"^(?P<remote_addr>\S+)" + _ACCESS_TAIL
# Tried only on the lines _ACCESS leaves: an X-Forwarded-For chain before the address.
_ACCESS_XFF = (r'^(?P<xff>"[^"]*"|[^\s,"]+(?:, [^\s,]+)*)(?:, | )(?P<remote_addr>[^\s,]+)'
               + _ACCESS_TAIL)
_FIELDS = ("remote_addr", "time", "time_iso", "request", "status", "bytes", "referer",
           "user_agent", "extra", "xff", "rt", "ut", "ua", "us")
_EXTRA_POS = (
    rf'^ "?(?P<rt>{_NUM})"? "?(?P<ut>{_NUM}(?:{_SEP}{_NUM})*)"? '
    rf'"?(?P<ua>[^\s",]+(?:{_SEP}[^\s",]+)*)"? "?(?P<us>(?:\d{{3}}|-)(?:{_SEP}(?:\d{{3}}|-))*)"?'
)
_LIST = r"[^\s,]+(?:(?:, | : )[^\s,]+)*"
_EXTRA_INGRESS = (
    rf"^ \d+ (?P<rt>{_NUM}) \[[^\]]*\] \[[^\]]*\] (?P<ua>{_LIST}) {_LIST} (?P<ut>{_LIST})"
    rf" (?P<us>{_LIST}) \S+$"
)
_KV = {
    "rt": r'(?:^|\s)(?:rt|request_time)="?(?P<v>\d+(?:\.\d+)?)',
    "ut": rf'(?:^|\s)(?:urt|upstream_response_time)="?(?P<v>{_NUM}(?:{_SEP}{_NUM})*)',
    "ua": rf'(?:^|\s)(?:uaddr|ua|upstream_addr)="?(?P<v>[^\s",]+(?:{_SEP}[^\s",]+)*)',
    "us": rf'(?:^|\s)(?:us|upstream_status)="?(?P<v>(?:\d{{3}}|-)(?:{_SEP}(?:\d{{3}}|-))*)',
}
_REQUEST = r"^(?P<method>[A-Z][A-Z_-]*) (?P<path>\S+)(?: (?P<protocol>[A-Z]+/[\d.]+))?$"
# `nginx: [emerg] ...` / `nginx: configuration file ... test failed` is what `nginx -t`
# and a failed start write to stderr: no time, no pid, maybe no level.
_ERROR = (
    r"^(?:(?P<time>\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}) \[(?P<level>[a-z]+)\] "
    r"|nginx: (?:\[(?P<bare_level>[a-z]+)\] )?)"
    r"(?:(?P<pid>\d+)#(?P<tid>\d+): )?(?:\*(?P<conn>\d+) )?(?P<body>.*?)\s*$"
)
_ERR_FIELDS = {
    "message": r"(?s)^(?P<v>.*?)(?:, client: |$)",
    "client": r", client: (?P<v>[^,]+)",
    "server": r", server: (?P<v>[^,]*)",
    "request": rf', request: "(?P<v>{_Q})"',
    "upstream": r', upstream: "(?P<v>[^"]*)"',
    "host": r', host: "(?P<v>[^"]*)"',
}
# First match wins; order matters only for messages that say two things.
CATEGORIES: tuple[tuple[str, str], ...] = (
    ("no-live-upstreams", r"no live upstreams"),
    ("upstream-refused", r"connect\(\) (?:to \S+ )?failed \(\d+: Connection refused\)"),
    ("upstream-timeout", r"upstream timed out"),
    ("upstream-prematurely-closed", r"upstream prematurely closed connection"),
    ("upstream-reset", r"Connection reset by peer\).*upstream"),
)
_TS = pa.timestamp("ms", tz="UTC")


def split_lines(data: bytes) -> pa.StringArray:
    """Lines of ``data`` as a zero-copy Arrow string array (each keeps its ``\\n``)."""
    offsets = line_offsets(np.frombuffer(data, dtype=np.uint8))
    big = len(data) >= 2**31
    if not big:
        offsets = offsets.astype(np.int32)
    typ = pa.large_string() if big else pa.string()
    arr = pa.Array.from_buffers(typ, len(offsets) - 1,
                                [None, pa.py_buffer(offsets), pa.py_buffer(data)])
    try:
        arr.validate(full=True)
    except pa.ArrowInvalid:  # invalid UTF-8 somewhere: rare, so pay for a copy
        return split_lines(data.decode("utf-8", errors="replace").encode())
    return arr


def _num(arr: pa.Array) -> pa.Array:
    """``"1.001"`` -> 1.001, ``"-"``/empty/null/anything not a number -> null."""
    s = pc.if_else(pc.match_substring_regex(arr, r"^\d+(?:\.\d+)?$"), arr,
                   pa.scalar(None, pa.string()))
    return pc.cast(s, pa.float64())


def _int(arr: pa.Array, typ: pa.DataType | None = None) -> pa.Array:
    """Digit strings -> integers (int64 unless ``typ``); a value too long for the type
    (a damaged line) -> null."""
    typ = pa.int64() if typ is None else typ
    digits = 9 if typ == pa.int32() else 18
    ok = pc.fill_null(pc.match_substring_regex(arr, rf"^\d{{1,{digits}}}$"), False)
    return pc.cast(pc.if_else(ok, arr, pa.scalar(None, pa.string())), typ)


def _sum_list(arr: pa.Array) -> pa.Array:
    """Sum of the numbers in ``"0.000, 1.001"``-style strings (null when none)."""
    parts = pc.split_pattern_regex(pc.fill_null(arr, ""), _SEP)
    vals = _num(pc.list_flatten(parts)).to_numpy(zero_copy_only=False)
    parent = pc.list_parent_indices(parts).to_numpy()
    ok = ~np.isnan(vals)
    total = np.bincount(parent[ok], weights=vals[ok], minlength=len(arr))
    seen = np.bincount(parent[ok], minlength=len(arr)) > 0
    return pa.array(total, mask=~seen)


def _field(struct: pa.StructArray, name: str) -> pa.Array:
    return pc.struct_field(struct, name)


def _first_nonempty(*arrs: pa.Array) -> pa.Array:
    out = arrs[0]
    for a in arrs[1:]:
        out = pc.if_else(pc.fill_null(pc.not_equal(out, ""), False), out, a)
    return pc.if_else(pc.equal(out, ""), pa.scalar(None, pa.string()), out)


def _counted(res: EvidenceResult, lines: pa.Array, ok: pa.Array) -> pa.Array:
    """Fill line counts and unparsed samples; return 1-based line numbers of ``ok`` rows."""
    blank = pc.match_substring_regex(lines, r"^\s*$")
    bad = pc.and_(pc.invert(ok), pc.invert(blank))
    res.lines = len(lines)
    res.unparsed_lines = pc.sum(bad).as_py() or 0
    res.parsed_lines = res.lines - res.unparsed_lines
    bad_idx = np.flatnonzero(bad.to_numpy(zero_copy_only=False))[:10]
    res.unparsed_samples = [(int(i) + 1, lines[int(i)].as_py().rstrip("\r\n")) for i in bad_idx]
    return pa.array(np.flatnonzero(ok.to_numpy(zero_copy_only=False)) + 1, pa.int64())


def parse_nginx_access(data: bytes, source: str, *, default_tz: str | tzinfo | None = None,
                       log_formats: Mapping[str, str] | None = None) -> EvidenceResult:
    """Access log -> ``http_requests``; times carry their own offset, so ``default_tz``
    is unused (accepted for a uniform parser signature). ``log_formats`` are
    ``name -> log_format`` definitions that may describe this file."""
    del default_tz
    res = EvidenceResult(source=source, kind=Kind.NGINX_ACCESS)
    lines = split_lines(data)
    chosen = _choose_format(lines, log_formats or {})
    ok, g = _extract(lines, [_ACCESS, _ACCESS_XFF] if chosen is None else [chosen[1]])
    line_no = _counted(res, lines, ok)
    n = len(line_no)
    if chosen is None:
        ext = _extras(g["extra"])
    else:
        ext = {k: _first_nonempty(pc.fill_null(g[k], "")) for k in ("rt", "ut", "ua", "us")}
        res.notes.append(f"log_format {chosen[0]!r} from the nginx configuration")
    ts = pc.coalesce(  # $time_local, else $time_iso8601 (a configured format may use it)
        pc.strptime(g["time"], format="%d/%b/%Y:%H:%M:%S %z", unit="ms", error_is_null=True),
        pc.strptime(g["time_iso"], format="%Y-%m-%dT%H:%M:%S%z", unit="ms",
                    error_is_null=True))
    req = pc.extract_regex(g["request"], _REQUEST)
    us_last = pc.extract_regex(pc.fill_null(ext["us"], ""), r"(?P<v>\d{3})\s*$")
    ua = _dash_null(ext["ua"])
    tries = pc.if_else(pc.is_valid(ua),
                       pc.add(pc.count_substring_regex(pc.fill_null(ua, ""), _SEP), 1),
                       pa.scalar(None, pa.int32()))
    res.tables["http_requests"] = pa.table({
        "source": pa.repeat(pa.scalar(source), n),
        "line": line_no,
        "ts": pc.cast(ts, _TS),
        "remote_addr": g["remote_addr"],
        "method": _field(req, "method"),
        "path": _field(req, "path"),
        "protocol": _first_nonempty(pc.fill_null(_field(req, "protocol"), "")),
        "request": g["request"],
        "status": _int(g["status"], pa.int32()),
        "bytes": _int(pc.if_else(pc.equal(g["bytes"], "-"), "0", g["bytes"])),
        "referer": _dash_null(g["referer"]),
        "user_agent": _dash_null(g["user_agent"]),
        "request_time_s": _num(ext["rt"]),
        "upstream_time_s": _sum_list(ext["ut"]),
        "upstream_status": _int(pc.if_else(pc.is_valid(us_last), _field(us_last, "v"),
                                           pa.scalar(None, pa.string())), pa.int32()),
        "upstream_addr": ua,
        "upstream_tries": pc.cast(tries, pa.int32()),
        "forwarded_for": _dash_null(pc.utf8_trim(pc.fill_null(g["xff"], ""), '"')),
    })
    offsets = pc.unique(pc.if_else(  # `+0100` of $time_local or `+01:00` of $time_iso8601
        pc.equal(g["time"], ""), pc.replace_substring(
            pc.utf8_slice_codeunits(g["time_iso"], -6), ":", ""),
        pc.utf8_slice_codeunits(g["time"], -5))).to_pylist()
    res.timezone = offsets[0] if len(offsets) == 1 else None
    if len(offsets) > 1:
        res.notes.append(f"several UTC offsets in one file: {sorted(offsets)}")
    return res


def _extract(lines: pa.Array, patterns: list[str]) -> tuple[pa.Array, dict[str, pa.Array]]:
    """Parsed-line mask and the named fields of the parsed lines.

    The first pattern runs over every line; each next one only over the lines still
    unparsed (rare shapes stay off the common path). Fields a pattern lacks are ``""``.
    """
    n = len(lines)
    taken = np.zeros(n, dtype=bool)
    parts: list[tuple[np.ndarray, pa.StructArray]] = []
    for rx in patterns:
        todo = np.flatnonzero(~taken)
        if not len(todo):
            break
        sub = lines if len(todo) == n else lines.take(pa.array(todo))
        m = pc.extract_regex(sub, rx)
        hit = pc.is_valid(m).to_numpy(zero_copy_only=False)
        if hit.any():
            parts.append((todo[hit], pc.filter(m, pa.array(hit))))
            taken[todo[hit]] = True
    if len(parts) == 1:  # the usual case: already in line order
        m = parts[0][1]
        have = {m.type.field(i).name for i in range(m.type.num_fields)}
        empty = pa.repeat(pa.scalar("", pa.string()), len(m))
        return pa.array(taken), {k: _field(m, k) if k in have else empty for k in _FIELDS}
    rows = np.concatenate([p[0] for p in parts]) if parts else np.zeros(0, np.int64)
    order = pa.array(np.argsort(rows, kind="stable"))
    g = {}
    for k in _FIELDS:
        cols = []
        for _, m in parts:
            have = {m.type.field(i).name for i in range(m.type.num_fields)}
            cols.append(_field(m, k) if k in have else pa.repeat(pa.scalar("", pa.string()),
                                                                 len(m)))
        g[k] = pc.take(pa.concat_arrays(cols), order) if cols else pa.array([], pa.string())
    return pa.array(taken), g


def _extras(extra: pa.Array) -> dict[str, pa.Array]:
    """rt/ut/ua/us from the text after the user agent, by shape (positional, ingress, k=v)."""
    shapes = [pc.extract_regex(extra, rx) for rx in (_EXTRA_POS, _EXTRA_INGRESS)]
    ext = {}
    for k, rx in _KV.items():
        kv = pc.extract_regex(extra, rx)
        vals = [pc.fill_null(pc.if_else(pc.is_valid(sh), _field(sh, k),
                                        pa.scalar(None, pa.string())), "") for sh in shapes]
        kv_v = pc.if_else(pc.is_valid(kv), _field(kv, "v"), pa.scalar(None, pa.string()))
        ext[k] = _first_nonempty(*vals, kv_v)
    return ext


_SAMPLE = 200


def _choose_format(lines: pa.Array, formats: Mapping[str, str]) -> tuple[str, str] | None:
    """The configured format that fits the first lines at least as well as the built-in
    shapes and says more than ``combined`` does; None to infer by shape."""
    if not formats:
        return None
    from logsleuth.parsers.nginx_format import COMBINED, compile_log_format, group_names

    sample = lines.slice(0, _SAMPLE)
    base = pc.sum(pc.match_substring_regex(sample, _ACCESS)).as_py() or 0
    best: tuple[int, int, str, str] | None = None
    for name, fmt in formats.items():
        if fmt == COMBINED:
            continue
        rx = compile_log_format(fmt)
        try:
            hits = pc.sum(pc.match_substring_regex(sample, rx)).as_py() or 0
        except pa.ArrowInvalid:  # a format RE2 cannot take: leave it to the shapes
            continue
        score = (hits, len(group_names(rx)), name, rx)
        says_more = hits > base or score[1] > len(group_names(compile_log_format(COMBINED)))
        if hits and hits >= base and says_more and (best is None or score[:2] > best[:2]):
            best = score
    return None if best is None else (best[2], best[3])


def _dash_null(a: pa.Array) -> pa.Array:
    """nginx writes ``-`` for no value; an optional group that did not match gives ``""``."""
    empty = pc.fill_null(pc.is_in(a, pa.array(["-", ""])), True)
    return pc.if_else(empty, pa.scalar(None, pa.string()), a)


def parse_nginx_error(data: bytes, source: str, *,
                      default_tz: str | tzinfo | None = None) -> EvidenceResult:
    """Error log -> ``nginx_errors`` with an upstream-failure ``category`` per line."""
    res = EvidenceResult(source=source, kind=Kind.NGINX_ERROR)
    lines = split_lines(data)
    m = pc.extract_regex(lines, _ERROR)
    ok = pc.is_valid(m)
    cont = _continuations(lines, ok)
    _counted(res, lines, pc.or_(ok, pa.array(cont >= 0)))  # continuations are parsed
    line_no = pa.array(np.flatnonzero(ok.to_numpy(zero_copy_only=False)) + 1, pa.int64())
    m = pc.filter(m, ok)
    body = _with_continuations(_field(m, "body"), lines, ok, cont)
    naive = pc.strptime(_field(m, "time"), format="%Y/%m/%d %H:%M:%S", unit="ms",
                        error_is_null=True)
    tz = resolve_tz(default_tz)
    if tz is None:
        ts = pc.assume_timezone(naive, timezone="UTC")
        if len(m):
            res.notes.append("error-log times have no offset and no default_tz: read as UTC")
    else:
        ts = pc.assume_timezone(naive, timezone=_arrow_tz(tz), ambiguous="earliest",
                                nonexistent="earliest")
        res.timezone = _arrow_tz(tz)
    category = pa.array(["other"] * len(m), pa.string())
    for name, rx in reversed(CATEGORIES):
        category = pc.if_else(pc.match_substring_regex(body, rx), name, category)
    cols: dict[str, pa.Array] = {
        "source": pa.repeat(pa.scalar(source), len(m)),
        "line": line_no,
        "ts": pc.cast(ts, _TS),
        "level": _first_nonempty(pc.fill_null(_field(m, "level"), ""),
                                 pc.fill_null(_field(m, "bare_level"), "")),
        "pid": _int(_first_nonempty(_field(m, "pid"))),
        "tid": _int(_first_nonempty(_field(m, "tid"))),
        "connection": _int(_first_nonempty(_field(m, "conn"))),
        "category": category,
    }
    for k, rx in _ERR_FIELDS.items():
        x = pc.extract_regex(body, rx)
        cols[k] = _first_nonempty(pc.fill_null(
            pc.if_else(pc.is_valid(x), _field(x, "v"), pa.scalar(None, pa.string())), ""))
    res.tables["nginx_errors"] = pa.table(cols)
    return res


def _continuations(lines: pa.Array, ok: pa.Array) -> np.ndarray:
    """For each line, the index of the record it continues, else -1.

    nginx writes a message as it got it: a FastCGI/uwsgi stderr text quoted in the
    message may go on over several lines. A line that is not a record continues the
    record above it while that record's quote is still open.
    """
    n = len(lines)
    head = ok.to_numpy(zero_copy_only=False)
    out = np.full(n, -1, dtype=np.int64)
    if head.all() or not head.any():
        return out
    quotes = (pc.count_substring(lines, '"').to_numpy(zero_copy_only=False)
              - pc.count_substring(lines, '\\"').to_numpy(zero_copy_only=False))
    owner = np.maximum.accumulate(np.where(head, np.arange(n), -1))
    open_ = np.cumsum(quotes)
    blank = pc.match_substring_regex(lines, r"^\s*$").to_numpy(zero_copy_only=False)
    for i in np.flatnonzero(~head & (owner >= 0) & ~blank):  # rare: per line is fine
        o = owner[i]
        if (open_[i - 1] - (open_[o - 1] if o else 0)) % 2 == 1:
            out[i] = o
    return out


def _with_continuations(body: pa.Array, lines: pa.Array, ok: pa.Array,
                        cont: np.ndarray) -> pa.Array:
    """Record bodies with their continuation lines joined on by newlines."""
    if (cont < 0).all():
        return body
    row_of = np.cumsum(ok.to_numpy(zero_copy_only=False)) - 1
    texts = body.to_pylist()
    for i in np.flatnonzero(cont >= 0):
        r = int(row_of[cont[i]])
        texts[r] = f"{texts[r]}\n{lines[int(i)].as_py().rstrip()}"
    return pa.array(texts, pa.string())


def _arrow_tz(tz: tzinfo) -> str:
    """Arrow wants an IANA name or ``+HH:MM``."""
    key = getattr(tz, "key", None)
    if key:
        return str(key)
    off = tz.utcoffset(None)
    if off is None:
        return "UTC"
    mins = int(off.total_seconds() // 60)
    return f"{'-' if mins < 0 else '+'}{abs(mins) // 60:02d}:{abs(mins) % 60:02d}"


# ---------------------------------------------------------------- derived views


def status_class_series(http_requests: pa.Table, freq: str = "1min") -> pd.DataFrame:
    """Requests per time bucket by status class (columns ``1xx``..``5xx``, index ``ts``)."""
    df = http_requests.select(["ts", "status"]).to_pandas()
    df["class"] = (df["status"] // 100).astype("Int64").astype(str) + "xx"
    out = df.groupby([pd.Grouper(key="ts", freq=freq), "class"]).size().unstack(fill_value=0)
    for c in ("2xx", "3xx", "4xx", "5xx"):
        if c not in out.columns:
            out[c] = 0
    out.columns.name = None
    return out[sorted(out.columns)]


def upstream_error_series(nginx_errors: pa.Table, freq: str = "1min") -> pd.DataFrame:
    """Error-log lines per time bucket by ``category`` (``other`` left out)."""
    df = nginx_errors.select(["ts", "category"]).to_pandas()
    df = df[df["category"] != "other"]
    out = df.groupby([pd.Grouper(key="ts", freq=freq), "category"]).size().unstack(fill_value=0)
    for c, _ in CATEGORIES:
        if c not in out.columns:
            out[c] = 0
    out.columns.name = None
    return out[sorted(out.columns)]


def request_records(http_requests: pa.Table) -> Iterator[Record]:
    """Requests as ``Record(kind=NGINX_ACCESS)``: message ``"METHOD path" status``;
    fields: status, method, path, upstream_status, upstream_addr, request_time_s,
    upstream_time_s, remote_addr, user_agent."""
    return rows_to_records(
        http_requests, kind=Kind.NGINX_ACCESS,
        message=lambda r: f'"{r["request"]}" {r["status"]}',
        fields=("status", "method", "path", "upstream_status", "upstream_addr",
                "request_time_s", "upstream_time_s", "remote_addr", "user_agent"))


def error_records(nginx_errors: pa.Table) -> Iterator[Record]:
    """Error lines as ``Record(kind=NGINX_ERROR)`` with ``level`` set; fields: category,
    upstream, client, request, connection, pid."""
    return rows_to_records(
        nginx_errors, kind=Kind.NGINX_ERROR, message=lambda r: str(r["message"]),
        level="level", fields=("category", "upstream", "client", "request", "connection", "pid"))
