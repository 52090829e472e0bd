"""The web app: a REST API over the ledger and pages with an org chart through time."""

from .app import create_app

__all__ = ["create_app"]
