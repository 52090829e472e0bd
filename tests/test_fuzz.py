"""Hostile input: the plan reader and the metric reader under fuzzing.

Whatever bytes a plan or metrics file holds (random text from every Unicode plane,
control characters, invalid UTF-8, mutations of the Tencent example files, deep
nesting, huge strings, YAML tags, anchors and billion-laughs documents), reading
it either gives a value or raises an OrgLedgerError whose every line names the
file and a line, on one line of text. Never another exception, never an object
built from a YAML tag, and through the ledger and the command line, nothing
written when the input is refused.

`make test` runs a few thousand examples (the `fuzz` profile, derandomized).
For a long run, set `ORGLEDGER_FUZZ_EXAMPLES`: each reader test then runs that
many examples, the ledger tests a tenth and the command-line tests a fiftieth
(the `fuzz-long` profile, randomized):

    ORGLEDGER_FUZZ_EXAMPLES=20000 .venv/bin/pytest tests/test_fuzz.py
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from typer.testing import Result

from orgledger import Ledger, MetricsError, OrgLedgerError, PlanError, parse_plan, read_plan
from orgledger.changeset import ChangeSet
from orgledger.demo import example_metrics, example_plans
from orgledger.metrics import RawRow, read_metrics
from orgledger.store import metric_loads_t

Cli = Callable[..., Result]

LONG = int(os.environ.get("ORGLEDGER_FUZZ_EXAMPLES", "0") or 0)
settings.register_profile("fuzz", deadline=None, derandomize=True, database=None)
settings.register_profile("fuzz-long", deadline=None, derandomize=False, database=None)
FUZZ = settings.get_profile("fuzz-long" if LONG else "fuzz")
"""Registered, not loaded: the other test modules keep their own settings."""


def budget(default: int, share: float = 1.0) -> int:
    """Examples for one test: `default` in `make test`, a share of the long run's count."""
    return max(default, int(LONG * share)) if LONG else default


