from tortoise import migrations
from tortoise.migrations import operations as ops
from audit.chain import CHAINED, GENESIS, event_hash
import functools
from json import dumps, loads
from leads.fields import UtcDatetimeField
from tortoise import fields
from tortoise.indexes import Index


async def chain_existing_events(apps, schema_editor) -> None:
    """Events written before the chain existed join it in id order, and the head row is
    created at the end of them."""
    client = schema_editor.client
    postgres = client.capabilities.dialect == "postgres"
    mark = (lambda i: f"${i}") if postgres else (lambda i: "?")
    columns = ", ".join(["id", *[c for c in CHAINED if c not in ("seq", "prev_hash")]])
    rows = await client.execute_query_dict(f"SELECT {columns} FROM audit_event ORDER BY id")
    previous, seq = GENESIS, 0
    for row in rows:
        seq += 1
        row = {**row, "seq": seq, "prev_hash": previous}
        current = event_hash(row)
        await client.execute_query(
            f"UPDATE audit_event SET seq = {mark(1)}, prev_hash = {mark(2)}, hash = {mark(3)} "
            f"WHERE id = {mark(4)}",
            [seq, previous, current, row["id"]],
        )
        previous = current
    await client.execute_query(
        f"INSERT INTO audit_head (id, seq, hash, checkpoint_seq) VALUES (1, {mark(1)}, {mark(2)}, 0)",
        [seq, previous],
    )


class Migration(migrations.Migration):
    dependencies = [("leadvault", "0003_access_policy")]

    initial = False

    operations = [
        ops.CreateModel(
            name="AuditCheckpoint",
            fields=[
                (
                    "id",
                    fields.BigIntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                ("seq", fields.BigIntField(unique=True)),
                ("head_hash", fields.CharField(max_length=64)),
                ("created_at", UtcDatetimeField(auto_now=False, auto_now_add=False)),
                ("key_version", fields.IntField()),
                ("signature", fields.CharField(max_length=128)),
                ("reason", fields.CharField(max_length=16)),
            ],
            options={
                "table": "audit_checkpoint",
                "app": "leadvault",
                "pk_attr": "id",
                "table_description": "A signed statement of the chain's head: its sequence number (the count of events",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="AuditHead",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                ("seq", fields.BigIntField(default=0)),
                ("hash", fields.CharField(max_length=64)),
                ("checkpoint_seq", fields.BigIntField(default=0)),
                ("checkpoint_at", UtcDatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "audit_head",
                "app": "leadvault",
                "pk_attr": "id",
                "table_description": "The chain's head: one row, updated in the transaction of every append, so appends",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="AuditSubject",
            fields=[
                (
                    "id",
                    fields.BigIntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                ("seq", fields.BigIntField()),
                ("subject_id", fields.CharField(max_length=64)),
            ],
            options={
                "table": "audit_subject",
                "app": "leadvault",
                "indexes": [Index(fields=["subject_id", "seq"], name="audit_subject_idx")],
                "pk_attr": "id",
                "table_description": "Index from a data subject (lead id) to the events that name it, for access reports.",
            },
            bases=["Model"],
        ),
        ops.AlterModelOptions(
            name="AuditEvent",
            options={
                "table": "audit_event",
                "app": "leadvault",
                "indexes": [
                    Index(fields=["action", "occurred_at"], name="audit_event_action_idx"),
                    Index(fields=["actor_id", "occurred_at"], name="audit_event_actor_idx"),
                    Index(fields=["target_type", "target_id"], name="audit_event_target_idx"),
                ],
                "pk_attr": "id",
                "table_description": "One event. ``seq`` orders the chain: ``hash`` is SHA-256 over the event's canonical",
            },
        ),
        ops.AddField(
            model_name="AuditEvent",
            name="client",
            field=fields.CharField(null=True, max_length=40),
        ),
        ops.AddField(
            model_name="AuditEvent",
            name="fields_denied",
            field=fields.JSONField(
                default=list,
                db_default=[],
                encoder=functools.partial(dumps, separators=(",", ":")), decoder=loads
            ),
        ),
        ops.AddField(
            model_name="AuditEvent",
            name="fields_masked",
            field=fields.JSONField(
                default=list,
                db_default=[],
                encoder=functools.partial(dumps, separators=(",", ":")), decoder=loads
            ),
        ),
        ops.AddField(
            model_name="AuditEvent",
            name="hash",
            field=fields.CharField(null=True, max_length=64),
        ),
        ops.AddField(
            model_name="AuditEvent",
            name="prev_hash",
            field=fields.CharField(null=True, max_length=64),
        ),
        ops.AddField(
            model_name="AuditEvent",
            name="seq",
            field=fields.BigIntField(null=True, unique=True),
        ),
        ops.AddField(
            model_name="AuditEvent",
            name="subject_ids",
            field=fields.JSONField(
                default=list,
                db_default=[],
                encoder=functools.partial(dumps, separators=(",", ":")), decoder=loads
            ),
        ),
        ops.RunPython(chain_existing_events),
    ]
