"""Bad plans: every problem is reported with file, line, operation and code; nothing is written.

The ledger under test (recorded with plan dicts, so no file of its own):

    2020-01-01 base:  acme ── a ── a1 ── a1x
                           │   └── a2
                           ├── b ── b1
                           └── gone
    2020-06-01 close: gone is dissolved

Plans are written with the `write` fixture (dedented, leading newline dropped), so line 1
is the first line of the text; the line numbers below are counted by hand in that text.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from orgledger import Ledger, PlanError, Problem

Write = Callable[[str, str], str]
DAYS = [date(2020, 1, 1), date(2020, 6, 1), date(2021, 1, 1), date(2022, 1, 1)]


def create(uid: str, parent: str | None, kind: str = "group") -> dict[str, Any]:
    return {"create": uid, "parent": parent, "kind": kind, "names": {"en": uid.upper()}}


BASE = {
    "id": "base",
    "effective": "2020-01-01",
    "ops": [
        create("acme", None, "company"),
        create("a", "acme"),
        create("a1", "a", "team"),
        create("a1x", "a1", "team"),
        create("a2", "a", "team"),
        create("b", "acme"),
        create("b1", "b", "team"),
        create("gone", "acme"),
    ],
}
CLOSE = {"id": "close", "effective": "2020-06-01", "ops": [{"dissolve": "gone"}]}


@pytest.fixture
def org(ledger: Ledger) -> Ledger:
    ledger.apply(BASE, CLOSE)
    return ledger


def state(ledger: Ledger) -> list[dict[str, Any]]:
    return [dict(ledger.at(day).units) for day in DAYS]


def refuse(ledger: Ledger, db: str, *plans: str | Path) -> list[Problem]:
    """Apply `plans` expecting a refusal; check that nothing changed; return the problems."""
    head = ledger.store.head()
    records = [r.id for r in ledger.records]
    before = state(ledger)
    with pytest.raises(PlanError) as caught:
        ledger.apply(*plans)
    assert ledger.store.head() == head
    assert [r.id for r in ledger.records] == records
    assert state(ledger) == before
    with Ledger.open(db) as reopened:
        assert reopened.store.head() == head
        assert [r.id for r in reopened.records] == records
        assert state(reopened) == before
        assert reopened.verify().ok
    problems = caught.value.problems
    assert problems, "a refusal must say why"
    return problems


def located(problem: Problem, path: str, line: int, op: str = "") -> str:
    """The problem's sentence after its `path:line: ` and `op N (kind): ` prefix, checked."""
    text = str(problem)
    prefix = f"{path}:{line}: {op}"
    assert text.startswith(prefix), f"{text!r} does not start with {prefix!r}"
    assert text.endswith(f" [{problem.code}]")
    return text[len(prefix) :]


