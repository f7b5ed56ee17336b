"""Scale out as users run it: inputs in a real S3-compatible server, workers as separate processes.

moto's standalone server (``moto_server``, the ``moto[server]`` test extra) listens on
127.0.0.1 and is driven by the real boto3/s3fs clients; nothing in the client is
mocked. ``dask scheduler`` and ``dask worker`` run as the user starts them, each a
process of its own whose working directory holds no input, so the workers can read
the evidence only through the ``s3://`` URLs.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from logsleuth import api

SAMPLE = Path(__file__).resolve().parents[2] / "sample_logs" / "incident"
BIN = Path(sys.executable).parent
BUCKET = "evidence"
pytest.importorskip("s3fs")
pytest.importorskip("distributed")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_port(port: int, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args[0]} exited with {proc.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


@pytest.fixture(scope="module")
def s3_env() -> Iterator[dict[str, str]]:
    """A moto server holding sample_logs/incident under s3://evidence/incident/."""
    exe = shutil.which("moto_server", path=str(BIN)) or shutil.which("moto_server")
    if exe is None:
        pytest.skip("moto_server not installed (pip install 'moto[server]')")
    port = _free_port()
    server = subprocess.Popen([exe, "-H", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    env = {"FSSPEC_S3_ENDPOINT_URL": f"http://127.0.0.1:{port}",
           "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_DEFAULT_REGION": "us-east-1",
           # moto_server is one Python process on a shared machine: let clients retry
           "AWS_RETRY_MODE": "standard", "AWS_MAX_ATTEMPTS": "10"}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        _wait_port(port, server)
        import boto3

        s3 = boto3.client("s3", endpoint_url=env["FSSPEC_S3_ENDPOINT_URL"])
        s3.create_bucket(Bucket=BUCKET)
        for f in sorted(p for p in SAMPLE.rglob("*") if p.is_file()):
            s3.upload_file(str(f), BUCKET, f"incident/{f.relative_to(SAMPLE).as_posix()}")
        import fsspec.config

        # fsspec read its FSSPEC_* variables when first imported; give this process the same
        fsspec.config.conf.setdefault("s3", {})["endpoint_url"] = env["FSSPEC_S3_ENDPOINT_URL"]
        yield env
    finally:
        _stop(server)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _json(result: api.ScanResult) -> str:
    return json.dumps(result.to_json(), sort_keys=True)


def _differing(a: api.ScanResult, b: api.ScanResult) -> list[str]:
    """Top-level keys whose JSON differs: says where to look when the engines disagree."""
    ja, jb = a.to_json(), b.to_json()
    keys = [k for k in sorted(set(ja) | set(jb))
            if json.dumps(ja.get(k), sort_keys=True) != json.dumps(jb.get(k), sort_keys=True)]
    return [*keys, *(d["message"] for d in ja["diagnostics"][:3])]


def test_s3_prefix_scans_like_the_directory(s3_env: dict[str, str]) -> None:
    local = api.scan(SAMPLE, keep_records=False, workers=2)
    remote = api.scan(f"s3://{BUCKET}/incident/", keep_records=False, workers=2)
    assert remote.to_json()["totals"]["inputs"] == local.to_json()["totals"]["inputs"] > 10
    assert _json(remote) == _json(local), _differing(remote, local)


def test_missing_s3_object_is_a_diagnostic_not_a_crash(s3_env: dict[str, str]) -> None:
    got = api.scan(f"s3://{BUCKET}/nowhere/app.log", keep_records=False)
    codes = [d["code"] for d in got.to_json()["diagnostics"]]
    assert codes == ["missing-path"]


def test_dask_scheduler_and_workers_as_separate_processes_read_s3(
        s3_env: dict[str, str], tmp_path: Path) -> None:
    dask = shutil.which("dask", path=str(BIN))
    if dask is None:
        pytest.skip("the dask command is not installed")
    port = _free_port()
    env = {**os.environ, **s3_env}
    scheduler = subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", str(port),
                                  "--no-dashboard"], cwd=tmp_path, env=env,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    worker = None
    try:
        _wait_port(port, scheduler)
        address = f"tcp://127.0.0.1:{port}"
        (tmp_path / "w").mkdir()
        worker = subprocess.Popen([dask, "worker", address, "--nworkers", "2", "--nthreads", "1",
                                   "--host", "127.0.0.1", "--no-dashboard",
                                   "--local-directory", str(tmp_path / "w")],
                                  cwd=tmp_path / "w", env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        from distributed import Client

        with Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=90)
            pids = client.run(os.getpid)
        assert len(pids) == 2 and os.getpid() not in pids.values()
        remote = api.scan(f"s3://{BUCKET}/incident/", keep_records=False, engine="dask",
                          dask_address=address)
        local = api.scan(SAMPLE, keep_records=False, workers=2)
        assert _json(remote) == _json(local), _differing(remote, local)
    finally:
        if worker is not None:
            _stop(worker)
        _stop(scheduler)
