"""Reading the tables organizations really have: CSV (any common encoding), XLSX and JSON.

A table is a header and rows of text cells, each row with the line (CSV), sheet
row (XLSX) or item number (JSON) it came from, so that every problem can say
where it is. Cells are trimmed; exact duplicate rows are dropped.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import orjson

from .errors import ImportFileError

ENCODINGS = ("utf-8", "gb18030")
"""Tried in order when no encoding is given (after a byte-order mark, which decides)."""

_BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))
_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


@dataclass(frozen=True, slots=True)
class Row:
    line: int
    cells: dict[str, str]


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[str, ...]
    rows: tuple[Row, ...]
    duplicates: int
    complete: bool = False
    """Each row gives all of a unit's names and attributes (JSON with `names` and `attrs`
    objects), so a name or attribute a row lacks is one the unit does not have."""
    """Rows dropped because an earlier row was the same in every cell."""


def read_table(
    path: str | os.PathLike[str],
    *,
    encoding: str | None = None,
    rename: Mapping[str, str] | None = None,
    display: str | None = None,
) -> Table:
    """The table in a CSV, XLSX or JSON file; `rename` maps the file's headers to ours."""
    name = display or str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ImportFileError(f"cannot read {name}: {exc.strerror}") from None
    suffix = Path(path).suffix.lower()
    complete = False
    if suffix in (".xlsx", ".xlsm"):
        header, rows = _xlsx(data, name)
    elif suffix == ".json":
        header, rows, complete = _json(_decode(data, name, encoding), name)
    else:
        header, rows = _csv(_decode(data, name, encoding), name)
    mapping = {theirs: ours for ours, theirs in (rename or {}).items()}
    missing = [theirs for theirs in mapping if theirs not in header]
    if missing:
        raise ImportFileError(
            f"{name}: no column {', '.join(repr(m) for m in missing)} "
            f"(the columns are {', '.join(header)})"
        )
    columns = tuple(mapping.get(h, h) for h in header)
    # A row's cells in one fixed column order: a lean key for a million rows.
    named = tuple(dict.fromkeys(c for c in columns if c))
    seen: set[tuple[str, ...]] = set()
    kept: list[Row] = []
    for line, values in rows:
        cells = {c: v for c, v in zip(columns, values, strict=False) if c and v != ""}
        key = tuple([cells.get(c, "") for c in named])
        if not cells or key in seen:
            continue
        seen.add(key)
        kept.append(Row(line, cells))
    dropped = sum(1 for _, values in rows if any(values)) - len(kept)
    return Table(name, columns, tuple(kept), dropped, complete)


def _decode(data: bytes, name: str, encoding: str | None) -> str:
    if encoding is not None:
        try:
            return data.decode(encoding)
        except LookupError:
            raise ImportFileError(f"unknown encoding '{encoding}'") from None
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            raise ImportFileError(
                f"{name}:{line}: not {encoding} (byte {exc.start}); try another --encoding"
            ) from None
    for mark, codec in _BOMS:
        if data.startswith(mark):
            return data.decode(codec)
    for codec in ENCODINGS:
        try:
            return data.decode(codec)
        except UnicodeDecodeError:
            continue
    raise ImportFileError(
        f"{name}: neither UTF-8 nor GB18030; give the file's encoding with --encoding"
    )


def _csv(text: str, name: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    sample = text[:65_536]
    try:
        dialect: Any = csv.Sniffer().sniff(sample.split("\n", 1)[0], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    rows: list[tuple[int, list[str]]] = []
    header: list[str] | None = None
    try:
        for values in reader:
            cells = [v.strip() for v in values]
            if header is None:
                if any(cells):
                    header = cells
                continue
            rows.append((reader.line_num, cells))
    except csv.Error as exc:
        raise ImportFileError(f"{name}:{reader.line_num}: not CSV ({exc})") from None
    if header is None:
        raise ImportFileError(f"{name}: the file is empty (no header row)")
    return header, rows


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return (
            value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
        )
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _sheet_cell(value: Any) -> str:
    """A sheet cell as text: trimmed, with OOXML's `_xHHHH_` escapes undone."""
    text = _cell(value).strip()
    return _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text) if "_x" in text else text


def _xlsx(data: bytes, name: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise ImportFileError(f"{name}: not an Excel workbook ({type(exc).__name__})") from None
    sheet = book.worksheets[0]
    header: list[str] | None = None
    rows: list[tuple[int, list[str]]] = []
    for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
        cells = [_sheet_cell(v) for v in values]
        if header is None:
            if any(cells):
                header = cells
            continue
        rows.append((number, cells))
    book.close()
    if header is None:
        raise ImportFileError(f"{name}: the first sheet is empty (no header row)")
    return header, rows


def _json(text: str, name: str) -> tuple[list[str], list[tuple[int, list[str]]], bool]:
    """A list of flat objects, or the shape of `show --format json` (`units` with `names`);
    and whether the rows give whole `names` objects (then a missing name is no name)."""
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise ImportFileError(f"{name}: not JSON ({exc})") from None
    if isinstance(value, dict) and isinstance(value.get("units"), list):
        value = value["units"]
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ImportFileError(f"{name}: expected a list of objects, one per row")
    flat = [dict(_flatten(item)) for item in value]
    header = list(dict.fromkeys(key for item in flat for key in item))
    rows = [(number, [item.get(key, "") for key in header]) for number, item in enumerate(flat, 1)]
    return header, rows, any(isinstance(item.get("names"), dict) for item in value)


def _flatten(item: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    for key, value in item.items():
        if key == "names" and isinstance(value, dict):
            yield from ((f"name_{lang}", _json_cell(n)) for lang, n in value.items())
        elif key == "attrs" and isinstance(value, dict):
            yield from ((k, _json_cell(v)) for k, v in value.items())
        elif key == "links" and isinstance(value, list):
            yield (
                key,
                ";".join(
                    f"{link.get('type', 'dotted-line')}:{link.get('to', '')}"
                    for link in value
                    if isinstance(link, dict)
                ),
            )
        elif key in ("children", "path", "depth"):
            continue
        else:
            yield key, _json_cell(value)


def _link_type(value: Any) -> str:
    return str(value).replace("%", "%25").replace(";", "%3B")


def _json_cell(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return orjson.dumps(value).decode("utf-8")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return orjson.dumps(value).decode("utf-8")
    return _cell(value)
