from __future__ import annotations

import httpx

from leads.enums import Stage
from leads.models import Activity, Lead, StageChange
from tests.builders import a_lead, graphql, new_id

CREATE = """
mutation ($input: NewLeadInput!) {
  createLead(input: $input) {
    __typename
    ... on LeadPayload { lead { id email phone country stage utm { source } } }
    ... on ValidationErrors { errors { field code message } }
    ... on DuplicateLead { field existingLeadId }
  }
}
"""


async def test_create_lead_returns_the_normalised_lead(client: httpx.AsyncClient) -> None:
    body = await graphql(
        client,
        CREATE,
        {
            "input": {
                "email": "Ada@Example.com",
                "phone": "+44 20 7946 0958",
                "country": "gb",
                "source": "WEB_FORM",
                "utm": {"source": "newsletter"},
            }
        },
    )

    lead = body["data"]["createLead"]["lead"]
    assert lead["email"] == "ada@example.com"
    assert lead["phone"] == "+442079460958"
    assert (lead["country"], lead["stage"], lead["utm"]["source"]) == ("GB", "LEAD", "newsletter")


async def test_validation_errors_name_camel_case_fields_and_write_nothing(
    client: httpx.AsyncClient,
) -> None:
    body = await graphql(
        client,
        CREATE,
        {"input": {"email": "nope", "companyDomain": "no domain", "source": "WEB_FORM"}},
    )

    result = body["data"]["createLead"]
    assert result["__typename"] == "ValidationErrors"
    assert {e["field"] for e in result["errors"]} == {"email", "companyDomain"}
    assert await Lead.all().count() == 0


async def test_a_duplicate_email_is_reported_not_merged(client: httpx.AsyncClient) -> None:
    existing = await a_lead(email="ada@example.com")

    body = await graphql(client, CREATE, {"input": {"email": "ADA@example.com", "source": "API"}})

    assert body["data"]["createLead"] == {
        "__typename": "DuplicateLead",
        "field": "email",
        "existingLeadId": str(existing.id),
    }
    assert await Lead.all().count() == 1


async def test_update_lead_of_a_missing_id_is_not_found(client: httpx.AsyncClient) -> None:
    body = await graphql(
        client,
        """mutation ($id: ID!) {
        updateLead(id: $id, input: {companyName: "X"}) { __typename } }""",
        {"id": new_id()},
    )
    assert body["data"]["updateLead"]["__typename"] == "NotFound"


async def test_update_lead_refuses_null_for_required_enums(client: httpx.AsyncClient) -> None:
    lead = await a_lead()
    body = await graphql(
        client,
        """mutation ($id: ID!) {
        updateLead(id: $id, input: {seniority: null}) {
          __typename ... on ValidationErrors { errors { field } } } }""",
        {"id": str(lead.id)},
    )
    assert body["data"]["updateLead"] == {
        "__typename": "ValidationErrors",
        "errors": [{"field": "seniority"}],
    }


async def test_record_activity_rejects_nested_details(client: httpx.AsyncClient) -> None:
    lead = await a_lead()
    body = await graphql(
        client,
        """mutation ($input: ActivityInput!) { recordActivity(input: $input) {
          __typename ... on ValidationErrors { errors { field } } } }""",
        {"input": {"leadId": str(lead.id), "type": "PAGE_VIEW", "details": {"a": {"b": 1}}}},
    )
    assert body["data"]["recordActivity"]["__typename"] == "ValidationErrors"
    assert await Activity.all().count() == 0


async def test_record_activity_appears_on_the_lead(client: httpx.AsyncClient) -> None:
    lead = await a_lead()
    body = await graphql(
        client,
        """mutation ($input: ActivityInput!) {
        recordActivity(input: $input) { ... on ActivityPayload { activity { type details } } } }""",
        {"input": {"leadId": str(lead.id), "type": "DEMO_REQUEST", "details": {"form": "demo"}}},
    )
    assert body["data"]["recordActivity"]["activity"] == {
        "type": "DEMO_REQUEST",
        "details": {"form": "demo"},
    }


CHANGE = """mutation ($id: ID!, $to: Stage!, $reason: String) {
  changeStage(leadId: $id, to: $to, reason: $reason) {
    __typename
    ... on StageChangePayload { lead { stage status } stageChange { fromStage toStage reason } }
    ... on InvalidTransition { message fromStage toStage }
  }
}"""


async def test_change_stage_moves_the_lead_and_returns_the_history_row(
    client: httpx.AsyncClient,
) -> None:
    lead = await a_lead(stage=Stage.OPPORTUNITY)
    body = await graphql(client, CHANGE, {"id": str(lead.id), "to": "CUSTOMER"})
    assert body["data"]["changeStage"] == {
        "__typename": "StageChangePayload",
        "lead": {"stage": "CUSTOMER", "status": "CONVERTED"},
        "stageChange": {"fromStage": "OPPORTUNITY", "toStage": "CUSTOMER", "reason": None},
    }


async def test_moving_backwards_without_a_reason_is_an_invalid_transition(
    client: httpx.AsyncClient,
) -> None:
    lead = await a_lead(stage=Stage.SQL)
    body = await graphql(client, CHANGE, {"id": str(lead.id), "to": "MQL"})
    result = body["data"]["changeStage"]
    assert result["__typename"] == "InvalidTransition"
    assert "reason" in result["message"]
    assert await StageChange.filter(lead_id=lead.id).count() == 1


async def test_a_decimal_is_a_string_both_ways_and_must_be_finite(
    client: httpx.AsyncClient,
) -> None:
    query = """mutation ($input: NewLeadInput!) { createLead(input: $input) {
        __typename ... on LeadPayload { lead { dealValue } } } }"""
    as_string = await graphql(
        client,
        query,
        {"input": {"source": "WEB_FORM", "email": "a@example.com", "dealValue": "34533.00"}},
    )
    as_number = await graphql(
        client,
        query,
        {"input": {"source": "WEB_FORM", "email": "b@example.com", "dealValue": 12.5}},
    )
    refused = [
        await graphql(
            client,
            query,
            {"input": {"source": "WEB_FORM", "email": "c@example.com", "dealValue": value}},
        )
        for value in ("NaN", "Infinity", "-Infinity", "twelve")
    ]

    assert as_string["data"]["createLead"]["lead"]["dealValue"] == "34533.00", as_string
    assert as_number["data"]["createLead"]["lead"]["dealValue"] == "12.50"
    for body in refused:
        assert body["data"] is None
        assert "at .dealValue" in body["errors"][0]["message"]
    assert await Lead.all().count() == 2


async def test_a_new_lead_without_a_source_is_refused_by_the_schema(
    client: httpx.AsyncClient,
) -> None:
    body = await graphql(client, CREATE, {"input": {"email": "ada@example.com"}})

    assert body["data"] is None
    assert "source" in body["errors"][0]["message"]
    assert await Lead.all().count() == 0
