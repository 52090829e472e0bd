"""What changed between two states of the structure."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date

from .model import Json, Unit

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
            "added": [{"id": u.id, "parent": u.parent} for u in self.added],
            "removed": [{"id": u.id, "parent": u.parent} for u in self.removed],
            "moved": [{"id": i, "from": a, "to": b} for i, a, b in self.moved],
            "renamed": [{"id": i, "from": a, "to": b} for i, a, b in self.renamed],
            "changed": [{"id": i, "field": f, "from": a, "to": b} for i, f, a, b in self.changed],
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
            if dict(old.names) != dict(new.names):
                renamed.append((unit_id, dict(old.names), dict(new.names)))
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
    return found
