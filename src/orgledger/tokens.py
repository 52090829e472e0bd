"""Access tokens for the web API: scopes, subtree limits, and their life as stored events.

A token is a random secret given once to its holder; the ledger keeps only the
secret's SHA-256 digest, in an append-only list of events (`add`, `revoke`).
The secrets are 256 random bits, so a fast hash is enough: a slow key derivation
function protects guessable passwords, and nobody can guess 2**256 secrets
whatever the hash costs. A fast hash keeps authentication cheap on every request.

A `read` token may read; a `write` token may read and record change sets. A write
token limited to subtrees (`under`) may record only change sets whose every
operation stays inside them: see :func:`check_subtrees`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from .changeset import ChangeSet, timestamp
from .errors import ForbiddenError, TokenError
from .model import SLUG, Json, Snapshot
from .ops import AddLink, Create, Dissolve, Merge, Move, NewUnit, Op, Rename, Set, Split, Unlink

SCOPES = ("read", "write")
PREFIX = "olt_"
"""Secrets start with this, so that secret scanners and people can tell what they are."""
SHOWN = 8
"""Hex digits of a digest that listings show: enough to tell tokens apart, no more."""
ENVIRONMENT = "ORGLEDGER_TOKEN"
"""The name of the unrestricted write token a server takes from its environment."""


@dataclass(frozen=True)
class TokenEvent:
    """One stored step in a token's life: added (with its scope, limits, digest) or revoked."""

    seq: int
    name: str
    action: str
    recorded_at: datetime
    actor: str | None
    scope: str | None = None
    under: tuple[str, ...] = ()
    digest: str | None = None


@dataclass(frozen=True)
class Token:
    """An active token: what its holder may do. The secret itself is never kept."""

    name: str
    scope: str
    under: tuple[str, ...] = ()
    """Units whose subtrees a write token may change (empty: everything)."""
    digest: str = ""
    added_at: datetime | None = None
    added_by: str | None = None

    @property
    def can_write(self) -> bool:
        return self.scope == "write"

    def to_json(self) -> dict[str, Json]:
        return {
            "name": self.name,
            "scope": self.scope,
            "under": list(self.under),
            "digest": f"sha256:{self.digest[:SHOWN]}",
            "added_at": timestamp(self.added_at) if self.added_at else None,
            "added_by": self.added_by,
        }


def new_secret() -> str:
    """A fresh secret: 32 random bytes, URL-safe, with the orgledger prefix."""
    return PREFIX + secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    """What the ledger stores of a secret: its SHA-256, in hex."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def check_name(name: str) -> str:
    if not SLUG.fullmatch(name):
        raise TokenError(
            f"'{name}' is not a valid token name (lowercase letters, digits, '_', '.', '-')"
        )
    return name


def check_scope(scope: str, under: Sequence[str]) -> str:
    if scope not in SCOPES:
        raise TokenError(f"scope '{scope}' is not one of {', '.join(SCOPES)}")
    if under and scope != "write":
        raise TokenError("--under limits what a write token may change; a read token reads all")
    return scope


def replay(events: Iterable[TokenEvent], found: dict[str, Token] | None = None) -> dict[str, Token]:
    """The active tokens by name, as the events leave them (after the tokens `found`)."""
    found = {} if found is None else found
    for event in events:
        if event.action == "add" and event.scope is not None and event.digest is not None:
            found[event.name] = Token(
                event.name,
                event.scope,
                event.under,
                event.digest,
                event.recorded_at,
                event.actor,
            )
        elif event.action == "revoke":
            found.pop(event.name, None)
    return found


def matching(tokens: Mapping[str, Token], secret: str) -> Token | None:
    """The active token whose digest is the secret's, compared in constant time."""
    wanted = digest(secret)
    for token in tokens.values():
        if hmac.compare_digest(token.digest, wanted):
            return token
    return None


def environment_token(configured: str | None, secret: str) -> Token | None:
    """The server's own unrestricted write token (from ORGLEDGER_TOKEN), if `secret` is it."""
    if configured and hmac.compare_digest(secret.encode("utf-8"), configured.encode("utf-8")):
        return Token(ENVIRONMENT, "write")
    return None


# -- subtree limits ---------------------------------------------------------------------


