"""Synthetic ledgers for benchmarks and tests: realistic trees and histories, seeded.

Trees are 6 to 10 levels deep with lognormal spans of control (3 to 15 typical,
a few of 50 or more), names in English and Chinese; the history draws on all
seven operations and stays valid by simulating the structure as it goes.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import orjson

from .changeset import ChangeSet
from .ops import Create, Dissolve, Merge, Move, NewUnit, Op, Rename, Set, Split, SplitPart
from .plan import dump_plan

_EN = (
    "Platform",
    "Cloud",
    "Content",
    "Games",
    "Payments",
    "Search",
    "Maps",
    "Video",
    "News",
    "Security",
    "Data",
    "Retail",
    "Ads",
    "Music",
    "Mobile",
    "Social",
    "Infra",
    "Design",
    "Sales",
    "Finance",
    "Legal",
    "People",
    "Research",
    "Devices",
    "Health",
    "Education",
)
_ZH = (
    "平台",
    "云",
    "内容",
    "游戏",
    "支付",
    "搜索",
    "地图",
    "视频",
    "新闻",
    "安全",
    "数据",
    "零售",
    "广告",
    "音乐",
    "移动",
    "社交",
    "基础",
    "设计",
    "销售",
    "财务",
    "法务",
    "人力",
    "研究",
    "设备",
    "健康",
    "教育",
)
_KINDS = (
    "company",
    "group",
    "division",
    "department",
    "center",
    "team",
    "team",
    "squad",
    "squad",
    "squad",
    "squad",
)
MAX_DEPTH = 10
# Operation mix for reorganizations (weights).
_MIX = (
    ("create", 24),
    ("rename", 18),
    ("set", 10),
    ("move", 22),
    ("merge", 8),
    ("split", 6),
    ("dissolve", 12),
)


@dataclass
class _World:
    """The simulated structure: parents, children, depths and the ids ever used."""

    rng: random.Random
    parent: dict[str, str | None] = field(default_factory=dict)
    kids: dict[str, set[str]] = field(default_factory=dict)
    depth: dict[str, int] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    alive: list[str] = field(default_factory=list)
    where: dict[str, int] = field(default_factory=dict)
    counter: int = 0

    def new_id(self) -> str:
        self.counter += 1
        return f"u{self.counter:07d}"

    def spec(self, parent: str | None) -> NewUnit:
        uid = self.new_id()
        level = 0 if parent is None else self.depth[parent] + 1
        word = self.rng.randrange(len(_EN))
        number = self.counter
        kind = _KINDS[min(level, len(_KINDS) - 1)]
        names = {"en": f"{_EN[word]} {kind.title()} {number}", "zh": f"{_ZH[word]}{number}组"}
        attrs: dict[str, str | int | float | bool] = {}
        if kind in ("team", "squad"):
            attrs["headcount"] = self.rng.randint(3, 40)
        return NewUnit(
            id=uid,
            parent=parent,
            kind=kind,
            names=names,
            abbr=f"{_EN[word][:3].upper()}{number}",
            attrs=attrs,
        )

    def add(self, unit: NewUnit) -> None:
        self.parent[unit.id] = unit.parent
        self.kids[unit.id] = set()
        self.depth[unit.id] = 0 if unit.parent is None else self.depth[unit.parent] + 1
        if unit.parent is not None:
            self.kids[unit.parent].add(unit.id)
        self.where[unit.id] = len(self.alive)
        self.alive.append(unit.id)

    def remove(self, uid: str) -> None:
        index = self.where.pop(uid)
        last = self.alive.pop()
        if last != uid:
            self.alive[index] = last
            self.where[last] = index
        parent = self.parent.pop(uid)
        if parent is not None:
            self.kids[parent].discard(uid)
        del self.kids[uid]

    def reparent(self, uid: str, parent: str | None) -> None:
        old = self.parent[uid]
        if old is not None:
            self.kids[old].discard(uid)
        self.parent[uid] = parent
        if parent is not None:
            self.kids[parent].add(uid)
        self._redepth(uid)

    def _redepth(self, uid: str) -> None:
        stack = [uid]
        while stack:
            current = stack.pop()
            parent = self.parent[current]
            self.depth[current] = 0 if parent is None else self.depth[parent] + 1
            stack.extend(self.kids[current])

    def inside(self, uid: str, ancestor: str) -> bool:
        current: str | None = uid
        while current is not None:
            if current == ancestor:
                return True
            current = self.parent[current]
        return False

    def height(self, uid: str) -> int:
        """Levels below `uid` (0 for a leaf), bounded by the tree's depth."""
        best, stack = 0, [(uid, 0)]
        while stack:
            current, level = stack.pop()
            best = max(best, level)
            stack.extend((k, level + 1) for k in self.kids[current])
        return best

    def pick(self, predicate: Callable[[str], bool] | None = None, tries: int = 30) -> str | None:
        for _ in range(tries):
            uid = self.alive[self.rng.randrange(len(self.alive))]
            if predicate is None or predicate(uid):
                return uid
        return None


def _span(rng: random.Random) -> int:
    """Children per manager: lognormal around 5, occasionally very wide."""
    span = rng.lognormvariate(math.log(5), 0.6)
    if rng.random() < 0.01:
        span *= 10
    return max(1, min(120, round(span)))


