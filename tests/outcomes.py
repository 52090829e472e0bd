"""How a command-line run ended: the checks every CLI test shares."""

from __future__ import annotations

import json
from typing import Any

from typer.testing import Result


def ok(result: Result) -> Result:
    """The command succeeded, without a traceback."""
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    assert "Traceback" not in result.stdout + result.stderr
    return result


def fails(result: Result, code: int) -> Result:
    """The command ended with `code`, cleanly: no traceback, no stray exception."""
    assert result.exit_code == code, (result.stdout, result.stderr, result.exception)
    assert "Traceback" not in result.stdout + result.stderr
    assert isinstance(result.exception, SystemExit), result.exception
    return result


def as_json(result: Result) -> Any:
    """The standard output of a successful command, parsed as JSON."""
    return json.loads(ok(result).stdout)
