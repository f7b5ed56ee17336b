"""The console entry leaves without interpreter teardown: nothing it owes is lost."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GC_LOG = ROOT / "sample_logs" / "incident" / "gc.log"
# an atexit handler and a weakref finalizer (how temporary directories clean up)
# that must still run, and a stdout left unflushed by the command
ENTRY = """
import atexit, sys, tempfile, weakref
from pathlib import Path
d = tempfile.TemporaryDirectory()
Path(sys.argv.pop(1)).write_text(d.name)
atexit.register(lambda: sys.stderr.write("atexit ran\\n"))
from logsleuth.cli import main
main()
"""


def _run(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    note = tmp_path / "tmpdir.txt"
    proc = subprocess.run([sys.executable, "-c", ENTRY, str(note), *args], capture_output=True,
                          text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                          timeout=120)
    return proc, Path(note.read_text())


def test_scan_output_complete_and_exit_handlers_run(tmp_path: Path) -> None:
    proc, tmpdir = _run(tmp_path, "scan", str(GC_LOG), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)  # the whole document arrived: the stream was flushed
    assert doc["inputs"][0]["path"].endswith("gc.log")
    assert "atexit ran" in proc.stderr
    assert not tmpdir.exists()  # its finalizer ran


def test_exit_code_kept(tmp_path: Path) -> None:
    proc, tmpdir = _run(tmp_path, "scan", str(GC_LOG), "--format", "nope")
    assert proc.returncode == 2
    assert "atexit ran" in proc.stderr
    assert not tmpdir.exists()
