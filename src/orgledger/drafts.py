"""A draft plan and its evidence: the units, operations, kept units and unread sentences
that reading an announcement gives, and the plan YAML with comments they make."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import yaml

from .lookup import normal
from .mentions import Mention, is_chinese, kind_of
from .phrases import Words
from .sentences import Sentence

QUOTE_LIMIT = 400


@dataclass
class NewUnit:
    """A unit the text introduces, gathered from every sentence that names it."""

    id: str
    names: dict[str, str]
    abbr: str | None
    parent: Ref | None
    line: int
    origin: Operation | None = None  # the create it came from, if a create row found it
    named: bool = True  # False while its id comes from its kind only (a Chinese name)
    given: bool = False  # whether the text says where it sits (else its parent is inferred)

    def matches(self, mention: Mention) -> bool:
        """Whether a mention names this unit: a name or the abbreviation, or a name that ends
        with one of its names (a headline's "English-language International Channel",
        霁川台融媒体中心 for 融媒体中心)."""
        mine = {normal(t) for t in (*self.names.values(), self.abbr) if t}
        theirs = {normal(t) for t in mention.terms}
        if mine & theirs:
            return True
        return any(
            a.endswith(" " + b) or (is_chinese(b) and len(b) >= 3 and a.endswith(b))
            for x in theirs
            for y in mine
            for a, b in ((x, y), (y, x))
        )

    def absorb(self, mention: Mention) -> None:
        """Add what a mention says of this unit. A mention with its names in brackets is
        the fuller one: its names win over a headline's."""
        full = len(mention.names) > 1 or mention.abbr is not None
        for lang, name in mention.names.items():
            ours = self.names.get(lang)
            shorter = ours is not None and normal(ours).endswith(normal(name)) and ours != name
            if full or ours is None or shorter:  # 霁川台融媒体中心 is 融媒体中心
                self.names[lang] = name
        self.abbr = self.abbr or mention.abbr


@dataclass(frozen=True)
class Ref:
    """A unit an operation names: one of the ledger, a new one, or one it could not settle."""

    id: str
    note: str
    score: float = 100.0
    new: NewUnit | None = None
    problem: str | None = None
    proposed: Mention | None = None  # a new unit not yet registered (while lists are weighed)
    said: str = ""  # the words of the sentence it was read from
    unknown: Mention | None = None  # a name that matched no unit (yet: a later create may)
    whole_name: bool = False  # the words are exactly a unit's name (not its abbreviation)


@dataclass
class Operation:
    """One drafted operation, with where it came from and how sure it is."""

    kind: str
    sentence: Sentence
    phrase: str
    strength: float  # the row's confidence; `confidence` weighs in the matches
    units: list[Ref] = field(default_factory=list)
    target: Ref | None = None
    targets: list[Ref] = field(default_factory=list)
    rename: Mention | None = None
    also: list[int] = field(default_factory=list)
    children: dict[str, list[str]] = field(default_factory=dict)  # split target -> children

    @property
    def refs(self) -> list[Ref]:
        out = [*self.units, *self.targets]
        return [*out, self.target] if self.target is not None else out

    @property
    def confidence(self) -> float:
        scores = [0.0 if r.problem else r.score for r in self.refs]
        return round(self.strength * min([*scores, 100.0]) / 100, 2)

    @property
    def problems(self) -> list[str]:
        return [r.problem for r in self.refs if r.problem]

    def key(self) -> tuple[Any, ...]:
        names = tuple(sorted(self.rename.names.items())) if self.rename else ()
        return (
            self.kind,
            tuple(sorted(r.id for r in self.units)),
            self.target.id if self.target else None,
            tuple(sorted(r.id for r in self.targets)),
            names,
            self.rename.abbr if self.rename else None,
        )


@dataclass(frozen=True)
class Kept:
    """A unit the text names as staying: recognised, no operation."""

    unit: str
    note: str
    sentence: Sentence
    why: str


@dataclass(frozen=True)
class Unread:
    """A sentence that reads like a change but gave no operation, and why."""

    sentence: Sentence
    why: str


def _quote(text: str) -> str:
    return text if len(text) <= QUOTE_LIMIT else text[: QUOTE_LIMIT - 1] + "…"


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", normal(text).replace("&", " and ")).strip("-")[:48].strip("-")


