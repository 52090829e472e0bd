"""What the ledger survives: concurrent writers, killed writers, tampering, and moving between
databases by export and import. Each test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from benchmarks.stress import CONTEST_EVERY, concurrent_writers, killed_writers

import raw
from orgledger import Ledger
from orgledger.archive import read_archive
from orgledger.errors import ArchiveError
from orgledger.ledger import active
from orgledger.timeline import Timeline
from outcomes import as_json, fails, ok

Cli = Callable[..., Any]


def replayed_equals_incremental(ledger: Ledger, days: list[date]) -> None:
    replayed = Timeline.replay(active(ledger.records))
    for day in days:
        assert dict(replayed.snapshot(day).units) == dict(ledger.at(day).units), day


# -- concurrency ---------------------------------------------------------------------


def test_eight_writers_at_once_land_in_some_serial_order(
    db: str, record_property: Callable[[str, object], None]
) -> None:
    writers, per_writer = 8, 50
    result = concurrent_writers(db, writers, per_writer)
    record_property("stress", json.dumps(result.__dict__))
    print(f"\n{db.split('?')[0]}: {result} ({result.per_second:.1f} change sets/s)")
    contests = per_writer // CONTEST_EVERY
    # Each writer's own change sets all land; of each contest for a shared unit exactly one.
    assert result.recorded == writers * (per_writer - contests) + contests
    assert result.refused == (writers - 1) * contests
    assert set(result.outcomes) == {"plan-refused"}, result.outcomes
    with Ledger.open(db) as ledger:
        ids = [r.id for r in ledger.records]
        assert len(ids) == len(set(ids)) == result.recorded + 1
        assert [r.seq for r in ledger.records] == list(range(1, len(ids) + 1))
        report = ledger.verify()
        assert report.ok, report.findings
        final = ledger.at(date(2030, 1, 1))
        assert sum(uid.startswith("shared-") for uid in final.units) == contests
        replayed_equals_incremental(ledger, [date(2020, 1, 1), date(2020, 1, 20), date(2030, 1, 1)])


def test_reads_do_not_wait_for_a_writer(tencent_db: str) -> None:
    """A writer holds the write lock until a reader has opened the ledger and read from it.

    If opening or reading waited for the writer, the writer would give up waiting first.
    """
    read_done, holding = threading.Event(), threading.Event()
    seen: list[int] = []
    finished_while_held: list[bool] = []

    def writer() -> None:
        with Ledger.open(tencent_db) as ledger, ledger.store.writing():
            holding.set()
            finished_while_held.append(read_done.wait(timeout=20))

    def reader() -> None:
        holding.wait(timeout=30)
        with Ledger.open(tencent_db) as ledger:
            seen.append(len(ledger.at(date(2019, 1, 1)).units))
            seen.append(len(ledger.log()))
        read_done.set()

    threads = [threading.Thread(target=writer), threading.Thread(target=reader)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    assert finished_while_held == [True], "the reader waited for the writer"
    assert seen[0] > 10 and seen[1] >= 8


def test_a_second_writer_waits_and_then_sees_the_first_writers_change(db: str) -> None:
    first = {
        "id": "a",
        "effective": "2020-01-01",
        "title": "A",
        "ops": [{"create": "acme", "parent": None, "kind": "company", "names": {"en": "Acme"}}],
    }
    second = {
        "id": "b",
        "effective": "2020-02-01",
        "title": "B",
        "ops": [{"create": "eng", "parent": "acme", "kind": "team", "names": {"en": "Eng"}}],
    }
    landed: list[str] = []
    with Ledger.open(db) as holder, Ledger.open(db) as waiter:
        assert waiter.records == []  # read before the first writer records anything
        with holder.store.writing():
            thread = threading.Thread(
                target=lambda: landed.extend(r.id for r in waiter.apply(second))
            )
            thread.start()
            holder.apply(first)
            thread.join(timeout=0.5)
            assert thread.is_alive(), "the second writer did not wait for the lock"
        thread.join(timeout=60)
    assert landed == ["b"]
    with Ledger.open(db) as ledger:
        assert [r.id for r in ledger.records] == ["a", "b"]
        assert ledger.verify().ok


# -- crashes -----------------------------------------------------------------------


def test_a_writer_killed_at_random_moments_leaves_each_change_set_whole_or_absent(
    db: str, record_property: Callable[[str, object], None]
) -> None:
    result = killed_writers(db, kills=20, units=800, seed=20)
    record_property("kills", json.dumps(result.__dict__))
    print(f"\n{db.split('?')[0]}: {result}")
    assert result.kills == 20 == result.landed_whole + result.absent == result.verify_ok
    # Both outcomes happen: kills fell before and after the commit.
    assert result.absent > 0


# -- tampering ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("table", "statement", "named"),
    [
        (
            "changesets",
            "UPDATE changesets SET title = 'x', body = replace(body, 'CSIG', 'CSXG') WHERE seq = 7",
            "tencent-2018-09-30",
        ),
        ("changesets", "DELETE FROM changesets WHERE seq = 3", "change set 4"),
        (
            "changesets",
            "UPDATE changesets SET recorded_at = '2030-01-01T00:00:00.000000Z' WHERE seq = 2",
            "tencent-2012-05-18",
        ),
        (
            "versions",
            "UPDATE versions SET state = replace(state, 'WXG', 'WGX') WHERE unit_id = 'wxg'",
            "tencent-2014-05-06",
        ),
        (
            "versions",
            "DELETE FROM versions WHERE pos = (SELECT max(pos) FROM versions)",
            "tencent-2019-01-01",
        ),
        ("edges", "UPDATE edges SET share = 0.5 WHERE src = 'mig'", "tencent-2018-09-30"),
        ("magnitudes", "UPDATE magnitudes SET value = 0.01 WHERE seq = 7", "tencent-2018-09-30"),
        ("metric_values", "DELETE FROM metric_values WHERE pos = 1", "metric load 1"),
    ],
)
def test_verify_names_what_was_edited_by_hand(
    cli: Cli, tencent_db: str, table: str, statement: str, named: str
) -> None:
    metrics = Path(__file__).resolve().parents[1] / "src/orgledger/examples/tencent/metrics.csv"
    ok(cli("metrics", "load", str(metrics), "--db", tencent_db))
    assert as_json(cli("verify", "-f", "json", "--db", tencent_db))["ok"] is True
    changed = raw.execute(tencent_db, statement, bypass=[table])
    assert changed[0] >= 1
    report = json.loads(fails(cli("verify", "-f", "json", "--db", tencent_db), 1).stdout)
    assert report["ok"] is False
    assert any(named in finding for finding in report["findings"]), report["findings"]


# -- export and import -------------------------------------------------------------


def _everything(db: str) -> dict[str, Any]:
    with Ledger.open(db) as ledger:
        archive = ledger.export().to_json("test")
        return {
            "archive": archive,
            "verify": ledger.verify().ok,
            "snapshot": ledger.at(date(2019, 6, 1)).to_json(),
            "log": [e.to_json() for e in ledger.log()],
            "scenarios": sorted(ledger.scenarios()),
            "tokens": sorted(ledger.tokens()),
            "metrics": len(ledger.metric_values()),
        }


def test_export_and_import_move_a_ledger_between_databases_losslessly(
    cli: Cli, tencent_db: str, backend: str, postgres: str, tmp_path: Path, write: Any
) -> None:
    """SQLite to PostgreSQL and back (or PostgreSQL to SQLite and back): the same head hash."""
    from conftest import fresh_schema

    metrics = Path(__file__).resolve().parents[1] / "src/orgledger/examples/tencent/metrics.csv"
    ok(cli("metrics", "load", str(metrics), "--db", tencent_db))
    draft = write(
        "draft.yaml",
        """
        id: draft-2020
        effective: 2020-06-01
        title: A draft
        ops:
          - rename: csig
            names: {en: Cloud and Smart Industries}
        """,
    )
    ok(cli("scenario", "add", "draft", draft, "--db", tencent_db))
    ok(cli("scenario", "approve", "draft", "--by", "ana", "--db", tencent_db))
    ok(cli("token", "add", "ci", "--scope", "write", "--under", "csig", "--db", tencent_db))
    before = _everything(tencent_db)

    other = fresh_schema(postgres) if backend == "sqlite" else str(tmp_path / "moved.db")
    back = str(tmp_path / "back.db") if backend == "sqlite" else fresh_schema(postgres)
    exported = tmp_path / "ledger.json"
    ok(cli("export", str(exported), "--db", tencent_db))
    ok(cli("import", str(exported), "--db", other))
    again = tmp_path / "again.json"
    ok(cli("export", "ledger", str(again), "--db", other))
    ok(cli("import", "ledger", str(again), "--db", back))
    for copy in (other, back):
        assert _everything(copy) == before
    assert json.loads(again.read_text()) == json.loads(exported.read_text())
    head = before["archive"]["head"]["hash"]
    assert head[:16] in ok(cli("verify", "--db", back)).stdout


def test_import_refuses_a_damaged_export_and_writes_nothing(
    cli: Cli, tencent_db: str, new_db: Callable[[str], str], tmp_path: Path
) -> None:
    exported = tmp_path / "ledger.json"
    ok(cli("export", str(exported), "--db", tencent_db))
    document = json.loads(exported.read_text())
    target = new_db("target")
    Ledger.init(target).close()

    def refused(change: Callable[[dict[str, Any]], None], message: str) -> None:
        damaged = json.loads(json.dumps(document))
        change(damaged)
        path = tmp_path / "damaged.json"
        path.write_text(json.dumps(damaged))
        result = fails(cli("import", str(path), "--db", target), 1)
        assert message in result.stderr and "damaged.json" in result.stderr, result.stderr
        assert "Traceback" not in result.stderr + result.stdout
        with Ledger.open(target) as ledger:
            assert ledger.store.is_empty()

    def edit_body(d: dict[str, Any]) -> None:
        d["changesets"][3]["body"] = d["changesets"][3]["body"].replace("IEG", "IEX")

    def drop_one(d: dict[str, Any]) -> None:
        del d["changesets"][2]

    def bad_time(d: dict[str, Any]) -> None:
        d["changesets"][0]["recorded_at"] = "yesterday"

    def other_format(d: dict[str, Any]) -> None:
        d["format"] = "something-else"

    def extra_field(d: dict[str, Any]) -> None:
        d["changesets"][0]["extra"] = 1

    refused(edit_body, "content does not match its digest")
    refused(drop_one, "sequence number 4, expected 3")
    refused(bad_time, "not a recording time")
    refused(other_format, "not an orgledger export")
    refused(extra_field, "changesets.0.extra")
    (tmp_path / "notjson.json").write_text("{")
    assert (
        "not JSON" in fails(cli("import", str(tmp_path / "notjson.json"), "--db", target), 1).stderr
    )
    # Into a ledger that holds something: refused, and the ledger keeps what it had.
    result = fails(cli("import", str(exported), "--db", tencent_db), 1)
    assert "already holds a ledger" in result.stderr
    assert _everything(tencent_db)["verify"] is True


def test_an_export_read_back_is_the_archive_written(tencent: Ledger) -> None:
    archive = tencent.export()
    data = json.dumps(archive.to_json("x")).encode()
    assert read_archive(data, "x.json").to_json("x") == archive.to_json("x")
    document = archive.to_json("x")
    document["head"] = {"seq": 1, "hash": archive.records[0].hash}
    with pytest.raises(ArchiveError, match=r"x\.json: the change sets do not end at the head"):
        read_archive(json.dumps(document).encode(), "x.json")
