"""GraphQL types of the access policy and of break-glass grants."""

from __future__ import annotations

from datetime import datetime

import strawberry

from compliance.access.break_glass import GrantView
from compliance.access.matrix import Matrix
from identity import clock


@strawberry.type(description="What one actor gets for one field.")
class PolicyRule:
    actor: str
    access: str = strawberry.field(description="reveal, mask or deny.")
    mask: str | None = strawberry.field(description="The masking strategy, when masked.")
    consent: str | None = strawberry.field(
        description="Revealed only with the lead's consent to this purpose."
    )
    otherwise: str | None = strawberry.field(description="What applies without that consent.")
    purpose: str | None = strawberry.field(
        description="Revealed only for subjects of a declared purpose of this kind."
    )
    summary: str


@strawberry.type
class PolicyField:
    type_name: str
    field: str
    category: str
    rules: list[PolicyRule]


@strawberry.type(description="The leads an actor may read and change.")
class ActorScope:
    actor: str
    read: str
    write: str


@strawberry.type
class TypeFields:
    type_name: str
    fields: list[str]


@strawberry.type
class OperationRoles:
    operation: str
    roles: list[str]


@strawberry.type(description="The access policy: actors × fields, row scopes and operations.")
class AccessPolicy:
    actors: list[str]
    scopes: list[ActorScope]
    fields: list[PolicyField]
    not_sensitive: list[TypeFields]
    operations: list[OperationRoles]
    break_glass_roles: list[str]
    break_glass_max_minutes: int

    @classmethod
    def of(cls, matrix: Matrix) -> AccessPolicy:
        return cls(
            actors=[a.value for a in matrix.actors],
            scopes=[
                ActorScope(
                    actor=a.value,
                    read=matrix.row_scopes[a].value,
                    write=matrix.write_scopes[a].value,
                )
                for a in matrix.actors
            ],
            fields=[
                PolicyField(
                    type_name=row.type_name,
                    field=row.field,
                    category=row.category,
                    rules=[
                        PolicyRule(
                            actor=cell.actor.value,
                            access=cell.rule.access.value,
                            mask=cell.rule.mask,
                            consent=cell.rule.consent,
                            otherwise=cell.rule.otherwise.value
                            if cell.rule.consent is not None
                            else None,
                            purpose=cell.rule.purpose,
                            summary=cell.rule.describe(),
                        )
                        for cell in row.cells
                    ],
                )
                for row in matrix.fields
            ],
            not_sensitive=[
                TypeFields(type_name=t, fields=list(names))
                for t, names in matrix.not_sensitive.items()
            ],
            operations=[
                OperationRoles(operation=op, roles=list(roles))
                for op, roles in matrix.operations.items()
            ],
            break_glass_roles=list(matrix.break_glass_roles),
            break_glass_max_minutes=matrix.break_glass_max_minutes,
        )


@strawberry.type(description="Time-boxed elevated read access of one member of staff.")
class BreakGlassGrant:
    id: strawberry.ID
    user_id: strawberry.ID
    role: str
    reason: str
    granted_at: datetime
    expires_at: datetime
    ended_at: datetime | None
    active: bool
    use_count: int = strawberry.field(description="Requests that read something only it allowed.")
    last_used_at: datetime | None

    @classmethod
    def of(cls, grant: GrantView) -> BreakGlassGrant:
        return cls(
            id=strawberry.ID(str(grant.id)),
            user_id=strawberry.ID(str(grant.user_id)),
            role=grant.role,
            reason=grant.reason,
            granted_at=grant.granted_at,
            expires_at=grant.expires_at,
            ended_at=grant.ended_at,
            active=grant.active_at(clock.now()),
            use_count=grant.use_count,
            last_used_at=grant.last_used_at,
        )
