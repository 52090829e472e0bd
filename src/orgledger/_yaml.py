"""Reading YAML and JSON into plain values, remembering the line of every node.

PyYAML composes the node graph; the values are built here so that line numbers
survive, YAML 1.2 core scalars are used (`no` stays a string), duplicate keys
are errors, and anchors, aliases and non-standard tags are refused (no object
construction, no exponential expansion).
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any

import yaml

from .errors import PlanError, Problem, shorten

Lines = dict[tuple[str | int, ...], int]
MAX_BYTES = 64 * 1024 * 1024

_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_STD = "tag:yaml.org,2002:"
_ALLOWED_TAGS = {
    f"{_STD}{t}" for t in ("str", "int", "float", "bool", "null", "timestamp", "map", "seq")
}
_NULL = re.compile(r"~|null|Null|NULL|")
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_INT = re.compile(r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_SURROGATE = re.compile("[\ud800-\udfff]")
_HIGH, _LOW = r"\\u[dD][89abAB][0-9a-fA-F]{2}", r"\\u[dD][c-fC-F][0-9a-fA-F]{2}"
_LONE_ESCAPE = re.compile(f"{_HIGH}(?!{_LOW})|(?<!{_HIGH}){_LOW}")
_SPECIAL_FLOAT = {
    ".inf": float("inf"),
    "+.inf": float("inf"),
    "-.inf": float("-inf"),
    ".nan": float("nan"),
}


def _within(text: str, line: int) -> int:
    """`line`, or the last line when a parser points past the end of the text."""
    return min(line, len(text.splitlines()) or 1)


def _too_many_digits() -> str:
    return f"a number has more than {sys.get_int_max_str_digits()} digits"


def decode(data: bytes, name: str) -> str:
    """Text of a plan file: UTF-8, with or without a byte-order mark."""
    if len(data) > MAX_BYTES:
        raise PlanError(
            [Problem("too-large", f"the file is larger than {MAX_BYTES} bytes", file=name, line=1)]
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise PlanError(
            [Problem("encoding", f"the file is not UTF-8 (byte {exc.start})", file=name, line=line)]
        ) from None


def _scalar(node: yaml.ScalarNode) -> Any:
    value: str = node.value
    if node.style in ("'", '"', "|", ">") or node.tag == f"{_STD}str":
        return value
    if _NULL.fullmatch(value):
        return None
    if value in _BOOL:
        return _BOOL[value]
    if _INT.fullmatch(value):
        return int(value, 0) if value[:2] in ("0o", "0x") else int(value)
    if _FLOAT.fullmatch(value):
        return float(value)
    if value.lower() in _SPECIAL_FLOAT:
        return _SPECIAL_FLOAT[value.lower()]
    return value


class _Builder:
    def __init__(self, name: str) -> None:
        self.name = name
        self.lines: Lines = {}
        self.problems: list[Problem] = []
        self.seen: set[int] = set()

    def fail(self, node: yaml.Node, code: str, message: str) -> None:
        self.problems.append(Problem(code, message, file=self.name, line=node.start_mark.line + 1))

    def build(self, root: yaml.Node) -> Any:
        """Iteratively, so deep nesting cannot exhaust the stack."""
        result: list[Any] = [None]
        todo: list[tuple[yaml.Node, tuple[str | int, ...], Any, Any, int]] = [
            (root, (), result, 0, root.start_mark.line + 1)
        ]
        while todo:
            node, path, holder, slot, line = todo.pop()
            self.lines[path] = line
            if id(node) in self.seen:
                self.fail(node, "yaml-alias", "anchors and aliases are not allowed in plans")
                continue
            self.seen.add(id(node))
            if node.tag.startswith("!") or (
                node.tag.startswith("tag:") and node.tag not in _ALLOWED_TAGS
            ):
                tag = shorten(node.tag, 100)
                self.fail(node, "yaml-tag", f"the tag '{tag}' is not allowed in plans")
                continue
            if isinstance(node, yaml.ScalarNode):
                try:
                    holder[slot] = _scalar(node)
                except ValueError:
                    self.fail(node, "syntax", _too_many_digits())
            elif isinstance(node, yaml.SequenceNode):
                items: list[Any] = [None] * len(node.value)
                holder[slot] = items
                for index, item in enumerate(node.value):
                    todo.append((item, (*path, index), items, index, item.start_mark.line + 1))
            elif isinstance(node, yaml.MappingNode):
                mapping: dict[Any, Any] = {}
                holder[slot] = mapping
                for key_node, value_node in node.value:
                    if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == f"{_STD}merge":
                        self.fail(key_node, "yaml-key", "mapping keys must be plain strings")
                        continue
                    key = key_node.value
                    if key in mapping:
                        shown = shorten(key, 100)
                        self.fail(key_node, "duplicate-key", f"key '{shown}' appears twice")
                        continue
                    mapping[key] = None
                    # A key's problems belong on the key's line, whatever its value spans.
                    line = key_node.start_mark.line + 1
                    todo.append((value_node, (*path, key), mapping, key, line))
        return result[0]


def load(text: str, name: str, fmt: str) -> tuple[Any, Lines]:
    """Values and line table of a YAML (`fmt="yaml"`) or JSON (`fmt="json"`) text."""
    value: Any = None
    lone = _SURROGATE.search(text)
    if lone:
        line = text.count("\n", 0, lone.start()) + 1
        message = "the text holds half a surrogate pair, which is not a character"
        raise PlanError([Problem("encoding", message, file=name, line=line)])
    if fmt == "json":
        value = _load_json(text, name)
    try:
        nodes = list(yaml.compose_all(text, Loader=_Loader))
    except yaml.MarkedYAMLError as exc:
        if fmt == "json":
            return value, {}
        mark = exc.problem_mark or exc.context_mark
        line = _within(text, mark.line + 1 if mark else 1)
        raise PlanError(
            [
                Problem(
                    "syntax",
                    f"not valid YAML: {shorten(str(exc.problem or exc))}",
                    file=name,
                    line=line,
                )
            ]
        ) from None
    except (yaml.YAMLError, RecursionError) as exc:
        if fmt == "json":
            return value, {}
        why = "nesting is too deep" if isinstance(exc, RecursionError) else str(exc)
        line = 1
        if isinstance(exc, yaml.reader.ReaderError):
            # libyaml gives the offset in UTF-8 bytes; the rest of its text names the stream.
            line = text.encode("utf-8")[: exc.position].count(b"\n") + 1
            why = why.partition("\n")[0]
        raise PlanError(
            [Problem("syntax", f"not valid YAML: {shorten(why)}", file=name, line=line)]
        ) from None
    if len(nodes) > 1 and fmt != "json":
        raise PlanError(
            [
                Problem(
                    "syntax",
                    "the file holds more than one YAML document; give one change set per file",
                    file=name,
                    line=_within(text, nodes[1].start_mark.line + 1),
                )
            ]
        )
    if not nodes:
        if fmt == "json":
            return value, {}
        raise PlanError([Problem("empty", "the file is empty", file=name, line=1)])
    builder = _Builder(name)
    built = builder.build(nodes[0])
    if builder.problems:
        raise PlanError(builder.problems)
    return (value if fmt == "json" else built), builder.lines


class _DuplicateKey(ValueError):
    pass


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError(_too_many_digits()) from None


def _lone_surrogate(value: Any) -> bool:
    """Whether any string in `value` holds half a surrogate pair (from a \\u escape)."""
    todo = [value]
    while todo:
        item = todo.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return True
        elif isinstance(item, dict):
            todo += item.keys()
            todo += item.values()
        elif isinstance(item, list):
            todo += item
    return False


def _load_json(text: str, name: str) -> Any:
    try:
        value = json.loads(
            text, object_pairs_hook=_pairs, parse_constant=_reject_constant, parse_int=_int
        )
    except json.JSONDecodeError as exc:
        raise PlanError(
            [
                Problem(
                    "syntax",
                    f"not valid JSON: {exc.msg} (column {exc.colno})",
                    file=name,
                    line=_within(text, exc.lineno),
                )
            ]
        ) from None
    except _DuplicateKey as exc:
        raise PlanError(
            [
                Problem(
                    "duplicate-key",
                    f"key '{shorten(str(exc), 100)}' appears twice",
                    file=name,
                    line=1,
                )
            ]
        ) from None
    except (ValueError, RecursionError) as exc:
        why = "nesting is too deep" if isinstance(exc, RecursionError) else str(exc)
        raise PlanError(
            [Problem("syntax", f"not valid JSON: {shorten(why)}", file=name, line=1)]
        ) from None
    # A \u escape can name half a surrogate pair, which no file or database can hold.
    escape = _LONE_ESCAPE.search(text)
    if escape and _lone_surrogate(value):
        line = text.count("\n", 0, escape.start()) + 1
        message = "a \\u escape names half a surrogate pair, which is not a character"
        raise PlanError([Problem("encoding", message, file=name, line=line)])
    return value
