"""The web pages in a real browser: Debian's Chromium, headless, against a live server.

One server (on a copy of the Tencent example) serves the whole module; every test
gets a fresh browser context and fails on any console error, page error or dialog.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Dialog,
    FloatRect,
    Page,
    Route,
    expect,
    sync_playwright,
)

from orgledger.demo import build
from orgledger.web import create_app

CHROMIUM = Path("/usr/bin/chromium")
TOKEN = "browser-test-token"
SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
XSS_PLAN = f"""\
id: xss-2019
title: {json.dumps(f"{IMG} and {SCRIPT}")}
effective: 2019-06-01
source: ["javascript:alert(1)", {json.dumps(IMG)}, "https://example.org/ok"]
notes: {json.dumps(SCRIPT)}
ops:
  - create: xss-script
    parent: teg
    kind: {json.dumps(f"<b>{SCRIPT}</b>")}
    names: {{en: {json.dumps(SCRIPT)}, zh: {json.dumps(IMG)}}}
    abbr: {json.dumps(IMG)}
    attrs: {{{json.dumps(IMG)}: {json.dumps(SCRIPT)}}}
    source: "javascript:alert(1)"
    notes: {json.dumps(IMG)}
  - create: xss-img
    parent: teg
    kind: team
    names: {{en: {json.dumps(IMG)}}}
  - link: xss-img
    to: others
    type: {json.dumps(IMG)}
  - rename: qzone
    names: {{en: {json.dumps(SCRIPT)}}}
"""
BAD_PLAN = """\
id: broken-plan
effective: 2019-03-01
ops:
  - create: lab
    parent: teg
    kind: team
    names: {en: Lab}
  - move: qq
    to: nowhere
"""
DEEPER_PLAN = """\
id: lab-2020
effective: 2020-01-01
ops:
  - create: lab
    parent: ams
    kind: team
    names: {en: Lab}
"""


# -- the server and the browser ----------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The web app on a fresh Tencent example ledger, served by uvicorn in a thread."""
    path = tmp_path_factory.mktemp("browser") / "tencent.db"
    build(path).ledger.close()
    app = create_app(path, TOKEN)
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not running.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the web server did not start")
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    running.should_exit = True
    thread.join(timeout=10)
    app.state.ledger.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests need Debian's Chromium "
            "(apt-get install chromium, or `make browser`)"
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield launched
        launched.close()


@dataclass
class Watch:
    """What a page said that it should not have: console errors, uncaught errors, dialogs."""

    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    expected: list[str] = field(default_factory=list)

    def console(self, message: ConsoleMessage) -> None:
        if message.type == "error" and not any(e in message.text for e in self.expected):
            self.errors.append(message.text)

    def dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def assert_clean(self) -> None:
        assert self.errors == []
        assert self.dialogs == []


@pytest.fixture
def page(browser: Browser) -> Iterator[tuple[Page, Watch]]:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, accept_downloads=True)
    opened = context.new_page()
    watch = Watch()
    opened.on("console", watch.console)
    opened.on("pageerror", lambda exc: watch.errors.append(f"page error: {exc}"))
    opened.on("dialog", watch.dialog)
    yield opened, watch
    context.close()


def visit(page: Page, url: str) -> None:
    """Open a page and check that it came with the strict Content-Security-Policy."""
    response = page.goto(url)
    assert response is not None and response.status == 200
    policy = response.headers.get("content-security-policy", "")
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy.split("style-src")[0]


def node(page: Page, unit: str) -> str:
    return f'#chart g.node[data-id="{unit}"]'


def settled_box(page: Page, selector: str) -> FloatRect:
    """Where an element is once the chart's transitions have stopped moving it."""
    last = None
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        box = page.locator(selector).bounding_box()
        if box is not None and last is not None and box == last:
            return box
        last = box
        page.wait_for_timeout(100)
    raise AssertionError(f"{selector} kept moving")


def api(server: str, path: str) -> Any:
    with urllib.request.urlopen(f"{server}/api/v1/{path}") as answer:
        return json.load(answer)


# -- the chart ---------------------------------------------------------------------------


