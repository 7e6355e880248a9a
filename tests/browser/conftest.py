"""Headless Chromium (Debian's package) driven by Playwright.

Without a Chromium the browser tests are skipped, unless ``LEADVAULT_REQUIRE_BROWSER`` is
set (CI sets it after installing the package), when they fail instead. Screenshots go to
``tests/output`` (or ``LEADVAULT_TEST_OUTPUT``), which CI keeps as an artifact."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
"""No background connections: the machine's network is closed, and the pages under test
must work without one."""


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


def output_folder() -> Path:
    folder = Path(
        os.environ.get("LEADVAULT_TEST_OUTPUT") or Path(__file__).resolve().parent.parent / "output"
    )
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[object]:
    executable = chromium_path()
    if executable is None:
        if os.environ.get("LEADVAULT_REQUIRE_BROWSER"):
            pytest.fail("LEADVAULT_REQUIRE_BROWSER is set but no chromium is installed")
        pytest.skip("no chromium here (Debian: apt-get install chromium)")
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        try:
            yield launched
        finally:
            await launched.close()


AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
"""axe-core 4.14.1 (npm ``axe-core``, ``axe.min.js``, unchanged; MPL-2.0), for the
accessibility checks. Tests inject it into a context that bypasses the page's policy."""


async def accessibility_violations(
    page: Any, *, disabled: dict[str, str] | None = None
) -> list[str]:
    """WCAG 2 A and AA violations axe finds on the page, as ``rule: target`` lines.
    ``disabled`` maps a rule to the reason it does not apply."""
    await page.add_script_tag(path=str(AXE))
    options = {
        "runOnly": ["wcag2a", "wcag2aa"],
        "rules": {rule: {"enabled": False} for rule in disabled or {}},
    }
    result = await page.evaluate("options => axe.run(document, options)", options)
    return [
        f"{violation['id']}: {node['target']}"
        for violation in result["violations"]
        for node in violation["nodes"]
    ]
