"""The table of restructuring phrases the extractor reads, loaded from YAML and compiled.

The rows live in `phrases.yaml` beside this module (and in any file a user adds
with `--phrases`); this module only checks them and turns their slots into
regular expressions. See docs/extract.md for the table's fields.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cache, cached_property
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import ExtractError

Op = Literal["create", "merge", "split", "move", "dissolve", "rename", "spin", "keep"]
Lang = Literal["en", "zh"]

# What a slot holds: a list of names, or one name.
LIST_SLOTS = frozenset({"units", "units2", "news", "targets"})
NAME_SLOTS = frozenset({"unit", "new", "into", "to", "name", "parent", "origin", "within"})
SLOTS_OF: Mapping[str, frozenset[frozenset[str]]] = {
    # The slots each op needs (one of the sets).
    "create": frozenset({frozenset({"news"})}),
    "merge": frozenset({frozenset({"units", "new"}), frozenset({"units", "into"})}),
    "split": frozenset({frozenset({"unit", "targets"}), frozenset({"unit"})}),
    "move": frozenset({frozenset({"units", "to"}), frozenset({"units", "into"})}),
    "dissolve": frozenset({frozenset({"units"})}),
    "rename": frozenset({frozenset({"unit", "name"})}),
    "spin": frozenset({frozenset({"unit"})}),
    "keep": frozenset({frozenset({"units"})}),
}

_BRACKETS = r"\([^()]*\)|\[[^\[\]]*\]|（[^（）]*）|【[^【】]*】"
# A word of a name: not a verb or a preposition that no name holds.
_EN_WORD = (
    r"(?!(?:into|onto|will|would|shall|should|must|is|are|was|were|be|been|being)\b)"
    r"(?:(?:dept|co|inc|ltd|corp|intl|div|mgmt|assoc|natl|govt)\.(?=\s)|\d+(?:[.,]\d+)+\w*|"
    rf"(?:{_BRACKETS}|[^\s,;:.!?()\[\]（）【】→|])+)"
)
_EN_ONE = rf"{_EN_WORD}(?:\s+{_EN_WORD})*?"
_EN_LIST = rf"{_EN_WORD}(?:(?:\s+|\s*,\s*){_EN_WORD})*?"
_ZH_ONE = rf"(?:{_BRACKETS}|[^，,。；;：:！!？?、()（）【】\s→|])+?"
_ZH_LIST = rf"(?:{_BRACKETS}|[^，,。；;：:！!？?()（）【】\s→|])+?"

_EN_NEGATIONS = (
    r"not|never|won't|wouldn't|isn't|aren't|wasn't|weren't|hasn't|haven't|don't|doesn't|didn't"
)
_EN_AUX = (
    r"will|would|shall|should|is|are|was|were|has|have|had|also|now|then|soon|formally|"
    r"officially|today|to|be|been|being|going|expected|planned|due|shortly|eventually|"
    r"effectively|subsequently|gradually|fully|jointly|together|likely|reportedly"
)
_ZH_NEGATIONS = r"不会|不再|不予|不|未|没有|暂不|并未|并不|无需"
# No word here may end a unit's name: "会" (委员会) and "全部" (安全部) would cut it short.
_ZH_AUX = (
    r"将会|将|拟|已经|已|正式|也|同时|被|予以|进行|均|一并|随之|即日起|自即日起|整建制|仍然|仍|依然|继续|"
    r"今起|近日|今日|日前|随后|整体"
)
# Where a name ends: punctuation, or a word that starts what is said about it.
_EN_STOPS = (
    r"which|that|who|whose|where|under|within|as\s+part\s+of|led\s+by|headed\s+by|run\s+by|"
    r"and\s+(?:will|would|shall|takes?|took|is|are|was|were|has|have|had|becomes?|moves?|joins?|"
    r"reports?|continues?|remains?|gets?|adds?)|will|would|is|are|was|were|has|have|had|"
    r"takes?\s+effect|with\s+effect|rather\s+than|instead\s+of|as\s+well|too|also|instead|"
    r"later|immediately|shortly|next\s+(?:year|month|week|quarter)|this\s+(?:year|month|week)|"
    r"in\s+\d{4}|"
    r"effective|from|starting|on|by|in\s+order|to\s+(?!be\b)\w+|while|after|before|following|"
    r"when|so|as\s+of|as(?!\s+well)|in\s+(?:a|an|the|its|order|line|charge)|reporting|"
    r"responsible"
)
_EN_END = rf"(?=\s*(?:[,;:.!?，。；：！？|]|—|–|$)|\s+(?:{_EN_STOPS})\b)"
# A list runs on over commas ("A, B, and C") until a comma opens a new clause.
_EN_LIST_END = (
    rf"(?=\s*(?:[;:.!?，。；：！？|]|—|–|$)|\s+(?:{_EN_STOPS})\b|,\s*(?:and\s+|but\s+|while\s+)?"
    r"(?:it\s+|they\s+|we\s+|the\s+company\s+|which\s+|who\s+)?(?:will|would|shall|set|sets|"
    r"establish\w*|form|forms|create|creates|merge|merges|move|moves|transfer\w*|dissolve\w*|"
    r"rename\w*|split|is|are|was|were|has|have|had|said|says|according|led|headed|effective|"
    r"starting|which|who|while|but|as|with|in|on|to|for|from|after|before|following|so|"
    r"because|whereas|although|though|since|reflecting|giving|making|bringing|creating)\b|,\s*$)"
)
_ZH_END = (
    r"(?=[，,。；;：:！!？?]|$|\s|由|并|负责|担任|作为|以便|以|将于|将在|自|起|于\d|"
    r"(?:两|三|四|五|几)(?:个|大)|管理(?=[，,。；;]|$))"
)
_EN_WITHIN = (
    r"(?:\s*,?\s*(?:(?:which|that)\s+(?:will\s+)?(?:exist|sit|be\s+placed|be\s+housed|be|operate|"
    r"report)\s+)?(?:under|within|inside|as\s+part\s+of)\s+(?:the\s+)?{within})?"
)
_ZH_WITHIN = (
    r"(?:[，,]?(?:隶属于|隶属|归属于|归属|设在|设于|放在|置于|归)(?:原)?{within}"
    r"(?:之下|下|内|旗下)?)?"
)
# "a new department, Data and Digital", "a unit called Atlas": the name after the kind.
_EN_CALLED = (
    r"(?:(?:[\w-]+\s+){0,2}?(?:department|unit|team|group|division|line|business|function|"
    r"center|centre|office|lab|organisation|organization|entity|subsidiary|company|studio)"
    r"(?:\s*,\s*|\s+(?:called|named|known\s+as)\s+)(?=(?-i:[A-Z])|[\u4e00-\u9fff\"“']))?"
)
_SLOT = re.compile(r"\{(\w+)\}")
# What may stand before a subject slot: optional words only, such as (?:将)?.
_OPTIONAL_ONLY = re.compile(r"(?:\(\?:[^()]*\)\?)*")


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")
    lang: Lang
    op: Op
    confidence: float = Field(gt=0, le=1)
    pattern: str | list[str]
    example: str = Field(min_length=1)


class _Words(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    unit: dict[Lang, list[str]] = Field(default_factory=dict)
    kinds: dict[str, list[str]] = Field(default_factory=dict)
    hedges: dict[Lang, list[str]] = Field(default_factory=dict)
    denials: dict[Lang, list[str]] = Field(default_factory=dict)
    structural: dict[Lang, list[str]] = Field(default_factory=dict)
    leading: dict[Lang, list[str]] = Field(default_factory=dict)
    top: dict[Lang, list[str]] = Field(default_factory=dict)


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    phrases: list[_Row] = Field(default_factory=list)
    words: _Words = Field(default_factory=_Words)


@dataclass(frozen=True)
class Phrase:
    """One row of the table: a way of saying an operation, compiled."""

    id: str
    lang: str
    op: str
    confidence: float
    patterns: tuple[re.Pattern[str], ...]
    example: str
    subject: frozenset[str]  # slots that open a pattern: trimmed from the left when matched


@dataclass(frozen=True)
class Hit:
    """Where a phrase matched a sentence, and what its slots hold."""

    phrase: Phrase
    start: int
    end: int
    slots: Mapping[str, str]
    negated: bool

    def overlaps(self, other: Hit) -> bool:
        return self.start < other.end and other.start < self.end


@dataclass(frozen=True)
class Words:
    """The word lists of the table, per language."""

    unit: Mapping[str, tuple[str, ...]]
    kinds: Mapping[str, tuple[str, ...]]
    hedges: Mapping[str, tuple[str, ...]]
    denials: Mapping[str, tuple[str, ...]]
    structural: Mapping[str, tuple[str, ...]]
    leading: Mapping[str, tuple[str, ...]]
    top: Mapping[str, tuple[str, ...]]

    @cached_property
    def generic(self) -> frozenset[str]:
        """The English unit words, lower case: what a name's core leaves out."""
        return frozenset(w.lower() for w in self.unit.get("en", ()))

    @cached_property
    def leading_first(self) -> Mapping[str, tuple[str, ...]]:
        """The leading words of each language, longest first (so 新组建的 before 新)."""
        return {lang: tuple(sorted(ws, key=len, reverse=True)) for lang, ws in self.leading.items()}

    @cached_property
    def zh_marks(self) -> tuple[str, ...]:
        """The Chinese unit words, longest first (so 事业部 before 部)."""
        return tuple(sorted(self.unit.get("zh", ()), key=len, reverse=True))


