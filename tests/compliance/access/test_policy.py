"""The declared policy is complete, consistent with the schema, and enforced where it says."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from graphql import GraphQLNonNull

from compliance.access import matrix
from compliance.access.masking import Maskers
from compliance.access.policy import NOT_SENSITIVE, PERSONAL_DATA_TYPES, POLICY, ROW_SCOPES
from compliance.access.rules import Access, Actor, RowScope
from schema import build_schema
from schema.access.extension import FieldAccess

SCHEMA = build_schema(production=False)
ROOT = Path(__file__).resolve().parents[3]


def _fields(type_name: str) -> dict[str, object]:
    """GraphQL name → the strawberry field, for the fields the schema exposes."""
    exposed = SCHEMA._schema.get_type(type_name)
    definition = SCHEMA.get_type_by_name(type_name)
    assert exposed is not None
    assert definition is not None
    by_name = {_graphql_name(f): f for f in definition.fields}  # type: ignore[union-attr]
    return {name: by_name[name] for name in exposed.fields}  # type: ignore[union-attr]


def _graphql_name(field: object) -> str:
    return SCHEMA.config.name_converter.get_graphql_name(field)  # type: ignore[arg-type]


@pytest.mark.parametrize("type_name", sorted(PERSONAL_DATA_TYPES))
def test_every_field_of_a_personal_data_type_is_in_the_policy_or_declared_not_sensitive(
    type_name: str,
) -> None:
    names = set(_fields(type_name))
    governed = set(POLICY.get(type_name, {}))
    plain = set(NOT_SENSITIVE.get(type_name, frozenset()))

    assert names - governed - plain == set(), "add these fields to compliance/access/policy.py"
    assert governed & plain == set()
    assert (governed | plain) - names == set(), "the policy names fields the schema lacks"


def test_every_governed_field_carries_the_extension_and_no_other_field_does() -> None:
    for type_name in PERSONAL_DATA_TYPES:
        for name, field in _fields(type_name).items():
            has_extension = any(isinstance(e, FieldAccess) for e in field.extensions)  # type: ignore[attr-defined]
            assert has_extension == (name in POLICY.get(type_name, {})), f"{type_name}.{name}"


def test_a_field_that_can_be_denied_is_nullable() -> None:
    graphql_schema = SCHEMA._schema
    for type_name, fields in POLICY.items():
        object_type = graphql_schema.get_type(type_name)
        for name, policy in fields.items():
            # Actors that load no rows never reach the field; a purpose rule only applies
            # to rows the same purpose let the actor load.
            can_deny = any(
                policy.rule_for(actor).access is Access.DENY
                or (
                    policy.rule_for(actor).consent is not None
                    and policy.rule_for(actor).otherwise is Access.DENY
                )
                for actor in Actor
                if ROW_SCOPES[actor] is not RowScope.NONE
            )
            nullable = not isinstance(object_type.fields[name].type, GraphQLNonNull)  # type: ignore[union-attr]
            assert nullable or not can_deny, f"{type_name}.{name} would null its parent"


def test_every_mask_the_policy_names_exists() -> None:
    known = Maskers.default(b"k" * 32).names
    for fields in POLICY.values():
        for policy in fields.values():
            for actor in Actor:
                rule = policy.rule_for(actor)
                if rule.access is Access.MASK or rule.otherwise is Access.MASK:
                    assert rule.mask in known


def test_resolvers_never_look_at_roles() -> None:
    """Only the gate reads a role (to refuse whole operations the policy closes)."""
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "schema").rglob("*.py")
        if "principal.role" in path.read_text(encoding="utf-8") and path.name != "gate.py"
    ]
    assert offenders == []


def test_the_matrix_names_every_actor_for_every_governed_field() -> None:
    built = matrix.build()
    text = matrix.render_text(built)

    assert len(built.fields) == sum(len(f) for f in POLICY.values())
    assert all(len(row.cells) == len(Actor) for row in built.fields)
    assert "Lead.email (contact)" in text
    assert "reveal with consent to email_marketing, else mask:email" in text


def test_policy_show_prints_the_matrix() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "server.cli", "policy", "show", "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )

    assert '"type_name": "Lead"' in result.stdout
    assert '"analyst": "all"' in result.stdout
