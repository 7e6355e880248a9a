"""The record of processing is generated from the configuration."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import UTC, datetime

from compliance.consent.purposes import purposes
from rights.config import dsr_config, install_dsr_config
from rights.retention_policy import RetentionPolicy, install_retention_policy, retention_policy
from rights.ropa import as_csv, record_of_processing

NOW = datetime(2026, 11, 1, tzinfo=UTC)


def test_every_configured_purpose_is_recorded_with_categories_and_retention() -> None:
    record = record_of_processing(NOW)

    assert [a["purpose"] for a in record["processing_activities"]] == list(purposes().names)
    first = record["processing_activities"][0]
    assert {c["category"] for c in first["categories"]} >= {"contact", "identity"}
    assert {r["category"] for r in first["retention"]} == {
        "leads",
        "activities",
        "sessions",
        "exports",
        "audit_events",
    }
    assert record["security_measures"]


def test_configuration_changes_show_in_the_record_and_its_csv() -> None:
    before_config, before_policy = dsr_config(), retention_policy()
    install_dsr_config(replace(before_config, controller="Acme GmbH", recipients=("Mailer Inc",)))
    install_retention_policy(RetentionPolicy(lead_months=12))
    try:
        record = record_of_processing(NOW)
        rows = list(csv.DictReader(io.StringIO(as_csv(record))))
    finally:
        install_dsr_config(before_config)
        install_retention_policy(before_policy)

    assert record["controller"] == "Acme GmbH"
    assert len(rows) == len(purposes().names)
    assert rows[0]["recipients"] == "Mailer Inc"
    assert "leads: 12 months after the last engagement" in rows[0]["retention"]
