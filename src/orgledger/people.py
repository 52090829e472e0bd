"""From an HR export of people to each unit's headcount, with its reporting lines checked.

`read_people(table, resolve)` checks the rows (required columns, employee ids,
units, managers that are not in the file, reporting lines that go round in a
circle) and counts each unit's direct members; every problem names its line, and
nothing is returned when there is one. `headcount_plan(people, units, ...)` turns
the counts into a change set of `set` operations. Both run in time linear in the
number of rows, for files of a million people.

People's names are read only to name a unit's head, and only when asked
(`keep_names`): a ledger is a record of structure, not a staff directory.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from .errors import ImportFileError, OrgLedgerError, shorten
from .model import WEIGHT_ATTR, Unit
from .tables import Table

REQUIRED = ("employee_id", "manager_id", "unit")
OPTIONAL = ("name", "title")
HEAD_ATTR = "head"
SHOWN = 50
"""Problems listed at most; the rest are counted in one last line."""
_HINTED = 50
"""Unknown unit references given a 'did you mean' hint at most (each scans the vocabulary)."""
_LOOP_SHOWN = 10

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class People:
    """What a people file says about the units: direct members and, when kept, their heads."""

    rows: int
    duplicates: int
    headcount: Mapping[str, int]
    """Unit id -> number of people whose unit it is (direct members, not subunits)."""
    heads: Mapping[str, str]
    """Unit id -> name of its head; empty unless names were kept."""


def unit_resolver(
    resolve: Callable[[str], str], active: Mapping[str, Unit], day: date
) -> Callable[[str], str]:
    """`resolve` (a reference to an id, raising OrgLedgerError) limited to the units active on
    `day`, remembering each answer: a million rows name a few thousand units."""
    known: dict[str, str | OrgLedgerError] = {}
    hinted = 0

    def unit_of(ref: str) -> str:
        nonlocal hinted
        answer = known.get(ref)
        if answer is None:
            if ref in active:
                answer = ref
            elif hinted >= _HINTED:
                answer = OrgLedgerError(f"no unit is called '{ref}'")
            else:
                try:
                    uid = resolve(ref)
                except OrgLedgerError as exc:
                    hinted += 1
                    answer = exc
                else:
                    answer = (
                        uid
                        if uid in active
                        else OrgLedgerError(f"unit '{uid}' is not active on {day.isoformat()}")
                    )
            known[ref] = answer
        if isinstance(answer, OrgLedgerError):
            raise answer
        return answer

    return unit_of


def read_people(
    table: Table,
    unit_of: Callable[[str], str],
    *,
    keep_names: bool = False,
    progress: Progress | None = None,
) -> People:
    """The people a table lists, counted by unit; ImportFileError lists every bad row."""
    absent = [c for c in REQUIRED if c not in table.columns]
    if absent:
        raise ImportFileError(
            f"{table.name}: no {' or '.join(absent)} column (the columns are "
            f"{', '.join(c for c in table.columns if c) or 'none'}; map yours with "
            f"--column {absent[0]}=YOUR_HEADER)"
        )
    problems: list[tuple[int, str]] = []
    name = table.name
    line_of: dict[str, int] = {}
    manager_of: dict[str, str] = {}
    unit_by: dict[str, str] = {}
    total = len(table.rows)
    for index, row in enumerate(table.rows):
        if progress is not None and index % 10_000 == 0:
            progress(index, total)
        cells = row.cells
        employee = cells.get("employee_id")
        if employee is None:
            problems.append((row.line, f"{name}:{row.line}: the row has no employee_id"))
            continue
        first = line_of.get(employee)
        if first is not None:
            problems.append(
                (
                    row.line,
                    f"{name}:{row.line}: employee '{shorten(employee)}' is given again, "
                    f"differently (first on line {first})",
                )
            )
            continue
        line_of[employee] = row.line
        manager = cells.get("manager_id")
        if manager is not None:
            manager_of[employee] = manager
        ref = cells.get("unit")
        if ref is None:
            problems.append(
                (row.line, f"{name}:{row.line}: employee '{shorten(employee)}' has no unit")
            )
            continue
        try:
            unit_by[employee] = unit_of(ref)
        except OrgLedgerError as exc:
            problems.append((row.line, f"{name}:{row.line}: unit '{shorten(ref)}': {exc.message}"))
    if progress is not None:
        progress(total, total)
    for employee, manager in manager_of.items():
        if manager not in line_of:
            line = line_of[employee]
            problems.append(
                (
                    line,
                    f"{name}:{line}: manager '{shorten(manager)}' of '{shorten(employee)}' "
                    "is not in the file (leave manager_id empty at the top of the tree)",
                )
            )
    problems += _cycles(manager_of, line_of, name)
    if problems:
        problems.sort(key=lambda p: p[0])
        shown = [text for _, text in problems[:SHOWN]]
        if len(problems) > SHOWN:
            shown.append(f"{name}: and {len(problems) - SHOWN} more problem(s)")
        raise ImportFileError("\n".join(shown))
    headcount = Counter(unit_by.values())
    heads = _heads(table, manager_of, unit_by) if keep_names else {}
    return People(total, table.duplicates, dict(headcount), heads)


def _cycles(
    manager_of: Mapping[str, str], line_of: Mapping[str, int], name: str
) -> list[tuple[int, str]]:
    """Each circle of reporting lines once, from its person earliest in the file; each person
    is walked once, so this is linear in the number of people."""
    problems: list[tuple[int, str]] = []
    settled: set[str] = set()
    for start in manager_of:
        if start in settled:
            continue
        path: dict[str, int] = {}
        node: str | None = start
        while node is not None and node not in settled and node in line_of:
            if node in path:
                loop = list(path)[path[node] :]
                first = min(range(len(loop)), key=lambda i: line_of[loop[i]])
                loop = loop[first:] + loop[:first]
                lines = sorted(line_of[p] for p in loop)
                ids = [shorten(p, 80) for p in loop[:_LOOP_SHOWN]]
                chain = " -> ".join([*ids, "..." if len(loop) > _LOOP_SHOWN else ids[0]])
                listed = ", ".join(str(n) for n in lines[:_LOOP_SHOWN])
                more = f" and {len(lines) - _LOOP_SHOWN} more" if len(lines) > _LOOP_SHOWN else ""
                problems.append(
                    (
                        lines[0],
                        f"{name}:{lines[0]}: the reporting lines go round in a circle: "
                        f"{chain} (lines {listed}{more})",
                    )
                )
                break
            path[node] = len(path)
            node = manager_of.get(node)
        settled.update(path)
    return problems


def _heads(
    table: Table, manager_of: Mapping[str, str], unit_by: Mapping[str, str]
) -> dict[str, str]:
    """Unit id -> the name of its head: of the people in the unit whose manager is not,
    the one with the most direct reports in the unit (the earliest row on a tie)."""
    reports: Counter[str] = Counter()
    for employee, manager in manager_of.items():
        if unit_by.get(manager) == unit_by[employee]:
            reports[manager] += 1
    best: dict[str, tuple[int, str]] = {}
    for row in table.rows:
        employee = row.cells["employee_id"]
        person = row.cells.get("name")
        unit = unit_by[employee]
        boss = manager_of.get(employee)
        if person is None or (boss is not None and unit_by.get(boss) == unit):
            continue
        count = reports[employee]
        if unit not in best or count > best[unit][0]:
            best[unit] = (count, person)
    return {unit: person for unit, (_, person) in best.items()}


def headcount_plan(
    people: People,
    units: Mapping[str, Unit],
    effective: date,
    *,
    source: str,
    changeset_id: str | None = None,
) -> dict[str, Any]:
    """The change set that records the file's headcounts on `effective`: one `set` per unit
    whose figure changes; a unit with a recorded headcount and nobody in the file gets 0."""
    ops: list[dict[str, Any]] = []
    for uid in sorted(units):
        unit = units[uid]
        attrs: dict[str, Any] = {}
        count = people.headcount.get(uid)
        if count is None and WEIGHT_ATTR in unit.attrs:
            count = 0
        if count is not None and unit.attrs.get(WEIGHT_ATTR) != count:
            attrs[WEIGHT_ATTR] = count
        head = people.heads.get(uid)
        if head is not None and unit.attrs.get(HEAD_ATTR) != head:
            attrs[HEAD_ATTR] = head
        if attrs:
            was = unit.attrs.get(WEIGHT_ATTR)
            note = f"{count} direct member(s) in the file" if count is not None else ""
            if count is not None and was is not None and was != count:
                note += f" (was {was})"
            op: dict[str, Any] = {"set": uid, "attrs": attrs}
            if note:
                op["notes"] = note
            ops.append(op)
    file = Path(source).name
    dropped = f" ({people.duplicates} duplicate row(s) ignored)" if people.duplicates else ""
    return {
        "id": changeset_id or f"people-{effective.isoformat()}",
        "title": f"Headcount from {file} as of {effective.isoformat()}",
        "effective": effective.isoformat(),
        "notes": (
            f"Read from {file}: {people.rows} people{dropped}. Headcount is each unit's "
            "direct members; totals over subtrees are summed when read."
        ),
        "ops": ops,
    }
