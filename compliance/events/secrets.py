"""An endpoint's signing secrets, sealed in their columns under the master-derived key."""

from __future__ import annotations

import uuid
from datetime import datetime

from compliance.events.models import WebhookEndpoint
from crypto.vault import current_vault, location_of, open_secret, seal_secret


def sealed(endpoint_id: uuid.UUID, column: str, secret: str) -> bytes:
    return seal_secret(current_vault(), location_of(WebhookEndpoint, column, endpoint_id), secret)


def signing_secrets(endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    """The current secret, and the previous one while its overlap lasts."""
    vault = current_vault()
    found = [
        open_secret(vault, location_of(WebhookEndpoint, "secret", endpoint.id), endpoint.secret)
    ]
    if (
        endpoint.previous_secret is not None
        and endpoint.previous_until is not None
        and endpoint.previous_until > now
    ):
        location = location_of(WebhookEndpoint, "previous_secret", endpoint.id)
        found.append(open_secret(vault, location, endpoint.previous_secret))
    return found
