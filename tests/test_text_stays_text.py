"""Names, notes and sources stay text everywhere: nothing in them is executed or read as markup.

The API gives them back byte for byte; the command line prints them as they are
(Rich would read `[bold]x[/]` as markup if it were handed a plain string).
The browser side is in test_web_browser.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from typer.testing import Result

from orgledger import Ledger
from orgledger.web import create_app
from outcomes import ok

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
TEMPLATE = "{{7*7}}"
RICH = "[bold red]x[/]"
PLAN = {
    "id": "text-2019",
    "title": f"{RICH} {TEMPLATE}",
    "effective": "2019-06-01",
    "source": [IMG, "[link=https://example.org]s[/link]"],
    "notes": f"{SCRIPT} {RICH}",
    "ops": [
        {
            "create": "plain",
            "parent": "teg",
            "kind": "[blink]k[/]",
            "names": {"en": RICH, "zh": TEMPLATE, "fr": SCRIPT, "de": IMG},
            "abbr": "[red]A[/]",
            "attrs": {"[i]key[/i]": "{{v}}"},
            "notes": TEMPLATE,
            "source": "[u]src[/u]",
        },
        {"rename": "qq", "names": {"en": f"{RICH} QQ"}},
    ],
}


@pytest.fixture
def recorded(tencent_db: str) -> str:
    with Ledger.open(tencent_db) as ledger:
        ledger.apply(PLAN)
    return tencent_db


@pytest.fixture
def client(recorded: str) -> Iterator[TestClient]:
    app = create_app(recorded)
    with TestClient(app) as test_client:
        yield test_client
    app.state.ledger.close()


def test_the_api_gives_stored_text_back_verbatim(client: TestClient) -> None:
    unit = client.get("/api/v1/units/plain", params={"at": "2019-06-01"}).json()["unit"]
    assert unit["names"] == {"de": IMG, "en": RICH, "fr": SCRIPT, "zh": TEMPLATE}
    assert (unit["kind"], unit["abbr"], unit["attrs"]) == (
        "[blink]k[/]",
        "[red]A[/]",
        {"[i]key[/i]": "{{v}}"},
    )
    changeset = client.get("/api/v1/changesets/text-2019").json()
    assert changeset["title"] == f"{RICH} {TEMPLATE}"
    assert changeset["notes"] == f"{SCRIPT} {RICH}"
    assert changeset["source"] == [IMG, "[link=https://example.org]s[/link]"]
    assert changeset["ops"][0]["notes"] == TEMPLATE
    assert changeset["ops"][0]["source"] == ["[u]src[/u]"]
    found = client.get("/api/v1/find", params={"q": "{{7"}).json()["matches"]
    assert [m["id"] for m in found] == ["plain"]
    # JSON answers are JSON, never HTML a browser would render.
    answer = client.get("/api/v1/units/plain")
    assert answer.headers["content-type"] == "application/json"
    assert SCRIPT in json.loads(answer.text)["latest"]["names"]["fr"]


@pytest.mark.parametrize(
    ("args", "shown"),
    [
        (["show", "teg", "--at", "2019-06-01"], [RICH, "([red]A[/])", "[blink]k[/]"]),
        (["show", "teg", "--at", "2019-06-01", "--lang", "zh"], [TEMPLATE]),
        (["show", "teg", "--at", "2019-06-01", "--lang", "fr"], [SCRIPT]),
        (["find", "plain"], ["[red]A[/]", RICH]),
        (["find", "{{7"], [TEMPLATE]),
        (["log"], [f"{RICH} {TEMPLATE}"]),
        (["history", "plain"], ["[blink]k[/]", f"en={RICH}"]),
        (["diff", "2019-05-31", "2019-06-01"], [f"{RICH} [plain]", f"en: {RICH} QQ"]),
        (["show", "teg", "--at", "2019-06-01", "-f", "mermaid"], [f'"{RICH} ([red]A[/])"']),
        (
            ["show", "teg", "--at", "2019-06-01", "-f", "mermaid", "--lang", "fr"],
            ['"#lt;script#gt;alert(1)#lt;/script#gt; ([red]A[/])"'],
        ),
    ],
)
def test_the_command_line_prints_stored_text_as_it_is(
    cli: Callable[..., Result], recorded: str, args: list[str], shown: list[str]
) -> None:
    out = ok(cli(*args, "--db", recorded)).stdout
    for text in shown:
        assert text in out, out