def test_chart_travels_through_the_930_upgrade(server: str, page: tuple[Page, Watch]) -> None:
    tab, watch = page
    visit(tab, f"{server}/?at=2018-09-29")
    expect(tab.locator(node(tab, "sng"))).to_be_visible()
    expect(tab.locator(f"{node(tab, 'sng')} .card .name")).to_have_text("Social Network Group")
    expect(tab.locator(node(tab, "csig"))).to_have_count(0)
    expect(tab.locator("#timeline-label")).to_contain_text("tencent-2016-01-01-segments")

    tab.fill("#date", "2018-09-30")
    expect(tab.locator(node(tab, "csig"))).to_be_visible()
    expect(tab.locator(node(tab, "pcg"))).to_be_visible()
    expect(tab.locator(node(tab, "sng"))).to_have_count(0)
    expect(tab.locator("#timeline-label")).to_contain_text("tencent-2018-09-30")
    assert "at=2018-09-30" in tab.url

    # One step back on the timeline: the day the reporting segments were recorded.
    steps = [e["id"] for e in api(server, "log")]
    tab.locator("#timeline").fill(str(steps.index("tencent-2016-01-01-segments")))
    expect(tab.locator("#date")).to_have_value("2016-01-01")
    expect(tab.locator(node(tab, "sng"))).to_be_visible()
    expect(tab.locator(node(tab, "csig"))).to_have_count(0)

    tab.locator(f"{node(tab, 'sng')} .card").click()
    tab.wait_for_url("**/units/sng?at=2016-01-01&lang=en")
    expect(tab.locator("#title")).to_contain_text("Social Network Group")
    watch.assert_clean()


def test_search_highlights_and_centres_a_unit(server: str, page: tuple[Page, Watch]) -> None:
    tab, watch = page
    visit(tab, f"{server}/?at=2018-09-30")
    expect(tab.locator(node(tab, "csig"))).to_be_visible()
    tab.fill("#q", "云与智慧")
    tab.press("#q", "Enter")
    expect(tab.locator(f"{node(tab, 'csig')}.highlighted .card.highlighted")).to_be_visible()
    expect(tab.locator("#chart g.node.highlighted")).to_have_count(1)
    assert "unit=csig" in tab.url
    assert int(tab.locator("#chart").get_attribute("data-focus-ms") or "9999") < 200

    chart = tab.locator("#chart").bounding_box()
    assert chart is not None

    def offset() -> float:
        card = tab.locator(f"{node(tab, 'csig')} .card").bounding_box()
        assert card is not None
        return max(
            abs(card["x"] + card["width"] / 2 - (chart["x"] + chart["width"] / 2)),
            abs(card["y"] + card["height"] / 2 - (chart["y"] + chart["height"] / 2)),
        )

    deadline = time.monotonic() + 3
    while offset() > 20 and time.monotonic() < deadline:
        tab.wait_for_timeout(100)
    assert offset() <= 20

    # Results are text only, one per match.
    tab.fill("#q", "qq")
    expect(tab.locator("#results li")).to_have_count(3)
    expect(tab.locator("#results")).to_contain_text("QQ Browser")

    # The URL keeps the state: loading it again restores date, language and focus.
    tab.select_option("#lang", "zh")
    expect(tab.locator(f"{node(tab, 'csig')} .name")).to_have_text("云与智慧产业事业群")
    assert "lang=zh" in tab.url
    visit(tab, tab.url)
    expect(tab.locator("#date")).to_have_value("2018-09-30")
    expect(tab.locator("#lang")).to_have_value("zh")
    expect(tab.locator(f"{node(tab, 'csig')}.highlighted")).to_be_visible()
    expect(tab.locator(f"{node(tab, 'pcg')} .name")).to_have_text("平台与内容事业群")
    watch.assert_clean()


def test_export_svg_holds_every_unit_not_only_the_visible_ones(
    server: str, page: tuple[Page, Watch]
) -> None:
    tab, watch = page
    visit(tab, f"{server}/?at=2018-09-30")
    expect(tab.locator(node(tab, "csig"))).to_be_visible()
    tab.click("#collapse")
    expect(tab.locator(node(tab, "tencent-cloud"))).to_have_count(0)
    with tab.expect_download() as download:
        tab.click("#export-svg")
    assert download.value.suggested_filename.endswith(".svg")
    svg = Path(download.value.path()).read_text(encoding="utf-8")
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    units = api(server, "snapshot?at=2018-09-30")["units"]
    exported = set(re.findall(r'class="card[^"]*" data-id="([^"]+)"', svg))
    assert exported == {u["id"] for u in units}
    assert "reported-in" in svg  # the dotted-line links and their labels
    assert tab.locator("#chart g.node").count() < len(units)  # the page itself stays collapsed
    with tab.expect_download() as download:
        tab.click("#export-png")
    assert download.value.suggested_filename.endswith(".png")
    assert Path(download.value.path()).read_bytes().startswith(b"\x89PNG\r\n")
    watch.assert_clean()


