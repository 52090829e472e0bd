"""`orgledger serve --workers N`: several processes behind one port see each other's writes."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx2 as httpx
import pytest
from benchmarks.web_load import serving

from orgledger import Ledger

WORKERS = 2


@pytest.fixture
def served_db(tencent_db: str) -> str:
    """The database the server runs on: the Tencent example on SQLite, then on PostgreSQL."""
    return tencent_db


@pytest.fixture
def server(served_db: str) -> Iterator[tuple[str, str]]:
    """`orgledger serve --workers 2` in its own process; its URL and a write token."""
    with Ledger.open(served_db) as ledger:
        _, secret = ledger.add_token("workers-test", "write")
    with serving(served_db, workers=WORKERS) as base:
        yield base, secret


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
