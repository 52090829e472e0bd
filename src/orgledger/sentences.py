"""An announcement cut into sentences (English and Chinese), and the dates it gives."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from .mentions import is_chinese

LONGEST = 2000  # characters; a longer "sentence" is cut at its clauses

_ABBREVIATIONS = (
    "mr|mrs|ms|dr|prof|inc|co|corp|ltd|llc|plc|st|vs|etc|e\\.g|i\\.e|jan|feb|mar|apr|jun|"
    "jul|aug|sep|sept|oct|nov|dec|u\\.s|u\\.k|approx|dept|est"
)
# Where a sentence ends: after . ! ? before a space and a capital, a digit, a quote or
# CJK (unless the word before is an abbreviation or an initial); after 。！？；; at a
# blank line or before a bullet.
_END = re.compile(
    r"(?<=[.!?])[\"'”’)]*\s+(?=[\"'“‘(]?[A-Z0-9\u4e00-\u9fff])"
    r"|(?<=[。！？；!?])[”’」』)）]*\s*"
    r"|\n[ \t]*\n\s*"
    r"|\n(?=[ \t]*\|)|(?<=\|)[ \t]*\n"
    r"|\n(?=[ \t]*(?:[-*•·●▪◦]|\d{1,2}[.、)）]|[一二三四五六七八九十]+、"
    r"|（[一二三四五六七八九十\d]+）))"
    r"|(?P<newline>\n)"
)
# A single line break ends a sentence after a line that reads like a heading: short,
# without closing punctuation, not ending on a word that carries on.
_HEADING = re.compile(r"^.{1,60}(?<![.,;:!?，。；：、—–-])$")
_CARRIES_ON = re.compile(r"\b(?:and|or|the|of|to|a|an|in|for|with|by)$", re.IGNORECASE)
_NUMBER_SIGN = re.compile(r"\bno\.$", re.IGNORECASE)
_NOT_AN_END = re.compile(rf"(?:\b(?:{_ABBREVIATIONS})|\b[A-Z])\.$", re.IGNORECASE)
_BULLET = re.compile(
    r"^\s*(?:[-*•·●▪◦]|\d{1,2}[.、)）]|[一二三四五六七八九十]+、|（[一二三四五六七八九十\d]+）)\s*"
)


@dataclass(frozen=True)
class Sentence:
    """A sentence as it reads (whitespace collapsed), the line it starts on, its language."""

    text: str
    line: int
    lang: str


def _pieces(text: str) -> list[tuple[int, str]]:
    out: list[tuple[int, str]] = []
    start = 0
    for found in _END.finditer(text):
        if _NOT_AN_END.search(text, max(0, found.start() - 8), found.start()):
            continue
        if (
            _NUMBER_SIGN.search(text, max(0, found.start() - 4), found.start())
            and text[found.end() : found.end() + 1].isdigit()
        ):
            continue  # "No. 5"
        if found.lastgroup == "newline":
            line = text[text.rfind("\n", 0, found.start()) + 1 : found.start()].strip()
            if not _HEADING.match(line) or _CARRIES_ON.search(line) or line.islower():
                continue
        out.append((start, text[start : found.start()]))
        start = found.end()
    out.append((start, text[start:]))
    return out


def _clean(raw: str) -> str:
    """Whitespace collapsed; a line break inside Chinese text joins without a space."""
    raw = _BULLET.sub("", raw)
    raw = re.sub(r"(?<=[\u4e00-\u9fff，、])\s*\n\s*(?=[\u4e00-\u9fff])", "", raw)
    return " ".join(raw.split())


def _abbreviated(raw: str) -> list[tuple[int, str]]:
    """A long run cut at its clause marks, or else at spaces, so no piece passes LONGEST."""
    out: list[tuple[int, str]] = []
    start = 0
    while len(raw) - start > LONGEST:
        window = raw[start : start + LONGEST]
        cut = max(window.rfind(mark) for mark in (",", ";", "，", "；", "、"))
        if cut < LONGEST // 2:
            cut = window.rfind(" ")
        if cut < LONGEST // 2:
            cut = LONGEST - 1
        out.append((start, raw[start : start + cut + 1]))
        start += cut + 1
    out.append((start, raw[start:]))
    return out


def sentences(text: str) -> list[Sentence]:
    """The sentences of a text, in order, each with the line (from 1) it starts on."""
    lines = [0]
    for found in re.finditer("\n", text):
        lines.append(found.end())
    out: list[Sentence] = []
    for start, raw in _pieces(text):
        for offset, piece in _abbreviated(raw):
            lead = len(piece) - len(piece.lstrip())
            clean = _clean(piece)
            if not clean:
                continue
            at = start + offset + lead
            line = sum(1 for begin in lines if begin <= at)
            out.append(Sentence(clean, line, "zh" if is_chinese(clean) else "en"))
    return out


_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for name in names
}
_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))
# A year is optional but for ISO dates: "5 June", "July 1", "4月1日" take theirs from the
# first full date of the text (a dateline, a letter's date).
_DATES = re.compile(
    r"(?P<iso>(?P<y1>\d{4})-(?P<m1>\d{1,2})-(?P<d1>\d{1,2}))"
    rf"|(?P<dmy>(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?\s+(?P<m2>{_MONTH})\b\.?(?:,?\s+(?P<y2>\d{{4}}))?)"
    rf"|(?P<mdy>(?P<m3>{_MONTH})\b\.?\s+(?P<d3>\d{{1,2}})\b(?:st|nd|rd|th)?(?:,?\s+(?P<y3>\d{{4}}))?)"
    r"|(?P<zh>(?:(?P<y4>\d{4})\s*年\s*)?(?P<m4>\d{1,2})\s*月\s*(?P<d4>\d{1,2})\s*[日号])",
    re.IGNORECASE,
)
_EFFECTIVE = re.compile(
    r"(?:effective|with\s+effect\s+from|takes?\s+effect|took\s+effect|starting|from|as\s+of|"
    r"as\s+from|beginning)\s*(?:on\s+|from\s+)?(?:(?:mon|tues|wednes|thurs|fri|satur|sun)day,?\s+)?"
    r"(?:the\s+)?$|(?:becomes?|will\s+be|is|are)\s+(?:operational|live|in\s+force)\s+(?:on|from)\s+$|"
    r"(?:opens?|launch(?:es)?|starts?|begins?|goes\s+live|closes?)\s+on\s+$|"
    r"(?:自|从)(?:今年|明年|本年度?)?\s*$",
    re.IGNORECASE,
)
_EFFECTIVE_AFTER = re.compile(
    r"^\s*(?:起|开始)?\s*(?:正式)?(?:生效|实施|执行|施行|起生效|运行|启用|完成|挂牌|成立)"
)


@dataclass(frozen=True)
class Dated:
    """A date the text gives: the date, the words, the line, and whether it says when."""

    day: date
    words: str
    line: int
    effective: bool


def _found(text: str) -> list[tuple[int | None, int, int, re.Match[str]]]:
    out = []
    for found in _DATES.finditer(text):
        g = found.groupdict()
        for y, m, d in (
            ("y1", "m1", "d1"),
            ("y2", "m2", "d2"),
            ("y3", "m3", "d3"),
            ("y4", "m4", "d4"),
        ):
            if g[m] is None:
                continue
            month = g[m]
            number = int(month) if month.isdigit() else _MONTHS[month.lower()]
            out.append((int(g[y]) if g[y] else None, number, int(g[d]), found))
            break
    return out


def dates(text: str) -> list[Dated]:
    """Every real date the text writes out (2018-09-30, 30 September 2018, 2018年9月30日;
    5 June or 4月1日 in the year of the text's first full date)."""
    found = _found(text)
    first: date | None = None
    for year, month, day, _ in found:
        if year is not None:
            try:
                first = date(year, month, day)
                break
            except ValueError:
                continue
    out: list[Dated] = []
    for year, month, day, match in found:
        try:
            if year is not None:
                when = date(year, month, day)
            elif first is not None:
                when = date(first.year, month, day)
                if (first - when).days > 60:
                    when = date(first.year + 1, month, day)
            else:
                continue
        except ValueError:
            continue
        before = text[max(0, match.start() - 40) : match.start()]
        after = text[match.end() : match.end() + 12]
        effective = bool(_EFFECTIVE.search(before) or _EFFECTIVE_AFTER.search(after))
        line = text.count("\n", 0, match.start()) + 1
        out.append(Dated(when, match.group(0), line, effective))
    return out


def effective_date(text: str) -> Dated | None:
    """The date a change takes effect: the first said to be so ("effective 1 October"), else the
    first full date written."""
    found = dates(text)
    said = [d for d in found if d.effective]
    full = [d for d in found if re.search(r"\d{4}", d.words)]
    return (said or full or [None])[0]  # type: ignore[list-item]


# A non-restrictive relative clause (", which administers ... ,") says something about a
# name, not what happens to it: it is left out when phrases are matched.
RELATIVE = re.compile(
    r",\s*(?:which|who|whose|where|led\s+by|headed\s+by|run\s+by|based\s+in|formerly|"
    r"previously|currently)\b(?:[^,;:]|(?<=\d),(?=\d))*(?=,)",
    re.IGNORECASE,
)


def plain(sentence: Sentence) -> str:
    """The sentence as phrases read it: English relative clauses blanked, same length."""
    if sentence.lang != "en":
        return sentence.text
    return RELATIVE.sub(lambda m: " " * len(m.group(0)), sentence.text)
