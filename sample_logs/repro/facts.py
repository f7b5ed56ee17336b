"""Derives the ground-truth facts of a reproduction run straight from its evidence files.

Independent of logsleuth on purpose (plain stdlib, line by line), so tests of logsleuth can
compare against it. Usage: python3 facts.py <evidence-dir> > <evidence-dir>.truth.json
(beside the evidence, not in it, so a scan of the folder reads evidence only)
"""

from __future__ import annotations

import gzip
import json
import re
import sys
from collections import Counter
from pathlib import Path

HEADER = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) (\w+) +\[([^\]]+)\] (\S+) - (.*)$")
OOM = "io.netty.util.internal.OutOfDirectMemoryError"
FULL_SYSTEM_GC = re.compile(r"\[gc +\] GC\(\d+\) Pause Full \(System\.gc\(\)\)")
METRIC = re.compile(r"netty_direct_memory: (\d+)k$")


def app_log_files(root: Path) -> list[Path]:
    """Oldest first: log4j2's max-index strategy gives the highest %i to the newest archive."""
    archives = sorted(
        root.glob("push-server-*.log.gz"), key=lambda p: int(p.name.rsplit("-", 1)[1].split(".")[0])
    )
    active = root / "push-server.log"
    return archives + ([active] if active.exists() else [])


def read_lines(path: Path) -> list[str]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as fh:
        return fh.read().splitlines()


def app_facts(root: Path) -> dict[str, object]:
    disconnects = 0
    onset: dict[str, object] | None = None
    last_header: tuple[str, int, str] | None = None
    npe_with_trace = npe_without_trace = 0
    oom_by_size: Counter[str] = Counter()
    metric_max = 0
    netty_leak_reports = 0
    first_line = last_line = ""
    for path in app_log_files(root):
        lines = read_lines(path)
        for lineno, line in enumerate(lines, start=1):
            m = HEADER.match(line)
            if m:
                last_header = (path.name, lineno, m.group(1))
                first_line = first_line or m.group(1)
                last_line = m.group(1)
                if m.group(5).startswith("Client disconnected:"):
                    disconnects += 1
                if m.group(5).startswith("LEAK: ByteBuf.release() was not called"):
                    netty_leak_reports += 1
                mm = METRIC.search(m.group(5))
                if mm:
                    metric_max = max(metric_max, int(mm.group(1)))
                continue
            if line.startswith("java.lang.NullPointerException"):
                nxt = lines[lineno] if lineno < len(lines) else ""
                if nxt.lstrip().startswith("at "):
                    npe_with_trace += 1
                else:
                    npe_without_trace += 1
            if line.startswith(OOM):
                size = re.search(r"allocate (\d+) byte", line)
                oom_by_size[size.group(1) if size else "?"] += 1
                if onset is None and last_header is not None:
                    onset = {
                        "record_file": last_header[0],
                        "record_line": last_header[1],
                        "exception_line": lineno,
                        "timestamp": last_header[2],
                        "disconnects_before": disconnects,
                        "message": line,
                    }
    return {
        "first_timestamp": first_line,
        "last_timestamp": last_line,
        "client_disconnects_logged": disconnects,
        "npe_with_stack_trace": npe_with_trace,
        "npe_without_stack_trace": npe_without_trace,
        "out_of_direct_memory_errors_by_size": dict(oom_by_size),
        "first_out_of_direct_memory_error": onset,
        "netty_direct_memory_max_k": metric_max,
        "netty_leak_reports": netty_leak_reports,
    }


def gc_facts(root: Path) -> dict[str, int]:
    text = (root / "gc.log").read_text(encoding="utf-8") if (root / "gc.log").exists() else ""
    return {
        "pauses_young": len(re.findall(r"\[gc +\] GC\(\d+\) Pause Young", text)),
        "pauses_full_system_gc": len(re.findall(FULL_SYSTEM_GC, text)),
    }


def nginx_facts(root: Path) -> dict[str, object]:
    statuses: Counter[str] = Counter()
    first_5xx = ""
    access = root / "nginx" / "access.log"
    for line in access.read_text(encoding="utf-8").splitlines() if access.exists() else []:
        m = re.search(r'\[([^\]]+)\] "[^"]*" (\d{3}) ', line)
        if m:
            statuses[m.group(2)] += 1
            if m.group(2).startswith("5") and not first_5xx:
                first_5xx = m.group(1)
    return {"status_counts": dict(sorted(statuses.items())), "first_5xx_time_local": first_5xx}


def main() -> None:
    root = Path(sys.argv[1])
    facts = {"app": app_facts(root), "gc": gc_facts(root), "nginx": nginx_facts(root)}
    json.dump(facts, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