READER = settings(FUZZ, max_examples=budget(700))
# Each example reads or writes the ledger's database: slow by Hypothesis' measure, on purpose.
LEDGER = settings(FUZZ, max_examples=budget(120, 0.1), suppress_health_check=[HealthCheck.too_slow])
# The `cli` fixture is a stateless runner, so sharing it across examples is safe.
CLI = settings(
    FUZZ,
    max_examples=budget(30, 0.02),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

MAX_LINE = 1000
"""A problem is one readable line: the message is cut well before this."""

# -- seeds: the real example files, and JSON versions of them --------------------------

PLAN_YAML = [path.read_bytes() for path in example_plans()]
PLAN_JSON = [
    json.dumps(yaml.safe_load(data), default=str, ensure_ascii=False, indent=1).encode()
    for data in PLAN_YAML
]
METRICS_CSV = example_metrics().read_bytes()
_ROWS = list(csv.DictReader(io.StringIO(METRICS_CSV.decode())))
METRICS_JSON = [
    json.dumps(_ROWS[:12], ensure_ascii=False).encode(),
    json.dumps({"metrics": _ROWS[12:20]}, indent=2).encode(),
]
SEEDS = {
    "plans": PLAN_YAML + PLAN_JSON,
    "metrics": [METRICS_CSV, METRICS_CSV[:600], *METRICS_JSON],
}
"""Named, so that strategies show as `mutated('plans')` rather than as the files' text."""

SPECIAL = [
    "\x00", "\ufeff", "\x85", "\u2028", "\u2029", "\x1b[2J", "\r", "\r\n", "\t", "\x7f",
    "\ufffe", "\uffff", "\U0010ffff", "\U0001f600", "\u0301", "\u202e", "\x0b", "\x0c",
]  # fmt: skip
SYNTAX = [
    "- ", ": ", "? ", "[", "]", "{", "}", ",", "&a ", "*a", "!!str ", "!foo ", "| ", "> ",
    "'", '"', "# ", "%YAML 1.1\n", "%TAG ! tag:x,2000:\n", "---\n", "...\n", "<<: ",
    '"\\u0000"', '"\\ud800"', '"\\udc00\\ud800"', "0x1F", "0o17", "1e999", "-.inf", ".nan",
    "~", "null", "NaN", "Infinity", "\n", "  ", "\n  ", "\n- ", "1" * 50, "9" * 20,
    "2019Q5", "2020-02-30", "0000-01-01", "9999-12-31",
]  # fmt: skip
WORDS = [
    "id", "effective", "ops", "title", "source", "notes", "supersedes", "create", "parent",
    "kind", "names", "abbr", "attrs", "rename", "set", "move", "to", "merge", "into",
    "split", "dissolve", "link", "unlink", "share", "basis", "children", "en", "zh",
    "headcount", "unit", "metric", "period", "value", "currency", "revenue", "tencent",
    "csig", "2018-09-30", "2016Q1", "RMB million", "reported", "approx", "derived",
]  # fmt: skip
BAD_BYTES = [
    b"\xff", b"\xfe", b"\xc3", b"\xe2\x82", b"\xed\xa0\x80", b"\xf4\x90\x80\x80",
    b"\xc0\x80", b"\xef\xbb\xbf", b"\x00", b"\r", b"\n\n\n",
]  # fmt: skip

# -- strategies ---------------------------------------------------------------------

every_char = st.characters(codec="utf-8")
"""Every Unicode plane, control characters and NUL included; no surrogates (not UTF-8)."""
pieces = st.one_of(
    st.text(every_char, max_size=12),
    st.sampled_from(SPECIAL),
    st.sampled_from(SYNTAX),
    st.sampled_from(WORDS),
    st.integers(300, 6_000).map(lambda n: "1" * n),
)
texts = st.lists(pieces, max_size=60).map("".join)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=10**300, max_value=10**400),
    st.floats(),
    st.text(every_char, max_size=20),
    st.sampled_from(WORDS + SYNTAX),
    st.dates().map(date.isoformat),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.sampled_from(WORDS) | st.text(every_char, max_size=8), inner, max_size=4
        ),
    ),
    max_leaves=25,
)
ops = st.dictionaries(st.sampled_from(WORDS), values, min_size=1, max_size=5)
plan_shaped = st.fixed_dictionaries(
    {},
    optional={
        "id": values,
        "effective": st.dates().map(date.isoformat) | values,
        "title": values,
        "source": values,
        "supersedes": values,
        "ops": st.lists(ops, max_size=4) | values,
    },
)
row_shaped = st.dictionaries(st.sampled_from(WORDS), values, max_size=7)
metrics_shaped = st.lists(row_shaped, max_size=5) | st.fixed_dictionaries(
    {"metrics": st.lists(row_shaped, max_size=5) | values}
)


def _dump(value: Any, as_json: bool, plain: bool) -> str:
    if as_json:
        return json.dumps(value, ensure_ascii=plain)
    return yaml.safe_dump(value, allow_unicode=not plain, sort_keys=False)


def documents(shapes: st.SearchStrategy[Any]) -> st.SearchStrategy[str]:
    """Values of a given shape written as YAML or JSON (which may still be refused)."""
    return st.builds(_dump, shapes, st.booleans(), st.booleans())


OPENERS = ["[", "{", '{"a":', "[{", '{"ops":[', "- ", "a: [", "{a: "]


@st.composite
def nested(draw: st.DrawFn) -> str:
    """Deep nesting, up to 20,000 levels, of flow or block collections, closed or not."""
    opener = draw(st.sampled_from([*OPENERS, "block"]))
    depth = draw(st.integers(1, 1_500 if opener == "block" else 20_000))
    if opener == "block":
        return "".join(" " * i + "a:\n" for i in range(depth)) + " " * depth + "x\n"
    closer = "".join({"[": "]", "{": "}"}.get(c, "") for c in reversed(opener))
    body = opener * depth + draw(st.sampled_from(["", "1", "x", '"x"']))
    return body + (closer * depth if draw(st.booleans()) else "")


