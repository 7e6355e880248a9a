from tortoise import migrations
from tortoise.migrations import operations as ops
from compliance.fields import PersonalDataField
from leads.fields import UtcDatetimeField
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

async def refuse_ledger_updates(apps, schema_editor) -> None:
    """The database itself refuses to change a consent event."""
    client = schema_editor.client
    if client.capabilities.dialect == "postgres":
        await client.execute_script(
            "CREATE FUNCTION consent_event_refuse_update() RETURNS trigger LANGUAGE plpgsql "
            "AS $$ BEGIN RAISE EXCEPTION 'consent events are append-only'; END $$"
        )
        await client.execute_script(
            "CREATE TRIGGER consent_event_no_update BEFORE UPDATE ON consent_event "
            "FOR EACH ROW EXECUTE FUNCTION consent_event_refuse_update()"
        )
    else:
        await client.execute_script(
            "CREATE TRIGGER consent_event_no_update BEFORE UPDATE ON consent_event "
            "BEGIN SELECT RAISE(ABORT, 'consent events are append-only'); END"
        )


class Migration(migrations.Migration):
    dependencies = [('leadvault', '0004_audit_chain')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ConsentConfirmation',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('lead_id', fields.UUIDField()),
                ('purpose', fields.CharField(max_length=64)),
                ('notice_version', fields.CharField(max_length=32)),
                ('source', fields.CharField(max_length=32)),
                ('source_ref', fields.CharField(null=True, max_length=100)),
                ('client_network', PersonalDataField(null=True, max_length=64, category='evidence', subject_field='lead_id')),
                ('user_agent_hash', fields.CharField(null=True, max_length=64)),
                ('requested_at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
                ('expires_at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
                ('confirmed_at', UtcDatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'consent_confirmation', 'app': 'leadvault', 'indexes': [Index(fields=['lead_id'], name='consent_confirmation_lead_idx')], 'pk_attr': 'id', 'table_description': 'A double opt-in waiting for the person to confirm by email. The grant is written to'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ConsentEvent',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('uid', fields.UUIDField(unique=True)),
                ('lead_id', fields.UUIDField()),
                ('purpose', fields.CharField(max_length=64)),
                ('kind', fields.CharField(max_length=16)),
                ('basis', fields.CharField(max_length=32)),
                ('notice_version', fields.CharField(null=True, max_length=32)),
                ('notice_hash', fields.CharField(null=True, max_length=64)),
                ('source', fields.CharField(max_length=32)),
                ('source_ref', fields.CharField(null=True, max_length=100)),
                ('method', fields.CharField(null=True, max_length=32)),
                ('client_network', PersonalDataField(null=True, max_length=64, category='evidence', subject_field='lead_id')),
                ('user_agent_hash', fields.CharField(null=True, max_length=64)),
                ('note', PersonalDataField(null=True, max_length=500, category='free_text', subject_field='lead_id')),
                ('occurred_at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
                ('recorded_at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
                ('actor_type', fields.CharField(max_length=16)),
                ('actor_id', fields.CharField(null=True, max_length=64)),
            ],
            options={'table': 'consent_event', 'app': 'leadvault', 'indexes': [Index(fields=['lead_id', 'purpose', 'id'], name='consent_event_lead_idx'), Index(fields=['recorded_at'], name='consent_event_time_idx')], 'pk_attr': 'id', 'table_description': 'One grant, withdrawal or expiry of one purpose for one lead, with its evidence.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ConsentState',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('lead_id', fields.UUIDField()),
                ('purpose', fields.CharField(max_length=64)),
                ('status', fields.CharField(max_length=16)),
                ('basis', fields.CharField(max_length=32)),
                ('notice_version', fields.CharField(null=True, max_length=32)),
                ('source', fields.CharField(max_length=32)),
                ('since', UtcDatetimeField(auto_now=False, auto_now_add=False)),
                ('expires_at', UtcDatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('event_id', fields.BigIntField()),
            ],
            options={'table': 'consent_state', 'app': 'leadvault', 'unique_together': (('lead_id', 'purpose'),), 'indexes': [Index(fields=['purpose', 'status', 'lead_id'], name='consent_state_idx')], 'pk_attr': 'id', 'table_description': "The current state of one purpose for one lead: the ledger's latest word on it."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='OutboxMessage',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('lead_id', fields.UUIDField()),
                ('template', fields.CharField(max_length=64)),
                ('recipient', PersonalDataField(null=True, max_length=254, category='contact', subject_field='lead_id')),
                ('body', PersonalDataField(null=True, max_length=4000, category='free_text', subject_field='lead_id')),
                ('created_at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
                ('sent_at', UtcDatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('attempts', fields.IntField(default=0)),
                ('last_error', fields.CharField(null=True, max_length=64)),
            ],
            options={'table': 'outbox_message', 'app': 'leadvault', 'indexes': [Index(fields=['sent_at', 'created_at'], name='outbox_pending_idx')], 'pk_attr': 'id', 'table_description': 'A message to a data subject waiting for (or past) delivery. Recipient and body are'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SuppressedContact',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('kind', fields.CharField(max_length=16)),
                ('key_version', fields.IntField()),
                ('digest', fields.CharField(max_length=64)),
                ('reason', fields.CharField(max_length=32)),
                ('reference', fields.CharField(null=True, max_length=100)),
                ('created_at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'suppressed_contact', 'app': 'leadvault', 'indexes': [Index(fields=['kind', 'digest'], name='suppressed_contact_idx')], 'pk_attr': 'id', 'table_description': "A blind index of an erased person's email or phone (never the value): a capture or"},
            bases=['Model'],
        ),
        ops.RunPython(refuse_ledger_updates),
    ]
