"""The one way a model declares a column that holds personal data.

Every personal column in every model is a :class:`PersonalDataField`, created through
:func:`personal_field`. That gives the project one switch for how personal values are stored
(the encryption layer plugs in here) and one list of what is personal
(:func:`personal_fields_of`), which the access policy, the erasure executor and the tests read.
Values are sealed and opened only by :class:`crypto.vault.Vault`, so encryption,
decryption and (later) redaction happen in one place.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from tortoise import fields
from tortoise.models import Model


class PlaintextRefused(ValueError):
    """A personal value reached the database unsealed; nothing was written."""


class PersonalDataField(fields.BinaryField):
    """A column holding personal data about the subject of its row, as AEAD ciphertext.

    Values are sealed by :class:`crypto.vault.Vault` before they reach the ORM;
    this column refuses anything that is not already a ciphertext.
    """

    is_personal_data = True

    def __init__(
        self, max_length: int, category: str, subject_field: str | None = "id", **kwargs: Any
    ) -> None:
        self.max_length = max_length
        self.category = category
        self.subject_field = subject_field
        super().__init__(**kwargs)

    def to_db_value(self, value: Any, instance: Any) -> Any:
        if value is None or isinstance(value, bytes | bytearray | memoryview):
            return value
        raise PlaintextRefused(
            f"{getattr(instance, '__name__', type(instance).__name__)}.{self.model_field_name}: "
            "personal values must be sealed before they are saved"
        )

    def to_python_value(self, value: Any) -> Any:
        return bytes(value) if isinstance(value, bytearray | memoryview) else value


def personal_field(
    *, max_length: int, category: str, subject_field: str = "id", null: bool = True
) -> Any:
    """Declare a personal-data column.

    ``category`` names the kind of personal data (contact, identity, employment, free_text)
    for the record of processing and for retention rules; ``subject_field`` names the
    attribute holding the id of the person the value is about (their key seals it);
    ``max_length`` bounds the clear value.
    """
    return PersonalDataField(
        max_length=max_length, category=category, subject_field=subject_field, null=null
    )


@cache
def personal_fields_of(model: type[Model]) -> dict[str, PersonalDataField]:
    """Field name → field for every personal-data column of ``model``."""
    return {
        name: field
        for name, field in model._meta.fields_map.items()
        if isinstance(field, PersonalDataField)
    }


def secret_field(*, max_length: int, null: bool = True) -> Any:
    """Declare a column for a secret that belongs to no data subject (a TOTP seed, an
    integration credential). It is sealed under a key derived from the master key rather
    than a subject key, by the same column type, so key rotation re-encrypts it."""
    return PersonalDataField(
        max_length=max_length, category="secret", subject_field=None, null=null
    )


def secret_fields_of(model: type[Model]) -> dict[str, PersonalDataField]:
    return {n: f for n, f in personal_fields_of(model).items() if f.subject_field is None}
