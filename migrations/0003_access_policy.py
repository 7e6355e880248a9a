from tortoise import migrations
from tortoise.migrations import operations as ops
from compliance.fields import PersonalDataField
from leads.fields import UtcDatetimeField
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index


class Migration(migrations.Migration):
    dependencies = [("leadvault", "0002_staff_identity")]

    initial = False

    operations = [
        ops.CreateModel(
            name="BreakGlassGrant",
            fields=[
                (
                    "id",
                    fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True),
                ),
                (
                    "user",
                    fields.ForeignKeyField(
                        "leadvault.StaffUser",
                        source_field="user_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="break_glass_grants",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                ("role", fields.CharField(max_length=32)),
                (
                    "reason",
                    PersonalDataField(max_length=1000, category="secret", subject_field=None),
                ),
                ("granted_at", UtcDatetimeField(auto_now=False, auto_now_add=False)),
                ("expires_at", UtcDatetimeField(auto_now=False, auto_now_add=False)),
                ("ended_at", UtcDatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("use_count", fields.IntField(default=0)),
                ("last_used_at", UtcDatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "break_glass_grant",
                "app": "leadvault",
                "indexes": [Index(fields=["user_id", "expires_at"]), Index(fields=["granted_at"])],
                "pk_attr": "id",
                "table_description": "Time-boxed elevated read access of one member of staff. The reason is sealed: staff",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="RateLimitCounter",
            fields=[
                (
                    "key",
                    fields.CharField(primary_key=True, unique=True, db_index=True, max_length=80),
                ),
                ("window_start", fields.BigIntField()),
                ("requests", fields.IntField(default=0)),
                ("cost", fields.BigIntField(default=0)),
            ],
            options={
                "table": "rate_limit_counter",
                "app": "leadvault",
                "pk_attr": "key",
                "table_description": "Requests and query cost one principal (or, before sign-in, one client address) has",
            },
            bases=["Model"],
        ),
    ]
