"""The report in a real browser: Debian's Chromium, driven by Playwright, opens the file offline.

Every image must decode, the console must stay free of errors, no request may leave the file, and
a hostile study name must not run. A full-page screenshot is saved to $ADAMTUNE_TEST_ARTIFACTS
(else the test's tmp_path) for a person to look at.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from test_report import synthetic_study

from adamtune.report import write_report

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS_ENV = "ADAMTUNE_TEST_ARTIFACTS"
HOW = (
    "install Debian's Chromium (`apt-get install chromium`) and Playwright's Python package "
    "(`pip install playwright`; no `playwright install`: the test drives /usr/bin/chromium)"
)
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
STUDY = "digits <script>alert(1)</script>"
_IMAGES_JS = """() => Array.from(document.images, (img) => ({
    alt: img.alt, complete: img.complete, width: img.naturalWidth, height: img.naturalHeight,
}))"""


def _sync_playwright() -> Any:
    if not CHROMIUM.is_file():
        pytest.skip(f"no browser at {CHROMIUM}: {HOW}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip(f"the playwright package is not installed: {HOW}")
    return sync_playwright


def _artifacts(tmp_path: Path) -> Path:
    folder = Path(os.environ.get(ARTIFACTS_ENV) or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_report_renders_in_chromium(tmp_path: Path) -> None:
    sync_playwright = _sync_playwright()
    result = synthetic_study(f"sqlite:///{tmp_path}/b.db", STUDY)
    report = write_report(result, tmp_path / "report.html")
    artifacts = _artifacts(tmp_path)
    shot = artifacts / "report.png"

    console: list[tuple[str, str]] = []
    errors: list[str] = []
    requests: list[str] = []
    dialogs: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            page.on("console", lambda m: console.append((m.type, m.text)))
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on("request", lambda r: requests.append(r.url))
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.goto(report.resolve().as_uri(), wait_until="load")
            images = page.evaluate(_IMAGES_JS)
            sections = page.locator("main > section").count()
            title = page.title()
            heading = page.locator("h1").inner_text()
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    if artifacts != tmp_path:
        shutil.copy(report, artifacts / "report.html")
    print(f"report screenshot: {shot}")

    assert len(images) == 6, images
    for image in images:
        assert image["complete"] and image["width"] > 0 and image["height"] > 0, image
    assert not errors, errors
    assert not [text for kind, text in console if kind == "error"], console
    assert not dialogs, f"a script ran: {dialogs}"
    assert requests and all(url.startswith(("file://", "data:")) for url in requests), requests
    assert sections == 7
    assert title == f"adamtune report: {STUDY}"
    assert STUDY in heading  # shown as text, not run
    assert shot.stat().st_size > 10_000
