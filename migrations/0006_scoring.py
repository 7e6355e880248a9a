from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from leads.fields import UtcDatetimeField
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('leadvault', '0005_consent_ledger')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ScoreHistory',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('lead_id', fields.UUIDField()),
                ('model_version', fields.IntField()),
                ('score', fields.IntField()),
                ('fit_score', fields.IntField()),
                ('engagement_score', fields.IntField()),
                ('breakdown', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('trigger', fields.CharField(max_length=32)),
                ('computed_at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'score_history', 'app': 'leadvault', 'indexes': [Index(fields=['lead_id', 'id'], name='score_history_lead_idx')], 'pk_attr': 'id', 'table_description': "Append-only: each time a lead's score changed, what it became and why."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ScoringModel',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('version', fields.IntField(unique=True)),
                ('status', fields.CharField(max_length=16)),
                ('definition', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('note', fields.CharField(null=True, max_length=500)),
                ('created_at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
                ('created_by_id', fields.UUIDField(null=True)),
                ('published_at', UtcDatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('published_by_id', fields.UUIDField(null=True)),
            ],
            options={'table': 'scoring_model', 'app': 'leadvault', 'pk_attr': 'id', 'table_description': 'One version of the scoring rules. Drafts change until published, a published version'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ScoringRun',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('model_version', fields.IntField()),
                ('trigger', fields.CharField(max_length=32)),
                ('status', fields.CharField(max_length=16)),
                ('cursor', fields.CharField(null=True, max_length=36)),
                ('processed', fields.IntField(default=0)),
                ('changed', fields.IntField(default=0)),
                ('advanced', fields.IntField(default=0)),
                ('total', fields.IntField(default=0)),
                ('created_at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
                ('started_at', UtcDatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('finished_at', UtcDatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('lease_until', UtcDatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'scoring_run', 'app': 'leadvault', 'indexes': [Index(fields=['status', 'created_at'], name='scoring_run_status_idx')], 'pk_attr': 'id', 'table_description': 'A rescoring of every lead, resumable: ``cursor`` is the last lead id done, committed'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Lead',
            name='score_breakdown',
            field=fields.JSONField(default=list, db_default=[], encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
        ops.AddField(
            model_name='Lead',
            name='score_model_version',
            field=fields.IntField(null=True),
        ),
    ]
