"""The REST API in process: shapes, every error path in one shape, tokens, limits."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from orgledger import Ledger
from orgledger.demo import example_metrics
from orgledger.web import create_app
from orgledger.web.security import MAX_BODY

TOKEN = "a-long-random-token"
NEW_UNIT = """\
id: lab-2019
effective: 2019-03-01
ops:
  - create: lab
    parent: teg
    kind: department
    names: {en: Lab}
"""
BAD_PLAN = """\
id: broken
effective: 2019-03-01
ops:
  - move: qq
    to: nowhere
"""


@pytest.fixture
def client(tencent_db: str) -> Iterator[TestClient]:
    with Ledger.open(tencent_db) as ledger:
        ledger.load_metrics(example_metrics(), "metrics.csv")
    app = create_app(tencent_db, TOKEN)
    with TestClient(app) as test_client:
        yield test_client
    app.state.ledger.close()


@pytest.fixture
def readonly(tencent_db: str) -> Iterator[TestClient]:
    app = create_app(tencent_db, None)
    with TestClient(app) as test_client:
        yield test_client
    app.state.ledger.close()


def auth(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def ids(body: dict[str, Any]) -> list[str]:
    return [u["id"] for u in body["units"]]


# -- reading ---------------------------------------------------------------------


def test_snapshot_travels_in_time_and_counts_children(client: TestClient) -> None:
    before = client.get("/api/v1/snapshot", params={"at": "2018-09-29"}).json()
    after = client.get("/api/v1/snapshot", params={"at": "2018-09-30"}).json()
    assert "sng" in ids(before) and "csig" not in ids(before)
    assert "csig" in ids(after) and "sng" not in ids(after)
    assert after["roots"] == ["tencent", "tencent-segments"]
    by_id = {u["id"]: u for u in after["units"]}
    for unit in after["units"]:
        assert unit["children"] == sum(1 for u in after["units"] if u["parent"] == unit["id"])
    assert by_id["tencent-cloud"]["links"] == [{"to": "others", "type": "reported-in"}]


def test_snapshot_of_one_level_below_a_root_says_which_units_have_more(
    client: TestClient,
) -> None:
    body = client.get(
        "/api/v1/snapshot", params={"at": "2018-09-30", "root": "CSIG", "depth": 0}
    ).json()
    assert ids(body) == ["csig"]
    assert body["units"][0]["children"] == 2
    deeper = client.get(
        "/api/v1/snapshot", params={"at": "2018-09-30", "root": "csig", "depth": 1}
    ).json()
    assert ids(deeper) == ["csig", "tencent-cloud", "tencent-maps"]


def test_diff_log_changeset_and_magnitude_agree(client: TestClient) -> None:
    diff = client.get("/api/v1/diff", params={"from": "2018-09-29", "to": "2018-09-30"}).json()
    assert diff["changesets"] == ["tencent-2018-09-30"]
    log = client.get("/api/v1/log").json()
    entry = next(e for e in log if e["id"] == "tencent-2018-09-30")
    assert entry["largest_since"] == "tencent-2012-05-18"
    changeset = client.get("/api/v1/changesets/tencent-2018-09-30").json()
    assert changeset["magnitude"] == entry["magnitude"]
    assert changeset["diff"]["added"] == diff["added"]
    assert changeset["diff"]["removed"] == diff["removed"]
    assert len(changeset["ops"]) == entry["ops"]
    explained = client.get("/api/v1/changesets/tencent-2018-09-30/magnitude").json()
    assert explained["magnitude"] == pytest.approx(entry["magnitude"], abs=1e-6)
    created = {c["unit"] for c in explained["counted"] if c["why"] == "created"}
    assert {"csig", "pcg", "ams"} <= created


def test_unit_history_lineage_and_metrics(client: TestClient) -> None:
    unit = client.get("/api/v1/units/SNG", params={"at": "2018-09-29"}).json()
    assert unit["id"] == "sng"
    assert unit["active"] is True
    assert unit["path"] == ["tencent", "sng"]
    assert unit["to"] == "2018-09-30"
    gone = client.get("/api/v1/units/sng", params={"at": "2019-01-01"}).json()
    assert gone["active"] is False and gone["unit"] is None
    assert gone["latest"]["names"]["en"] == "Social Network Group"
    lineage = client.get("/api/v1/units/sng/lineage").json()
    assert {e["to"] for e in lineage["successors"]} >= {"csig", "pcg"}
    history = client.get("/api/v1/units/sng/history").json()
    assert history["events"][-1]["action"] == "ended"
    metrics = client.get("/api/v1/units/others/metrics").json()
    periods = [v["period"] for v in metrics["metrics"]["revenue"]]
    assert periods == sorted(periods, key=lambda p: (p[:4], p[4:]))
    assert "2018Q2" in periods


def test_find_and_metrics_and_stats(client: TestClient) -> None:
    found = client.get("/api/v1/find", params={"q": "云与智慧"}).json()
    assert [m["id"] for m in found["matches"]] == ["csig"]
    table = client.get(
        "/api/v1/metrics",
        params={"metric": "revenue", "period": "2018Q2", "unit": "others", "growth": "yoy,qoq"},
    ).json()
    (row,) = table["rows"]
    assert row["yoy"] == pytest.approx(17496 / 9654 - 1, abs=1e-6)
    assert row["qoq"] == pytest.approx(17496 / 15962 - 1, abs=1e-6)
    stats = client.get(
        "/api/v1/stats", params={"at": "2018-09-30", "root": "tencent", "by": "focus"}
    ).json()
    shares = {s["value"]: s["units"] for s in stats["shares"]}
    assert shares["to_b"] == 3
    assert sum(shares.values()) == stats["units"]


def test_preview_shows_the_diff_and_writes_nothing(client: TestClient) -> None:
    before = client.get("/api/v1/log").json()
    result = client.post(
        "/api/v1/plans/preview", content=NEW_UNIT, headers={"Content-Type": "text/yaml"}
    )
    assert result.status_code == 200
    (preview,) = result.json()["previews"]
    assert preview["diff"]["added"] == [
        {"id": "lab", "parent": "teg", "kind": "department", "names": {"en": "Lab"}, "abbr": None}
    ]
    assert client.get("/api/v1/log").json() == before


def test_preview_reads_json_plans(client: TestClient) -> None:
    plan = {
        "id": "lab-2019",
        "effective": "2019-03-01",
        "ops": [{"create": "lab", "parent": "teg", "kind": "department", "names": {"en": "L"}}],
    }
    result = client.post("/api/v1/plans/preview", json=plan)
    assert result.status_code == 200, result.text
    assert result.json()["previews"][0]["id"] == "lab-2019"


# -- writing ---------------------------------------------------------------------


def test_apply_with_the_token_records_and_later_reads_see_it(client: TestClient) -> None:
    result = client.post("/api/v1/changesets", content=NEW_UNIT, headers=auth())
    assert result.status_code == 201
    assert result.json()["recorded"][0]["id"] == "lab-2019"
    after = client.get("/api/v1/snapshot", params={"at": "2019-03-01"}).json()
    assert "lab" in ids(after)
    again = client.post("/api/v1/changesets", content=NEW_UNIT, headers=auth())
    assert again.status_code == 200
    assert again.json()["recorded"] == []


def test_the_server_sees_what_another_writer_recorded(client: TestClient, tencent_db: str) -> None:
    assert client.get("/api/v1/log").status_code == 200
    with Ledger.open(tencent_db) as other:
        other.apply(
            {
                "id": "elsewhere",
                "effective": "2019-04-01",
                "ops": [{"create": "x1", "parent": "teg", "kind": "team", "names": {"en": "X"}}],
            }
        )
    assert "elsewhere" in [e["id"] for e in client.get("/api/v1/log").json()]


# -- one error shape for every error path ----------------------------------------


ERRORS: list[tuple[str, str, dict[str, Any], int, str]] = [
    ("GET", "/api/v1/units/nope", {}, 404, "unknown-unit"),
    ("GET", "/api/v1/units/nope/history", {}, 404, "unknown-unit"),
    ("GET", "/api/v1/units/nope/lineage", {}, 404, "unknown-unit"),
    ("GET", "/api/v1/units/nope/metrics", {}, 404, "unknown-unit"),
    ("GET", "/api/v1/changesets/nope", {}, 404, "unknown-changeset"),
    ("GET", "/api/v1/changesets/nope/magnitude", {}, 404, "unknown-changeset"),
    ("GET", "/api/v1/snapshot?at=2018-13-01", {}, 400, "usage"),
    ("GET", "/api/v1/snapshot?depth=-1", {}, 400, "usage"),
    ("GET", "/api/v1/snapshot?at=2018-09-30&root=sng", {}, 422, "inactive"),
    ("GET", "/api/v1/snapshot?known_at=yesterday", {}, 400, "usage"),
    ("GET", "/api/v1/diff?from=2018-01-01", {}, 400, "usage"),
    ("GET", "/api/v1/find", {}, 400, "usage"),
    ("GET", "/api/v1/metrics?metric=revenue&period=2018Q5", {}, 400, "usage"),
    ("GET", "/api/v1/metrics?metric=profit&period=2018Q2", {}, 404, "unknown-metric"),
    ("GET", "/api/v1/metrics?metric=revenue&period=2018&growth=qoq", {}, 400, "usage"),
    ("GET", "/api/v1/nothing-here", {}, 404, "not-found"),
    ("DELETE", "/api/v1/log", {}, 405, "method-not-allowed"),
    ("POST", "/api/v1/plans/preview", {"content": BAD_PLAN}, 422, "plan-refused"),
    ("POST", "/api/v1/plans/preview", {"content": "id: [unclosed"}, 422, "plan-refused"),
    ("POST", "/api/v1/plans/preview", {"content": b"\xff\xfe"}, 400, "usage"),
    ("POST", "/api/v1/plans/preview", {"content": "x" * (MAX_BODY + 1)}, 413, "too-large"),
    ("POST", "/api/v1/changesets", {"content": NEW_UNIT}, 401, "unauthorized"),
    (
        "POST",
        "/api/v1/changesets",
        {"content": NEW_UNIT, "headers": auth("wrong")},
        401,
        "unauthorized",
    ),
    (
        "POST",
        "/api/v1/changesets",
        {"content": NEW_UNIT, "headers": {"Authorization": TOKEN}},
        401,
        "unauthorized",
    ),
    ("POST", "/api/v1/changesets", {"content": BAD_PLAN, "headers": auth()}, 422, "plan-refused"),
]


@pytest.mark.parametrize(("method", "url", "extra", "status", "code"), ERRORS)
def test_every_error_has_one_shape_and_its_status(
    client: TestClient, method: str, url: str, extra: dict[str, Any], status: int, code: str
) -> None:
    log_before = client.get("/api/v1/log").json()
    result = client.request(method, url, **extra)
    assert result.status_code == status, result.text
    body = result.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert client.get("/api/v1/log").json() == log_before


def test_plan_problems_carry_their_line_and_operation(client: TestClient) -> None:
    result = client.post("/api/v1/plans/preview", content=BAD_PLAN)
    (problem,) = result.json()["error"]["details"]
    assert problem["line"] == 5
    assert problem["op"] == 1
    assert problem["op_kind"] == "move"
    assert problem["code"] == "unknown-unit"
    assert "nowhere" in problem["message"]


def test_a_read_only_server_refuses_writes_with_403(readonly: TestClient) -> None:
    result = readonly.post("/api/v1/changesets", content=NEW_UNIT, headers=auth())
    assert result.status_code == 403
    assert result.json()["error"]["code"] == "read-only"


# -- pages and headers -----------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/", "/log", "/plan", "/units/csig", "/changesets/tencent-2018-09-30"]
)
def test_pages_forbid_inline_scripts(client: TestClient, path: str) -> None:
    result = client.get(path)
    assert result.status_code == 200
    policy = result.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    assert "<script>" not in result.text
    assert " onclick=" not in result.text


def test_page_parameters_are_escaped(client: TestClient) -> None:
    result = client.get("/units/%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E")
    assert result.status_code == 200
    assert "<img src=x" not in result.text
    assert "&lt;img src=x onerror=alert(1)&gt;" in result.text


def test_api_docs_are_served(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert "/api/v1/snapshot" in spec["paths"]
    assert client.get("/docs").status_code == 200
