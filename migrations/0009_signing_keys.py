from tortoise import migrations
from tortoise.migrations import operations as ops
from core.time import UtcDatetimeField
from crypto.fields import PersonalDataField
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('leadvault', '0008_data_subject_requests')]

    initial = False

    operations = [
        ops.CreateModel(
            name='SigningKey',
            fields=[
                ('id', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=80)),
                ('purpose', fields.CharField(max_length=64)),
                ('version', fields.IntField()),
                ('public_key', fields.CharField(max_length=64)),
                ('private_key', PersonalDataField(max_length=64, category='secret', subject_field=None)),
                ('created_at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'signing_key', 'app': 'leadvault', 'unique_together': (('purpose', 'version'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
