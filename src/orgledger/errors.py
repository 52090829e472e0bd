"""One exception tree for the whole library.

Every error carries a short machine code and a sentence a person understands.
Plan and ledger refusals also carry :class:`Problem` records that say where
(file, line, operation) each problem is, so that every surface can print all
of them at once.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
MESSAGE_LIMIT = 2_000
"""Characters of a problem's message shown: a megabyte-long unit id must not flood a terminal."""


def shorten(text: str, limit: int = 400) -> str:
    """`text` fit for a one-line message: control characters and line breaks escaped, and cut
    in the middle when longer than `limit`, so that a quoted value cannot flood a terminal."""
    text = _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}…{text[-half:]}"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a change set, located as precisely as known."""

    code: str
    message: str
    op: int | None = None
    """1-based index of the operation, or None for the change set itself."""
    op_kind: str | None = None
    path: tuple[str | int, ...] = ()
    """Where inside the plan document (keys and list indexes)."""
    file: str | None = None
    line: int | None = None

    def located(self, file: str | None, line: int | None) -> Problem:
        return Problem(self.code, self.message, self.op, self.op_kind, self.path, file, line)

    def __str__(self) -> str:
        where = ""
        if self.file is not None:
            where = f"{self.file}:{self.line or 1}: "
        op = ""
        if self.op is not None:
            op = f"op {self.op} ({self.op_kind}): " if self.op_kind else f"op {self.op}: "
        return f"{where}{op}{shorten(self.message, MESSAGE_LIMIT)} [{self.code}]"


class OrgLedgerError(Exception):
    """Base of every error orgledger raises on purpose."""

    code = "error"
    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def lines(self) -> list[str]:
        """The error as lines for a person, one problem per line."""
        return [f"{self.message} [{self.code}]"]


class RefusedError(OrgLedgerError):
    """An input was refused for the problems it lists, each located; nothing was written."""

    code = "refused"
    what = "input"

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        super().__init__(f"{self.what} refused with {count} problem{'s' if count != 1 else ''}")

    def lines(self) -> list[str]:
        return [str(p) for p in self.problems]


class PlanError(RefusedError):
    """A plan (one or more change sets) was refused; nothing was written."""

    code = "plan-refused"
    what = "plan"


class MetricsError(RefusedError):
    """A metrics file was refused; nothing was written."""

    code = "metrics-refused"
    what = "metrics file"


class CurrencyError(OrgLedgerError):
    """Values in different currencies would have been added together or compared."""

    code = "currency-mix"


class UnknownUnitError(OrgLedgerError):
    code = "unknown-unit"


class AmbiguousUnitError(OrgLedgerError):
    code = "ambiguous-unit"

    def __init__(self, ref: str, candidates: Sequence[str]) -> None:
        self.candidates = list(candidates)
        listing = "; ".join(self.candidates)
        super().__init__(f"'{ref}' matches {len(self.candidates)} units: {listing}")


class InactiveUnitError(OrgLedgerError):
    code = "inactive"


class UnknownChangeSetError(OrgLedgerError):
    code = "unknown-changeset"


class UnknownMetricError(OrgLedgerError):
    code = "unknown-metric"


class LedgerMissingError(OrgLedgerError):
    code = "no-ledger"


class LedgerExistsError(OrgLedgerError):
    code = "ledger-exists"


class IntegrityError(OrgLedgerError):
    """The stored ledger does not match what its own log says."""

    code = "integrity"

    def __init__(self, findings: Sequence[str]) -> None:
        self.findings = list(findings)
        super().__init__(f"the ledger is not intact: {len(self.findings)} finding(s)")

    def lines(self) -> list[str]:
        return [f"{f} [{self.code}]" for f in self.findings]


class StoreError(OrgLedgerError):
    """The database could not be opened or written."""

    code = "store"


class UsageError(OrgLedgerError):
    """A value given by the caller has the wrong form (a date, a timestamp)."""

    code = "usage"
    exit_code = 2


class AuthError(OrgLedgerError):
    """A write without the right token."""

    code = "unauthorized"


class ReadOnlyError(OrgLedgerError):
    """A write to a server started without a token."""

    code = "read-only"


class TooLargeError(OrgLedgerError):
    """A request body over the size limit."""

    code = "too-large"


class ForbiddenError(OrgLedgerError):
    """A token that may not do this: a read token writing, a write outside the token's subtrees."""

    code = "forbidden"

    def __init__(self, message: str, details: dict[str, str | int] | None = None) -> None:
        super().__init__(message)
        self.details = details


class RateLimitedError(OrgLedgerError):
    """Too many requests from one client; `retry_after` says in how many seconds to retry."""

    code = "rate-limited"

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ImportFileError(OrgLedgerError):
    """A table to import that cannot be read or makes no structure; says where and why."""

    code = "import"


class ArchiveError(OrgLedgerError):
    """An export file that cannot be imported: not an export, damaged, or into a used ledger."""

    code = "archive"


class TokenError(OrgLedgerError):
    """A token command that cannot be done: a bad name or scope, an unknown or taken name."""

    code = "token"


class ExtractError(OrgLedgerError):
    """An announcement or a phrase table that cannot be read; says where and why."""

    code = "extract"
