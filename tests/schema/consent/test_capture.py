"""Lead capture through an API key: one transaction for the lead, its activity and its
consent; duplicates merged by blind index; Global Privacy Control; double opt-in; the
suppression list."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from audit.models import AuditEvent
from compliance.consent import suppression
from compliance.consent.config import ConsentConfig, consent_config, install_consent_config
from compliance.consent.models import ConsentConfirmation, ConsentState
from compliance.consent.purposes import (
    EMAIL_MARKETING,
    THIRD_PARTY_SHARING,
    Purposes,
    install_purposes,
    purposes,
)
from compliance.models import OutboxMessage
from compliance.outbox import open_message
from crypto.blind_index import IndexKind
from identity import api_keys
from identity.roles import Role
from identity.scopes import ApiScope
from leads.enums import ActivityType
from leads.models import Activity, Lead
from schema.access import report
from tests.builders import a_staff_user, a_team, bearer, clear_value, session_token

CAPTURE = """mutation ($input: CaptureLeadInput!) { captureLead(input: $input) {
  __typename
  ... on CapturePayload { lead { id } created awaitingConfirmation optedOutByGpc ignoredGrants }
  ... on ValidationErrors { errors { field code } }
  ... on SuppressedContact { message }
} }"""
CONFIRM = """mutation ($token: String!) { confirmConsent(token: $token) {
  __typename ... on ConsentConfirmed { purpose } ... on InvalidLink { message } } }"""


async def _capture_key(*scopes: ApiScope) -> str:
    issued = await api_keys.issue(
        "website", list(scopes or (ApiScope.LEADS_CAPTURE,)), None, datetime.now(UTC)
    )
    return issued.token


def _input(email: str = "Ada@Example.com", **extra: Any) -> dict[str, Any]:
    return {
        "lead": {"email": email, "firstName": "Ada", "companyName": "Engines"},
        "formId": "pricing-form",
        "consents": [{"purpose": EMAIL_MARKETING, "granted": True}],
        **extra,
    }


async def _post(
    client: httpx.AsyncClient, token: str, data: dict[str, Any], **headers: str
) -> dict[str, Any]:
    response = await client.post(
        "/graphql",
        json={"query": CAPTURE, "variables": {"input": data}},
        headers={**bearer(token), "User-Agent": "FormBrowser/1.0", **headers},
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()["data"]["captureLead"]
    return result


async def _states(lead_id: str) -> dict[str, str]:
    return {s.purpose: s.status for s in await ConsentState.filter(lead_id=lead_id)}


async def test_a_capture_creates_the_lead_its_activity_and_its_consent_together(
    anonymous_client: httpx.AsyncClient,
) -> None:
    key = await _capture_key()

    result = await _post(anonymous_client, key, _input())

    assert result["__typename"] == "CapturePayload"
    assert result["created"] is True
    lead = await Lead.get(id=result["lead"]["id"])
    assert await clear_value(lead, "email") == "ada@example.com"
    activity = await Activity.get(lead_id=lead.id)
    assert activity.type is ActivityType.FORM_SUBMIT
    assert activity.details == {"form_id": "pricing-form"}
    states = await _states(result["lead"]["id"])
    assert states[EMAIL_MARKETING] == "granted"
    assert {p.name for p in purposes() if p.basis.value != "consent"} <= set(states)
    assert THIRD_PARTY_SHARING not in states
    actions = set(await AuditEvent.all().values_list("action", flat=True))
    assert {"lead.created", "consent.granted"} <= actions


async def test_a_second_capture_of_the_same_email_updates_the_same_lead(
    anonymous_client: httpx.AsyncClient,
) -> None:
    key = await _capture_key()
    first = await _post(anonymous_client, key, _input())

    again = _input("  ada@EXAMPLE.com ")
    again["lead"]["lastName"] = "Lovelace"
    second = await _post(anonymous_client, key, again)

    assert second["created"] is False
    assert second["lead"]["id"] == first["lead"]["id"]
    assert await Lead.all().count() == 1
    lead = await Lead.get(id=first["lead"]["id"])
    assert await clear_value(lead, "last_name") == "Lovelace"
    assert await Activity.filter(lead_id=lead.id).count() == 2


async def test_a_gpc_signal_opts_out_of_sharing_and_marketing_over_a_ticked_box(
    anonymous_client: httpx.AsyncClient,
) -> None:
    key = await _capture_key()

    result = await _post(anonymous_client, key, _input(), **{"Sec-GPC": "1"})

    assert result["ignoredGrants"] == [EMAIL_MARKETING]
    assert set(result["optedOutByGpc"]) == {EMAIL_MARKETING, THIRD_PARTY_SHARING}
    states = await _states(result["lead"]["id"])
    assert states[EMAIL_MARKETING] == states[THIRD_PARTY_SHARING] == "withdrawn"
    events = await AuditEvent.filter(action="consent.withdrawn").values_list("details", flat=True)
    assert sorted(d["source"] for d in events) == ["gpc", "gpc"]


async def test_bad_input_names_the_fields_and_writes_nothing(
    anonymous_client: httpx.AsyncClient,
) -> None:
    key = await _capture_key()
    data = _input("not-an-email", consents=[{"purpose": "telepathy", "granted": True}])

    result = await _post(anonymous_client, key, data)

    assert result["__typename"] == "ValidationErrors"
    assert {e["field"] for e in result["errors"]} == {"email", "consents.purpose"}
    assert await Lead.all().count() == 0
    assert await ConsentState.all().count() == 0


async def test_staff_and_keys_without_the_capture_scope_cannot_capture(
    anonymous_client: httpx.AsyncClient,
) -> None:
    rep = await a_staff_user(Role.SALES_MANAGER, await a_team())
    activity_key = await _capture_key(ApiScope.ACTIVITIES_RECORD)

    for token in (await session_token(rep), activity_key):
        response = await anonymous_client.post(
            "/graphql",
            json={"query": CAPTURE, "variables": {"input": _input()}},
            headers=bearer(token),
        )
        assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await Lead.all().count() == 0


async def test_an_erased_contact_is_refused_without_fresh_consent(
    anonymous_client: httpx.AsyncClient,
) -> None:
    key = await _capture_key()
    await suppression.suppress({IndexKind.EMAIL: "gone@example.com"}, "erasure", "req-1")

    refused = await _post(anonymous_client, key, _input("Gone@example.com", consents=[]))

    assert refused["__typename"] == "SuppressedContact"
    assert "gone@" not in json.dumps(refused)
    assert await Lead.all().count() == 0
    assert await AuditEvent.filter(action="lead.capture.refused").count() == 1


async def test_fresh_consent_takes_an_erased_contact_back_and_lifts_the_suppression(
    anonymous_client: httpx.AsyncClient,
) -> None:
    key = await _capture_key()
    await suppression.suppress({IndexKind.EMAIL: "gone@example.com"}, "erasure", "req-1")

    taken = await _post(anonymous_client, key, _input("gone@example.com"))

    assert taken["created"] is True
    assert not await suppression.is_suppressed({IndexKind.EMAIL: "gone@example.com"})
    assert await AuditEvent.filter(action="consent.suppression.lifted").count() == 1


@pytest.fixture
def double_opt_in() -> Any:
    from dataclasses import replace

    before = purposes()
    install_purposes(
        Purposes(tuple(replace(p, double_opt_in=p.name == EMAIL_MARKETING) for p in before))
    )
    yield
    install_purposes(before)


async def _confirmation_token() -> str:
    message = await OutboxMessage.get(template="consent_confirmation")
    opened = await open_message(message)
    assert opened is not None
    assert opened.recipient == "ada@example.com"
    return opened.body.split("token=")[1].split()[0]


@pytest.mark.usefixtures("double_opt_in")
async def test_double_opt_in_grants_only_once_the_person_confirms_and_only_once(
    anonymous_client: httpx.AsyncClient,
) -> None:
    key = await _capture_key()

    captured = await _post(anonymous_client, key, _input())

    assert captured["awaitingConfirmation"] == [EMAIL_MARKETING]
    assert EMAIL_MARKETING not in await _states(captured["lead"]["id"])
    token = await _confirmation_token()
    confirm = {"query": CONFIRM, "variables": {"token": token}}
    first = (await anonymous_client.post("/graphql", json=confirm)).json()
    replay = (await anonymous_client.post("/graphql", json=confirm)).json()

    assert first["data"]["confirmConsent"] == {
        "__typename": "ConsentConfirmed",
        "purpose": EMAIL_MARKETING,
    }
    assert replay["data"]["confirmConsent"]["__typename"] == "InvalidLink"
    assert (await _states(captured["lead"]["id"]))[EMAIL_MARKETING] == "granted"


@pytest.mark.usefixtures("double_opt_in")
async def test_an_expired_or_forged_confirmation_grants_nothing(
    anonymous_client: httpx.AsyncClient,
) -> None:
    key = await _capture_key()
    captured = await _post(anonymous_client, key, _input())
    token = await _confirmation_token()
    await ConsentConfirmation.all().update(expires_at=datetime.now(UTC) - timedelta(minutes=1))

    for attempt in (token, token[:-2] + "xx"):
        body = (
            await anonymous_client.post(
                "/graphql", json={"query": CONFIRM, "variables": {"token": attempt}}
            )
        ).json()
        assert body["data"]["confirmConsent"]["__typename"] == "InvalidLink"
    assert EMAIL_MARKETING not in await _states(captured["lead"]["id"])


def test_confirmation_links_start_with_the_public_url() -> None:
    before = consent_config()
    install_consent_config(ConsentConfig(public_url="https://consent.example.com/"))
    try:
        assert (
            consent_config().link("consent", "t") == "https://consent.example.com/consent?token=t"
        )
    finally:
        install_consent_config(before)


async def test_capture_and_consent_changes_leave_no_personal_value_in_the_audit_trail(
    anonymous_client: httpx.AsyncClient,
) -> None:
    key = await _capture_key()
    captured = await _post(
        anonymous_client,
        key,
        _input("hedy.lamarr@frequency.example", formId="webinar-7"),
        **{"X-Forwarded-For": "192.0.2.55"},
    )
    manager = await a_staff_user(Role.SALES_MANAGER, await a_team())
    await Lead.filter(id=captured["lead"]["id"]).update(team_id=manager.team_id)
    await anonymous_client.post(
        "/graphql",
        json={
            "query": "mutation ($id: ID!) { grantConsent(leadId: $id, "
            'purpose: "third_party_sharing", '
            'evidence: {method: VERBAL, note: "Hedy agreed on the call"}) { __typename } }',
            "variables": {"id": captured["lead"]["id"]},
        },
        headers=bearer(await session_token(manager)),
    )

    from tortoise import connections

    rows = await connections.get("default").execute_query_dict("SELECT * FROM audit_event")
    text = " ".join(" ".join(str(v) for v in row.values()) for row in rows).lower()
    actions = {row["action"] for row in rows}
    assert {"lead.created", "consent.granted"} <= actions
    for value in ("hedy", "lamarr", "frequency.example", "agreed on the call", "formbrowser"):
        assert value not in text


async def test_a_capture_whose_read_cannot_be_recorded_is_not_made_and_says_so(
    anonymous_client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = await _capture_key()
    real = report.record

    async def broken(event: Any, **kwargs: Any) -> Any:
        if event.action == "lead.read":
            raise RuntimeError("audit storage unavailable")
        return await real(event, **kwargs)

    monkeypatch.setattr(report, "record", broken)
    response = await anonymous_client.post(
        "/graphql",
        json={"query": CAPTURE, "variables": {"input": _input()}},
        headers=bearer(token),
    )
    body = response.json()

    assert body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["AUDIT_UNAVAILABLE"]
    assert "was not made" in body["errors"][0]["message"]
    assert await Lead.all().count() == 0  # the answer is true: nothing was committed
    assert await Activity.all().count() == 0
    assert await ConsentState.all().count() == 0

    monkeypatch.setattr(report, "record", real)
    retried = await _post(anonymous_client, token, _input())
    assert retried["created"] is True
    assert await Lead.all().count() == 1


async def test_a_mutation_that_answers_with_no_personal_data_keeps_its_own_transactions() -> None:
    from schema import build_schema
    from schema.access.mutations import revealing_mutations

    revealing = revealing_mutations(build_schema(production=False)._schema)

    assert {"captureLead", "createLead", "updateLead", "changeStage"} <= revealing
    assert not {"login", "verifyMfa", "logout"} & revealing
