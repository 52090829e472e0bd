"""`/api/v1`: the ledger's questions over HTTP, in the JSON shapes of the command line.

Every route calls one ledger method and returns its `to_json()`; errors are
raised as orgledger errors and turned into one JSON shape in `app.py`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from ..errors import UsageError
from ..ledger import Ledger, parse_timestamp
from ..metrics import MetricQuery
from ..model import Json
from ..periods import PeriodError, parse_period
from ..plan import parse_plan
from ..tokens import Token
from .security import read_body, require_write

router = APIRouter(prefix="/api/v1")


def ledger(request: Request) -> Ledger:
    """The app's ledger, read again first if another writer recorded something."""
    held: Ledger = request.app.state.ledger
    with request.app.state.lock:
        held.refresh()
        held.timeline  # noqa: B018 - loaded once, so that queries never take the cold path
    return held


Held = Annotated[Ledger, Depends(ledger)]


def _day(value: str | None, name: str) -> date | None:
    if value is None or value == "":
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"'{name}' must be a date (YYYY-MM-DD), not '{value}'") from None


def _moment(value: str | None) -> datetime | None:
    if value is None or value == "":
        return None
    try:
        return parse_timestamp(value)
    except ValueError:
        raise UsageError(f"'known_at' must be an ISO timestamp, not '{value}'") from None


At = Annotated[str | None, Query(description="Date, YYYY-MM-DD (default today).")]
KnownAt = Annotated[str | None, Query(description="Answer as the ledger stood then (ISO).")]


@router.get("/snapshot")
def snapshot(
    held: Held,
    at: At = None,
    known_at: KnownAt = None,
    root: Annotated[str | None, Query(description="Only this unit's subtree.")] = None,
    depth: Annotated[int | None, Query(ge=0, description="Levels below the start.")] = None,
) -> dict[str, Json]:
    """The structure on a date; each unit also says how many children it has in all."""
    found = held.at(_day(at, "at"), known_at=_moment(known_at))
    start = held.subtree_check(found, root) if root else None
    body = found.to_json(start, depth)
    for unit in body["units"]:
        unit["children"] = len(found.children(unit["id"]))
    body["roots"] = list(found.roots())
    return body


@router.get("/diff")
def diff(
    held: Held,
    start: Annotated[str, Query(alias="from", description="From this date.")],
    end: Annotated[str, Query(alias="to", description="To this date.")],
    known_at: KnownAt = None,
) -> dict[str, Json]:
    first, second = _day(start, "from"), _day(end, "to")
    assert first is not None and second is not None
    return held.diff(first, second, known_at=_moment(known_at)).to_json()


@router.get("/units/{ref}")
def unit(held: Held, ref: str, at: At = None, known_at: KnownAt = None) -> dict[str, Json]:
    """A unit: its lifespan, its state and path on a date (null when not active then)."""
    return held.unit(ref, _day(at, "at"), known_at=_moment(known_at)).to_json()


@router.get("/units/{ref}/history")
def history(held: Held, ref: str, known_at: KnownAt = None) -> dict[str, Json]:
    return held.history(ref, known_at=_moment(known_at)).to_json()


@router.get("/units/{ref}/lineage")
def lineage(held: Held, ref: str, known_at: KnownAt = None) -> dict[str, Json]:
    return held.lineage(ref, known_at=_moment(known_at)).to_json()


@router.get("/units/{ref}/metrics")
def unit_metrics(held: Held, ref: str, known_at: KnownAt = None) -> dict[str, Json]:
    """Every value loaded for the unit, by metric, in time order."""
    return held.unit_metrics(ref, known_at=_moment(known_at))


@router.get("/log")
def log(held: Held, known_at: KnownAt = None) -> list[Json]:
    return [e.to_json() for e in held.log(known_at=_moment(known_at))]


@router.get("/changesets/{changeset}")
def changeset(held: Held, changeset: str, known_at: KnownAt = None) -> dict[str, Json]:
    return held.changeset(changeset, known_at=_moment(known_at)).to_json()


@router.get("/changesets/{changeset}/magnitude")
def magnitude(held: Held, changeset: str, known_at: KnownAt = None) -> dict[str, Json]:
    return held.magnitude(changeset, known_at=_moment(known_at)).to_json()


@router.get("/find")
def find(
    held: Held,
    q: Annotated[str, Query(min_length=1, description="Part of an id, abbreviation or name.")],
    known_at: KnownAt = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="At most this many matches.")] = 50,
) -> dict[str, Json]:
    """Units matching `q`, exact matches first; `more` says whether the limit cut some off."""
    matches = held.find(q, known_at=_moment(known_at), limit=limit + 1)
    return {
        "query": q,
        "matches": [m.to_json() for m in matches[:limit]],
        "more": len(matches) > limit,
    }


@router.get("/metrics")
def metrics(
    held: Held,
    metric: str,
    period: str,
    unit: str | None = None,
    growth: Annotated[str | None, Query(description="yoy, qoq or yoy,qoq")] = None,
    at: At = None,
    rollup: bool = False,
    restate_to: str | None = None,
    known_at: KnownAt = None,
) -> dict[str, Json]:
    try:
        when = parse_period(period)
    except PeriodError as exc:
        raise UsageError(str(exc)) from None
    kinds = tuple(g.strip() for g in growth.split(",") if g.strip()) if growth else ()
    query = MetricQuery(
        metric, when, unit, _day(at, "at"), rollup, _day(restate_to, "restate_to"), kinds
    )
    return held.metrics(query, known_at=_moment(known_at)).to_json()


@router.get("/stats")
def stats(
    held: Held,
    at: At = None,
    root: str | None = None,
    by: str | None = None,
    known_at: KnownAt = None,
) -> dict[str, Json]:
    return held.stats(_day(at, "at"), root=root, by=by, known_at=_moment(known_at)).to_json()


async def _plan_text(request: Request) -> tuple[str, str]:
    """The posted plan and its format (JSON when the content type says so, else YAML)."""
    data = await read_body(request)
    kind = request.headers.get("content-type", "")
    fmt = "json" if "json" in kind else "yaml"
    try:
        return data.decode("utf-8-sig"), fmt
    except UnicodeDecodeError:
        raise UsageError("the plan is not UTF-8 text") from None


@router.post("/plans/preview")
async def preview(request: Request) -> dict[str, Json]:
    """Check a plan (YAML or JSON body) and return its diff; nothing is written."""
    text, fmt = await _plan_text(request)
    changeset = parse_plan(text, "plan", fmt)
    held = ledger(request)
    with request.app.state.lock:
        previews = held.preview(changeset)
    return {
        "valid": True,
        "previews": [
            {"id": p.changeset.id, "magnitude": round(p.magnitude, 6), "diff": p.diff.to_json()}
            for p in previews
        ],
    }


@router.post("/changesets", status_code=201)
async def apply(request: Request, token: Annotated[Token, Depends(require_write)]) -> Any:
    """Record a plan (YAML or JSON body); needs a write token allowed to make its changes."""
    text, fmt = await _plan_text(request)
    changeset = parse_plan(text, "plan", fmt)
    held = ledger(request)
    # Under the ledger's write lock, the token's limits are checked against the same
    # state the change set is validated against, whatever other workers wrote before.
    with request.app.state.lock, held.store.writing():
        held.refresh()
        held.check_write(token, changeset)
        records = held.apply(changeset)
    body = [
        {"id": r.id, "effective": r.effective.isoformat(), "seq": r.seq, "ops": r.ops}
        for r in records
    ]
    return JSONResponse({"recorded": body}, status_code=201 if records else 200)