# -- the other pages ---------------------------------------------------------------------


def test_unit_page_draws_where_sng_went(server: str, page: tuple[Page, Watch]) -> None:
    tab, watch = page
    visit(tab, f"{server}/units/sng")
    expect(tab.locator("#title")).to_contain_text("Social Network Group")
    for successor in ("csig", "pcg"):
        link = tab.locator(f'#lineage svg a[data-id="{successor}"]')
        expect(link).to_be_visible()
        assert link.get_attribute("href", timeout=1000).startswith(f"/units/{successor}")
    expect(tab.locator("#lineage svg text.share")).to_contain_text(["100%", "33%", "67%"])
    expect(tab.locator('#history a[href="/changesets/tencent-2018-09-30"]').first).to_be_visible()
    expect(tab.locator("#history li").last).to_contain_text("ended")
    expect(tab.locator("#metrics")).to_contain_text("No metrics")

    visit(tab, f"{server}/units/others")
    expect(tab.locator('#metrics section[data-metric="revenue"] svg circle')).to_have_count(
        len(api(server, "units/others/metrics")["metrics"]["revenue"])
    )
    watch.assert_clean()


def test_changeset_and_log_pages(server: str, page: tuple[Page, Watch]) -> None:
    tab, watch = page
    visit(tab, f"{server}/changesets/tencent-2018-09-30")
    expect(tab.locator("#facts")).to_contain_text("0.55")
    expect(tab.locator('#facts a[href="/changesets/tencent-2012-05-18"]')).to_be_visible()
    expect(tab.locator("#changes li.added")).to_have_count(4)
    expect(tab.locator("#changes li.removed")).to_contain_text(["MIG", "OMG", "SNG", "SPA"])
    expect(tab.locator(f"{node(tab, 'csig')} .card.added")).to_be_visible()
    expect(tab.locator(f"{node(tab, 'qq')} .card.moved")).to_be_visible()
    tab.click(".magnitude-link")
    expect(tab.locator("#magnitude table tbody tr")).to_have_count(16)

    visit(tab, f"{server}/log")
    expect(tab.locator("#log tbody tr")).to_have_count(len(api(server, "log")))
    row = tab.locator('#log tbody tr[data-changeset="tencent-2018-09-30"]')
    expect(row.locator('a[href="/changesets/tencent-2018-09-30"]')).to_be_visible()
    width = row.locator(".bar").evaluate("bar => bar.style.width")
    assert width == "55.2%"
    watch.assert_clean()


def test_plan_page_points_at_the_line_of_a_problem(server: str, page: tuple[Page, Watch]) -> None:
    tab, watch = page
    watch.expected.append("status of 422")  # the preview answers 422 with the problems
    visit(tab, f"{server}/plan")
    expect(tab.locator("#apply")).to_be_visible()  # the server has a token
    tab.fill("#plan-text", BAD_PLAN)
    tab.click("#preview")
    problem = tab.locator("#problems li")
    expect(problem).to_have_count(1)
    expect(problem).to_have_text(
        "line 9: op 2 (move): unit 'nowhere' does not exist [unknown-unit]"
    )
    problem.locator("button").click()
    selected = tab.eval_on_selector(
        "#plan-text", "t => t.value.slice(t.selectionStart, t.selectionEnd)"
    )
    assert selected == "    to: nowhere"

    # Fixed (and opened from a file), the plan shows its changes on the chart of its date.
    fixed = BAD_PLAN.replace("nowhere", "csig")
    tab.set_input_files(
        "#plan-file",
        files=[{"name": "plan.yaml", "mimeType": "text/yaml", "buffer": fixed.encode()}],
    )
    expect(tab.locator("#plan-text")).to_have_value(fixed)
    expect(tab.locator("#problems li")).to_have_count(0)
    expect(tab.locator("#changes li.moved")).to_contain_text("QQ")
    expect(tab.locator(f"{node(tab, 'qq')} .card.moved")).to_be_visible()
    expect(tab.locator(f"{node(tab, 'lab')} .card.added")).to_be_visible()
    with tab.expect_download() as download:
        tab.click("#download")
    assert download.value.suggested_filename == "plan.yaml"
    assert Path(download.value.path()).read_text(encoding="utf-8") == fixed
    watch.assert_clean()


