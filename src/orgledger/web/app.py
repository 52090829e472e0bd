"""The FastAPI application: routes, pages, static files, and the one error handler."""

from __future__ import annotations

import os
import threading
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
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
    InactiveUnitError,
    OrgLedgerError,
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
from .security import Headers

STATUS: dict[type[OrgLedgerError], int] = {
    UsageError: 400,
    AmbiguousUnitError: 400,
    AuthError: 401,
    ReadOnlyError: 403,
    UnknownUnitError: 404,
    UnknownChangeSetError: 404,
    UnknownMetricError: 404,
    ConflictError: 409,
    TooLargeError: 413,
    RefusedError: 422,
    InactiveUnitError: 422,
    CurrencyError: 422,
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
    return None


def create_app(db: str | os.PathLike[str] | None = None, token: str | None = None) -> FastAPI:
    """The app over the ledger at `db`; writes need `token` (None: read-only)."""
    app = FastAPI(
        title="orgledger",
        version=__version__,
        description="The system of record for organizational structure over time.",
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.ledger = Ledger.open(db)
    app.state.lock = threading.RLock()
    app.state.token = token
    app.add_middleware(Headers)
    app.include_router(api.router)
    app.mount("/static", StaticFiles(directory=_HERE / "static"), name="static")
    templates = Jinja2Templates(directory=_HERE / "templates")

    @app.exception_handler(OrgLedgerError)
    async def _orgledger(_: Request, exc: OrgLedgerError) -> JSONResponse:
        return JSONResponse(
            error_body(exc.code, exc.message, _details(exc)), status_code=status_of(exc)
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
        return page("plan", request, writable=bool(token))

    return app
