"""All configuration, read once from the environment.

Production is the default: development conveniences (GraphiQL, introspection, queries over
GET, a generated master key file) are only switched on by ``LEADVAULT_ENV=dev``. A setting with a
bad value stops start-up with a message that names the setting but never echoes its value,
because values may be secrets.
"""

from __future__ import annotations

import enum
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from identity.policy import BACKOFF_AFTER, AuthPolicy
from identity.throttle import Policy
from schema.limits.config import QueryLimits
from schema.streams import SubscriptionLimits
from server.env_reader import PREFIX, EnvReader, SettingsError

__all__ = ["PREFIX", "Environment", "Secret", "Settings", "SettingsError", "redact_url"]


class Environment(enum.StrEnum):
    DEV = "dev"
    PROD = "prod"


class Secret:
    """A string that never prints itself."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    def __str__(self) -> str:
        return "**********"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def redact_url(url: str) -> str:
    """The URL with any password replaced, safe for logs and error messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    netloc = f"{parts.username or ''}:**********@{host}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


@dataclass(frozen=True)
class Settings:
    env: Environment = Environment.PROD
    data_dir: Path = Path("data")
    database_url: Secret = field(default_factory=lambda: Secret(""))
    keystore_url: Secret = field(default_factory=lambda: Secret(""))
    master_key: Secret = field(default_factory=lambda: Secret(""))
    master_key_file: Path | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    cors_origins: tuple[str, ...] = ()
    log_level: str = "INFO"
    max_page_size: int = 100
    shutdown_timeout: int = 15
    session_idle_minutes: int = 30
    session_lifetime_hours: int = 12
    login_lock_after: int = 10
    step_up_minutes: int = 10
    trusted_proxies: tuple[str, ...] = ()
    max_query_cost: int = 10_000
    rate_limit_requests: int = 600
    rate_limit_cost: int = 200_000
    max_body_bytes: int = 64 * 1024
    compiled_reads: bool = True
    shared_subscription_payloads: bool = True
    persisted_operations_file: Path | None = None
    require_persisted_operations: bool = False
    audit_checkpoint_every: int = 1000
    audit_checkpoint_minutes: int = 60
    audit_retention_days: int = 2192
    purposes_file: Path | None = None
    public_url: str = "http://127.0.0.1:8000"
    double_opt_in: bool = False
    consent_link_days: int = 30
    outbox_dir: Path | None = None
    outbox_interval_seconds: int = 30
    consent_job_minutes: int = 60
    scoring_job_seconds: int = 60
    score_decay_hours: int = 24
    first_contact_sla_minutes: int = 60
    first_contact_sla_by_source: str = ""
    cold_after_days: int = 30
    intake_team: str | None = None
    welcome_next_step: str = "Reply to this message to book a 20-minute call with our team."
    dsr_holidays: str = ""
    dsr_code_minutes: int = 30
    dsr_link_hours: int = 24
    controller_name: str = "LeadVault operator"
    recipients: tuple[str, ...] = ()
    retention_lead_months: int = 24
    retention_activity_months: int = 25
    retention_session_days: int = 90
    retention_export_days: int = 7
    retention_job_hours: int = 24
    workers: int = 1
    max_concurrent_requests: int = 4
    serve_jobs: bool = False
    jobs_poll_seconds: int = 5
    webhook_poll_ms: int = 200
    subscriptions_per_session: int = 10
    subscription_events_per_second: int = 20
    subscription_session_check_seconds: int = 10
    subscription_idle_seconds: int = 300
    webhook_allow_networks: str = ""
    db_pool_size: int = 10
    db_statement_cache: bool = True
    replica_url: Secret = field(default_factory=lambda: Secret(""))
    metrics_token: Secret = field(default_factory=lambda: Secret(""))
    tracing: bool = False

    @property
    def is_dev(self) -> bool:
        return self.env is Environment.DEV

    def subscription_limits(self) -> SubscriptionLimits:
        return SubscriptionLimits(
            per_session=self.subscriptions_per_session,
            per_second=self.subscription_events_per_second,
            session_check_seconds=float(self.subscription_session_check_seconds),
            idle_seconds=float(self.subscription_idle_seconds),
        )

    def auth_policy(self) -> AuthPolicy:
        """Sign-in timings and limits from these settings."""
        return AuthPolicy(
            session_idle=timedelta(minutes=self.session_idle_minutes),
            session_lifetime=timedelta(hours=self.session_lifetime_hours),
            step_up_window=timedelta(minutes=self.step_up_minutes),
            account=Policy(backoff_after=BACKOFF_AFTER, lock_after=self.login_lock_after),
        )

    def query_limits(self) -> QueryLimits:
        """What one GraphQL request and one client may cost, from these settings."""
        return QueryLimits(
            max_query_cost=self.max_query_cost,
            max_page_size=self.max_page_size,
            rate_limit_requests=self.rate_limit_requests,
            rate_limit_cost=self.rate_limit_cost,
        )

    @property
    def database_label(self) -> str:
        return redact_url(self.database_url.reveal())

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, *, default_env: Environment | None = None
    ) -> Settings:
        env_map = os.environ if environ is None else environ
        reader = EnvReader(env_map)
        env = reader.choice("ENV", Environment, default_env or Environment.PROD)
        data_dir = Path(reader.text("DATA_DIR", "data"))
        default_db = f"sqlite://{data_dir / 'leadvault.sqlite3'}"
        database_url = reader.database_url("DATABASE_URL", default_db)
        keystore_url = reader.database_url(
            "KEYSTORE_URL", f"sqlite://{data_dir / 'keystore.sqlite3'}"
        )
        if keystore_url == database_url:
            raise SettingsError(
                f"{PREFIX}KEYSTORE_URL: must be a different database from LEADVAULT_DATABASE_URL"
            )
        settings = cls(
            env=env,
            data_dir=data_dir,
            database_url=Secret(database_url),
            keystore_url=Secret(keystore_url),
            master_key=Secret(reader.text("MASTER_KEY", "")),
            master_key_file=reader.optional_path("MASTER_KEY_FILE"),
            host=reader.text("HOST", "127.0.0.1"),
            port=reader.integer("PORT", 8000, minimum=1, maximum=65535),
            cors_origins=reader.origins("CORS_ORIGINS"),
            log_level=reader.choice_str("LOG_LEVEL", ("DEBUG", "INFO", "WARNING", "ERROR"), "INFO"),
            max_page_size=reader.integer("MAX_PAGE_SIZE", 100, minimum=1, maximum=1000),
            shutdown_timeout=reader.integer("SHUTDOWN_TIMEOUT", 15, minimum=0, maximum=600),
            session_idle_minutes=reader.integer(
                "SESSION_IDLE_MINUTES", 30, minimum=1, maximum=1440
            ),
            session_lifetime_hours=reader.integer(
                "SESSION_LIFETIME_HOURS", 12, minimum=1, maximum=168
            ),
            login_lock_after=reader.integer("LOGIN_LOCK_AFTER", 10, minimum=6, maximum=1000),
            step_up_minutes=reader.integer("STEP_UP_MINUTES", 10, minimum=1, maximum=720),
            trusted_proxies=reader.addresses("TRUSTED_PROXIES"),
            max_query_cost=reader.integer("MAX_QUERY_COST", 10_000, minimum=10, maximum=10**7),
            rate_limit_requests=reader.integer(
                "RATE_LIMIT_REQUESTS", 600, minimum=1, maximum=10**6
            ),
            rate_limit_cost=reader.integer("RATE_LIMIT_COST", 200_000, minimum=10, maximum=10**9),
            max_body_bytes=reader.integer(
                "MAX_BODY_BYTES", 64 * 1024, minimum=1024, maximum=16 * 1024 * 1024
            ),
            compiled_reads=reader.flag("COMPILED_READS", True),
            shared_subscription_payloads=reader.flag("SHARED_SUBSCRIPTION_PAYLOADS", True),
            persisted_operations_file=reader.optional_path("PERSISTED_OPERATIONS_FILE"),
            require_persisted_operations=reader.flag("REQUIRE_PERSISTED_OPERATIONS", False),
            audit_checkpoint_every=reader.integer(
                "AUDIT_CHECKPOINT_EVERY", 1000, minimum=1, maximum=10**7
            ),
            audit_checkpoint_minutes=reader.integer(
                "AUDIT_CHECKPOINT_MINUTES", 60, minimum=1, maximum=7 * 24 * 60
            ),
            audit_retention_days=reader.integer(
                "AUDIT_RETENTION_DAYS", 2192, minimum=30, maximum=36500
            ),
            purposes_file=reader.optional_path("PURPOSES_FILE"),
            public_url=reader.public_url("PUBLIC_URL", "http://127.0.0.1:8000"),
            double_opt_in=reader.flag("DOUBLE_OPT_IN", False),
            consent_link_days=reader.integer("CONSENT_LINK_DAYS", 30, minimum=1, maximum=365),
            outbox_dir=reader.optional_path("OUTBOX_DIR")
            or (data_dir / "outbox" if env is Environment.DEV else None),
            outbox_interval_seconds=reader.integer(
                "OUTBOX_INTERVAL_SECONDS", 30, minimum=1, maximum=3600
            ),
            consent_job_minutes=reader.integer(
                "CONSENT_JOB_MINUTES", 60, minimum=1, maximum=7 * 24 * 60
            ),
            scoring_job_seconds=reader.integer(
                "SCORING_JOB_SECONDS", 60, minimum=1, maximum=24 * 3600
            ),
            score_decay_hours=reader.integer("SCORE_DECAY_HOURS", 24, minimum=1, maximum=24 * 30),
            first_contact_sla_minutes=reader.integer(
                "FIRST_CONTACT_SLA_MINUTES", 60, minimum=1, maximum=60 * 24 * 30
            ),
            first_contact_sla_by_source=reader.text("FIRST_CONTACT_SLA_BY_SOURCE", ""),
            cold_after_days=reader.integer("COLD_AFTER_DAYS", 30, minimum=1, maximum=3650),
            intake_team=reader.text("INTAKE_TEAM", "").strip() or None,
            welcome_next_step=reader.text(
                "WELCOME_NEXT_STEP",
                "Reply to this message to book a 20-minute call with our team.",
            ),
            dsr_holidays=reader.text("DSR_HOLIDAYS", ""),
            dsr_code_minutes=reader.integer("DSR_CODE_MINUTES", 30, minimum=5, maximum=24 * 60),
            dsr_link_hours=reader.integer("DSR_LINK_HOURS", 24, minimum=1, maximum=7 * 24),
            controller_name=reader.text("CONTROLLER_NAME", "LeadVault operator"),
            recipients=tuple(
                part.strip() for part in reader.text("RECIPIENTS", "").split(";") if part.strip()
            ),
            retention_lead_months=reader.integer(
                "RETENTION_LEAD_MONTHS", 24, minimum=1, maximum=1200
            ),
            retention_activity_months=reader.integer(
                "RETENTION_ACTIVITY_MONTHS", 25, minimum=1, maximum=1200
            ),
            retention_session_days=reader.integer(
                "RETENTION_SESSION_DAYS", 90, minimum=1, maximum=36500
            ),
            retention_export_days=reader.integer(
                "RETENTION_EXPORT_DAYS", 7, minimum=1, maximum=365
            ),
            retention_job_hours=reader.integer(
                "RETENTION_JOB_HOURS", 24, minimum=1, maximum=24 * 30
            ),
            workers=reader.integer(
                "WORKERS", 1 if env is Environment.DEV else default_workers(), minimum=1, maximum=64
            ),
            max_concurrent_requests=reader.integer(
                "MAX_CONCURRENT_REQUESTS", 4, minimum=1, maximum=1000
            ),
            serve_jobs=reader.flag("SERVE_JOBS", False),
            jobs_poll_seconds=reader.integer("JOBS_POLL_SECONDS", 5, minimum=1, maximum=60),
            webhook_poll_ms=reader.integer("WEBHOOK_POLL_MS", 200, minimum=20, maximum=60_000),
            subscriptions_per_session=reader.integer(
                "SUBSCRIPTIONS_PER_SESSION", 10, minimum=1, maximum=1000
            ),
            subscription_events_per_second=reader.integer(
                "SUBSCRIPTION_EVENTS_PER_SECOND", 20, minimum=1, maximum=10_000
            ),
            subscription_session_check_seconds=reader.integer(
                "SUBSCRIPTION_SESSION_CHECK_SECONDS", 10, minimum=1, maximum=300
            ),
            subscription_idle_seconds=reader.integer(
                "SUBSCRIPTION_IDLE_SECONDS", 300, minimum=5, maximum=86_400
            ),
            webhook_allow_networks=reader.text("WEBHOOK_ALLOW_NETWORKS", ""),
            db_pool_size=reader.integer("DB_POOL_SIZE", 10, minimum=1, maximum=500),
            db_statement_cache=reader.flag("DB_STATEMENT_CACHE", True),
            replica_url=Secret(reader.optional_database_url("REPLICA_DATABASE_URL")),
            metrics_token=Secret(reader.secret_text("METRICS_TOKEN", minimum_length=16)),
            tracing=reader.flag("TRACING", False),
        )
        from leads.followup import parse_sla_by_source

        try:
            parse_sla_by_source(settings.first_contact_sla_by_source)
        except ValueError as error:
            raise SettingsError(f"{PREFIX}FIRST_CONTACT_SLA_BY_SOURCE: {error}") from None
        from compliance.events.addresses import networks

        try:
            networks(settings.webhook_allow_networks)
        except ValueError:
            raise SettingsError(
                f"{PREFIX}WEBHOOK_ALLOW_NETWORKS: not a comma-separated list of addresses or "
                "networks (CIDR)"
            ) from None
        from rights.config import parse_holidays

        try:
            parse_holidays(settings.dsr_holidays)
        except ValueError as error:
            raise SettingsError(f"{PREFIX}DSR_HOLIDAYS: {error}") from None
        if settings.purposes_file is not None:
            from compliance.consent.purposes import PurposeConfigError, Purposes

            try:
                Purposes.from_file(settings.purposes_file)
            except PurposeConfigError as error:
                raise SettingsError(f"{PREFIX}PURPOSES_FILE: {error}") from None
        replica = settings.replica_url.reveal()
        if replica and dialect_of(replica) != dialect_of(database_url):
            raise SettingsError(
                f"{PREFIX}REPLICA_DATABASE_URL: must be a replica of LEADVAULT_DATABASE_URL "
                "(the same kind of database)"
            )
        if settings.require_persisted_operations and settings.persisted_operations_file is None:
            raise SettingsError(
                f"{PREFIX}REQUIRE_PERSISTED_OPERATIONS: needs "
                f"{PREFIX}PERSISTED_OPERATIONS_FILE, the list of allowed operations"
            )
        return settings

    def describe(self) -> dict[str, str]:
        """Every setting as printable text, secrets redacted."""
        described: dict[str, str] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            if isinstance(value, Secret):
                text = value.reveal()
                value = redact_url(text) if "://" in text else ("**********" if text else "")
            elif isinstance(value, bool):
                value = str(value).lower()
            elif isinstance(value, tuple):
                value = (";" if item.name == "recipients" else ",").join(value)
            elif isinstance(value, enum.Enum):
                value = value.value
            described[item.name] = "" if value is None else str(value)
        return described


def default_workers() -> int:
    """``serve``'s worker processes in production unless LEADVAULT_WORKERS says otherwise:
    one per CPU this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def dialect_of(url: str) -> str:
    return "sqlite" if url.startswith("sqlite") else "postgres"
