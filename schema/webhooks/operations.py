"""Registering and running webhook endpoints (administrators only; making or rotating a
secret needs a recent stepUp, as the secret is shown in the answer)."""

from __future__ import annotations

import uuid
from typing import Annotated

import strawberry
from graphql import GraphQLError

from compliance.events import endpoints, log
from core.errors import NotFound as DomainNotFound
from core.errors import ValidationFailed
from identity import errors as domain
from schema.auth.errors import Forbidden, StepUpRequired, failure_of
from schema.context import Context
from schema.enums import WebhookEventType
from schema.errors import NotFound, ValidationErrors
from schema.ids import parse_uuid
from schema.webhooks.types import WebhookDelivery, WebhookEndpoint, deliveries_of


@strawberry.input
class WebhookEndpointInput:
    url: str
    event_types: list[WebhookEventType] = strawberry.field(
        default_factory=list, description="The types to send; empty means every type."
    )
    description: str | None = None


@strawberry.input(description="What to change; what is left out stays as it is.")
class WebhookEndpointChanges:
    url: str | None = None
    event_types: list[WebhookEventType] | None = None
    description: str | None = None


@strawberry.type(
    description="Store the secret in the receiver now: it is never shown again. Verify each "
    "delivery's webhook-signature with it (Standard Webhooks)."
)
class WebhookSecretIssued:
    endpoint: WebhookEndpoint
    secret: str


@strawberry.type
class WebhookEndpointPayload:
    endpoint: WebhookEndpoint


@strawberry.type
class WebhookEndpointDeleted:
    id: strawberry.ID


@strawberry.type
class WebhookDeliveryPayload:
    delivery: WebhookDelivery


IssueWebhookSecretResult = Annotated[
    WebhookSecretIssued | ValidationErrors | NotFound | Forbidden | StepUpRequired,
    strawberry.union("IssueWebhookSecretResult"),
]
WebhookEndpointResult = Annotated[
    WebhookEndpointPayload | ValidationErrors | NotFound | Forbidden,
    strawberry.union("WebhookEndpointResult"),
]
DeleteWebhookEndpointResult = Annotated[
    WebhookEndpointDeleted | NotFound | Forbidden,
    strawberry.union("DeleteWebhookEndpointResult"),
]
RedeliverWebhookResult = Annotated[
    WebhookDeliveryPayload | ValidationErrors | NotFound | Forbidden,
    strawberry.union("RedeliverWebhookResult"),
]
_EXPECTED = (domain.Forbidden, domain.StepUpRequired)


def _id(value: strawberry.ID, entity: str) -> uuid.UUID:
    try:
        return parse_uuid(value, "id")
    except ValidationFailed:
        raise DomainNotFound(entity) from None


def _issued(issued: endpoints.Issued) -> WebhookSecretIssued:
    return WebhookSecretIssued(endpoint=WebhookEndpoint.of(issued.endpoint), secret=issued.secret)


def _types(chosen: list[WebhookEventType] | None) -> list[str] | None:
    return None if chosen is None else [t.value for t in chosen]


@strawberry.type
class WebhookQueries:
    @strawberry.field(description="Every webhook endpoint (administrators only).")
    async def webhook_endpoints(self, info: strawberry.Info[Context]) -> list[WebhookEndpoint]:
        try:
            rows = await endpoints.list_endpoints(info.context.principal)
        except domain.Forbidden as error:
            raise GraphQLError(str(error), extensions={"code": "FORBIDDEN"}) from None
        return [WebhookEndpoint.of(row) for row in rows]


