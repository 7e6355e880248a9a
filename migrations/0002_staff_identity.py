from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from compliance.fields import PersonalDataField
from json import dumps, loads
from leads.fields import UtcDatetimeField
from server.auth.models import SessionStage
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('leadvault', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ApiKey',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('name', fields.CharField(max_length=80)),
                ('prefix', fields.CharField(unique=True, max_length=16)),
                ('secret_hash', fields.CharField(max_length=64)),
                ('scopes', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_by', fields.ForeignKeyField('leadvault.StaffUser', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name='api_keys', on_delete=OnDelete.SET_NULL)),
                ('created_at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
                ('expires_at', UtcDatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_used_at', UtcDatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('revoked_at', UtcDatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'api_key', 'app': 'leadvault', 'pk_attr': 'id', 'table_description': 'A service credential (a website form, an integration). It carries scopes, never a'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AuditEvent',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('occurred_at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
                ('action', fields.CharField(max_length=64)),
                ('outcome', fields.CharField(max_length=16)),
                ('actor_type', fields.CharField(max_length=16)),
                ('actor_id', fields.CharField(null=True, max_length=64)),
                ('actor_role', fields.CharField(null=True, max_length=32)),
                ('session_id', fields.CharField(null=True, max_length=36)),
                ('request_id', fields.CharField(null=True, max_length=64)),
                ('target_type', fields.CharField(null=True, max_length=32)),
                ('target_id', fields.CharField(null=True, max_length=64)),
                ('fields_touched', fields.JSONField(source_field='fields', default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('purpose', fields.CharField(null=True, max_length=64)),
                ('mfa_age_seconds', fields.IntField(null=True)),
                ('details', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
            ],
            options={'table': 'audit_event', 'app': 'leadvault', 'indexes': [Index(fields=['action', 'occurred_at'], name='audit_event_action_idx'), Index(fields=['actor_id', 'occurred_at'], name='audit_event_actor_idx'), Index(fields=['target_type', 'target_id'], name='audit_event_target_idx')], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AuthThrottle',
            fields=[
                ('key', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=80)),
                ('failures', fields.IntField(default=0)),
                ('window_started_at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
                ('blocked_until', UtcDatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('locked_at', UtcDatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('version', fields.IntField(default=0)),
            ],
            options={'table': 'auth_throttle', 'app': 'leadvault', 'pk_attr': 'key', 'table_description': 'Failure counters for one login key (an account, a client address, a TOTP seed).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='RecoveryCode',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('leadvault.StaffUser', source_field='user_id', db_constraint=True, to_field='id', related_name='recovery_codes', on_delete=OnDelete.CASCADE)),
                ('code_hash', fields.CharField(unique=True, max_length=64)),
                ('created_at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
                ('used_at', UtcDatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'recovery_code', 'app': 'leadvault', 'pk_attr': 'id', 'table_description': 'A single-use MFA recovery code, stored as the SHA-256 digest of an 80-bit value.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='StaffSession',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('leadvault.StaffUser', source_field='user_id', db_constraint=True, to_field='id', related_name='sessions', on_delete=OnDelete.CASCADE)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('stage', fields.CharEnumField(description='MFA_PENDING: mfa_pending\nENROLLING: enrolling\nACTIVE: active', enum_type=SessionStage, max_length=16)),
                ('created_at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
                ('last_seen_at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
                ('expires_at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
                ('mfa_verified_at', UtcDatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('revoked_at', UtcDatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('revoked_reason', fields.CharField(null=True, max_length=32)),
            ],
            options={'table': 'staff_session', 'app': 'leadvault', 'indexes': [Index(fields=['user_id', 'revoked_at'], name='staff_session_user_idx')], 'pk_attr': 'id', 'table_description': 'A signed-in browser or client. The bearer token itself is never stored.'},
            bases=['Model'],
        ),
        ops.AlterModelOptions(
            name='StaffUser',
            options={'table': 'staff_user', 'app': 'leadvault', 'pk_attr': 'id', 'table_description': 'A member of staff. Their email is their login id. An account signs in only once it'},
        ),
        ops.AddField(
            model_name='StaffUser',
            name='enrolment_code_hash',
            field=fields.CharField(null=True, unique=True, max_length=64),
        ),
        ops.AddField(
            model_name='StaffUser',
            name='enrolment_expires_at',
            field=UtcDatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='StaffUser',
            name='last_login_at',
            field=UtcDatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='StaffUser',
            name='mfa_enrolled_at',
            field=UtcDatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='StaffUser',
            name='password_changed_at',
            field=UtcDatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='StaffUser',
            name='password_hash',
            field=fields.CharField(null=True, max_length=255),
        ),
        ops.AddField(
            model_name='StaffUser',
            name='totp_last_step',
            field=fields.BigIntField(null=True),
        ),
        ops.AddField(
            model_name='StaffUser',
            name='totp_secret',
            field=PersonalDataField(null=True, max_length=64, category='secret', subject_field=None),
        ),
    ]