# Each case: plan text, expected codes (in order), and for the first problem its line,
# its `op N (kind): ` prefix and a fragment of its sentence.
CASES = [
    pytest.param(
        "bad.yaml",
        """
        id: bad
        effective: 2021-01-01
        ops:
          - create: c
            parent: acme
            kind: group: team
            names: {en: C}
        """,
        ["syntax"],
        6,
        "",
        "not valid YAML",
        id="malformed-yaml",
    ),
    pytest.param(
        "bad.json",
        """
        {
          "id": "bad",
          "effective": "2021-01-01"
          "ops": []
        }
        """,
        ["syntax"],
        4,
        "",
        "not valid JSON",
        id="malformed-json",
    ),
    pytest.param(
        "bad.json",
        """
        {
          "id": "bad",
          "effective": "2021-01-01",
          "ops": [
            {"move": "a", "to": "zz"}
          ]
        }
        """,
        ["unknown-unit"],
        5,
        "op 1 (move): ",
        "unit 'zz' does not exist",
        id="json-plan-with-a-bad-op",
    ),
    pytest.param(
        "bad.yaml",
        """
        id: bad
        effective: 2021-01-01
        ops:
          - rename: a
            names: {en: Alpha}
          - hire: bob
        """,
        ["unknown-op"],
        6,
        "op 2 (hire): ",
        "unknown operation 'hire'",
        id="unknown-operation",
    ),
    pytest.param(
        "bad.yaml",
        """
        id: bad
        effective: 2021-01-01
        owner: me
        ops:
          - dissolve: a1x
        """,
        ["unknown-key"],
        3,
        "",
        "unknown key 'owner'",
        id="unknown-top-level-key",
    ),
    pytest.param(
        "bad.yaml",
        """
        id: bad
        effective: 2021-01-01
        meta:
          owner: me
        ops:
          - dissolve: a1x
        """,
        ["unknown-key"],
        3,
        "",
        "unknown key 'meta'",
        id="unknown-top-level-key-with-a-block-value",
    ),
    pytest.param(
        "bad.yaml",
        """
        id: bad
        effective: 2021-01-01
        ops:
          - create: c
            parent: acme
            kind: group
            names: {en: C}
            colour: red
        """,
        ["unknown-key"],
        8,
        "op 1 (create): ",
        "unknown key 'colour'",
        id="unknown-key-in-an-op",
    ),
    pytest.param(
        "bad.yaml",
        """
        id: bad
        effective: 2021-01-01
        ops:
          - split: a
            into:
              - to: b
                children: [a1, a2]
                weight: 3
        """,
        ["unknown-key"],
        8,
        "op 1 (split): ",
        "unknown key 'weight'",
        id="unknown-key-in-a-split-item",
    ),
    pytest.param(
        "bad.yaml",
        """
        id: bad
        effective: 2021-01-01
        ops:
          - create: c
            parent: acme
            kind: group
            names: Cee
        """,
        ["type"],
        7,
        "op 1 (create): ",
        "'names' must be a mapping",
        id="names-not-a-mapping",
    ),
    pytest.param(
        "bad.yaml",
        """
        id: bad
        effective: 2021-01-01
        ops:
          - split: a
            into:
              - to: b
                children: [a1, a2]
                share: "1"
        """,
        ["type"],
        8,
        "op 1 (split): ",
        "'share' must be a number",
        id="share-a-string",
    ),
    pytest.param(
        "bad.yaml",
        """
        id: bad
        effective: 2023-02-30
        ops:
          - dissolve: a1x
        """,
        ["bad-date"],
        2,
        "",
        "2023-02-30",
        id="date-that-does-not-exist",
    ),
    pytest.param(
        "bad.yaml",
        """
        id: bad
        effective: 2021-01-01
        ops:
          - create: Bad_ID
            parent: acme
            kind: group
            names: {en: Bad}
        """,
        ["bad-id"],
        4,
        "op 1 (create): ",
        "'Bad_ID' is not a valid id",
        id="id-breaking-the-slug-rule",
    ),
    pytest.param(
        "bad.yaml",
        """
        id: bad
        effective: 2021-01-01
        ops:
          - rename: b
            names: {en: Bee}
          - create: a
            parent: acme
            kind: group
            names: {en: A}
        """,
        ["exists"],
        6,
        "op 2 (create): ",
        "unit 'a' already exists",
        id="create-an-existing-id",
    ),
    pytest.param(
        "bad.yaml",
        """
        id: bad
        effective: 2021-01-01
        ops:
          - create: gone
            parent: acme
            kind: group
            names: {en: Gone again}
        """,
        ["exists"],
        4,
        "op 1 (create): ",
        "unit 'gone' existed until 2020-06-01; ids are never reused",
        id="create-an-id-that-ended",
    ),
    pytest.param(
        "bad.yaml",
        """
        id: bad
        effective: 2021-01-01
        ops:
          - move: a
            to: a
        """,
        ["cycle"],
        4,
        "op 1 (move): ",
        "moving 'a' under itself would make a cycle",
        id="move-into-itself",
    ),
    pytest.param(
        "bad.yaml",
        """
        id: bad
        effective: 2021-01-01
        ops:
          - move: [b1, a]
            to: a1x
        """,
        ["cycle"],
        4,
        "op 1 (move): ",
        "moving 'a' under 'a1x', which is inside it",
        id="move-into-own-descendant",
    ),
    pytest.param(
        "bad.yaml",
        """
        id: bad
        effective: 2021-01-01
        ops:
          - rename: b
            names: {en: Bee}
          - move: gone
            to: b
        """,
        ["inactive"],
        6,
        "op 2 (move): ",
        "unit 'gone' is not active on 2021-01-01 (it ends on 2020-06-01)",
        id="act-on-a-unit-that-ended",
    ),
    pytest.param(
        "bad.yaml",
        """
        id: bad
        effective: 2021-01-01
        ops:
          - merge: [a, b]
            into: b
        """,
        ["self-target"],
        5,
        "op 1 (merge): ",
        "cannot merge 'b' into itself",
        id="merge-into-itself",
    ),
    pytest.param(
        "bad.yaml",
        """
        id: bad
        effective: 2021-01-01
        ops:
          - merge: [a]
            into: a1x
        """,
        ["cycle"],
        5,
        "op 1 (merge): ",
        "cannot merge 'a' into 'a1x', which is inside it",
        id="merge-into-own-descendant",
    ),
    pytest.param(
        "bad.yaml",
        """
        id: bad
        effective: 2021-01-01
        ops:
          - split: a
            into:
              - to: b
                children: [a1]
                share: -0.5
              - to: b1
                children: [a2]
        """,
        ["share-range"],
        8,
        "op 1 (split): ",
        "share -0.5 is not in [0, 1]",
        id="split-share-below-0",
    ),
    pytest.param(
        "bad.yaml",
        """
        id: bad
        effective: 2021-01-01
        ops:
          - split: a
            into:
              - to: b
                children: [a1]
                share: 1.5
              - to: b1
                children: [a2]
        """,
        ["share-range", "share-sum"],
        8,
        "op 1 (split): ",
        "share 1.5 is not in [0, 1]",
        id="split-share-above-1",
    ),
    pytest.param(
        "bad.yaml",
        """
        id: bad
        effective: 2021-01-01
        ops:
          - split: a
            into:
              - to: b
                children: [a1]
                share: 0.3
              - to: b1
                children: [a2]
                share: 0.3
        """,
        ["share-sum"],
        5,
        "op 1 (split): ",
        "shares sum to 0.6, not 1",
        id="split-shares-not-summing-to-1",
    ),
    pytest.param(
        "bad.yaml",
        """
        id: bad
        effective: 2021-01-01
        ops:
          - split: a
            into:
              - to: b
                children: [a1]
        """,
        ["unassigned-child"],
        4,
        "op 1 (split): ",
        "children of 'a' not assigned to any target: 'a2'",
        id="split-child-left-unassigned",
    ),
    pytest.param(
        "bad.yaml",
        """
        id: bad
        effective: 2021-01-01
        ops:
          - dissolve: acme
        """,
        ["root-children"],
        4,
        "op 1 (dissolve): ",
        "'acme' is a root with children",
        id="dissolve-a-root-with-children",
    ),
    pytest.param(
        "bad.yaml",
        """
        id: bad
        effective: 2021-01-01
        ops:
          - rename: a
            names: {en: null}
        """,
        ["no-names"],
        5,
        "op 1 (rename): ",
        "unit 'a' would be left without a name",
        id="rename-removing-every-name",
    ),
    pytest.param(
        "bad.yaml",
        """
        id: bad
        effective: 2021-01-01
        ops:
          - create: c
            parent: acme
            kind: group
            names: &n {en: C}
          - create: d
            parent: acme
            kind: group
            names: *n
        """,
        ["yaml-alias"],
        # PyYAML hands the alias back as the anchored node itself, so the anchor's
        # line (7) is what can be reported; the alias is on line 11.
        7,
        "",
        "aliases are not allowed",
        id="yaml-alias",
    ),
    pytest.param(
        "bad.yaml",
        """
        id: bad
        effective: 2021-01-01
        ops:
          - create: c
            parent: acme
            kind: !!python/object:os.system group
            names: {en: C}
        """,
        ["yaml-tag"],
        6,
        "",
        "python/object",
        id="python-object-tag",
    ),
    pytest.param(
        "bad.yaml",
        """
        id: bad
        effective: 2021-01-01
        ops:
          - dissolve: a1x
        ---
        id: bad2
        effective: 2021-01-01
        ops:
          - dissolve: a2
        """,
        ["syntax"],
        6,  # where the second document starts
        "",
        "more than one YAML document",
        id="two-yaml-documents",
    ),
    pytest.param("empty.yaml", "", ["empty"], 1, "", "the file is empty", id="empty-file"),
]


