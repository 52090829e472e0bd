"""What changed between two states of the structure."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from .changeset import ChangeSet
from .model import Json, Scalar, Snapshot, Unit
from .ops import AddLink, Create, Dissolve, Move, NewUnit, Op, Rename, Set, Unlink

Getter = Callable[[str], Unit | None]


@dataclass(frozen=True)
class Diff:
    """Units added, removed, moved, renamed and otherwise changed, each sorted by id."""

    start: date
    end: date
    changesets: tuple[str, ...] = ()
    added: tuple[Unit, ...] = ()
    removed: tuple[Unit, ...] = ()
    moved: tuple[tuple[str, str | None, str | None], ...] = ()
    renamed: tuple[tuple[str, dict[str, str], dict[str, str]], ...] = ()
    changed: tuple[tuple[str, str, Json, Json], ...] = ()
    units: dict[str, tuple[Unit | None, Unit | None]] = field(default_factory=dict, repr=False)
    """Before and after of every unit listed, for renderers that show names."""

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.moved or self.renamed or self.changed)

    def to_json(self) -> dict[str, Json]:
        return {
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "changesets": list(self.changesets),
            "added": [_listed(u) for u in self.added],
            "removed": [_listed(u) for u in self.removed],
            "moved": [{"id": i, "from": a, "to": b} for i, a, b in self.moved],
            "renamed": [{"id": i, "from": a, "to": b} for i, a, b in self.renamed],
            "changed": [{"id": i, "field": f, "from": a, "to": b} for i, f, a, b in self.changed],
        }

    def to_pandas(self, effects: Mapping[str, Diff] | None = None) -> Any:
        """A pandas DataFrame, one row per change, with the columns of `export diff
        --format csv` (needs pandas: `pip install 'orgledger[pandas]'`).

        `changesets` names the change set that made each change when the diff spans
        one; for more, give `effects`, each change set's own diff (see `exports.changes`).
        """
        from . import exports

        return exports.frame(exports.change_table(exports.changes(self, effects)))

    def _repr_html_(self) -> str:
        """A compact table of the changes for notebooks (its first rows only)."""
        from .exports import diff_html

        return diff_html(self)


def _listed(unit: Unit) -> dict[str, Json]:
    """An added or removed unit: where it is, and enough to show it without another lookup."""
    return {
        "id": unit.id,
        "parent": unit.parent,
        "kind": unit.kind,
        "names": dict(unit.names),
        "abbr": unit.abbr,
    }


def compare(
    ids: Iterable[str],
    before: Getter,
    after: Getter,
    start: date,
    end: date,
    changesets: Iterable[str] = (),
) -> Diff:
    """The diff over `ids` between the states `before` and `after` give."""
    added: list[Unit] = []
    removed: list[Unit] = []
    moved: list[tuple[str, str | None, str | None]] = []
    renamed: list[tuple[str, dict[str, str], dict[str, str]]] = []
    changed: list[tuple[str, str, Json, Json]] = []
    units: dict[str, tuple[Unit | None, Unit | None]] = {}
    for unit_id in sorted(set(ids)):
        old, new = before(unit_id), after(unit_id)
        if old is None and new is None:
            continue
        if old is None and new is not None:
            added.append(new)
        elif new is None and old is not None:
            removed.append(old)
        elif old is not None and new is not None:
            if old.parent != new.parent:
                moved.append((unit_id, old.parent, new.parent))
            if old.names != new.names:
                renamed.append((unit_id, dict(old.names), dict(new.names)))
            if (
                old.kind != new.kind
                or old.abbr != new.abbr
                or old.attrs is not new.attrs
                or old.links != new.links
            ):
                changed += _fields(old, new)
            if old == new:
                continue
        units[unit_id] = (old, new)
    return Diff(
        start,
        end,
        tuple(changesets),
        tuple(added),
        tuple(removed),
        tuple(moved),
        tuple(renamed),
        tuple(changed),
        units,
    )


def _fields(old: Unit, new: Unit) -> list[tuple[str, str, Json, Json]]:
    found: list[tuple[str, str, Json, Json]] = []
    if old.kind != new.kind:
        found.append((old.id, "kind", old.kind, new.kind))
    if old.abbr != new.abbr:
        found.append((old.id, "abbr", old.abbr, new.abbr))
    for key in sorted(set(old.attrs) | set(new.attrs)):
        a, b = old.attrs.get(key), new.attrs.get(key)
        if a != b or type(a) is not type(b):
            found.append((old.id, f"attrs.{key}", a, b))
    if old.links != new.links:
        found.append(
            (
                old.id,
                "links",
                [link.to_json() for link in old.links],
                [link.to_json() for link in new.links],
            )
        )
    return found


def plan_between(
    before: Snapshot, after: Snapshot, changeset_id: str, effective: date
) -> ChangeSet:
    """A change set that turns the structure `before` into `after`.

    Creates come first (parents before children), then moves (ordered so that no
    step makes a cycle; a unit is parked as a root when a swap needs it), then
    renames and attribute changes, then links ended and added, then removals as
    dissolutions, deepest first (which also ends the links to what they remove).
    """
    old, new = before.units, after.units
    ops: list[Op] = []
    added = [uid for uid in new if uid not in old]
    depth = {uid: len(after.path(uid)) for uid in added}
    for uid in sorted(added, key=lambda u: (depth[u], u)):
        unit = new[uid]
        ops.append(
            Create(
                unit=NewUnit(
                    id=uid,
                    parent=unit.parent,
                    kind=unit.kind,
                    names=dict(unit.names),
                    abbr=unit.abbr,
                    attrs=dict(unit.attrs),
                )
            )
        )
    parents: dict[str, str | None] = {uid: u.parent for uid, u in old.items()}
    parents.update({uid: new[uid].parent for uid in added})
    pending = sorted(uid for uid in old if uid in new and old[uid].parent != new[uid].parent)
    while pending:
        ready = [uid for uid in pending if not _under(parents, new[uid].parent, uid)]
        if not ready:
            parked = pending[0]
            ops.append(Move(targets=(parked,), to=None, listed=False))
            parents[parked] = None
            continue
        for uid in ready:
            if not _under(parents, new[uid].parent, uid):
                ops.append(Move(targets=(uid,), to=new[uid].parent, listed=False))
                parents[uid] = new[uid].parent
                pending.remove(uid)
    for uid in sorted(u for u in old if u in new and old[u] != new[u]):
        ops += _edits(old[uid], new[uid])
    for uid in sorted(new):
        had = old[uid].links if uid in old else ()
        ops += [
            Unlink(target=uid, to=k.to, type=k.type)
            for k in had
            if k not in new[uid].links and k.to in new
        ]
        ops += [AddLink(target=uid, to=k.to, type=k.type) for k in new[uid].links if k not in had]
    removed = [uid for uid in old if uid not in new]
    for uid in sorted(removed, key=lambda u: (-len(before.path(u)), u)):
        ops.append(Dissolve(target=uid))
    return ChangeSet(
        id=changeset_id,
        effective=effective,
        ops=tuple(ops),
        title=f"from {before.at.isoformat()} to {after.at.isoformat()}",
    )


def _under(parents: dict[str, str | None], start: str | None, ancestor: str) -> bool:
    current = start
    while current is not None:
        if current == ancestor:
            return True
        current = parents.get(current)
    return False


def _edits(old: Unit, new: Unit) -> list[Op]:
    ops: list[Op] = []
    names: dict[str, str | None] = {k: v for k, v in new.names.items() if old.names.get(k) != v}
    names.update({k: None for k in old.names if k not in new.names})
    if names or old.abbr != new.abbr:
        ops.append(Rename(target=new.id, names=names, abbr=new.abbr, set_abbr=old.abbr != new.abbr))
    attrs: dict[str, Scalar | None] = {
        k: v
        for k, v in new.attrs.items()
        if k not in old.attrs or old.attrs[k] != v or type(old.attrs[k]) is not type(v)
    }
    attrs.update({k: None for k in old.attrs if k not in new.attrs})
    if attrs or old.kind != new.kind:
        ops.append(
            Set(target=new.id, new_kind=new.kind if new.kind != old.kind else None, attrs=attrs)
        )
    return ops
