"""The development GraphiQL page, as a newcomer meets it: ``leadvault demo`` on a machine
with no internet, a token from ``leadvault dev token``, a query typed and run from the
keyboard in headless Chromium."""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser, ConsoleMessage, Request

from server.graphiql import PAGE_POLICY
from tests.browser.conftest import accessibility_violations, output_folder
from tests.running_demo import Demo, running_demo


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    with running_demo(tmp_path_factory.mktemp("graphiql") / "data") as started:
        yield started


async def test_graphiql_loads_offline_and_runs_a_query_as_a_signed_in_user(
    demo: Demo, browser: Browser
) -> None:
    token = demo.leadvault("dev", "token", "sales_manager")
    assert token.returncode == 0, token.stderr
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    page = await context.new_page()
    problems: list[str] = []
    elsewhere: list[str] = []

    def console(message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            problems.append(message.text)

    def request(sent: Request) -> None:
        if urlsplit(sent.url).netloc != f"127.0.0.1:{demo.port}" and sent.url != "data:,":
            elsewhere.append(sent.url)

    page.on("console", console)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("request", request)

    response = await page.goto(demo.url, wait_until="networkidle")
    assert response is not None
    assert response.headers["content-security-policy"] == PAGE_POLICY
    await page.get_by_role("button", name="Headers", exact=True).click()
    await (
        page.get_by_role("region", name="Headers")
        .locator(".graphiql-editor:not(.hidden) .CodeMirror")
        .click()
    )
    await page.keyboard.insert_text(json.dumps({"Authorization": f"Bearer {token.stdout.strip()}"}))
    await page.locator(".graphiql-query-editor .CodeMirror").click()
    async with page.expect_response(
        lambda answer: "WhoAmI" in (answer.request.post_data or "")
    ) as answered:
        await page.keyboard.press("Control+Enter")
    answer = await (await answered.value).json()
    await page.locator(".graphiql-response").get_by_text('"SALES_MANAGER"').wait_for()
    await page.screenshot(path=str(output_folder() / "graphiql.png"))
    await context.close()

    assert answer["data"]["me"]["account"]["role"] == "SALES_MANAGER"
    assert elsewhere == []
    assert problems == []


async def test_graphiql_passes_an_accessibility_check(demo: Demo, browser: Browser) -> None:
    context = await browser.new_context(bypass_csp=True)  # to inject the checker only
    page = await context.new_page()
    await page.goto(demo.url, wait_until="networkidle")
    await page.locator(".graphiql-query-editor textarea[aria-label='Query']").wait_for(
        state="attached"
    )

    violations = await accessibility_violations(
        page,
        disabled={
            "scrollable-region-focusable": "the editor's scroller moves with the caret of "
            "its text area, which takes focus; axe cannot see that",
        },
    )
    await context.close()

    assert violations == []


async def test_the_page_loads_nothing_but_its_own_files(demo: Demo) -> None:
    import re

    import httpx

    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{demo.port}") as http:
        page = await http.get("/graphql", headers={"Accept": "text/html"})
        sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assert sources
        for source in sources:
            if source == "data:,":
                continue
            assert source.startswith("/graphiql/")
            asset = await http.get(source)
            assert asset.status_code == 200
            assert asset.headers["content-security-policy"].startswith("default-src 'none'")
        assert (await http.get("/graphiql/graphiql.min.js.map")).status_code == 404
        assert (await http.get("/graphiql/..%2Fapp.py")).status_code == 404
