"""The seven operations of the plan language, one small class each.

Every operation has `validate(forest)`, which returns the problems it would
cause on the forest as it stands (an empty list when it is valid), and
`apply(forest)`, which changes the forest; `apply` is only called on a valid
operation. Paths in problems are relative to the operation's mapping in the plan.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import ClassVar

from .errors import Problem
from .forest import Forest
from .model import Json, Link, Scalar, Unit, frozen_map, sorted_links

Path = tuple[str | int, ...]
SHARE_TOLERANCE = 1e-9


@dataclass(frozen=True, kw_only=True)
class Op(ABC):
    """Fields every operation may carry besides its own."""

    notes: str | None = None
    source: tuple[str, ...] = ()
    basis: str | None = None

    kind: ClassVar[str]

    @abstractmethod
    def validate(self, forest: Forest) -> list[Problem]: ...

    @abstractmethod
    def apply(self, forest: Forest) -> None: ...

    @abstractmethod
    def _body(self) -> dict[str, Json]: ...

    def content(self) -> dict[str, Json]:
        """The operation as a plan mapping (its first key names it)."""
        body = self._body()
        for key, value in (("notes", self.notes), ("basis", self.basis)):
            if value is not None:
                body[key] = value
        if self.source:
            body["source"] = list(self.source)
        return body


def _sorted(values: Mapping[str, Json]) -> dict[str, Json]:
    return {key: values[key] for key in sorted(values)}


@dataclass(frozen=True, kw_only=True)
class NewUnit:
    """The description of a unit to create (in `create`, `merge ... into` and `split`)."""

    id: str
    parent: str | None
    kind: str
    names: Mapping[str, str]
    abbr: str | None = None
    attrs: Mapping[str, Scalar] = field(default_factory=dict)

    def validate(self, forest: Forest, path: Path, forbidden: Iterable[str] = ()) -> list[Problem]:
        """Problems creating it now; its parent must not lie inside a `forbidden` unit."""
        problems = [p for p in (forest.need_new(self.id, path),) if p]
        if self.parent is not None:
            missing = forest.need_active(self.parent, (*path[:-1], "parent"))
            if missing:
                problems.append(missing)
            else:
                for ending in forbidden:
                    if forest.active(ending) and forest.inside(self.parent, ending):
                        problems.append(
                            Problem(
                                "cycle",
                                f"parent '{self.parent}' of new unit '{self.id}' is inside "
                                f"'{ending}', which ends in this operation",
                                path=(*path[:-1], "parent"),
                            )
                        )
        return problems

    def build(self) -> Unit:
        return Unit(
            self.id,
            self.parent,
            self.kind,
            frozen_map(self.names),
            self.abbr,
            frozen_map(self.attrs),
        )

    def content(self) -> dict[str, Json]:
        body: dict[str, Json] = {
            "create": self.id,
            "parent": self.parent,
            "kind": self.kind,
            "names": _sorted(self.names),
        }
        if self.abbr is not None:
            body["abbr"] = self.abbr
        if self.attrs:
            body["attrs"] = _sorted(self.attrs)
        return body


@dataclass(frozen=True, kw_only=True)
class Create(Op):
    kind: ClassVar[str] = "create"
    unit: NewUnit

    def validate(self, forest: Forest) -> list[Problem]:
        return self.unit.validate(forest, ("create",))

    def apply(self, forest: Forest) -> None:
        forest.put(self.unit.build())

    def _body(self) -> dict[str, Json]:
        return self.unit.content()


@dataclass(frozen=True, kw_only=True)
class Rename(Op):
    kind: ClassVar[str] = "rename"
    target: str
    names: Mapping[str, str | None] = field(default_factory=dict)
    abbr: str | None = None
    set_abbr: bool = False
    """True when the plan gives `abbr` (a null then removes it)."""

    def _merged(self, unit: Unit) -> dict[str, str]:
        names = dict(unit.names)
        for lang, name in self.names.items():
            if name is None:
                names.pop(lang, None)
            else:
                names[lang] = name
        return names

    def validate(self, forest: Forest) -> list[Problem]:
        missing = forest.need_active(self.target, ("rename",))
        if missing:
            return [missing]
        if not self._merged(forest[self.target]):
            return [
                Problem(
                    "no-names",
                    f"unit '{self.target}' would be left without a name",
                    path=("names",),
                )
            ]
        return []

    def apply(self, forest: Forest) -> None:
        unit = forest[self.target]
        abbr = self.abbr if self.set_abbr else unit.abbr
        forest.put(unit.replace(names=self._merged(unit), abbr=abbr))

    def _body(self) -> dict[str, Json]:
        body: dict[str, Json] = {"rename": self.target}
        if self.names:
            body["names"] = _sorted(self.names)
        if self.set_abbr:
            body["abbr"] = self.abbr
        return body


@dataclass(frozen=True, kw_only=True)
class Set(Op):
    kind: ClassVar[str] = "set"
    target: str
    new_kind: str | None = None
    attrs: Mapping[str, Scalar | None] = field(default_factory=dict)

    def validate(self, forest: Forest) -> list[Problem]:
        missing = forest.need_active(self.target, ("set",))
        return [missing] if missing else []

    def apply(self, forest: Forest) -> None:
        unit = forest[self.target]
        attrs = dict(unit.attrs)
        for key, value in self.attrs.items():
            if value is None:
                attrs.pop(key, None)
            else:
                attrs[key] = value
        forest.put(unit.replace(kind=self.new_kind or unit.kind, attrs=attrs))

    def _body(self) -> dict[str, Json]:
        body: dict[str, Json] = {"set": self.target}
        if self.new_kind is not None:
            body["kind"] = self.new_kind
        if self.attrs:
            body["attrs"] = _sorted(self.attrs)
        return body


def _cycle(forest: Forest, unit_id: str, parent: str, path: Path) -> Problem | None:
    if forest.inside(parent, unit_id):
        where = "itself" if parent == unit_id else f"'{parent}', which is inside it,"
        return Problem("cycle", f"moving '{unit_id}' under {where} would make a cycle", path=path)
    return None


@dataclass(frozen=True, kw_only=True)
class Move(Op):
    kind: ClassVar[str] = "move"
    targets: tuple[str, ...]
    to: str | None
    listed: bool = True
    """True when the plan gave a list (kept so the plan reads back as written)."""

    def validate(self, forest: Forest) -> list[Problem]:
        problems: list[Problem] = []
        parent_ok = True
        if self.to is not None:
            missing = forest.need_active(self.to, ("to",))
            if missing:
                problems.append(missing)
                parent_ok = False
        seen: set[str] = set()
        for index, unit_id in enumerate(self.targets):
            path: Path = ("move", index) if self.listed else ("move",)
            if unit_id in seen:
                problems.append(
                    Problem("duplicate", f"unit '{unit_id}' is listed twice", path=path)
                )
                continue
            seen.add(unit_id)
            missing = forest.need_active(unit_id, path)
            if missing:
                problems.append(missing)
            elif parent_ok and self.to is not None:
                cycle = _cycle(forest, unit_id, self.to, path)
                if cycle:
                    problems.append(cycle)
        return problems

    def apply(self, forest: Forest) -> None:
        for unit_id in self.targets:
            forest.move(unit_id, self.to)

    def _body(self) -> dict[str, Json]:
        what: Json = list(self.targets) if self.listed else self.targets[0]
        return {"move": what, "to": self.to}


def _target_problems(
    forest: Forest, target: str, path: Path, ending: str, verb: str
) -> list[Problem]:
    """Problems with sending the content of `ending` to an existing `target`."""
    missing = forest.need_active(target, path)
    if missing:
        return [missing]
    if target == ending:
        return [Problem("self-target", f"cannot {verb} '{ending}' into itself", path=path)]
    if forest.inside(target, ending):
        return [
            Problem(
                "cycle", f"cannot {verb} '{ending}' into '{target}', which is inside it", path=path
            )
        ]
    return []


@dataclass(frozen=True, kw_only=True)
class Merge(Op):
    kind: ClassVar[str] = "merge"
    sources: tuple[str, ...]
    into: str | None = None
    new: NewUnit | None = None

    @property
    def target(self) -> str:
        return self.new.id if self.new else str(self.into)

    def validate(self, forest: Forest) -> list[Problem]:
        problems: list[Problem] = []
        into_ok = self.into is not None and not forest.need_active(self.into, ("into",))
        if self.new is None and not into_ok:
            problems.append(
                forest.need_active(str(self.into), ("into",))
                or Problem("missing-key", "merge needs 'into'", path=("into",))
            )
        seen: set[str] = set()
        for index, unit_id in enumerate(self.sources):
            path: Path = ("merge", index)
            if unit_id in seen:
                problems.append(
                    Problem("duplicate", f"unit '{unit_id}' is listed twice", path=path)
                )
                continue
            seen.add(unit_id)
            missing = forest.need_active(unit_id, path)
            if missing:
                problems.append(missing)
            elif into_ok:
                problems += _target_problems(forest, str(self.into), ("into",), unit_id, "merge")
        if self.new is not None:
            active = [s for s in self.sources if forest.active(s)]
            problems += self.new.validate(forest, ("into", "create"), forbidden=active)
        return problems

    def apply(self, forest: Forest) -> None:
        if self.new is not None:
            forest.put(self.new.build())
        target = self.target
        for source in self.sources:
            for child in sorted(forest.children(source)):
                forest.move(child, target)
            forest.end(source, {target: 1.0}, "merge")

    def _body(self) -> dict[str, Json]:
        into: Json = self.new.content() if self.new else self.into
        return {"merge": list(self.sources), "into": into}


@dataclass(frozen=True, kw_only=True)
class SplitPart:
    """One item of a split: a target (existing or new), its children, its share."""

    to: str | None = None
    new: NewUnit | None = None
    children: tuple[str, ...] = ()
    share: float | None = None

    @property
    def target(self) -> str:
        return self.new.id if self.new else str(self.to)

    def content(self) -> dict[str, Json]:
        body: dict[str, Json] = self.new.content() if self.new else {"to": self.to}
        if self.children:
            body["children"] = list(self.children)
        if self.share is not None:
            body["share"] = self.share
        return body


def proportional_shares(
    given: Mapping[str, float | None], weights: Mapping[str, float]
) -> dict[str, float]:
    """Shares for every target: given ones kept, the rest of 1 shared by weight (else equally)."""
    shares = {t: s for t, s in given.items() if s is not None}
    open_targets = [t for t, s in given.items() if s is None]
    if open_targets:
        remainder = max(0.0, 1.0 - sum(shares.values()))
        total = sum(weights.get(t, 0.0) for t in open_targets)
        for target in open_targets:
            if total > 0:
                shares[target] = remainder * weights.get(target, 0.0) / total
            else:
                shares[target] = remainder / len(open_targets)
    return shares


@dataclass(frozen=True, kw_only=True)
class Split(Op):
    kind: ClassVar[str] = "split"
    target: str
    parts: tuple[SplitPart, ...]
    rest_to: str | None = None

    def _targets(self) -> list[str]:
        targets = [p.target for p in self.parts]
        if self.rest_to is not None and self.rest_to not in targets:
            targets.append(self.rest_to)
        return targets

    def validate(self, forest: Forest) -> list[Problem]:
        missing = forest.need_active(self.target, ("split",))
        if missing:
            return [missing]
        problems: list[Problem] = []
        kids = forest.children(self.target)
        assigned: set[str] = set()
        targets: set[str] = set()
        for index, part in enumerate(self.parts):
            base: Path = ("into", index)
            if part.target in targets:
                problems.append(
                    Problem(
                        "duplicate",
                        f"target '{part.target}' is listed twice",
                        path=(*base, "create" if part.new else "to"),
                    )
                )
            targets.add(part.target)
            if part.new is not None:
                problems += part.new.validate(forest, (*base, "create"), forbidden=[self.target])
            else:
                problems += _target_problems(
                    forest, str(part.to), (*base, "to"), self.target, "split"
                )
            for k, child in enumerate(part.children):
                path: Path = (*base, "children", k)
                if child not in kids:
                    problems.append(
                        Problem(
                            "not-a-child", f"'{child}' is not a child of '{self.target}'", path=path
                        )
                    )
                elif child in assigned:
                    problems.append(
                        Problem("duplicate", f"child '{child}' is assigned twice", path=path)
                    )
                assigned.add(child)
            if part.share is not None and not 0.0 <= part.share <= 1.0:
                problems.append(
                    Problem(
                        "share-range", f"share {part.share} is not in [0, 1]", path=(*base, "share")
                    )
                )
        if self.rest_to is not None:
            if self.rest_to not in targets:
                problems += _target_problems(
                    forest, self.rest_to, ("rest_to",), self.target, "split"
                )
        else:
            unassigned = sorted(kids - assigned)
            if unassigned:
                listing = ", ".join(f"'{c}'" for c in unassigned)
                problems.append(
                    Problem(
                        "unassigned-child",
                        f"children of '{self.target}' not assigned to any target: {listing} "
                        "(assign them or give rest_to)",
                        path=("split",),
                    )
                )
        given = [p.share for p in self.parts if p.share is not None]
        open_share = len(given) < len(self._targets())
        total = sum(given)
        if total > 1.0 + SHARE_TOLERANCE or (not open_share and abs(total - 1.0) > SHARE_TOLERANCE):
            problems.append(Problem("share-sum", f"shares sum to {total:g}, not 1", path=("into",)))
        return problems

    def apply(self, forest: Forest) -> None:
        receivers: dict[str, list[str]] = {}
        for part in self.parts:
            if part.new is not None:
                forest.put(part.new.build())
            receivers.setdefault(part.target, []).extend(part.children)
        named = {c for p in self.parts for c in p.children}
        if self.rest_to is not None:
            rest = sorted(forest.children(self.target) - named)
            receivers.setdefault(self.rest_to, []).extend(rest)
        weights = {t: sum(forest[c].weight for c in kids) for t, kids in receivers.items()}
        given: dict[str, float | None] = dict.fromkeys(self._targets())
        for part in self.parts:
            if part.share is not None:
                given[part.target] = part.share
        shares = proportional_shares(given, weights)
        for target, kids in receivers.items():
            for child in kids:
                forest.move(child, target)
        forest.end(self.target, shares, "split")

    def _body(self) -> dict[str, Json]:
        body: dict[str, Json] = {"split": self.target, "into": [p.content() for p in self.parts]}
        if self.rest_to is not None:
            body["rest_to"] = self.rest_to
        return body


@dataclass(frozen=True, kw_only=True)
class Dissolve(Op):
    kind: ClassVar[str] = "dissolve"
    target: str
    children_to: str | None = None

    def validate(self, forest: Forest) -> list[Problem]:
        missing = forest.need_active(self.target, ("dissolve",))
        if missing:
            return [missing]
        if self.children_to is not None:
            return _target_problems(
                forest, self.children_to, ("children_to",), self.target, "dissolve"
            )
        unit = forest[self.target]
        if unit.parent is None and forest.children(self.target):
            return [
                Problem(
                    "root-children",
                    f"'{self.target}' is a root with children: say where they go with children_to",
                    path=("dissolve",),
                )
            ]
        return []

    def apply(self, forest: Forest) -> None:
        heir = self.children_to or forest[self.target].parent
        received: dict[str, float] = {}
        for departure in forest.departures(self.target):
            for dst, share in departure.receivers.items():
                received[dst] = received.get(dst, 0.0) + departure.weight * share
        for child in sorted(forest.children(self.target)):
            assert heir is not None
            received[heir] = received.get(heir, 0.0) + forest[child].weight
            forest.move(child, heir)
        received.pop(self.target, None)
        shares = proportional_shares(dict.fromkeys(received), received)
        forest.end(self.target, shares, "dissolve")

    def _body(self) -> dict[str, Json]:
        body: dict[str, Json] = {"dissolve": self.target}
        if self.children_to is not None:
            body["children_to"] = self.children_to
        return body


DOTTED_LINE = "dotted-line"


@dataclass(frozen=True, kw_only=True)
class AddLink(Op):
    """`link: UNIT` with `to` and `type`: a secondary relation that leaves the tree alone."""

    kind: ClassVar[str] = "link"
    target: str
    to: str
    type: str = DOTTED_LINE

    def validate(self, forest: Forest) -> list[Problem]:
        checks = (forest.need_active(self.target, ("link",)), forest.need_active(self.to, ("to",)))
        problems = [p for p in checks if p]
        if problems:
            return problems
        if self.target == self.to:
            return [Problem("self-link", f"'{self.target}' cannot link to itself", path=("to",))]
        if Link(self.to, self.type) in forest[self.target].links:
            return [
                Problem(
                    "exists",
                    f"'{self.target}' already has a {self.type} link to '{self.to}'",
                    path=("to",),
                )
            ]
        return []

    def apply(self, forest: Forest) -> None:
        unit = forest[self.target]
        forest.put(unit.replace(links=sorted_links([*unit.links, (self.to, self.type)])))

    def _body(self) -> dict[str, Json]:
        return {"link": self.target, "to": self.to, "type": self.type}


@dataclass(frozen=True, kw_only=True)
class Unlink(Op):
    """`unlink: UNIT` with `to` (and `type`, else every type): end links."""

    kind: ClassVar[str] = "unlink"
    target: str
    to: str
    type: str | None = None

    def _ending(self, unit: Unit) -> list[Link]:
        return [k for k in unit.links if k.to == self.to and self.type in (None, k.type)]

    def validate(self, forest: Forest) -> list[Problem]:
        missing = forest.need_active(self.target, ("unlink",))
        if missing:
            return [missing]
        if not self._ending(forest[self.target]):
            what = f"{self.type} link" if self.type else "link"
            return [
                Problem("no-link", f"'{self.target}' has no {what} to '{self.to}'", path=("to",))
            ]
        return []

    def apply(self, forest: Forest) -> None:
        unit = forest[self.target]
        ending = self._ending(unit)
        forest.put(unit.replace(links=tuple(k for k in unit.links if k not in ending)))

    def _body(self) -> dict[str, Json]:
        body: dict[str, Json] = {"unlink": self.target, "to": self.to}
        if self.type is not None:
            body["type"] = self.type
        return body


OPERATIONS: dict[str, type[Op]] = {
    cls.kind: cls for cls in (Create, Rename, Set, Move, Merge, Split, Dissolve, AddLink, Unlink)
}
