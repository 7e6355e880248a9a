from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from compliance.fields import PersonalDataField
from json import dumps, loads
from leads.enums import ActivityType, Authority, Budget, Channel, CompanySize, Need, Seniority, Source, Stage, Status, Timeline
from leads.fields import UtcDatetimeField
from server.auth.roles import Role
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='Campaign',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(unique=True, max_length=200)),
                ('channel', fields.CharEnumField(description='ORGANIC_SEARCH: organic_search\nPAID_SEARCH: paid_search\nPAID_SOCIAL: paid_social\nORGANIC_SOCIAL: organic_social\nEMAIL: email\nDIRECT: direct\nREFERRAL: referral\nEVENTS: events\nPARTNER: partner\nOUTBOUND: outbound', enum_type=Channel, max_length=32)),
                ('cost', fields.DecimalField(default=0, max_digits=14, decimal_places=2)),
                ('currency', fields.CharField(default='EUR', max_length=3)),
                ('starts_on', fields.DateField()),
                ('ends_on', fields.DateField(null=True)),
                ('created_at', UtcDatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'campaign', 'app': 'leadvault', 'pk_attr': 'id', 'table_description': 'A marketing campaign. Its cost over its period gives cost per lead.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Team',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(unique=True, max_length=100)),
                ('created_at', UtcDatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'team', 'app': 'leadvault', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='StaffUser',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('email', fields.CharField(unique=True, max_length=254)),
                ('display_name', fields.CharField(max_length=120)),
                ('role', fields.CharEnumField(description='SALES_REP: sales_rep\nSALES_MANAGER: sales_manager\nMARKETER: marketer\nANALYST: analyst\nCOMPLIANCE_OFFICER: compliance_officer\nAUDITOR: auditor\nADMIN: admin', enum_type=Role, max_length=32)),
                ('team', fields.ForeignKeyField('leadvault.Team', source_field='team_id', null=True, db_constraint=True, to_field='id', related_name='members', on_delete=OnDelete.SET_NULL)),
                ('is_active', fields.BooleanField(default=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'staff_user', 'app': 'leadvault', 'pk_attr': 'id', 'table_description': 'A member of staff. Their email is their login id.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Lead',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('first_name', PersonalDataField(null=True, max_length=100, category='identity', subject_field='id')),
                ('last_name', PersonalDataField(null=True, max_length=100, category='identity', subject_field='id')),
                ('email', PersonalDataField(null=True, max_length=254, category='contact', subject_field='id')),
                ('phone', PersonalDataField(null=True, max_length=32, category='contact', subject_field='id')),
                ('job_title', PersonalDataField(null=True, max_length=150, category='employment', subject_field='id')),
                ('notes', PersonalDataField(null=True, max_length=5000, category='free_text', subject_field='id')),
                ('seniority', fields.CharEnumField(default=Seniority.UNKNOWN, description='C_LEVEL: c_level\nVP: vp\nDIRECTOR: director\nMANAGER: manager\nINDIVIDUAL_CONTRIBUTOR: individual_contributor\nUNKNOWN: unknown', enum_type=Seniority, max_length=32)),
                ('country', fields.CharField(null=True, max_length=2)),
                ('region', fields.CharField(null=True, max_length=100)),
                ('company_name', fields.CharField(null=True, max_length=200)),
                ('company_domain', fields.CharField(null=True, max_length=253)),
                ('company_size', fields.CharEnumField(default=CompanySize.UNKNOWN, description='UNKNOWN: unknown\nSIZE_1_10: 1-10\nSIZE_11_50: 11-50\nSIZE_51_200: 51-200\nSIZE_201_1000: 201-1000\nSIZE_1001_5000: 1001-5000\nSIZE_5001_PLUS: 5001+', enum_type=CompanySize, max_length=16)),
                ('industry', fields.CharField(null=True, max_length=100)),
                ('source', fields.CharEnumField(description='WEB_FORM: web_form\nIMPORT: import\nAPI: api\nEVENT: event\nREFERRAL: referral\nPARTNER: partner\nOUTBOUND: outbound\nCHAT: chat', enum_type=Source, max_length=32)),
                ('channel', fields.CharEnumField(null=True, description='ORGANIC_SEARCH: organic_search\nPAID_SEARCH: paid_search\nPAID_SOCIAL: paid_social\nORGANIC_SOCIAL: organic_social\nEMAIL: email\nDIRECT: direct\nREFERRAL: referral\nEVENTS: events\nPARTNER: partner\nOUTBOUND: outbound', enum_type=Channel, max_length=32)),
                ('campaign', fields.ForeignKeyField('leadvault.Campaign', source_field='campaign_id', null=True, db_constraint=True, to_field='id', related_name='leads', on_delete=OnDelete.SET_NULL)),
                ('utm_source', fields.CharField(null=True, max_length=200)),
                ('utm_medium', fields.CharField(null=True, max_length=200)),
                ('utm_campaign', fields.CharField(null=True, max_length=200)),
                ('utm_term', fields.CharField(null=True, max_length=200)),
                ('utm_content', fields.CharField(null=True, max_length=200)),
                ('budget', fields.CharEnumField(default=Budget.UNKNOWN, description='UNKNOWN: unknown\nNONE: none\nUNDER_10K: under_10k\nFROM_10K_TO_50K: 10k_50k\nFROM_50K_TO_250K: 50k_250k\nOVER_250K: over_250k', enum_type=Budget, max_length=16)),
                ('authority', fields.CharEnumField(default=Authority.UNKNOWN, description='UNKNOWN: unknown\nNONE: none\nINFLUENCER: influencer\nDECISION_MAKER: decision_maker', enum_type=Authority, max_length=16)),
                ('need', fields.CharEnumField(default=Need.UNKNOWN, description='UNKNOWN: unknown\nNONE: none\nLOW: low\nMEDIUM: medium\nHIGH: high', enum_type=Need, max_length=16)),
                ('timeline', fields.CharEnumField(default=Timeline.UNKNOWN, description='UNKNOWN: unknown\nIMMEDIATE: immediate\nTHIS_QUARTER: this_quarter\nTHIS_YEAR: this_year\nLATER: later', enum_type=Timeline, max_length=16)),
                ('stage', fields.CharEnumField(default=Stage.LEAD, description='SUBSCRIBER: subscriber\nLEAD: lead\nMQL: mql\nSQL: sql\nOPPORTUNITY: opportunity\nCUSTOMER: customer\nDISQUALIFIED: disqualified', enum_type=Stage, max_length=16)),
                ('status', fields.CharEnumField(default=Status.OPEN, description='OPEN: open\nWORKING: working\nNURTURING: nurturing\nCOLD: cold\nCONVERTED: converted', enum_type=Status, max_length=16)),
                ('stage_entered_at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
                ('owner', fields.ForeignKeyField('leadvault.StaffUser', source_field='owner_id', null=True, db_constraint=True, to_field='id', related_name='owned_leads', on_delete=OnDelete.SET_NULL)),
                ('team', fields.ForeignKeyField('leadvault.Team', source_field='team_id', null=True, db_constraint=True, to_field='id', related_name='leads', on_delete=OnDelete.SET_NULL)),
                ('score', fields.IntField(default=0)),
                ('fit_score', fields.IntField(default=0)),
                ('engagement_score', fields.IntField(default=0)),
                ('scored_at', UtcDatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
                ('last_engaged_at', UtcDatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'lead', 'app': 'leadvault', 'indexes': [Index(fields=['created_at', 'id'], name='lead_created_idx'), Index(fields=['stage', 'created_at'], name='lead_stage_created_idx'), Index(fields=['owner_id', 'created_at'], name='lead_owner_created_idx'), Index(fields=['team_id', 'created_at'], name='lead_team_created_idx')], 'pk_attr': 'id', 'table_description': 'A person who may become a customer, and the company they represent.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Activity',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('lead', fields.ForeignKeyField('leadvault.Lead', source_field='lead_id', db_constraint=True, to_field='id', related_name='activities', on_delete=OnDelete.CASCADE)),
                ('type', fields.CharEnumField(description='PAGE_VIEW: page_view\nPRICING_PAGE_VIEW: pricing_page_view\nFEATURE_PAGE_VIEW: feature_page_view\nCONTENT_DOWNLOAD: content_download\nWEBINAR_REGISTERED: webinar_registered\nWEBINAR_ATTENDED: webinar_attended\nEMAIL_OPEN: email_open\nEMAIL_CLICK: email_click\nEMAIL_BOUNCE: email_bounce\nUNSUBSCRIBE: unsubscribe\nFORM_SUBMIT: form_submit\nDEMO_REQUEST: demo_request\nTRIAL_SIGNUP: trial_signup\nCALL: call\nMEETING: meeting\nEMAIL_SENT: email_sent', enum_type=ActivityType, max_length=32)),
                ('occurred_at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
                ('campaign', fields.ForeignKeyField('leadvault.Campaign', source_field='campaign_id', null=True, db_constraint=True, to_field='id', related_name='activities', on_delete=OnDelete.SET_NULL)),
                ('recorded_by', fields.ForeignKeyField('leadvault.StaffUser', source_field='recorded_by_id', null=True, db_constraint=True, to_field='id', related_name='recorded_activities', on_delete=OnDelete.SET_NULL)),
                ('details', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', UtcDatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'activity', 'app': 'leadvault', 'indexes': [Index(fields=['lead_id', 'occurred_at', 'id'], name='activity_lead_time_idx')], 'pk_attr': 'id', 'table_description': 'One engagement event. ``details`` holds non-personal metadata only (page path,'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ContactIndex',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('lead', fields.ForeignKeyField('leadvault.Lead', source_field='lead_id', db_constraint=True, to_field='id', related_name='contact_indexes', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharField(max_length=16)),
                ('key_version', fields.IntField()),
                ('digest', fields.CharField(max_length=64)),
            ],
            options={'table': 'contact_index', 'app': 'leadvault', 'indexes': [Index(fields=['kind', 'digest'], name='contact_index_lookup_idx'), Index(fields=['lead_id', 'kind'], name='contact_index_lead_idx')], 'pk_attr': 'id', 'table_description': "Blind indexes of a lead's email and phone (HMAC, never the value), one row per master"},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='StageChange',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('lead', fields.ForeignKeyField('leadvault.Lead', source_field='lead_id', db_constraint=True, to_field='id', related_name='stage_changes', on_delete=OnDelete.CASCADE)),
                ('from_stage', fields.CharEnumField(null=True, description='SUBSCRIBER: subscriber\nLEAD: lead\nMQL: mql\nSQL: sql\nOPPORTUNITY: opportunity\nCUSTOMER: customer\nDISQUALIFIED: disqualified', enum_type=Stage, max_length=16)),
                ('to_stage', fields.CharEnumField(description='SUBSCRIBER: subscriber\nLEAD: lead\nMQL: mql\nSQL: sql\nOPPORTUNITY: opportunity\nCUSTOMER: customer\nDISQUALIFIED: disqualified', enum_type=Stage, max_length=16)),
                ('changed_at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
                ('changed_by', fields.ForeignKeyField('leadvault.StaffUser', source_field='changed_by_id', null=True, db_constraint=True, to_field='id', related_name='stage_changes', on_delete=OnDelete.SET_NULL)),
                ('reason', PersonalDataField(null=True, max_length=1000, category='free_text', subject_field='lead_id')),
            ],
            options={'table': 'stage_change', 'app': 'leadvault', 'indexes': [Index(fields=['lead_id', 'changed_at', 'id'], name='stage_change_lead_idx')], 'pk_attr': 'id', 'table_description': 'Append-only history of the lifecycle stage of a lead.'},
            bases=['Model'],
        ),
    ]
