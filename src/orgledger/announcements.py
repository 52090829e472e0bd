"""From an announcement to a draft plan: sentences, phrases, names, then operations.

`extract` reads the text sentence by sentence, tries the rows of the phrase table
(phrases.yaml) on each, matches the names the rows capture against the units of
the ledger on the effective date (mentions.py), and drafts the operations in the
plan language, each with the sentence it came from, the row, the matches and a
confidence. What it cannot settle it does not guess: an ambiguous name or an
unknown unit is written so that `orgledger plan` fails on that line, and
sentences that look like changes but gave none are listed at the end.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

import yaml

from .lookup import normal
from .mentions import (
    Matcher,
    Mention,
    Resolved,
    core,
    is_chinese,
    kind_of,
    looks_like_unit,
    read_mention,
    split_list,
)
from .model import SLUG, Unit
from .phrases import Hit, Phrases, Words
from .sentences import Dated, Sentence, effective_date, sentences

ORDER = ("create", "merge", "split", "move", "rename", "dissolve")
QUOTE_LIMIT = 400

UnitsOn = Callable[[date | None], Mapping[str, Unit]]


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
        mine = {normal(t) for t in (*self.names.values(), self.abbr) if t}
        return any(normal(t) in mine for t in mention.terms)

    def absorb(self, mention: Mention) -> None:
        for lang, name in mention.names.items():
            self.names.setdefault(lang, name)
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


def _slug(text: str) -> str:
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
        doc["effective"] = self.effective.isoformat() if self.effective else _NO_DATE
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
                f"effective: {_NO_DATE}",
                f"effective: {_NO_DATE}  # the text gives no date: use --effective",
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


_NO_DATE = "not-in-the-text"


class _Folded(str):
    """Notes, written as a folded block: no quoting of the quotes they hold."""


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(
    _Folded, lambda dumper, text: dumper.represent_scalar("tag:yaml.org,2002:str", text, style=">")
)


class Extraction:
    """The drafting of one announcement: state that grows sentence by sentence."""

    def __init__(
        self,
        units: Mapping[str, Unit],
        phrases: Phrases,
        *,
        root: str | None,
        taken: Iterable[str] = (),
    ) -> None:
        self.phrases = phrases
        self.words = phrases.words
        self.units = dict(units)
        self.root = root
        self.matcher = Matcher(self.units, self.words)
        self.taken = set(taken) | set(units)
        self.new_units: list[NewUnit] = []
        self.operations: list[Operation] = []
        self.kept: list[Kept] = []
        self.unread: list[Unread] = []
        self._start = 0  # where the hit being read really starts

    # ---- names ----

    def _new_of(self, mention: Mention) -> NewUnit | None:
        return next((n for n in self.new_units if n.matches(mention)), None)

    def _fresh_id(self, mention: Mention) -> str:
        base = ""
        for text in (mention.abbr, mention.names.get("en"), *mention.names.values()):
            if text and (base := _slug(text)):
                break
        base = base or kind_of(mention.names.values(), self.words)
        candidate, n = base, 2
        while candidate in self.taken or not SLUG.fullmatch(candidate):
            candidate = f"{base}-{n}"
            n += 1
        self.taken.add(candidate)
        return candidate

    def _register(self, mention: Mention, parent: Ref | None, line: int) -> NewUnit:
        en = mention.names.get("en", "")
        last = en.split()[-1] if len(en.split()) > 1 else ""
        if last.islower() and last in self.words.unit.get("en", ()):
            # "a Branch Operations team": the name is Branch Operations (a team).
            names = {**mention.names, "en": en.rsplit(maxsplit=1)[0]}
            mention = Mention(mention.text, names, mention.abbr, mention.new, mention.others)
        known = self._new_of(mention)
        if known is not None:
            known.absorb(mention)
            if not known.named and known.abbr:
                known.id = self._fresh_id(mention)
                known.named = True
            if known.parent is None and parent is not None:
                known.parent = parent
            return known
        zh = mention.names.get("zh", "")
        holder = self._holder(zh)
        if holder is not None:
            # 办公室综合科: the 综合科 of 办公室.
            mention = replace(mention, names={**mention.names, "zh": zh[len(holder[1]) :]})
            parent = parent or Ref(holder[0], "")
        named = bool(mention.abbr or mention.names.get("en"))
        unit = NewUnit(
            self._fresh_id(mention), dict(mention.names), mention.abbr, parent, line, named=named
        )
        if not unit.names:
            unit.names["en"] = mention.abbr or mention.text
        self.new_units.append(unit)
        return unit

    def _holder(self, name: str) -> tuple[str, str] | None:
        """The unit whose Chinese name a new unit's name begins with, and that name."""
        best: tuple[str, str] | None = None
        for uid, unit in self.units.items():
            prefix = unit.names.get("zh", "")
            fits = len(prefix) >= 2 and name.startswith(prefix) and len(name) - len(prefix) >= 2
            if fits and (best is None or len(prefix) > len(best[1])):
                best = (uid, prefix)
        return best

    def _new_ref(self, unit: NewUnit, mention: Mention) -> Ref:
        return Ref(unit.id, f"'{mention.label}' is new ({unit.id})", 100.0, unit)

    def _existing(self, resolved: Resolved) -> Ref:
        whole = resolved.how == "name" and resolved.score >= 100
        if resolved.unit is not None:
            return Ref(resolved.unit, resolved.describe(), resolved.score, whole_name=whole)
        if resolved.rivals:
            options = " or ".join(c.unit for c in resolved.rivals)
            return Ref(
                f"ambiguous: {options}",
                "",
                resolved.score,
                problem=resolved.describe(),
                whole_name=whole,
            )
        return Ref(
            f"unknown: {resolved.mention.text}",
            "",
            0.0,
            problem=f"{resolved.describe()} on this date; if it is new, add a create",
            unknown=resolved.mention,
        )

    def _generic(self, mention: Mention) -> bool:
        """Whether a name is only generic words ("the new group", 新事业群)."""
        for name in mention.names.values():
            if is_chinese(name):
                if name not in self.words.unit.get("zh", ()):
                    return False
            elif core(name, self.words):
                return False
        return not mention.abbr

    def ref(self, text: str, *, subject: bool = False, may_be_new: str = "") -> Ref | None:
        found, piece = self._ref(text, subject=subject, may_be_new=may_be_new)
        return replace(found, said=piece) if found is not None else None

    def _verbish(self, text: str) -> bool:
        lowered = text.lower()
        return any(w in lowered for w in self.words.structural.get("en", ()))

    def _ref(self, text: str, *, subject: bool, may_be_new: str) -> tuple[Ref | None, str]:
        """The unit a name stands for; None when the name does not read like a unit.

        may_be_new: "said" when a name the text calls new ("a newly formed X") is a new
        unit, "unknown" when any name that matches no unit is, "fresh" when any name
        that is not exactly a unit's is (a split's targets).
        """
        mention = read_mention(text, self.words)
        if mention.empty:
            return None, text
        known = self._new_of(mention)
        if known is not None:
            return self._new_ref(known, mention), text
        if mention.new and self.new_units and self._generic(mention):
            return self._new_ref(self.new_units[-1], mention), text
        renamed = self._renamed(mention)
        if renamed is not None:
            return renamed, text
        piece = text
        if subject:
            resolved, piece = self.matcher.resolve_trimmed(text)
            if not (resolved.unit or resolved.rivals):
                piece = _after_article(text)
            before = text[: len(text) - len(piece)]
            if self._verbish(before) or _PREPOSITION.search(before):
                # The words before the name say something else ("setting up X within").
                return None, text
            mention = read_mention(piece, self.words)
        else:
            resolved = self.matcher.resolve(mention)
        named = resolved.unit is not None or bool(resolved.rivals)
        if may_be_new == "fresh" and resolved.score < 90:
            # A split's targets are new unless a unit has that very name.
            named = False
        if named and not (mention.new and may_be_new and resolved.score < 100):
            return self._existing(resolved), piece
        titled = may_be_new in ("unknown", "fresh") and _titled(piece)
        if not (looks_like_unit(mention, self.words) or titled) or self._generic(mention):
            return None, piece
        if not _proper(mention):
            return None, piece  # "enforcement corps": a description, not a unit's name
        if may_be_new in ("unknown", "fresh") or (may_be_new == "said" and mention.new):
            return Ref("", f"'{mention.label}' is new", 100.0, proposed=mention), piece
        return self._existing(resolved), piece

    def _renamed(self, mention: Mention) -> Ref | None:
        """A unit the draft renames, named by its new name."""
        wanted = {normal(t) for t in mention.terms}
        for op in self.operations:
            if (
                op.kind == "rename"
                and op.rename is not None
                and wanted & {normal(t) for t in op.rename.terms}
            ):
                unit = op.units[0]
                return Ref(unit.id, f"'{mention.label}' -> {unit.id} (its new name)", 100.0)
        return None

    def settled(self, ref: Ref, parent: Ref | None = None, line: int = 0) -> Ref:
        """A proposed new unit registered (or found among those registered)."""
        if ref.proposed is None:
            return ref
        unit = self._register(ref.proposed, parent, line)
        return replace(self._new_ref(unit, ref.proposed), said=ref.said)

    def refs(self, text: str, *, subject: bool = False, may_be_new: str = "") -> list[Ref]:
        """The units of a list, reading "A and B" as one unit where one unit has that name.

        Every way of cutting the list is weighed: a unit found is worth more than two
        halves of its name ("Marine and Cargo unit" is one unit, not Marine and an
        unknown "Cargo unit"), and no cut goes through a run that is exactly a unit's
        name ("Cards and Payments").
        """
        items = _named(split_list(text))
        n = len(items)
        found: dict[tuple[int, int], Ref | None] = {}
        exact: list[tuple[int, int]] = []
        for end in range(1, n + 1):
            for start in range(end):
                joined = items[start][1] + "".join(s + p for s, p in items[start + 1 : end])
                ref = self.ref(joined, subject=subject and start == 0, may_be_new=may_be_new)
                found[start, end] = ref
                if (
                    end - start > 1
                    and ref is not None
                    and ref.whole_name
                    and ref.said.strip() == joined.strip()
                ):
                    exact.append((start, end))

        def cuts_through(start: int, end: int) -> bool:
            return any(a < start < b or a < end < b for a, b in exact)

        best: list[tuple[float, list[Ref]] | None] = [(0.0, [])] + [None] * n
        for end in range(1, n + 1):
            options: list[tuple[float, list[Ref]]] = []
            for start in range(end):
                before = best[start]
                if before is None or cuts_through(start, end):
                    continue
                ref = found[start, end]
                if ref is None:
                    value = 0.0
                elif ref.unknown is not None or (ref.problem and ref.score < 100):
                    value = -0.1
                else:
                    value = 0.7 + ref.score / 100
                options.append((before[0] + value, [*before[1], *([ref] if ref else [])]))
            best[end] = max(options, key=lambda o: o[0]) if options else None
        chosen = best[n]
        return [self.settled(r) for r in chosen[1]] if chosen else []

    def news(self, text: str) -> list[Mention]:
        """New units in a list: split only where both sides read as units or a bracket closes."""
        items = _named(split_list(text))
        bracketed = any(re.search(r"[)\]）】]$", part) for _, part in items)
        groups: list[str] = []
        for sep, part in items:
            if not groups:
                groups.append(part)
                continue
            prev = groups[-1]
            if sep.strip() in {",", "、", ";", "，"} or prev.endswith((")", "）", "]", "】")):
                splits = True
            elif bracketed:
                splits = False
            else:
                splits = looks_like_unit(read_mention(prev, self.words), self.words) and (
                    looks_like_unit(read_mention(part, self.words), self.words)
                )
            if splits:
                groups.append(part)
            else:
                groups[-1] = prev + sep + part
        out = []
        for group in groups:
            mention = read_mention(self._tail_trimmed(group), self.words)
            if not mention.empty and looks_like_unit(mention, self.words):
                out.append(mention)
        return out

    def _tail_trimmed(self, text: str) -> str:
        """A new English name without lower-case words after its last unit word ("Lab for AI")."""
        if is_chinese(text) or re.search(r"[)\]）】]\s*$", text):
            return text
        words = text.split()
        generic = {w.lower() for w in self.words.unit.get("en", ())}
        last = max((i for i, w in enumerate(words) if w.lower().strip(",") in generic), default=-1)
        if last < 0:
            return text
        tail = words[last + 1 :]
        if tail and all(w[:1].islower() for w in tail):
            return " ".join(words[: last + 1])
        return text

    def parent_of(self, hit: Hit) -> Ref | None:
        for slot in ("within", "parent"):
            if slot in hit.slots:
                found = self.ref(hit.slots[slot], subject=slot == "parent")
                if found is not None and not found.problem:
                    return found
        return None

    # ---- sentences ----

    def read(self, sentence: Sentence) -> None:
        hedged = self._hedge(sentence)
        if hedged is not None:
            if self._structural(sentence):
                self.unread.append(Unread(sentence, f"hedged: '{hedged}'"))
            return
        reasons: list[str] = []
        plain = _plain(sentence)

        def accept(hit: Hit) -> int | None:
            self._start = hit.start
            result = self._apply(hit, sentence, plain)
            if isinstance(result, str):
                reasons.append(result)
                return None
            return self._start if result else None

        hits = self.phrases.hits(plain, sentence.lang, accept)
        if not hits and self._structural(sentence):
            why = reasons[0] if reasons else "no phrase of the table matches"
            self.unread.append(Unread(sentence, why))
        if self.root is not None and any(w in sentence.text.lower() for w in self._tops(sentence)):
            # "... will report directly to the CEO", 作为集团一级: the new units are top-level.
            for unit in self.new_units:
                if not unit.given:
                    unit.parent = Ref(self.root, "")

    def _tops(self, sentence: Sentence) -> tuple[str, ...]:
        return self.words.top.get(sentence.lang, ())

    def _hedge(self, sentence: Sentence) -> str | None:
        """The hedge a sentence holds ("is expected to", 或将); case counts ("May" is a month)."""
        for word in self.words.hedges.get(sentence.lang, ()):
            if sentence.lang == "zh":
                if word in sentence.text:
                    return word
            elif re.search(rf"\b{re.escape(word)}\b", sentence.text):
                return word
        return None

    def _structural(self, sentence: Sentence) -> bool:
        text = sentence.text.lower()
        return any(w in text for w in self.words.structural.get(sentence.lang, ()))

    def _negated(self, hit: Hit, lang: str, plain: str) -> bool:
        """Whether a hit is denied: "not"/不 before its verb, or "no unit ..." as its subject."""
        if hit.negated:
            return True
        clause = max(plain.rfind(mark, 0, hit.start) for mark in ",;:，；：")
        text = plain[clause + 1 : hit.end]
        if lang == "zh":
            return bool(_ZH_DENIED.search(text))
        return bool(_EN_DENIED.search(text))

    def _apply(self, hit: Hit, sentence: Sentence, plain: str) -> bool | str:
        """Draft what a hit says; False (or why not) when its names are not units."""
        op = hit.phrase.op
        slots = hit.slots
        subject = hit.phrase.subject
        negated = self._negated(hit, sentence.lang, plain)
        confidence = hit.phrase.confidence
        phrase = hit.phrase.id
        if op == "create":
            return self._create(hit, sentence, phrase, confidence, negated)
        names_slot = "units" if "units" in slots else "unit"
        units = self.refs(slots[names_slot], subject=names_slot in subject)
        if "units2" in slots:
            units += self.refs(slots["units2"])
        if not units:
            return f"'{slots[names_slot]}' does not read like a unit"
        if names_slot in subject and units[0].said:
            at = plain.find(units[0].said, hit.start, hit.end)
            self._start = at if at >= 0 else hit.start
        if negated or op == "keep":
            if not negated and all(r.unknown for r in units):
                return f"'{slots[names_slot]}' matches no unit"
            for r in units:
                if not r.problem and r.new is None:
                    self.kept.append(Kept(r.id, r.note, sentence, "negated" if negated else "kept"))
            if negated:
                self.unread.append(Unread(sentence, "negated"))
            return True

        def new(kind: str, **parts: Any) -> Operation:
            return Operation(kind, sentence, phrase, confidence, **parts)

        if op == "merge":
            if "new" in slots:
                mentions = self.news(slots["new"])
                if not mentions:
                    return f"'{slots['new']}' does not read like a unit"
                proposed = Ref("", "", proposed=mentions[0])
            else:
                into = self.ref(slots["into"], subject="into" in subject, may_be_new="unknown")
                if into is None:
                    return f"'{slots['into']}' does not read like a unit"
                proposed = into
            if all(r.unknown for r in units) and (proposed.unknown or proposed.proposed):
                return "no name in it matches a unit"
            given = self.parent_of(hit)
            parent = given or self._common_parent(units)
            target = self.settled(proposed, parent, sentence.line)
            if target.new is not None and (target.new.parent is None or given):
                target.new.parent = parent
                target.new.given = target.new.given or given is not None
            sources = [r for r in units if r.id != target.id]
            if not sources:
                return False
            self._add(new("merge", units=sources, target=target))
            return True
        if op == "split":
            if units[0].problem:
                return f"'{slots[names_slot]}' matches no unit"
            said = slots.get("targets")
            targets = self.refs(said, may_be_new="fresh") if said else []
            if said and not targets:
                return f"'{slots['targets']}' does not read like units"
            for r in targets:
                if r.new is not None and r.new.parent is None:
                    r.new.parent = self._parent_in_ledger(units[0])
            self._add(new("split", units=units[:1], targets=targets))
            return True
        if op == "move":
            # {into}: where the units go, new when no unit has its name ("will form X").
            where = "to" if "to" in slots else "into"
            to = self.ref(
                slots[where],
                subject=where in subject,
                may_be_new="said" if where == "to" else "unknown",
            )
            if to is None:
                return f"'{slots[where]}' does not read like a unit"
            if all(r.unknown for r in units):
                return "no unit it moves matches a unit"
            if to.problem and all(r.new is not None for r in units):
                return "where the new unit goes matches no unit"
            introduced = to.proposed is not None and self._new_of(to.proposed) is None
            to = self.settled(to, None, sentence.line)
            if introduced and to.new is not None and to.new.parent is None:
                # "A and B will form X": X sits where they sat.
                given = self.parent_of(hit)
                to.new.parent = given or self._common_parent(units)
                to.new.given = given is not None
            for r in units:
                if r.new is not None:
                    if r.new.parent is None or r.new.parent.id == self.root:
                        r.new.parent = to
                    continue
                if r.id in self.units and self.units[r.id].parent == to.id:
                    self.kept.append(Kept(r.id, r.note, sentence, f"already under {to.id}"))
                    continue
                self._add(new("move", units=[r], target=to))
            return True
        if op == "rename":
            return self._rename(units[0], slots["name"], sentence, new)
        if op == "spin":
            return self._spin(units[0], slots.get("name"), sentence, new)
        if op == "dissolve":
            for r in units:
                if r.new is None:
                    self._add(new("dissolve", units=[r]))
            return True
        return False

    def _create(
        self, hit: Hit, sentence: Sentence, phrase: str, confidence: float, negated: bool
    ) -> bool | str:
        mentions = self.news(hit.slots["news"])
        if not mentions:
            return f"'{hit.slots['news']}' does not read like a unit"
        if negated:
            self.unread.append(Unread(sentence, "negated"))
            return True
        parent = self.parent_of(hit)
        for mention in mentions:
            existing = self.matcher.resolve(mention)
            if existing.unit is not None and existing.score >= 100 and not mention.new:
                self.kept.append(
                    Kept(existing.unit, existing.describe(), sentence, "exists already")
                )
                continue
            unit = self._register(mention, parent, sentence.line)
            unit.given = unit.given or parent is not None
            if unit.origin is None:
                target = self._new_ref(unit, mention)
                unit.origin = Operation("create", sentence, phrase, confidence, target=target)
        return True

    def _rename(
        self, unit: Ref, text: str, sentence: Sentence, new: Callable[..., Operation]
    ) -> bool | str:
        if unit.problem:
            return "the renamed unit matches no unit"
        mention = read_mention(text, self.words)
        if mention.empty:
            return False
        en = mention.names.get("en", "")
        if en[:1].islower() and not mention.abbr and "zh" not in mention.names:
            return f"'{text}' does not read like a name"
        other = self.matcher.resolve(mention)
        if other.unit is not None and other.unit != unit.id and other.score >= 100:
            return f"'{text}' is another unit"
        current = self.units.get(unit.id)
        if (
            current is not None
            and all(current.names.get(k) == v for k, v in mention.names.items())
            and mention.abbr in (None, current.abbr)
        ):
            self.kept.append(Kept(unit.id, unit.note, sentence, "same name"))
            return True
        self._add(new("rename", units=[unit], rename=mention))
        return True

    def _spin(
        self, unit: Ref, name: str | None, sentence: Sentence, new: Callable[..., Operation]
    ) -> bool | str:
        """A unit that leaves to stand on its own: to the top of the organization, and
        under its new name when the text gives one."""
        if unit.problem or unit.new is not None:
            return "the unit spun out matches no unit"
        current = self.units.get(unit.id)
        if self.root is not None and current is not None and current.parent != self.root:
            self._add(new("move", units=[unit], target=Ref(self.root, "")))
        if name:
            self._rename(unit, name, sentence, new)
        return True

    def _common_parent(self, units: list[Ref]) -> Ref | None:
        parents = {self.units[r.id].parent for r in units if r.id in self.units}
        if len(parents) == 1 and (parent := next(iter(parents))) is not None:
            return Ref(parent, "")
        return None

    def _parent_in_ledger(self, ref: Ref) -> Ref | None:
        unit = self.units.get(ref.id)
        if unit is None or unit.parent is None:
            return None
        return Ref(unit.parent, "")

    def _add(self, op: Operation) -> None:
        for known in self.operations:
            if op.kind == known.kind == "split" and op.units[0].id == known.units[0].id:
                # "X will be split into two" and later "X will be split into A and B".
                known.targets.extend(
                    t for t in op.targets if t.id not in {k.id for k in known.targets}
                )
                if op.sentence.line not in known.also and op.sentence.line != known.sentence.line:
                    known.also.append(op.sentence.line)
                return
            if op.kind == known.kind == "rename" and op.units[0].id == known.units[0].id:
                assert op.rename is not None and known.rename is not None
                if {normal(t) for t in op.rename.terms} & {normal(t) for t in known.rename.terms}:
                    names = {**op.rename.names, **known.rename.names}
                    abbr = known.rename.abbr or op.rename.abbr
                    known.rename = Mention(known.rename.text, names, abbr)
                    if op.sentence.line not in known.also:
                        known.also.append(op.sentence.line)
                    return
            if known.key() == op.key():
                if op.sentence.line != known.sentence.line and op.sentence.line not in known.also:
                    known.also.append(op.sentence.line)
                return
        self.operations.append(op)

    # ---- the draft ----

    def _late(self, op: Operation) -> Operation:
        """An operation whose unknown names are new units the text introduced after them
        ("X will move to the AI Group" read before "a new AI Group" in one sentence)."""

        def known(ref: Ref | None) -> Ref | None:
            if ref is None or ref.unknown is None:
                return ref
            unit = self._new_of(ref.unknown)
            return self._new_ref(unit, ref.unknown) if unit is not None else ref

        target = known(op.target)
        return replace(
            op,
            units=[r for r in map(known, op.units) if r is not None],
            target=target,
            targets=[r for r in map(known, op.targets) if r is not None],
        )

    def _fold_into_splits(self, ops: list[Operation]) -> list[Operation]:
        """A move of a split unit's child to one of the split's targets becomes that
        target's `children`, so the split is whole."""
        kept: list[Operation] = []
        splits = [op for op in ops if op.kind == "split"]
        for split in splits:
            if split.targets:
                continue
            # "X will be split into two": the targets are the new units its children
            # are said to form.
            for op in ops:
                unit = self.units.get(op.units[0].id) if op.units else None
                target = op.target
                if (
                    op.kind == "move"
                    and unit is not None
                    and unit.parent == split.units[0].id
                    and target is not None
                    and target.new is not None
                    and all(t.id != target.id for t in split.targets)
                ):
                    split.targets.append(target)
                    target.new.parent = self._parent_in_ledger(split.units[0])
        for op in ops:
            if op.kind == "move" and op.target is not None:
                unit = self.units.get(op.units[0].id)
                home = next(
                    (
                        s
                        for s in splits
                        if unit is not None
                        and unit.parent == s.units[0].id
                        and any(t.id == op.target.id for t in s.targets)
                    ),
                    None,
                )
                if home is not None:
                    home.children.setdefault(op.target.id, []).append(op.units[0].id)
                    if op.sentence.line not in home.also and op.sentence.line != home.sentence.line:
                        home.also.append(op.sentence.line)
                    continue
            kept.append(op)
        return kept

    def draft(
        self,
        *,
        changeset_id: str,
        title: str,
        effective: date | None,
        effective_from: str,
        source: str | None,
    ) -> Draft:
        ops = [self._late(op) for op in self.operations]
        merged = {r.id for op in ops if op.kind == "merge" for r in op.units}
        ops = [
            op for op in ops if not (op.kind in ("dissolve", "move") and op.units[0].id in merged)
        ]
        ops = self._fold_into_splits(ops)
        creators: dict[str, Operation] = {}
        for kind in ("merge", "split"):
            for op in ops:
                if op.kind != kind:
                    continue
                for r in [op.target] if kind == "merge" else op.targets:
                    if r is not None and r.new is not None:
                        creators.setdefault(r.new.id, op)
        for unit in self.new_units:
            if unit.id not in creators:
                origin = unit.origin or Operation(
                    "create",
                    _first_sentence(ops, unit),
                    "implied by a move or merge into a new unit",
                    0.6,
                    target=Ref(unit.id, f"'{unit.names}' is new", 100.0, unit),
                )
                origin.target = Ref(
                    unit.id, origin.target.note if origin.target else "", 100.0, unit
                )
                ops.append(origin)
                creators[unit.id] = origin
        ordered = _ordered(ops, creators)
        index = {id(op): i for i, op in enumerate(ordered)}
        root = self.root
        return Draft(
            id=changeset_id,
            title=title,
            effective=effective,
            effective_from=effective_from,
            source=source,
            root=root,
            operations=tuple(ordered),
            creators={uid: index[id(op)] for uid, op in creators.items()},
            new_units=tuple(self.new_units),
            kept=tuple(_unique_kept(self.kept, {r.id for op in ordered for r in op.refs})),
            unread=tuple(self.unread),
            children=_children(self.units),
            words=self.words,
        )