@st.composite
def huge(draw: st.DrawFn) -> str:
    """A long run of one character in a key, a value, or a line of its own."""
    run = draw(st.sampled_from(["x", "é", "\U0001f600", " ", "\n", "9", "'", "\\", "\x00"]))
    text = run * draw(st.integers(10_000, 300_000))
    form = draw(st.sampled_from(["{v}", "id: {v}\n", "{v}: 1\n", 'id: "{v}"\n', "- {v}\n"]))
    return form.replace("{v}", text)


TAGS = [
    "!!python/object/apply:os.system ['touch {mark}']",
    "!!python/object/apply:builtins.open ['{mark}', 'w']",
    "!!python/object/new:builtins.open ['{mark}', 'w']",
    "!!python/object:builtins.object {}",
    "!!python/name:os.system",
    "!!python/module:os",
    "!<tag:yaml.org,2002:python/object/apply:os.system> ['touch {mark}']",
    "!foo bar",
    "!foo {a: 1}",
    "!!binary aGVsbG8=",
    "!!set {a, b}",
    "!!omap [a: 1]",
    "!!pairs [a: 1]",
    "*a",
    "[*a, *a, *a]",
    "{<<: *a}",
    "{<<: {a: 1}}",
]
"""Refused wherever they stand as a value."""
STANDARD = [
    "!!timestamp 2020-01-01", "!!int 12", "!!str 12", "!!map {a: 1}", "!!seq [1]", "! x", "&b x",
]  # fmt: skip
"""YAML's own tags for plain values are allowed; so is an anchor no alias uses (the parsed
document does not keep it, and without an alias nothing can be expanded)."""
MARK = Path(os.environ.get("TMPDIR", "/tmp")) / f"orgledger-fuzz-mark-{os.getpid()}"
"""A file the tag payloads above would create if a tag ever built an object."""


@st.composite
def tagged(draw: st.DrawFn) -> str:
    """An example plan with YAML tags, anchors and aliases put in place of values or lines."""
    lines = PLAN_YAML[draw(st.integers(0, len(PLAN_YAML) - 1))].decode().splitlines()
    for _ in range(draw(st.integers(1, 4))):
        fragment = draw(st.sampled_from(TAGS)).replace("{mark}", str(MARK))
        index = draw(st.integers(0, len(lines) - 1))
        line = lines[index]
        head, colon, _ = line.partition(": ")
        if colon and draw(st.booleans()):
            lines[index] = f"{head}: {fragment}"
        else:
            indent = len(line) - len(line.lstrip(" -"))
            lines.insert(index, " " * indent + f"{draw(st.sampled_from(WORDS))}: {fragment}")
    if draw(st.booleans()):
        lines.insert(0, "%TAG !p! tag:yaml.org,2002:python/object/apply:")
        lines.insert(1, "---")
        lines.append(f"x: !p!os.system ['touch {MARK}']")
    return "\n".join(lines) + "\n"


def laughs(levels: int = 9, width: int = 10) -> str:
    """The billion-laughs document: 10**9 strings if aliases were expanded."""
    out = ['a0: &a0 "lol"']
    for level in range(1, levels + 1):
        refs = ", ".join([f"*a{level - 1}"] * width)
        out.append(f"a{level}: &a{level} [{refs}]")
    return "\n".join(out) + "\n"


