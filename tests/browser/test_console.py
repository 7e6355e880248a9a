"""The console in headless Chromium, by keyboard alone, at 1280 and 390 pixels wide: an
auditor signs in with the demo's password and a TOTP code, filters the audit events, opens
one and verifies the chain. Every page passes an accessibility check and is saved as a
screenshot in ``tests/output``."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.async_api import Browser, Page

from identity import clock, totp
from server.console.pages import PAGE_POLICY
from tests.browser.conftest import accessibility_violations, output_folder
from tests.running_demo import Demo, running_demo

WIDTHS = {"wide": 1280, "narrow": 390}
MAX_TABS = 40


@pytest.fixture(scope="module")
def outbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("outbox")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, outbox: Path) -> Iterator[Demo]:
    folder = tmp_path_factory.mktemp("console") / "data"
    with running_demo(folder, outbox_dir=str(outbox), outbox_interval_seconds="1") as started:
        yield started


def demo_account(demo: Demo, role: str) -> tuple[str, str, str]:
    """Email, password and TOTP secret of the demo's account for ``role``, as its banner
    prints them."""
    log = (demo.log).read_text()
    found = re.search(
        rf"{role}\s+(\S+@\S+)\s+password (\S+)\s+TOTP secret (\S+)", log, flags=re.MULTILINE
    )
    assert found, log[-2000:]
    return found.group(1), found.group(2), found.group(3)


async def tab_to(page: Page, label: str) -> None:
    """Press Tab until the focused element is the one labelled ``label``."""
    for _ in range(MAX_TABS):
        await page.keyboard.press("Tab")
        focused = await page.evaluate(
            """() => { const e = document.activeElement;
                 if (!e) return '';
                 const byLabel = e.labels && e.labels.length ? e.labels[0].innerText : '';
                 return (byLabel || e.getAttribute('aria-label') || e.innerText || '').trim(); }"""
        )
        if focused == label:
            return
    raise AssertionError(f"{label!r} cannot be reached with Tab")


async def check(page: Page, name: str, problems: list[str]) -> None:
    """Screenshots at both widths, and an accessibility check of the page as it is."""
    for width_name, width in WIDTHS.items():
        await page.set_viewport_size({"width": width, "height": 900})
        await page.screenshot(
            path=str(output_folder() / f"console-{name}-{width_name}.png"), full_page=True
        )
        scroll = await page.evaluate("document.documentElement.scrollWidth")
        if scroll > width:
            problems.append(f"{name} at {width}px scrolls sideways ({scroll}px)")
    await page.set_viewport_size({"width": WIDTHS["wide"], "height": 900})
    problems += [f"{name}: {v}" for v in await accessibility_violations(page)]


async def test_an_auditor_filters_events_and_verifies_the_chain_by_keyboard(
    demo: Demo, browser: Browser
) -> None:
    email, password, _ = demo_account(demo, "auditor")
    context = await browser.new_context(bypass_csp=True)  # to inject the checker only
    page = await context.new_page()
    elsewhere: list[str] = []
    errors: list[str] = []
    page.on(
        "request",
        lambda sent: (
            elsewhere.append(sent.url)
            if urlsplit(sent.url).netloc != f"127.0.0.1:{demo.port}"
            else None
        ),
    )
    page.on("pageerror", lambda error: errors.append(str(error)))
    problems: list[str] = []
    base = f"http://127.0.0.1:{demo.port}"

    first = await page.goto(f"{base}/console/", wait_until="networkidle")
    assert first is not None
    assert page.url == f"{base}/console/sign-in"
    assert first.headers["content-security-policy"] == PAGE_POLICY
    await check(page, "sign-in", problems)
    await tab_to(page, "Email")
    await page.keyboard.type(email)
    await tab_to(page, "Password")
    await page.keyboard.type(password)
    await page.keyboard.press("Enter")
    await page.wait_for_url(f"{base}/console/sign-in/code")
    await check(page, "code", problems)
    await tab_to(page, "Code from your authenticator app")
    await page.keyboard.type(one_time_code(demo, "auditor"))
    await page.keyboard.press("Enter")
    await page.wait_for_url(f"{base}/console/")
    await check(page, "home", problems)

    await tab_to(page, "Audit events")
    await page.keyboard.press("Enter")
    await page.wait_for_url(f"{base}/console/audit")
    await tab_to(page, "Action starts with")
    await page.keyboard.type("auth.")
    await tab_to(page, "Search")
    await page.keyboard.press("Enter")
    await page.wait_for_url(re.compile(r".*/console/audit\?.*action=auth\..*"))
    rows = page.locator("tbody tr")
    assert await rows.count() > 0
    actions = await page.locator("tbody tr td:nth-child(3)").all_inner_texts()
    assert all(a.startswith("auth.") for a in actions), actions
    assert any("console" in a for a in actions)  # this sign-in, marked as the console's
    await check(page, "audit-events", problems)

    first_event = await page.locator("tbody tr td:first-child a").first.inner_text()
    await tab_to(page, f"Event {first_event}")
    await page.keyboard.press("Enter")
    await page.wait_for_url(f"{base}/console/audit/events/{first_event}")
    await check(page, "audit-event", problems)

    await page.goto(f"{base}/console/audit/verify", wait_until="networkidle")
    await tab_to(page, "Verify the chain now")
    await page.keyboard.press("Enter")
    await page.get_by_role("status").get_by_text("The chain is intact").wait_for()
    await check(page, "verification", problems)
    await context.close()

    assert problems == []
    assert elsewhere == []
    assert errors == []


async def test_a_sales_rep_gets_the_403_page(demo: Demo, browser: Browser) -> None:
    email, password, _ = demo_account(demo, "sales_rep")
    context = await browser.new_context()
    page = await context.new_page()
    base = f"http://127.0.0.1:{demo.port}"
    await page.goto(f"{base}/console/sign-in")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Continue").click()
    await page.get_by_label("Code from your authenticator app").fill(
        one_time_code(demo, "sales_rep")
    )
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(f"{base}/console/")

    refused: Any = await page.goto(f"{base}/console/audit")

    assert refused.status == 403
    await page.get_by_role("heading", name="Not for your role").wait_for()
    await context.close()


def one_time_code(demo: Demo, role: str) -> str:
    """A code the account can use now, as a newcomer gets one (``leadvault dev code``)."""
    printed = demo.leadvault("dev", "code", role)
    assert printed.returncode == 0, printed.stderr
    return printed.stdout.strip()


async def sign_in_by_keyboard(page: Page, demo: Demo, role: str) -> None:
    base = f"http://127.0.0.1:{demo.port}"
    email, password, _ = demo_account(demo, role)
    await page.goto(f"{base}/console/sign-in", wait_until="networkidle")
    await tab_to(page, "Email")
    await page.keyboard.type(email)
    await tab_to(page, "Password")
    await page.keyboard.type(password)
    await page.keyboard.press("Enter")
    await page.wait_for_url(f"{base}/console/sign-in/code")
    await tab_to(page, "Code from your authenticator app")
    await page.keyboard.type(one_time_code(demo, role))
    await page.keyboard.press("Enter")
    await page.wait_for_url(f"{base}/console/")


async def test_an_admin_creates_an_account_and_its_owner_enrols_by_keyboard(
    demo: Demo, browser: Browser
) -> None:
    base = f"http://127.0.0.1:{demo.port}"
    problems: list[str] = []
    admin = await browser.new_context(bypass_csp=True)
    page = await admin.new_page()
    await sign_in_by_keyboard(page, demo, "admin")
    await tab_to(page, "Staff accounts")
    await page.keyboard.press("Enter")
    await page.wait_for_url(f"{base}/console/admin/users")
    await check(page, "staff-accounts", problems)
    await tab_to(page, "Email")
    await page.keyboard.type("new.officer@staff.example")
    await tab_to(page, "Name")
    await page.keyboard.type("New Officer")
    await tab_to(page, "Role")
    await page.keyboard.type("compliance")  # selects "compliance officer"
    await tab_to(page, "Create account")
    await page.keyboard.press("Enter")
    await page.get_by_role(
        "heading", name="Enrolment code for new.officer@staff.example"
    ).wait_for()
    code = await page.get_by_label("Enrolment code").input_value()
    await check(page, "enrolment-code", problems)
    await admin.close()

    newcomer = await browser.new_context(bypass_csp=True)
    page = await newcomer.new_page()
    await page.goto(f"{base}/console/enrol", wait_until="networkidle")
    await check(page, "enrol", problems)
    await tab_to(page, "Enrolment code")
    await page.keyboard.type(code)
    await tab_to(page, "New password")
    await page.keyboard.type("a long new passphrase")
    await page.keyboard.press("Enter")
    await page.get_by_role("img", name="QR code holding your authenticator key").wait_for()
    await check(page, "enrol-qr", problems)
    secret = await page.locator("code.secret").inner_text()
    await tab_to(page, "The code your app shows now")
    await page.keyboard.type(totp.code_for(secret, totp.step_at(clock.now())))
    await page.keyboard.press("Enter")
    await page.get_by_role("heading", name="Your account is ready").wait_for()
    assert await page.locator("ul.codes li").count() == 10
    await check(page, "recovery-codes", problems)
    await newcomer.close()

    assert problems == []


async def test_a_compliance_officer_logs_a_request_and_finds_it_in_the_queue(
    demo: Demo, browser: Browser
) -> None:
    base = f"http://127.0.0.1:{demo.port}"
    problems: list[str] = []
    context = await browser.new_context(bypass_csp=True)
    page = await context.new_page()
    await sign_in_by_keyboard(page, demo, "compliance_officer")
    await tab_to(page, "New request")
    await page.keyboard.press("Enter")
    await page.wait_for_url(f"{base}/console/requests/new")
    await check(page, "request-new", problems)
    await tab_to(page, "Kind of request")
    await page.keyboard.type("erasure")
    await tab_to(page, "Jurisdiction")
    await page.keyboard.type("GDPR")
    await tab_to(page, "Requester's email")
    await page.keyboard.type("walkthrough.requester@example.org")
    await tab_to(page, "Log the request")
    await page.keyboard.press("Enter")
    await page.get_by_role("heading", name="Erasure request").wait_for()
    assert "walkthrough.requester" not in await page.content()
    await check(page, "request-detail", problems)
    await tab_to(page, "Show the requester's contact")
    await page.keyboard.press("Enter")
    await page.get_by_text("walkthrough.requester@example.org").wait_for()

    await page.goto(f"{base}/console/requests", wait_until="networkidle")
    await check(page, "request-queue", problems)
    assert "walkthrough.requester" not in await page.content()
    await tab_to(page, "Include unverified requests")
    await page.keyboard.press("Space")
    await tab_to(page, "Filter")
    await page.keyboard.press("Enter")
    await page.wait_for_url(re.compile(r".*unverified=1.*"))
    assert await page.locator("tbody tr").count() >= 1
    assert "walkthrough.requester" not in await page.content()
    await context.close()

    assert problems == []


def identity_code(outbox: Path, recipient: str) -> str:
    """The code in the identity message the demo delivered to ``recipient`` (the demo
    writes each outgoing message to a file; it delivers every second here)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # bounded: the outbox job runs every second
        for path in outbox.glob("*.json"):
            message = json.loads(path.read_text())
            if message["to"] == recipient and message["template"] == "dsr_identity_code":
                found = re.search(r"\b(\d{6})\b", message["body"])
                assert found, message["template"]
                return found.group(1)
        time.sleep(0.2)
    raise AssertionError("no identity code was delivered")


