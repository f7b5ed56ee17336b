"""Snapshot the scan JSON of every sample and shape, to prove a speed change changed nothing.

Usage (from the repository root)::

    python bench/same_json.py snap bench/out/same-before     # on the old code
    python bench/same_json.py snap bench/out/same-after      # on the new code
    python bench/same_json.py diff bench/out/same-before bench/out/same-after

``snap`` runs ``logsleuth scan DIR --format json`` (full, ``--no-rules`` and
``--no-analysis``) on every directory of ``sample_logs/`` that holds evidence and on the
real public logs of each ``tests/data/public`` category, and on the
four bench shapes at a small size (``--size``, generated into ``bench/data`` if missing),
and writes one JSON file per case. ``diff`` compares two snapshots byte for byte and
exits non-zero on any difference, naming the cases.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
PY_CLI = "import sys; from logsleuth.cli import main; sys.exit(main())"
VARIANTS = {"full": (), "norules": ("--no-rules",), "noanalysis": ("--no-analysis",)}


def cases(size: str) -> dict[str, Path]:
    """Every evidence directory of sample_logs and the four generated shapes."""
    from run_suite import SHAPES, prepare

    found: dict[str, Path] = {}
    samples = ROOT / "sample_logs"
    for d in sorted(samples.rglob("*")):
        if d.is_dir() and d.name != "repro" and "repro" not in d.parts and \
                any(f.is_file() and f.suffix not in {".md", ".csv"} for f in d.iterdir()) and \
                not any(p.is_dir() for p in d.iterdir() if p.name != "nginx"):
            found["sample-" + str(d.relative_to(samples)).replace("/", "-")] = d
    public = ROOT / "tests" / "data" / "public"
    for d in sorted(p for p in public.iterdir() if p.is_dir()):  # real logs, per category
        found["public-" + d.name] = d
    for shape in SHAPES:
        found[f"{shape}-{size}"] = prepare(shape, size, 1, ROOT / "bench" / "data").path
    return found


def snap(out: Path, size: str) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name, path in cases(size).items():
        for vname, flags in VARIANTS.items():
            res = subprocess.run([sys.executable, "-c", PY_CLI, "scan", str(path), "--format",
                                  "json", *flags], capture_output=True, cwd=ROOT, check=False)
            (out / f"{name}.{vname}.json").write_bytes(res.stdout)
            (out / f"{name}.{vname}.rc").write_text(f"{res.returncode}\n")
            print(f"{name} {vname}: rc={res.returncode} {len(res.stdout)} bytes", file=sys.stderr)


def diff(a: Path, b: Path) -> int:
    names = sorted({p.name for p in a.iterdir()} | {p.name for p in b.iterdir()})
    bad = [n for n in names if not (a / n).exists() or not (b / n).exists()
           or (a / n).read_bytes() != (b / n).read_bytes()]
    for n in bad:
        print(f"differs: {n}")
    print(f"{len(names) - len(bad)} of {len(names)} files identical")
    return 1 if bad else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("snap")
    s.add_argument("out", type=Path)
    s.add_argument("--size", default="4MiB")
    d = sub.add_parser("diff")
    d.add_argument("a", type=Path)
    d.add_argument("b", type=Path)
    args = ap.parse_args()
    if args.cmd == "snap":
        snap(args.out, args.size)
        return 0
    return diff(args.a, args.b)


if __name__ == "__main__":
    sys.exit(main())
