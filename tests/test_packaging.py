"""The wheel carries everything logsleuth loads at run time (rules, layouts, schemas)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps",
                    "-q", "-w", str(out), str(ROOT)], check=True)
    (path,) = out.glob("logsleuth-*.whl")
    return zipfile.ZipFile(path)


def test_wheel_ships_every_builtin(wheel: zipfile.ZipFile) -> None:
    names = set(wheel.namelist())
    for rule in (ROOT / "rules").rglob("*.yaml"):
        rel = rule.relative_to(ROOT / "rules").as_posix()
        assert f"logsleuth/builtin_rules/{rel}" in names
        assert f"logsleuth/builtin_rules/{rel[:-5]}.test.log" in names
    for layout in (ROOT / "logsleuth" / "layouts" / "builtin").glob("*.yaml"):
        assert f"logsleuth/layouts/builtin/{layout.name}" in names
    for needed in ("logsleuth/schemas/rule.schema.json",
                   "logsleuth/timeline/incident.schema.json",
                   "logsleuth/parsers/metrics_builtin/netty.yaml",
                   "logsleuth/reports/html/templates/report.html"):
        assert needed in names


def test_installed_package_loads_its_builtins() -> None:
    import logsleuth
    from logsleuth.layouts import load_builtin_layouts
    from logsleuth.rules.loader import builtin_rules_dir, load_rules

    package = Path(logsleuth.__file__).parent
    assert builtin_rules_dir().parent == package  # not the checkout's rules/ fallback
    ids = {r.id for r in load_rules()}
    assert {"netty-out-of-direct-memory", "jvm-gc-storm", "nginx-5xx-burst"} <= ids
    assert len(load_builtin_layouts()) >= 10
