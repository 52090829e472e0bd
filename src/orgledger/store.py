"""Persistence with SQLAlchemy Core: append-only tables, migrations, one transaction per write.

The log is `changesets`: every recorded change set with its hash chain, never
updated or deleted. The derived tables (`versions`, `edges`, `magnitudes`) hold
what replaying the log produces, so a ledger opens without replaying. They are
append-only too: rows belong to a *derivation*; appending a change set at the
end adds rows to the current derivation, and a back-dated change set or a
correction writes a new derivation whole. The newest derivation is the one read.
"""

from __future__ import annotations

import os
import threading
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from .changeset import Record, timestamp
from .errors import LedgerExistsError, LedgerMissingError, OrgLedgerError, StoreError
from .forest import Version
from .metrics import MetricValue
from .model import Edge, Link, Unit, frozen_map
from .periods import Period
from .tokens import TokenEvent

DEFAULT_DB = "orgledger.db"
LOCK_WAIT_S = 30
"""Seconds a writer waits for another writer's transaction before giving up."""
_LOCK_KEY = 0x6F72676C  # The PostgreSQL advisory lock every orgledger writer takes.
_WRITING = "orgledger_writing"
meta = sa.MetaData()

migrations_t = sa.Table(
    "schema_migrations",
    meta,
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("applied_at", sa.String, nullable=False),
)
changesets_t = sa.Table(
    "changesets",
    meta,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("id", sa.String, nullable=False, unique=True),
    sa.Column("effective", sa.String, nullable=False),
    sa.Column("recorded_at", sa.String, nullable=False),
    sa.Column("title", sa.String, nullable=False),
    sa.Column("supersedes", sa.String),
    sa.Column("ops", sa.Integer, nullable=False),
    sa.Column("digest", sa.String, nullable=False),
    sa.Column("prev_hash", sa.String, nullable=False),
    sa.Column("hash", sa.String, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
)
derivations_t = sa.Table(
    "derivations",
    meta,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("head_seq", sa.Integer, nullable=False),
    sa.Column("created_at", sa.String, nullable=False),
    sa.Column("reason", sa.String, nullable=False),
)
versions_t = sa.Table(
    "versions",
    meta,
    sa.Column("derivation", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("pos", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("unit_id", sa.String, nullable=False),
    sa.Column("day", sa.String, nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("op", sa.Integer, nullable=False),
    sa.Column("state", sa.Text),
)
edges_t = sa.Table(
    "edges",
    meta,
    sa.Column("derivation", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("pos", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("src", sa.String, nullable=False),
    sa.Column("dst", sa.String, nullable=False),
    sa.Column("day", sa.String, nullable=False),
    sa.Column("changeset", sa.String, nullable=False),
    sa.Column("kind", sa.String, nullable=False),
    sa.Column("share", sa.Float, nullable=False),
)
magnitudes_t = sa.Table(
    "magnitudes",
    meta,
    sa.Column("derivation", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("value", sa.Float, nullable=False),
)
checkpoints_t = sa.Table(
    "checkpoints",
    meta,
    sa.Column("derivation", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("pos", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("units", sa.LargeBinary, nullable=False),
)
metric_loads_t = sa.Table(
    "metric_loads",
    meta,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("recorded_at", sa.String, nullable=False),
    sa.Column("file", sa.String, nullable=False),
    sa.Column("rows", sa.Integer, nullable=False),
)
metric_values_t = sa.Table(
    "metric_values",
    meta,
    sa.Column("load", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("pos", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("row", sa.Integer, nullable=False),
    sa.Column("unit", sa.String, nullable=False),
    sa.Column("metric", sa.String, nullable=False),
    sa.Column("start", sa.String, nullable=False),
    sa.Column("end", sa.String, nullable=False),
    sa.Column("value", sa.Float, nullable=False),
    sa.Column("currency", sa.String),
    sa.Column("basis", sa.String, nullable=False),
    sa.Column("sources", sa.Text, nullable=False),
)
scenario_events_t = sa.Table(
    "scenario_events",
    meta,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("name", sa.String, nullable=False),
    sa.Column("action", sa.String, nullable=False),
    sa.Column("recorded_at", sa.String, nullable=False),
    sa.Column("actor", sa.String),
    sa.Column("body", sa.Text),
)
tokens_t = sa.Table(
    "tokens",
    meta,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("name", sa.String, nullable=False),
    sa.Column("action", sa.String, nullable=False),
    sa.Column("recorded_at", sa.String, nullable=False),
    sa.Column("actor", sa.String),
    sa.Column("scope", sa.String),
    sa.Column("under", sa.Text),
    sa.Column("digest", sa.String),
)
metric_values_by_metric = sa.Index("metric_values_by_metric", metric_values_t.c.metric)
versions_by_day = sa.Index("versions_by_day", versions_t.c.derivation, versions_t.c.day)


_REFUSE = "orgledger tables are append-only"
_PG_REFUSE = f"""
CREATE OR REPLACE FUNCTION orgledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION '{_REFUSE}'; END $$
"""


def _append_only(conn: Connection, *tables: sa.Table) -> None:
    """Triggers that refuse every UPDATE and DELETE (and on PostgreSQL, TRUNCATE)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(_PG_REFUSE)
        for table in tables:
            conn.exec_driver_sql(
                f"CREATE TRIGGER {table.name}_append_only BEFORE UPDATE OR DELETE "
                f"ON {table.name} FOR EACH ROW EXECUTE FUNCTION orgledger_append_only()"
            )
            conn.exec_driver_sql(
                f"CREATE TRIGGER {table.name}_no_truncate BEFORE TRUNCATE "
                f"ON {table.name} FOR EACH STATEMENT EXECUTE FUNCTION orgledger_append_only()"
            )
        return
    for table in tables:
        for action in ("UPDATE", "DELETE"):
            conn.exec_driver_sql(
                f"CREATE TRIGGER {table.name}_no_{action.lower()} BEFORE {action} "
                f"ON {table.name} BEGIN SELECT RAISE(ABORT, '{_REFUSE}'); END"
            )


def _v1(conn: Connection) -> None:
    tables = [migrations_t, changesets_t, derivations_t, versions_t, edges_t, magnitudes_t]
    meta.create_all(conn, tables=tables)
    _append_only(conn, *tables)


def _v2(conn: Connection) -> None:
    """Checkpoints (the whole state at some positions) and versions by day: fast cold reads."""
    meta.create_all(conn, tables=[checkpoints_t])
    versions_by_day.create(conn, checkfirst=True)
    _append_only(conn, checkpoints_t)


def _v3(conn: Connection) -> None:
    """Metrics (loads of values) and scenarios (draft plans and their approvals)."""
    tables = [metric_loads_t, metric_values_t, scenario_events_t]
    meta.create_all(conn, tables=tables)
    metric_values_by_metric.create(conn, checkfirst=True)
    _append_only(conn, *tables)


def _v4(conn: Connection) -> None:
    """Access tokens for the web API: their digests, scopes and limits, added and revoked."""
    meta.create_all(conn, tables=[tokens_t])
    _append_only(conn, tokens_t)


MIGRATIONS: list[Callable[[Connection], None]] = [_v1, _v2, _v3, _v4]
"""Schema migrations in order; the schema version is the number applied."""


class ConflictError(OrgLedgerError):
    """Another writer recorded change sets since this ledger was read."""

    code = "conflict"


@dataclass(frozen=True)
class Derived:
    """The rows of the current derivation."""

    versions: list[Version]
    edges: list[Edge]
    magnitudes: dict[int, float]


def resolve_url(db: str | os.PathLike[str] | None) -> str:
    """A SQLAlchemy URL from a path, a URL, `$ORGLEDGER_DB` or the default file."""
    value = str(db) if db is not None else os.environ.get("ORGLEDGER_DB") or DEFAULT_DB
    if "://" in value:
        if value.startswith("postgresql://"):
            return "postgresql+psycopg://" + value.removeprefix("postgresql://")
        return value
    return f"sqlite:///{value}"


def _sqlite_path(url: str) -> Path | None:
    parsed = sa.make_url(url)
    if (
        parsed.get_backend_name() != "sqlite"
        or not parsed.database
        or parsed.database == ":memory:"
    ):
        return None
    return Path(parsed.database)


class Store:
    """One ledger database."""

    def __init__(self, engine: Engine, display: str) -> None:
        self.engine = engine
        self.display = display
        self._held = threading.local()

    @classmethod
    def open(cls, db: str | os.PathLike[str] | None = None, *, create: bool = False) -> Store:
        url = resolve_url(db)
        display = _display(db if db is not None else os.environ.get("ORGLEDGER_DB") or DEFAULT_DB)
        path = _sqlite_path(url)
        if path is not None and not create and not path.exists():
            raise LedgerMissingError(f"no ledger at {display} (create one with `orgledger init`)")
        try:
            engine = sa.create_engine(url)
        except (sa.exc.ArgumentError, ImportError) as exc:
            raise StoreError(f"cannot open {display}: {exc}") from None
        if engine.dialect.name == "sqlite":
            sa.event.listen(engine, "connect", _sqlite_connect)
            sa.event.listen(engine, "begin", _sqlite_begin)
        store = cls(engine, display)
        try:
            # Opening only reads, so it never waits for a writer; creating or
            # migrating takes the write lock and checks again under it.
            with store._read() as conn:
                store._check(conn, create)
            if create or store.schema_version() < len(MIGRATIONS):
                with store._write() as conn:
                    version = store._check(conn, create)
                    for number in range(version + 1, len(MIGRATIONS) + 1):
                        MIGRATIONS[number - 1](conn)
                        conn.execute(
                            migrations_t.insert().values(
                                version=number, applied_at=timestamp(_now())
                            )
                        )
        except OrgLedgerError as exc:
            engine.dispose()
            if isinstance(exc, StoreError):
                message = exc.message
                for doing in ("cannot write to", "cannot read"):
                    message = message.replace(f"{doing} {display}:", f"cannot open {display}:", 1)
                raise StoreError(message) from None
            raise
        return store

    def close(self) -> None:
        self.engine.dispose()

    def _check(self, conn: Connection, create: bool) -> int:
        """The schema version, refusing what cannot be opened (or created) here."""
        version = self._version(conn)
        if not version and sa.inspect(conn).get_table_names():
            raise StoreError(f"{self.display} is a database, but not an orgledger ledger")
        if create and version:
            raise LedgerExistsError(f"a ledger already exists at {self.display}")
        if not create and not version:
            raise LedgerMissingError(
                f"no ledger at {self.display} (create one with `orgledger init`)"
            )
        if version > len(MIGRATIONS):
            raise StoreError(
                f"{self.display} was written by a newer orgledger "
                f"(schema {version}, this one knows {len(MIGRATIONS)})"
            )
        return version

    @staticmethod
    def _version(conn: Connection) -> int:
        if not sa.inspect(conn).has_table("schema_migrations"):
            return 0
        return int(conn.execute(sa.select(sa.func.max(migrations_t.c.version))).scalar() or 0)

    def schema_version(self) -> int:
        with self._read() as conn:
            return self._version(conn)

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        """A connection whose reads all see one committed state (and never wait for writers)."""
        try:
            with self.engine.connect() as conn:
                if conn.dialect.name == "postgresql":
                    conn.execution_options(isolation_level="REPEATABLE READ")
                with conn.begin():
                    yield conn
        except sa.exc.SQLAlchemyError as exc:
            raise StoreError(f"cannot read {self.display}: {_first_line(exc)}") from None

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Hold the ledger's write lock: writes inside are one transaction, other writers wait.

        Reads inside still see the last committed state, which no other writer can
        change until this ends; so what is checked here is what gets written.
        """
        with self._write():
            yield

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        held: Connection | None = getattr(self._held, "conn", None)
        if held is not None:
            yield held
            return
        try:
            with self.engine.connect() as conn:
                conn.info[_WRITING] = True
                with conn.begin():
                    if conn.dialect.name == "postgresql":
                        conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{LOCK_WAIT_S}s'")
                        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_LOCK_KEY})")
                    self._held.conn = conn
                    try:
                        yield conn
                    finally:
                        self._held.conn = None
        except sa.exc.SQLAlchemyError as exc:
            raise StoreError(f"cannot write to {self.display}: {_first_line(exc)}") from None

    # -- reading ---------------------------------------------------------------

    def records(self) -> list[Record]:
        """Every recorded change set, in recording order."""
        with self._read() as conn:
            return self._records(conn)

    @staticmethod
    def _records(conn: Connection) -> list[Record]:
        rows = conn.execute(sa.select(changesets_t).order_by(changesets_t.c.seq)).all()
        return [record_from_row(row._mapping) for row in rows]

    def state(self) -> tuple[list[Record], Derived]:
        """The log and the current derivation, read together as one committed state."""
        with self._read() as conn:
            return self._records(conn), self._derived(conn, self._derivation(conn))

    def head(self) -> tuple[int, str]:
        with self._read() as conn:
            row = conn.execute(
                sa.select(changesets_t.c.seq, changesets_t.c.hash)
                .order_by(changesets_t.c.seq.desc())
                .limit(1)
            ).first()
        return (int(row.seq), str(row.hash)) if row else (0, "")

    def derived(self, derivation: int | None = None) -> Derived:
        with self._read() as conn:
            return self._derived(conn, self._derivation(conn) if derivation is None else derivation)

    @staticmethod
    def _derived(conn: Connection, derivation: int) -> Derived:
        versions = [
            Version(
                row.unit_id,
                date.fromisoformat(row.day),
                row.seq,
                row.op,
                None
                if row.state is None
                else Unit.from_state(row.unit_id, orjson.loads(row.state)),
            )
            for row in conn.execute(
                sa.select(versions_t)
                .where(versions_t.c.derivation == derivation)
                .order_by(versions_t.c.pos)
            )
        ]
        edges = [
            Edge(
                row.src,
                row.dst,
                date.fromisoformat(row.day),
                row.changeset,
                row.kind,
                row.share,
            )
            for row in conn.execute(
                sa.select(edges_t).where(edges_t.c.derivation == derivation).order_by(edges_t.c.pos)
            )
        ]
        magnitudes = {
            row.seq: row.value
            for row in conn.execute(
                sa.select(magnitudes_t).where(magnitudes_t.c.derivation == derivation)
            )
        }
        return Derived(versions, edges, magnitudes)

    def last_checkpoint(self) -> int:
        """Position of the current derivation's latest checkpoint (0 when there is none)."""
        with self._read() as conn:
            derivation = self._derivation(conn)
            found = conn.execute(
                sa.select(sa.func.max(checkpoints_t.c.pos)).where(
                    checkpoints_t.c.derivation == derivation
                )
            ).scalar()
        return int(found or 0)

    def checkpoints(self) -> list[tuple[int, dict[str, Unit]]]:
        """Every checkpoint of the current derivation, decoded."""
        with self._read() as conn:
            derivation = self._derivation(conn)
            rows = conn.execute(
                sa.select(checkpoints_t.c.pos, checkpoints_t.c.units)
                .where(checkpoints_t.c.derivation == derivation)
                .order_by(checkpoints_t.c.pos)
            ).all()
        return [(int(row.pos), _unpack(row.units)) for row in rows]

    def state_at(self, day: date) -> dict[str, Unit]:
        """The units in effect on `day`: the nearest checkpoint plus the versions after it.

        Reads only what that date needs, so a cold query does not load the history.
        """
        with self._read() as conn:
            derivation = self._derivation(conn)
            end = (
                conn.execute(
                    sa.select(sa.func.count()).where(
                        versions_t.c.derivation == derivation, versions_t.c.day <= day.isoformat()
                    )
                ).scalar()
                or 0
            )
            row = conn.execute(
                sa.select(checkpoints_t.c.pos, checkpoints_t.c.units)
                .where(checkpoints_t.c.derivation == derivation, checkpoints_t.c.pos <= end)
                .order_by(checkpoints_t.c.pos.desc())
                .limit(1)
            ).first()
            units = _unpack(row.units) if row else {}
            start = int(row.pos) if row else 0
            tail = conn.execute(
                sa.select(versions_t.c.unit_id, versions_t.c.state)
                .where(
                    versions_t.c.derivation == derivation,
                    versions_t.c.pos >= start,
                    versions_t.c.pos < end,
                )
                .order_by(versions_t.c.pos)
            )
            # Newest first: only each unit's last version counts, so decode just that one.
            seen: set[str] = set()
            for unit_id, state in reversed(tail.all()):
                if unit_id in seen:
                    continue
                seen.add(unit_id)
                if state is None:
                    units.pop(unit_id, None)
                else:
                    units[unit_id] = Unit.from_state(unit_id, orjson.loads(state))
        return units

    @staticmethod
    def _derivation(conn: Connection) -> int:
        return int(conn.execute(sa.select(sa.func.max(derivations_t.c.id))).scalar() or 0)

    def derivation(self) -> int:
        with self._read() as conn:
            return self._derivation(conn)

    # -- writing ---------------------------------------------------------------

    def next_stamp(self, records: Sequence[Record]) -> datetime:
        """Now, or just after the last recording time if the clock went back."""
        now = _now()
        if records and records[-1].recorded_at >= now:
            return records[-1].recorded_at + timedelta(microseconds=1)
        return now

    def append(
        self,
        records: Sequence[Record],
        derived: Derived,
        expected_head: int,
        rebuild: str | None = None,
        version_start: int = 0,
        edge_start: int = 0,
        checkpoints: Sequence[tuple[int, Iterable[Unit]]] = (),
    ) -> None:
        """Record change sets and their derived rows in one transaction.

        With `rebuild` (the reason), the derived rows form a new derivation;
        otherwise they extend the current one from the given positions.
        """
        with self._write() as conn:
            head = conn.execute(sa.select(sa.func.max(changesets_t.c.seq))).scalar() or 0
            if head != expected_head:
                newer = conn.execute(
                    sa.select(changesets_t.c.id)
                    .where(changesets_t.c.seq > expected_head)
                    .order_by(changesets_t.c.seq)
                ).scalars()
                raise ConflictError(
                    "the ledger changed while this change set was prepared: another writer "
                    f"recorded {', '.join(repr(i) for i in newer) or 'a correction'}; "
                    "read it again and retry"
                )
            derivation = self._derivation(conn)
            if rebuild is not None or derivation == 0:
                derivation += 1
                conn.execute(
                    derivations_t.insert().values(
                        id=derivation,
                        head_seq=records[-1].seq if records else head,
                        created_at=timestamp(_now()),
                        reason=rebuild or "first change set",
                    )
                )
            if records:
                conn.execute(changesets_t.insert(), [record_row(r) for r in records])
            if derived.versions:
                conn.execute(
                    versions_t.insert(),
                    [
                        {
                            "derivation": derivation,
                            "pos": version_start + i,
                            "unit_id": v.unit_id,
                            "day": v.day.isoformat(),
                            "seq": v.seq,
                            "op": v.op,
                            "state": None
                            if v.unit is None
                            else orjson.dumps(v.unit.state()).decode("utf-8"),
                        }
                        for i, v in enumerate(derived.versions)
                    ],
                )
            if derived.edges:
                conn.execute(
                    edges_t.insert(),
                    [
                        {
                            "derivation": derivation,
                            "pos": edge_start + i,
                            "src": e.src,
                            "dst": e.dst,
                            "day": e.date.isoformat(),
                            "changeset": e.changeset,
                            "kind": e.kind,
                            "share": e.share,
                        }
                        for i, e in enumerate(derived.edges)
                    ],
                )
            if checkpoints:
                conn.execute(
                    checkpoints_t.insert(),
                    [
                        {"derivation": derivation, "pos": pos, "units": _pack(units)}
                        for pos, units in checkpoints
                    ],
                )
            if derived.magnitudes:
                conn.execute(
                    magnitudes_t.insert(),
                    [
                        {"derivation": derivation, "seq": seq, "value": value}
                        for seq, value in derived.magnitudes.items()
                    ],
                )

    # -- metrics and scenarios -----------------------------------------------------

    def append_metrics(self, file: str, values: Sequence[MetricValue]) -> int:
        """Record one load of metric values in one transaction; returns its number."""
        with self._write() as conn:
            load = int(conn.execute(sa.select(sa.func.max(metric_loads_t.c.id))).scalar() or 0) + 1
            conn.execute(
                metric_loads_t.insert().values(
                    id=load, recorded_at=timestamp(_now()), file=file, rows=len(values)
                )
            )
            if values:
                conn.execute(metric_values_t.insert(), _value_rows(load, values))
        return load

    def metric_loads(self) -> list[MetricLoad]:
        """Every load of metric values with its values, oldest first."""
        values: dict[int, list[MetricValue]] = {}
        for value in self.metric_values():
            values.setdefault(value.load, []).append(value)
        with self._read() as conn:
            rows = conn.execute(sa.select(metric_loads_t).order_by(metric_loads_t.c.id)).all()
        return [
            MetricLoad(row.id, parse_time(row.recorded_at), row.file, tuple(values.get(row.id, ())))
            for row in rows
        ]

    def load_problems(self) -> list[str]:
        """Metric loads whose stored values are not the ones recorded (rows lost or added)."""
        counts = sa.select(metric_values_t.c.load, sa.func.count().label("n")).group_by(
            metric_values_t.c.load
        )
        with self._read() as conn:
            stored = {row.load: row.n for row in conn.execute(counts)}
            loads = conn.execute(sa.select(metric_loads_t.c.id, metric_loads_t.c.rows)).all()
        findings = [
            f"metric load {row.id}: {stored.get(row.id, 0)} value(s) stored, {row.rows} recorded"
            for row in loads
            if stored.get(row.id, 0) != row.rows
        ]
        known = {row.id for row in loads}
        findings += [
            f"metric values of load {load}, which is not recorded" for load in stored.keys() - known
        ]
        return findings

    def is_empty(self) -> bool:
        """True when nothing was ever recorded: no change sets, metrics, scenarios or tokens."""
        with self._read() as conn:
            return not any(
                conn.execute(sa.select(sa.literal(1)).select_from(table).limit(1)).first()
                for table in (changesets_t, metric_loads_t, scenario_events_t, tokens_t)
            )

    def restore(
        self,
        loads: Sequence[MetricLoad],
        scenario_events: Sequence[ScenarioEvent],
        token_events: Sequence[TokenEvent],
    ) -> None:
        """Store metric loads and events exactly as exported, numbers and times included."""
        with self._write() as conn:
            for load in loads:
                conn.execute(
                    metric_loads_t.insert().values(
                        id=load.id,
                        recorded_at=timestamp(load.recorded_at),
                        file=load.file,
                        rows=len(load.values),
                    )
                )
                if load.values:
                    conn.execute(metric_values_t.insert(), _value_rows(load.id, load.values))
            if scenario_events:
                conn.execute(
                    scenario_events_t.insert(),
                    [
                        {
                            "seq": e.seq,
                            "name": e.name,
                            "action": e.action,
                            "recorded_at": timestamp(e.recorded_at),
                            "actor": e.actor,
                            "body": e.body,
                        }
                        for e in scenario_events
                    ],
                )
            for event in token_events:
                self._insert_token_event(conn, event)

    def metric_values(self, metric: str | None = None) -> list[MetricValue]:
        """Every stored value (of one metric), oldest load first."""
        query = (
            sa.select(metric_values_t, metric_loads_t.c.recorded_at)
            .join(metric_loads_t, metric_loads_t.c.id == metric_values_t.c.load)
            .order_by(metric_values_t.c.load, metric_values_t.c.pos)
        )
        if metric is not None:
            query = query.where(metric_values_t.c.metric == metric)
        with self._read() as conn:
            rows = conn.execute(query).all()
        return [
            value_from_row(row, orjson.loads(row.sources), row.load, parse_time(row.recorded_at))
            for row in rows
        ]

    def scenario_events(self) -> list[ScenarioEvent]:
        with self._read() as conn:
            rows = conn.execute(sa.select(scenario_events_t).order_by(scenario_events_t.c.seq))
            return [
                ScenarioEvent(
                    row.seq, row.name, row.action, parse_time(row.recorded_at), row.actor, row.body
                )
                for row in rows
            ]

    def append_scenario_event(
        self, name: str, action: str, actor: str | None, body: str | None, expected_seq: int
    ) -> ScenarioEvent:
        """Record one scenario event; refuses if another writer recorded one meanwhile."""
        with self._write() as conn:
            seq = int(conn.execute(sa.select(sa.func.max(scenario_events_t.c.seq))).scalar() or 0)
            if seq != expected_seq:
                raise ConflictError(
                    "the scenarios changed while this request was prepared; read them again"
                )
            event = ScenarioEvent(seq + 1, name, action, _now(), actor, body)
            conn.execute(
                scenario_events_t.insert().values(
                    seq=event.seq,
                    name=name,
                    action=action,
                    recorded_at=timestamp(event.recorded_at),
                    actor=actor,
                    body=body,
                )
            )
        return event

    # -- access tokens -------------------------------------------------------------

    def token_events(self, after: int = 0) -> list[TokenEvent]:
        """Token events after sequence number `after`, oldest first."""
        with self._read() as conn:
            rows = conn.execute(
                sa.select(tokens_t).where(tokens_t.c.seq > after).order_by(tokens_t.c.seq)
            ).all()
        return [
            TokenEvent(
                row.seq,
                row.name,
                row.action,
                parse_time(row.recorded_at),
                row.actor,
                row.scope,
                tuple(orjson.loads(row.under)) if row.under else (),
                row.digest,
            )
            for row in rows
        ]

    def append_token_event(
        self,
        name: str,
        action: str,
        actor: str | None,
        expected_seq: int,
        *,
        scope: str | None = None,
        under: Sequence[str] = (),
        digest: str | None = None,
    ) -> TokenEvent:
        """Record one token event; refuses if another writer recorded one meanwhile."""
        with self._write() as conn:
            seq = int(conn.execute(sa.select(sa.func.max(tokens_t.c.seq))).scalar() or 0)
            if seq != expected_seq:
                raise ConflictError(
                    "the tokens changed while this request was prepared; read them again"
                )
            event = TokenEvent(seq + 1, name, action, _now(), actor, scope, tuple(under), digest)
            self._insert_token_event(conn, event)
        return event

    @staticmethod
    def _insert_token_event(conn: Connection, event: TokenEvent) -> None:
        conn.execute(
            tokens_t.insert().values(
                seq=event.seq,
                name=event.name,
                action=event.action,
                recorded_at=timestamp(event.recorded_at),
                actor=event.actor,
                scope=event.scope,
                under=orjson.dumps(list(event.under)).decode("utf-8") if event.under else None,
                digest=event.digest,
            )
        )


@dataclass(frozen=True)
class MetricLoad:
    """One stored load of metric values (possibly empty)."""

    id: int
    recorded_at: datetime
    file: str
    values: tuple[MetricValue, ...]


@dataclass(frozen=True)
class ScenarioEvent:
    """One stored step in a scenario's life: added (with its plan), approved, applied."""

    seq: int
    name: str
    action: str
    recorded_at: datetime
    actor: str | None
    body: str | None


def value_from_row(row: Any, sources: Sequence[str], load: int, recorded: datetime) -> MetricValue:
    """A metric value from its stored row (or its exported object), its sources given apart:
    stored as JSON text, exported as a list."""
    return MetricValue(
        unit=row.unit,
        metric=row.metric,
        period=Period(date.fromisoformat(row.start), date.fromisoformat(row.end)),
        value=row.value,
        currency=row.currency,
        basis=row.basis,
        sources=tuple(sources),
        row=row.row,
        load=load,
        recorded_at=recorded,
    )


def value_row(value: MetricValue) -> dict[str, Any]:
    """A metric value's own fields as stored (and exported), its sources as a list."""
    return {
        "row": value.row,
        "unit": value.unit,
        "metric": value.metric,
        "start": value.period.start.isoformat(),
        "end": value.period.end.isoformat(),
        "value": value.value,
        "currency": value.currency,
        "basis": value.basis,
        "sources": list(value.sources),
    }


def _value_rows(load: int, values: Iterable[MetricValue]) -> list[dict[str, Any]]:
    return [
        {
            "load": load,
            "pos": number,
            **value_row(v),
            "sources": orjson.dumps(list(v.sources)).decode("utf-8"),
        }
        for number, v in enumerate(values, start=1)
    ]


def parse_time(text: str) -> datetime:
    """A recording time as stored (and exported)."""
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    except ValueError:
        raise ValueError(
            f"'{text}' is not a recording time like 2026-01-31T12:00:00.000000Z"
        ) from None


def _now() -> datetime:
    return datetime.now(UTC)


def _pack(units: Iterable[Unit]) -> bytes:
    rows = [
        [u.id, u.parent, u.kind, dict(u.names), u.abbr, dict(u.attrs), *_packed_links(u)]
        for u in units
    ]
    return zlib.compress(orjson.dumps(rows), 1)


def _packed_links(unit: Unit) -> list[list[list[str]]]:
    """A seventh column only for units with links, so older checkpoints read the same."""
    return [[list(link) for link in unit.links]] if unit.links else []


def _unpack(blob: bytes) -> dict[str, Unit]:
    # Names and attrs were packed from frozen (sorted) maps: wrap them, do not sort again.
    proxy, empty, make = MappingProxyType, frozen_map(None), Unit._make
    return {
        row[0]: make(
            (
                row[0],
                row[1],
                row[2],
                proxy(row[3]) if row[3] else empty,
                row[4],
                proxy(row[5]) if row[5] else empty,
                tuple(Link(to, kind) for to, kind in row[6]) if len(row) > 6 else (),
            )
        )
        for row in orjson.loads(zlib.decompress(blob))
    }


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Transactions are begun by `_sqlite_begin`, not by the driver.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={LOCK_WAIT_S * 1000}")
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    """A writer takes SQLite's write lock at BEGIN, so its reads and writes are serial."""
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.info.pop(_WRITING, False) else "BEGIN")


def _display(db: str | os.PathLike[str]) -> str:
    """How a ledger is named in messages: a database URL without its password."""
    text = str(db)
    if "://" not in text:
        return text
    try:
        return sa.make_url(text).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return text


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0] if lines else ''}"


def record_row(record: Record) -> dict[str, Any]:
    """A change set's stored row (and its shape in an export)."""
    return {
        "seq": record.seq,
        "id": record.id,
        "effective": record.effective.isoformat(),
        "recorded_at": timestamp(record.recorded_at),
        "title": record.title,
        "supersedes": record.supersedes,
        "ops": record.ops,
        "digest": record.digest,
        "prev_hash": record.prev_hash,
        "hash": record.hash,
        "body": record.body,
    }


def record_from_row(row: Any) -> Record:
    """A change set from its stored row (or its exported object)."""
    return Record(
        seq=row["seq"],
        id=row["id"],
        effective=date.fromisoformat(row["effective"]),
        recorded_at=parse_time(row["recorded_at"]),
        title=row["title"],
        supersedes=row["supersedes"],
        ops=row["ops"],
        digest=row["digest"],
        prev_hash=row["prev_hash"],
        hash=row["hash"],
        body=row["body"],
    )
