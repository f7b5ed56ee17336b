"""Process measurement for the benchmarks: wall clock and peak RSS of one child.

Peak RSS comes from GNU ``/usr/bin/time -f %M`` wrapped around the command. Asking
the kernel directly (``os.wait4`` or ``RUSAGE_CHILDREN``) is wrong for children of a
Python process: Linux carries the high-water mark of the forked image across
``exec``, so a 2 MiB ``grep`` reports the harness's 50 MiB. Without GNU time we fall
back to ``wait4`` and say so in ``Run.rss_source``.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import statistics
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(slots=True)
class Run:
    wall_s: float
    max_rss_kib: int
    returncode: int
    timed_out: bool = False
    rss_source: str = "gnu-time"
    cpu_s: float | None = None  # user + sys, from GNU time; steadier than wall on a busy box
    tree_pss_kib: int = 0  # peak summed PSS of the whole process tree (workers included)
    tree_cpu_s: float = 0.0  # user + sys of every process of the tree, as last sampled
    sampled: bool = False  # a memory run: the tree was sampled, its wall time is not used


@dataclass(slots=True)
class Summary:
    """All runs of one tool; figures are filled by ``summarise``."""

    name: str
    command: list[str]
    runs: list[Run] = field(default_factory=list)  # timed, nothing sampling the tree
    memory_runs: list[Run] = field(default_factory=list)  # tree sampled; not timed
    available: bool = True
    note: str = ""
    check: str = ""  # what the output proved, e.g. "count 5354726 == true records"

    @property
    def ok_runs(self) -> list[Run]:
        return [r for r in self.runs if r.returncode == 0 and not r.timed_out]

    @property
    def best_s(self) -> float | None:
        ok = self.ok_runs
        return min(r.wall_s for r in ok) if ok else None

    @property
    def median_s(self) -> float | None:
        ok = self.ok_runs
        return statistics.median(r.wall_s for r in ok) if ok else None

    @property
    def best_cpu_s(self) -> float | None:
        cpu = [r.cpu_s for r in self.ok_runs if r.cpu_s is not None]
        return min(cpu) if cpu else None

    @property
    def ok_memory_runs(self) -> list[Run]:
        return [r for r in self.memory_runs if r.returncode == 0 and not r.timed_out]

    @property
    def tree_pss_mib(self) -> float | None:
        ok = self.ok_memory_runs
        return max(r.tree_pss_kib for r in ok) / 1024 if ok else None

    @property
    def best_tree_cpu_s(self) -> float | None:
        ok = self.ok_memory_runs
        return min(r.tree_cpu_s for r in ok) if ok else None

    @property
    def peak_rss_mib(self) -> float | None:
        ok = self.ok_runs
        return max(r.max_rss_kib for r in ok) / 1024 if ok else None


_TICK = os.sysconf("SC_CLK_TCK")


class TreeSampler(threading.Thread):
    """Samples a process tree every ``interval`` s: peak summed PSS and total CPU.

    GNU time sees only processes its child reaps; a pool of forkserver workers is
    reaped by the forkserver, so its memory and CPU would vanish from the figures.
    PSS splits shared pages between processes, so forked workers are not counted twice.
    """

    def __init__(self, root: int, interval: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.root = root
        self.interval = interval
        self.stop = threading.Event()
        self.peak_pss_kib = 0
        self.cpu_ticks: dict[int, int] = {}

    def _tree(self) -> list[int]:
        todo, seen = [self.root], []
        while todo:
            pid = todo.pop()
            seen.append(pid)
            try:
                for task in os.listdir(f"/proc/{pid}/task"):
                    with open(f"/proc/{pid}/task/{task}/children") as fh:
                        todo.extend(int(c) for c in fh.read().split())
            except OSError:
                continue
        return seen

    def sample(self) -> None:
        pss = 0
        for pid in self._tree():
            try:
                with open(f"/proc/{pid}/smaps_rollup") as fh:
                    m = re.search(r"^Pss:\s+(\d+) kB", fh.read(), re.MULTILINE)
                with open(f"/proc/{pid}/stat") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            pss += int(m.group(1)) if m else 0
            self.cpu_ticks[pid] = int(fields[11]) + int(fields[12])  # utime + stime
        self.peak_pss_kib = max(self.peak_pss_kib, pss)

    def run(self) -> None:
        while not self.stop.wait(self.interval):
            self.sample()

    @property
    def cpu_s(self) -> float:
        return sum(self.cpu_ticks.values()) / _TICK


def run_once(cmd: list[str], stdout: Path, stderr: Path, env: dict[str, str] | None = None,
             cwd: Path | None = None, timeout_s: float = 1800, sample: bool = False) -> Run:
    """Run ``cmd`` with output to files; measure wall time and the command's peak RSS.

    ``sample`` also samples the process tree (PSS, CPU) every 0.1 s. Reading
    ``/proc/<pid>/smaps_rollup`` walks the target's page tables under its mmap lock,
    so it slows the target, the more the larger it is: sampled runs are for memory,
    not for timing (in 8 paired rounds of the 1 GiB scan, the analysis's cost rose from
    0.44 to 0.58 s when both scans were sampled; it holds ~90 MiB more).
    """
    gnu_time = Path("/usr/bin/time")
    rss_file = stderr.with_suffix(".rss")
    rss_file.unlink(missing_ok=True)
    full = [str(gnu_time), "-f", "%M %U %S", "-o", str(rss_file), *cmd] if gnu_time.exists() else cmd
    with stdout.open("wb") as out, stderr.open("wb") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(full, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                env=env, cwd=cwd)
        fired = threading.Event()

        def _kill() -> None:
            fired.set()
            proc.kill()

        timer = threading.Timer(timeout_s, _kill)
        timer.start()
        sampler = TreeSampler(proc.pid) if sample else None
        if sampler is not None:
            sampler.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - t0
        finally:
            timer.cancel()
            if sampler is not None:
                sampler.stop.set()
                sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)  # tell Popen it was reaped
    rss, source = int(usage.ru_maxrss), "wait4 (includes the forked harness image)"
    if rss_file.exists():
        # GNU time writes "Command exited with non-zero status N" before the figure
        figures = rss_file.read_text().split()[-3:]
        try:
            rss, source = int(figures[0]), "gnu-time"
            cpu: float | None = float(figures[1]) + float(figures[2])
        except (ValueError, IndexError):
            cpu = None
    else:
        cpu = usage.ru_utime + usage.ru_stime
    pss, tree_cpu = (sampler.peak_pss_kib, sampler.cpu_s) if sampler else (0, 0.0)
    return Run(wall, rss, proc.returncode, fired.is_set(), source, cpu, pss, tree_cpu,
               sampled=sampler is not None)


def warm_cache(path: Path, chunk: int = 16 << 20) -> float:
    """Read the file once through the page cache (one reused buffer); return seconds."""
    buf = bytearray(chunk)
    view = memoryview(buf)
    t0 = time.perf_counter()
    with path.open("rb", buffering=0) as fh:
        while fh.readinto(view):
            pass
    return time.perf_counter() - t0


def warm_bytecode(package: str = "logsleuth") -> str:
    """Compile ``package``'s modules to bytecode, as ``pip install`` does for a wheel.

    An editable checkout run with ``PYTHONDONTWRITEBYTECODE=1`` (this machine's
    default) would otherwise recompile every imported module on every run (~0.1 s
    for logsleuth), which no installed copy does.
    """
    import compileall
    import importlib.util

    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return f"{package}: not importable, bytecode not prepared"
    where = Path(next(iter(spec.submodule_search_locations)))
    try:
        ok = compileall.compile_dir(where, quiet=1)
    except OSError as exc:
        return f"{package}: bytecode not written ({exc})"
    return f"{package}: bytecode compiled in {where}" if ok else f"{package}: compile errors"


def _first_line(cmd: list[str]) -> str:
    if shutil.which(cmd[0]) is None:
        return "not installed"
    res = subprocess.run(cmd, capture_output=True, text=True, check=False)
    return (res.stdout or res.stderr).strip().splitlines()[0] if (res.stdout or res.stderr) else ""


def calibrate(rounds: int = 3, n: int = 2_000_000) -> float:
    """Best-of-``rounds`` seconds of a fixed pure-Python loop: how fast this machine runs Python.

    The loop (integer arithmetic, a dict and a list, no allocation-heavy library) is
    never changed, so figures from two machines compare by the ratio of their
    calibrations (docs/benchmarks.md records it with every table).
    """
    best = float("inf")
    for _ in range(rounds):
        t0 = time.perf_counter()
        acc, seen, out = 0, {}, []
        for i in range(n):
            acc = (acc * 31 + i) % 1_000_003
            if acc % 97 == 0:
                seen[acc] = seen.get(acc, 0) + 1
                out.append(acc)
        best = min(best, time.perf_counter() - t0)
    return best


def load_average() -> list[float]:
    """1, 5 and 15 minute load averages: other work on a shared machine."""
    return [round(x, 2) for x in os.getloadavg()]


def machine() -> dict[str, object]:
    """What the figures depend on: CPUs, model, memory, kernel, tool versions."""
    model = ""
    lscpu = shutil.which("lscpu")
    if lscpu:
        out = subprocess.run([lscpu], capture_output=True, text=True, check=False).stdout
        m = re.search(r"^Model name:\s*(.+)$", out, re.MULTILINE)
        model = m.group(1).strip() if m else ""
    mem_kib = 0
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        m = re.search(r"^MemTotal:\s*(\d+) kB", meminfo.read_text(), re.MULTILINE)
        mem_kib = int(m.group(1)) if m else 0
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu_model": model,
        "mem_total_gib": round(mem_kib / (1 << 20), 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "grep": _first_line(["grep", "--version"]),
        "rg": _first_line(["rg", "--version"]),
        "lnav": _first_line(["lnav", "-V"]),
        "lang": os.environ.get("LC_ALL") or os.environ.get("LANG", ""),
    }
