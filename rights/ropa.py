"""The record of processing activities (GDPR Art. 30), generated from the configuration.

One entry per configured purpose: its description and lawful basis, the data subjects and
categories of personal data, recipients, retention periods, and the technical and
organisational security measures this deployment applies. Generated, not hand-kept, so it
says what the running configuration actually does.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

from compliance.consent.purposes import purposes
from rights.config import dsr_config
from rights.document import categories
from rights.retention_policy import retention_policy

KIND = "leadvault.record-of-processing"
SUBJECTS = "prospective and existing business customers' contact persons (sales leads)"
SECURITY_MEASURES = (
    "personal fields encrypted in their columns with AES-256-GCM under a data key per person, "
    "bound to table, column and row",
    "data keys wrapped by a versioned master key and kept in a separate key store; erasure "
    "deletes the person's key (crypto-shredding, also of backups)",
    "exact-match lookup through keyed blind indexes (HMAC-SHA256), never plain hashes",
    "role-based access per field and per row, with masking, consent checks and a declared "
    "purpose for data-subject requests",
    "multi-factor authentication (TOTP) for every member of staff, step-up for sensitive "
    "operations, Argon2id password hashing, throttled sign-in",
    "tamper-evident audit trail of every read and change of personal data (hash chain with "
    "Ed25519-signed checkpoints), holding no personal values",
    "append-only consent ledger with evidence",
    "retention and erasure jobs on a schedule, legal holds, signed erasure certificates",
)


def record_of_processing(now: datetime) -> dict[str, Any]:
    config = dsr_config()
    shared = {
        "data_subjects": SUBJECTS,
        "categories": categories(),
        "recipients": list(config.recipients) or ["none outside the controller"],
        "transfers_outside_eea": "none configured",
        "retention": retention_policy().describe(),
    }
    return {
        "kind": KIND,
        "generated_at": now.isoformat(),
        "controller": config.controller,
        "processing_activities": [
            {
                "purpose": p.name,
                "description": p.description,
                "lawful_basis": p.basis.value,
                "notice_version": p.notice.version,
                **shared,
            }
            for p in purposes()
        ],
        "security_measures": list(SECURITY_MEASURES),
    }


def as_csv(record: dict[str, Any]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        [
            "controller",
            "purpose",
            "description",
            "lawful_basis",
            "data_subjects",
            "categories",
            "recipients",
            "retention",
            "security_measures",
        ]
    )
    for entry in record["processing_activities"]:
        writer.writerow(
            [
                record["controller"],
                entry["purpose"],
                entry["description"],
                entry["lawful_basis"],
                entry["data_subjects"],
                "; ".join(
                    f"{c['category']}: {', '.join(c['fields'])}" for c in entry["categories"]
                ),
                "; ".join(entry["recipients"]),
                "; ".join(f"{r['category']}: {r['period']}" for r in entry["retention"]),
                "; ".join(record["security_measures"]),
            ]
        )
    return buffer.getvalue()
