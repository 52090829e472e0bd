"""Names in an announcement: reading one ("Cloud Group (云事业群, CG)") and matching it to units.

A mention is what the text calls a unit: a main name, names and an abbreviation
in brackets after it, and whether the text calls it new. The matcher scores a
mention against the names, abbreviations and ids of the ledger's units: exact
(100), the same name but for a generic word or a plural ("Consumer Device Group"
for "Consumer Devices Division", 90), a Chinese name with words before it
(整合智能制造部 for 智能制造部, 90), or as close as rapidfuzz finds (its score).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property

from rapidfuzz import fuzz, process

from .lookup import normal
from .model import Unit
from .phrases import Words

MATCH = 80.0  # the least score that names a unit
CLEAR = 4.0  # a rival within this many points makes a match ambiguous

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")
_CAPITALS = re.compile(r"(?<![A-Za-z])[A-Z][A-Z0-9&]+(?![A-Za-z])")
_BRACKET = re.compile(r"\(([^()]*)\)|\[([^\[\]]*)\]|（([^（）]*)）|【([^【】]*)】")
_ITEM_SEP = re.compile(r"\s*(?:[,，、;；/]|\bor\b|\baka\b|also known as|简称|英文名|即)\s*")
_ABBR = re.compile(r"[A-Za-z][A-Za-z0-9&.+-]{0,11}")
_QUOTES = "\"'“”‘’「」『』"
_NEW_WORDS = frozenset({"single", "joint", "combined", "unified"})
_ZH_TAIL = re.compile(
    r"的(?:相关|全部|部分)?(?:业务|团队|人员|职能)$|(?:相关)?业务$|建制$|等.*$|"
    r"的(?:议案|决定|通知|公告|方案|批复|请示)》?$"
)
_LEADING_PREPOSITION = re.compile(
    r"(?:of|in|within|under|at|for|from|to|by|with|after|following)\s", re.IGNORECASE
)
# Where words after a subject's name begin: "Commercial as a single division", "The new
# office opens on 1 June and".
AFTER_NAME = re.compile(
    r"\s+(?=(?:as|in|on|at|with|for|from|after|across|and|opens?|starts?|begins?|launch(?:es)?)\b)"
)
_STOP = frozenset({"the", "of", "and", "&", "for", "a", "an"})


def is_chinese(text: str) -> bool:
    """Whether a text is mostly Chinese: its CJK characters outweigh half its Latin letters
    (abbreviations in capitals, such as CSIG, do not count)."""
    latin = _LATIN.findall(_CAPITALS.sub("", text))
    return len(_CJK.findall(text)) * 2 > len(latin)


def looks_like_abbr(text: str) -> bool:
    return bool(_ABBR.fullmatch(text)) and sum(c.isupper() for c in text) >= 2


@dataclass(frozen=True)
class Mention:
    """What the text calls a unit."""

    text: str
    names: Mapping[str, str]
    abbr: str | None = None
    new: bool = False
    others: tuple[str, ...] = ()

    @property
    def terms(self) -> tuple[str, ...]:
        return tuple(t for t in (*self.names.values(), self.abbr, *self.others) if t)

    @property
    def label(self) -> str:
        return self.text

    @property
    def empty(self) -> bool:
        return not self.terms


def _strip_leading(text: str, words: Words) -> tuple[str, bool]:
    """The text without the articles, "new" and stuck verbs before it; and whether "new" was."""
    new = False
    zh = words.leading_first.get("zh", ())
    en = words.leading_first.get("en", ())
    changed = True
    while changed and text:
        changed = False
        for word in zh:
            if text.startswith(word) and len(text) > len(word):
                new = new or "新" in word
                text = text[len(word) :].lstrip()
                changed = True
                break
        for word in en:
            if re.match(rf"{re.escape(word)}\b\s+", text, re.IGNORECASE):
                new = new or word.lower() in _NEW_WORDS or "new" in word.lower()
                text = text[len(word) :].lstrip()
                changed = True
                break
    if text.endswith("'s") or text.endswith("’s"):
        text = text[:-2]
    # "JRT's News Centre", "the airline's Engineering division": the owner is not the name
    # (but Women's Health is one).
    owner = re.match(r"(?:[A-Z][A-Z&.]+|[a-z][a-z-]*)(?:'s|’s)\s+(?=\S)", text)
    if owner is not None:
        text = text[owner.end() :]
    return text.strip(), new


def read_mention(text: str, words: Words) -> Mention:
    """A mention as written: the main name, then what the brackets at its end give."""
    text = " ".join(text.split()).strip(_QUOTES + " ")
    items: list[str] = []
    trailing = text
    while (found := re.search(r"\s*(?:" + _BRACKET.pattern + r")\s*$", trailing)) is not None:
        inner = next(g for g in found.groups() if g is not None)
        items[:0] = [i.strip(_QUOTES + " ") for i in _ITEM_SEP.split(inner) if i.strip()]
        trailing = trailing[: found.start()]
    # A bracket inside the name qualifies it ("原网络媒体事业群(OMG)广告线"): dropped.
    main = _BRACKET.sub("", trailing)
    main = " ".join(main.split()).strip(_QUOTES + " ")
    main, new = _strip_leading(main, words)
    if is_chinese(main):
        main = main.removesuffix("等")
        trimmed = _ZH_TAIL.sub("", main)
        main = trimmed if len(trimmed) >= 2 else main
    names: dict[str, str] = {}
    abbr: str | None = None
    others: list[str] = []
    for item in (main, *items):
        if not item:
            continue
        if looks_like_abbr(item) and " " not in item:
            if abbr is None:
                abbr = item
                continue
        elif is_chinese(item):
            if "zh" not in names:
                names["zh"] = item
                continue
        elif "en" not in names:
            names["en"] = item
            continue
        others.append(item)
    return Mention(text, names, abbr, new, tuple(others))


def split_list(text: str) -> list[tuple[str, str]]:
    """The items of a list ("A, B and C", "A、B和C"), each with the separator before it.

    Separators inside brackets do not count. The caller decides which separators
    really separate ("Sales and Marketing" may be one unit).
    """
    parts: list[tuple[str, str]] = []
    depth = 0
    start = 0
    sep_before = ""
    i = 0
    separators = re.compile(r",\s*and\s+|,\s*or\s+|\s+and\s+|\s+&\s+|,\s*|、|和|与|及|以及|;\s*")
    while i < len(text):
        ch = text[i]
        if ch in "([（【":
            depth += 1
        elif ch in ")]）】":
            depth = max(0, depth - 1)
        elif depth == 0 and (found := separators.match(text, i)) is not None:
            parts.append((sep_before, text[start:i]))
            sep_before = found.group(0)
            i = found.end()
            start = i
            continue
        i += 1
    parts.append((sep_before, text[start:]))
    return [(s, p.strip()) for s, p in parts if p.strip()]


def learned(words: Words, units: Mapping[str, Unit]) -> Words:
    """The word lists with the words this organization uses for its units: its kinds
    ("market", "service-line"), and the last word of English names and the last one or two
    characters of Chinese names that two units or more share ("Practice", 学院, 系)."""
    en: dict[str, int] = {}
    zh: dict[str, int] = {}
    for unit in units.values():
        for token in re.split(r"[-_\s]+", unit.kind.lower()):
            en[token] = en.get(token, 0) + 2
        for name in unit.names.values():
            if is_chinese(name):
                for size in (1, 2):
                    if len(name) > size:
                        zh[name[-size:]] = zh.get(name[-size:], 0) + 1
            elif len(name.split()) > 1:
                last = name.split()[-1].lower()
                en[last] = en.get(last, 0) + 1
    more_en = [w for w, n in en.items() if n >= 2 and w.isalpha() and len(w) > 2]
    more_zh = [w for w, n in zh.items() if n >= 2 and is_chinese(w)]
    unit_words = {
        "en": (*words.unit.get("en", ()), *more_en),
        "zh": (*words.unit.get("zh", ()), *more_zh),
    }
    return replace(words, unit=unit_words)


def core(text: str, words: Words) -> str:
    """A name without its trailing generic words ("Group", "Dept"), stop words and plurals:
    what stays when the kind word is swapped. Generic words inside a name stay: Base
    Maintenance and Line Maintenance are two names."""
    found = [w for w in re.findall(r"[\w&'-]+", normal(text)) if w not in _STOP]
    while found and found[-1] in words.generic:
        found.pop()
    return " ".join(w[:-1] if len(w) > 3 and w.endswith("s") else w for w in found)


def looks_like_unit(mention: Mention, words: Words) -> bool:
    """Whether a name that matches no unit still reads like one (not like a person or a thing)."""
    if mention.abbr or len(mention.names) > 1:
        return True
    if any(len(name.split()) > 8 for name in mention.names.values()):
        return False  # a clause, not a name
    en = words.generic
    for name in mention.names.values():
        if is_chinese(name):
            if any(name.endswith(w) for w in words.unit.get("zh", ())):
                return True
        elif any(w in en for w in re.findall(r"[\w&'-]+", name.lower())):
            return True
    return False


@dataclass(frozen=True)
class Candidate:
    unit: str
    score: float
    how: str
    term: str


@dataclass(frozen=True)
class Resolved:
    """A mention matched: the unit, or None; the score and how; rivals make it ambiguous."""

    mention: Mention
    unit: str | None
    score: float = 0.0
    how: str = ""
    rivals: tuple[Candidate, ...] = ()

    @property
    def ambiguous(self) -> bool:
        return bool(self.rivals)

    def describe(self) -> str:
        if self.unit is None and not self.rivals:
            return f"'{self.mention.label}' matches no unit"
        if self.rivals:
            options = ", ".join(f"{c.unit} ({c.score:.0f})" for c in self.rivals)
            return f"'{self.mention.label}' is ambiguous: {options}"
        return f"'{self.mention.label}' -> {self.unit} ({self.score:.0f}, {self.how})"


@dataclass
class Matcher:
    """Scores mentions against the units of a snapshot (and new units of the draft)."""

    units: Mapping[str, Unit]
    words: Words
    kinds: frozenset[str] = frozenset()  # words for kinds of unit ("market"), beyond the table's
    aliases: dict[str, str] = field(default_factory=dict)  # short names the text defines

    @cached_property
    def _terms(self) -> tuple[dict[str, list[str]], dict[str, set[str]]]:
        """Every unit's abbreviation and names, normalized, by language; and the units of
        each term."""
        owners: dict[str, set[str]] = {}
        for uid, unit in self.units.items():
            # Not the ids: announcements do not use them, and an id can be a word ("to").
            for text in (unit.abbr, *unit.names.values()):
                if text:
                    owners.setdefault(normal(text), set()).add(uid)
        pools: dict[str, list[str]] = {"en": [], "zh": []}
        for term in owners:
            pools["zh" if is_chinese(term) else "en"].append(term)
        return pools, owners

    @cached_property
    def _cores(self) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for uid, unit in self.units.items():
            for name in unit.names.values():
                if not is_chinese(name) and (c := core(name, self.words)):
                    out.setdefault(c, set()).add(uid)
        return out

    @cached_property
    def _cores_by_first_word(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for name in self._cores:
            out.setdefault(name.split()[0], []).append(name)
        return out

    def _shortened(self, key: str) -> set[str]:
        """Units whose name begins with these words ("Respiratory" for Respiratory Medicine)."""
        if not key:
            return set()
        out: set[str] = set()
        for name in self._cores_by_first_word.get(key.split()[0], ()):
            if name.startswith(key + " ") and len(name.split()) <= len(key.split()) + 2:
                out |= self._cores[name]
        return out

    def candidates(self, mention: Mention) -> list[Candidate]:
        pools, owners = self._terms
        best: dict[str, Candidate] = {}

        def offer(uid: str, score: float, how: str, term: str) -> None:
            if uid not in best or score > best[uid].score:
                best[uid] = Candidate(uid, score, how, term)

        for raw in mention.terms:
            text = normal(raw)
            for uid in owners.get(text, ()):
                how = "abbreviation" if raw == mention.abbr else "name"
                offer(uid, 100.0, how, raw)
            if text in self.aliases:
                offer(self.aliases[text], 100.0, "the short name the text gives it", raw)
            words = raw.split()
            # "R&D Center", "IT Department": an abbreviation and a kind.
            if (
                len(words) > 1
                and looks_like_abbr(words[0])
                and all(w.lower() in self.words.generic for w in words[1:])
            ):
                for uid in owners.get(normal(words[0]), ()):
                    offer(uid, 95.0, "its abbreviation and its kind", raw)
            if is_chinese(raw):
                # The longest name the text ends with: 港航局水上安全监督处 is 水上安全监督处,
                # not 安全监督处.
                for i in range(2, len(text) - 1):  # 管理学院 is not 理学院
                    tail = text[i:]
                    if len(tail) * 5 >= len(text) * 2 and tail in owners:
                        for uid in owners[tail]:
                            offer(uid, 90.0, "name with words before it", raw)
                        break
            else:
                key = core(raw, self.words)
                for uid in self._cores.get(key, ()) if key else ():
                    offer(uid, 90.0, "name but for a generic word", raw)
                for uid in self._shortened(key) if raw[:1].isupper() else ():
                    offer(uid, 85.0, "the first words of its name", raw)
                head, _, last = key.rpartition(" ")
                if head and last in self.kinds:
                    for uid in self._cores.get(head, ()):
                        offer(uid, 90.0, "its name and its kind", raw)
            chinese = is_chinese(text)
            scorer = fuzz.ratio if chinese else fuzz.token_sort_ratio
            pool = pools["zh" if chinese else "en"]
            for term, score, _ in process.extract(
                text, pool, scorer=scorer, limit=8, score_cutoff=60
            ):
                for uid in owners[term]:
                    offer(uid, float(score) * 0.97, "close name", raw)
        return sorted(best.values(), key=lambda c: (-c.score, c.unit))

    def resolve(self, mention: Mention) -> Resolved:
        found = self.candidates(mention)
        if not found or found[0].score < MATCH:
            return Resolved(mention, None)
        top = found[0]
        rivals = tuple(c for c in found[1:] if c.score >= MATCH and top.score - c.score < CLEAR)
        if rivals:
            return Resolved(mention, None, top.score, top.how, (top, *rivals))
        return Resolved(mention, top.unit, top.score, top.how)

    @cached_property
    def _owners(self) -> frozenset[str]:
        """The names of the organizations' tops, which may stand before a unit's name."""
        tops = [u for u in self.units.values() if u.parent is None]
        return frozenset(normal(t) for u in tops for t in (u.abbr, *u.names.values()) if t)

    def _breaks(self, text: str) -> list[int]:
        """Where an English name may begin: not inside a run of capitalized words
        ("Conventional Generation Division" is not Generation Division), except after an
        article or the organization's own name ("Acme Cloud Group")."""
        out = [0]
        for found in re.finditer(r"\s+", text):
            before = text[: found.start()].split()
            last = before[-1] if before else ""
            head = normal(text[: found.start()])
            if (
                not last[:1].isupper()
                or last.lower() in {"the", "a", "an", "our", "its", "new"}
                or any(head.endswith(o) for o in self._owners)
            ):
                out.append(found.end())
        return out

    def resolve_trimmed(self, text: str) -> tuple[Resolved, str]:
        """The best match among the text and its endings ("In the plan, the Cloud unit").

        Words before a unit's name at the start of a clause are not part of it; the
        longest ending that matches best wins. Without a match, the whole text.
        """
        chinese = is_chinese(text)
        starts = list(range(len(text) - 1)) if chinese else self._breaks(text)
        best: tuple[Resolved, str] | None = None
        for start in starts:
            piece = text[start:].strip()
            if not piece or _LEADING_PREPOSITION.match(piece):
                continue
            resolved = self.resolve(read_mention(piece, self.words))
            if resolved.unit is None and not resolved.rivals:
                continue
            if best is None or resolved.score > best[0].score:
                best = (resolved, piece)
        if best is None and not chinese:
            # Words after the name: "Commercial as a single division".
            for found in AFTER_NAME.finditer(text):
                piece = text[: found.start()].strip()
                resolved = self.resolve(read_mention(piece, self.words))
                if (resolved.unit or resolved.rivals) and (
                    best is None or resolved.score > best[0].score
                ):
                    best = (resolved, piece)
        if best is not None:
            return best
        return self.resolve(read_mention(text, self.words)), text