@dataclass(frozen=True)
class Draft:
    """A proposed change set, with the evidence for each operation."""

    id: str
    title: str
    effective: date | None
    effective_from: str
    source: str | None
    root: str | None
    operations: tuple[Operation, ...]
    creators: Mapping[str, int]  # new unit id -> index of the operation that creates it
    new_units: tuple[NewUnit, ...]
    kept: tuple[Kept, ...]
    unread: tuple[Unread, ...]
    children: Mapping[str, tuple[str, ...]]
    words: Words

    def _unit(self, unit: NewUnit, *, parent: bool = True) -> dict[str, Any]:
        body: dict[str, Any] = {"create": unit.id}
        if parent:
            body["parent"] = unit.parent.id if unit.parent is not None else self.root
        body["kind"] = kind_of(unit.names.values(), self.words)
        body["names"] = dict(unit.names)
        if unit.abbr:
            body["abbr"] = unit.abbr
        return body

    def body(self, index: int) -> dict[str, Any]:
        """The plan operation of operations[index], without its notes."""
        op = self.operations[index]

        def ref(r: Ref, *, inline: bool = False) -> Any:
            if r.new is not None and self.creators.get(r.new.id) == index and inline:
                return self._unit(r.new)
            return r.id

        if op.kind == "create":
            assert op.target is not None and op.target.new is not None
            return self._unit(op.target.new)
        if op.kind == "merge":
            assert op.target is not None
            return {"merge": [r.id for r in op.units], "into": ref(op.target, inline=True)}
        if op.kind == "split":
            items = []
            for r in op.targets:
                if r.new is not None and self.creators.get(r.new.id) == index:
                    item = self._unit(r.new)
                else:
                    item = {"to": r.id}
                if op.children.get(r.id):
                    item["children"] = op.children[r.id]
                items.append(item)
            return {"split": op.units[0].id, "into": items}
        if op.kind == "move":
            assert op.target is not None
            return {"move": op.units[0].id, "to": op.target.id}
        if op.kind == "rename":
            assert op.rename is not None
            body: dict[str, Any] = {"rename": op.units[0].id}
            if op.rename.names:
                body["names"] = dict(op.rename.names)
            if op.rename.abbr:
                body["abbr"] = op.rename.abbr
            return body
        return {"dissolve": op.units[0].id}

    def notes(self, index: int) -> str:
        op = self.operations[index]
        where = f"line {op.sentence.line}" + "".join(f", {n}" for n in op.also)
        matches = "; ".join(r.note for r in op.refs if r.note)
        text = f'{where}, {op.phrase}, confidence {op.confidence:.2f}: "{_quote(op.sentence.text)}"'
        return f"{text}; {matches}" if matches else text

    def plan(self) -> dict[str, Any]:
        """The draft as a plan document (what `to_yaml` writes, without the comments)."""
        doc: dict[str, Any] = {"id": self.id, "title": self.title}
        doc["effective"] = self.effective.isoformat() if self.effective else NO_DATE
        if self.source:
            doc["source"] = self.source
        doc["ops"] = [
            {**self.body(i), "notes": _Folded(self.notes(i))} for i in range(len(self.operations))
        ]
        return doc

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for op in self.operations:
            out[op.kind] = out.get(op.kind, 0) + 1
        return out

    def to_yaml(self) -> str:
        """The draft as plan YAML, with comments that say what was recognised and what was not."""

        def dump(value: Any) -> str:
            return yaml.dump(value, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100)

        lines = [
            "# Drafted by orgledger extract: review every operation, then check with",
            "# `orgledger plan` and record with `orgledger apply`.",
            f"# effective: {self.effective_from}",
        ]
        for kept in self.kept:
            lines.append(
                f"# recognised, no change: {kept.note} ({kept.why}, line {kept.sentence.line})"
            )
        doc = self.plan()
        ops = doc.pop("ops")
        lines.append(dump(doc).rstrip())
        if self.effective is None:
            lines[-1] = lines[-1].replace(
                f"effective: {NO_DATE}",
                f"effective: {NO_DATE}  # the text gives no date: use --effective",
            )
        lines.append("ops:" if ops else "ops: []  # no operation was found")
        for index, op in enumerate(ops):
            for problem in self.operations[index].problems:
                lines.append(f"  # CHECK: {problem}")
            lines.extend(self._split_hint(index))
            block = dump([op]).rstrip().splitlines()
            lines.extend("  " + line for line in block)
        if self.unread:
            lines.append("")
            lines.append("# Sentences that read like changes but gave no operation:")
            for unread in self.unread:
                quoted = _quote(unread.sentence.text)
                lines.append(f'# line {unread.sentence.line} ({unread.why}): "{quoted}"')
        return "\n".join(lines) + "\n"

    def _split_hint(self, index: int) -> list[str]:
        op = self.operations[index]
        if op.kind != "split" or op.units[0].new is not None:
            return []
        kids = self.children.get(op.units[0].id, ())
        if not kids:
            return []
        return [
            f"  # CHECK: the text does not say where the children of {op.units[0].id} go: "
            f"{', '.join(kids)}; give each item its `children` (or add rest_to)"
        ]


NO_DATE = "not-in-the-text"


class _Folded(str):
    """Notes, written as a folded block: no quoting of the quotes they hold."""


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(
    _Folded, lambda dumper, text: dumper.represent_scalar("tag:yaml.org,2002:str", text, style=">")
)
