"""Activity details hold no personal data, times are sane and carry their zone: each
refusal names the field and writes nothing."""

from __future__ import annotations

import httpx
import pytest

from leads.models import Activity
from tests.builders import a_lead, graphql

RECORD = """mutation ($input: ActivityInput!) { recordActivity(input: $input) {
  __typename ... on ValidationErrors { errors { field code message } } } }"""


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("victim@example.com", "an email address"),
        ("call +49 30 1234567 after 5", "a phone number"),
        ("(415) 555-0100", "a phone number"),
        ("203.0.113.9", "an IP address"),
        ("2001:db8::1", "an IP address"),
    ],
)
async def test_details_that_look_personal_are_refused_naming_the_key(
    client: httpx.AsyncClient, value: str, kind: str
) -> None:
    lead = await a_lead()

    body = await graphql(
        client,
        RECORD,
        {"input": {"leadId": str(lead.id), "type": "CALL", "details": {"note": value}}},
    )

    result = body["data"]["recordActivity"]
    assert result["__typename"] == "ValidationErrors"
    [error] = result["errors"]
    assert (error["field"], error["code"]) == ("details.note", "personal_value")
    assert kind in error["message"]
    assert value not in str(body)
    assert await Activity.all().count() == 0


@pytest.mark.parametrize(
    "value", ["/pricing?plan=pro", "2026-03-01", "webinar q3 2026", "step 4 of 7", "v1.2.3"]
)
async def test_ordinary_details_are_kept(client: httpx.AsyncClient, value: str) -> None:
    lead = await a_lead()

    body = await graphql(
        client,
        RECORD,
        {"input": {"leadId": str(lead.id), "type": "PAGE_VIEW", "details": {"what": value}}},
    )

    assert body["data"]["recordActivity"]["__typename"] != "ValidationErrors", body
    assert [a.details for a in await Activity.all()] == [{"what": value}]


@pytest.mark.parametrize("when", ["0001-01-01T00:00:00Z", "1999-12-31T23:59:59Z"])
async def test_an_activity_before_2000_is_refused(client: httpx.AsyncClient, when: str) -> None:
    lead = await a_lead()

    body = await graphql(
        client, RECORD, {"input": {"leadId": str(lead.id), "type": "CALL", "occurredAt": when}}
    )

    assert body["data"]["recordActivity"]["errors"][0]["field"] == "occurredAt"
    assert body["data"]["recordActivity"]["errors"][0]["code"] == "too_early"
    assert await Activity.all().count() == 0


async def test_a_time_without_a_zone_is_a_typed_input_error(
    client: httpx.AsyncClient, recwarn: pytest.WarningsRecorder
) -> None:
    as_variable = await graphql(
        client,
        "query ($f: LeadFilter) { leads(filter: $f) { totalCount } }",
        {"f": {"createdFrom": "2026-01-01T00:00:00"}},
    )
    inline = await graphql(
        client, '{ leads(filter: {createdFrom: "2026-01-01T00:00:00"}) { totalCount } }'
    )
    zoned = await graphql(
        client, '{ leads(filter: {createdFrom: "2026-01-01T00:00:00+01:00"}) { totalCount } }'
    )

    assert as_variable["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "createdFrom" in as_variable["errors"][0]["message"]
    assert "time zone" in as_variable["errors"][0]["message"]
    assert inline["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert zoned["data"]["leads"]["totalCount"] == 0
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]
