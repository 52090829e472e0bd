"""Finding units by id, abbreviation or a name in any language, across all of time."""

from __future__ import annotations

import difflib
import unicodedata
from dataclasses import dataclass
from datetime import date

from .errors import AmbiguousUnitError, UnknownUnitError
from .forest import Lifespan
from .model import Json, Unit
from .timeline import Timeline


def normal(text: str) -> str:
    """The form texts are compared in: NFKC, case-folded, spaces collapsed."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


@dataclass(frozen=True)
class Match:
    """A unit that `find` matched, shown in its latest state."""

    unit: Unit
    span: Lifespan
    matched: tuple[str, ...]

    def to_json(self) -> dict[str, Json]:
        return {
            "id": self.unit.id,
            "abbr": self.unit.abbr,
            "names": dict(self.unit.names),
            "kind": self.unit.kind,
            "from": self.span.start.isoformat(),
            "to": self.span.end.isoformat() if self.span.end else None,
            "matched": list(self.matched),
        }


class Vocabulary:
    """Every id, abbreviation and name a unit ever had, normalized."""

    def __init__(self, timeline: Timeline) -> None:
        self.timeline = timeline
        self.terms: dict[str, set[str]] = {}
        self.latest: dict[str, Unit] = {}
        self.texts: dict[str, set[str]] = {}
        for version in timeline.versions:
            unit = version.unit
            if unit is None:
                continue
            self.latest[unit.id] = unit
            for text in (unit.abbr, *unit.names.values()):
                if text:
                    self.terms.setdefault(normal(text), set()).add(unit.id)
                    self.texts.setdefault(unit.id, set()).add(text)

    def describe(self, unit_id: str) -> str:
        unit = self.latest[unit_id]
        span = self.timeline.span(unit_id)
        label = ", ".join(t for t in (unit.abbr, unit.name()) if t)
        period = ""
        if span is not None:
            period = f" {span.start.isoformat()} to {span.end.isoformat() if span.end else 'now'}"
        return f"{unit_id} ({label};{period})"

    def resolve(self, ref: str, at: date | None = None) -> str:
        """The id `ref` names; with `at`, an ambiguous name prefers the unit active then."""
        if ref in self.latest:
            return ref
        ids = self.terms.get(normal(ref), set())
        if not ids:
            ids = {uid for uid in self.latest if uid == normal(ref)}
        if len(ids) > 1 and at is not None:
            active = {uid for uid in ids if self._active(uid, at)}
            ids = active or ids
        if len(ids) == 1:
            return next(iter(ids))
        if ids:
            raise AmbiguousUnitError(ref, [self.describe(uid) for uid in sorted(ids)])
        close = difflib.get_close_matches(normal(ref), sorted({*self.terms, *self.latest}), n=3)
        hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        raise UnknownUnitError(f"no unit is called '{ref}'{hint}")

    def _active(self, unit_id: str, day: date) -> bool:
        span = self.timeline.span(unit_id)
        return span is not None and span.start <= day and (span.end is None or day < span.end)

    def find(self, text: str, limit: int | None = None) -> list[Match]:
        """Units whose id, abbreviation or any name contains `text` (exact matches first).

        Scans the normalized terms once, so a search of a large ledger stays fast;
        with `limit`, only that many matches are built (exact ones first).
        """
        needle = normal(text)
        hits: dict[str, bool] = {}
        for term, ids in self.terms.items():
            if needle in term:
                exact = term == needle
                for unit_id in ids:
                    hits[unit_id] = hits.get(unit_id, False) or exact
        for unit_id in self.latest:
            if needle in unit_id:
                hits[unit_id] = hits.get(unit_id, False) or unit_id == needle
        ranked = sorted(hits.items(), key=lambda item: (not item[1], item[0]))
        if limit is not None:
            ranked = ranked[:limit]
        matches = []
        for unit_id, _ in ranked:
            texts = self.texts.get(unit_id, set()) | {unit_id}
            matched = tuple(sorted(t for t in texts if needle in normal(t)))
            span = self.timeline.span(unit_id)
            assert span is not None
            matches.append(Match(self.latest[unit_id], span, matched))
        return matches
