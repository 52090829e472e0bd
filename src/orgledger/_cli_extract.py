"""`orgledger extract ARTICLE`: a restructuring announcement, read into a draft plan."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from ._cli_archive import ChangeSetId
from ._shell import Db, parse_date
from .announcements import extract
from .errors import ExtractError, LedgerMissingError
from .ledger import Ledger
from .model import Unit
from .phrases import load

TEXT_LIMIT = 4 * 1024 * 1024  # bytes; an announcement is a page or a few


def _read(article: str) -> str:
    try:
        data = sys.stdin.buffer.read() if article == "-" else Path(article).read_bytes()
    except OSError as exc:
        raise ExtractError(f"cannot read {article}: {exc.strerror}") from None
    if len(data) > TEXT_LIMIT:
        raise ExtractError(f"{article}: larger than {TEXT_LIMIT // 1024 // 1024} MiB")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ExtractError(f"{article}:{line}: not UTF-8 text") from None
    if not text.strip():
        raise ExtractError(f"{article}: the text is empty")
    return text


def extract_command(
    article: Annotated[
        str, typer.Argument(metavar="ARTICLE", help="A UTF-8 text file, or - for stdin.")
    ],
    org: Annotated[
        str | None,
        typer.Option(
            "--org",
            metavar="ROOT",
            help="Match names among this unit's subtree, and put new units under it "
            "[default: the ledger's only root].",
        ),
    ] = None,
    effective: Annotated[
        str | None,
        typer.Option(
            "--effective",
            metavar="DATE",
            help="The date the change takes effect [default: the date the text gives].",
        ),
    ] = None,
    output: Annotated[
        str | None,
        typer.Option(
            "--output", "-o", metavar="FILE", help="Write the draft there [default: stdout]."
        ),
    ] = None,
    changeset_id: ChangeSetId = None,
    source: Annotated[
        str | None,
        typer.Option("--source", help="The announcement's address, for the plan's source."),
    ] = None,
    phrases: Annotated[
        list[str] | None,
        typer.Option(
            "--phrases",
            metavar="FILE",
            help="More phrase rows (YAML, the shape of docs/extract.md), tried first.",
        ),
    ] = None,
    db: Db = None,
) -> None:
    """Draft a plan from a restructuring announcement (English or Chinese), for review.

    Each operation carries the sentence it came from, the phrase that read it, the
    names it matched and a confidence; units the text names as staying are listed;
    sentences that read like changes but gave none are listed at the end. Where a
    name is ambiguous or unknown the draft says so, and `orgledger plan` fails there.
    """
    text = _read(article)
    day = parse_date(effective) if effective else None
    table = load(phrases or [])
    try:
        ledger: Ledger | None = Ledger.open(db)
    except LedgerMissingError as exc:
        typer.echo(f"{exc}; names are not matched", err=True)
        ledger = None
    try:
        taken: set[str] = set(ledger.vocabulary().latest) if ledger else set()
        recorded = [r.id for r in ledger.records] if ledger else []

        def units_on(when: date | None) -> Mapping[str, Unit]:
            return ledger.at(when).units if ledger else {}

        if org is not None and ledger is not None:
            org = ledger.resolve(org, day)
        draft = extract(
            text,
            units_on,
            table,
            root=org,
            effective=day,
            name=Path(article).name if article != "-" else "-",
            changeset_id=changeset_id,
            source=source,
            taken=taken,
            recorded=recorded,
        )
    finally:
        if ledger is not None:
            ledger.close()
    out = draft.to_yaml()
    counts = ", ".join(f"{n} {kind}" for kind, n in draft.counts().items()) or "no operation"
    checks = sum(len(op.problems) for op in draft.operations)
    summary = (
        f"drafted {counts}; {len(draft.kept)} unit(s) recognised as kept; "
        f"{len(draft.unread)} sentence(s) not read (listed at the end)"
        + (f"; {checks} name(s) to settle (marked CHECK)" if checks else "")
    )
    if output and output != "-":
        try:
            Path(output).write_text(out, encoding="utf-8")
        except OSError as exc:
            raise ExtractError(f"cannot write {output}: {exc.strerror}") from None
        typer.echo(f"{summary}; wrote {output} (check it: orgledger plan {output})", err=True)
    else:
        typer.echo(out, nl=False)
        typer.echo(summary, err=True)
