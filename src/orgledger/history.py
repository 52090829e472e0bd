"""Every change that touched a unit: its own versions, its children coming and going,
and lineage into and out of it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from .diff import compare
from .model import Json
from .timeline import Timeline


@dataclass(frozen=True)
class Event:
    """One thing that happened to a unit, in one operation of one change set."""

    date: date
    changeset: str
    op: int
    op_kind: str
    action: str
    detail: Mapping[str, Json]

    def to_json(self) -> dict[str, Json]:
        return {
            "date": self.date.isoformat(),
            "changeset": self.changeset,
            "op": self.op,
            "op_kind": self.op_kind,
            "action": self.action,
            **self.detail,
        }


@dataclass(frozen=True)
class History:
    unit: str
    events: tuple[Event, ...]

    def to_json(self) -> dict[str, Json]:
        return {"unit": self.unit, "events": [e.to_json() for e in self.events]}


def history(timeline: Timeline, unit_id: str) -> History:
    """The unit's events in the order they took effect."""
    ids = {r.seq: r.id for r in timeline.records}
    kinds = {r.seq: r.op_kinds for r in timeline.records}
    found: list[tuple[int, Event]] = []

    def event(position: int, action: str, **detail: Json) -> None:
        v = timeline.versions[position]
        kind = kinds[v.seq][v.op - 1] if 0 < v.op <= len(kinds[v.seq]) else ""
        found.append((position, Event(v.day, ids[v.seq], v.op, kind, action, detail)))

    for position in timeline.unit_positions(unit_id):
        new = timeline.versions[position].unit
        old = timeline.state(unit_id, position)
        if old is None and new is not None:
            event(position, "created", parent=new.parent, kind=new.kind, names=dict(new.names))
            continue
        if new is None:
            successors = [
                {"to": e.dst, "share": round(e.share, 12)}
                for e in timeline.edges
                if e.src == unit_id
            ]
            kind = next((e.kind for e in timeline.edges if e.src == unit_id), "dissolve")
            event(position, "ended", how=kind, successors=successors)
            continue
        day = timeline.versions[position].day
        diff = compare([unit_id], {unit_id: old}.get, {unit_id: new}.get, day, day)
        for _, a, b in diff.moved:
            event(position, "moved", **{"from": a, "to": b})
        for _, a_names, b_names in diff.renamed:
            event(position, "renamed", **{"from": a_names, "to": b_names})
        for _, name, a, b in diff.changed:
            event(position, "changed", field=name, **{"from": a, "to": b})

    for position, version in enumerate(timeline.versions):
        if version.unit_id == unit_id:
            continue
        new_parent = version.unit.parent if version.unit else None
        old = timeline.state(version.unit_id, position)
        old_parent = old.parent if old else None
        if new_parent == old_parent:
            continue
        if new_parent == unit_id:
            event(position, "gained-child", child=version.unit_id, **{"from": old_parent})
        elif old_parent == unit_id and version.unit is not None:
            event(position, "lost-child", child=version.unit_id, to=new_parent)

    ended_at = {v.unit_id: p for p, v in enumerate(timeline.versions) if v.unit is None}
    for edge in timeline.edges:
        if edge.dst == unit_id and edge.src in ended_at:
            event(
                ended_at[edge.src],
                "received",
                **{"from": edge.src},
                how=edge.kind,
                share=round(edge.share, 12),
            )
    found.sort(key=lambda item: item[0])
    return History(unit_id, tuple(e for _, e in found))
