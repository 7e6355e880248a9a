"""What a ledger event keeps as proof, and in what form.

The client address is cut to its network (IPv4 /24, IPv6 /48) and then sealed with the
subject's key, so it proves where a submission came from without pinning a device, and
erasure shreds it. The user agent is kept only as a keyed hash: enough to show two events
came from the same browser, useless to anyone without the key.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import ipaddress
from dataclasses import dataclass
from datetime import datetime

from crypto.vault import current_vault

USER_AGENT_KEY_PURPOSE = "consent-user-agent"


class ConsentKind(enum.StrEnum):
    GRANTED = "granted"
    """Consent given, or (for a legitimate-interest or contract purpose) the basis recorded."""
    WITHDRAWN = "withdrawn"
    """Consent withdrawn, or an objection to a legitimate-interest purpose."""
    EXPIRED = "expired"


class ConsentSource(enum.StrEnum):
    FORM = "form"
    IMPORT = "import"
    API = "api"
    STAFF = "staff"
    GPC = "gpc"
    SELF_SERVICE = "self_service"
    DOUBLE_OPT_IN = "double_opt_in"
    DATA_SUBJECT_REQUEST = "data_subject_request"
    SYSTEM = "system"


class EvidenceMethod(enum.StrEnum):
    """How a member of staff obtained a consent or withdrawal they record."""

    VERBAL = "verbal"
    WRITTEN = "written"
    EMAIL = "email"
    PHONE_CALL = "phone_call"
    EVENT = "event"


@dataclass(frozen=True, slots=True)
class Evidence:
    source: ConsentSource
    occurred_at: datetime | None = None
    """When the person acted (defaults to when it was recorded)."""
    source_ref: str | None = None
    """A form id, import id or request id: never a personal value."""
    client_address: str | None = None
    user_agent: str | None = None
    method: EvidenceMethod | None = None
    note: str | None = None
    """Staff's own words on how consent was obtained (sealed)."""


def client_network(address: str | None) -> str | None:
    """The network an address belongs to: IPv4 /24 or IPv6 /48, as CIDR text."""
    if not address:
        return None
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return None
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def user_agent_hash(user_agent: str | None) -> str | None:
    if not user_agent:
        return None
    key = current_vault().keyring.derive(USER_AGENT_KEY_PURPOSE)
    return hmac.new(key, user_agent.encode(), hashlib.sha256).hexdigest()