CREATE_LEAD = """mutation ($input: NewLeadInput!) { createLead(input: $input) {
  __typename ... on LeadPayload { lead { id } } } }"""


async def test_a_compliance_officer_erases_a_person_and_the_certificate_verifies(
    demo: Demo, browser: Browser, outbox: Path, tmp_path: Path
) -> None:
    base = f"http://127.0.0.1:{demo.port}"
    email = "erase.walkthrough@example.org"
    token = demo.leadvault("dev", "token", "sales_manager")
    assert token.returncode == 0, token.stderr
    async with httpx.AsyncClient() as http:
        answer = await http.post(
            f"{base}/graphql",
            json={
                "query": CREATE_LEAD,
                "variables": {"input": {"email": email, "source": "WEB_FORM"}},
            },
            headers={"Authorization": f"Bearer {token.stdout.strip()}"},
        )
    created = answer.json()
    assert created["data"]["createLead"]["__typename"] == "LeadPayload", created
    problems: list[str] = []
    context = await browser.new_context(bypass_csp=True, accept_downloads=True)
    page = await context.new_page()
    await sign_in_by_keyboard(page, demo, "compliance_officer")
    await page.goto(f"{base}/console/requests/new", wait_until="networkidle")
    await tab_to(page, "Kind of request")
    await page.keyboard.type("erasure")
    await tab_to(page, "Jurisdiction")
    await page.keyboard.type("GDPR")
    await tab_to(page, "Requester's email")
    await page.keyboard.type(email)
    await tab_to(page, "Log the request")
    await page.keyboard.press("Enter")
    await page.get_by_role("heading", name="Erasure request").wait_for()

    await tab_to(page, "Send an identity code")
    await page.keyboard.press("Enter")
    await page.get_by_role("status").get_by_text("A new identity code was sent").wait_for()
    await tab_to(page, "The code the requester read back")
    await page.keyboard.type(identity_code(outbox, email))
    await page.keyboard.press("Enter")
    await page.get_by_role("status").get_by_text("identity is verified").wait_for()
    await tab_to(page, "Submit the erasure for approval")
    await page.keyboard.press("Enter")
    await page.get_by_role("status").get_by_text("waits for approval").wait_for()
    await check(page, "request-approval", problems)
    await tab_to(page, "Your authenticator code, to confirm")
    await page.keyboard.type(one_time_code(demo, "compliance_officer"))
    await page.keyboard.press("Enter")
    await page.get_by_role("status").get_by_text("approved and has run").wait_for()
    await page.get_by_text("The certificate's signature is valid").wait_for()
    await check(page, "request-certificate", problems)
    async with page.expect_download() as downloading:
        await tab_to(page, "Download the certificate (JSON)")
        await page.keyboard.press("Enter")
    saved = tmp_path / "certificate.json"
    await (await downloading.value).save_as(saved)
    await context.close()

    checked = demo.leadvault("dsr", "verify-certificate", str(saved))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert email not in saved.read_text()
    assert problems == []


