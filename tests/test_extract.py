"""`orgledger extract`: announcements read into draft plans, measured over a corpus."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from benchmarks.extraction import CORPUS, SETS, cases, ledger_of, score, totals

from orgledger.announcements import extract
from orgledger.errors import ExtractError
from orgledger.phrases import load
from orgledger.sentences import effective_date, sentences

TABLE = load()
# A house-style row a user might add with --phrases.
SUNSET = (
    "phrases:\n"
    "  - id: en-sunset\n"
    "    lang: en\n"
    "    op: dissolve\n"
    "    confidence: 0.8\n"
    "    pattern: '{units}{aux}sunset\\b'\n"
    "    example: Mortgages will be sunset.\n"
)


@pytest.mark.parametrize("row", TABLE.rows, ids=lambda r: r.id)
def test_every_row_reads_its_example(row):
    alone = type(TABLE)((row,), TABLE.words)
    hits = alone.hits(row.example, row.lang, lambda hit: True)
    assert hits, f"{row.id} does not read its own example"


@pytest.mark.parametrize("folder", SETS)
def test_precision_and_recall_over_the_corpus(folder):
    scores = [score(c) for c in cases(CORPUS / folder)]
    assert len(scores) >= 6
    precision, recall = totals(scores)
    assert precision >= 0.9, [(s.case, s.wrong) for s in scores if s.wrong]
    assert recall >= 0.9, [(s.case, s.missed) for s in scores if s.missed]


def _draft(text, org="northmere", **kw):
    ledger = ledger_of(org)
    return extract(text, lambda day: ledger.at(day).units, TABLE, root=org, **kw)


def _ops(draft):
    return [{k: v for k, v in op.items() if k != "notes"} for op in draft.plan()["ops"]]


def test_a_negated_change_gives_no_operation_and_lists_the_unit_as_kept():
    draft = _draft("Trade Finance will not be dissolved. Mortgages will be dissolved.")
    assert _ops(draft) == [{"dissolve": "rb-mortgages"}]
    assert [k.unit for k in draft.kept] == ["cb-trade"]
    assert [u.why for u in draft.unread] == ["negated"]


def test_a_hedged_change_is_listed_not_drafted():
    draft = _draft("Northmere is expected to dissolve Mortgages next year.")
    assert _ops(draft) == []
    assert draft.unread[0].why.startswith("hedged")


def test_a_person_is_not_a_unit():
    draft = _draft("Jane Doe will move to Group Finance.")
    assert _ops(draft) == []
    assert "does not read like a unit" in draft.unread[0].why


def test_names_in_brackets_and_a_near_miss_name():
    draft = _draft(
        "Northmere will integrate the Northern Branch and Southern Branches into a newly "
        "formed Branch Operations Group (分行运营事业群, BOG)."
    )
    (merge,) = _ops(draft)
    assert merge["merge"] == ["rb-br-north", "rb-br-south"]
    assert merge["into"]["names"] == {"en": "Branch Operations Group", "zh": "分行运营事业群"}
    assert merge["into"]["abbr"] == "BOG"
    assert merge["into"]["parent"] == "rb-branches"  # where both sources sat


def test_a_chinese_name_with_a_verb_stuck_to_it():
    draft = _draft("2023年3月1日，整合工业软件部并入自动化部。", org="lingqiao")
    assert _ops(draft) == [{"merge": ["img-isw"], "into": "img-auto"}]
    assert draft.effective.isoformat() == "2023-03-01"


def test_each_operation_carries_its_sentence_and_confidence():
    draft = _draft("Cyber Security will move to Risk and Compliance.")
    notes = draft.plan()["ops"][0]["notes"]
    assert "line 1" in notes and "en-move" in notes and "confidence 0.85" in notes
    assert "'Cyber Security' -> to-cyber (100, name)" in notes


def test_an_ambiguous_name_fails_the_check_on_its_line(tmp_path, cli):
    ledger = ledger_of("northmere")
    units = dict(ledger.at(None).units)
    twin = units["rb-cards"]._replace(id="rb-cards-2", parent="cb")
    units["rb-cards-2"] = twin
    draft = extract(
        "Cards and Payments will be dissolved.",
        lambda day: units,
        TABLE,
        root="northmere",
    )
    text = draft.to_yaml()
    assert "# CHECK: 'Cards and Payments' is ambiguous: rb-cards (100), rb-cards-2 (100)" in text
    assert "dissolve: 'ambiguous: rb-cards or rb-cards-2'" in text


def test_the_draft_is_a_plan_that_checks_and_applies(tmp_path, cli, new_db):
    db = new_db()
    assert cli("init", "--db", db).exit_code == 0
    assert cli("apply", str(CORPUS / "orgs" / "northmere.yaml"), "--db", db).exit_code == 0
    article = tmp_path / "memo.txt"
    article.write_text(
        "Effective 1 June 2022, Treasury will move to Risk and Compliance, and a new "
        "Sustainable Finance Department (SFD) will be established within Corporate Banking.\n"
        "Mortgages will remain unchanged.\n",
        encoding="utf-8",
    )
    draft = tmp_path / "draft.yaml"
    result = cli("extract", str(article), "-o", str(draft), "--db", db)
    assert result.exit_code == 0, result.output
    plan = yaml.safe_load(draft.read_text(encoding="utf-8"))
    assert plan["effective"] == "2022-06-01"
    assert "# recognised, no change: 'Mortgages' -> rb-mortgages" in draft.read_text("utf-8")
    assert cli("plan", str(draft), "--db", db).exit_code == 0
    assert cli("apply", str(draft), "--db", db).exit_code == 0
    shown = cli("show", "cb-corporate", "--at", "2022-06-01", "--db", db).output
    assert "Sustainable Finance Department (SFD)" in shown


def test_an_unknown_unit_fails_the_check_on_its_line(tmp_path, cli, new_db):
    db = new_db()
    cli("init", "--db", db)
    cli("apply", str(CORPUS / "orgs" / "northmere.yaml"), "--db", db)
    article = tmp_path / "a.txt"
    article.write_text("On 1 May 2022 the Payments Innovation Department will be dissolved.\n")
    draft = tmp_path / "d.yaml"
    assert cli("extract", str(article), "-o", str(draft), "--db", db).exit_code == 0
    text = draft.read_text(encoding="utf-8")
    assert "Payments Innovation Department' matches no unit" in text
    line = next(i for i, t in enumerate(text.splitlines(), 1) if t.startswith("  - dissolve"))
    result = cli("plan", str(draft), "--db", db)
    assert result.exit_code == 1
    assert f"d.yaml:{line}: op 1 (dissolve):" in result.output


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the text is empty"),
        (b"Sales\n\xff\xfe will be dissolved", "a.txt:2: not UTF-8 text"),
    ],
)
def test_bad_text_is_refused_with_where_and_why(tmp_path, cli, content, message):
    article = tmp_path / "a.txt"
    article.write_bytes(content)
    result = cli("extract", str(article), "--db", str(tmp_path / "none.db"))
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output


def test_a_missing_file_is_refused(tmp_path, cli):
    result = cli("extract", str(tmp_path / "nope.txt"))
    assert result.exit_code == 1
    assert "cannot read" in result.output


def test_added_phrases_are_tried_first_and_checked(tmp_path):
    extra = tmp_path / "more.yaml"
    extra.write_text(SUNSET, encoding="utf-8")
    table = load([extra])
    assert table.rows[0].id == "en-sunset"
    ledger = ledger_of("northmere")
    draft = extract("Mortgages will be sunset.", lambda d: ledger.at(d).units, table)
    assert _ops(draft) == [{"dissolve": "rb-mortgages"}]
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "phrases:\n  - id: x\n    lang: en\n    op: move\n    confidence: 1\n"
        "    pattern: '{units} went'\n    example: A went.\n",
        encoding="utf-8",
    )
    with pytest.raises(ExtractError, match=r"phrase x \(move\) needs the slots"):
        load([bad])


def test_sentences_keep_their_lines_and_languages():
    text = "Acme news\nAcme will dissolve Sales. Mr. Smith said so.\n\n腾讯撤销MIG。成立CSIG！\n"
    found = [(s.line, s.lang, s.text) for s in sentences(text)]
    assert found == [
        (1, "en", "Acme news"),
        (2, "en", "Acme will dissolve Sales."),
        (2, "en", "Mr. Smith said so."),
        (4, "zh", "腾讯撤销MIG。"),
        (4, "zh", "成立CSIG！"),
    ]


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("London, 3 March 2024 - changes effective 1 April 2024.", "2024-04-01"),
        ("Posted September 30, 2018.", "2018-09-30"),
        ("2018年9月30日，腾讯宣布。", "2018-09-30"),
        ("自2022年1月1日起生效。2021年12月20日发布", "2022-01-01"),
    ],
)
def test_the_effective_date_is_the_one_said_to_be(text, day):
    found = effective_date(text)
    assert found is not None and found.day.isoformat() == day


def test_corpus_files_are_complete():
    for folder in SETS:
        for text in (CORPUS / folder).glob("*.txt"):
            assert Path(text.with_suffix(".yaml")).exists(), text


def test_the_reference_lists_every_row_of_the_table():
    reference = (Path(__file__).resolve().parent.parent / "docs" / "extract.md").read_text("utf-8")
    missing = [row.id for row in TABLE.rows if f"`{row.id}`" not in reference]
    assert not missing


def test_stdin_phrases_and_a_given_date_through_the_command_line(tmp_path, cli):
    db = str(tmp_path / "ledger.db")
    cli("init", "--db", db)
    cli("apply", str(CORPUS / "orgs" / "northmere.yaml"), "--db", db)
    extra = tmp_path / "house.yaml"
    extra.write_text(SUNSET, encoding="utf-8")
    text = "On 1 May 2022 Mortgages will be sunset.\n"
    args = ["extract", "-", "--effective", "2022-06-01", "--db", db]
    plain = cli(*args, input=text)
    assert plain.exit_code == 0, plain.output
    assert yaml.safe_load(plain.stdout)["ops"] == []
    house = cli(*args, "--phrases", str(extra), "--id", "house-style", input=text)
    draft = yaml.safe_load(house.stdout)
    assert draft["id"] == "house-style"
    assert draft["effective"] == "2022-06-01"  # the option wins over the text's date
    assert [op.get("dissolve") for op in draft["ops"]] == ["rb-mortgages"]
    assert "drafted 1 dissolve" in house.stderr


def test_without_a_ledger_the_text_is_read_but_no_name_matched(tmp_path, cli):
    result = cli(
        "extract",
        "-",
        "--db",
        str(tmp_path / "none.db"),
        input="Acme will dissolve its Support Department.\n",
    )
    assert result.exit_code == 0
    assert "names are not matched" in result.stderr
    assert "dissolve: 'unknown: Support Department'" in result.stdout
