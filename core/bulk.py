"""Bulk SQL without building an ORM object per row.

Imports and seeding write hundreds of thousands of rows; constructing a model instance for
each costs more than the database does. :func:`insert_rows` converts each value with the
column's own field type (so sealed columns still refuse plaintext, and times and UUIDs are
stored as the ORM stores them) and sends one ``executemany`` per batch, on the connection of
the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from tortoise.models import Model
from tortoise.queryset import AwaitableQuery


def marks(dialect: str, count: int, start: int = 1) -> list[str]:
    """``count`` placeholders in the dialect's style (PostgreSQL's numbered from ``start``)."""
    if dialect == "postgres":
        return [f"${i}" for i in range(start, start + count)]
    return ["?"] * count


def _placeholders(dialect: str, count: int) -> str:
    return ", ".join(marks(dialect, count))


def as_sql(query: AwaitableQuery[Any]) -> tuple[str, list[Any]]:
    """An ORM query as parameterised SQL, to embed in a statement the ORM cannot express
    while the rules the query carries (row scope, consent) stay defined in one place."""
    query._choose_db_if_not_chosen()
    query._make_query()
    text, values = query.query.get_parameterized_sql()
    return text, list(values)


def insert_values(
    model: type[Model], columns: Sequence[str], rows: Iterable[Sequence[Any]], start: int = 1
) -> tuple[str, list[Any]]:
    """``INSERT INTO <table> (<columns>) VALUES (…), (…)`` for ``rows`` with the values
    converted by each column's field type, placeholders numbered from ``start``: one
    statement, to run alone or inside a larger one."""
    meta = model._meta
    fields = [meta.fields_map[name] for name in columns]
    names = ", ".join(
        f'"{field.source_field or name}"' for field, name in zip(fields, columns, strict=True)
    )
    dialect = meta.db.capabilities.dialect
    converters = [field.to_db_value for field in fields]
    values: list[Any] = []
    groups: list[str] = []
    for row in rows:
        converted = [convert(value, model) for convert, value in zip(converters, row, strict=True)]
        groups.append(f"({', '.join(marks(dialect, len(fields), start + len(values)))})")
        values += converted
    sql = f'INSERT INTO "{meta.db_table}" ({names}) VALUES {", ".join(groups)}'  # noqa: S608
    return sql, values


async def insert_rows(
    model: type[Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> int:
    """Insert ``rows`` (values in the order of ``columns``, which are field names)."""
    meta = model._meta
    fields = [meta.fields_map[name] for name in columns]
    names = ", ".join(
        f'"{field.source_field or name}"' for field, name in zip(fields, columns, strict=True)
    )
    db = meta.db
    sql = (
        f'INSERT INTO "{meta.db_table}" ({names}) '  # noqa: S608 - names from the model
        f"VALUES ({_placeholders(db.capabilities.dialect, len(fields))})"
    )
    converters = [field.to_db_value for field in fields]
    converted = [
        [convert(value, model) for convert, value in zip(converters, row, strict=True)]
        for row in rows
    ]
    if converted:
        await db.execute_many(sql, converted)
    return len(converted)


def _default(field: Any) -> Any:
    default = field.default
    return default() if callable(default) else default


async def insert_dicts(model: type[Model], rows: Sequence[dict[str, Any]]) -> int:
    """Insert ``rows`` given as field name → value; every other column gets the field's
    default, as the ORM would give it (auto-generated keys are left to the database)."""
    meta = model._meta
    columns = [
        name
        for name in meta.fields_db_projection
        if not (meta.fields_map[name].pk and meta.fields_map[name].generated)
    ]
    defaults = {name: _default(meta.fields_map[name]) for name in columns}
    return await insert_rows(
        model,
        columns,
        [[row[name] if name in row else defaults[name] for name in columns] for row in rows],
    )
