"""A whole ledger as one JSON document: what `orgledger export` writes and `import` reads.

The document holds what was recorded, never what is derived from it: change sets
with their recording times and hash chain, metric loads, scenario events and
access-token events (their digests; secrets are never stored). Importing it into
an empty ledger re-derives the rest, and gives the same head hash.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, ValidationError

from .changeset import Record, chain_hash, sha256, timestamp
from .errors import ArchiveError
from .model import Json
from .store import (
    MetricLoad,
    ScenarioEvent,
    parse_time,
    record_from_row,
    record_row,
    value_from_row,
    value_row,
)
from .tokens import TokenEvent

FORMAT = "orgledger-ledger"
VERSION = 1


@dataclass(frozen=True)
class Archive:
    """Everything a ledger recorded, in recording order."""

    records: tuple[Record, ...]
    loads: tuple[MetricLoad, ...]
    scenario_events: tuple[ScenarioEvent, ...]
    token_events: tuple[TokenEvent, ...]

    @property
    def head(self) -> tuple[int, str]:
        return (self.records[-1].seq, self.records[-1].hash) if self.records else (0, "")

    def to_json(self, version: str) -> dict[str, Json]:
        seq, head = self.head
        return {
            "format": FORMAT,
            "version": VERSION,
            "orgledger": version,
            "head": {"seq": seq, "hash": head},
            "changesets": [record_row(r) for r in self.records],
            "metric_loads": [
                {
                    "id": load.id,
                    "recorded_at": timestamp(load.recorded_at),
                    "file": load.file,
                    "values": [value_row(v) for v in load.values],
                }
                for load in self.loads
            ],
            "scenario_events": [
                {
                    "seq": e.seq,
                    "name": e.name,
                    "action": e.action,
                    "recorded_at": timestamp(e.recorded_at),
                    "actor": e.actor,
                    "body": e.body,
                }
                for e in self.scenario_events
            ],
            "token_events": [
                {
                    "seq": e.seq,
                    "name": e.name,
                    "action": e.action,
                    "recorded_at": timestamp(e.recorded_at),
                    "actor": e.actor,
                    "scope": e.scope,
                    "under": list(e.under),
                    "digest": e.digest,
                }
                for e in self.token_events
            ],
        }


# -- reading -----------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class _Head(_Strict):
    seq: int
    hash: str


class _ChangeSet(_Strict):
    seq: int
    id: str
    effective: str
    recorded_at: str
    title: str
    supersedes: str | None
    ops: int
    digest: str
    prev_hash: str
    hash: str
    body: str


class _Value(_Strict):
    row: int
    unit: str
    metric: str
    start: str
    end: str
    value: float
    currency: str | None
    basis: str
    sources: list[str]


class _Load(_Strict):
    id: int
    recorded_at: str
    file: str
    values: list[_Value]


class _ScenarioEvent(_Strict):
    seq: int
    name: str
    action: str
    recorded_at: str
    actor: str | None
    body: str | None


class _TokenEvent(_Strict):
    seq: int
    name: str
    action: str
    recorded_at: str
    actor: str | None
    scope: str | None
    under: list[str]
    digest: str | None


class _Document(_Strict):
    format: str
    version: int
    orgledger: str
    head: _Head
    changesets: list[_ChangeSet]
    metric_loads: list[_Load]
    scenario_events: list[_ScenarioEvent]
    token_events: list[_TokenEvent]


def read_archive(data: bytes, name: str) -> Archive:
    """Parse and check an export: its shape, its hash chain and its head.

    Raises ArchiveError naming the file and the first place that is wrong.
    """
    try:
        raw: Any = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise ArchiveError(f"{name}: not JSON ({exc})") from None
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise ArchiveError(f'{name}: not an orgledger export (no "format": "{FORMAT}")')
    if raw.get("version") != VERSION:
        raise ArchiveError(
            f"{name}: export version {raw.get('version')!r}; this orgledger reads {VERSION}"
        )
    try:
        doc = _Document.model_validate(raw)
        archive = Archive(
            tuple(record_from_row(c.model_dump()) for c in doc.changesets),
            tuple(_load(load) for load in doc.metric_loads),
            tuple(
                ScenarioEvent(e.seq, e.name, e.action, parse_time(e.recorded_at), e.actor, e.body)
                for e in doc.scenario_events
            ),
            tuple(
                TokenEvent(
                    e.seq,
                    e.name,
                    e.action,
                    parse_time(e.recorded_at),
                    e.actor,
                    e.scope,
                    tuple(e.under),
                    e.digest,
                )
                for e in doc.token_events
            ),
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ArchiveError(f"{name}: {where}: {first['msg']}") from None
    except ValueError as exc:
        raise ArchiveError(f"{name}: {exc}") from None
    problems = chain_problems(archive.records)
    if problems:
        raise ArchiveError(f"{name}: {problems[0]}")
    if archive.head != (doc.head.seq, doc.head.hash):
        raise ArchiveError(f"{name}: the change sets do not end at the head the file names")
    _check_numbering(name, "metric_loads", [load.id for load in archive.loads])
    _check_numbering(name, "scenario_events", [e.seq for e in archive.scenario_events])
    _check_numbering(name, "token_events", [e.seq for e in archive.token_events])
    return archive


def chain_problems(records: Sequence[Record]) -> list[str]:
    """What is wrong with the hash chain of `records` (nothing, when it is intact)."""
    findings: list[str] = []
    prev = ""
    for number, record in enumerate(records, start=1):
        label = f"change set {record.seq} ('{record.id}')"
        if record.seq != number:
            findings.append(f"{label}: sequence number {record.seq}, expected {number}")
        if sha256(record.body) != record.digest:
            findings.append(f"{label}: content does not match its digest")
        if record.prev_hash != prev:
            findings.append(f"{label}: does not link to the change set before it")
        if (
            chain_hash(record.prev_hash, record.seq, timestamp(record.recorded_at), record.digest)
            != record.hash
        ):
            findings.append(f"{label}: hash does not match its content and time")
        prev = record.hash
    return findings


def _check_numbering(name: str, section: str, numbers: list[int]) -> None:
    if numbers != list(range(1, len(numbers) + 1)):
        raise ArchiveError(f"{name}: {section} are not numbered 1, 2, 3, ... in order")


def _load(load: _Load) -> MetricLoad:
    recorded = parse_time(load.recorded_at)
    return MetricLoad(
        load.id,
        recorded,
        load.file,
        tuple(value_from_row(v, v.sources, load.id, recorded) for v in load.values),
    )
