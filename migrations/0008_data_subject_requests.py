from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from compliance.dsr.models import HoldScope, Jurisdiction, RejectionReason, RequestKind, RequestStatus, SubjectOutcome
from compliance.fields import PersonalDataField
from json import dumps, loads
from leads.fields import UtcDatetimeField
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('leadvault', '0007_pipeline')]

    initial = False

    operations = [
        ops.CreateModel(
            name='DataSubjectRequest',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('kind', fields.CharEnumField(description='ACCESS: access\nPORTABILITY: portability\nERASURE: erasure\nRECTIFICATION: rectification\nOBJECTION: objection', enum_type=RequestKind, max_length=16)),
                ('jurisdiction', fields.CharEnumField(description='GDPR: gdpr\nCCPA: ccpa', enum_type=Jurisdiction, max_length=8)),
                ('status', fields.CharEnumField(description='RECEIVED: received\nIDENTITY_PENDING: identity_pending\nVERIFIED: verified\nIN_PROGRESS: in_progress\nEXTENDED: extended\nAWAITING_APPROVAL: awaiting_approval\nCOMPLETED: completed\nREJECTED: rejected', enum_type=RequestStatus, max_length=20)),
                ('requester_email', PersonalDataField(null=True, max_length=254, category='contact', subject_field='id')),
                ('requester_phone', PersonalDataField(null=True, max_length=32, category='contact', subject_field='id')),
                ('details', PersonalDataField(null=True, max_length=2000, category='free_text', subject_field='id')),
                ('channel', fields.CharField(max_length=32)),
                ('received_at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
                ('acknowledge_by', UtcDatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('acknowledged_at', UtcDatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('first_due_at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
                ('due_at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
                ('extended_at', UtcDatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('extension_reason', PersonalDataField(null=True, max_length=1000, category='secret', subject_field=None)),
                ('extension_notified_at', UtcDatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('code_hash', fields.CharField(null=True, max_length=64)),
                ('code_sent_at', UtcDatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('code_expires_at', UtcDatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('code_attempts', fields.IntField(default=0)),
                ('verified_at', UtcDatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('verified_by', fields.CharField(null=True, max_length=16)),
                ('assigned_to', fields.ForeignKeyField('leadvault.StaffUser', source_field='assigned_to_id', null=True, db_constraint=True, to_field='id', related_name='dsr_assigned', on_delete=OnDelete.RESTRICT)),
                ('assigned_at', UtcDatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('approved_by_id', fields.UUIDField(null=True)),
                ('approved_at', UtcDatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('rejection_reason', fields.CharEnumField(null=True, description='IDENTITY_NOT_VERIFIED: identity_not_verified\nMANIFESTLY_UNFOUNDED: manifestly_unfounded\nEXCESSIVE: excessive\nDUPLICATE: duplicate\nLEGAL_OBLIGATION: legal_obligation\nOTHER: other', enum_type=RejectionReason, max_length=32)),
                ('rejection_note', PersonalDataField(null=True, max_length=1000, category='secret', subject_field=None)),
                ('outcome', fields.CharField(null=True, max_length=32)),
                ('completed_at', UtcDatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('certificate', fields.TextField(null=True, unique=False)),
                ('lease_until', UtcDatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_by_id', fields.UUIDField(null=True)),
                ('created_at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'dsr_request', 'app': 'leadvault', 'indexes': [Index(fields=['status', 'due_at'], name='dsr_request_status_idx'), Index(fields=['assigned_to_id', 'status'], name='dsr_request_assignee_idx')], 'pk_attr': 'id', 'table_description': 'A request from a person about their data, from receipt to its answer.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='JobLease',
            fields=[
                ('name', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64)),
                ('holder', fields.CharField(max_length=64)),
                ('until', UtcDatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'job_lease', 'app': 'leadvault', 'pk_attr': 'name', 'table_description': 'Who runs a named job now: one row per job, taken with a conditional update, so only'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='LegalHold',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('scope', fields.CharEnumField(description='SUBJECT: subject\nCATEGORY: category', enum_type=HoldScope, max_length=16)),
                ('lead_id', fields.UUIDField(null=True)),
                ('category', fields.CharField(null=True, max_length=32)),
                ('reason', PersonalDataField(max_length=1000, category='secret', subject_field=None)),
                ('owner', fields.ForeignKeyField('leadvault.StaffUser', source_field='owner_id', db_constraint=True, to_field='id', related_name='legal_holds', on_delete=OnDelete.RESTRICT)),
                ('placed_by_id', fields.UUIDField(null=True)),
                ('placed_at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
                ('expires_at', UtcDatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('released_at', UtcDatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('released_by_id', fields.UUIDField(null=True)),
            ],
            options={'table': 'legal_hold', 'app': 'leadvault', 'indexes': [Index(fields=['lead_id', 'released_at'], name='legal_hold_lead_idx'), Index(fields=['category', 'released_at'], name='legal_hold_category_idx')], 'pk_attr': 'id', 'table_description': "Data that must be kept (litigation, an authority's order) whatever erasure or"},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='RequestSubject',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('request', fields.ForeignKeyField('leadvault.DataSubjectRequest', source_field='request_id', db_constraint=True, to_field='id', related_name='subjects', on_delete=OnDelete.CASCADE)),
                ('lead_id', fields.UUIDField()),
                ('matched_on', fields.CharField(max_length=16)),
                ('outcome', fields.CharEnumField(default=SubjectOutcome.PENDING, description='PENDING: pending\nERASED: erased\nHELD: held', enum_type=SubjectOutcome, max_length=16)),
                ('anonymised_at', UtcDatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('key_shredded_at', UtcDatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('counts', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('hold_id', fields.UUIDField(null=True)),
            ],
            options={'table': 'dsr_subject', 'app': 'leadvault', 'unique_together': (('request_id', 'lead_id'),), 'indexes': [Index(fields=['lead_id'], name='dsr_subject_lead_idx')], 'pk_attr': 'id', 'table_description': 'A lead found to be the requester (by email or phone blind index), and what the'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SubjectExport',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('request', fields.ForeignKeyField('leadvault.DataSubjectRequest', source_field='request_id', db_constraint=True, to_field='id', related_name='exports', on_delete=OnDelete.CASCADE)),
                ('format', fields.CharField(max_length=8)),
                ('size', fields.IntField()),
                ('sha256', fields.CharField(max_length=64)),
                ('created_at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
                ('created_by_id', fields.UUIDField(null=True)),
                ('expires_at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
                ('downloads', fields.IntField(default=0)),
                ('last_downloaded_at', UtcDatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('deleted_at', UtcDatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'dsr_export', 'app': 'leadvault', 'indexes': [Index(fields=['deleted_at', 'expires_at'], name='dsr_export_expiry_idx')], 'pk_attr': 'id', 'table_description': 'An access or portability export: a file encrypted at rest under its own key (in the'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Lead',
            name='erased_at',
            field=UtcDatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
    ]