@strawberry.type
class WebhookMutations:
    @strawberry.mutation(description="Register an endpoint; its secret is in the answer, once.")
    async def create_webhook_endpoint(
        self, info: strawberry.Info[Context], input: WebhookEndpointInput
    ) -> IssueWebhookSecretResult:
        context = info.context
        try:
            issued = await endpoints.create(
                context.principal,
                input.url,
                _types(input.event_types),
                input.description,
                context.auth_policy,
                allow_http=context.webhooks_over_http,
            )
        except ValidationFailed as failure:
            return ValidationErrors.of(failure)
        except _EXPECTED as error:
            return failure_of(error)
        return WebhookSecretIssued(
            endpoint=WebhookEndpoint.of(issued.endpoint), secret=issued.secret
        )

    @strawberry.mutation(description="Change an endpoint's URL, event types or description.")
    async def update_webhook_endpoint(
        self, info: strawberry.Info[Context], id: strawberry.ID, input: WebhookEndpointChanges
    ) -> WebhookEndpointResult:
        context = info.context
        try:
            row = await endpoints.update(
                context.principal,
                _id(id, "webhook endpoint"),
                url=input.url,
                event_types=_types(input.event_types),
                description=input.description,
                allow_http=context.webhooks_over_http,
            )
        except ValidationFailed as failure:
            return ValidationErrors.of(failure)
        except DomainNotFound as failure:
            return NotFound.of(failure)
        except _EXPECTED as error:
            return failure_of(error)
        return WebhookEndpointPayload(endpoint=WebhookEndpoint.of(row))

    @strawberry.mutation(
        description="A new secret, in the answer once; the old one keeps signing beside it "
        "for overlapHours (0 to 168, default 24) so receivers can change over."
    )
    async def rotate_webhook_secret(
        self, info: strawberry.Info[Context], id: strawberry.ID, overlap_hours: int | None = None
    ) -> IssueWebhookSecretResult:
        context = info.context
        try:
            issued = await endpoints.rotate_secret(
                context.principal,
                _id(id, "webhook endpoint"),
                context.auth_policy,
                endpoints.overlap_of(overlap_hours),
            )
        except ValidationFailed as failure:
            return ValidationErrors.of(failure)
        except DomainNotFound as failure:
            return NotFound.of(failure)
        except _EXPECTED as error:
            return failure_of(error)
        return WebhookSecretIssued(
            endpoint=WebhookEndpoint.of(issued.endpoint), secret=issued.secret
        )

    @strawberry.mutation(
        description="Disable (pending deliveries are cancelled) or enable (events from now "
        "on are sent; cancelled ones can be redelivered)."
    )
    async def set_webhook_endpoint_enabled(
        self, info: strawberry.Info[Context], id: strawberry.ID, enabled: bool
    ) -> WebhookEndpointResult:
        try:
            row = await endpoints.set_enabled(
                info.context.principal, _id(id, "webhook endpoint"), enabled
            )
        except DomainNotFound as failure:
            return NotFound.of(failure)
        except _EXPECTED as error:
            return failure_of(error)
        return WebhookEndpointPayload(endpoint=WebhookEndpoint.of(row))

    @strawberry.mutation(description="Remove an endpoint and its delivery log.")
    async def delete_webhook_endpoint(
        self, info: strawberry.Info[Context], id: strawberry.ID
    ) -> DeleteWebhookEndpointResult:
        try:
            await endpoints.delete(info.context.principal, _id(id, "webhook endpoint"))
        except DomainNotFound as failure:
            return NotFound.of(failure)
        except _EXPECTED as error:
            return failure_of(error)
        return WebhookEndpointDeleted(id=id)

    @strawberry.mutation(description="Send a delivery's event to its endpoint again, now.")
    async def redeliver_webhook(
        self, info: strawberry.Info[Context], delivery_id: strawberry.ID
    ) -> RedeliverWebhookResult:
        try:
            row = await log.redeliver(info.context.principal, _id(delivery_id, "webhook delivery"))
            await row.fetch_related("event")
        except ValidationFailed as failure:
            return ValidationErrors.of(failure)
        except DomainNotFound as failure:
            return NotFound.of(failure)
        except _EXPECTED as error:
            return failure_of(error)
        return WebhookDeliveryPayload(delivery=(await deliveries_of([row]))[0])
