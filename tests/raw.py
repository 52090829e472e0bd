"""SQL by hand on a ledger's database, as someone editing it outside orgledger would.

Works on both backends, so tamper and append-only tests run on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
import sqlalchemy as sa

from orgledger.store import resolve_url


def _engine(location: str) -> sa.Engine:
    return sa.create_engine(resolve_url(location))


def execute(location: str, *statements: str, bypass: Sequence[str] = ()) -> list[int]:
    """Run statements in one transaction; the rows each changed.

    With `bypass`, the append-only triggers of those tables are removed first,
    the way a person with write access to the database file or server could.
    """
    engine = _engine(location)
    try:
        with engine.begin() as conn:
            for table in bypass:
                if conn.dialect.name == "postgresql":
                    conn.exec_driver_sql(f"ALTER TABLE {table} DISABLE TRIGGER USER")
                else:
                    for action in ("update", "delete"):
                        conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_no_{action}")
            return [conn.exec_driver_sql(s).rowcount for s in statements]
    finally:
        engine.dispose()


def rows(location: str, query: str) -> list[tuple[Any, ...]]:
    engine = _engine(location)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.exec_driver_sql(query)]
    finally:
        engine.dispose()


def refused(location: str, statement: str) -> str:
    """Run a statement that the database must refuse; the refusal's message."""
    with pytest.raises(sa.exc.DBAPIError) as caught:
        execute(location, statement)
    return str(caught.value.orig)