@pytest.mark.parametrize(("name", "text", "codes", "line", "op", "fragment"), CASES)
def test_bad_plan_is_refused_with_a_located_problem_and_nothing_written(
    org: Ledger,
    db: str,
    write: Write,
    name: str,
    text: str,
    codes: list[str],
    line: int,
    op: str,
    fragment: str,
) -> None:
    path = write(name, text)
    problems = refuse(org, db, path)
    assert [p.code for p in problems] == codes, [str(p) for p in problems]
    assert fragment in located(problems[0], path, line, op)


def test_acting_on_a_unit_before_it_starts_says_when_it_starts(
    org: Ledger, db: str, write: Write
) -> None:
    org.apply({"id": "later", "effective": "2022-01-01", "ops": [create("newco", "acme")]})
    path = write(
        "early.yaml",
        """
        id: early
        effective: 2021-01-01
        ops:
          - rename: newco
            names: {en: New Co}
        """,
    )
    problems = refuse(org, db, path)
    assert [p.code for p in problems] == ["inactive"], [str(p) for p in problems]
    rest = located(problems[0], path, 4, "op 1 (rename): ")
    assert rest.startswith("unit 'newco' is not active on 2021-01-01 (it starts on 2022-01-01)")


def test_back_dated_plan_that_breaks_later_history_names_the_later_change_set(
    org: Ledger, db: str, write: Write
) -> None:
    later = {
        "id": "later",
        "effective": "2022-01-01",
        "ops": [{"rename": "b", "names": {"en": "Bee"}}, {"move": "a1", "to": "b"}],
    }
    org.apply(later)
    path = write(
        "early.yaml",
        """
        id: early
        effective: 2021-01-01
        ops:
          - dissolve: a1
        """,
    )
    problems = refuse(org, db, path)
    assert [p.code for p in problems] == ["breaks-later"], [str(p) for p in problems]
    rest = located(problems[0], path, 2)
    assert "'early'" in rest
    assert "'later'" in rest
    assert "2022-01-01" in rest
    assert "op 2 (move)" in rest
    assert "unit 'a1' is not active on 2022-01-01 (it ends on 2021-01-01)" in rest


