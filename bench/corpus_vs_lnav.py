"""logsleuth against lnav on every file of the public corpus, measured in the same run.

    python bench/corpus_vs_lnav.py                       # print the Markdown table
    python bench/corpus_vs_lnav.py --write docs/formats.md

logsleuth scans each file alone with no layout flag (``tz="UTC"``, rules and analysis
off); lnav opens it headless with its stock formats (a private empty HOME, so no
format installed on this machine counts) and reports the format it detected and the
messages it read. With ``--write`` the table replaces the block between the
``corpus-table`` markers of the given file; the rest of the file is kept.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
PUBLIC = ROOT / "tests" / "data" / "public"
START, END = "<!-- corpus-table:start -->", "<!-- corpus-table:end -->"
LNAV_SQL = ("SELECT f.format, f.lines, (SELECT count(*) FROM all_logs) AS messages"
            " FROM lnav_file f")


def corpus_files() -> list[Path]:
    """Evidence files: everything inside a category folder (the top holds metadata)."""
    return sorted(p for p in PUBLIC.glob("*/**/*") if p.is_file())


def file_lines(path: Path) -> list[str]:
    lines = path.read_bytes().decode("utf-8", errors="replace").split("\n")
    return lines[:-1] if lines and lines[-1] == "" else lines


def expected_records(path: Path, expectations: dict[str, Any]) -> int | None:
    exp = expectations.get(path.relative_to(PUBLIC).as_posix())
    if exp is None:
        return None
    start = re.compile(exp["record_start"])
    return sum(1 for line in file_lines(path) if start.match(line))


def logsleuth_row(path: Path) -> dict[str, Any]:
    import logsleuth

    t0 = time.perf_counter()
    try:
        result = logsleuth.scan(path, tz="UTC", rules=False, analysis=False, workers=1)
    except Exception as exc:  # a crash is a result worth showing in the table
        return {"error": f"{type(exc).__name__}: {exc}"[:80]}
    if not result.inputs:
        reason = result.skipped[0].reason if result.skipped else "no input"
        return {"error": f"skipped: {reason}"[:80]}
    s = result.inputs[0]
    return {"kind": s.kind, "layout": s.layout or "", "records": s.records, "lines": s.lines,
            "unparsed": s.unparsed_lines, "seconds": time.perf_counter() - t0}


def lnav_row(path: Path, lnav: str | None, home: Path) -> dict[str, Any]:
    if lnav is None:
        return {"error": "lnav not installed"}
    env = {**os.environ, "HOME": str(home)}
    try:
        out = subprocess.run([lnav, "-n", "-c", ";" + LNAV_SQL, "-c", ":write-json-to -", str(path)],
                             capture_output=True, text=True, timeout=60, env=env, check=False)
        rows = json.loads(out.stdout or "[]")
    except (subprocess.TimeoutExpired, json.JSONDecodeError) as exc:
        return {"error": type(exc).__name__}
    if not rows:
        return {"error": (out.stderr.strip().splitlines() or ["no output"])[-1][:80]}
    row = rows[0]
    return {"format": row.get("format") or "not a log", "messages": row.get("messages", 0),
            "lines": row.get("lines", 0)}


def lnav_version(lnav: str | None) -> str:
    if lnav is None:
        return "not installed"
    out = subprocess.run([lnav, "-V"], capture_output=True, text=True, timeout=30, check=False)
    return out.stdout.strip() or "unknown"


def table(files: list[Path]) -> tuple[str, dict[str, int]]:
    """The Markdown table and the counts behind the summary line."""
    expectations = yaml.safe_load((PUBLIC / "expectations.yaml").read_text(encoding="utf-8"))["files"]
    lnav = shutil.which("lnav")
    head = ("| file | records expected | logsleuth kind | logsleuth layout | logsleuth records |"
            " logsleuth unparsed / lines | lnav format | lnav messages |\n"
            "|---|---:|---|---|---:|---:|---|---:|\n")
    rows, counts = [], {"files": 0, "expected": 0, "ls_match": 0, "ls_read": 0, "lnav_match": 0,
                        "lnav_format": 0}
    with tempfile.TemporaryDirectory(prefix="lnav-home-") as home:
        for path in files:
            rel = path.relative_to(PUBLIC).as_posix()
            want = expected_records(path, expectations)
            ls, ln = logsleuth_row(path), lnav_row(path, lnav, Path(home))
            counts["files"] += 1
            counts["ls_read"] += int(ls.get("records", 0) > 0)
            counts["lnav_format"] += int(ln.get("format", "not a log") != "not a log")
            if want is not None:
                counts["expected"] += 1
                counts["ls_match"] += int(ls.get("records") == want)
                counts["lnav_match"] += int(ln.get("messages") == want)
            if "error" in ls:
                ls_cells = [ls["error"], "", "", ""]
            else:
                layout = f"`{ls['layout']}`" if ls["layout"] else ("none" if ls["kind"] == "app-log" else "—")
                ls_cells = [ls["kind"], layout,
                            str(ls["records"]), f"{ls['unparsed']} / {ls['lines']}"]
            ln_cells = ([ln["error"], ""] if "error" in ln else [ln["format"], str(ln["messages"])])
            cells = [f"`{rel}`", "—" if want is None else str(want), *ls_cells, *ln_cells]
            rows.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return head + "\n".join(rows) + "\n", counts


def block(files: list[Path]) -> str:
    text, c = table(files)
    lnav = lnav_version(shutil.which("lnav"))
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    machine = f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    return (f"Measured {when} on {machine}; {lnav}; `python bench/corpus_vs_lnav.py --write docs/formats.md`.\n\n"
            f"Of {c['expected']} app logs with expectations, logsleuth reads the expected number of records"
            f" in {c['ls_match']}, lnav in {c['lnav_match']}. Over all {c['files']} files, logsleuth reads"
            f" at least one record from {c['ls_read']}; lnav recognises a format in {c['lnav_format']}.\n\n"
            + text)


def write(target: Path, content: str) -> None:
    doc = target.read_text(encoding="utf-8")
    if START not in doc or END not in doc:
        raise SystemExit(f"{target}: missing the {START} / {END} markers")
    before, rest = doc.split(START, 1)
    after = rest.split(END, 1)[1]
    target.write_text(f"{before}{START}\n{content}{END}{after}", encoding="utf-8")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", type=Path, help="replace the corpus-table block of this Markdown file")
    ap.add_argument("files", nargs="*", type=Path, help="only these corpus files (default: all)")
    args = ap.parse_args()
    files = [p.resolve() for p in args.files] or corpus_files()
    content = block(files)
    if args.write:
        write(args.write, content)
    else:
        sys.stdout.write(content)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
