"""The suite's other input shapes must be what they claim, checked independently of the generator.

Small sizes only and no timed assertions: these tests check shape, truth and
determinism, and the suite's sameness logic, not speed.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
ROOT = BENCH.parent
BUILTIN = ROOT / "logsleuth" / "layouts" / "builtin"
ORDERS_HEAD = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d,\d{3}) \| (ERROR|WARN |INFO ) \| "
                         r"[\w-]+ \| [\w.]+ \| req=[0-9a-f]+ \| ")
EXC_LINE = re.compile(r"^(?:Caused by: )?([\w.]+(?:Exception|Error)): (.+)$")


def _load(name: str) -> ModuleType:
    sys.path.insert(0, str(BENCH))  # bench modules import their siblings by name
    try:
        spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
        assert spec and spec.loader
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod
        spec.loader.exec_module(mod)
        return mod
    finally:
        sys.path.remove(str(BENCH))


@pytest.fixture(scope="module")
def shapes() -> ModuleType:
    return _load("gen_shapes")


def test_orders_log_has_many_faults_deep_traces_and_its_manifest_is_true(
        shapes: ModuleType, tmp_path: Path) -> None:
    out = tmp_path / "orders.log"
    m = shapes.gen_orders(out, 1 << 20, seed=3)
    lines = out.read_text().splitlines()
    heads = [i for i, ln in enumerate(lines) if ORDERS_HEAD.match(ln)]
    errors = [i for i in heads if " | ERROR | " in lines[i]]
    assert (m.records, m.lines, m.bytes) == (len(heads), len(lines), out.stat().st_size)
    assert m.error_records == len(errors)
    assert 0.10 <= len(errors) / len(heads) <= 0.20
    # every line after a header up to the next header belongs to that ERROR's trace
    ends = [*heads[1:], len(lines)]
    depth = [ends[heads.index(i)] - i - 1 for i in errors]
    assert min(depth) >= 30 and all(ends[k] - h == 1 for k, h in enumerate(heads)
                                    if h not in set(errors))
    excs = [EXC_LINE.match(ln) for ln in lines if not ORDERS_HEAD.match(ln)]
    classes = {x.group(1) for x in excs if x}
    templates = {(x.group(1), re.sub(r"\d+", "N", x.group(2))) for x in excs if x}
    assert len(classes) >= m.exception_classes >= 40  # the manifest counts top-level classes
    assert len(templates) >= 100
    assert any(ln.startswith("Caused by: ") for ln in lines)


def test_orders_layout_is_no_builtin(shapes: ModuleType) -> None:
    patterns = {ln.split(":", 1)[1].strip().strip('"') for p in BUILTIN.glob("*.yaml")
                for ln in p.read_text().splitlines() if ln.startswith("pattern:")}
    assert patterns and shapes.ORDERS_LAYOUT not in patterns


def test_generators_are_deterministic_for_a_seed(shapes: ModuleType, tmp_path: Path) -> None:
    for name in ("orders", "jsonlayout"):
        a, b, c = (tmp_path / f"{name}-{s}.log" for s in ("a", "b", "c"))
        shapes.GENERATORS[name](a, 200_000, 5)
        shapes.GENERATORS[name](b, 200_000, 5)
        shapes.GENERATORS[name](c, 200_000, 6)
        assert a.read_bytes() == b.read_bytes() != c.read_bytes()


def test_jsonlayout_lines_are_compact_log4j2_events(shapes: ModuleType, tmp_path: Path) -> None:
    out = tmp_path / "j.log"
    m = shapes.gen_jsonlayout(out, 1 << 20, seed=2)
    raw = out.read_text().splitlines()
    events = [json.loads(ln) for ln in raw]
    assert m.records == m.lines == len(events)
    assert all(": " not in ln.split('"message"')[0] for ln in raw)  # compact separators
    thrown = [e for e in events if "thrown" in e]
    assert all(e["level"] == "ERROR" for e in thrown)
    assert len(thrown) == m.error_records == sum(e["level"] == "ERROR" for e in events)
    assert 0.10 <= len(thrown) / len(events) <= 0.20
    assert min(len(e["thrown"]["extendedStackTrace"]) for e in thrown) >= 30
    assert len({e["thrown"]["name"] for e in thrown}) == m.exception_classes >= 40
    secs = [e["instant"]["epochSecond"] * 10**9 + e["instant"]["nanoOfSecond"] for e in events]
    assert secs == sorted(secs)


def test_publicmix_repeats_each_public_log_whole(shapes: ModuleType, tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.log").write_bytes(b"2020-01-01 one\nsecond\n")
    (src / "b.log").write_bytes(b"no final newline")
    m = shapes.gen_publicmix(tmp_path / "mix", 200, src=src)
    a, b = (tmp_path / "mix" / "a.log").read_bytes(), (tmp_path / "mix" / "b.log").read_bytes()
    assert a == b"2020-01-01 one\nsecond\n" * 5  # ceil(100 / 22) copies
    assert b == b"no final newline\n" * 6
    assert m.lines == 5 * 2 + 6 and m.bytes == len(a) + len(b) and m.files == ["a.log", "b.log"]


def test_orders_layout_is_found_without_a_pattern(shapes: ModuleType, tmp_path: Path) -> None:
    from logsleuth import api

    out = tmp_path / "orders.log"
    m = shapes.gen_orders(out, 200_000, seed=4)
    given = api.scan(out, pattern=shapes.ORDERS_LAYOUT, keep_records=False, analysis=False)
    assert given.to_json()["totals"]["records"] == m.records  # the layout itself is right
    inferred = api.scan(out, keep_records=False, analysis=False).to_json()
    assert inferred["totals"]["records"] == m.records
    assert inferred["totals"]["unparsed_lines"] == 0
    assert inferred["inputs"][0]["layout"].startswith("inferred: ")


# -- harness logic -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def suite() -> ModuleType:
    return _load("run_suite")


def _doc(records: int = 10, findings: tuple[str, ...] = ("a",), extra: int = 0) -> dict:
    return {"inputs": [{"path": "x", "records": records}], "totals": {"records": records},
            "findings": [{"rule": r} for r in findings], "incident": extra}


def _see(suite: ModuleType, same: object, name: str, doc: dict, tmp_path: Path) -> None:
    p = tmp_path / "o.json"
    p.write_text(json.dumps(doc))
    same.see(suite.Tool(name, [name], lambda o: ""), 0, p)


def test_sameness_accepts_identical_and_names_each_difference(suite: ModuleType,
                                                              tmp_path: Path) -> None:
    same = suite.Sameness()
    for _ in range(3):
        _see(suite, same, "logsleuth scan", _doc(), tmp_path)
        _see(suite, same, "logsleuth scan --no-analysis", _doc(extra=None), tmp_path)
        _see(suite, same, "logsleuth scan --no-rules", _doc(findings=()), tmp_path)
        _see(suite, same, suite.DASK, _doc(), tmp_path)
    _see(suite, same, "rg -c", {"not": "json of logsleuth"}, tmp_path)  # ignored
    assert same.verdicts() == []

    _see(suite, same, "logsleuth scan", _doc(extra=1), tmp_path)  # a 4th round differs
    _see(suite, same, "logsleuth scan --no-rules --no-analysis", _doc(records=9), tmp_path)
    _see(suite, same, "logsleuth scan --no-analysis", _doc(findings=("b",)), tmp_path)
    bad = " | ".join(same.verdicts())
    assert "logsleuth scan: output differs between rounds (2 versions)" in bad
    assert "records differ between variants" in bad
    assert "logsleuth scan --no-analysis: output differs" in bad
    same2 = suite.Sameness()
    _see(suite, same2, "logsleuth scan", _doc(), tmp_path)
    _see(suite, same2, suite.DASK, _doc(extra=2), tmp_path)
    assert same2.verdicts() == ["--engine dask JSON differs from the local engine's"]
    same3 = suite.Sameness()
    _see(suite, same3, "logsleuth scan", _doc(), tmp_path)
    _see(suite, same3, "logsleuth scan --no-analysis", _doc(findings=("b",)), tmp_path)
    assert same3.verdicts()[0].startswith("findings differ")


def test_logsleuth_check_holds_output_to_the_truth(suite: ModuleType, tmp_path: Path) -> None:
    inp = suite.Input("orders", tmp_path, {"lines": 100}, records=40)
    check = suite.logsleuth_check(inp)
    ok = {"totals": {"lines": 100, "records": 40, "unparsed_lines": 0, "diagnostics": 0}}
    assert check(json.dumps(ok)).startswith("40 records")
    for wrong in ({"lines": 99}, {"records": 39}, {"unparsed_lines": 61}):
        with pytest.raises(ValueError):
            check(json.dumps({"totals": {**ok["totals"], **wrong}}))


def test_counts_of_one_file_or_many_are_summed(suite: ModuleType) -> None:
    assert suite._sum_counts("42\n") == 42
    assert suite._sum_counts("a.log:3\nsub/b:c.log:4\n") == 7


def test_calibration_is_a_positive_figure() -> None:
    measure = _load("measure")
    assert measure.calibrate(rounds=1, n=100_000) > 0
    assert len(measure.load_average()) == 3


def test_paired_ratios_of_wall_and_cpu(suite: ModuleType) -> None:
    measure = sys.modules["measure"]

    def tool(name: str, walls: list[float], cpus: list[float | None]) -> object:
        t = suite.Tool(name, [name], lambda o: "")
        t.summary.runs = [measure.Run(w, 1, 0, cpu_s=c) for w, c in zip(walls, cpus, strict=True)]
        return t

    # round 2 ran while the machine was busy: wall doubled for both, CPU did not
    a = tool("logsleuth scan", [2.0, 4.0, 2.0], [3.0, 3.1, 3.0])
    b = tool("lnav index (defaults)", [4.0, 8.0, 4.0], [1.5, 1.5, None])
    assert suite.paired([a, b], "logsleuth scan", "lnav index (defaults)") == 0.5
    assert suite.paired([a, b], "logsleuth scan", "lnav index (defaults)", cpu=True) \
        == pytest.approx(3.05 / 1.5)  # the round without a CPU figure is left out
    assert suite.paired([a], "logsleuth scan", "lnav index (defaults)") is None
