from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('leadvault', '0012_job_runs')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='Lead',
            index=Index(fields=['campaign_id'], name='lead_campaign_idx'),
        ),
    ]
