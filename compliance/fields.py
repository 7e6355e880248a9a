"""The one way a model declares a column that holds personal data.

Every personal column in every model is a :class:`PersonalDataField`, created through
:func:`personal_field`. That gives the project one switch for how personal values are stored
(the encryption layer plugs in here) and one list of what is personal
(:func:`personal_fields_of`), which the access policy, the erasure executor and the tests read.
Values are read through :func:`read_personal`, never as plain attributes, so that decryption
and redaction happen in one place.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from tortoise import fields
from tortoise.models import Model


class PersonalDataField(fields.TextField):
    """A text column holding personal data about the subject of its row."""

    is_personal_data = True

    def __init__(self, max_length: int, category: str, **kwargs: Any) -> None:
        self.max_length = max_length
        self.category = category
        super().__init__(**kwargs)


def personal_field(*, max_length: int, category: str, null: bool = True) -> Any:
    """Declare a personal-data column.

    ``category`` names the kind of personal data (contact, identity, employment, free_text)
    for the record of processing and for retention rules.
    """
    return PersonalDataField(max_length=max_length, category=category, null=null)


@cache
def personal_fields_of(model: type[Model]) -> dict[str, PersonalDataField]:
    """Field name → field for every personal-data column of ``model``."""
    return {
        name: field
        for name, field in model._meta.fields_map.items()
        if isinstance(field, PersonalDataField)
    }


def read_personal(instance: Model, field_name: str) -> str | None:
    """The clear value of a personal field of a loaded row."""
    if field_name not in personal_fields_of(type(instance)):
        raise KeyError(f"{type(instance).__name__}.{field_name} is not a personal-data field")
    value: str | None = getattr(instance, field_name)
    return value