@dataclass(frozen=True)
class Phrases:
    """The whole table: rows in the order they are tried, and the word lists."""

    rows: tuple[Phrase, ...]
    words: Words

    def hits(self, sentence: str, lang: str, accept: Callable[[Hit], int | None]) -> list[Hit]:
        """The matches of the language's rows, rows in order, each accepted and not overlapping.

        `accept` drafts what a match says and gives where its words really start (the
        words before a subject's name are not its own), or None to refuse it: a refused
        match, or the words before an accepted one, stay free for the rows after it.
        """
        taken: list[Hit] = []
        for row in self.rows:
            if row.lang != lang:
                continue
            for pattern in row.patterns:
                at = 0
                while (found := pattern.search(sentence, at)) is not None:
                    hit = _hit(row, found)
                    start = None
                    if hit is not None and not any(hit.overlaps(t) for t in taken):
                        start = accept(hit)
                    if hit is not None and start is not None:
                        taken.append(replace(hit, start=max(hit.start, min(start, hit.end))))
                        at = max(found.end(), found.start() + 1)
                    else:
                        at = found.start() + 1
        return sorted(taken, key=lambda h: h.start)


def _hit(row: Phrase, found: re.Match[str]) -> Hit | None:
    slots = {k: v.strip() for k, v in found.groupdict().items() if v and not k.startswith("neg_")}
    if not slots:
        return None
    negated = any(v for k, v in found.groupdict().items() if k.startswith("neg_"))
    return Hit(row, found.start(), found.end(), slots, negated)


