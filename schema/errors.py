"""Typed results for expected failures, and the error codes of the few raised as errors.

Mutations return a union of a success payload and these types, so a front end can render
validation messages next to the right input without parsing strings.
"""

from __future__ import annotations

import strawberry
from graphql import GraphQLError

from leads import errors as domain
from schema.enums import Stage


@strawberry.type(description="One invalid input field.")
class FieldError:
    field: str = strawberry.field(description="The input field, in camelCase.")
    code: str
    message: str


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


@strawberry.type(description="The input was rejected; nothing was changed.")
class ValidationErrors:
    errors: list[FieldError]

    @classmethod
    def of(cls, failure: domain.ValidationFailed) -> ValidationErrors:
        return cls(
            errors=[
                FieldError(field=_camel(e.field), code=e.code, message=e.message)
                for e in failure.errors
            ]
        )


@strawberry.type(description="Another lead already has this email; nothing was changed.")
class DuplicateLead:
    field: str
    message: str
    existing_lead_id: strawberry.ID | None = strawberry.field(
        description="Set only when you may see the existing lead."
    )

    @classmethod
    def of(cls, failure: domain.DuplicateLead) -> DuplicateLead:
        existing = strawberry.ID(str(failure.existing_id)) if failure.existing_id else None
        return cls(
            field=_camel(failure.field),
            message="a lead with this email already exists",
            existing_lead_id=existing,
        )


@strawberry.type(description="No such record, or not one you may see.")
class NotFound:
    entity: str
    message: str

    @classmethod
    def of(cls, failure: domain.NotFound) -> NotFound:
        return cls(entity=failure.entity, message=f"{failure.entity} not found")


@strawberry.type(description="The lifecycle does not allow this move; nothing was changed.")
class InvalidTransition:
    message: str
    from_stage: Stage
    to_stage: Stage

    @classmethod
    def of(cls, failure: domain.InvalidTransition) -> InvalidTransition:
        return cls(
            message=failure.message,
            from_stage=Stage(failure.from_stage),
            to_stage=Stage(failure.to_stage),
        )


@strawberry.type(description="This contact was erased; it is taken again only with consent.")
class SuppressedContact:
    message: str

    @classmethod
    def of(cls, failure: domain.Suppressed) -> SuppressedContact:
        return cls(message=str(failure))


def bad_input(message: str, argument: str) -> GraphQLError:
    """An argument error raised from a query field (mutations return typed results)."""
    return GraphQLError(message, extensions={"code": "BAD_USER_INPUT", "argument": argument})


def bad_field(failure: domain.ValidationFailed) -> GraphQLError:
    """The first invalid input field of a query argument, named in camelCase."""
    error = failure.errors[0]
    field = _camel(error.field)
    message = error.message.replace(error.field, field, 1)
    return GraphQLError(message, extensions={"code": "BAD_USER_INPUT", "argument": field})
