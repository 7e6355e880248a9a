"""Decrypting a personal field only when it is asked for and allowed."""

from __future__ import annotations

import strawberry
from graphql import GraphQLError

from crypto.envelope import CiphertextError
from crypto.fields import personal_fields_of
from crypto.vault import current_vault
from leads import models
from schema.context import Context


async def reveal(
    info: strawberry.Info[Context],
    row: models.Lead | models.StageChange,
    field: str,
) -> str | None:
    """Decrypt one personal field of one row, only when the field is asked for. The
    subject is the one the field declares; its key comes from a per-request batch, so a
    page costs one key-store query."""
    blob = getattr(row, field)
    if blob is None:
        return None
    subject_field = personal_fields_of(type(row))[field].subject_field or "id"
    key = await info.context.loaders.subject_keys.load(getattr(row, subject_field))
    try:
        return current_vault().open_value(type(row), field, row.id, blob, key)
    except CiphertextError as error:
        # A stored value that fails authentication was edited, moved or corrupted; the
        # message names the column, never a value.
        raise GraphQLError(str(error), extensions={"code": "DATA_INTEGRITY"}) from None