def test_every_problem_in_a_file_is_reported(org: Ledger, db: str, write: Write) -> None:
    path = write(
        "many.yaml",
        """
        id: many
        effective: 2021-01-01
        ops:
          - move: zz
            to: b
          - create: a
            parent: acme
            kind: group
            names: {en: A}
          - merge: [b]
            into: b
          - dissolve: a1x
          - move: a2
            to: gone
        """,
    )
    problems = refuse(org, db, path)
    assert len(problems) == 4, [str(p) for p in problems]
    assert [(p.code, p.op, p.line) for p in problems] == [
        ("unknown-unit", 1, 4),
        ("exists", 2, 6),
        ("self-target", 3, 11),
        ("inactive", 5, 14),
    ]
    located(problems[0], path, 4, "op 1 (move): ")
    located(problems[1], path, 6, "op 2 (create): ")
    located(problems[2], path, 11, "op 3 (merge): ")
    located(problems[3], path, 14, "op 5 (move): ")


def test_every_shape_problem_in_a_file_is_reported(org: Ledger, db: str, write: Write) -> None:
    path = write(
        "many.yaml",
        """
        id: Bad_ID
        effective: 2023-02-30
        ops:
          - create: c
            parent: acme
            kind: group
            names: {en: C}
            colour: red
          - hire: bob
        """,
    )
    problems = refuse(org, db, path)
    assert sorted((p.code, p.line, p.op) for p in problems) == [
        ("bad-date", 2, None),
        ("bad-id", 1, None),
        ("unknown-key", 8, 1),
        ("unknown-op", 9, 2),
    ]