@st.composite
def mutated(draw: st.DrawFn, kind_of_file: str) -> bytes:
    """A seed file with a few byte flips, deletions, duplications, insertions, swapped
    or moved lines, swapped keywords, or its tail spliced from another seed."""
    seeds = SEEDS[kind_of_file]
    data = bytearray(seeds[draw(st.integers(0, len(seeds) - 1))])
    for _ in range(draw(st.integers(1, 6))):
        size = len(data)
        at = draw(st.integers(0, size))
        kind = draw(
            st.sampled_from(
                ["flip", "delete", "duplicate", "insert", "bad", "lines", "keyword", "splice"]
            )
        )
        if kind == "flip" and size:
            data[min(at, size - 1)] ^= draw(st.integers(1, 255))
        elif kind == "delete":
            del data[at : at + draw(st.integers(1, 80))]
        elif kind == "duplicate":
            data[at:at] = data[draw(st.integers(0, size)) :][: draw(st.integers(1, 200))]
        elif kind == "insert":
            data[at:at] = draw(pieces).encode()
        elif kind == "bad":
            data[at:at] = draw(st.sampled_from(BAD_BYTES))
        elif kind == "lines":
            lines = bytes(data).split(b"\n")
            i, j = (draw(st.integers(0, len(lines) - 1)) for _ in range(2))
            how = draw(st.sampled_from(["swap", "move", "copy", "drop", "indent", "dedent"]))
            if how == "swap":
                lines[i], lines[j] = lines[j], lines[i]
            elif how == "move":
                lines.insert(j, lines.pop(i))
            elif how == "copy":
                lines.insert(j, lines[i])
            elif how == "drop":
                del lines[i]
            elif how == "indent":
                lines[i] = b"  " + lines[i]
            else:
                lines[i] = lines[i].lstrip(b" -")
            data = bytearray(b"\n".join(lines))
        elif kind == "keyword":
            old, new = (draw(st.sampled_from(WORDS)).encode() for _ in range(2))
            data = bytearray(bytes(data).replace(old, new, draw(st.integers(1, 3))))
        else:
            other = seeds[draw(st.integers(0, len(seeds) - 1))]
            data[at:] = other[draw(st.integers(0, len(other))) :]
    return bytes(data)


def encoded(text: st.SearchStrategy[str]) -> st.SearchStrategy[bytes]:
    return st.builds(lambda t, bom: ("\ufeff" if bom else "") + t, text, st.booleans()).map(
        lambda t: t.encode("utf-8")
    )


plan_texts = st.one_of(
    texts, documents(plan_shaped | values), nested(), huge(), tagged(), documents(values)
)
plan_files = st.one_of(
    mutated("plans"),
    mutated("plans"),
    st.binary(max_size=2_000),
    encoded(plan_texts),
)
metric_files = st.one_of(
    mutated("metrics"),
    mutated("metrics"),
    st.binary(max_size=2_000),
    encoded(texts | documents(metrics_shaped) | nested() | huge()),
)
plan_suffixes = st.sampled_from([".yaml", ".json", ".yml"])
metric_suffixes = st.sampled_from([".csv", ".json", ".txt"])

# -- the property -----------------------------------------------------------------------


def clear(exc: OrgLedgerError, name: str, data: bytes | str) -> None:
    """A refusal names the file and a line inside it on each line, one line per problem."""
    assert isinstance(exc, PlanError | MetricsError), exc
    assert exc.problems
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    lines = len(text.splitlines()) or 1
    for problem in exc.problems:
        assert problem.file == name, problem
        assert problem.line is not None
        assert 1 <= problem.line <= lines, problem
    for line in exc.lines():
        assert line.startswith(f"{name}:"), line
        assert len(line.splitlines()) == 1, line
        assert len(line) <= MAX_LINE, line[:200]
        assert line.endswith("]"), line


def refused(read: Callable[[], object], name: str, data: bytes | str) -> OrgLedgerError | None:
    """The refusal `read` raised, checked; None when it read a value. Any other exception
    (RecursionError, MemoryError, ValueError, ...) propagates and fails the test."""
    try:
        read()
    except OrgLedgerError as exc:
        clear(exc, name, data)
        return exc
    finally:
        assert not MARK.exists(), "a YAML tag built an object"
    return None


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def put(folder: Path, suffix: str, data: bytes) -> Path:
    path = folder / f"fuzzed{suffix}"
    path.write_bytes(data)
    return path


