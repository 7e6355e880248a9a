from tortoise import migrations
from tortoise.migrations import operations as ops


async def unlogged_counters(apps, schema_editor) -> None:
    """Request counters are not worth a WAL flush per request: on PostgreSQL their table is
    unlogged (emptied after a crash, which only resets the current minute's budgets). On
    SQLite the server writes them on a connection that does not sync each commit."""
    client = schema_editor.client
    if client.capabilities.dialect == "postgres":
        await client.execute_script("ALTER TABLE rate_limit_counter SET UNLOGGED")


class Migration(migrations.Migration):
    dependencies = [('leadvault', '0010_possible_duplicates')]

    initial = False

    operations = [
        ops.RunPython(unlogged_counters),
    ]