_EN_DENIED = re.compile(r"\b(?:no|none|neither|nor)\b(?!\s+longer)", re.IGNORECASE)
_ZH_DENIED = re.compile(r"没有|无一|不会|并不|并未|均不|都不")


def _aside(part: str) -> bool:
    """An English list item that opens a clause about the item before it ("comprising X",
    "which ...", "led by ...") is not a name."""
    first = part.split(maxsplit=1)[0] if part.split() else ""
    if not first.isalpha() or not first.islower():
        return False
    return first in _CLAUSE_WORDS or first.endswith(("ing", "ed"))


_CLAUSE_WORDS = frozenset(
    (
        *("which", "who", "whose", "where", "including", "such", "namely", "formerly"),
        *("currently", "led", "headed", "based", "now", "previously", "mainly", "mostly"),
        *("each", "both", "made", "known", "built", "run", "given", "taken", "held", "kept"),
        *("drawn", "spun", "split"),
    )
)


_PREPOSITION = re.compile(
    r"\b(?:within|in|under|at|for|of|from|to|by|with|after|following|across|inside)\s*$",
    re.IGNORECASE,
)
# A non-restrictive relative clause (", which administers ... ,") says something about a
# name, not what happens to it: it is left out when phrases are matched.
_RELATIVE = re.compile(
    r",\s*(?:which|who|whose|where)\b(?:[^,;:]|(?<=\d),(?=\d))*(?=,)", re.IGNORECASE
)