def test_plan_drafted_by_dragging_and_by_the_buttons(server: str, page: tuple[Page, Watch]) -> None:
    tab, watch = page
    visit(tab, f"{server}/plan")
    tab.fill("#plan-date", "2019-03-01")
    expect(tab.locator("#chart .card.forest")).to_contain_text("2019-03-01")
    source = settled_box(tab, f"{node(tab, 'tech-committee')} .card")
    target = settled_box(tab, f"{node(tab, 'csig')} .card")
    tab.mouse.move(source["x"] + 20, source["y"] + 20)
    tab.mouse.down()
    tab.mouse.move(source["x"] + 40, source["y"] + 40, steps=4)
    tab.mouse.move(target["x"] + 30, target["y"] + 20, steps=8)
    tab.mouse.up()
    expect(tab.locator("#plan-text")).to_have_value(re.compile(r'move: "tech-committee"\n'))
    expect(tab.locator("#changes li.moved")).to_contain_text("Technology Committee")
    expect(tab.locator(f"{node(tab, 'tech-committee')} .card.moved")).to_be_visible()

    tab.click("#plan-fit")
    settled_box(tab, f"{node(tab, 'wxg')} .card")
    tab.locator(f"{node(tab, 'wxg')} .card").click()
    expect(tab.locator("#selection")).to_contain_text("wxg")
    tab.click("#op-rename")
    tab.fill('#op-form input[name="name"]', "Weixin and WeChat Group")
    tab.click('#op-form button[value="ok"]')
    expect(tab.locator("#changes li.renamed")).to_contain_text("Weixin and WeChat Group")
    expect(tab.locator(f"{node(tab, 'wxg')} .card.renamed .name")).to_have_text(
        "Weixin and WeChat Group"
    )
    assert 'rename: "wxg"' in tab.input_value("#plan-text")
    watch.assert_clean()


def test_apply_from_the_plan_page_then_open_a_level_not_loaded_yet(
    server: str, page: tuple[Page, Watch]
) -> None:
    tab, watch = page
    watch.expected.append("status of 401")  # the wrong token first
    visit(tab, f"{server}/plan")
    tab.fill("#plan-text", DEEPER_PLAN)
    tab.fill("#token", "not-the-token")
    tab.click("#apply")
    expect(tab.locator("#status")).to_have_attribute("data-kind", "error")
    expect(tab.locator("#status")).to_contain_text("token")
    tab.fill("#token", TOKEN)
    tab.click("#apply")
    expect(tab.locator("#status")).to_contain_text("Recorded lab-2020")
    expect(tab.locator('#status a[href="/changesets/lab-2020"]')).to_be_visible()

    # The chart loads two levels below the roots; ams is on the second, lab below it.
    visit(tab, f"{server}/?at=2020-01-01")
    tab.locator(f"{node(tab, 'cdg')} .node-button-g").click()
    expect(tab.locator(f"{node(tab, 'ams')} .badge")).to_have_text("1")
    with tab.expect_request(lambda r: "root=ams" in r.url and "depth=1" in r.url):
        tab.locator(f"{node(tab, 'ams')} .node-button-g").click()
    expect(tab.locator(f"{node(tab, 'lab')} .name")).to_have_text("Lab")

    # Without a token on the server, the apply controls are not shown.
    def read_only(route: Route) -> None:
        answer = route.fetch()
        body = answer.text().replace('data-writable="true"', 'data-writable="false"')
        route.fulfill(response=answer, body=body)

    tab.route("**/plan", read_only)
    visit(tab, f"{server}/plan")
    expect(tab.locator("#apply")).to_be_hidden()
    expect(tab.locator("#token")).to_be_hidden()
    watch.assert_clean()


# -- stored text is never markup ----------------------------------------------------------


