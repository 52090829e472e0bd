"""The FastAPI application: routes, pages, static files, and the one error handler."""

from __future__ import annotations

import math
import os
import threading
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException

from .. import __version__
from ..errors import (
    AmbiguousUnitError,
    AuthError,
    CurrencyError,
    ForbiddenError,
    InactiveUnitError,
    OrgLedgerError,
    RateLimitedError,
    ReadOnlyError,
    RefusedError,
    StoreError,
    TooLargeError,
    UnknownChangeSetError,
    UnknownMetricError,
    UnknownUnitError,
    UsageError,
)
from ..ledger import Ledger
from ..model import Json
from ..store import ConflictError
from . import api
from .security import MAX_BODY, Headers, Policy, guard, limiter, writable

STATUS: dict[type[OrgLedgerError], int] = {
    UsageError: 400,
    AmbiguousUnitError: 400,
    AuthError: 401,
    ReadOnlyError: 403,
    ForbiddenError: 403,
    UnknownUnitError: 404,
    UnknownChangeSetError: 404,
    UnknownMetricError: 404,
    ConflictError: 409,
    TooLargeError: 413,
    RefusedError: 422,
    InactiveUnitError: 422,
    CurrencyError: 422,
    RateLimitedError: 429,
    StoreError: 503,
}
"""HTTP status of each error; a subclass takes its nearest listed ancestor's."""

_HERE = Path(str(resources.files("orgledger") / "web"))
PAGES = ("chart", "changeset", "unit", "log", "plan")


def status_of(error: OrgLedgerError) -> int:
    for cls in type(error).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


def error_body(code: str, message: str, details: Json = None) -> dict[str, Json]:
    """The one shape of every error the API returns."""
    return {"error": {"code": code, "message": message, "details": details}}


def _details(error: OrgLedgerError) -> Json:
    if isinstance(error, RefusedError):
        return [
            {
                "file": p.file,
                "line": p.line,
                "op": p.op,
                "op_kind": p.op_kind,
                "code": p.code,
                "message": p.message,
                "text": str(p),
            }
            for p in error.problems
        ]
    if isinstance(error, AmbiguousUnitError):
        return error.candidates
    if isinstance(error, ForbiddenError) and error.details:
        return dict(error.details)
    if isinstance(error, RateLimitedError):
        return {"retry_after": math.ceil(error.retry_after)}
    return None


ENVIRONMENT = {
    "db": "ORGLEDGER_DB",
    "token": "ORGLEDGER_TOKEN",
    "private": "ORGLEDGER_SERVE_PRIVATE",
    "rate": "ORGLEDGER_SERVE_RATE",
    "burst": "ORGLEDGER_SERVE_BURST",
    "max_body": "ORGLEDGER_SERVE_MAX_BODY",
}
"""The variables `from_environment` reads: how `serve --workers` configures its workers."""


def environment(db: str | None, policy: Policy) -> dict[str, str]:
    """The variables that make `from_environment` build the app over `db` with `policy`."""
    values = {
        "token": policy.token or "",
        "private": "1" if policy.private else "",
        "rate": repr(policy.rate),
        "burst": str(policy.burst),
        "max_body": str(policy.max_body),
    }
    if db is not None:
        values["db"] = db
    return {ENVIRONMENT[key]: value for key, value in values.items()}


def from_environment() -> FastAPI:
    """The app as `environment` describes it (the factory each worker process calls)."""
    get = os.environ.get
    policy = Policy(
        token=get(ENVIRONMENT["token"]) or None,
        private=bool(get(ENVIRONMENT["private"])),
        rate=float(get(ENVIRONMENT["rate"]) or 0),
        burst=int(get(ENVIRONMENT["burst"]) or 0),
        max_body=int(get(ENVIRONMENT["max_body"]) or MAX_BODY),
    )
    return create_app(get(ENVIRONMENT["db"]) or None, policy=policy)


def create_app(
    db: str | os.PathLike[str] | None = None,
    token: str | None = None,
    *,
    policy: Policy | None = None,
) -> FastAPI:
    """The app over the ledger at `db`.

    Writes need `token` (the server's own unrestricted write token) or a write
    token stored in the ledger; without either the server is read-only. `policy`
    says the rest (private, rate limit, body limit); its token wins over `token`.
    """
    policy = policy or Policy(token=token)
    app = FastAPI(
        title="orgledger",
        version=__version__,
        description="The system of record for organizational structure over time.",
        docs_url="/docs",
        redoc_url=None,
        dependencies=[Depends(guard)],
    )
    app.state.ledger = Ledger.open(db)
    app.state.lock = threading.RLock()
    app.state.policy = policy
    app.state.limiter = limiter(policy)
    app.add_middleware(Headers)
    app.include_router(api.router)
    app.mount("/static", StaticFiles(directory=_HERE / "static"), name="static")
    templates = Jinja2Templates(directory=_HERE / "templates")

    @app.exception_handler(OrgLedgerError)
    async def _orgledger(_: Request, exc: OrgLedgerError) -> JSONResponse:
        headers = {}
        if isinstance(exc, RateLimitedError):
            headers["Retry-After"] = str(math.ceil(exc.retry_after))
        return JSONResponse(
            error_body(exc.code, exc.message, _details(exc)),
            status_code=status_of(exc),
            headers=headers,
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            {"where": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()
        ]
        first = problems[0] if problems else {"where": "", "message": "invalid request"}
        message = f"{first['where']}: {first['message']}"
        return JSONResponse(error_body("usage", message, problems), status_code=400)

    @app.exception_handler(HTTPException)
    async def _http(_: Request, exc: HTTPException) -> JSONResponse:
        code = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "http")
        return JSONResponse(
            error_body(code, str(exc.detail)), status_code=exc.status_code, headers=exc.headers
        )

    @app.exception_handler(Exception)
    async def _internal(_: Request, exc: Exception) -> JSONResponse:
        message = f"internal error: {type(exc).__name__} (this is a bug)"
        return JSONResponse(error_body("internal", message), status_code=500)

    def page(name: str, request: Request, **context: Any) -> HTMLResponse:
        return templates.TemplateResponse(
            request, f"{name}.html", {"page": name, "version": __version__, **context}
        )

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def chart(request: Request) -> HTMLResponse:
        return page("chart", request)

    @app.get("/changesets/{changeset}", response_class=HTMLResponse, include_in_schema=False)
    def changeset(request: Request, changeset: str) -> HTMLResponse:
        return page("changeset", request, changeset=changeset)

    @app.get("/units/{unit}", response_class=HTMLResponse, include_in_schema=False)
    def unit(request: Request, unit: str) -> HTMLResponse:
        return page("unit", request, unit=unit)

    @app.get("/log", response_class=HTMLResponse, include_in_schema=False)
    def log(request: Request) -> HTMLResponse:
        return page("log", request)

    @app.get("/plan", response_class=HTMLResponse, include_in_schema=False)
    def plan(request: Request) -> HTMLResponse:
        return page("plan", request, writable=writable(request))

    return app
