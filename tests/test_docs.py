"""The examples in README.md and docs/ are executed, so the docs cannot drift.

Each Markdown file runs in its own temporary directory, block by block, in order:

- ```console blocks: a line `$ orgledger ARGS` is run in-process with the rest of the
  block up to the next `$ ` line as its expected output (stdout and stderr together,
  trailing spaces ignored). An expected line `...` matches any number of lines, and
  `...` inside a line any text within it (hashes, times). A command ending in
  `  # exit N` must exit with N (otherwise 0). Other `$ ` lines (`make demo`) are
  shown to the reader and not run.
- A fenced block right after a line `<!-- file: NAME -->` is written to NAME.
- Other ```yaml blocks with a top-level `id:` and `ops:` must parse as plans.
- ```python blocks are executed, in one namespace per document.
- `<!-- now: TIMESTAMP -->` sets the clock the ledger records with from there on.

Before the first block the directory holds `orgledger.db` with the Tencent example,
recorded at 2026-01-05T09:00:00Z, unless the first console block begins with
`$ orgledger init`.
"""

from __future__ import annotations

import re
import shlex
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import orgledger.store
from orgledger import Ledger, PlanError
from orgledger.cli import app
from orgledger.demo import example_plans
from orgledger.ledger import parse_timestamp
from orgledger.plan import parse_plan

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])
ENV = {"COLUMNS": "100", "NO_COLOR": "1", "ORGLEDGER_DB": "orgledger.db"}
START = "2026-01-05T09:00:00Z"

_FENCE = re.compile(r"^( *)```(\w*)\s*$")
_FILE = re.compile(r"^\s*<!--\s*file:\s*(\S+)\s*-->\s*$")
_NOW = re.compile(r"^\s*<!--\s*now:\s*(\S+)\s*-->\s*$")
_EXIT = re.compile(r"\s+#\s*exit\s+(\d+)\s*$")
_COMMAND = re.compile(r"^\s*\$ orgledger ", re.MULTILINE)
_PLAN = re.compile(r"^id:.*^ops:", re.MULTILINE | re.DOTALL)


@dataclass(frozen=True)
class Block:
    """A fenced block (or a clock directive, with `lang` "now") and where it starts."""

    lang: str
    text: str
    line: int
    file: str | None = None


@dataclass(frozen=True)
class Command:
    args: str
    expected: list[str]
    exit_code: int
    line: int


def blocks(text: str) -> Iterator[Block]:
    """The fenced blocks of a Markdown text and the clock directives between them."""
    lines = text.splitlines()
    index = 0
    pending_file: str | None = None
    while index < len(lines):
        line = lines[index]
        now = _NOW.match(line)
        if now:
            yield Block("now", now.group(1), index + 1)
        file = _FILE.match(line)
        if file:
            pending_file = file.group(1)
            index += 1
            continue
        fence = _FENCE.match(line)
        if fence:
            indent = fence.group(1)
            start = index + 1
            end = start
            while end < len(lines) and not lines[end].strip().startswith("```"):
                end += 1
            body = "".join(f"{text.removeprefix(indent)}\n" for text in lines[start:end])
            yield Block(fence.group(2), body, start, pending_file)
            index = end + 1
        else:
            index += 1
        if line.strip():
            pending_file = None


def commands(block: Block) -> Iterator[Command]:
    """The `$ orgledger` commands of a console block with their expected output."""
    current: tuple[str, int, int] | None = None
    expected: list[str] = []
    for offset, line in enumerate(block.text.splitlines()):
        if line.startswith("$ "):
            if current is not None:
                yield Command(current[0], expected, current[1], current[2])
            current, expected = None, []
            if line.startswith("$ orgledger "):
                rest = line.removeprefix("$ orgledger ")
                code = _EXIT.search(rest)
                if code:
                    rest = rest[: code.start()]
                current = (rest, int(code.group(1)) if code else 0, block.line + offset + 1)
        elif current is not None:
            expected.append(line)
    if current is not None:
        yield Command(current[0], expected, current[1], current[2])


def matches(expected: list[str], actual: str) -> bool:
    """True if `actual` fits `expected`, where a line `...` stands for any lines."""
    want = _trimmed(expected)
    pattern = "".join(
        r"(?:[^\n]*\n)*?" if line == "..." else _line_pattern(line) + r"\n" for line in want
    )
    text = "".join(f"{line}\n" for line in _trimmed(actual.splitlines()))
    return re.fullmatch(pattern, text) is not None


def _line_pattern(line: str) -> str:
    """A line of expected output; `...` inside it stands for any text (a hash, a time)."""
    return r"[^\n]*".join(re.escape(part) for part in line.split("..."))


