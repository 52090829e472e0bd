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
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from pypinyin import lazy_pinyin

from .drafts import Draft, Kept, NewUnit, Operation, Ref, Unread, slug
from .lookup import normal
from .mentions import (
    AFTER_NAME,
    PREPOSITION,
    Matcher,
    Mention,
    Resolved,
    after_article,
    core,
    is_chinese,
    is_proper,
    is_titled,
    kind_of,
    learned,
    looks_like_unit,
    named_items,
    read_mention,
    split_list,
)
from .model import SLUG, Snapshot, Unit
from .phrases import Hit, Phrases
from .sentences import Dated, Sentence, dates, effective_date, plain, sentences

ORDER = ("create", "merge", "split", "move", "rename", "dissolve")

UnitsOn = Callable[[date | None], Mapping[str, Unit]]


@dataclass(frozen=True)
class Said:
    """What one match of a phrase said: the match, its sentence and the units it names."""

    hit: Hit
    sentence: Sentence
    units: list[Ref]

    def operation(self, kind: str, **parts: Any) -> Operation:
        return Operation(
            kind, self.sentence, self.hit.phrase.id, self.hit.phrase.confidence, **parts
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
        self.units = dict(units)
        self.tree = Snapshot(date.max, self.units)
        self.words = learned(phrases.words, self.units)
        self.root = root
        # Matching knows only the generic words of the table: a word an organization uses
        # for its units ("Operations") can still tell two of them apart.
        self.matcher = Matcher(self.units, phrases.words, self.words.generic)
        self.taken = set(taken) | set(units)
        self.new_units: list[NewUnit] = []
        self.operations: list[Operation] = []
        self.kept: list[Kept] = []
        self.unread: list[Unread] = []
        self._start = 0  # where the hit being read really starts

    # ---- names ----

    def learn_aliases(self, text: str) -> None:
        """Short names the text defines for units: "Education in Emergencies (EiE)",
        心血管事业部（以下简称“心血管BU”）."""
        for found in _ALIAS.finditer(text):
            name = found.group("name") or found.group("zh")
            alias = (found.group("alias") or found.group("zhalias")).strip()
            resolved, _ = self.matcher.resolve_trimmed(name)
            taken = self.matcher.resolve(read_mention(alias, self.words))
            if resolved.unit is not None and resolved.score >= 90 and taken.unit is None:
                self.matcher.aliases[normal(alias)] = resolved.unit

    def _new_of(self, mention: Mention) -> NewUnit | None:
        return next((n for n in self.new_units if n.matches(mention)), None)

    def _fresh_id(self, mention: Mention) -> str:
        base = ""
        for text in (mention.abbr, mention.names.get("en"), *mention.names.values()):
            if text and (base := slug(text)):
                break
        if not base and (zh := mention.names.get("zh")):
            # A Chinese name only: its pinyin (数据科学系 -> shu-ju-ke-xue-xi).
            base = slug(" ".join(lazy_pinyin(zh)))
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
        zh = mention.names.get("zh", "")
        holder = self._holder(zh)
        if holder is not None:
            # 办公室综合科: the 综合科 of 办公室.
            mention = replace(mention, names={**mention.names, "zh": zh[len(holder[1]) :]})
            parent = parent or Ref(holder[0], "")
        known = self._new_of(mention)
        if known is not None:
            known.absorb(mention)
            if not known.named and known.abbr:
                known.id = self._fresh_id(mention)
                known.named = True
            if known.parent is None and parent is not None:
                known.parent = parent
            return known
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
        base = self.matcher.words
        marks = self.words.zh_marks
        for name in mention.names.values():
            if is_chinese(name):
                rest = name
                while rest and (mark := next((m for m in marks if rest.endswith(m)), None)):
                    rest = rest[: -len(mark)]
                if rest:  # 科室 is only generic words; 安全监督处 is not
                    return False
            elif core(name, base) and name.lower() not in self.words.unit.get("en", ()):
                # Only the table's generic words, or one word the organization uses for its
                # units ("the enlarged market").
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
        merged = self._merged_into(text)
        if merged is None and subject:
            # "The new office opens on 1 June and will report to ...": the words before.
            cut = AFTER_NAME.search(text)
            merged = self._merged_into(text[: cut.start()]) if cut else None
        if merged is not None:
            return merged, text
        renamed = self._renamed(mention)
        if renamed is not None:
            return renamed, text
        piece = text
        if subject:
            resolved, piece = self.matcher.resolve_trimmed(text)
            whole = after_article(text)
            compound = bool(re.search(r"\s(?:&|and)\s", whole))
            if piece != text and is_titled(whole) and (resolved.score < 100 or compound):
                # A name in title case is a name whole: "Network & Revenue" is not Revenue.
                resolved, piece = self.matcher.resolve(read_mention(text, self.words)), text
            if not (resolved.unit or resolved.rivals):
                piece = after_article(text)
            before = text[: len(text) - len(piece)]
            if self._verbish(before) or PREPOSITION.search(before):
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
        titled = may_be_new in ("unknown", "fresh") and is_titled(piece)
        if not (looks_like_unit(mention, self.words) or titled) or self._generic(mention):
            return None, piece
        if not is_proper(mention):
            return None, piece  # "enforcement corps": a description, not a unit's name
        if may_be_new in ("unknown", "fresh") or (may_be_new == "said" and mention.new):
            return Ref("", f"'{mention.label}' is new", 100.0, proposed=mention), piece
        return self._existing(resolved), piece

    def _merged_into(self, text: str) -> Ref | None:
        """ "The enlarged market", 合并后的系, 该学院: the unit the last merge made or grew,
        or the last new unit."""
        found = _ANAPHORA.match(text.strip())
        if found is None or not self._generic(read_mention(found.group("rest"), self.words)):
            return None
        grown = [
            op for op in self.operations if op.kind in ("merge", "move") and op.target is not None
        ]
        if grown and grown[-1].target is not None:
            target = grown[-1].target
            return replace(target, note=f"'{text}' -> {target.id} (what the last change grew)")
        if self.new_units:
            kind = found.group("rest").strip().lower()
            alike = [
                u
                for u in self.new_units
                if any(n.lower().endswith(kind) or kind in n.lower() for n in u.names.values())
            ]
            unit = (alike or self.new_units)[-1]
            return Ref(unit.id, f"'{text}' is new ({unit.id})", 100.0, unit)
        return None

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
        items = named_items(split_list(text))
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
        items = named_items(split_list(text))
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
            generic = self._generic(mention)
            if (
                not mention.empty
                and looks_like_unit(mention, self.words)
                and not generic
                and is_proper(mention)
            ):
                out.append(mention)
        return out

    def _tail_trimmed(self, text: str) -> str:
        """A new English name without lower-case words after its last unit word ("Lab for AI")."""
        if is_chinese(text) or re.search(r"[)\]）】]\s*$", text):
            return text
        words = text.split()
        generic = self.words.generic
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
        reasons: list[str] = []
        hedges: list[str] = []
        text = plain(sentence)
        denial = self._hedge(sentence.lang, sentence.text, self.words.denials)

        def accept(hit: Hit) -> int | None:
            self._start = hit.start
            hedge = denial or self._hedge(sentence.lang, text[: hit.end], self.words.hedges)
            if hedge is not None:
                # "is expected to close", "rumours that X will merge": not a change made.
                hedges.append(hedge)
                return hit.start
            result = self._apply(hit, sentence, text)
            if isinstance(result, str):
                reasons.append(result)
                return None
            return self._start if result else None

        hits = self.phrases.hits(text, sentence.lang, accept)
        if hedges:
            self.unread.append(Unread(sentence, f"hedged: '{hedges[0]}'"))
        elif not hits and self._structural(sentence):
            why = reasons[0] if reasons else "no phrase of the table matches"
            self.unread.append(Unread(sentence, why))
        if self.root is not None and any(w in sentence.text.lower() for w in self._tops(sentence)):
            # "... will report directly to the CEO", 作为集团一级: the new units are top-level.
            for unit in self.new_units:
                if not unit.given:
                    unit.parent = Ref(self.root, "")

    def _tops(self, sentence: Sentence) -> tuple[str, ...]:
        return self.words.top.get(sentence.lang, ())

    @staticmethod
    def _hedge(lang: str, text: str, words: Mapping[str, tuple[str, ...]]) -> str | None:
        """The first of the words the text holds; case counts ("May" is a month). Hedges
        count in the words up to a change ("a move unions say could ..." does not hedge
        the move before it), denials anywhere in its sentence."""
        for word in words.get(lang, ()):
            if lang == "zh":
                if word in text:
                    return word
            elif re.search(rf"\b{re.escape(word)}\b", text):
                return word
        return None

    def _structural(self, sentence: Sentence) -> bool:
        text = sentence.text.lower()
        return any(w in text for w in self.words.structural.get(sentence.lang, ()))

    def _negated(self, hit: Hit, lang: str, text: str) -> bool:
        """Whether a hit is denied: "not"/不 before its verb, or "no unit ..." as its subject."""
        if hit.negated:
            return True
        clause = max(text.rfind(mark, 0, hit.start) for mark in ",;:，；：")
        said = text[clause + 1 : hit.end]
        if lang == "zh":
            return bool(_ZH_DENIED.search(said))
        return bool(_EN_DENIED.search(said))

    def _apply(self, hit: Hit, sentence: Sentence, text: str) -> bool | str:
        """Draft what a hit says; False (or why not) when its names are not units."""
        op = hit.phrase.op
        slots = hit.slots
        negated = self._negated(hit, sentence.lang, text)
        if op == "create":
            return self._create(hit, sentence, negated)
        names_slot = "units" if "units" in slots else "unit"
        units = self.refs(slots[names_slot], subject=names_slot in hit.phrase.subject)
        if "units2" in slots:
            units += self.refs(slots["units2"])
        if not units:
            return f"'{slots[names_slot]}' does not read like a unit"
        if names_slot in hit.phrase.subject and units[0].said:
            at = text.find(units[0].said, hit.start, hit.end)
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
        return _OPS[op](self, Said(hit, sentence, units))

    def _merge(self, said: Said) -> bool | str:
        slots, units = said.hit.slots, said.units
        if "new" in slots:
            mentions = self.news(slots["new"])
            if not mentions:
                return f"'{slots['new']}' does not read like a unit"
            proposed = Ref("", "", proposed=mentions[0])
        else:
            subject = "into" in said.hit.phrase.subject
            into = self.ref(slots["into"], subject=subject, may_be_new="unknown")
            if into is None and self._generic(read_mention(slots["into"], self.words)):
                into = Ref("", "", proposed=read_mention(slots["into"], self.words))
            if into is None:
                return f"'{slots['into']}' does not read like a unit"
            proposed = into
        if proposed.proposed is not None and self._generic(proposed.proposed):
            named = _CALLED.search(said.sentence.text, said.hit.start)
            if named is None:
                return f"'{proposed.proposed.text}' is not a name"
            proposed = Ref("", "", proposed=read_mention(named.group("name"), self.words))
        if all(r.unknown for r in units) and (proposed.unknown or proposed.proposed):
            return "no name in it matches a unit"
        given = self.parent_of(said.hit)
        parent = given or self._common_parent(units)
        target = self.settled(proposed, parent, said.sentence.line)
        if target.new is not None and (target.new.parent is None or given):
            target.new.parent = parent
            target.new.given = target.new.given or given is not None
        sources = [r for r in units if r.id != target.id]
        if not sources:
            return False
        self._add(said.operation("merge", units=sources, target=target))
        return True

    def _split(self, said: Said) -> bool | str:
        unit = said.units[0]
        if unit.problem:
            return f"'{unit.said}' matches no unit"
        text = said.hit.slots.get("targets")
        targets = self.refs(text, may_be_new="fresh") if text else []
        if text and not targets:
            return f"'{text}' does not read like units"
        for r in targets:
            if r.new is not None and r.new.parent is None:
                r.new.parent = self._parent_in_ledger(unit)
        self._add(said.operation("split", units=[unit], targets=targets))
        return True

    def _move(self, said: Said) -> bool | str:
        slots, units = said.hit.slots, said.units
        # {into}: where the units go, new when no unit has its name ("will form X").
        where = "to" if "to" in slots else "into"
        to = self.ref(
            slots[where],
            subject=where in said.hit.phrase.subject,
            may_be_new="said" if where == "to" else "unknown",
        )
        if to is None:
            return f"'{slots[where]}' does not read like a unit"
        if all(r.unknown for r in units):
            return "no unit it moves matches a unit"
        if to.problem and all(r.new is not None for r in units):
            return "where the new unit goes matches no unit"
        introduced = to.proposed is not None and self._new_of(to.proposed) is None
        to = self.settled(to, None, said.sentence.line)
        if introduced and to.new is not None and to.new.parent is None:
            # "A and B will form X": X sits where they sat.
            given = self.parent_of(said.hit)
            to.new.parent = given or self._common_parent(units)
            to.new.given = given is not None
        for r in units:
            if r.new is not None:
                if r.new.parent is None or r.new.parent.id == self.root:
                    r.new.parent = to
                continue
            if r.id == to.id:
                continue
            if r.id in self.units and self.units[r.id].parent == to.id:
                self.kept.append(Kept(r.id, r.note, said.sentence, f"already under {to.id}"))
                continue
            self._add(said.operation("move", units=[r], target=to))
        return True

    def _dissolve(self, said: Said) -> bool | str:
        for r in said.units:
            if r.new is None:
                self._add(said.operation("dissolve", units=[r]))
        return True

    def _create(self, hit: Hit, sentence: Sentence, negated: bool) -> bool | str:
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
                unit.origin = Operation(
                    "create", sentence, hit.phrase.id, hit.phrase.confidence, target=target
                )
        return True

    def _rename(self, said: Said) -> bool | str:
        unit, text = said.units[0], said.hit.slots["name"]
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
            self.kept.append(Kept(unit.id, unit.note, said.sentence, "same name"))
            return True
        self._add(said.operation("rename", units=[unit], rename=mention))
        return True

    def _spin(self, said: Said) -> bool | str:
        """A unit that leaves to stand on its own: to the top of the organization, and
        under its new name when the text gives one."""
        unit = said.units[0]
        if unit.problem or unit.new is not None:
            return "the unit spun out matches no unit"
        current = self.units.get(unit.id)
        if self.root is not None and current is not None and current.parent != self.root:
            self._add(said.operation("move", units=[unit], target=Ref(self.root, "")))
        if "name" in said.hit.slots:
            self._rename(said)
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
                _also(known, op)
                return
            if op.kind == known.kind == "rename" and op.units[0].id == known.units[0].id:
                assert op.rename is not None and known.rename is not None
                if {normal(t) for t in op.rename.terms} & {normal(t) for t in known.rename.terms}:
                    names = {**op.rename.names, **known.rename.names}
                    abbr = known.rename.abbr or op.rename.abbr
                    known.rename = Mention(known.rename.text, names, abbr)
                    _also(known, op)
                    return
            if known.key() == op.key():
                _also(known, op)
                return
        self.operations.append(op)

    # ---- the draft ----

    def _late(self, op: Operation) -> Operation:
        """An operation whose unknown names are new units the text introduced after them
        ("X will move to the AI Group" read before "a new AI Group" in one sentence)."""

        def known(ref: Ref | None) -> Ref | None:
            if ref is None or ref.unknown is None:
                return ref
            unit = self._new_of(ref.unknown) or self._named_before(ref.unknown.text, op)
            return self._new_ref(unit, ref.unknown) if unit is not None else ref

        target = known(op.target)
        return replace(
            op,
            units=[r for r in map(known, op.units) if r is not None],
            target=target,
            targets=[r for r in map(known, op.targets) if r is not None],
        )

    def _named_before(self, text: str, op: Operation) -> NewUnit | None:
        """The new unit "该中心" or "the new group" stands for: one of that kind the same
        sentence introduces, else none."""
        found = _ANAPHORA.match(text.strip())
        if found is None:
            return None
        kind = found.group("rest").strip().lower()
        same = [u for u in self.new_units if u.line == op.sentence.line]
        alike = [u for u in same if any(n.lower().endswith(kind) for n in u.names.values())]
        found_units = alike or same
        return found_units[0] if found_units else None

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
                    _also(home, op)
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
        split = {op.units[0].id for op in ops if op.kind == "split"}
        ops = [
            op
            for op in ops
            if not (op.kind in ("dissolve", "move") and op.units[0].id in merged)
            and not (op.kind == "dissolve" and op.units[0].id in split)
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
            children={uid: self.tree.children(uid) for uid in self.units},
            words=self.words,
        )


_ALIAS = re.compile(
    r"(?P<name>(?-i:[A-Z])[\w&'’ -]{2,80}?)\s*\((?:hereafter\s+|hereinafter\s+)?(?:the\s+)?"
    r"[\"“']?(?P<alias>(?-i:[A-Z])[\w&.-]{1,15})[\"”']?\)"
    r"|(?P<zh>[\u4e00-\u9fff\w]{2,30}?)[（(](?:以下简称|以下称|下称|简称)[“\"「]?"
    r"(?P<zhalias>[^”\"」）)]{1,20})[”\"」]?[）)]"
)
_ANAPHORA = re.compile(
    r"(?:(?:the\s+)?(?:enlarged|combined|merged|expanded|resulting|new)\s+|合并后的|整合后的|该|上述|新)"
    r"(?P<rest>.+)$",
    re.IGNORECASE,
)
# "... into a single service line, to be called Supply Chain & Procurement".
_CALLED = re.compile(
    r"\b(?:to\s+be\s+|which\s+will\s+be\s+)?(?:called|named|known\s+as)\s+(?:the\s+)?"
    r"[\"“']?(?P<name>[A-Z][^,;.\"”']*(?:\s*\([^)]*\))?)"
)
_EN_DENIED = re.compile(r"\b(?:no|none|neither|nor)\b(?!\s+longer)", re.IGNORECASE)
_ZH_DENIED = re.compile(r"没有|无一|不会|并不|并未|均不|都不")


# What each op of the table drafts (create and keep are read before a unit list is).
_OPS: Mapping[str, Callable[[Extraction, Said], bool | str]] = {
    "merge": Extraction._merge,
    "split": Extraction._split,
    "move": Extraction._move,
    "dissolve": Extraction._dissolve,
    "rename": Extraction._rename,
    "spin": Extraction._spin,
}


def _also(known: Operation, op: Operation) -> None:
    """Note that another sentence says what `known` says."""
    if op.sentence.line != known.sentence.line and op.sentence.line not in known.also:
        known.also.append(op.sentence.line)


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


def _date_of_change(
    text: str, operations: Iterable[Operation], dateline: Dated | None
) -> Dated | None:
    """The first date written in a sentence that gave an operation, other than the
    text's own date."""
    lines = {op.sentence.line for op in operations}
    for found in dates(text):
        if found.line in lines and (dateline is None or found.day != dateline.day):
            return found
    return None


def _title(text: str, name: str) -> str:
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if first and len(first) <= 120 and not first.endswith((".", "。")):
        return first
    return f"Drafted from {name}"


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
    given = effective is not None
    dated: Dated | None = None if given else effective_date(text)
    if given:
        said = "given with --effective"
    elif dated is not None:
        effective = dated.day
        said = f'from the text, line {dated.line}: "{dated.words}"'
    else:
        said = "the text gives no date"

    def read(day: date | None) -> Extraction:
        # Names are matched against the structure the change starts from: the day before.
        units = Snapshot(date.max, units_on(day - timedelta(days=1) if day else None))
        if root is None:
            pool, roots = dict(units.units), units.roots()
        else:
            pool = {u.id: u for u, _ in units.walk(root)} if root in units else {}
            roots = (root,)
        # Without --org, new units go under the ledger's only root, if it has one.
        top = roots[0] if len(roots) == 1 else None
        reading = Extraction(pool, phrases, root=top, taken=taken)
        reading.learn_aliases(text)
        for sentence in sentences(text):
            reading.read(sentence)
        return reading

    reading = read(effective)
    if not given and (dated is None or not dated.effective):
        # No date is said to be when the change takes effect: take the one the sentences
        # of the change give ("will close ... on 2 September"), not the dateline.
        better = _date_of_change(text, reading.operations, dated)
        if better is not None and better.day != effective:
            effective = better.day
            said = f'from the sentence of a change, line {better.line}: "{better.words}"'
            reading = read(effective)
    if changeset_id is None:
        base = f"{reading.root or 'draft'}-{effective.isoformat() if effective else 'undated'}"
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
