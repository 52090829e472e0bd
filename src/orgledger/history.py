"""Every change that touched a unit: its own versions, its children coming and going,
and lineage into and out of it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from ._columns import NEVER
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
    """The unit's events in the order they took effect.

    Reads only the unit's own versions, the versions that put a unit under it
    (and each such child's next version), and its lineage edges.
    """
    columns, versions = timeline.columns, timeline.versions
    records = {r.seq: r for r in timeline.records}
    found: list[tuple[int, Event]] = []

    def event(position: int, action: str, **detail: Json) -> None:
        v = versions[position]
        record = records[v.seq]
        kinds = record.op_kinds
        kind = kinds[v.op - 1] if 0 < v.op <= len(kinds) else ""
        found.append((position, Event(v.day, record.id, v.op, kind, action, detail)))

    number = columns.index.get(unit_id)
    if number is None:
        return History(unit_id, ())
    own = columns.history[number]
    for index, position in enumerate(own):
        new = versions[position].unit
        old = versions[own[index - 1]].unit if index else None
        if old is None and new is not None:
            event(position, "created", parent=new.parent, kind=new.kind, names=dict(new.names))
        elif new is None:
            out = timeline.lineage.outgoing.get(unit_id, [])
            successors: list[Json] = [{"to": e.dst, "share": round(e.share, 12)} for e in out]
            event(position, "ended", how=out[0].kind if out else "dissolve", successors=successors)
        elif old is not None:
            day = versions[position].day
            diff = compare([unit_id], {unit_id: old}.get, {unit_id: new}.get, day, day)
            for _, a, b in diff.moved:
                event(position, "moved", **{"from": a, "to": b})
            for _, a_names, b_names in diff.renamed:
                event(position, "renamed", **{"from": a_names, "to": b_names})
            for _, name, a, b in diff.changed:
                if name != "links":
                    event(position, "changed", field=name, **{"from": a, "to": b})
            for link in old.links:
                if link not in new.links:
                    event(position, "unlinked", to=link.to, type=link.type)
            for link in new.links:
                if link not in old.links:
                    event(position, "linked", to=link.to, type=link.type)

    for position in columns.under[number]:
        child = versions[position].unit_id
        before = columns.latest(child, position)
        old_unit = versions[before].unit if before is not None else None
        old_parent = old_unit.parent if old_unit is not None else None
        if old_parent != unit_id:
            event(position, "gained-child", child=child, **{"from": old_parent})
        following = int(columns.next[position])
        if following != NEVER:
            moved = versions[following].unit
            if moved is not None and moved.parent != unit_id:
                event(following, "lost-child", child=child, to=moved.parent)

    for edge in timeline.lineage.incoming.get(unit_id, []):
        ended = columns.history[columns.index[edge.src]][-1]
        event(ended, "received", **{"from": edge.src}, how=edge.kind, share=round(edge.share, 12))
    found.sort(key=lambda item: item[0])
    return History(unit_id, tuple(e for _, e in found))
