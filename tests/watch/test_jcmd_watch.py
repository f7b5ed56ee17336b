"""watch reads saved jcmd output as scan does: JVM facts, every line read.

Expected (before running): vm.flags.txt (tests/data/jcmd, real; flags given as
-XX:MaxDirectMemorySize=64m -Xmx64m) is a jvm-info input whose 2 lines are read,
none unparsed, no layout or not-followed warning, and its direct-memory ceiling,
64 MiB, is in the watch's metrics table as in scan's.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from logsleuth.options import ScanOptions
from logsleuth.watch.run import Watcher, WatchOptions

DATA = Path(__file__).resolve().parents[1] / "data" / "jcmd"


def test_saved_flags_are_followed_as_jvm_facts(tmp_path: Path) -> None:
    shutil.copy(DATA / "vm.flags.txt", tmp_path / "vm.flags.txt")
    w = Watcher(WatchOptions(paths=(str(tmp_path),), scan=ScanOptions(), interval=0.2,
                             poll=0.05, settle=0.3, notify=False, max_seconds=1.5),
                lambda _e: None)
    w.run()
    (stats,) = w.latest.inputs
    assert (stats.kind, stats.lines, stats.records, stats.unparsed_lines) == (
        "jvm-info", 2, 2, 0)
    codes = [d.code for d in w.latest.diagnostics]
    assert not [c for c in codes if c.startswith("layout-") or c == "not-followed"], codes
    m = w.latest.tables["metrics"].to_pandas()
    lim = m[(m["origin"] == "limit") & (m["metric"] == "jvm_max_direct_memory")]
    assert set(lim["value"]) == {64 * 2**20}
