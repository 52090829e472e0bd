"""Shared fixtures: empty and Tencent ledgers on each backend, plan files, the CLI runner.

Every test that takes a ledger from these fixtures runs twice: on SQLite and on
PostgreSQL, in a throwaway cluster started for the run (see pgcluster.py).
`ORGLEDGER_TEST_BACKENDS=sqlite` narrows a run while working; `make test` runs both.
"""

from __future__ import annotations

import os
import textwrap
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner, Result

from orgledger import Ledger
from orgledger.cli import app
from orgledger.demo import example_plans
from orgledger.store import resolve_url
from pgcluster import cluster

BACKENDS = tuple(os.environ.get("ORGLEDGER_TEST_BACKENDS", "sqlite,postgresql").split(","))


@pytest.fixture(scope="session")
def postgres() -> Iterator[str]:
    """URL of the run's PostgreSQL server (started on first use, stopped at the end)."""
    with cluster() as url:
        yield url


def fresh_schema(server: str) -> str:
    """URL of a new, empty schema on `server`: each ledger gets its own."""
    schema = f"t_{uuid.uuid4().hex[:16]}"
    engine = sa.create_engine(resolve_url(server))
    with engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    engine.dispose()
    return f"{server}?options=-csearch_path%3D{schema}"


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def new_db(request: pytest.FixtureRequest, backend: str, tmp_path: Path) -> Callable[[str], str]:
    """Where to put a new ledger on the test's backend: a file, or a fresh schema."""

    def _new(name: str = "ledger") -> str:
        if backend == "sqlite":
            return str(tmp_path / f"{name}.db")
        return fresh_schema(request.getfixturevalue("postgres"))

    return _new


@pytest.fixture
def db(new_db: Callable[[str], str]) -> str:
    """Location of a fresh, initialized, empty ledger."""
    location = new_db("ledger")
    Ledger.init(location).close()
    return location


@pytest.fixture
def ledger(db: str) -> Iterator[Ledger]:
    with Ledger.open(db) as opened:
        yield opened


@pytest.fixture
def tencent_db(new_db: Callable[[str], str]) -> str:
    """Location of a ledger holding the whole Tencent example."""
    location = new_db("tencent")
    with Ledger.init(location) as ledger:
        ledger.apply(*example_plans())
    return location


@pytest.fixture
def tencent(tencent_db: str) -> Iterator[Ledger]:
    with Ledger.open(tencent_db) as opened:
        yield opened


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str], str]:
    """Write a plan file (dedented) and return its path."""

    def _write(name: str, text: str) -> str:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return str(path)

    return _write


@pytest.fixture
def cli() -> Callable[..., Result]:
    """Run the command line in-process; stdout and stderr are kept apart."""
    runner = CliRunner()

    def _run(*args: str, input: str | None = None) -> Result:
        return runner.invoke(app, list(args), input=input, env={"COLUMNS": "120", "NO_COLOR": "1"})

    return _run