def _trimmed(lines: list[str]) -> list[str]:
    result = [line.rstrip() for line in lines]
    while result and not result[-1]:
        result.pop()
    return result


class Clock:
    """The time the ledger records with: fixed, and moved on by `<!-- now: -->`."""

    def __init__(self, start: str) -> None:
        self.moment = parse_timestamp(start)

    def __call__(self) -> datetime:
        return self.moment.astimezone(UTC)


class Session:
    """One document's run: its directory, its clock and its Python namespace."""

    def __init__(self, name: str, directory: Path, clock: Clock) -> None:
        self.name = name
        self.directory = directory
        self.clock = clock
        self.runner = CliRunner()
        self.namespace: dict[str, Any] = {"__name__": f"docs:{name}"}
        self.ran = 0

    def run(self, command: Command) -> str:
        result = self.runner.invoke(app, shlex.split(command.args), env=ENV, prog_name="orgledger")
        self.ran += 1
        where = f"{self.name}:{command.line}: `orgledger {command.args}`"
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise AssertionError(f"{where} raised {result.exception!r}") from result.exception
        if result.exit_code != command.exit_code:
            raise AssertionError(
                f"{where} exited {result.exit_code}, expected {command.exit_code}\n{result.output}"
            )
        if not matches(command.expected, result.output):
            raise AssertionError(
                f"{where}: output differs\n--- expected\n"
                + "\n".join(_trimmed(command.expected))
                + "\n--- actual\n"
                + "\n".join(_trimmed(result.output.splitlines()))
            )
        return result.output

    def block(self, block: Block) -> None:
        if block.lang == "now":
            self.clock.moment = parse_timestamp(block.text)
        elif block.file is not None:
            (self.directory / block.file).write_text(block.text, encoding="utf-8")
        elif block.lang == "console":
            for command in commands(block):
                self.run(command)
        elif block.lang == "python":
            # Padded so that a traceback gives the line in the document.
            source = "\n" * block.line + textwrap.dedent(block.text)
            code = compile(source, self.name, "exec", dont_inherit=True)
            exec(code, self.namespace)
        elif block.lang == "yaml" and _PLAN.search(block.text):
            try:
                parse_plan(block.text, f"{self.name}:{block.line}")
            except PlanError as error:
                raise AssertionError("\n".join(error.lines())) from None


def _needs_tencent(all_blocks: list[Block]) -> bool:
    console = next((b for b in all_blocks if b.lang == "console" and b.file is None), None)
    return console is None or not console.text.startswith("$ orgledger init")


def run_document(path: Path, directory: Path, monkeypatch: pytest.MonkeyPatch) -> Session:
    name = str(path.relative_to(ROOT))
    all_blocks = list(blocks(path.read_text(encoding="utf-8")))
    clock = Clock(START)
    monkeypatch.setattr(orgledger.store, "_now", clock)
    monkeypatch.chdir(directory)
    for key, value in ENV.items():
        monkeypatch.setenv(key, value)
    if _needs_tencent(all_blocks):
        with Ledger.init("orgledger.db") as ledger:
            ledger.apply(*example_plans())
    session = Session(name, directory, clock)
    for block in all_blocks:
        session.block(block)
    return session


def test_documents_exist() -> None:
    names = {str(p.relative_to(ROOT)) for p in DOCUMENTS}
    assert {"README.md", "docs/index.md", "docs/tutorial.md", "docs/cli.md"} <= names


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_examples_run(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    session = run_document(path, tmp_path, monkeypatch)
    shown = len(_COMMAND.findall(path.read_text(encoding="utf-8")))
    assert session.ran == shown, f"{session.name}: {shown - session.ran} command(s) were not run"


def test_expected_output_wildcards() -> None:
    assert matches(["a", "...", "d"], "a\nb\nc\nd\n")
    assert matches(["a", "...", "b"], "a\nb\n")
    assert matches(["a  "], "a\n\n")
    assert not matches(["a", "b"], "a\nc\n")
    assert matches(["head ...", "x...z"], "head 8f3b49\nxyz\n")
    assert not matches(["head ..."], "head 8f\nmore\n")


def test_indented_blocks_are_found() -> None:
    text = "1. Step:\n\n   <!-- file: a.yaml -->\n   ```yaml\n   id: a\n   ```\n"
    assert list(blocks(text)) == [Block("yaml", "id: a\n", 4, "a.yaml")]


def test_commands_are_split_with_their_output_and_exit_codes() -> None:
    text = "$ orgledger show x  # exit 1\nno\n$ make demo\nignored\n$ orgledger log\nrow\n"
    found = list(commands(Block("console", text, 10)))
    assert [(c.args, c.expected, c.exit_code, c.line) for c in found] == [
        ("show x", ["no"], 1, 11),
        ("log", ["row"], 0, 15),
    ]
