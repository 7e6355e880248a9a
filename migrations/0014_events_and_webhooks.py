from tortoise import migrations
from tortoise.migrations import operations as ops
from core.time import UtcDatetimeField
from crypto.fields import PersonalDataField
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('leadvault', '0013_lead_campaign_index')]

    initial = False

    operations = [
        ops.CreateModel(
            name='DomainEvent',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('type', fields.CharField(max_length=64)),
                ('occurred_at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
                ('stream', fields.CharField(max_length=80)),
                ('sequence', fields.BigIntField()),
                ('lead_id', fields.UUIDField(null=True)),
                ('data', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
            ],
            options={'table': 'domain_event', 'app': 'leadvault', 'unique_together': (('stream', 'sequence'),), 'indexes': [Index(fields=['lead_id']), Index(fields=['occurred_at'])], 'pk_attr': 'id', 'table_description': 'Something that happened, once: its type, time, stream (``lead:<id>`` or'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='EventStream',
            fields=[
                ('stream', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=80)),
                ('last_sequence', fields.BigIntField()),
            ],
            options={'table': 'event_stream', 'app': 'leadvault', 'pk_attr': 'stream', 'table_description': 'The last sequence number given in each stream (taken with an upsert that locks the'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='WebhookEndpoint',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('url', fields.CharField(max_length=2048)),
                ('description', fields.CharField(default='', max_length=500)),
                ('event_types', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('enabled', fields.BooleanField(default=True)),
                ('disabled_reason', fields.CharField(null=True, max_length=32)),
                ('secret', PersonalDataField(max_length=200, category='secret', subject_field=None)),
                ('previous_secret', PersonalDataField(null=True, max_length=200, category='secret', subject_field=None)),
                ('previous_until', UtcDatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('failing_since', UtcDatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
                ('created_by_id', fields.UUIDField(null=True)),
                ('updated_at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'webhook_endpoint', 'app': 'leadvault', 'pk_attr': 'id', 'table_description': 'Where events are sent. ``secret`` signs every delivery. During a rotation'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='WebhookDelivery',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('endpoint', fields.ForeignKeyField('leadvault.WebhookEndpoint', source_field='endpoint_id', db_constraint=True, to_field='id', related_name='deliveries', on_delete=OnDelete.CASCADE)),
                ('event', fields.ForeignKeyField('leadvault.DomainEvent', source_field='event_id', db_constraint=True, to_field='id', related_name='deliveries', on_delete=OnDelete.CASCADE)),
                ('status', fields.CharField(default='pending', max_length=16)),
                ('attempts', fields.IntField(default=0)),
                ('next_attempt_at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
                ('claimed_until', UtcDatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
                ('finished_at', UtcDatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'webhook_delivery', 'app': 'leadvault', 'indexes': [Index(fields=['status', 'next_attempt_at']), Index(fields=['endpoint_id', 'created_at']), Index(fields=['event_id'])], 'pk_attr': 'id', 'table_description': 'One event to one endpoint: ``pending`` until it is ``delivered``, ``failed`` (every'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='WebhookAttempt',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('delivery', fields.ForeignKeyField('leadvault.WebhookDelivery', source_field='delivery_id', db_constraint=True, to_field='id', related_name='attempt_log', on_delete=OnDelete.CASCADE)),
                ('attempted_at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
                ('status_code', fields.IntField(null=True)),
                ('latency_ms', fields.IntField()),
                ('error', fields.CharField(null=True, max_length=32)),
            ],
            options={'table': 'webhook_attempt', 'app': 'leadvault', 'indexes': [Index(fields=['delivery_id', 'attempted_at'])], 'pk_attr': 'id', 'table_description': 'One try at a delivery: when, the status code (none when no answer came), how long it'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='DataSubjectRequest',
            name='due_soon_announced_at',
            field=UtcDatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Task',
            name='breach_announced_at',
            field=UtcDatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddIndex(
            model_name='Task',
            index=Index(fields=['due_at'], name='task_due_at_idx'),
        ),
    ]
