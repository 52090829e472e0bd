"""How well `orgledger extract` reads announcements: precision and recall over a corpus.

Each case is ARTICLE.txt beside ARTICLE.yaml, the draft a careful analyst would
write (see tests/announcements/heldout/README.md). An operation counts as found
when the draft has one of the same kind on the same units: ledger units by id,
new units by any name or abbreviation they share (ids of new units do not
matter); a move counts per unit, a merge by its sources and target, a split by
its unit and targets, a create with its parent, a rename with its new names.

    python -m benchmarks.extraction [CASE_DIR ...]
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from orgledger.announcements import Draft, extract
from orgledger.ledger import Ledger
from orgledger.lookup import normal
from orgledger.phrases import load

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "announcements"
SETS = ("dev", "heldout", "blind", "blind2", "blind3", "blind4", "blind5", "blind6")

New = frozenset[str]
Ref = str | New


@dataclass(frozen=True)
class Case:
    name: str
    text: str
    org: str
    root: str
    effective: date
    given: bool
    ops: list[dict[str, Any]]
    kept: frozenset[str]


@dataclass(frozen=True)
class Score:
    case: str
    expected: int
    found: int
    right: int
    missed: tuple[str, ...]
    wrong: tuple[str, ...]
    kept_expected: int
    kept_right: int
    draft: Draft


def cases(folder: Path) -> Iterator[Case]:
    for text in sorted(folder.glob("*.txt")):
        spec = yaml.safe_load(text.with_suffix(".yaml").read_text(encoding="utf-8"))
        effective = spec["effective"]
        yield Case(
            text.stem,
            text.read_text(encoding="utf-8"),
            spec["org"],
            spec["root"],
            effective if isinstance(effective, date) else date.fromisoformat(str(effective)),
            bool(spec.get("given_effective")),
            spec.get("ops") or [],
            frozenset(spec.get("kept") or []),
        )


@cache
def ledger_of(org: str) -> Ledger:
    """A ledger holding the organization before its announcements (built once per run)."""
    folder = Path(tempfile.mkdtemp(prefix="orgledger-extract-"))
    ledger = Ledger.init(folder / f"{org}.db")
    if org == "tencent":
        from orgledger.demo import example_plans

        ledger.apply(*example_plans())
    else:
        ledger.apply(CORPUS / "orgs" / f"{org}.yaml")
    return ledger


def _names(body: Mapping[str, Any]) -> New:
    texts = [*(body.get("names") or {}).values(), body.get("abbr")]
    return frozenset(normal(str(t)) for t in texts if t)


def canonical(ops: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """The operations as comparable tuples, new units as their sets of names."""
    new: dict[str, New] = {}

    def made(body: Mapping[str, Any]) -> None:
        new[str(body["create"])] = _names(body)

    for op in ops:
        if "create" in op:
            made(op)
        into = op.get("into")
        if isinstance(into, dict) and "create" in into:
            made(into)
        if isinstance(into, list):
            for item in into:
                if "create" in item:
                    made(item)

    def ref(uid: Any) -> Ref:
        return new.get(str(uid), str(uid)) if uid is not None else "-"

    out: list[tuple[Any, ...]] = []
    for op in ops:
        if "create" in op:
            out.append(("create", ref(op["create"]), ref(op.get("parent"))))
        elif "merge" in op:
            into = op["into"]
            target = ref(into["create"]) if isinstance(into, dict) else ref(into)
            out.append(("merge", frozenset(ref(u) for u in op["merge"]), target))
            if isinstance(into, dict):
                out.append(("create", target, ref(into.get("parent"))))
        elif "split" in op:
            items = [ref(i["create"]) if "create" in i else ref(i["to"]) for i in op["into"]]
            out.append(("split", ref(op["split"]), frozenset(items)))
            for item in op["into"]:
                if "create" in item:
                    out.append(("create", ref(item["create"]), ref(item.get("parent"))))
        elif "move" in op:
            units = op["move"] if isinstance(op["move"], list) else [op["move"]]
            out.extend(("move", ref(u), ref(op["to"])) for u in units)
        elif "rename" in op:
            out.append(("rename", ref(op["rename"]), _names(op)))
        elif "dissolve" in op:
            out.append(("dissolve", ref(op["dissolve"])))
    return out


def _ref_eq(a: Ref, b: Ref) -> bool:
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    return bool(a & b)


def _refs_eq(a: frozenset[Ref], b: frozenset[Ref]) -> bool:
    left = list(b)
    if len(a) != len(b):
        return False
    for x in a:
        match = next((y for y in left if _ref_eq(x, y)), None)
        if match is None:
            return False
        left.remove(match)
    return True


def _agree(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    if a[0] != b[0]:
        return False
    if a[0] == "merge":
        return _refs_eq(a[1], b[1]) and _ref_eq(a[2], b[2])
    if a[0] == "split":
        return _ref_eq(a[1], b[1]) and _refs_eq(a[2], b[2])
    if a[0] == "rename":
        return _ref_eq(a[1], b[1]) and bool(a[2] & b[2])
    return all(_ref_eq(x, y) for x, y in zip(a[1:], b[1:], strict=True))


def score(case: Case) -> Score:
    ledger = ledger_of(case.org)
    draft = extract(
        case.text,
        lambda day: ledger.at(day).units,
        load(),
        root=case.root,
        effective=case.effective if case.given else None,
        name=case.name,
        taken=set(ledger.vocabulary().latest),
        recorded=[r.id for r in ledger.records],
    )
    got = canonical(draft.plan()["ops"])
    want = canonical(case.ops)
    free = list(got)
    missed = []
    for op in want:
        match = next((g for g in free if _agree(op, g)), None)
        if match is None:
            missed.append(_show(op))
        else:
            free.remove(match)
    if draft.effective != case.effective:
        missed.append(f"effective {case.effective} (draft: {draft.effective})")
        free.append(("effective", str(draft.effective)))
    kept = {k.unit for k in draft.kept}
    return Score(
        case.name,
        len(want) + 1,
        len(got) + 1,
        len(want) + 1 - len(missed),
        tuple(missed),
        tuple(_show(g) for g in free),
        len(case.kept),
        len(case.kept & kept),
        draft,
    )


def _show(op: tuple[Any, ...]) -> str:
    def one(x: Any) -> str:
        if isinstance(x, frozenset):
            return "{" + ", ".join(sorted(one(i) for i in x)) + "}"
        return str(x)

    return " ".join(one(x) for x in op)


def totals(scores: list[Score]) -> tuple[float, float]:
    right = sum(s.right for s in scores)
    found = sum(s.found for s in scores)
    expected = sum(s.expected for s in scores)
    return right / found if found else 1.0, right / expected if expected else 1.0


def main(argv: list[str]) -> int:
    folders = [Path(a) for a in argv] or [CORPUS / s for s in SETS]
    for folder in folders:
        scores = [score(c) for c in cases(folder)]
        print(f"{folder.name}: {len(scores)} announcements")
        for s in scores:
            print(f"  {s.case:40} {s.right}/{s.expected} found, {s.found - s.right} wrong")
            for m in s.missed:
                print(f"      missed: {m}")
            for w in s.wrong:
                print(f"      wrong:  {w}")
        precision, recall = totals(scores)
        kept = sum(s.kept_right for s in scores), sum(s.kept_expected for s in scores)
        print(
            f"  precision {precision:.3f}  recall {recall:.3f}  "
            f"(operations and the date; kept units {kept[0]}/{kept[1]})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
