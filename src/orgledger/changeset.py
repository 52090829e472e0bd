"""Change sets (reorganizations) as values, and the record the ledger keeps of each."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cached_property

from .errors import Problem
from .model import Json
from .ops import Op


@dataclass(frozen=True)
class Origin:
    """Where a change set was read from, to put file and line on its problems."""

    file: str
    lines: Mapping[tuple[str | int, ...], int] = field(default_factory=dict)

    def line(self, path: tuple[str | int, ...]) -> int:
        """The line of the deepest known node on `path` (1 when nothing is known)."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(path[:end])
            if line is not None:
                return line
        return 1


@dataclass(frozen=True)
class ChangeSet:
    """A reorganization: ordered operations that take effect on one date."""

    id: str
    effective: date
    ops: tuple[Op, ...]
    title: str = ""
    source: tuple[str, ...] = ()
    notes: str | None = None
    supersedes: str | None = None
    origin: Origin | None = field(default=None, compare=False, repr=False)

    def content(self) -> dict[str, Json]:
        """The change set as a plan document, in canonical form."""
        body: dict[str, Json] = {
            "id": self.id,
            "title": self.title,
            "effective": self.effective.isoformat(),
        }
        if self.source:
            body["source"] = list(self.source)
        if self.notes is not None:
            body["notes"] = self.notes
        if self.supersedes is not None:
            body["supersedes"] = self.supersedes
        body["ops"] = [op.content() for op in self.ops]
        return body

    def digest(self) -> str:
        """SHA-256 of the canonical JSON content."""
        return sha256(canonical_json(self.content()))

    def locate(self, problem: Problem) -> Problem:
        """The problem with its operation kind, file and line filled in."""
        kind = problem.op_kind
        if problem.op is not None and kind is None and 0 < problem.op <= len(self.ops):
            kind = self.ops[problem.op - 1].kind
        path = problem.path if problem.op is None else ("ops", problem.op - 1, *problem.path)
        origin = self.origin
        line = origin.line(path) if origin else None
        return Problem(
            problem.code,
            problem.message,
            problem.op,
            kind,
            problem.path,
            origin.file if origin else f"changeset {self.id}",
            line,
        )


@dataclass(frozen=True, eq=False)
class Record:
    """A change set as the ledger recorded it: sequence number, time and hash chain.

    The operations are parsed from `body` only when something needs them.
    """

    seq: int
    id: str
    effective: date
    recorded_at: datetime
    title: str
    supersedes: str | None
    ops: int
    digest: str
    prev_hash: str
    hash: str
    body: str

    @classmethod
    def new(cls, changeset: ChangeSet, seq: int, recorded_at: datetime, prev_hash: str) -> Record:
        body = canonical_json(changeset.content())
        digest = sha256(body)
        record = cls(
            seq,
            changeset.id,
            changeset.effective,
            recorded_at,
            changeset.title,
            changeset.supersedes,
            len(changeset.ops),
            digest,
            prev_hash,
            chain_hash(prev_hash, seq, timestamp(recorded_at), digest),
            body,
        )
        record.__dict__["changeset"] = changeset
        return record

    @cached_property
    def op_kinds(self) -> tuple[str, ...]:
        """The kind of each operation, read without validating the whole body."""
        return tuple(next(iter(op)) for op in json.loads(self.body)["ops"])

    @cached_property
    def changeset(self) -> ChangeSet:
        from .plan import from_mapping

        return from_mapping(json.loads(self.body), Origin(f"changeset {self.id}"))


def timestamp(moment: datetime) -> str:
    """UTC time as stored and shown: `2026-11-26T15:04:05.123456Z`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_json(value: Json) -> str:
    """Compact JSON; key order is kept, because an operation's first key names it."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def chain_hash(prev_hash: str, seq: int, recorded_at: str, digest: str) -> str:
    """The hash that links a record to the one before it."""
    return sha256(f"{prev_hash}\n{seq}\n{recorded_at}\n{digest}")