def _expand(pattern: str, lang: str, where: str) -> tuple[str, frozenset[str]]:
    """The regular expression a row's pattern stands for, and its subject slots."""
    counter = iter(range(1, 1000))
    subject: set[str] = set()
    last = [""]
    pattern = pattern.replace("{within}", _EN_WITHIN if lang == "en" else _ZH_WITHIN)
    pattern = pattern.replace("{called}", _EN_CALLED if lang == "en" else "")

    def slot(found: re.Match[str]) -> str:
        name = found.group(1)
        if name == "aux":
            return rf"\s*,?(?:\s+(?:{_EN_AUX}|(?P<neg_{next(counter)}>{_EN_NEGATIONS})))*\s+"
        if name == "zaux":
            return rf"(?:{_ZH_AUX}|(?P<neg_{next(counter)}>{_ZH_NEGATIONS}))*"
        if name == "end":
            return _EN_LIST_END if last[0] in LIST_SLOTS else _EN_END
        if name == "zend":
            return _ZH_END
        if name not in LIST_SLOTS | NAME_SLOTS:
            raise ExtractError(f"{where}: unknown slot {{{name}}}")
        if _OPTIONAL_ONLY.fullmatch(pattern[: found.start()]):
            subject.add(name)
        last[0] = name
        if lang == "en":
            body = _EN_LIST if name in LIST_SLOTS else _EN_ONE
        else:
            body = _ZH_LIST if name in LIST_SLOTS else _ZH_ONE
        start = r"(?<![\w'’-])" if lang == "en" else ""
        return f"(?P<{name}>{start}{body})"

    return _SLOT.sub(slot, pattern), frozenset(subject)