def initial(world: _World, units: int) -> list[Op]:
    """Create a company of about `units` units, breadth first."""
    root = world.spec(None)
    world.add(root)
    ops: list[Op] = [Create(unit=root)]
    queue = [root.id]
    head = 0
    while len(ops) < units:
        if head >= len(queue):
            queue.append(world.alive[world.rng.randrange(len(world.alive))])
        parent = queue[head]
        head += 1
        if world.depth[parent] >= MAX_DEPTH - 1:
            continue
        for _ in range(_span(world.rng)):
            if len(ops) >= units:
                break
            unit = world.spec(parent)
            world.add(unit)
            ops.append(Create(unit=unit))
            queue.append(unit.id)
    return ops


def _reorg_op(world: _World, kind: str) -> Op | None:
    rng = world.rng
    if kind == "create":
        parent = world.pick(
            lambda u: (
                world.depth[u] < MAX_DEPTH - 1 and (bool(world.kids[u]) or rng.random() < 0.05)
            )
        )
        if parent is None:
            return None
        unit = world.spec(parent)
        world.add(unit)
        return Create(unit=unit)
    if kind == "rename":
        uid = world.pick()
        assert uid is not None
        return Rename(target=uid, names={"en": f"{_EN[rng.randrange(len(_EN))]} Unit {uid[1:]}"})
    if kind == "set":
        uid = world.pick()
        assert uid is not None
        return Set(target=uid, attrs={"headcount": rng.randint(3, 60)})
    if kind == "move":
        mover = world.pick(lambda u: world.parent[u] is not None)
        if mover is None:
            return None
        height = world.height(mover)

        def fits(target: str, unit: str = mover) -> bool:
            return (
                not world.inside(target, unit)
                and world.depth[target] + 1 + height < MAX_DEPTH
                and target != world.parent[unit]
            )

        to = world.pick(fits)
        if to is None:
            return None
        world.reparent(mover, to)
        return Move(targets=(mover,), to=to, listed=False)
    if kind == "merge":
        source = world.pick(lambda u: world.parent[u] is not None)
        if source is None:
            return None
        parent = world.parent[source]
        assert parent is not None
        siblings = sorted(s for s in world.kids[parent] if s != source)
        if not siblings:
            return None
        into = siblings[rng.randrange(len(siblings))]
        if world.depth[into] + world.height(source) >= MAX_DEPTH:
            return None
        for child in list(world.kids[source]):
            world.reparent(child, into)
        world.remove(source)
        return Merge(sources=(source,), into=into)
    if kind == "split":
        source = world.pick(lambda u: world.parent[u] is not None and len(world.kids[u]) >= 2)
        if source is None:
            return None
        parent = world.parent[source]
        children = sorted(world.kids[source])
        parts: list[SplitPart] = []
        groups = 2 if len(children) < 6 else 3
        for index in range(groups):
            new = world.spec(parent)
            world.add(new)
            share = None
            parts.append(SplitPart(new=new, children=tuple(children[index::groups]), share=share))
        for part in parts:
            for child in part.children:
                world.reparent(child, part.target)
        world.remove(source)
        return Split(target=source, parts=tuple(parts))
    uid = world.pick(lambda u: world.parent[u] is not None)
    if uid is None:
        return None
    heir = world.parent[uid]
    for child in list(world.kids[uid]):
        world.reparent(child, heir)
    world.remove(uid)
    return Dissolve(target=uid)


def history(
    units: int,
    years: int,
    changesets: int,
    seed: int,
    ops_per_changeset: int = 100,
    start: date = date(2000, 1, 1),
) -> Iterator[ChangeSet]:
    """The founding change set, then `changesets` reorganizations spread over `years`."""
    world = _World(random.Random(seed))
    yield ChangeSet(
        id="synth-0000",
        effective=start,
        ops=tuple(initial(world, units)),
        title=f"Founding structure of {units} units",
    )
    rng = world.rng
    span_days = max(changesets, int(years * 365.25))
    days = sorted(rng.sample(range(1, span_days + 1), changesets))
    kinds = [k for k, _ in _MIX]
    weights = [w for _, w in _MIX]
    for number, offset in enumerate(days, start=1):
        count = max(1, round(rng.lognormvariate(math.log(ops_per_changeset), 0.5)))
        ops: list[Op] = []
        while len(ops) < count:
            op = _reorg_op(world, rng.choices(kinds, weights)[0])
            if op is not None:
                ops.append(op)
        yield ChangeSet(
            id=f"synth-{number:04d}",
            effective=start + timedelta(days=offset),
            ops=tuple(ops),
            title=f"Reorganization {number}",
        )


def write_plans(changesets: Iterator[ChangeSet], folder: str | Path, fmt: str = "yaml") -> int:
    """Write each change set as a plan file (`NNNN-ID.yaml` or `.json`); returns the count."""
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    count = 0
    for number, changeset in enumerate(changesets):
        path = target / f"{number:04d}-{changeset.id}.{fmt}"
        if fmt == "json":
            path.write_bytes(orjson.dumps(changeset.content(), option=orjson.OPT_INDENT_2))
        else:
            path.write_text(dump_plan(changeset), encoding="utf-8")
        count += 1
    return count
