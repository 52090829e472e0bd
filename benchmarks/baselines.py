"""The baselines, written as their users would write them.

- SQLite: an effective-dated parent-child table queried with recursive CTEs.
- bigtree: trees built from two snapshots, compared with `get_tree_diff`.
- networkx: a DiGraph of lineage edges, walked with `ancestors`/`descendants`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bigtree
import networkx as nx

from orgledger import Edge

SCHEMA = """
CREATE TABLE org (
    unit_id TEXT NOT NULL,
    parent_id TEXT,
    name TEXT NOT NULL,
    valid_from TEXT NOT NULL,
    valid_to TEXT
);
CREATE INDEX org_parent ON org (parent_id, valid_from);
CREATE INDEX org_unit ON org (unit_id, valid_from);
"""
# A row is in effect on :day when valid_from <= :day < valid_to (NULL: still open).
SNAPSHOT = """
WITH RECURSIVE tree(unit_id, parent_id) AS (
    SELECT unit_id, parent_id FROM org
    WHERE parent_id IS NULL
      AND valid_from <= :day AND (valid_to IS NULL OR valid_to > :day)
    UNION ALL
    SELECT org.unit_id, org.parent_id FROM org JOIN tree ON org.parent_id = tree.unit_id
    WHERE org.valid_from <= :day AND (org.valid_to IS NULL OR org.valid_to > :day)
)
SELECT unit_id, parent_id FROM tree
"""
SUBTREE = """
WITH RECURSIVE tree(unit_id, parent_id) AS (
    SELECT unit_id, parent_id FROM org
    WHERE unit_id = :root
      AND valid_from <= :day AND (valid_to IS NULL OR valid_to > :day)
    UNION ALL
    SELECT org.unit_id, org.parent_id FROM org JOIN tree ON org.parent_id = tree.unit_id
    WHERE org.valid_from <= :day AND (org.valid_to IS NULL OR org.valid_to > :day)
)
SELECT unit_id, parent_id FROM tree
"""
HISTORY = """
SELECT unit_id, parent_id, name, valid_from, valid_to FROM org
WHERE unit_id = ? ORDER BY valid_from
"""

Row = tuple[str, str | None, str, str, str | None]


@dataclass(frozen=True)
class Edit:
    """One operation of the change set both sides apply: a rename or a move."""

    kind: str
    unit: str
    value: str


class Relational:
    """An `org` table of effective-dated rows in SQLite, the usual slowly changing hierarchy."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(path)
        # The same durability settings as orgledger's own SQLite store.
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")

    @classmethod
    def create(cls, path: Path, rows: Iterable[Row]) -> Relational:
        partial = path.with_suffix(".partial")
        partial.unlink(missing_ok=True)
        conn = sqlite3.connect(partial)
        with conn:
            conn.executescript(SCHEMA)
            conn.executemany("INSERT INTO org VALUES (?, ?, ?, ?, ?)", rows)
        conn.close()
        partial.rename(path)
        return cls(path)

    def close(self) -> None:
        self.conn.close()

    def snapshot(self, day: str) -> list[tuple[str, str | None]]:
        return self.conn.execute(SNAPSHOT, {"day": day}).fetchall()

    def subtree(self, root: str, day: str) -> list[tuple[str, str | None]]:
        return self.conn.execute(SUBTREE, {"root": root, "day": day}).fetchall()

    def history(self, unit: str) -> list[Row]:
        return self.conn.execute(HISTORY, (unit,)).fetchall()

    def apply(self, edits: Sequence[Edit], day: str) -> None:
        """Close each unit's open row and insert its new one, all in one transaction."""
        with self.conn:
            for edit in edits:
                parent, name = self.conn.execute(
                    "SELECT parent_id, name FROM org WHERE unit_id = ? AND valid_to IS NULL",
                    (edit.unit,),
                ).fetchone()
                if edit.kind == "move":
                    parent = edit.value
                else:
                    name = edit.value
                self.conn.execute(
                    "UPDATE org SET valid_to = ? WHERE unit_id = ? AND valid_to IS NULL",
                    (day, edit.unit),
                )
                self.conn.execute(
                    "INSERT INTO org VALUES (?, ?, ?, ?, NULL)", (edit.unit, parent, name, day)
                )


# bigtree needs one root; a forest hangs under this one.
TOP = "(all)"


def bigtree_tree(ids: Sequence[str], parents: Sequence[str | None]) -> bigtree.Node:
    """A bigtree tree of a snapshot, each node named by its unit id.

    Built node by node: bigtree's `list_to_tree_by_relation` and
    `dataframe_to_tree_by_relation` filter a DataFrame once per node, which is
    quadratic (seconds at 3,000 units, hours at 100,000).
    """
    top = bigtree.Node(TOP)
    nodes = {unit: bigtree.Node(unit) for unit in ids}
    for unit, parent in zip(ids, parents, strict=True):
        nodes[unit].parent = top if parent is None else nodes[parent]
    return top


def bigtree_diff(before: bigtree.Node, after: bigtree.Node) -> bigtree.Node | None:
    """bigtree's diff, marking nodes added, removed and moved (at the node whose parent changed)."""
    return bigtree.get_tree_diff(before, after, detail=True, aggregate=True)


def bigtree_changes(diff: bigtree.Node | None) -> dict[str, set[str]]:
    """Ids by mark (`added`, `removed`, `moved from`, `moved to`) in a bigtree diff."""
    found: dict[str, set[str]] = {}
    if diff is None:
        return found
    for node in diff.descendants:
        name, _, mark = node.node_name.partition(" (")
        if mark:
            found.setdefault(mark.rstrip(")"), set()).add(name)
    return found


def lineage_graph(edges: Iterable[Edge]) -> nx.DiGraph:
    graph = nx.DiGraph()
    for e in edges:
        graph.add_edge(e.src, e.dst, date=e.date, changeset=e.changeset, kind=e.kind, share=e.share)
    return graph


def networkx_lineage(graph: nx.DiGraph, unit: str) -> tuple[list[Any], list[Any]]:
    """Edges among the unit's ancestors, and among its descendants, with their data."""
    up = nx.ancestors(graph, unit) | {unit}
    down = nx.descendants(graph, unit) | {unit}
    return (
        list(graph.subgraph(up).edges(data=True)),
        list(graph.subgraph(down).edges(data=True)),
    )
