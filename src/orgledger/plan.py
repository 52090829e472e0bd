"""Plan files <-> change sets, with file and line on every problem."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import replace
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import yaml

from ._yaml import Lines, decode, load
from .changeset import ChangeSet, Origin
from .errors import PlanError, Problem, shorten
from .ops import (
    OPERATIONS,
    AddLink,
    Create,
    Dissolve,
    Merge,
    Move,
    NewUnit,
    Op,
    Rename,
    Set,
    Split,
    SplitPart,
    Unlink,
)

_CODES = {
    "missing": "missing-key",
    "extra_forbidden": "unknown-key",
    "unknown_key": "unknown-key",
    "bad_id": "bad-id",
    "bad_date": "bad-date",
    "bad_lang": "bad-lang",
    "bad_headcount": "bad-headcount",
}
_EXPECT = {
    "move": "an id or a list of ids",
    "merge": "a list of ids",
    "into": "an id or a mapping with 'create'",
    "names": "a mapping of language tags to names",
    "attrs": "a mapping of names to strings, numbers or booleans",
    "children": "a list of ids",
    "share": "a number between 0 and 1",
    "source": "a string or a list of strings",
    "ops": "a list of operations",
    "basis": "one of reported, derived, approx",
}
_TYPE_WORDS = {"str", "int", "float", "bool", "list", "dict", "none", "literal"}
if TYPE_CHECKING:
    from pydantic import BaseModel

    from . import _schema


@cache
def _models() -> ModuleType:
    """The Pydantic models, imported on first use: reading a ledger needs none of them."""
    from . import _schema

    return _schema


@cache
def _model_names() -> frozenset[str]:
    return frozenset(
        name
        for name, value in vars(_models()).items()
        if isinstance(value, type) and name.endswith("Model")
    )


def read_plan(path: str | Path, display: str | None = None) -> ChangeSet:
    """Read one plan file (YAML or JSON; '-' reads standard input)."""
    name = display or str(path)
    text, fmt = read_plan_text(path, name)
    return parse_plan(text, name, fmt)


def read_plan_text(path: str | os.PathLike[str], name: str) -> tuple[str, str]:
    """The text of a plan file and its format (json for a .json file, else yaml)."""
    if str(path) == "-":
        data = sys.stdin.buffer.read()
        fmt = "yaml"
    else:
        file = Path(path)
        try:
            data = file.read_bytes()
        except FileNotFoundError:
            raise PlanError([Problem("no-file", "no such file", file=name, line=0)]) from None
        except OSError as exc:
            raise PlanError(
                [Problem("no-file", f"cannot read: {exc.strerror}", file=name, line=0)]
            ) from None
        fmt = "json" if file.suffix.lower() == ".json" else "yaml"
    return decode(data, name), fmt


def parse_plan(text: str, name: str = "<plan>", fmt: str = "yaml") -> ChangeSet:
    """A change set from the text of a plan."""
    value, lines = load(text, name, fmt)
    return from_mapping(value, Origin(name, lines))


def from_mapping(value: Any, origin: Origin | None = None) -> ChangeSet:
    """A change set from a plan document already parsed into plain values."""
    origin = origin or Origin("<plan>")
    if not isinstance(value, Mapping):
        raise PlanError(
            [
                Problem(
                    "type",
                    "a plan must be a mapping with id, effective and ops",
                    file=origin.file,
                    line=1,
                )
            ]
        )
    s = _models()
    problems: list[Problem] = []
    doc = _validate(s.PlanModel, value, (), problems)
    ops: list[Op] = []
    raw_ops = value.get("ops")
    if isinstance(raw_ops, list):
        if not raw_ops and value.get("supersedes") is None:
            problems.append(Problem("empty", "the plan has no operations", path=("ops",)))
        for index, raw in enumerate(raw_ops):
            op = _op(raw, index, problems)
            if op is not None:
                ops.append(op)
    if problems or doc is None:
        raise PlanError([_place(p, origin) for p in problems])
    assert isinstance(doc, s.PlanModel)
    return ChangeSet(
        id=doc.id,
        effective=doc.effective,
        ops=tuple(ops),
        title=doc.title if doc.title is not None else doc.id,
        source=tuple(doc.source or ()),
        notes=doc.notes,
        supersedes=doc.supersedes,
        origin=origin,
    )


def _place(problem: Problem, origin: Origin) -> Problem:
    path = problem.path if problem.op is None else ("ops", problem.op - 1, *problem.path)
    # Messages quote what the plan holds, which may be megabytes: keep them readable.
    short = replace(problem, message=shorten(problem.message))
    return short.located(origin.file, origin.line(path))


def _validate(
    model: type[BaseModel],
    value: Any,
    prefix: tuple[str | int, ...],
    problems: list[Problem],
    op: int | None = None,
    kind: str | None = None,
) -> BaseModel | None:
    from pydantic import ValidationError

    try:
        return model.model_validate(value)
    except ValidationError as exc:
        found: dict[tuple[str | int, ...], Problem] = {}
        for error in exc.errors():
            loc = tuple(p for p in error["loc"] if isinstance(p, int) or _is_key(p))
            code = _CODES.get(error["type"], "type")
            if loc in found and (code == "type" or found[loc].code != "type"):
                continue
            found[loc] = Problem(
                code, _sentence(error, loc), op=op, op_kind=kind, path=(*prefix, *loc)
            )
        # One mistake in a field that takes several shapes fails every shape: keep the
        # specific complaint and drop the generic "wrong type" ones for that field.
        specific = {loc[:1] for loc, p in found.items() if p.code != "type"}
        problems += [p for loc, p in found.items() if p.code != "type" or loc[:1] not in specific]
        return None


def _is_key(part: str) -> bool:
    return "[" not in part and part not in _TYPE_WORDS and part not in _model_names()


def _sentence(error: Any, loc: tuple[str | int, ...]) -> str:
    kind = error["type"]
    keys = [p for p in loc if isinstance(p, str)]
    key = keys[-1] if keys else None
    if kind == "missing" and key and error["msg"] == "Field required":
        return f"'{key}' is required"
    if kind == "extra_forbidden" and key:
        return f"unknown key '{key}'"
    if kind in _CODES or key is None:
        return str(error["msg"])
    expected = _EXPECT.get(key)
    if expected:
        return f"'{key}' must be {expected}"
    msg = str(error["msg"])
    return f"'{key}': {msg[0].lower()}{msg[1:]}"


def _op(raw: Any, index: int, problems: list[Problem]) -> Op | None:
    number = index + 1
    if not isinstance(raw, Mapping) or not raw:
        problems.append(
            Problem("type", "an operation must be a mapping whose first key names it", op=number)
        )
        return None
    first = next(iter(raw))
    model = _models().OP_MODELS.get(first)
    if model is None:
        known = ", ".join(OPERATIONS)
        name = shorten(str(first), 100)
        problems.append(
            Problem(
                "unknown-op",
                f"unknown operation '{name}' (known: {known})",
                op=number,
                op_kind=name,
                path=(str(first),),
            )
        )
        return None
    parsed = _validate(model, raw, (), problems, op=number, kind=first)
    return None if parsed is None else _build(parsed)


def _new(m: _schema.NewUnitModel | _schema.SplitItemModel) -> NewUnit:
    assert m.create is not None and m.kind is not None and m.names is not None
    return NewUnit(
        id=m.create, parent=m.parent, kind=m.kind, names=m.names, abbr=m.abbr, attrs=m.attrs or {}
    )


def _build(m: BaseModel) -> Op:
    s = _models()
    common: dict[str, Any] = {}
    if isinstance(m, s._OpModel):
        common = {"notes": m.notes, "source": tuple(m.source or ()), "basis": m.basis}
    match m:
        case s.CreateModel():
            return Create(unit=_new(m), **common)
        case s.RenameModel():
            return Rename(
                target=m.rename,
                names=m.names or {},
                abbr=m.abbr,
                set_abbr="abbr" in m.model_fields_set,
                **common,
            )
        case s.SetModel():
            return Set(target=m.set, new_kind=m.kind, attrs=m.attrs or {}, **common)
        case s.MoveModel():
            listed = isinstance(m.move, list)
            targets = tuple(m.move) if isinstance(m.move, list) else (m.move,)
            return Move(targets=targets, to=m.to, listed=listed, **common)
        case s.MergeModel():
            sources = tuple(m.merge) if isinstance(m.merge, list) else (m.merge,)
            if isinstance(m.into, s.NewUnitModel):
                return Merge(sources=sources, new=_new(m.into), **common)
            return Merge(sources=sources, into=m.into, **common)
        case s.SplitModel():
            parts = tuple(
                SplitPart(
                    to=item.to,
                    new=_new(item) if item.create else None,
                    children=tuple(item.children),
                    share=item.share,
                )
                for item in m.into
            )
            return Split(target=m.split, parts=parts, rest_to=m.rest_to, **common)
        case s.DissolveModel():
            return Dissolve(target=m.dissolve, children_to=m.children_to, **common)
        case s.LinkModel():
            return AddLink(target=m.link, to=m.to, type=m.type, **common)
        case s.UnlinkModel():
            return Unlink(target=m.unlink, to=m.to, type=m.type, **common)
    raise TypeError(type(m).__name__)  # pragma: no cover - every model is matched above


def dump_plan(changeset: ChangeSet) -> str:
    """The change set as YAML plan text."""
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return yaml.dump(changeset.content(), Dumper=dumper, allow_unicode=True, sort_keys=False)


__all__ = ["Lines", "dump_plan", "from_mapping", "parse_plan", "read_plan", "read_plan_text"]