# -- the readers --------------------------------------------------------------------------


@READER
@given(text=plan_texts, fmt=st.sampled_from(["yaml", "json"]))
@example(text="id: x\neffective: 2020-01-01\nops: []\nn: " + "1" * 5000, fmt="yaml")
@example(text='{"id": ' + "1" * 5000 + "}", fmt="json")
@example(text="a: \ud800", fmt="yaml")
@example(text='{"id": "x", "title": "\ud800"}', fmt="json")
@example(text="a: \x00", fmt="yaml")
@example(text='id: "a\\nb\\e[2J"\neffective: 2020-01-01\nops: [{dissolve: x}]', fmt="yaml")
@example(text='{"id": "x", "effective": "2020-01-01", "ops": [{"dissolve": "\\n"}]}', fmt="json")
def test_parse_plan_gives_a_change_set_or_a_clear_refusal(text: str, fmt: str) -> None:
    name = f"fuzzed.{fmt}"
    try:
        result: object = parse_plan(text, name, fmt)
    except OrgLedgerError as exc:
        clear(exc, name, text)
    else:
        assert isinstance(result, ChangeSet)
    assert not MARK.exists()


@READER
@given(data=plan_files, suffix=plan_suffixes)
@example(data=b'{"id": "x-\\ud800", "effective": "2020-01-01", "ops": []}', suffix=".json")
@example(data=b"\xef\xbb\xbf\xef\xbb\xbfid: x", suffix=".yaml")
@example(data=b"id: x\n\xed\xa0\x80", suffix=".yaml")
@example(data=b"(\n---", suffix=".yaml")
def test_read_plan_gives_a_change_set_or_a_clear_refusal(
    scratch: Path, data: bytes, suffix: str
) -> None:
    path = put(scratch, suffix, data)
    refused(lambda: read_plan(path), str(path), data)


@READER
@given(data=metric_files, suffix=metric_suffixes)
@example(data=b'[{"unit": "x", "currency": "\\udc00"}]', suffix=".json")
@example(data=b"unit,metric,period,value\n" + b"x" * 200_000 + b",m,2019,1\n", suffix=".csv")
@example(data=b"unit,metric\x00,period,value\n", suffix=".csv")
def test_read_metrics_gives_rows_or_a_clear_refusal(
    scratch: Path, data: bytes, suffix: str
) -> None:
    path = put(scratch, suffix, data)
    try:
        rows = read_metrics(path)
    except OrgLedgerError as exc:
        clear(exc, str(path), data)
    else:
        assert all(isinstance(row, RawRow) for row in rows)
        for row in rows:
            if row.problem is not None:
                assert row.problem.file == str(path)
                assert len(str(row.problem)) <= MAX_LINE


@READER
@given(text=tagged())
def test_yaml_tags_anchors_and_aliases_build_nothing(text: str) -> None:
    """A fragment may land inside a block of text, where it is only text: so the property
    is the general one, and the test below pins each fragment as a value."""
    refused(lambda: parse_plan(text, "tagged.yaml"), "tagged.yaml", text)


@pytest.mark.parametrize("fragment", TAGS + STANDARD)
def test_each_tag_anchor_or_alias_is_refused(fragment: str) -> None:
    payload = fragment.replace("{mark}", str(MARK))
    text = f"id: x\neffective: 2020-01-01\nops: [{{dissolve: mig}}]\nx: &a [1]\ny: {payload}\n"
    error = refused(lambda: parse_plan(text, "t.yaml"), "t.yaml", text)
    assert isinstance(error, PlanError)
    codes = {p.code for p in error.problems}
    if fragment in STANDARD:
        assert codes == {"unknown-key"}
    else:
        assert codes & {"yaml-tag", "yaml-alias", "yaml-key"}, codes