def kind_of(names: Iterable[str], words: Words) -> str:
    """The kind a new unit's name implies: its last generic word (Group, 事业部 ...), else unit."""
    for name in names:
        if is_chinese(name):
            ends = [
                (len(m), kind)
                for kind, marks in words.kinds.items()
                for m in marks
                if is_chinese(m) and name.endswith(m)
            ]
            if ends:
                return max(ends)[1]
        else:
            tokens = re.findall(r"[\w-]+", name.lower())
            for token in reversed(tokens):
                for kind, marks in words.kinds.items():
                    if token in marks:
                        return kind
    return "unit"


def is_aside(part: str) -> bool:
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


PREPOSITION = re.compile(
    r"\b(?:within|in|under|at|for|of|from|to|by|with|after|following|across|inside)\s*$",
    re.IGNORECASE,
)


def is_proper(mention: Mention) -> bool:
    """Whether a name is written as one: capitalized, in Chinese, or with an abbreviation."""
    if mention.abbr or "zh" in mention.names:
        return True
    return any(name[:1].isupper() or name[:1].isdigit() for name in mention.names.values())


def is_titled(text: str) -> bool:
    """A name in title case of two words or more ("Shanlan Games Publishing & Operations")."""
    words = [w for w in text.split() if w.lower() not in {"and", "of", "&", "the", "for"}]
    return len(words) >= 2 and all(w[:1].isupper() for w in words)


def after_article(text: str) -> str:
    """The words after the last article ("On 1 May the Payments Department" -> its name)."""
    found = list(re.finditer(r"\b(?:the|a|an|its|our|their)\s+", text, re.IGNORECASE))
    return text[found[-1].start() :] if found else text


def named_items(items: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """List items without asides: "A (GT), comprising B and C, and D" gives A and D."""
    out: list[tuple[str, str]] = []
    aside = False
    for sep, part in items:
        if aside and "," not in sep and ";" not in sep:
            continue
        aside = bool(out) and is_aside(part)
        if not aside:
            out.append((sep, part))
    return out
