from tortoise import migrations
from tortoise.migrations import operations as ops
from core.ids import new_id
from core.time import UtcDatetimeField
from leads.models import DuplicateStatus
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('leadvault', '0009_signing_keys')]

    initial = False

    operations = [
        ops.CreateModel(
            name='PossibleDuplicate',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=new_id, unique=True, db_index=True)),
                ('lead_id', fields.UUIDField()),
                ('existing_id', fields.UUIDField()),
                ('kind', fields.CharField(max_length=16)),
                ('found_at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
                ('status', fields.CharEnumField(default=DuplicateStatus.OPEN, description='OPEN: open\nSAME_PERSON: same_person\nDIFFERENT_PEOPLE: different_people', enum_type=DuplicateStatus, max_length=20)),
                ('resolved_at', UtcDatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('resolved_by_id', fields.UUIDField(null=True)),
            ],
            options={'table': 'possible_duplicate', 'app': 'leadvault', 'indexes': [Index(fields=['existing_id', 'status'], name='possible_duplicate_existing_idx'), Index(fields=['lead_id', 'status'], name='possible_duplicate_lead_idx')], 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
