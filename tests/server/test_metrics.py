"""``/metrics``: protected by its token (absent in production without one), labelled only
with names from fixed sets, and never a personal value after a real session."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from compliance.outbox import enqueue
from compliance.runner import Job, RunProgress, run_once
from core import metrics
from crypto.vault import current_vault
from identity import api_keys, totp
from identity.roles import Role
from identity.scopes import ApiScope
from server.settings import Environment, Secret
from tests.builders import a_lead, bearer, graphql, session_token
from tests.conftest import app_client, make_settings
from tests.identity.conftest import an_enrolled_user

TOKEN = "metrics-token-for-tests-0123456789"


@pytest.fixture
async def protected() -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(make_settings(Environment.PROD, metrics_token=Secret(TOKEN))) as http:
        yield http


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


async def scrape(client: httpx.AsyncClient) -> str:
    response = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


def requests_of(text: str, operation: str, outcome: str) -> float:
    key = ("leadvault_graphql_requests_total", (("operation", operation), ("outcome", outcome)))
    return samples(text).get(key, 0.0)


async def test_production_without_a_token_has_no_metrics_endpoint() -> None:
    async with app_client(make_settings(Environment.PROD)) as http:
        assert (await http.get("/metrics")).status_code == 404


async def test_the_endpoint_refuses_a_missing_or_wrong_token(
    protected: httpx.AsyncClient,
) -> None:
    assert (await protected.get("/metrics")).status_code == 401
    wrong = await protected.get("/metrics", headers={"Authorization": "Bearer not-the-token-000"})
    assert wrong.status_code == 401
    assert TOKEN not in wrong.text
    assert (await protected.get("/metrics", headers=bearer(TOKEN))).status_code == 200


async def test_requests_are_counted_by_operation_and_outcome(
    protected: httpx.AsyncClient,
) -> None:
    user = await an_enrolled_user(Role.SALES_MANAGER)
    token = await session_token(user.user)
    before = await scrape(protected)

    await graphql(protected, "query Mine { leads(first: 1) { totalCount } }", token=token)
    await graphql(protected, "{ leads(first: 1) { totalCount nope } }", token=token)
    await graphql(protected, "{ leads(first: 1) { totalCount } }")  # anonymous
    after = await scrape(protected)

    assert requests_of(after, "query:leads", "ok") == requests_of(before, "query:leads", "ok") + 1
    assert requests_of(after, "invalid", "invalid") >= 1
    assert requests_of(after, "query:leads", "unauthenticated") >= 1
    duration = ("leadvault_graphql_request_duration_seconds_count", (("operation", "query:leads"),))
    assert samples(after)[duration] >= 2
    assert "Mine" not in after  # an operation's name is the client's text: never a label


async def test_operation_labels_are_capped_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(metrics, "_seen", set())
    labels = [metrics.operation_label("query", [f"field{n}"]) for n in range(150)]

    assert len(set(labels)) == metrics.MAX_OPERATIONS + 1
    assert labels[-1] == "query:other"
    assert metrics.operation_label("query", ["not a name"]) == "query:other"
    assert metrics.operation_label("drop", ["leads"]) == "unknown"


async def test_audit_appends_jobs_outbox_and_refusals_are_measured(
    protected: httpx.AsyncClient,
) -> None:
    before = samples(await scrape(protected))

    async def sample_job(progress: RunProgress) -> dict[str, int]:
        return {"changed": 1}

    await run_once(Job("metrics-sample", timedelta(minutes=1), sample_job))
    lead = await a_lead()
    key = (await current_vault().subject_keys([lead.id]))[lead.id]
    await enqueue(lead.id, key, "welcome", "someone@example.com", "Hello", datetime.now(UTC))
    for _ in range(12):  # the sign-in throttle refuses after repeated failures
        await graphql(
            protected,
            'mutation { login(email: "nobody@staff.example", password: "wrong") { __typename } }',
        )
    after = samples(await scrape(protected))

    job = ("leadvault_job_runs_total", (("job", "metrics-sample"), ("outcome", "succeeded")))
    assert after[job] == before.get(job, 0) + 1
    appends = ("leadvault_audit_append_duration_seconds_count", ())
    assert after[appends] > before.get(appends, 0)
    assert after[("leadvault_outbox_backlog", ())] == 1
    assert after[("leadvault_job_running", (("job", "consent"),))] == 0
    refusals = ("leadvault_rate_limit_refusals_total", (("limit", "sign_in_attempts"),))
    assert after[refusals] > before.get(refusals, 0)


async def test_no_personal_value_appears_after_a_scripted_session(
    protected: httpx.AsyncClient,
) -> None:
    account = await an_enrolled_user(Role.SALES_MANAGER)
    personal = {
        "email": "ada.lovelace@engines.example",
        "first": "Augusta",
        "last": "Byronsdottir",
        "phone": "+442079460123",
        "company": "Analytical Engines Ltd",
    }
    issued = await api_keys.issue("website", [ApiScope.LEADS_CAPTURE], None, datetime.now(UTC))
    captured = await graphql(
        protected,
        """mutation ($input: CaptureLeadInput!) { captureLead(input: $input) {
          __typename ... on CapturePayload { lead { id } } } }""",
        {
            "input": {
                "lead": {
                    "email": personal["email"],
                    "firstName": personal["first"],
                    "lastName": personal["last"],
                    "phone": personal["phone"],
                    "companyName": personal["company"],
                },
                "formId": "pricing-form",
            }
        },
        token=issued.token,
    )
    lead_id = captured["data"]["captureLead"]["lead"]["id"]
    login = await graphql(
        protected,
        "mutation ($e: String!, $p: String!) { login(email: $e, password: $p) "
        "{ __typename ... on MfaChallenge { challengeToken } } }",
        {"e": account.user.email, "p": account.password},
    )
    challenge = login["data"]["login"]["challengeToken"]
    code = totp.code_for(account.secret, totp.step_at(datetime.now(UTC)))
    signed = await graphql(
        protected,
        "mutation ($c: String!) { verifyMfa(code: $c) { ... on SignedIn { token } } }",
        {"c": code},
        token=challenge,
    )
    session = signed["data"]["verifyMfa"]["token"]
    listed = await graphql(
        protected,
        "query AdaLovelacesLead { leads(first: 5) "
        "{ edges { node { email firstName lastName phone companyName } } } }",
        token=session,
    )
    await graphql(protected, f'{{ lead(id: "{lead_id}") {{ email phone }} }}', token=session)
    await graphql(
        protected,
        "mutation ($e: String!) { login(email: $e, password: $e) { __typename } }",
        {"e": personal["email"]},
    )

    text = await scrape(protected)

    assert "errors" not in listed or listed["errors"] is None, listed
    assert requests_of(text, "mutation:captureLead", "ok") >= 1
    secrets = [
        *personal.values(),
        personal["email"].split("@")[0],
        account.user.email,
        account.password,
        account.secret,
        code,
        session,
        challenge,
        issued.token,
        "AdaLovelace",
        lead_id,
    ]
    leaked = [value for value in secrets if value.lower() in text.lower()]
    assert leaked == []
