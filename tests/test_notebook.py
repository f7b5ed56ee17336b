"""The notebooks run top to bottom on the bundled evidence, and are committed executed.

The walkthrough is executed once per working directory; each test checks one step
of the investigation against ``sample_logs/incident.truth.json`` (written by the
generator of the evidence, not by logsleuth), and the committed outputs must say
what the fresh run says. ``your-own-logs.ipynb`` is a template run on two folders.
"""

from __future__ import annotations

import importlib.util
import json
import re
from datetime import datetime
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "incident-walkthrough.ipynb"
OWN_LOGS = ROOT / "notebooks" / "your-own-logs.ipynb"
EVIDENCE = ROOT / "sample_logs" / "incident"
PLOTLY = "application/vnd.plotly.v1+json"
PNG = "image/png"
MAX_PNG_BYTES = 150_000  # base64 text of one figure in the notebook


def _runner():
    spec = importlib.util.spec_from_file_location("run_notebooks",
                                                  ROOT / "scripts" / "run_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


RUNNER = _runner()


@pytest.fixture(scope="module")
def truth() -> dict:
    return json.loads((ROOT / "sample_logs" / "incident.truth.json").read_text())


@pytest.fixture(scope="module", params=["notebooks", "."])
def executed(request: pytest.FixtureRequest) -> nbformat.NotebookNode:
    """Run where Jupyter runs it (the notebook's own folder) and from the repository root."""
    assert EVIDENCE.is_dir()
    return RUNNER.execute(NOTEBOOK, ROOT / request.param, timeout=180)


def stdout(nb: nbformat.NotebookNode) -> str:
    return "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                   for o in c.outputs if o.output_type == "stream" and o.name == "stdout")


@pytest.fixture(scope="module")
def printed(executed: nbformat.NotebookNode) -> str:
    return stdout(executed)


def grab(pattern: str, text: str) -> re.Match[str]:
    m = re.search(pattern, text, re.MULTILINE)
    assert m, f"the notebook did not print /{pattern}/:\n{text}"
    return m


@pytest.mark.parametrize("path", [NOTEBOOK, OWN_LOGS], ids=lambda p: p.name)
def test_notebook_is_committed_executed_with_small_outputs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, "no code cells"
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1)), \
        "commit it executed top to bottom: python scripts/run_notebooks.py"
    outputs = [o for c in code for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert not [o for o in outputs if PLOTLY in o.get("data", {})], "figures as PNG"
    pngs = [o.data[PNG] for o in outputs if PNG in o.get("data", {})]
    assert pngs and max(len(p) for p in pngs) < MAX_PNG_BYTES
    assert str(ROOT) not in path.read_text(encoding="utf-8")  # no machine paths


def test_committed_notebooks_fit_the_size_budget() -> None:
    total = sum(p.stat().st_size for p in (ROOT / "notebooks").glob("*.ipynb"))
    assert total <= RUNNER.SIZE_BUDGET, f"{total:,} bytes of notebooks"


FACTS = (r"^onset: .+$", r"^attributed: .+$", r"^root cause: .+$", r"^example: .+$",
         r"^time zone: .+$")


def test_committed_outputs_match_a_fresh_run(executed: nbformat.NotebookNode) -> None:
    """Onset, leak per event and first cause as committed are what a run gives now."""
    committed = stdout(nbformat.read(NOTEBOOK, as_version=4))
    fresh = stdout(executed)
    for fact in FACTS:
        assert grab(fact, committed)[0] == grab(fact, fresh)[0], fact


def test_onset_is_the_first_out_of_direct_memory_error(printed: str, truth: dict) -> None:
    first = truth["app"]["first_out_of_direct_memory_error"]
    m = grab(r"^onset: (.+) at (\S+):(\d+)$", printed)
    # the app log has no zone; the generator's nginx log says which offset it used
    offset = truth["nginx"]["first_5xx_time_local"].rsplit(" ", 1)[1]
    expected = datetime.strptime(f"{first['timestamp']} {offset}", "%Y-%m-%d %H:%M:%S.%f %z")
    assert datetime.fromisoformat(m[1]) == expected
    assert m[1].startswith(first["timestamp"])  # shown on the app log's own clock
    assert (m[2], int(m[3])) == (first["record_file"], first["record_line"])


def test_time_zone_is_inferred_from_sibling_logs(printed: str) -> None:
    assert grab(r"^time zone: (.+)$", printed)[1] == "+01:00"
    assert "nginx" in grab(r"^why: (.+)$", printed)[1]


def test_leak_is_attributed_to_client_disconnects(printed: str, truth: dict) -> None:
    m = grab(r"^attributed: ([\d.]+) B per event of '([^']+)'", printed)
    assert abs(float(m[1]) - 256) <= 0.01 * 256
    assert m[2].startswith("Client disconnected:")
    independent = float(grab(r"^independent fit: ([\d.]+) B per disconnect", printed)[1])
    assert abs(independent - 256) <= 0.01 * 256
    n = int(grab(r"^(\d+) disconnects logged$", printed)[1])
    assert n == truth["app"]["client_disconnects_logged"]


def test_root_cause_is_the_encoder_npe(printed: str) -> None:
    assert grab(r"^root cause: (\S+)", printed)[1] == "java.lang.NullPointerException"
    grab(r"^example: push-server[^:]*\.log(\.gz)?:\d+$", printed)
    frame = grab(r"^root_frame\s+(\S+)$", printed)[1]
    assert frame == "com.example.push.PacketEncoder.encodePacket"


def test_html_report_is_written(printed: str) -> None:
    size = int(grab(r"^HTML report: incident\.html, (\d+) bytes$", printed)[1])
    assert size > 1_000_000  # self-contained: plotly.js is inline


def test_parquet_store_answers_sql(printed: str, truth: dict) -> None:
    reopened = float(grab(r"^reopened leak: ([\d.]+) B per event$", printed)[1])
    assert abs(reopened - 256) <= 0.01 * 256
    ooms = int(grab(r"^OOM errors in the store: (\d+)$", printed)[1])
    assert ooms == sum(truth["app"]["out_of_direct_memory_errors_by_size"].values())


def test_figures_are_drawn_as_png(executed: nbformat.NotebookNode) -> None:
    pngs = [o for c in executed.cells if c.cell_type == "code" for o in c.outputs
            if PNG in o.get("data", {})]
    assert len(pngs) >= 4
    assert not [o for c in executed.cells if c.cell_type == "code" for o in c.outputs
                if PLOTLY in o.get("data", {})]


def test_times_are_on_the_evidence_clock(printed: str) -> None:
    assert "Times in +01:00 (inferred from nginx/access.log)." in printed
    assert "At 2026-11-26 11:28:23.858 +01:00 (10:28:23.858 UTC)" in printed
    assert grab(r"^ts\s+(.+)$", printed)[1] == "2026-11-26 11:27:29.708"  # the cause, +01:00


@pytest.fixture(scope="module")
def own_logs() -> str:
    """The template as committed: it scans the bundled sample, from notebooks/."""
    return stdout(RUNNER.execute(OWN_LOGS, ROOT / "notebooks", timeout=180))


def test_own_logs_template_shows_the_standard_views(own_logs: str, truth: dict) -> None:
    first = truth["app"]["first_out_of_direct_memory_error"]
    m = grab(r"^onset: 2026-11-26 (\S+) \+01:00 \((\S+) UTC\) at (\S+):(\d+)$", own_logs)
    assert m[1] == first["timestamp"].split(" ")[1]  # the app log's own clock
    assert (m[3], int(m[4])) == (first["record_file"], first["record_line"])
    assert grab(r"^(\d+) inputs, .*, 0 unparsed lines; times in \+01:00", own_logs)
    leak = grab(r"^leak: netty_direct_memory_used .*, ([\d.]+) B per 'Client disconnected:",
                own_logs)
    assert abs(float(leak[1]) - 256) <= 0.01 * 256
    assert grab(r"^cause: (\S+)", own_logs)[1] == "java.lang.NullPointerException"
    assert grab(r"^HTML report written: report\.html", own_logs)


def test_own_logs_committed_outputs_match_a_fresh_run(own_logs: str) -> None:
    committed = stdout(nbformat.read(OWN_LOGS, as_version=4))
    for fact in (r"^onset: .+$", r"^leak: .+$", r"^cause: .+$"):
        assert grab(fact, committed)[0] == grab(fact, own_logs)[0], fact


def test_own_logs_template_on_another_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pointed at healthy evidence (LOGSLEUTH_LOGS), it says there is no incident."""
    monkeypatch.setenv("LOGSLEUTH_LOGS", str(ROOT / "sample_logs" / "healthy"))
    out = stdout(RUNNER.execute(OWN_LOGS, ROOT / "notebooks", timeout=180))
    assert grab(r"^scanning healthy/ ", out)
    assert grab(r"^4 inputs, [\d,]+ records, 0 unparsed lines; times in \+01:00", out)
    assert grab(r"^no incident: no failure and no leak$", out)
