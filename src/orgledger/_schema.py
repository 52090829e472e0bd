"""Pydantic models of the plan language: the shape of a plan, before any ledger is consulted."""

from __future__ import annotations

import math
import re
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_validator,
)
from pydantic_core import PydanticCustomError

from .model import LANG, SLUG, WEIGHT_ATTR

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _slug(value: str) -> str:
    if not SLUG.fullmatch(value):
        raise PydanticCustomError(
            "bad_id",
            "'{value}' is not a valid id (lowercase letters, digits, '_', '.', '-'; "
            "starting with a letter or digit; at most 64 characters)",
            {"value": value},
        )
    return value


def _iso_date(value: Any) -> date:
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        raise PydanticCustomError(
            "bad_date", "'{value}' is not an ISO date (YYYY-MM-DD)", {"value": value}
        )
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise PydanticCustomError(
            "bad_date", "{value} is not a date that exists", {"value": value}
        ) from None


def _names(value: dict[str, Any]) -> dict[str, Any]:
    for lang in value:
        if not LANG.fullmatch(lang):
            raise PydanticCustomError(
                "bad_lang", "'{lang}' is not a language tag (e.g. en, zh)", {"lang": lang}
            )
    return value


def _attrs(value: dict[str, Any]) -> dict[str, Any]:
    count = value.get(WEIGHT_ATTR)
    if count is not None and (
        isinstance(count, bool)
        or not isinstance(count, int | float)
        or count < 0
        or not math.isfinite(count)
    ):
        raise PydanticCustomError(
            "bad_headcount", "headcount must be a number >= 0, not {v}", {"v": repr(count)}
        )
    for key, item in value.items():
        if isinstance(item, float) and not math.isfinite(item):
            raise PydanticCustomError("type", "attribute '{k}' must be a finite number", {"k": key})
    return value


def _sources(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


Slug = Annotated[str, AfterValidator(_slug)]
IsoDate = Annotated[date, BeforeValidator(_iso_date)]
Text = Annotated[str, Field(min_length=1)]
Scalar = str | int | float | bool
Names = Annotated[dict[str, Text], Field(min_length=1), AfterValidator(_names)]
Attrs = Annotated[dict[str, Scalar], AfterValidator(_attrs)]
Sources = Annotated[list[Text], BeforeValidator(_sources)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class _OpModel(_Model):
    notes: str | None = None
    source: Sources | None = None
    basis: Literal["reported", "derived", "approx"] | None = None


class NewUnitModel(_Model):
    create: Slug
    parent: Slug | None
    kind: Text
    names: Names
    abbr: Text | None = None
    attrs: Attrs = Field(default_factory=dict)


class CreateModel(_OpModel, NewUnitModel):
    pass


class RenameModel(_OpModel):
    rename: Slug
    names: Annotated[dict[str, Text | None], AfterValidator(_names)] | None = None
    abbr: Text | None = None

    @model_validator(mode="after")
    def _something(self) -> RenameModel:
        if "names" not in self.model_fields_set and "abbr" not in self.model_fields_set:
            raise PydanticCustomError("missing", "rename needs 'names' or 'abbr'")
        return self


class SetModel(_OpModel):
    set: Slug
    kind: Text | None = None
    attrs: Annotated[dict[str, Scalar | None], AfterValidator(_attrs)] | None = None

    @model_validator(mode="after")
    def _something(self) -> SetModel:
        if self.kind is None and not self.attrs:
            raise PydanticCustomError("missing", "set needs 'kind' or 'attrs'")
        return self


class MoveModel(_OpModel):
    move: Slug | Annotated[list[Slug], Field(min_length=1)]
    to: Slug | None


class MergeModel(_OpModel):
    merge: Annotated[list[Slug], Field(min_length=1)] | Slug
    into: Slug | NewUnitModel


class SplitItemModel(_Model):
    to: Slug | None = None
    create: Slug | None = None
    parent: Slug | None = None
    kind: Text | None = None
    names: Names | None = None
    abbr: Text | None = None
    attrs: Attrs | None = None
    children: list[Slug] = Field(default_factory=list)
    share: float | None = None

    @model_validator(mode="after")
    def _one_target(self) -> SplitItemModel:
        new_fields = {"create", "parent", "kind", "names", "abbr", "attrs"} & self.model_fields_set
        if (self.to is None) == (self.create is None):
            raise PydanticCustomError("missing", "each split item needs either 'to' or 'create'")
        if self.to is not None and new_fields:
            raise PydanticCustomError(
                "unknown_key",
                "an item with 'to' cannot also have '{k}'",
                {"k": sorted(new_fields)[0]},
            )
        if self.create is not None:
            for key in ("parent", "kind", "names"):
                if key not in self.model_fields_set:
                    raise PydanticCustomError(
                        "missing", "a created split target needs '{k}'", {"k": key}
                    )
        return self


class SplitModel(_OpModel):
    split: Slug
    into: Annotated[list[SplitItemModel], Field(min_length=1)]
    rest_to: Slug | None = None


class DissolveModel(_OpModel):
    dissolve: Slug
    children_to: Slug | None = None


class LinkModel(_OpModel):
    link: Slug
    to: Slug
    type: Text = "dotted-line"


class UnlinkModel(_OpModel):
    unlink: Slug
    to: Slug
    type: Text | None = None


OP_MODELS: dict[str, type[_OpModel]] = {
    "create": CreateModel,
    "rename": RenameModel,
    "set": SetModel,
    "move": MoveModel,
    "merge": MergeModel,
    "split": SplitModel,
    "dissolve": DissolveModel,
    "link": LinkModel,
    "unlink": UnlinkModel,
}


class PlanModel(_Model):
    id: Slug
    title: str | None = None
    effective: IsoDate
    source: Sources | None = None
    notes: str | None = None
    supersedes: Slug | None = None
    ops: list[Any]