@pytest.mark.parametrize(
    ("role", "paths"),
    [
        ("auditor", ["/console/audit/subjects", "/console/audit/export", "/console/policy"]),
        (
            "compliance_officer",
            [
                "/console/requests",
                "/console/holds",
                "/console/retention",
                "/console/record-of-processing",
                "/console/consent-report",
            ],
        ),
        ("admin", ["/console/admin/keys"]),
    ],
)
async def test_every_other_page_passes_the_accessibility_check(
    demo: Demo, browser: Browser, role: str, paths: list[str]
) -> None:
    base = f"http://127.0.0.1:{demo.port}"
    context = await browser.new_context(bypass_csp=True)
    page = await context.new_page()
    await sign_in_by_keyboard(page, demo, role)
    problems: list[str] = []
    for path in paths:
        answer = await page.goto(f"{base}{path}", wait_until="networkidle")
        assert answer is not None
        assert answer.status == 200, path
        await check(page, path.strip("/").replace("/", "-"), problems)
    await context.close()
    assert problems == []


async def test_an_admin_registers_a_webhook_endpoint_by_keyboard(
    demo: Demo, browser: Browser
) -> None:
    base = f"http://127.0.0.1:{demo.port}"
    problems: list[str] = []
    context = await browser.new_context(bypass_csp=True)
    page = await context.new_page()
    await sign_in_by_keyboard(page, demo, "admin")
    await tab_to(page, "Webhooks")
    await page.keyboard.press("Enter")
    await page.wait_for_url(f"{base}/console/admin/webhooks")
    await check(page, "webhooks", problems)
    await tab_to(page, "URL (https)")
    await page.keyboard.type("http://127.0.0.1:9/hooks/crm")
    await tab_to(page, "Description")
    await page.keyboard.type("CRM sync")
    await tab_to(page, "lead.stage_changed")
    await page.keyboard.press("Space")
    await tab_to(page, "Register endpoint")
    await page.keyboard.press("Enter")
    await page.get_by_role("heading", name="Secret for “CRM sync”").wait_for()
    assert (await page.get_by_label("Secret").input_value()).startswith("whsec_")
    await check(page, "webhook-secret", problems)
    await tab_to(page, "Back to the endpoint")
    await page.keyboard.press("Enter")
    await page.get_by_role("heading", name="CRM sync").wait_for()
    assert "lead.stage_changed" in await page.locator("dl.facts").inner_text()
    await check(page, "webhook-endpoint", problems)
    await tab_to(page, "Disable endpoint")
    await page.keyboard.press("Enter")
    await page.get_by_role("button", name="Enable endpoint").wait_for()
    await context.close()

    assert problems == []