def _compile(row: _Row, where: str) -> Phrase:
    sources = [row.pattern] if isinstance(row.pattern, str) else row.pattern
    compiled: list[re.Pattern[str]] = []
    subject: set[str] = set()
    for source in sources:
        names = set(_SLOT.findall(source)) & (LIST_SLOTS | NAME_SLOTS)
        if not any(need <= names for need in SLOTS_OF[row.op]):
            needs = " or ".join(
                "+".join(f"{{{s}}}" for s in sorted(need)) for need in SLOTS_OF[row.op]
            )
            raise ExtractError(f"{where}: phrase {row.id} ({row.op}) needs the slots {needs}")
        text, first = _expand(source, row.lang, f"{where}: phrase {row.id}")
        try:
            compiled.append(re.compile(text, re.IGNORECASE))
        except re.error as exc:
            raise ExtractError(f"{where}: phrase {row.id}: bad pattern: {exc}") from None
        subject |= first
    return Phrase(
        row.id, row.lang, row.op, row.confidence, tuple(compiled), row.example, frozenset(subject)
    )


def _read(text: str, where: str) -> _Table:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise ExtractError(f"{where}{line}: not valid YAML") from None
    try:
        return _Table.model_validate(data if data is not None else {})
    except ValidationError as exc:
        first = exc.errors()[0]
        at = ".".join(str(p) for p in first["loc"])
        raise ExtractError(f"{where}: {at}: {first['msg']}") from None


def _words(tables: Sequence[_Table]) -> Words:
    def merged(pick: str) -> dict[str, tuple[str, ...]]:
        out: dict[str, list[str]] = {}
        for table in tables:
            for key, values in getattr(table.words, pick).items():
                out.setdefault(key, []).extend(v for v in values if v not in out.get(key, []))
        return {k: tuple(v) for k, v in out.items()}

    return Words(
        merged("unit"),
        merged("kinds"),
        merged("hedges"),
        merged("denials"),
        merged("structural"),
        merged("leading"),
        merged("top"),
    )


@cache
def _builtin() -> _Table:
    path = Path(__file__).with_name("phrases.yaml")
    return _read(path.read_text(encoding="utf-8"), "phrases.yaml")


def load(extra: Sequence[str | Path] = ()) -> Phrases:
    """The built-in table, with the rows of each extra file tried first."""
    return _load(tuple(str(p) for p in extra)) if extra else _builtin_phrases()


@cache
def _builtin_phrases() -> Phrases:
    return _load(())


def _load(extra: tuple[str, ...]) -> Phrases:
    tables: list[tuple[_Table, str]] = []
    for path in extra:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ExtractError(f"cannot read {path}: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise ExtractError(f"{path}: not UTF-8 text") from None
        tables.append((_read(text, str(path)), str(path)))
    tables.append((_builtin(), "phrases.yaml"))
    rows: list[Phrase] = []
    taken: set[str] = set()
    for table, where in tables:
        ids = [row.id for row in table.phrases]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise ExtractError(f"{where}: phrase {twice[0]} is defined twice")
        # A row of an added file replaces the built-in row of the same id.
        rows.extend(_compile(row, where) for row in table.phrases if row.id not in taken)
        taken.update(ids)
    return Phrases(tuple(rows), _words([t for t, _ in tables]))
