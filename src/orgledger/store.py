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

DEFAULT_DB = "orgledger.db"
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
metric_values_by_metric = sa.Index("metric_values_by_metric", metric_values_t.c.metric)
versions_by_day = sa.Index("versions_by_day", versions_t.c.derivation, versions_t.c.day)


def _append_only(conn: Connection, *tables: sa.Table) -> None:
    if conn.dialect.name == "sqlite":
        for table in tables:
            for action in ("UPDATE", "DELETE"):
                conn.exec_driver_sql(
                    f"CREATE TRIGGER {table.name}_no_{action.lower()} BEFORE {action} "
                    f"ON {table.name} BEGIN SELECT RAISE(ABORT, "
                    "'orgledger tables are append-only'); END"
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


MIGRATIONS: list[Callable[[Connection], None]] = [_v1, _v2, _v3]
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

    @classmethod
    def open(cls, db: str | os.PathLike[str] | None = None, *, create: bool = False) -> Store:
        url = resolve_url(db)
        display = str(db) if db is not None else os.environ.get("ORGLEDGER_DB") or DEFAULT_DB
        path = _sqlite_path(url)
        if path is not None and not create and not path.exists():
            raise LedgerMissingError(f"no ledger at {display} (create one with `orgledger init`)")
        try:
            engine = sa.create_engine(url)
        except (sa.exc.ArgumentError, ImportError) as exc:
            raise StoreError(f"cannot open {display}: {exc}") from None
        if engine.dialect.name == "sqlite":
            sa.event.listen(engine, "connect", _sqlite_pragmas)
        store = cls(engine, display)
        try:
            with engine.begin() as conn:
                version = store._version(conn)
                if not version and sa.inspect(conn).get_table_names():
                    raise StoreError(f"{display} is a database, but not an orgledger ledger")
                if create and version:
                    raise LedgerExistsError(f"a ledger already exists at {display}")
                if not create and not version:
                    raise LedgerMissingError(
                        f"no ledger at {display} (create one with `orgledger init`)"
                    )
                if version > len(MIGRATIONS):
                    raise StoreError(
                        f"{display} was written by a newer orgledger "
                        f"(schema {version}, this one knows {len(MIGRATIONS)})"
                    )
                for number in range(version + 1, len(MIGRATIONS) + 1):
                    MIGRATIONS[number - 1](conn)
                    conn.execute(
                        migrations_t.insert().values(version=number, applied_at=timestamp(_now()))
                    )
        except sa.exc.SQLAlchemyError as exc:
            engine.dispose()
            raise StoreError(
                f"cannot open {display}: {exc.__class__.__name__}: {str(exc).splitlines()[0]}"
            ) from None
        except OrgLedgerError:
            engine.dispose()
            raise
        return store

    def close(self) -> None:
        self.engine.dispose()

    @staticmethod
    def _version(conn: Connection) -> int:
        if not sa.inspect(conn).has_table("schema_migrations"):
            return 0
        return int(conn.execute(sa.select(sa.func.max(migrations_t.c.version))).scalar() or 0)

    def schema_version(self) -> int:
        with self.engine.connect() as conn:
            return self._version(conn)

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        try:
            with self.engine.begin() as conn:
                yield conn
        except sa.exc.SQLAlchemyError as exc:
            raise StoreError(
                f"cannot write to {self.display}: {str(exc).splitlines()[0]}"
            ) from None

    # -- reading ---------------------------------------------------------------

    def records(self) -> list[Record]:
        """Every recorded change set, in recording order."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(changesets_t).order_by(changesets_t.c.seq)).all()
        return [_record(row._mapping) for row in rows]

    def head(self) -> tuple[int, str]:
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(changesets_t.c.seq, changesets_t.c.hash)
                .order_by(changesets_t.c.seq.desc())
                .limit(1)
            ).first()
        return (int(row.seq), str(row.hash)) if row else (0, "")

    def derived(self, derivation: int | None = None) -> Derived:
        with self.engine.connect() as conn:
            if derivation is None:
                derivation = self._derivation(conn)
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
                    sa.select(edges_t)
                    .where(edges_t.c.derivation == derivation)
                    .order_by(edges_t.c.pos)
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
        with self.engine.connect() as conn:
            derivation = self._derivation(conn)
            found = conn.execute(
                sa.select(sa.func.max(checkpoints_t.c.pos)).where(
                    checkpoints_t.c.derivation == derivation
                )
            ).scalar()
        return int(found or 0)

    def checkpoints(self) -> list[tuple[int, dict[str, Unit]]]:
        """Every checkpoint of the current derivation, decoded."""
        with self.engine.connect() as conn:
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
        with self.engine.connect() as conn:
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
        with self.engine.connect() as conn:
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
                raise ConflictError(
                    f"the ledger changed while this request was prepared: {head - expected_head} "
                    "change set(s) were recorded by another writer; read it again and retry"
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
                conn.execute(changesets_t.insert(), [_row(r) for r in records])
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
                conn.execute(
                    metric_values_t.insert(),
                    [
                        {
                            "load": load,
                            "pos": number,
                            "row": v.row,
                            "unit": v.unit,
                            "metric": v.metric,
                            "start": v.period.start.isoformat(),
                            "end": v.period.end.isoformat(),
                            "value": v.value,
                            "currency": v.currency,
                            "basis": v.basis,
                            "sources": orjson.dumps(list(v.sources)).decode("utf-8"),
                        }
                        for number, v in enumerate(values, start=1)
                    ],
                )
        return load

    def metric_values(self, metric: str | None = None) -> list[MetricValue]:
        """Every stored value (of one metric), oldest load first."""
        query = (
            sa.select(metric_values_t, metric_loads_t.c.recorded_at)
            .join(metric_loads_t, metric_loads_t.c.id == metric_values_t.c.load)
            .order_by(metric_values_t.c.load, metric_values_t.c.pos)
        )
        if metric is not None:
            query = query.where(metric_values_t.c.metric == metric)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [
            MetricValue(
                unit=row.unit,
                metric=row.metric,
                period=Period(date.fromisoformat(row.start), date.fromisoformat(row.end)),
                value=row.value,
                currency=row.currency,
                basis=row.basis,
                sources=tuple(orjson.loads(row.sources)),
                row=row.row,
                load=row.load,
                recorded_at=_parse_time(row.recorded_at),
            )
            for row in rows
        ]

    def scenario_events(self) -> list[ScenarioEvent]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(scenario_events_t).order_by(scenario_events_t.c.seq))
            return [
                ScenarioEvent(
                    row.seq, row.name, row.action, _parse_time(row.recorded_at), row.actor, row.body
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


@dataclass(frozen=True)
class ScenarioEvent:
    """One stored step in a scenario's life: added (with its plan), approved, applied."""

    seq: int
    name: str
    action: str
    recorded_at: datetime
    actor: str | None
    body: str | None


def _parse_time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


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


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _row(record: Record) -> dict[str, Any]:
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


def _record(row: Any) -> Record:
    return Record(
        seq=row["seq"],
        id=row["id"],
        effective=date.fromisoformat(row["effective"]),
        recorded_at=_parse_time(row["recorded_at"]),
        title=row["title"],
        supersedes=row["supersedes"],
        ops=row["ops"],
        digest=row["digest"],
        prev_hash=row["prev_hash"],
        hash=row["hash"],
        body=row["body"],
    )
