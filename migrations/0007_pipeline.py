from tortoise import migrations
from tortoise.migrations import operations as ops
from leads.fields import UtcDatetimeField
from leads.models import TaskKind
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('leadvault', '0006_scoring')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Task',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('lead', fields.ForeignKeyField('leadvault.Lead', source_field='lead_id', db_constraint=True, to_field='id', related_name='tasks', on_delete=OnDelete.CASCADE)),
                ('owner', fields.ForeignKeyField('leadvault.StaffUser', source_field='owner_id', null=True, db_constraint=True, to_field='id', related_name='tasks', on_delete=OnDelete.SET_NULL)),
                ('kind', fields.CharEnumField(description='FIRST_CONTACT: first_contact\nFOLLOW_UP: follow_up', enum_type=TaskKind, max_length=16)),
                ('step', fields.IntField(default=0)),
                ('due_at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
                ('completed_at', UtcDatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('completed_by_id', fields.UUIDField(null=True)),
                ('created_at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'task', 'app': 'leadvault', 'indexes': [Index(fields=['lead_id', 'kind', 'step'], name='task_lead_idx'), Index(fields=['kind', 'due_at'], name='task_due_idx'), Index(fields=['owner_id', 'completed_at', 'due_at'], name='task_owner_idx')], 'pk_attr': 'id', 'table_description': 'Follow-up work on a lead: the first contact a new SQL is owed within its SLA, then'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Lead',
            name='assigned_at',
            field=UtcDatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Lead',
            name='assignment_reason',
            field=fields.CharField(null=True, max_length=200),
        ),
        ops.AddField(
            model_name='Lead',
            name='deal_value',
            field=fields.DecimalField(null=True, max_digits=14, decimal_places=2),
        ),
        ops.AddField(
            model_name='Lead',
            name='first_touch_at',
            field=UtcDatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Lead',
            name='sql_at',
            field=UtcDatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Lead',
            name='won_amount',
            field=fields.DecimalField(null=True, max_digits=14, decimal_places=2),
        ),
        ops.AddIndex(
            model_name='Lead',
            index=Index(fields=['status', 'last_engaged_at'], name='lead_status_engaged_idx'),
        ),
        ops.AddField(
            model_name='StaffUser',
            name='max_open_leads',
            field=fields.IntField(null=True),
        ),
        ops.AddField(
            model_name='Team',
            name='last_assigned_id',
            field=fields.UUIDField(null=True),
        ),
    ]
