"""Re-create the screenshots of the web app in this folder (1280x800 PNG).

    python docs/images/capture.py

Builds the Tencent example in a temporary folder, serves it on a free local port
and photographs each page with headless Chromium (set CHROMIUM to another binary
if it is not at /usr/bin/chromium). The tests do not run this.
"""

from __future__ import annotations

import os
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn
from playwright.sync_api import Page, sync_playwright

from orgledger.demo import build
from orgledger.web import create_app

HERE = Path(__file__).resolve().parent
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SIZE = {"width": 1280, "height": 800}
PLAN = """\
id: move-qq-to-csig
title: QQ moves to CSIG, a cloud lab is set up under TEG
effective: 2019-03-01
ops:
  - move: qq
    to: csig
  - create: cloud-lab
    parent: teg
    kind: department
    names: {en: Cloud Lab, zh: 云实验室}
  - rename: qzone
    names: {en: Qzone Social}
"""


@contextmanager
def serving() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "tencent.db"
        build(path).ledger.close()
        app = create_app(path, "capture-token")
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("the web server did not start")
            time.sleep(0.02)
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            server.should_exit = True
            thread.join(timeout=10)
            app.state.ledger.close()


def settle(page: Page, ms: int = 900) -> None:
    """Let the chart finish its transitions."""
    page.wait_for_timeout(ms)


def chart(page: Page) -> None:
    page.locator('#chart g.node[data-id="pcg"] .node-button-g').click()
    page.locator('#chart g.node[data-id="csig"] .node-button-g').click()
    settle(page)
    page.click("#fit")
    settle(page)


def chart_zh(page: Page) -> None:
    settle(page, 1200)


def changeset(page: Page) -> None:
    page.locator("#changes li").first.wait_for()


def unit(page: Page) -> None:
    page.locator("#lineage svg").wait_for()
    page.locator("#history li").first.wait_for()


def log(page: Page) -> None:
    page.locator("#log tbody tr").first.wait_for()


def plan(page: Page) -> None:
    page.fill("#plan-text", PLAN)
    page.click("#preview")
    page.locator("#changes li.moved").wait_for()
    settle(page)


SHOTS: list[tuple[str, str, Callable[[Page], None]]] = [
    ("chart.png", "/?at=2018-09-30&lang=en", chart),
    ("chart-zh.png", "/?at=2018-09-30&lang=zh&unit=csig", chart_zh),
    ("changeset.png", "/changesets/tencent-2018-09-30?lang=en", changeset),
    ("unit.png", "/units/sng?lang=en", unit),
    ("log.png", "/log?lang=en", log),
    ("plan.png", "/plan?lang=en", plan),
]


def main() -> None:
    with serving() as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        for name, path, prepare in SHOTS:
            page = browser.new_page(viewport=SIZE)
            page.goto(base + path)
            page.wait_for_load_state("networkidle")
            settle(page)
            prepare(page)
            page.screenshot(path=HERE / name)
            page.close()
            print(f"wrote {name}")
        browser.close()


if __name__ == "__main__":
    main()
