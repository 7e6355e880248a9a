from tortoise import migrations
from tortoise.migrations import operations as ops
from core.time import UtcDatetimeField
from orjson import loads
from tortoise.fields.data import JSON_DUMPS
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('leadvault', '0011_unlogged_counters')]

    initial = False

    operations = [
        ops.CreateModel(
            name='JobRun',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('job', fields.CharField(max_length=64)),
                ('holder', fields.CharField(max_length=64)),
                ('started_at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
                ('heartbeat_at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
                ('finished_at', UtcDatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('outcome', fields.CharField(max_length=16)),
                ('counts', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ('done', fields.IntField(null=True)),
                ('total', fields.IntField(null=True)),
                ('error', fields.CharField(null=True, max_length=64)),
            ],
            options={'table': 'job_run', 'app': 'leadvault', 'indexes': [Index(fields=['job', 'started_at'], name='job_run_job_started_idx')], 'pk_attr': 'id', 'table_description': 'One run of a scheduled job: which process ran it, when, how it ended and what it'},
            bases=['Model'],
        ),
    ]
