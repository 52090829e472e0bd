"""`orgledger serve --workers N`: several processes behind one port see each other's writes."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx2 as httpx
import pytest

from orgledger import Ledger

WORKERS = 2


@pytest.fixture
def served_db(tencent_db: str) -> str:
    """The database the server runs on: the Tencent example on SQLite, then on PostgreSQL."""
    return tencent_db


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def server(served_db: str) -> Iterator[tuple[str, str]]:
    """`orgledger serve --workers 2` in its own process; its URL and a write token."""
    with Ledger.open(served_db) as ledger:
        _, secret = ledger.add_token("workers-test", "write")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORGLEDGER_")}
    command = [sys.executable, "-m", "orgledger", "serve", "--db", served_db]
    command += ["--port", str(port), "--workers", str(WORKERS)]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, process.stderr.read() if process.stderr else b""
            try:
                if httpx.get(f"{base}/api/v1/log", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not answer in 60 s"
            time.sleep(0.1)
        yield base, secret
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stderr is not None:
            process.stderr.close()


def _plan(number: int) -> str:
    unit = f"w{number}"
    op = {"create": unit, "parent": "teg", "kind": "team", "names": {"en": unit}}
    return json.dumps({"id": f"workers-{number}", "effective": "2019-06-01", "ops": [op]})


def test_every_worker_sees_writes_made_through_the_others(server: tuple[str, str]) -> None:
    base, secret = server
    headers = {"Authorization": f"Bearer {secret}", "Content-Type": "application/json"}
    # A new connection per request, so that the kernel hands them to either worker.
    for number in range(1, 5):
        answer = httpx.post(f"{base}/api/v1/changesets", content=_plan(number), headers=headers)
        assert answer.status_code == 201, answer.text
    wanted = {f"workers-{n}" for n in range(1, 5)}
    for _ in range(30):
        log = httpx.get(f"{base}/api/v1/log").json()
        assert wanted <= {e["id"] for e in log}
        units = httpx.get(f"{base}/api/v1/snapshot", params={"at": "2019-06-01", "root": "teg"})
        assert {"w1", "w2", "w3", "w4"} <= {u["id"] for u in units.json()["units"]}
    again = httpx.post(f"{base}/api/v1/changesets", content=_plan(1), headers=headers)
    assert again.status_code == 200 and again.json()["recorded"] == []