def test_stored_text_is_shown_as_text_everywhere(server: str, page: tuple[Page, Watch]) -> None:
    tab, watch = page
    request = urllib.request.Request(
        f"{server}/api/v1/changesets",
        data=XSS_PLAN.encode(),
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "text/yaml"},
        method="POST",
    )
    with urllib.request.urlopen(request) as answer:
        assert answer.status == 201

    def harmless() -> None:
        assert tab.locator("img[src=x]").count() == 0
        assert tab.locator("script:not([src])").count() == 0
        assert tab.locator('a[href^="javascript"]').count() == 0

    visit(tab, f"{server}/?at=2019-06-01&unit=xss-script")
    expect(tab.locator(f"{node(tab, 'xss-script')} .name")).to_have_text(SCRIPT)
    expect(tab.locator(f"{node(tab, 'xss-img')} .name")).to_have_text(IMG)
    expect(tab.locator(f"{node(tab, 'xss-script')} .kind")).to_have_text(f"<b>{SCRIPT}</b>")
    expect(tab.locator(f"{node(tab, 'xss-script')} .attr")).to_have_text(f"{IMG}: {SCRIPT}")
    expect(tab.locator("#chart text.connection-label").filter(has_text=IMG)).to_have_count(1)
    tab.fill("#q", "xss")
    expect(tab.locator("#results li")).to_have_count(2)
    expect(tab.locator("#results")).to_contain_text(SCRIPT)
    harmless()

    visit(tab, f"{server}/units/xss-script?lang=zh")
    expect(tab.locator("#title")).to_contain_text(IMG)
    expect(tab.locator("#facts")).to_contain_text(SCRIPT)
    harmless()

    visit(tab, f"{server}/units/xss-img")
    expect(tab.locator("#title")).to_contain_text(IMG)
    expect(tab.locator("#facts")).to_contain_text(IMG)  # the link's type
    harmless()

    visit(tab, f"{server}/log")
    expect(tab.locator('#log tr[data-changeset="xss-2019"]')).to_contain_text(f"{IMG} and {SCRIPT}")
    harmless()

    visit(tab, f"{server}/changesets/xss-2019")
    expect(tab.locator("#facts")).to_contain_text(f"{IMG} and {SCRIPT}")
    expect(tab.locator("#facts .sources")).to_contain_text("javascript:alert(1)")
    expect(tab.locator('#facts .sources a[href="https://example.org/ok"]')).to_be_visible()
    expect(tab.locator("#changes")).to_contain_text(SCRIPT)
    expect(tab.locator("#changes")).to_contain_text(IMG)
    expect(tab.locator(f"{node(tab, 'xss-script')} .card.added .name")).to_have_text(SCRIPT)
    tab.click("#ops summary")
    expect(tab.locator("#ops")).to_contain_text(IMG)
    harmless()
    watch.assert_clean()


PWN = "window.__pwned = 1"
PWNED_TEXTS = {
    "script": f"<script>{PWN}</script>",
    "img": f'<img src=x onerror="{PWN}">',
    "template": "{{constructor.constructor('window.__pwned = 1')()}} {{7*7}}",
    "rich": "[bold red]x[/] <svg onload=window.__pwned=1>",
}
PWN_PLAN = {
    "id": "pwn-2019",
    "title": PWNED_TEXTS["img"],
    "effective": "2019-07-01",
    "source": [f"javascript:{PWN}", PWNED_TEXTS["script"]],
    "notes": PWNED_TEXTS["template"],
    "ops": [
        {
            "create": f"pwn-{key}",
            "parent": "teg",
            "kind": PWNED_TEXTS["rich"],
            "names": {"en": text},
            "abbr": PWNED_TEXTS["img"],
            "notes": PWNED_TEXTS["script"],
            "source": f"javascript:{PWN}",
        }
        for key, text in PWNED_TEXTS.items()
    ],
}


def test_stored_text_executes_nothing(server: str, page: tuple[Page, Watch]) -> None:
    tab, watch = page
    request = urllib.request.Request(
        f"{server}/api/v1/changesets",
        data=json.dumps(PWN_PLAN).encode(),
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request) as answer:
        assert answer.status == 201

    def untouched() -> None:
        assert tab.evaluate("typeof window.__pwned") == "undefined"

    visit(tab, f"{server}/?at=2019-07-01&unit=pwn-img")
    for key, text in PWNED_TEXTS.items():
        expect(tab.locator(f"{node(tab, f'pwn-{key}')} .name")).to_have_text(text)
    expect(tab.locator(f"{node(tab, 'pwn-img')} .kind")).to_have_text(PWNED_TEXTS["rich"])
    tab.fill("#q", "pwn")
    expect(tab.locator("#results li")).to_have_count(len(PWNED_TEXTS))
    untouched()
    for key, text in PWNED_TEXTS.items():
        visit(tab, f"{server}/units/pwn-{key}")
        expect(tab.locator("#title")).to_contain_text(text)
        untouched()
    visit(tab, f"{server}/log")
    expect(tab.locator('#log tr[data-changeset="pwn-2019"]')).to_contain_text(PWNED_TEXTS["img"])
    untouched()
    visit(tab, f"{server}/changesets/pwn-2019")
    expect(tab.locator("#facts")).to_contain_text(PWNED_TEXTS["template"])
    expect(tab.locator("#facts .sources")).to_contain_text(f"javascript:{PWN}")
    assert tab.locator('a[href^="javascript"]').count() == 0
    tab.click("#ops summary")
    expect(tab.locator("#ops")).to_contain_text(PWNED_TEXTS["script"])
    untouched()
    watch.assert_clean()
