"""Shared pieces of the browser tests: Playwright driving Debian's Chromium (headless) against uvicorn.

Chromium comes from the distribution (`apt-get install chromium`), never from `playwright install`;
a module that uses these marks its tests with ``pytestmark = needs_chromium`` and they are skipped,
saying so, only when /usr/bin/chromium is absent. The ``browser`` and ``page`` fixtures live in
tests/web/conftest.py.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.web.conftest import ARTIFACTS, DOCS, PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

needs_chromium = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's Chromium is not installed (apt-get install chromium)"),
]


def sign_in(page, username: str, password: str = PASSWORD) -> None:
    """Log in through the form and land on the start page (the nav bar shows who is signed in)."""
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url("**/")
    page.wait_for_selector("header .who")


def screenshot(page, name: str, *, min_bytes: int = 20_000) -> Path:
    """Save a full-page screenshot under tests/artifacts; copy it to docs/ when SRDI_UPDATE_SCREENSHOTS is set."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / name
    page.screenshot(path=str(shot), full_page=True)
    if os.environ.get("SRDI_UPDATE_SCREENSHOTS"):  # refresh the README's pictures only when asked
        DOCS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, DOCS / name)
    assert shot.stat().st_size > min_bytes
    return shot
