"""Benchmark inputs of other shapes than ``gen_incident_log``: so speed is not tuned to one file.

- ``orders``: a layout no built-in knows (``%d{ISO8601} | %-5level | %t | %c | req=%X{req}
  | %m%n``, so layout inference must find it), 48 exception classes with 160 message
  templates, ~15 % ERROR records each carrying a 30-70 frame trace with up to two
  ``Caused by:`` levels.
- ``jsonlayout``: log4j2 ``JsonLayout`` with ``compact=true eventEol=true``: one JSON
  object per line, ERROR records carrying ``thrown`` with an ``extendedStackTrace``.
- ``publicmix``: the real public app logs of ``tests/data/public/applogs/``, each file
  repeated whole (never edited) to its share of the size, one output file per source.

Every generator is deterministic for a seed and writes ``<out>.json``, a manifest of
true counts (records, lines, ERROR records) the harness checks the tools against.
"""

from __future__ import annotations

import json
import random
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PUBLIC_APPLOGS = ROOT / "tests" / "data" / "public" / "applogs"
START = datetime(2021, 3, 1, 8, 0, 0, tzinfo=UTC)
ERROR_SHARE = 0.15
FLUSH = 8 << 20
ORDERS_LAYOUT = "%d{ISO8601} | %-5level | %t | %c | req=%X{req} | %m%n"
ORDERS_HEADER_RE = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d,\d{3} \| "
JSON_HEADER_RE = r'^\{"instant":'

_PKGS = ("com.shop.orders", "com.shop.billing", "com.shop.catalog", "com.shop.auth",
         "org.acme.db", "org.acme.cache", "org.acme.http", "net.pay.gateway")
_NOUNS = ("Order", "Invoice", "Payment", "Cart", "Session", "Token", "Inventory", "Price",
          "Ledger", "Shipment", "Coupon", "Account")
_FAULTS = ("NotFound", "Conflict", "Timeout", "Validation", "Stale", "Corrupt")
_VERBS = ("load", "save", "apply", "reserve", "charge", "refund", "lookup", "render",
          "merge", "expire")
_MSGS = ("{n} {id} not found in shard {k}", "timeout after {ms} ms calling {host}",
         "{n} {id} version {k} conflicts with {j}", "invalid field '{f}' in {n} {id}",
         "{n} cache stale by {ms} ms for key {id}", "checksum mismatch at offset {k} of {n}",
         "{n} {id} rejected by {host}: code {k}", "retry {k}/{j} for {n} {id} on {host}",
         "{f} must be positive, was -{k}", "{n} {id}: lock held by thread {j} for {ms} ms")


@dataclass(slots=True)
class Manifest:
    """True counts of one generated input."""

    shape: str
    path: str
    seed: int
    size_requested: int
    bytes: int = 0
    lines: int = 0
    records: int = 0
    error_records: int = 0
    exception_classes: int = 0  # distinct classes of the top-level exceptions
    files: list[str] = field(default_factory=list)
    layout: str = ""
    header_re: str = ""


@dataclass(frozen=True, slots=True)
class Fault:
    cls: str
    message: str  # a template of _MSGS with {n} filled
    frames: tuple[tuple[str, str, int], ...]  # (qualified method, file, line)