def test_bytes_that_are_not_utf8_are_refused(org: Ledger, db: str, tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    text = "id: bad\neffective: 2021-01-01\nops:\n  - rename: a\n    names: {en: Caf\xe9}\n"
    path.write_bytes(text.encode("latin-1"))
    problems = refuse(org, db, path)
    assert [p.code for p in problems] == ["encoding"]
    located(problems[0], str(path), 5)


def test_a_file_that_does_not_exist_is_refused(org: Ledger, db: str, tmp_path: Path) -> None:
    path = str(tmp_path / "missing.yaml")
    problems = refuse(org, db, path)
    assert [p.code for p in problems] == ["no-file"]
    assert str(problems[0]).startswith(f"{path}:1: ")


def test_same_id_with_other_content_points_at_the_id(org: Ledger, db: str, write: Write) -> None:
    first = write("one.yaml", "id: reorg\neffective: 2021-01-01\nops:\n  - dissolve: a1x\n")
    org.apply(first)
    path = write("two.yaml", "id: reorg\neffective: 2021-01-01\nops:\n  - dissolve: a2\n")
    problems = refuse(org, db, path)
    assert [p.code for p in problems] == ["duplicate-changeset"]
    assert "'reorg'" in located(problems[0], path, 1)


@pytest.mark.parametrize(
    "second",
    [
        pytest.param(
            "id: two\neffective: 2021-02-01\nops:\n  - move: a\n    to: zz\n", id="bad-op"
        ),
        pytest.param("id: two\neffective: 2021-02-01\nops:\n  - hire: bob\n", id="bad-shape"),
        # valid alone, but not after the first change set (which ends a1x)
        pytest.param(
            "id: two\neffective: 2021-02-01\nops:\n  - rename: a1x\n    abbr: X\n",
            id="bad-after-the-first",
        ),
    ],
)
def test_a_batch_with_one_bad_change_set_records_none(
    org: Ledger, db: str, write: Write, second: str
) -> None:
    one = write("one.yaml", "id: one\neffective: 2021-01-01\nops:\n  - dissolve: a1x\n")
    two = write("two.yaml", second)
    problems = refuse(org, db, one, two)
    assert all(str(p).startswith(f"{two}:") for p in problems), [str(p) for p in problems]
    assert "a1x" in org.at(date(2021, 1, 1))


# -- one mistake, one problem, in plain words ---------------------------------------------


@pytest.mark.parametrize(
    ("ops", "code", "line"),
    [
        pytest.param("  - merge: [a]\n    into: Bad_ID\n", "bad-id", 5, id="merge-into-bad-id"),
        pytest.param("  - move: [Bad_ID]\n    to: b\n", "bad-id", 4, id="move-list-bad-id"),
        pytest.param(
            "  - merge: [a]\n    into: {create: c, parent: acme, kind: g, names: {en: C}, x: 1}\n",
            "unknown-key",
            5,
            id="merge-into-create-unknown-key",
        ),
        pytest.param("  - dissolve: a1x\n  - 5\n", "type", 5, id="op-not-a-mapping"),
    ],
)
def test_one_mistake_is_reported_once_in_plain_words(
    org: Ledger, db: str, write: Write, ops: str, code: str, line: int
) -> None:
    path = write("bad.yaml", "id: bad\neffective: 2021-01-01\nops:\n" + ops)
    problems = refuse(org, db, path)
    assert [(p.code, p.line) for p in problems] == [(code, line)], [str(p) for p in problems]
    assert "Model" not in problems[0].message


def test_the_ledger_accepts_a_good_plan_after_refusing_a_bad_one(
    org: Ledger, db: str, write: Write
) -> None:
    bad = write("bad.yaml", "id: bad\neffective: 2021-01-01\nops:\n  - move: a\n    to: a1x\n")
    refuse(org, db, bad)
    good = write("good.yaml", "id: good\neffective: 2021-01-01\nops:\n  - move: a\n    to: b\n")
    assert [r.id for r in org.apply(good)] == ["good"]
    assert org.at(date(2021, 1, 1)).path("a1x") == ("acme", "b", "a", "a1", "a1x")
    assert org.verify().ok


def test_a_megabyte_unit_id_gives_a_short_message(cli: Any, db: str, write: Any) -> None:
    """Messages quote what they refer to, cut short: a huge id must not flood the terminal."""
    huge = "x" * 3_000_000
    path = write("huge.yaml", f"id: huge\neffective: 2020-01-01\nops:\n  - dissolve: {huge}\n")
    result = cli("apply", path, "--db", db)
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines and all(len(line) < 5_000 for line in lines), [len(line) for line in lines]
    assert "huge.yaml:4" in result.stderr


def test_a_problem_prints_on_one_bounded_line_whatever_its_message_quotes() -> None:
    problem = Problem("unknown-unit", "no unit '" + "y" * 1_000_000 + "\n\x1b[31m'", file="f.yaml")
    text = str(problem)
    assert "\n" not in text and "\x1b" not in text
    assert len(text) < 2_100 and text.endswith("[unknown-unit]")
    assert text.startswith("f.yaml:1: no unit 'yyy") and "\\x1b[31m'" in text