def test_billion_laughs_is_refused_without_expanding() -> None:
    text = laughs()
    error = refused(lambda: parse_plan(text, "lol.yaml"), "lol.yaml", text)
    assert isinstance(error, PlanError)
    assert {p.code for p in error.problems} == {"yaml-alias"}
    assert len(error.problems) < 200


@pytest.mark.parametrize("depth", [10_000, 100_000])
@pytest.mark.parametrize("opener", OPENERS)
@pytest.mark.parametrize("closed", [True, False])
def test_deep_nesting_is_refused_without_recursion_error(
    scratch: Path, depth: int, opener: str, closed: bool
) -> None:
    closer = "".join({"[": "]", "{": "}"}.get(c, "") for c in reversed(opener))
    text = opener * depth + "1" + (closer * depth if closed else "")
    for fmt in ("yaml", "json"):
        assert refused(lambda: parse_plan(text, "deep", fmt), "deep", text)  # noqa: B023
    row = '[{"unit": "u", "metric": "m", "period": "2019", "value": '
    for suffix, data in [(".json", text), (".csv", text), (".json", row + text + "}]")]:
        path = put(scratch, suffix, data.encode())
        refused(lambda: read_metrics(path), str(path), data)  # noqa: B023


def test_deep_block_nesting_is_refused() -> None:
    text = "".join(" " * i + "a:\n" for i in range(2_000)) + " " * 2_000 + "x\n"
    error = refused(lambda: parse_plan(text, "deep.yaml"), "deep.yaml", text)
    assert error is not None


MB = 1024 * 1024


@pytest.mark.parametrize(
    "form",
    [
        "id: {v}\neffective: 2020-01-01\nops: [{{dissolve: mig}}]\n",
        'id: x\neffective: 2020-01-01\nnotes: "{v}"\nops: [{{dissolve: mig}}]\n',
        "id: x\neffective: 2020-01-01\nops: [{{{v}: mig}}]\n",
        "{v}: 1\n",
        "{v}",
        '{{"id": "{v}", "effective": "2020-01-01", "ops": [{{"dissolve": "mig"}}]}}',
        '["{v}"',
    ],
)
def test_huge_strings_give_a_short_refusal(scratch: Path, form: str) -> None:
    text = form.format(v="é" * (3 * MB))
    for suffix in (".yaml", ".json"):
        path = put(scratch, suffix, text.encode())
        refused(lambda: read_plan(path), str(path), text)  # noqa: B023


@pytest.mark.parametrize(
    "text",
    [
        "unit,metric,period,value\n{v},revenue,2019,1\n",
        "unit,metric,period,value\ntencent,revenue,2019,{v}\n",
        "{v}\n",
        '[{{"unit": "{v}", "metric": "revenue", "period": "2019", "value": 1}}]',
        '[{{"unit": "tencent", "metric": "revenue", "period": "2019", "value": "{v}"}}]',
        '[{{"{v}": 1}}]',
    ],
)
def test_huge_metric_values_give_a_short_refusal(scratch: Path, shared: Ledger, text: str) -> None:
    data = text.format(v="x" * (5 * MB)).encode()
    for suffix in (".csv", ".json"):
        path = put(scratch, suffix, data)
        before = written(shared)
        refused(lambda: shared.load_metrics(path), str(path), data)  # noqa: B023
        assert written(shared) == before


# -- through the ledger ------------------------------------------------------------------


@pytest.fixture(scope="module")
def tencent_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tencent") / "tencent.db"
    with Ledger.init(path) as ledger:
        ledger.apply(*example_plans())
        ledger.load_metrics(example_metrics())
    return path


@pytest.fixture(scope="module")
def shared(tencent_file: Path) -> Iterator[Ledger]:
    """The Tencent ledger with its figures, open for the whole module."""
    copy = tencent_file.with_name("shared.db")
    shutil.copy(tencent_file, copy)
    with Ledger.open(copy) as ledger:
        yield ledger