def check_subtrees(token: Token, changeset: ChangeSet, snapshot: Snapshot) -> None:
    """Refuse a change set that leaves the subtrees a write token may change.

    `snapshot` is the structure on the change set's effective date. A unit is
    inside when it is one of the token's units or below one; a new unit is inside
    when its parent is. Renaming, setting and linking need the unit inside; a
    move needs the unit and its new parent inside, and the unit's old parent
    too (so a token's own top units can be renamed, never moved or ended);
    ending a unit (merge, split, dissolve) needs it and its old parent inside,
    and every unit that receives its content. A link's target may be anywhere:
    only the linked unit changes.
    """
    if not token.under:
        return
    limits = ", ".join(token.under)
    if changeset.supersedes is not None:
        raise ForbiddenError(
            f"token '{token.name}' may only change units under {limits}: it cannot record a "
            f"correction (supersedes '{changeset.supersedes}'), which may undo changes elsewhere",
            {"unit": changeset.supersedes},
        )
    tops = set(token.under)
    created: dict[str, str | None] = {}

    def parent(unit_id: str) -> str | None:
        if unit_id in created:
            return created[unit_id]
        unit = snapshot.units.get(unit_id)
        return unit.parent if unit is not None else None

    def inside(unit_id: str | None) -> bool:
        seen: set[str] = set()
        while unit_id is not None and unit_id not in seen:
            if unit_id in tops:
                return True
            seen.add(unit_id)
            unit_id = parent(unit_id)
        return False

    for number, op in enumerate(changeset.ops, start=1):
        for unit_id, moves in _touched(op):
            why = None
            if unit_id is None:
                why = "a new root is outside them"
            elif not inside(unit_id):
                why = f"'{unit_id}' is not under them on {changeset.effective.isoformat()}"
            elif moves and not inside(parent(unit_id)):
                why = f"'{unit_id}' is one of them: it may be changed, not moved or ended"
            if why is not None:
                raise ForbiddenError(
                    f"token '{token.name}' may only change units under {limits}: "
                    f"op {number} ({op.kind}): {why}",
                    {"op": number, "op_kind": op.kind, "unit": unit_id or ""},
                )
        for new in _created(op):
            created[new.id] = new.parent


_Touch = tuple[str | None, bool]
"""A unit an operation changes or places something under, and whether it moves or ends."""


def _new(new: NewUnit) -> _Touch:
    return (new.parent, False)


def _touched(op: Op) -> list[_Touch]:
    for kind, rule in _RULES.items():
        if isinstance(op, kind):
            return rule(op)
    raise TypeError(f"no subtree rule for operation {op.kind}")  # pragma: no cover


def _created(op: Op) -> list[NewUnit]:
    if isinstance(op, Create):
        return [op.unit]
    if isinstance(op, Merge) and op.new is not None:
        return [op.new]
    if isinstance(op, Split):
        return [p.new for p in op.parts if p.new is not None]
    return []


def _move(op: Op) -> list[_Touch]:
    assert isinstance(op, Move)
    return [*((t, True) for t in op.targets), (op.to, False)]


def _merge(op: Op) -> list[_Touch]:
    assert isinstance(op, Merge)
    into = _new(op.new) if op.new is not None else (op.into, False)
    return [*((s, True) for s in op.sources), into]


def _split(op: Op) -> list[_Touch]:
    assert isinstance(op, Split)
    parts = [_new(p.new) if p.new is not None else (p.to, False) for p in op.parts]
    rest = [(op.rest_to, False)] if op.rest_to is not None else []
    return [(op.target, True), *parts, *rest]


def _dissolve(op: Op) -> list[_Touch]:
    assert isinstance(op, Dissolve)
    heir = [(op.children_to, False)] if op.children_to is not None else []
    return [(op.target, True), *heir]


def _target(op: Op) -> list[_Touch]:
    assert isinstance(op, Rename | Set | AddLink | Unlink)
    return [(op.target, False)]


def _create(op: Op) -> list[_Touch]:
    assert isinstance(op, Create)
    return [_new(op.unit)]


_RULES: dict[type[Op], Callable[[Op], list[_Touch]]] = {
    Create: _create,
    Rename: _target,
    Set: _target,
    AddLink: _target,
    Unlink: _target,
    Move: _move,
    Merge: _merge,
    Split: _split,
    Dissolve: _dissolve,
}
