"""Shared fixtures: empty and Tencent ledgers, plan files, and the CLI runner."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from orgledger import Ledger
from orgledger.cli import app
from orgledger.demo import example_plans


@pytest.fixture
def db(tmp_path: Path) -> str:
    """Path of a fresh, initialized, empty ledger."""
    path = tmp_path / "ledger.db"
    Ledger.init(path).close()
    return str(path)


@pytest.fixture
def ledger(db: str) -> Iterator[Ledger]:
    with Ledger.open(db) as opened:
        yield opened


@pytest.fixture
def tencent_db(tmp_path: Path) -> str:
    """Path of a ledger holding the whole Tencent example."""
    path = tmp_path / "tencent.db"
    with Ledger.init(path) as ledger:
        ledger.apply(*example_plans())
    return str(path)


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