def _proper(mention: Mention) -> bool:
    """Whether a name is written as one: capitalized, in Chinese, or with an abbreviation."""
    if mention.abbr or "zh" in mention.names:
        return True
    return any(name[:1].isupper() or name[:1].isdigit() for name in mention.names.values())


def _titled(text: str) -> bool:
    """A name in title case of two words or more ("Shanlan Games Publishing & Operations")."""
    words = [w for w in text.split() if w.lower() not in {"and", "of", "&", "the", "for"}]
    return len(words) >= 2 and all(w[:1].isupper() for w in words)


def _plain(sentence: Sentence) -> str:
    """The sentence as phrases read it: English relative clauses blanked, same length."""
    if sentence.lang != "en":
        return sentence.text
    return _RELATIVE.sub(lambda m: " " * len(m.group(0)), sentence.text)


def _after_article(text: str) -> str:
    """The words after the last article ("On 1 May the Payments Department" -> its name)."""
    found = list(re.finditer(r"\b(?:the|a|an|its|our|their)\s+", text, re.IGNORECASE))
    return text[found[-1].start() :] if found else text


def _named(items: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """List items without asides: "A (GT), comprising B and C, and D" gives A and D."""
    out: list[tuple[str, str]] = []
    aside = False
    for sep, part in items:
        if aside and "," not in sep and ";" not in sep:
            continue
        aside = bool(out) and _aside(part)
        if not aside:
            out.append((sep, part))
    return out


def _first_sentence(ops: list[Operation], unit: NewUnit) -> Sentence:
    for op in ops:
        if any(r.new is unit for r in op.refs):
            return op.sentence
    return Sentence("", unit.line, "en")


def _unique_kept(kept: list[Kept], changed: set[str]) -> list[Kept]:
    seen: set[str] = set()
    out = []
    for k in kept:
        if k.unit in seen or k.unit in changed:
            continue
        seen.add(k.unit)
        out.append(k)
    return out


def _children(units: Mapping[str, Unit]) -> dict[str, tuple[str, ...]]:
    out: dict[str, list[str]] = {}
    for uid, unit in units.items():
        if unit.parent is not None:
            out.setdefault(unit.parent, []).append(uid)
    return {k: tuple(sorted(v)) for k, v in out.items()}


def _ordered(ops: list[Operation], creators: Mapping[str, Operation]) -> list[Operation]:
    """Creates, merges, splits, moves, renames, dissolves; but a unit made before it is used."""
    made_by = {uid: id(op) for uid, op in creators.items()}

    def needs(op: Operation) -> set[str]:
        out = {r.id for r in op.refs if r.new is not None and made_by.get(r.id) != id(op)}
        for r in op.refs:
            mine = r.new is not None and made_by.get(r.id) == id(op)
            if mine and r.new is not None and r.new.parent is not None and r.new.parent.new:
                out.add(r.new.parent.id)
        return out

    rank = {kind: i for i, kind in enumerate(ORDER)}
    waiting = sorted(ops, key=lambda op: rank[op.kind])
    done: set[str] = set()
    out: list[Operation] = []
    while waiting:
        ready = next((op for op in waiting if needs(op) <= done), waiting[0])
        waiting.remove(ready)
        out.append(ready)
        done |= {uid for uid, made in made_by.items() if made == id(ready)}
    return out


def _title(text: str, name: str) -> str:
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if first and len(first) <= 120 and not first.endswith((".", "。")):
        return first
    return f"Drafted from {name}"


def single_root(units: Mapping[str, Unit]) -> str | None:
    roots = sorted(uid for uid, unit in units.items() if unit.parent is None)
    return roots[0] if len(roots) == 1 else None


def under(units: Mapping[str, Unit], root: str) -> dict[str, Unit]:
    """The units of `root`'s subtree."""
    kids = _children(units)
    out: dict[str, Unit] = {}
    stack = [root]
    while stack:
        uid = stack.pop()
        if uid in units:
            out[uid] = units[uid]
            stack.extend(kids.get(uid, ()))
    return out


def extract(
    text: str,
    units_on: UnitsOn,
    phrases: Phrases,
    *,
    root: str | None = None,
    effective: date | None = None,
    name: str = "-",
    changeset_id: str | None = None,
    source: str | None = None,
    taken: Iterable[str] = (),
    recorded: Iterable[str] = (),
) -> Draft:
    """The draft plan an announcement implies, against the units active on its date.

    `units_on(day)` gives the units active on a day (on the latest date when None);
    `taken` are the unit ids ever used and `recorded` the change set ids, which new
    ids avoid.
    """
    dated: Dated | None = None if effective else effective_date(text)
    if effective is not None:
        said = "given with --effective"
    elif dated is not None:
        effective = dated.day
        said = f'from the text, line {dated.line}: "{dated.words}"'
    else:
        said = "the text gives no date"
    # Names are matched against the structure the change starts from: the day before.
    units = units_on(effective - timedelta(days=1) if effective else None)
    pool = under(units, root) if root else dict(units)
    root = root or single_root(pool)
    reading = Extraction(pool, phrases, root=root, taken=taken)
    for sentence in sentences(text):
        reading.read(sentence)
    if changeset_id is None:
        base = f"{root or 'draft'}-{effective.isoformat() if effective else 'undated'}"
        used = set(recorded)
        changeset_id = next(
            c for n in range(1, 10_000) if (c := base if n == 1 else f"{base}-{n}") not in used
        )
    return reading.draft(
        changeset_id=changeset_id,
        title=_title(text, name),
        effective=effective,
        effective_from=said,
        source=source or (name if name != "-" else None),
    )
