"""Completing a field's value as GraphQL does: a null where the type forbids one, lists walked,
objects built, leaves serialised by the schema's own scalar and enum types."""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
)

Path = tuple[Any, str | int] | None
"""Where a value sits in the response, linked to its parent's path: (parent, key)."""
Completer = Callable[[Any, Any, Path], Any]
"""(builder, value, path) → the value as the response shows it."""


class Fallback(Exception):
    """The general executor must answer this request (it will give the error, or cover
    what the plan does not)."""


def path_list(path: Path) -> list[str | int]:
    """The path as GraphQL lists it (root first)."""
    keys: list[str | int] = []
    while path is not None:
        path, key = path
        keys.append(key)
    keys.reverse()
    return keys


def completer(type_: GraphQLOutputType, child: Any) -> Completer:
    if isinstance(type_, GraphQLNonNull):
        inner = completer(type_.of_type, child)

        def non_null(builder: Any, value: Any, path: Path) -> Any:
            done = inner(builder, value, path)
            if done is None:
                raise Fallback  # a null in a non-null position: the general executor's case
            return done

        return non_null
    if isinstance(type_, GraphQLList):
        item = completer(type_.of_type, child)

        def listed(builder: Any, value: Any, path: Path) -> Any:
            if value is None:
                return None
            return [item(builder, v, (path, i)) for i, v in enumerate(value)]

        return listed
    if isinstance(type_, GraphQLObjectType):
        assert child is not None

        def built(builder: Any, value: Any, path: Path) -> Any:
            return None if value is None else builder.object(child, value, path)

        return built
    leaf = type_
    assert isinstance(leaf, GraphQLScalarType | GraphQLEnumType)
    names = (
        {v.value: name for name, v in leaf.values.items()}
        if isinstance(leaf, GraphQLEnumType)
        else {}
    )
    plain = _PLAIN.get(leaf.name)

    def serialised(builder: Any, value: Any, path: Path) -> Any:
        if value is None:
            return None
        if type(value) is plain:
            return value  # already what the scalar's serialiser would return
        if names and isinstance(value, enum.Enum) and value.value in names:
            return names[value.value]
        done = leaf.serialize(value)
        if done is None:
            raise Fallback
        return done

    return serialised


_PLAIN: dict[str, type] = {"String": str, "ID": str, "Boolean": bool}
"""Scalars whose serialiser returns a value of this exact type unchanged."""
