"""The relational baseline's cold query: a new process answers `show --at DATE` as JSON.

Run as a script (`python benchmarks/cold_cte.py ORG.sqlite DATE`) so that it imports
only what such a script would: sqlite3 and json.
"""

import json
import sqlite3
import sys

QUERY = """
WITH RECURSIVE tree(unit_id, parent_id, name, depth) AS (
    SELECT unit_id, parent_id, name, 0 FROM org
    WHERE parent_id IS NULL
      AND valid_from <= :day AND (valid_to IS NULL OR valid_to > :day)
    UNION ALL
    SELECT org.unit_id, org.parent_id, org.name, tree.depth + 1
    FROM org JOIN tree ON org.parent_id = tree.unit_id
    WHERE org.valid_from <= :day AND (org.valid_to IS NULL OR org.valid_to > :day)
)
SELECT unit_id, parent_id, name, depth FROM tree
"""


def main(path: str, day: str) -> None:
    conn = sqlite3.connect(path)
    rows = conn.execute(QUERY, {"day": day}).fetchall()
    units = [{"id": u, "parent": p, "name": n, "depth": d} for u, p, n, d in rows]
    print(json.dumps({"at": day, "units": units}, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