def _vocabulary(rng: random.Random) -> list[Fault]:
    """48 exception classes x several message templates, each with its own deep frame pool."""
    faults = []
    for i in range(48):
        noun, fault = _NOUNS[i % len(_NOUNS)], _FAULTS[i // len(_NOUNS) % len(_FAULTS)]
        pkg = _PKGS[i % len(_PKGS)]
        cls = f"{pkg}.{noun}{fault}Exception"
        frames = []
        for _ in range(rng.randint(30, 70)):
            owner = f"{rng.choice(_PKGS)}.{rng.choice(_NOUNS)}{rng.choice(('Service', 'Repo', 'Client', 'Handler'))}"
            frames.append((f"{owner}.{rng.choice(_VERBS)}", owner.rsplit('.', 1)[1] + ".java",
                           rng.randint(20, 900)))
        for t in rng.sample(_MSGS, 4 if i % 3 else 3):  # 48 classes, 176 templates
            faults.append(Fault(cls, t.replace("{n}", noun.lower()), tuple(frames)))
    return faults


def _fill(template: str, rng: random.Random) -> str:
    return template.format(id=rng.randint(10**5, 10**7), k=rng.randint(1, 64),
                           j=rng.randint(1, 64), ms=rng.randint(50, 30000),
                           host=f"db-{rng.randint(1, 12)}.internal", f=rng.choice(_VERBS))


def _text_trace(f: Fault, faults: list[Fault], rng: random.Random) -> tuple[str, int]:
    """A log4j2 ``%xEx`` trace with 0-2 causes; returns (text, lines)."""
    out = [f"{f.cls}: {_fill(f.message, rng)}"]
    out += [f"\tat {m}({file}:{ln}) ~[shop-2.3.1.jar:?]" for m, file, ln in f.frames]
    for _ in range(rng.choice((0, 0, 1, 2))):
        c = rng.choice(faults)
        keep = rng.randint(5, 20)
        out.append(f"Caused by: {c.cls}: {_fill(c.message, rng)}")
        out += [f"\tat {m}({file}:{ln}) ~[shop-2.3.1.jar:?]" for m, file, ln in c.frames[:keep]]
        out.append(f"\t... {len(f.frames) - 3} more")
    return "\n".join(out) + "\n", len(out)


_INFO = ("order {id} accepted ({k} items)", "GET /api/orders/{id} 200 {ms}ms",
         "cache hit ratio {k}% on {host}", "payment {id} authorised", "session {id} renewed",
         "shipment {id} dispatched to {host}", "reserved {k} of item {id}")
_WARN = ("slow query {ms} ms on {host}", "retrying {id} ({k}/{j})", "pool {host} at {k}% capacity")


def _stamp(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S,") + f"{t.microsecond // 1000:03d}"


def _write(out: Path, m: Manifest, emit) -> Manifest:
    """Drive ``emit(rng, t) -> (text, lines, is_error, cls|None)`` until the size is reached."""
    rng = random.Random(m.seed)
    t = START
    parts: list[str] = []
    pending = 0
    classes: set[str] = set()
    with out.open("w", encoding="utf-8", newline="\n") as fh:
        while m.bytes + pending < m.size_requested:
            t += timedelta(microseconds=rng.randint(200, 40000))
            text, lines, err, cls = emit(rng, t)
            parts.append(text)
            pending += len(text)
            m.records += 1
            m.lines += lines
            m.error_records += err
            if cls:
                classes.add(cls)
            if pending >= FLUSH:
                fh.write("".join(parts))
                m.bytes += pending
                parts.clear()
                pending = 0
        fh.write("".join(parts))
        m.bytes += pending
    m.exception_classes = len(classes)
    Path(f"{out}.json").write_text(json.dumps(asdict(m), indent=2) + "\n")
    return m


def gen_orders(out: Path, size: int, seed: int = 1) -> Manifest:
    """The pipe-layout log: many exception classes, ~15 % ERROR records with deep traces."""
    faults = _vocabulary(random.Random(seed + 1000))
    threads = [f"http-nio-8080-exec-{i}" for i in range(1, 41)] + ["scheduler-1", "kafka-c-1"]
    loggers = [f"{p}.{n}{s}" for p in _PKGS for n in _NOUNS[:4] for s in ("Service", "Client")]

    def emit(rng: random.Random, t: datetime) -> tuple[str, int, bool, str | None]:
        head = f"{_stamp(t)} | {{lvl}} | {rng.choice(threads)} | {rng.choice(loggers)} | " \
               f"req={rng.randint(10**8, 10**9):x} | "
        r = rng.random()
        if r < ERROR_SHARE:
            f = rng.choice(faults)
            trace, n = _text_trace(f, faults, rng)
            return (head.replace("{lvl}", "ERROR") + f"failed to {rng.choice(_VERBS)} "
                    f"{_fill('{id}', rng)}\n" + trace, n + 1, True, f.cls)
        lvl, msgs = ("WARN ", _WARN) if r < ERROR_SHARE + 0.05 else ("INFO ", _INFO)
        return head.replace("{lvl}", lvl) + _fill(rng.choice(msgs), rng) + "\n", 1, False, None

    m = Manifest("orders", str(out), seed, size, layout=ORDERS_LAYOUT, header_re=ORDERS_HEADER_RE)
    return _write(out, m, emit)


def gen_jsonlayout(out: Path, size: int, seed: int = 1) -> Manifest:
    """log4j2 JsonLayout compact lines; ERROR records carry ``thrown``."""
    faults = _vocabulary(random.Random(seed + 2000))
    threads = [f"pool-1-thread-{i}" for i in range(1, 17)]
    loggers = [f"{p}.{n}Service" for p in _PKGS for n in _NOUNS[:6]]
    dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode

    def emit(rng: random.Random, t: datetime) -> tuple[str, int, bool, str | None]:
        r = rng.random()
        ev: dict[str, object] = {
            "instant": {"epochSecond": int(t.timestamp()), "nanoOfSecond": t.microsecond * 1000},
            "thread": rng.choice(threads), "level": "INFO", "loggerName": rng.choice(loggers)}
        cls = None
        if r < ERROR_SHARE:
            f = rng.choice(faults)
            cls = f.cls
            msg = _fill(f.message, rng)
            ev["level"] = "ERROR"
            ev["message"] = f"failed to {rng.choice(_VERBS)} {_fill('{id}', rng)}"
            ev["thrown"] = {"commonElementCount": 0, "localizedMessage": msg, "message": msg,
                            "name": f.cls, "extendedStackTrace": [
                                {"class": m.rsplit(".", 1)[0], "method": m.rsplit(".", 1)[1],
                                 "file": file, "line": ln, "exact": False,
                                 "location": "shop-2.3.1.jar", "version": "?"}
                                for m, file, ln in f.frames]}
        elif r < ERROR_SHARE + 0.05:
            ev["level"] = "WARN"
            ev["message"] = _fill(rng.choice(_WARN), rng)
        else:
            ev["message"] = _fill(rng.choice(_INFO), rng)
        ev.update({"endOfBatch": False, "loggerFqcn": "org.apache.logging.log4j.spi.AbstractLogger",
                   "threadId": 20 + threads.index(str(ev["thread"])), "threadPriority": 5})
        return dumps(ev) + "\n", 1, cls is not None, cls

    m = Manifest("jsonlayout", str(out), seed, size, layout="JsonLayout compact eventEol",
                 header_re=JSON_HEADER_RE)
    return _write(out, m, emit)


def gen_publicmix(out: Path, size: int, seed: int = 1, src: Path = PUBLIC_APPLOGS) -> Manifest:
    """A directory: each public app log repeated whole to ~size/N bytes (lines unedited).

    ``seed`` is recorded, not used: the content is the corpus itself.
    """
    out.mkdir(parents=True, exist_ok=True)
    files = sorted(p for p in src.iterdir() if p.is_file())
    m = Manifest("publicmix", str(out), seed, size)
    share = size // max(1, len(files))
    for p in files:
        data = p.read_bytes()
        if not data.endswith(b"\n"):
            data += b"\n"  # a cut file ends at a line boundary; never split a line
        copies = max(1, -(-share // len(data)))
        target = out / p.name
        with target.open("wb") as fh:
            for _ in range(copies):
                fh.write(data)
        m.bytes += copies * len(data)
        m.lines += copies * data.count(b"\n")
        m.files.append(p.name)
    Path(f"{out}.json").write_text(json.dumps(asdict(m), indent=2) + "\n")
    return m


GENERATORS = {"orders": gen_orders, "jsonlayout": gen_jsonlayout, "publicmix": gen_publicmix}
