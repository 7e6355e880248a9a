"""Ids out of range or in odd spellings are client errors naming the field, never
internal errors; and the MFA steps refuse a session that is not waiting for them."""

from __future__ import annotations

import httpx
import pytest

from leads.models import Lead
from schema.ids import MAX_INT_ID
from tests.builders import graphql
from tests.schema.test_lead_mutations import CREATE

LIST = "query ($filter: LeadFilter) { leads(filter: $filter) { totalCount } }"
HUGE = "12345678901234567890123"


@pytest.mark.parametrize(
    "value", [HUGE, str(MAX_INT_ID + 1), "0", "-1", "+5", "1_000", " 7", "٣", "1e3", ""]
)
@pytest.mark.parametrize("field", ["teamId", "campaignId"])
async def test_a_filter_id_out_of_range_is_bad_user_input(
    client: httpx.AsyncClient, field: str, value: str
) -> None:
    body = await graphql(client, LIST, {"filter": {field: value}})

    if value == "":  # an empty id is "no filter"
        assert body["data"]["leads"]["totalCount"] == 0
        return
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "argument": field}
    assert error["message"] == f"{field} is not a valid id"


async def test_the_largest_id_is_a_valid_filter(client: httpx.AsyncClient) -> None:
    body = await graphql(client, LIST, {"filter": {"teamId": str(MAX_INT_ID)}})

    assert body["data"]["leads"]["totalCount"] == 0


async def test_a_campaign_id_out_of_range_in_an_input_names_the_field(
    client: httpx.AsyncClient,
) -> None:
    body = await graphql(
        client, CREATE, {"input": {"email": "a@example.com", "source": "API", "campaignId": HUGE}}
    )

    result = body["data"]["createLead"]
    assert result["__typename"] == "ValidationErrors"
    assert [e["field"] for e in result["errors"]] == ["campaignId"]
    assert await Lead.all().count() == 0


@pytest.mark.parametrize(
    "mutation",
    [
        'verifyMfa(code: "123456") { __typename }',
        'confirmMfaEnrolment(code: "123456") { __typename }',
    ],
)
async def test_mfa_steps_with_a_signed_in_session_are_bad_user_input(
    client: httpx.AsyncClient, mutation: str
) -> None:
    body = await graphql(client, f"mutation {{ {mutation} }}")

    assert [e["extensions"] for e in body["errors"]] == [
        {"code": "BAD_USER_INPUT", "argument": "code"}
    ]
