"""The load run works end to end for a few seconds: no errors, every write recorded once.

Nothing here checks timings: the load run reports them, it never passes or fails on them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_a_short_load_run_has_no_errors_and_loses_no_write(tmp_path: Path) -> None:
    out = tmp_path / "web_load.json"
    command = [sys.executable, "-m", "benchmarks.web_load", "--seconds", "3", "--out", str(out)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["errors"] == 0, result["error_samples"]
    assert result["reads"] > 0 and result["writes"] > 0
    assert result["writes_acknowledged"] == result["writes_recorded"] > 0
    assert result["every_write_once"] is True
