"""The store: checkpoints for cold reads, migrations, append-only tables."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

import raw
from orgledger import Ledger, Unit
from orgledger import ledger as ledger_module
from orgledger.store import MIGRATIONS, Store, migrations_t
from orgledger.synth import history


def _dates(ledger: Ledger) -> list[date]:
    days = sorted({r.effective for r in ledger.records})
    return [d + timedelta(days=k) for d in days for k in (-1, 0)]


def _cold_reads_match(path: Path, warm: dict[date, dict[str, Unit]]) -> None:
    """Each date read cold (checkpoint plus versions) equals the loaded timeline's answer."""
    for day, units in warm.items():
        with Ledger.open(path) as cold:
            assert dict(cold.at(day).units) == units, day
    with Ledger.open(path) as ledger:
        assert ledger.verify().ok


@pytest.fixture
def small_checkpoints(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ledger_module, "CHECKPOINT_EVERY", 7)


@pytest.mark.usefixtures("small_checkpoints")
def test_cold_reads_from_checkpoints_equal_the_full_timeline(tmp_path: Path) -> None:
    path = tmp_path / "synth.db"
    with Ledger.init(path) as ledger:
        for changeset in history(units=40, years=3, changesets=12, seed=5, ops_per_changeset=6):
            ledger.apply(changeset)
        warm = {day: dict(ledger.at(day).units) for day in _dates(ledger)}
    assert Store.open(path).checkpoints(), "the history is long enough to leave checkpoints"
    _cold_reads_match(path, warm)


@pytest.mark.usefixtures("small_checkpoints")
def test_a_back_dated_change_set_writes_checkpoints_for_the_new_history(tmp_path: Path) -> None:
    path = tmp_path / "synth.db"
    changesets = list(history(units=30, years=2, changesets=8, seed=11, ops_per_changeset=5))
    with Ledger.init(path) as ledger:
        ledger.apply(*changesets)
        before = Store.open(path).derivation()
        founded = changesets[0].effective
        ledger.apply(
            {
                "id": "back-dated",
                "effective": (founded + timedelta(days=1)).isoformat(),
                "ops": [
                    {
                        "create": "extra",
                        "parent": "u0000001",
                        "kind": "team",
                        "names": {"en": "Extra"},
                    }
                ],
            }
        )
        assert Store.open(path).derivation() == before + 1
        warm = {day: dict(ledger.at(day).units) for day in _dates(ledger)}
    _cold_reads_match(path, warm)


@pytest.mark.usefixtures("small_checkpoints")
def test_verify_finds_a_tampered_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / "synth.db"
    with Ledger.init(path) as ledger:
        for changeset in history(units=20, years=1, changesets=4, seed=2, ops_per_changeset=5):
            ledger.apply(changeset)
    other = Store.open(path).checkpoints()[0][1]
    assert other
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TRIGGER checkpoints_no_update")
        blob = conn.execute("SELECT units FROM checkpoints ORDER BY pos DESC LIMIT 1").fetchone()
        first = conn.execute("SELECT units FROM checkpoints ORDER BY pos LIMIT 1").fetchone()
        assert blob != first
        conn.execute(
            "UPDATE checkpoints SET units = ? WHERE pos = (SELECT max(pos) FROM checkpoints)",
            first,
        )
    conn.close()
    with Ledger.open(path) as ledger:
        report = ledger.verify()
    assert not report.ok
    assert any("checkpoint" in finding for finding in report.findings)


def test_an_older_schema_is_migrated_on_open(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    store = Store.open(path, create=True)
    store.close()
    with sqlite3.connect(path) as conn:
        for table in ("checkpoints", "metric_loads", "metric_values", "scenario_events", "tokens"):
            conn.execute(f"DROP TABLE {table}")
        conn.execute("DROP INDEX IF EXISTS versions_by_day")
        conn.execute("DROP TRIGGER schema_migrations_no_delete")
        conn.execute("DELETE FROM schema_migrations WHERE version > 1")
    conn.close()
    assert Store.open(path).schema_version() == len(MIGRATIONS)
    with sqlite3.connect(path) as conn:
        versions = [row[0] for row in conn.execute(f"SELECT version FROM {migrations_t.name}")]
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    conn.close()
    assert versions == list(range(1, len(MIGRATIONS) + 1))
    assert {"checkpoints", "versions_by_day", "metric_values", "scenario_events", "tokens"} <= (
        tables
    )


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE changesets SET title = 'x'",
        "DELETE FROM changesets",
        "UPDATE versions SET state = NULL",
        "DELETE FROM edges",
    ],
)
def test_tables_refuse_updates_and_deletes(tencent_db: str, statement: str) -> None:
    assert "append-only" in raw.refused(tencent_db, statement)


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    Store.open(path, create=True).close()
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO schema_migrations VALUES (99, '2030-01-01T00:00:00.000000Z')")
    conn.close()
    with pytest.raises(Exception, match="newer orgledger"):
        Store.open(path)


def test_synth_is_deterministic_and_valid(tmp_path: Path) -> None:
    """The same seed gives the same change sets, whatever the process's hash seed."""
    digests = []
    for hash_seed in ("1", "2"):
        path = tmp_path / f"s{hash_seed}.db"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "orgledger",
                "synth",
                "--units",
                "300",
                "--changesets",
                "12",
                "--seed",
                "4",
                "--ops-per-changeset",
                "20",
                "--db",
                str(path),
            ],
            check=True,
            capture_output=True,
            env={**os.environ, "PYTHONHASHSEED": hash_seed},
        )
        with Ledger.open(path) as ledger:
            digests.append([r.digest for r in ledger.records])
            assert len(ledger.records) == 13
            kinds = {kind for r in ledger.records for kind in r.op_kinds}
            assert kinds == {"create", "rename", "set", "move", "merge", "split", "dissolve"}
            assert ledger.verify().ok
            last = ledger.records[-1].effective
            assert max(level for _, level in ledger.at(last).walk()) >= 3
    assert digests[0] == digests[1]


def test_synth_writes_plan_files_that_apply(tmp_path: Path, cli: Callable[..., Any]) -> None:
    out = tmp_path / "plans"
    result = cli(
        "synth",
        "--units",
        "100",
        "--changesets",
        "5",
        "--seed",
        "1",
        "--out",
        str(out),
        "--plan-format",
        "json",
    )
    assert result.exit_code == 0, result.output
    files = sorted(out.glob("*.json"))
    assert len(files) == 6
    with Ledger.init(tmp_path / "p.db") as ledger:
        assert len(ledger.apply(*files)) == 6


def test_subtrees_agree_whether_walked_or_indexed(tmp_path: Path) -> None:
    """The first subtree query of a date walks versions; repeated ones use an index."""
    path = tmp_path / "synth.db"
    with Ledger.init(path) as ledger:
        ledger.apply(*history(units=200, years=4, changesets=15, seed=9, ops_per_changeset=12))
    days = sorted({r.effective for r in Ledger.open(path).records})
    with Ledger.open(path) as warm:
        warm.timeline  # noqa: B018 - load the index, as a long-running process has it
        for day in days[::3]:
            with Ledger.open(path) as cold:
                reference = cold.at(day)  # a plain mapping, walked in Python
            roots = [unit.id for unit, level in reference.walk() if level in (0, 2)][:6]
            for root in roots:
                expected = sorted(zip(*reference.table(root), strict=True))
                for _ in range(3):
                    got = sorted(zip(*warm.at(day).table(root), strict=True))
                    assert got == expected, (day, root)
