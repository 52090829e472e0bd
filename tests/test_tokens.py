"""Access tokens: stored hashed, scopes, subtree limits, revocation; private mode; rate limits."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import Result

import raw
from orgledger import Ledger
from orgledger.errors import ForbiddenError, TokenError
from orgledger.plan import from_mapping
from orgledger.tokens import PREFIX, SHOWN, Token, check_subtrees, digest
from orgledger.web import create_app
from orgledger.web.security import Policy, RateLimiter
from outcomes import as_json, fails, ok

ENV_TOKEN = "the-servers-own-token"
DAY = "2019-01-01"


def plan(*ops: dict[str, Any], id: str = "p-2019", supersedes: str | None = None) -> str:
    """A plan as JSON text (the API takes it with a JSON content type)."""
    body: dict[str, Any] = {"id": id, "effective": DAY, "ops": list(ops)}
    if supersedes:
        body["supersedes"] = supersedes
    return json.dumps(body)


def new(unit: str, parent: str | None) -> dict[str, Any]:
    return {"create": unit, "parent": parent, "kind": "team", "names": {"en": unit.title()}}


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}", "Content-Type": "application/json"}


# -- stored hashed, added and revoked ----------------------------------------------------


def test_a_token_is_stored_only_as_its_digest(tencent_db: str) -> None:
    with Ledger.open(tencent_db) as ledger:
        token, secret = ledger.add_token("ci", "write", ["CSIG"], actor="ana")
        assert secret.startswith(PREFIX) and len(secret) > 40
        assert token == Token("ci", "write", ("csig",), digest(secret), token.added_at, "ana")
        assert ledger.authenticate(secret) == token
        assert ledger.authenticate(secret + "x") is None
    if "://" in tencent_db:
        stored = repr(raw.rows(tencent_db, "SELECT * FROM tokens")).encode()
    else:
        stored = b"".join(p.read_bytes() for p in Path(tencent_db).parent.glob("tencent.db*"))
    assert secret.encode() not in stored
    assert secret.removeprefix(PREFIX).encode() not in stored
    assert digest(secret).encode() in stored


def test_revoked_tokens_are_refused_and_the_name_can_be_given_again(tencent_db: str) -> None:
    with Ledger.open(tencent_db) as ledger:
        _, first = ledger.add_token("ci", "read")
        with pytest.raises(TokenError, match="already a token 'ci'"):
            ledger.add_token("ci", "write")
        ledger.revoke_token("ci")
        assert ledger.authenticate(first) is None
        assert ledger.tokens() == {}
        with pytest.raises(TokenError, match="no active token 'ci'"):
            ledger.revoke_token("ci")
        _, second = ledger.add_token("ci", "write")
        assert ledger.authenticate(first) is None
        assert ledger.authenticate(second) is not None


def test_another_process_sees_tokens_added_and_revoked(tencent_db: str) -> None:
    with Ledger.open(tencent_db) as server, Ledger.open(tencent_db) as other:
        assert server.tokens() == {}
        _, secret = other.add_token("ci", "write")
        assert server.authenticate(secret) is not None
        other.revoke_token("ci")
        assert server.authenticate(secret) is None


@pytest.mark.parametrize(
    ("name", "scope", "under", "message"),
    [
        ("CI", "read", [], "not a valid token name"),
        ("ci", "admin", [], "scope 'admin' is not one of read, write"),
        ("ci", "read", ["csig"], "a read token reads all"),
    ],
)
def test_bad_tokens_are_refused(
    tencent: Ledger, name: str, scope: str, under: list[str], message: str
) -> None:
    with pytest.raises(TokenError, match=message):
        tencent.add_token(name, scope, under)


# -- subtree limits ----------------------------------------------------------------------

# On 2019-01-01 csig holds tencent-cloud and tencent-maps; teg and pcg are its siblings.
ALLOWED: list[tuple[str, list[dict[str, Any]]]] = [
    ("create", [new("lab", "csig")]),
    ("create below a new unit", [new("lab", "csig"), new("sub", "lab")]),
    ("move inside", [{"move": "tencent-maps", "to": "tencent-cloud"}]),
    ("move into a new unit", [new("lab", "csig"), {"move": ["tencent-maps"], "to": "lab"}]),
    ("merge inside", [{"merge": ["tencent-maps"], "into": "tencent-cloud"}]),
    ("merge into a new unit", [{"merge": ["tencent-maps"], "into": new("geo", "csig")}]),
    ("end (dissolve)", [{"dissolve": "tencent-maps"}]),
    ("rename its top unit", [{"rename": "csig", "names": {"en": "Cloud"}}]),
    ("rename", [{"rename": "tencent-cloud", "names": {"en": "Cloud"}}]),
    ("set", [{"set": "tencent-cloud", "attrs": {"focus": "to_b"}}]),
    ("link to a unit elsewhere", [{"link": "tencent-maps", "to": "teg"}]),
    (
        "split inside",
        [
            new("lab", "tencent-maps"),
            {
                "split": "tencent-maps",
                "into": [{"to": "tencent-cloud"}],
                "rest_to": "tencent-cloud",
            },
        ],
    ),
]
REFUSED: list[tuple[str, list[dict[str, Any]], int, str]] = [
    ("create elsewhere", [new("lab", "teg")], 1, "teg"),
    ("create a root", [new("lab", None)], 1, ""),
    ("create elsewhere after one inside", [new("lab", "csig"), new("x", "pcg")], 2, "pcg"),
    ("move out", [{"move": "tencent-maps", "to": "teg"}], 1, "teg"),
    ("move in", [{"move": "qq", "to": "csig"}], 1, "qq"),
    ("move its top unit", [{"move": "csig", "to": "teg"}], 1, "csig"),
    ("merge from elsewhere", [{"merge": ["qq"], "into": "tencent-cloud"}], 1, "qq"),
    ("merge out", [{"merge": ["tencent-maps"], "into": "teg"}], 1, "teg"),
    (
        "merge into a new unit elsewhere",
        [{"merge": ["tencent-maps"], "into": new("g", "teg")}],
        1,
        "teg",
    ),
    ("end its top unit", [{"dissolve": "csig", "children_to": "teg"}], 1, "csig"),
    ("end elsewhere", [{"dissolve": "qq"}], 1, "qq"),
    ("end, children out", [{"dissolve": "tencent-maps", "children_to": "teg"}], 1, "teg"),
    ("rename elsewhere", [{"rename": "teg", "names": {"en": "T"}}], 1, "teg"),
    ("rename unknown", [{"rename": "nowhere", "names": {"en": "T"}}], 1, "nowhere"),
    (
        "split out",
        [{"split": "tencent-maps", "into": [{"to": "tencent-cloud"}], "rest_to": "teg"}],
        1,
        "teg",
    ),
]


@pytest.fixture
def limited() -> Token:
    return Token("csig-team", "write", ("csig",))


@pytest.mark.parametrize(("case", "ops"), ALLOWED, ids=[c for c, _ in ALLOWED])
def test_a_limited_token_may_change_its_subtrees(
    tencent: Ledger, limited: Token, case: str, ops: list[dict[str, Any]]
) -> None:
    changeset = tencent.preview(json.loads(plan(*ops)))[0].changeset  # valid as well
    tencent.check_write(limited, changeset)


@pytest.mark.parametrize(("case", "ops", "op", "unit"), REFUSED, ids=[c for c, *_ in REFUSED])
def test_a_limited_token_may_not_change_anything_else(
    tencent: Ledger, limited: Token, case: str, ops: list[dict[str, Any]], op: int, unit: str
) -> None:
    changeset = from_mapping(json.loads(plan(*ops)))
    with pytest.raises(ForbiddenError) as refused:
        check_subtrees(limited, changeset, tencent.at(changeset.effective))
    assert refused.value.details == {"op": op, "op_kind": changeset.ops[op - 1].kind, "unit": unit}
    assert f"op {op} ({changeset.ops[op - 1].kind})" in refused.value.message
    assert "may only change units under csig" in refused.value.message


def test_a_limited_token_may_not_record_corrections(tencent: Ledger, limited: Token) -> None:
    changeset = from_mapping(json.loads(plan(new("lab", "csig"), supersedes="tencent-2018-09-30")))
    with pytest.raises(ForbiddenError, match="correction"):
        tencent.check_write(limited, changeset)


def test_the_subtree_is_read_on_the_change_sets_date(tencent: Ledger, limited: Token) -> None:
    # Before 930 there is no csig: nothing is under it.
    early = from_mapping({"id": "early", "effective": "2015-01-01", "ops": [new("lab", "ieg")]})
    with pytest.raises(ForbiddenError, match="'ieg' is not under them on 2015-01-01"):
        tencent.check_write(limited, early)


# -- the web API -------------------------------------------------------------------------


@pytest.fixture
def served(tencent_db: str) -> Iterator[Callable[..., TestClient]]:
    """A test client over the Tencent ledger with the given policy (closed afterwards)."""
    opened: list[tuple[TestClient, Any]] = []

    def _serve(**policy: Any) -> TestClient:
        app = create_app(tencent_db, policy=Policy(**policy))
        client = TestClient(app)
        client.__enter__()
        opened.append((client, app))
        return client

    yield _serve
    for client, app in opened:
        client.__exit__(None, None, None)
        app.state.ledger.close()


@pytest.fixture
def secrets(tencent_db: str) -> dict[str, str]:
    with Ledger.open(tencent_db) as ledger:
        return {
            "reader": ledger.add_token("reader", "read")[1],
            "writer": ledger.add_token("writer", "write")[1],
            "csig": ledger.add_token("csig-team", "write", ["csig"])[1],
        }


def changesets(client: TestClient, headers: dict[str, str] | None = None) -> list[str]:
    return [e["id"] for e in client.get("/api/v1/log", headers=headers).json()]


def error(result: Any, status: int, code: str) -> dict[str, Any]:
    assert result.status_code == status, result.text
    body = result.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    return dict(body["error"])


def test_scopes_over_http(served: Callable[..., TestClient], secrets: dict[str, str]) -> None:
    client = served()
    assert client.get("/api/v1/log", headers=bearer(secrets["reader"])).status_code == 200
    refused = client.post(
        "/api/v1/changesets", content=plan(new("lab", "teg")), headers=bearer(secrets["reader"])
    )
    assert "may only read" in error(refused, 403, "forbidden")["message"]
    recorded = client.post(
        "/api/v1/changesets", content=plan(new("lab", "teg")), headers=bearer(secrets["writer"])
    )
    assert recorded.status_code == 201
    assert "p-2019" in changesets(client)


def test_subtree_limits_over_http(
    served: Callable[..., TestClient], secrets: dict[str, str]
) -> None:
    client = served()
    before = changesets(client)
    outside = client.post(
        "/api/v1/changesets",
        content=plan(new("lab", "csig"), {"move": "qq", "to": "lab"}),
        headers=bearer(secrets["csig"]),
    )
    body = error(outside, 403, "forbidden")
    assert body["details"] == {"op": 2, "op_kind": "move", "unit": "qq"}
    assert "op 2 (move): 'qq' is not under them" in body["message"]
    assert changesets(client) == before
    inside = client.post(
        "/api/v1/changesets",
        content=plan(new("lab", "csig"), {"move": "tencent-maps", "to": "lab"}),
        headers=bearer(secrets["csig"]),
    )
    assert inside.status_code == 201, inside.text
    unit = client.get("/api/v1/units/tencent-maps", params={"at": DAY}).json()
    assert unit["path"] == ["tencent", "csig", "lab", "tencent-maps"]


def test_unknown_and_revoked_tokens_get_401(
    served: Callable[..., TestClient], secrets: dict[str, str], tencent_db: str
) -> None:
    client = served()
    for headers in ({}, bearer("olt_guessed"), {"Authorization": secrets["writer"]}):
        result = client.post("/api/v1/changesets", content=plan(new("lab", "teg")), headers=headers)
        error(result, 401, "unauthorized")
    with Ledger.open(tencent_db) as ledger:
        ledger.revoke_token("writer")
    revoked = client.post(
        "/api/v1/changesets", content=plan(new("lab", "teg")), headers=bearer(secrets["writer"])
    )
    assert "not known or was revoked" in error(revoked, 401, "unauthorized")["message"]


def test_the_environment_token_writes_without_limits(
    served: Callable[..., TestClient], secrets: dict[str, str]
) -> None:
    client = served(token=ENV_TOKEN)
    result = client.post(
        "/api/v1/changesets", content=plan(new("lab", None)), headers=bearer(ENV_TOKEN)
    )
    assert result.status_code == 201, result.text


def test_a_server_without_write_tokens_is_read_only(
    served: Callable[..., TestClient], tencent_db: str
) -> None:
    client = served()
    result = client.post("/api/v1/changesets", content=plan(new("lab", "teg")))
    error(result, 403, "read-only")
    assert 'data-writable="false"' in client.get("/plan").text
    with Ledger.open(tencent_db) as ledger:
        ledger.add_token("reader", "read")
    assert 'data-writable="false"' in client.get("/plan").text
    with Ledger.open(tencent_db) as ledger:
        ledger.add_token("writer", "write")
    assert 'data-writable="true"' in client.get("/plan").text
    error(client.post("/api/v1/changesets", content=plan(new("lab", "teg"))), 401, "unauthorized")


def test_a_private_server_needs_a_token_to_read(
    served: Callable[..., TestClient], secrets: dict[str, str]
) -> None:
    client = served(private=True)
    for path in ("/api/v1/log", "/api/v1/snapshot", "/api/v1/units/csig", "/api/v1/find?q=qq"):
        assert "private" in error(client.get(path), 401, "unauthorized")["message"]
        error(client.get(path, headers=bearer("olt_guessed")), 401, "unauthorized")
        assert client.get(path, headers=bearer(secrets["reader"])).status_code == 200
    # The pages hold no ledger data: they load, and their API requests need the token.
    assert client.get("/").status_code == 200
    assert client.get("/static/common.js").status_code == 200


def test_rate_limits_give_429_with_retry_after(
    served: Callable[..., TestClient], secrets: dict[str, str]
) -> None:
    client = served(rate=0.5, burst=2)
    assert [client.get("/api/v1/log").status_code for _ in range(2)] == [200, 200]
    limited = client.get("/api/v1/log")
    body = error(limited, 429, "rate-limited")
    assert limited.headers["Retry-After"] == "2"
    assert body["details"] == {"retry_after": 2}
    assert "address testclient" in body["message"]
    # Each token has its own bucket, apart from the address's.
    reader = bearer(secrets["reader"])
    assert [client.get("/api/v1/log", headers=reader).status_code for _ in range(3)] == [
        200,
        200,
        429,
    ]


def test_the_body_limit_is_configurable(served: Callable[..., TestClient]) -> None:
    client = served(max_body=100)
    error(client.post("/api/v1/plans/preview", content="x" * 101), 413, "too-large")
    assert client.post("/api/v1/plans/preview", content=plan()).status_code == 422


def test_a_token_bucket_refills_at_its_rate() -> None:
    bucket = RateLimiter(rate=2.0, burst=3.0)
    assert [bucket.take("a", now=10.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.take("a", now=10.0) == pytest.approx(0.5)
    assert bucket.take("b", now=10.0) == 0.0
    assert bucket.take("a", now=10.5) == 0.0
    assert bucket.take("a", now=10.5) == pytest.approx(0.5)
    assert RateLimiter(rate=0.0, burst=0.0).take("a") == 0.0


def test_a_token_bucket_forgets_full_buckets_beyond_its_size() -> None:
    bucket = RateLimiter(rate=1.0, burst=1.0, most=2)
    for client in ("a", "b", "c"):
        bucket.take(client, now=0.0)
    assert len(bucket.buckets) == 3
    bucket.take("d", now=5.0)
    assert set(bucket.buckets) == {"d"}


# -- the command line --------------------------------------------------------------------


def test_token_commands(cli: Callable[..., Result], tencent_db: str) -> None:
    added = ok(cli("token", "add", "ci", "--scope", "write", "--under", "CSIG", "--db", tencent_db))
    lines = added.stdout.splitlines()
    assert lines[0] == "added token 'ci' (write, under csig)"
    secret = lines[-1]
    assert secret.startswith(PREFIX)
    shown = as_json(
        cli("token", "add", "reader", "--scope", "read", "-f", "json", "--db", tencent_db)
    )
    assert shown["secret"].startswith(PREFIX)
    assert shown["digest"] == f"sha256:{digest(shown['secret'])[:SHOWN]}"
    listed = ok(cli("token", "list", "--db", tencent_db)).stdout
    assert "2 active token(s)" in listed and "csig" in listed
    assert digest(secret)[:SHOWN] in listed
    for hidden in (secret, shown["secret"], digest(secret)[: SHOWN + 1]):
        assert hidden not in listed
    as_list = as_json(cli("token", "list", "-f", "json", "--db", tencent_db))
    assert [t["name"] for t in as_list] == ["ci", "reader"]
    assert "secret" not in json.dumps(as_list)
    assert (
        ok(cli("token", "revoke", "ci", "--db", tencent_db)).stdout
        == "revoked token 'ci' (write)\n"
    )
    assert [t["name"] for t in as_json(cli("token", "list", "-f", "json", "--db", tencent_db))] == [
        "reader"
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["add", "reader", "--scope", "read"], "there is already a token 'reader'"),
        (["add", "x", "--scope", "write", "--under", "nowhere"], "nowhere"),
        (["add", "x", "--scope", "read", "--under", "csig"], "a read token reads all"),
        (["add", "X!", "--scope", "read"], "not a valid token name"),
        (["revoke", "nobody"], "no active token 'nobody' (active: reader)"),
    ],
)
def test_token_commands_refuse_cleanly(
    cli: Callable[..., Result], tencent_db: str, args: list[str], message: str
) -> None:
    ok(cli("token", "add", "reader", "--scope", "read", "--db", tencent_db))
    result = fails(cli("token", *args, "--db", tencent_db), 1)
    assert message in result.stderr


def test_token_scope_must_be_read_or_write(cli: Callable[..., Result], tencent_db: str) -> None:
    fails(cli("token", "add", "x", "--scope", "admin", "--db", tencent_db), 2)


def test_token_events_are_append_only(tencent_db: str) -> None:
    with Ledger.open(tencent_db) as ledger:
        ledger.add_token("ci", "write")
    for statement in ("UPDATE tokens SET scope = 'read'", "DELETE FROM tokens"):
        assert "append-only" in raw.refused(tencent_db, statement)
