"""The data-subject request API, as a compliance officer's front end uses it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from compliance.dsr.models import DataSubjectRequest
from identity.roles import Role
from rights import certificate
from tests.builders import a_full_lead, a_staff_user, bearer, graphql, session_token
from tests.querycount import count_queries
from tests.rights.helpers import sent_code

CREATE = """
mutation($input: NewDataSubjectRequestInput!) {
  createDataSubjectRequest(input: $input) {
    __typename
    ... on DataSubjectRequest { id status dueAt firstDueAt alert }
    ... on ValidationErrors { errors { field code } }
  }
}"""
STEPS = """
mutation($id: ID!, $code: String!, $me: ID!) {
  verifyIdentity(requestId: $id, code: $code) {
    __typename ... on DataSubjectRequest { status subjectIds }
    ... on IdentityCodeRejected { reason remainingAttempts }
  }
  assignDataSubjectRequest(requestId: $id, assigneeId: $me) {
    __typename ... on DataSubjectRequest { status assignedToId }
  }
}"""
APPROVE = """
mutation($id: ID!) {
  approveErasure(requestId: $id) {
    __typename
    ... on DataSubjectRequest { status outcome certificate }
    ... on StepUpRequired { maxAgeMinutes }
  }
}"""
READ_LEAD = "query($id: ID!) { lead(id: $id) { ... on Lead { email lastName } } }"


async def officer_token(
    mfa_verified_at: datetime | None = None,
) -> tuple[str, Any]:
    user = await a_staff_user(Role.COMPLIANCE_OFFICER)
    return await session_token(user, mfa_verified_at=mfa_verified_at), user


async def a_request(client: httpx.AsyncClient, token: str, kind: str = "ERASURE") -> str:
    created = await graphql(
        client,
        CREATE,
        {"input": {"kind": kind, "jurisdiction": "GDPR", "email": "ada@example.com"}},
        token=token,
    )
    request = created["data"]["createDataSubjectRequest"]
    assert request["__typename"] == "DataSubjectRequest"
    return str(request["id"])


async def verified_and_assigned(
    client: httpx.AsyncClient, token: str, request_id: str, officer_id: uuid.UUID
) -> dict[str, Any]:
    """Send the code, read it back, verify and assign (as the officer's front end does);
    returns the verify/assign response."""
    await graphql(
        client,
        "mutation($id: ID!) { sendIdentityCode(requestId: $id) { __typename } }",
        {"id": request_id},
        token=token,
    )
    code = await sent_code(uuid.UUID(request_id))
    variables = {"id": request_id, "code": code, "me": str(officer_id)}
    return await graphql(client, STEPS, variables, token=token)


async def test_an_officer_takes_an_erasure_from_receipt_to_certificate(
    anonymous_client: httpx.AsyncClient,
) -> None:
    lead = await a_full_lead(None, None, "ada@example.com")
    token, user = await officer_token()
    request_id = await a_request(anonymous_client, token)

    send = await graphql(
        anonymous_client,
        "mutation($id: ID!) { sendIdentityCode(requestId: $id) { __typename } }",
        {"id": request_id},
        token=token,
    )
    code = await sent_code(uuid.UUID(request_id))
    steps = await graphql(
        anonymous_client,
        STEPS,
        {"id": request_id, "code": code, "me": str(user.id)},
        token=token,
    )
    as_purpose = await anonymous_client.post(
        "/graphql",
        json={"query": READ_LEAD, "variables": {"id": str(lead.id)}},
        headers={**bearer(token), "X-LeadVault-Purpose": f"data_subject_request:{request_id}"},
    )
    submitted = await graphql(
        anonymous_client,
        "mutation($id: ID!) { submitErasure(requestId: $id) { __typename "
        "... on DataSubjectRequest { status } } }",
        {"id": request_id},
        token=token,
    )
    approved = await graphql(anonymous_client, APPROVE, {"id": request_id}, token=token)

    assert send["data"]["sendIdentityCode"]["__typename"] == "IdentityCodeSent"
    assert steps["data"]["verifyIdentity"] == {
        "__typename": "DataSubjectRequest",
        "status": "VERIFIED",
        "subjectIds": [str(lead.id)],
    }
    assert steps["data"]["assignDataSubjectRequest"]["status"] == "IN_PROGRESS"
    assert as_purpose.json()["data"]["lead"]["email"] == "ada@example.com"
    assert submitted["data"]["submitErasure"]["status"] == "AWAITING_APPROVAL"
    result = approved["data"]["approveErasure"]
    assert result["status"] == "COMPLETED"
    assert result["outcome"] == "completed"
    assert certificate.verify(result["certificate"]).valid


async def test_approval_without_a_recent_step_up_is_refused(
    anonymous_client: httpx.AsyncClient,
) -> None:
    await a_full_lead(None, None, "ada@example.com")
    token, user = await officer_token(datetime.now(UTC) - timedelta(hours=1))
    request_id = await a_request(anonymous_client, token)
    await verified_and_assigned(anonymous_client, token, request_id, user.id)
    await graphql(
        anonymous_client,
        "mutation($id: ID!) { submitErasure(requestId: $id) { __typename } }",
        {"id": request_id},
        token=token,
    )

    refused = await graphql(anonymous_client, APPROVE, {"id": request_id}, token=token)

    assert refused["data"]["approveErasure"] == {
        "__typename": "StepUpRequired",
        "maxAgeMinutes": 10,
    }
    assert (await DataSubjectRequest.get(id=request_id)).approved_at is None


async def test_invalid_input_names_the_field(anonymous_client: httpx.AsyncClient) -> None:
    token, _ = await officer_token()

    result = await graphql(
        anonymous_client,
        CREATE,
        {"input": {"kind": "ERASURE", "jurisdiction": "GDPR", "email": "nope"}},
        token=token,
    )
    unknown_kind = await graphql(
        anonymous_client,
        CREATE,
        {"input": {"kind": "FORGET_ME", "jurisdiction": "GDPR", "email": "a@example.com"}},
        token=token,
    )

    errors = result["data"]["createDataSubjectRequest"]["errors"]
    assert {e["field"] for e in errors} == {"email"}
    assert unknown_kind["data"] is None
    assert "at .kind" in unknown_kind["errors"][0]["message"]
    assert await DataSubjectRequest.all().count() == 0


@pytest.mark.parametrize("role", [Role.SALES_REP, Role.MARKETER, Role.AUDITOR, Role.ADMIN])
async def test_other_roles_cannot_see_or_open_requests(
    anonymous_client: httpx.AsyncClient, role: Role
) -> None:
    token = await session_token(await a_staff_user(role))

    listed = await graphql(anonymous_client, "{ dataSubjectRequests { id } }", token=token)
    created = await graphql(
        anonymous_client,
        CREATE,
        {"input": {"kind": "ACCESS", "jurisdiction": "GDPR", "email": "a@example.com"}},
        token=token,
    )

    assert listed["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert created["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await DataSubjectRequest.all().count() == 0


async def test_anonymous_callers_are_refused(anonymous_client: httpx.AsyncClient) -> None:
    result = await graphql(anonymous_client, "{ dataSubjectRequests { id } }")

    assert result["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_deadline_alerts_and_the_record_of_processing(
    anonymous_client: httpx.AsyncClient,
) -> None:
    token, _ = await officer_token()
    late = await graphql(
        anonymous_client,
        CREATE,
        {
            "input": {
                "kind": "ACCESS",
                "jurisdiction": "GDPR",
                "email": "late@example.com",
                "receivedAt": (datetime.now(UTC) - timedelta(days=40)).isoformat(),
            }
        },
        token=token,
    )
    await a_request(anonymous_client, token, kind="ACCESS")
    auditor = await session_token(await a_staff_user(Role.AUDITOR))

    overdue = await graphql(
        anonymous_client,
        "{ dataSubjectRequests(filter: {alert: OVERDUE}) { id alert } }",
        token=token,
    )
    ropa = await graphql(anonymous_client, "{ recordOfProcessing }", token=auditor)

    late_id = late["data"]["createDataSubjectRequest"]["id"]
    assert overdue["data"]["dataSubjectRequests"] == [{"id": late_id, "alert": "overdue"}]
    assert ropa["data"]["recordOfProcessing"]["processing_activities"]


async def test_the_officer_sees_what_the_requester_asked(
    anonymous_client: httpx.AsyncClient,
) -> None:
    token, _ = await officer_token()
    request_id = await a_request(anonymous_client, token, kind="ACCESS")

    shown = await graphql(
        anonymous_client,
        "query($id: ID!) { dataSubjectRequest(id: $id) { ... on DataSubjectRequest { "
        "requester { email phone } } } }",
        {"id": request_id},
        token=token,
    )

    requester = shown["data"]["dataSubjectRequest"]["requester"]
    assert requester == {"email": "ada@example.com", "phone": None}


async def test_another_officer_cannot_declare_someone_elses_request(
    anonymous_client: httpx.AsyncClient,
) -> None:
    lead = await a_full_lead(None, None, "ada@example.com")
    token, user = await officer_token()
    other_token, _ = await officer_token()
    request_id = await a_request(anonymous_client, token)
    await verified_and_assigned(anonymous_client, token, request_id, user.id)

    refused = await anonymous_client.post(
        "/graphql",
        json={"query": READ_LEAD, "variables": {"id": str(lead.id)}},
        headers={
            **bearer(other_token),
            "X-LeadVault-Purpose": f"data_subject_request:{request_id}",
        },
    )

    assert refused.status_code == 403
    assert refused.json()["errors"][0]["extensions"]["code"] == "PURPOSE_REFUSED"


async def test_a_list_of_requests_loads_their_leads_in_one_query_whatever_its_length(
    anonymous_client: httpx.AsyncClient,
) -> None:
    token, _ = await officer_token()
    query = "{ dataSubjectRequests { id subjectIds } }"

    async def statements_for(requests: int) -> int:
        while len(await DataSubjectRequest.all()) < requests:
            await a_request(anonymous_client, token, kind="ACCESS")
        with count_queries() as statements:
            body = await graphql(anonymous_client, query, token=token)
        assert len(body["data"]["dataSubjectRequests"]) == requests
        return len(statements)

    assert await statements_for(1) == await statements_for(5)


async def test_requests_filter_by_status_and_kind(anonymous_client: httpx.AsyncClient) -> None:
    token, _ = await officer_token()
    access = await a_request(anonymous_client, token, kind="ACCESS")
    await a_request(anonymous_client, token, kind="ERASURE")

    found = await graphql(
        anonymous_client,
        "{ dataSubjectRequests(filter: {status: RECEIVED, kind: ACCESS}) { id } }",
        token=token,
    )
    wrong = await graphql(
        anonymous_client, "{ dataSubjectRequests(filter: {status: FORGOTTEN}) { id } }", token=token
    )

    assert found["data"]["dataSubjectRequests"] == [{"id": access}]
    assert wrong["errors"][0].get("extensions", {}).get("code") != "INTERNAL_SERVER_ERROR"
    assert "FORGOTTEN" in wrong["errors"][0]["message"]


async def test_an_officer_without_a_declared_purpose_is_told_how_to_open_leads(
    anonymous_client: httpx.AsyncClient,
) -> None:
    from schema.access.report import PURPOSE_REQUIRED

    await a_full_lead(None, None, "ada@example.com")
    token, user = await officer_token()
    request_id = await a_request(anonymous_client, token)
    await verified_and_assigned(anonymous_client, token, request_id, user.id)
    query = "{ leads(first: 5) { edges { node { id } } } }"

    without = await graphql(anonymous_client, query, token=token)
    declared = await anonymous_client.post(
        "/graphql",
        json={"query": query},
        headers={**bearer(token), "X-LeadVault-Purpose": f"data_subject_request:{request_id}"},
    )
    rep = await graphql(
        anonymous_client, query, token=await session_token(await a_staff_user(Role.SALES_REP))
    )

    assert without["data"]["leads"]["edges"] == []
    assert without["extensions"]["access"]["purposeRequired"] == PURPOSE_REQUIRED
    assert "X-LeadVault-Purpose" in PURPOSE_REQUIRED
    assert len(declared.json()["data"]["leads"]["edges"]) == 1
    assert "purposeRequired" not in declared.json()["extensions"].get("access", {})
    assert "purposeRequired" not in rep.get("extensions", {}).get("access", {})
