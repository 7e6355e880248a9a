"""The signing keys: versioned Ed25519 keys, one series per kind of signed document."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from core.time import UtcDatetimeField
from crypto.fields import secret_field


class SigningKey(Model):
    # one version of the key that signs one kind of document (audit checkpoints, erasure
    # certificates). Rows are never changed or deleted: the public key checks every
    # signature made with it, after any master-key rotation or retirement. The private key
    # is sealed under the master key like any secret (key rotation re-seals it), and the
    # seal authenticates the public key beside it. No docstring: it would become the table
    # description.
    id = fields.CharField(primary_key=True, max_length=80)  # "<purpose>/v<version>"
    purpose = fields.CharField(max_length=64)
    version = fields.IntField()
    public_key = fields.CharField(max_length=64)
    private_key = secret_field(max_length=64, null=False)
    created_at = UtcDatetimeField()

    class Meta:
        table = "signing_key"
        unique_together = (("purpose", "version"),)
