"""nginx ``log_format`` definitions: read them from an ``nginx.conf``, compile them to RE2.

A format is the user's own description of their access log, so when an
``nginx.conf`` is among the evidence its formats are tried before the built-in
shapes (see ``parse_nginx_access``). Variables become named groups under the
column names the parser already uses (``$request_time`` -> ``rt``,
``$upstream_addr`` -> ``ua`` ...); variables we do not read become anonymous
groups shaped by where they sit (inside quotes, inside brackets, or a bare token).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from pathlib import Path

COMBINED = ('$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent '
            '"$http_referer" "$http_user_agent"')

_LOG_FORMAT = re.compile(
    r"\blog_format\s+(?P<name>[\w-]+)\s+(?:escape=\w+\s+)?(?P<body>(?:'[^']*'|\"[^\"]*\"|\s+)+);")
_ACCESS_LOG = re.compile(r"\baccess_log\s+(?P<path>[^\s;]+)(?:\s+(?P<name>[\w-]+))?[^;]*;")
_PIECE = re.compile(r"'([^']*)'|\"([^\"]*)\"")
_VAR = re.compile(r"\$(?:\{(\w+)\}|(\w+))")

# Variable -> column group name, and the shape of its value.
_Q = r'(?:[^"\\]|\\.)*'
_LIST = r"[^\s,]+(?:(?:, | : )[^\s,]+)*"
NAMED: dict[str, tuple[str, str]] = {
    "remote_addr": ("remote_addr", r"[^\s,]+"),
    "remote_user": ("remote_user", r"\S+"),
    "time_local": ("time", r"\d{2}/\w{3}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}"),
    "time_iso8601": ("time_iso", r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:[+-]\d{2}:\d{2}|Z)"),
    "request": ("request", _Q),
    "status": ("status", r"\d{3}"),
    "body_bytes_sent": ("bytes", r"\d+|-"),
    "bytes_sent": ("bytes", r"\d+|-"),
    "http_referer": ("referer", _Q),
    "http_user_agent": ("user_agent", _Q),
    "http_x_forwarded_for": ("xff", _Q),
    "request_time": ("rt", r"[\d.]+|-"),
    "upstream_response_time": ("ut", _LIST),
    "upstream_addr": ("ua", _LIST),
    "upstream_status": ("us", _LIST),
}


def read_log_formats(conf: str) -> dict[str, str]:
    """``log_format`` definitions of a config (comments dropped), plus nginx's ``combined``."""
    text = "\n".join(ln for ln in conf.splitlines() if not ln.lstrip().startswith("#"))
    formats = {"combined": COMBINED}
    for m in _LOG_FORMAT.finditer(text):
        formats[m["name"]] = "".join(a or b for a, b in _PIECE.findall(m["body"]))
    return formats


def access_logs(conf: str) -> list[tuple[str, str]]:
    """``(path, format name)`` of each ``access_log`` (``off`` left out)."""
    text = "\n".join(ln for ln in conf.splitlines() if not ln.lstrip().startswith("#"))
    return [(m["path"], m["name"] or "combined") for m in _ACCESS_LOG.finditer(text)
            if m["path"] != "off"]


def compile_log_format(fmt: str) -> str:
    """An RE2 pattern (anchored, whole line) whose groups are the parser's column names."""
    out = ["^"]
    used: set[str] = set()
    pos = 0
    for m in _VAR.finditer(fmt):
        literal = fmt[pos:m.start()]
        out.append(re.escape(literal))
        var = m[1] or m[2]
        before = fmt[:m.start()]
        quoted = before.count('"') % 2 == 1
        bracketed = before.endswith("[")
        name, shape = NAMED.get(var, ("", ""))
        if var.startswith("upstream_") and not shape:
            shape = _LIST
        if quoted and name not in ("time", "time_iso"):
            shape = _Q
        elif not shape:
            shape = r"[^\s\]]*" if bracketed else r"\S*"
        if name and name not in used:
            used.add(name)
            out.append(f"(?P<{name}>{shape})")
        else:
            out.append(f"(?:{shape})")
        pos = m.end()
    out.append(re.escape(fmt[pos:]) + r"\s*$")
    return "".join(out)


def group_names(pattern: str) -> set[str]:
    return set(re.findall(r"\(\?P<(\w+)>", pattern))


def formats_from(confs: Iterable[str]) -> dict[str, str]:
    """All formats of the given config texts (name -> format); later configs win."""
    formats: dict[str, str] = {}
    for text in confs:
        formats.update(read_log_formats(text))
    return formats


_CONF_MAX = 1 << 20


def formats_near(log_path: Path, *, levels: int = 2) -> dict[str, str]:
    """``log_format``s of the nginx configs kept with a log: ``*.conf`` files in its
    directory and the one above, and in their ``conf``/``conf.d``/``nginx`` folders.

    Bounded on purpose (a few directories, files under 1 MB that mention
    ``log_format``): evidence bundles keep the config beside the logs, and nothing
    outside them is read. Each directory is read once per change of its mtime, so a
    thousand rolled logs in one folder cost one look.
    """
    formats: dict[str, str] = {}
    d = log_path.parent
    for _ in range(levels):
        for sub in (d, d / "conf", d / "conf.d", d / "nginx"):
            try:
                stamp = sub.stat().st_mtime_ns
            except OSError:
                continue
            formats.update(_dir_formats(str(sub), stamp))
        if d.parent == d:
            break
        d = d.parent
    return formats


@functools.lru_cache(maxsize=256)
def _dir_formats(directory: str, mtime_ns: int) -> dict[str, str]:
    del mtime_ns  # part of the cache key only
    texts: list[str] = []
    for conf in sorted(Path(directory).glob("*.conf")):
        try:
            if conf.is_file() and conf.stat().st_size < _CONF_MAX:
                text = conf.read_text("utf-8", errors="replace")
                if "log_format" in text:
                    texts.append(text)
        except OSError:
            continue
    return formats_from(texts) if texts else {}


def fits_formats(head: bytes, formats: dict[str, str], *, share: float = 0.9) -> str | None:
    """The configured format (name) that whole lines of ``head`` follow, if any.

    For files no built-in shape recognises: with the user's own ``log_format`` even
    ``$time_iso8601 client=$remote_addr ...`` is an access log. Only formats that
    name a request and a status count, so a bare ``'$remote_addr $request'`` cannot
    claim arbitrary text.
    """
    lines = [ln for ln in head.decode("utf-8", "replace").splitlines()[:200] if ln.strip()]
    if len(head) >= 4096 and lines:
        lines = lines[:-1]  # the last may be cut
    if not lines:
        return None
    for name, fmt in formats.items():
        if fmt == COMBINED or not {"request", "status"} <= group_names(
                rx := compile_log_format(fmt)):
            continue
        pattern = re.compile(rx)
        if sum(bool(pattern.match(ln)) for ln in lines) >= share * len(lines):
            return name
    return None