@pytest.fixture(scope="module")
def cli_db(tencent_file: Path) -> str:
    copy = tencent_file.with_name("cli.db")
    shutil.copy(tencent_file, copy)
    return str(copy)


def written(ledger: Ledger) -> tuple[tuple[int, str], int, int]:
    """What a refused input must leave unchanged: the head, the loads and the values."""
    with ledger.store.engine.connect() as conn:
        loads = conn.execute(sa.select(sa.func.count()).select_from(metric_loads_t)).scalar()
    return ledger.store.head(), int(loads or 0), len(ledger.store.metric_values())


@LEDGER
@given(data=plan_files, suffix=plan_suffixes)
@example(
    data=b'{"id": "x", "effective": "2020-01-01", "title": "\\ud800", '
    b'"ops": [{"dissolve": "mig"}]}',
    suffix=".json",
)
def test_a_fuzzed_plan_is_recorded_whole_or_not_at_all(
    scratch: Path, shared: Ledger, data: bytes, suffix: str
) -> None:
    path = put(scratch, suffix, data)
    before = written(shared)
    error = refused(lambda: shared.apply(path), str(path), data)
    if error is not None:
        assert written(shared) == before


@LEDGER
@given(data=metric_files, suffix=metric_suffixes)
@example(
    data=b'[{"unit": "tencent", "metric": "revenue", "period": "2019", "value": 1'
    + b"0" * 400
    + b"}]",
    suffix=".json",
)
@example(
    data=b'[{"unit": "tencent", "metric": "m", "period": "2019", "value": 1, '
    b'"source": ["\\udc00"]}]',
    suffix=".json",
)
@example(
    data=b'[{"unit": "tencent", "metric": "m", "period": '
    + b"[" * 900
    + b"]" * 900
    + b', "value": '
    + b"[" * 900
    + b"]" * 900
    + b"}]",
    suffix=".json",
)
def test_a_fuzzed_metrics_file_is_loaded_whole_or_not_at_all(
    scratch: Path, shared: Ledger, data: bytes, suffix: str
) -> None:
    path = put(scratch, suffix, data)
    before = written(shared)
    error = refused(lambda: shared.load_metrics(path), str(path), data)
    if error is not None:
        assert written(shared) == before


def _cli_outcome(result: Result, path: Path) -> None:
    assert "Traceback" not in result.stdout + result.stderr
    assert "[internal]" not in result.stderr
    assert result.exit_code in (0, 1, 2), result.stderr
    if result.exit_code:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert lines
        for line in lines:
            assert line.startswith(f"{path}:"), line
            assert line.endswith("]"), line
            assert len(line) <= MAX_LINE, line[:200]


def _head(db: str) -> tuple[tuple[int, str], int, int]:
    with Ledger.open(db) as ledger:
        return written(ledger)


@CLI
@given(data=plan_files, suffix=plan_suffixes)
def test_cli_apply_of_a_fuzzed_plan_exits_with_one_line_per_problem(
    cli: Cli, scratch: Path, cli_db: str, data: bytes, suffix: str
) -> None:
    path = put(scratch, suffix, data)
    before = _head(cli_db)
    result = cli("apply", str(path), "--db", cli_db)
    _cli_outcome(result, path)
    if result.exit_code:
        assert _head(cli_db) == before


@CLI
@given(data=metric_files, suffix=metric_suffixes)
def test_cli_metrics_load_of_a_fuzzed_file_exits_with_one_line_per_problem(
    cli: Cli, scratch: Path, cli_db: str, data: bytes, suffix: str
) -> None:
    path = put(scratch, suffix, data)
    before = _head(cli_db)
    result = cli("metrics", "load", str(path), "--db", cli_db)
    _cli_outcome(result, path)
    if result.exit_code:
        assert _head(cli_db) == before
