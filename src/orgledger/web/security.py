"""What keeps the server safe: tokens and scopes, rate limits, the body size limit, headers.

Every route first passes `guard`: it finds the request's token (`Authorization:
Bearer ...`, either the server's own ORGLEDGER_TOKEN or one stored in the ledger),
charges the client's rate limit, and on a private server refuses API reads
without a token. Writes then need `require_write`: a write token, and for a
token limited to subtrees, a change set that stays inside them (checked by the
route, which has the change set).
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field

from fastapi import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..errors import AuthError, ForbiddenError, RateLimitedError, ReadOnlyError, TooLargeError
from ..ledger import Ledger
from ..tokens import Token, environment_token

MAX_BODY = 1_000_000
"""Bytes a posted plan may have, unless the server is started with another limit."""

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
"""No inline scripts anywhere; the chart library sets inline styles on its nodes."""


@dataclass(frozen=True)
class Policy:
    """How a server guards itself; `serve` sets it from its options."""

    token: str | None = None
    """The server's own unrestricted write token (ORGLEDGER_TOKEN), if any."""
    private: bool = False
    """Every API request needs a token, reads too."""
    rate: float = 0.0
    """Requests per second each client may make on average (0: no limit)."""
    burst: int = 0
    """Requests a client may make at once before the rate applies (0: twice the rate)."""
    max_body: int = MAX_BODY


@dataclass
class RateLimiter:
    """A token bucket per client: `rate` requests a second on average, `burst` at once.

    Buckets live in this process's memory: with several workers, each has its own.
    """

    rate: float
    burst: float
    buckets: dict[str, tuple[float, float]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    most: int = 10_000
    """Clients remembered; beyond that, full buckets are forgotten (they are the default)."""

    def take(self, client: str, now: float | None = None) -> float:
        """Charge one request to `client`: 0 if allowed, else the seconds until one is."""
        if self.rate <= 0:
            return 0.0
        now = time.monotonic() if now is None else now
        with self.lock:
            level, then = self.buckets.get(client, (self.burst, now))
            level = min(self.burst, level + (now - then) * self.rate)
            if level < 1:
                self.buckets[client] = (level, now)
                return (1 - level) / self.rate
            self.buckets[client] = (level - 1, now)
            if len(self.buckets) > self.most:
                self._forget(now)
            return 0.0

    def _forget(self, now: float) -> None:
        full = [
            key
            for key, (level, then) in self.buckets.items()
            if level + (now - then) * self.rate >= self.burst
        ]
        for key in full:
            del self.buckets[key]


def limiter(policy: Policy) -> RateLimiter:
    burst = policy.burst or max(1, math.ceil(2 * policy.rate))
    return RateLimiter(policy.rate, float(burst))


def _bearer(request: Request) -> str | None:
    """The secret of `Authorization: Bearer <secret>` (None without a bearer token)."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip()


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def writable(request: Request) -> bool:
    """Whether any token could write: the server's own, or a write token in the ledger."""
    policy: Policy = request.app.state.policy
    if policy.token:
        return True
    held: Ledger = request.app.state.ledger
    with request.app.state.lock:
        return any(t.can_write for t in held.tokens().values())


def guard(request: Request) -> None:
    """Find the request's token, charge its client's rate limit, keep private servers private."""
    policy: Policy = request.app.state.policy
    secret = _bearer(request)
    token: Token | None = None
    if secret:
        token = environment_token(policy.token, secret)
        if token is None:
            held: Ledger = request.app.state.ledger
            with request.app.state.lock:
                token = held.authenticate(secret)
    client = f"token {token.name}" if token is not None else f"address {_client(request)}"
    wait = request.app.state.limiter.take(client)
    if wait:
        raise RateLimitedError(
            f"too many requests from {client}: at most {policy.rate:g} a second "
            f"(bursts of {request.app.state.limiter.burst:g}); retry in {math.ceil(wait)} s",
            wait,
        )
    request.state.token = token
    if policy.private and token is None and request.url.path.startswith("/api/"):
        why = "a token that is not known or was revoked" if secret else "no token"
        raise AuthError(
            f"this server is private: every request needs 'Authorization: Bearer <token>' "
            f"with a read or write token (this one has {why})"
        )


def require_write(request: Request) -> Token:
    """A write needs a write token; the route then checks its subtree limits."""
    token: Token | None = getattr(request.state, "token", None)
    if token is None:
        if not writable(request):
            raise ReadOnlyError(
                "this server is read-only: start it with ORGLEDGER_TOKEN set, or add a write "
                "token with `orgledger token add NAME --scope write`"
            )
        given = "a token that is not known or was revoked" if _bearer(request) else "no token"
        raise AuthError(
            f"this needs 'Authorization: Bearer <token>' with a write token (this request has "
            f"{given})"
        )
    if not token.can_write:
        raise ForbiddenError(f"token '{token.name}' may only read")
    return token


async def read_body(request: Request) -> bytes:
    """The request body, refused with 413 as soon as it passes the server's limit."""
    limit: int = request.app.state.policy.max_body
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise TooLargeError(f"the request body is larger than {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLargeError(f"the request body is larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


class Headers:
    """ASGI middleware adding the security headers to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [
                    (b"content-security-policy", CSP.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"x-frame-options", b"DENY"),
                ]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)
