"""Replay the forecast ETA on prefixes of the `lead` benchmark's logs, in seconds.

    PYTHONPATH=. python bench/eta_replay.py --leak 1024:64 --leak 256:64 --cuts 60 --out R.json

The watcher's `lead` run (bench/watch_stream.py) takes ~10 min for four cases; this
asks the same question of the projection alone: at ``--cuts`` instants spread over
each leak, it reads the log's gauge (``netty_direct_memory``), the stated ceiling and
the disconnect counts per second up to that instant, runs the leak estimate
(``timeline.trend.estimate_trend``), the per-event attribution
(``timeline.attribution.attribute_increments``, disconnects against connects) and,
where the code has it, the per-event rate (``trend.with_event_rate``), and compares
the ETA with the first OOM record. Forecasts are kept as the watcher keeps them (a new
one when the ETA moves by more than 10 % of the time left). The logs are those of
``watch_stream.lead_case`` (generated once into its cache), so both runs read the
same bytes. Run it with the code before and after a change (``PYTHONPATH``) to compare.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from gen_incident_log import START, LeakPlan, parse_size  # noqa: E402
from watch_stream import source_for  # noqa: E402

from logsleuth.timeline import trend  # noqa: E402
from logsleuth.timeline.attribution import attribute_increments  # noqa: E402
from logsleuth.timeline.ceilings import Ceiling  # noqa: E402

EPOCH_MS = int(START.timestamp() * 1000)
STAMP = rb"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) "
GAUGE = re.compile(STAMP + rb".*netty_direct_memory: (\d+)k$", re.MULTILINE)
EVENT = re.compile(STAMP + rb".* - Client (dis)?connected", re.MULTILINE)
ETA_MOVE = 0.10


def _ms(stamp: bytes | str) -> int:
    text = stamp.decode() if isinstance(stamp, bytes) else stamp
    return int(np.datetime64(text.replace(" ", "T"), "ms").astype(np.int64))


def read_log(path: Path) -> dict[str, Any]:
    """Gauge samples and per-second connect/disconnect counts of a generated log."""
    data = path.read_bytes()
    manifest = json.loads(Path(f"{path}.json").read_text())
    g = [(_ms(m.group(1)), int(m.group(2)) * 1024) for m in GAUGE.finditer(data)]
    ev = [(_ms(m.group(1)) // 1000 * 1000 + 500, 1 if m.group(2) else 0)
          for m in EVENT.finditer(data)]
    e = np.array(ev, np.int64)
    keys, counts = np.unique(e[:, 0] * 2 + e[:, 1], return_counts=True)
    return {"gt": np.array([x for x, _ in g], np.int64),
            "gv": np.array([y for _, y in g], np.float64),
            "ets": keys // 2, "eid": keys % 2, "ecount": counts,
            "ceiling": float(manifest["ceiling"]), "oom": _ms(manifest["first_oom_ts"]),
            "leak": _ms(manifest["leak_start_ts"])}


def eta_at(log: dict[str, Any], now: int) -> dict[str, Any] | None:
    """The forecast the evidence up to ``now`` gives, or None (no projected leak)."""
    k = log["gt"] <= now
    est = trend.estimate_trend(log["gt"][k], log["gv"][k], metric="netty_direct_memory_used",
                               unit="B", ceiling=Ceiling(log["ceiling"], "stated", None))
    if est is None or not est.is_leak or not est.projected:
        return None
    e = log["ets"] <= now
    keys = np.where(log["eid"][e] == 1, "disconnect", "connect")
    per = attribute_increments(log["gt"][k], log["gv"][k], log["ets"][e], keys, unit="B",
                               event_weights=log["ecount"][e].astype(np.float64),
                               ranges_ms=est.growth_ranges_ms)
    if per is not None and hasattr(trend, "with_event_rate"):
        sel = e & (log["eid"] == (1 if per.template == "disconnect" else 0))
        est = trend.with_event_rate(est, per.amount, log["ets"][sel], log["ecount"][sel], 1000)
    proj = getattr(est, "projection", None)
    out: dict[str, Any] = {"now": now, "eta": est.exhaustion_at_ms,
                           "amount": None if per is None else per.amount,
                           "template": None if per is None else per.template}
    if proj is not None:
        out.update(earliest=proj.earliest_ms, latest=proj.latest_ms, source=proj.source,
                   confidence=proj.confidence)
    return out


def run_case(amount: int, ceiling_mib: int, cuts: int) -> dict[str, Any]:
    size = parse_size("4GB")
    src = source_for(size, size * 0.7 / 10_000.0, 1,
                     LeakPlan(per_disconnect=amount, start_s=7200.0, ceiling=ceiling_mib << 20))
    log = read_log(src)
    leak, oom = log["leak"], log["oom"]
    room = log["ceiling"] - float(log["gv"][0])
    said: list[dict[str, Any]] = []
    every: list[dict[str, Any]] = []
    for now in np.linspace(leak, oom, cuts + 2)[1:-1].astype(np.int64):
        f = eta_at(log, int(now))
        if f is None:
            continue
        left = oom - f["now"]
        f["error_pct"] = round(100.0 * (f["eta"] - oom) / left, 1)
        f["after_start_h"] = round((f["now"] - leak) / 3.6e6, 2)
        grown = float(log["gv"][log["gt"] <= f["now"]][-1]) - float(log["gv"][0])
        f["grown_pct"] = round(100.0 * grown / room, 1)
        if "earliest" in f:
            f["covered"] = bool(f["earliest"] <= oom <= f["latest"])
        every.append(f)
        prior = said[-1] if said else None
        if prior is None or abs(f["eta"] - prior["eta"]) > ETA_MOVE * max(f["eta"] - f["now"],
                                                                         1000):
            said.append(f)
    within = next((f for f in every if abs(f["error_pct"]) <= 10), None)
    case = {"case": f"{amount}:{ceiling_mib}", "leak_h": round((oom - leak) / 3.6e6, 2),
            "cuts": cuts, "forecasts": len(said),
            "first": said[0] if said else None,
            "first_within_10pct": within,
            "last3_error_pct": [f["error_pct"] for f in said[-3:]],
            "last3_error_h": [round((f["eta"] - oom) / 3.6e6, 2) for f in said[-3:]],
            "last3_held": [f.get("covered") for f in said[-3:]],
            "abs_error_median_pct": (round(float(np.median([abs(f["error_pct"])
                                                            for f in every])), 1)
                                     if every else None),
            "covered_share": (round(float(np.mean([f["covered"] for f in every])), 2)
                              if every and "covered" in every[0] else None),
            "every": every}
    return case


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--leak", action="append", default=[], metavar="AMOUNT:CEILING_MIB")
    ap.add_argument("--cuts", type=int, default=60)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)
    cases = [run_case(int(a), int(c), args.cuts) for a, c in
             (x.split(":") for x in args.leak or ["1024:64", "256:64", "64:64", "1024:256"])]
    for c in cases:
        brief = {k: v for k, v in c.items() if k != "every"}
        print(json.dumps(brief))
    if args.out:
        args.out.write_text(json.dumps(cases, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
