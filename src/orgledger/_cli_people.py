"""`orgledger import people FILE`: an HR export of people, turned into each unit's headcount."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn

from ._cli_archive import (
    ChangeSetId,
    Columns,
    Effective,
    EmitPlan,
    Encoding,
    columns_of,
    write_plan,
)
from ._shell import Db, opened, parse_date
from .people import headcount_plan, read_people, unit_resolver
from .tables import read_table

KeepNames = Annotated[
    bool,
    typer.Option(
        "--keep-names",
        help="Record each unit's head by name (attribute `head`); without it no name is stored.",
    ),
]


def import_people(
    file: Annotated[
        str,
        typer.Argument(
            metavar="FILE",
            help="A CSV, XLSX or JSON file with employee_id, manager_id and unit columns.",
        ),
    ],
    effective: Effective,
    emit_plan: EmitPlan = None,
    changeset_id: ChangeSetId = None,
    encoding: Encoding = None,
    column: Columns = None,
    keep_names: KeepNames = False,
    db: Db = None,
) -> None:
    """Set each unit's headcount (its direct members) from an HR export, after checking it.

    Every row needs an employee_id and a unit (an id, abbreviation or name active on the
    date); manager_id is empty only at the top. Problems are listed with their lines:
    missing columns, employees given twice, unknown units, managers not in the file,
    reporting lines that go round in a circle. Nothing is written when there is one.
    With --emit-plan, write the change set for review instead.
    """
    day = parse_date(effective)
    errors = Console(stderr=True)
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with (
        opened(db) as ledger,
        Progress(*columns, console=errors, transient=True, disable=not errors.is_terminal) as bar,
    ):
        task = bar.add_task(f"reading {Path(file).name}", total=None)
        table = read_table(file, encoding=encoding, rename=columns_of(column))
        bar.update(task, description="checking people", total=len(table.rows), completed=0)
        units = ledger.at(day).units
        unit_of = unit_resolver(partial(ledger.resolve, at=day), units, day)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        people = read_people(table, unit_of, keep_names=keep_names, progress=progress)
        del table
        plan = headcount_plan(people, units, day, source=file, changeset_id=changeset_id)
        bar.update(task, description="recording", total=None)
        dropped = f" ({people.duplicates} duplicate row(s) ignored)" if people.duplicates else ""
        summary = (
            f"{people.rows} people{dropped} in {len(people.headcount)} unit(s): "
            f"{len(plan['ops'])} unit(s) to update"
        )
        if emit_plan is not None:
            bar.stop()
            write_plan(plan, emit_plan, summary)
            return
        if not plan["ops"]:
            bar.stop()
            typer.echo(f"{summary}; nothing to record")
            return
        records = ledger.apply(plan)
    if not records:
        typer.echo(f"{summary}; recorded already")
    for record in records:
        typer.echo(f"{summary}; recorded {record.id} (effective {record.effective.isoformat()})")
