"""Persisted operations: an allow-list of GraphQL documents by SHA-256.

The file is JSON, ``{"<sha256 of the document, hex>": "<the document>"}``, built with
``leadvault schema persist``. A client may send ``extensions.persistedQuery.sha256Hash``
alone (the server fills in the document) or with the document. When the deployment
requires persisted operations, any other document is refused before it is parsed.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from server.settings import SettingsError


def operation_hash(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()


@dataclass(frozen=True)
class PersistedOperations:
    documents: dict[str, str]
    required: bool

    @classmethod
    def none(cls) -> PersistedOperations:
        return cls({}, required=False)

    @classmethod
    def load(cls, path: Path, *, required: bool) -> PersistedOperations:
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise SettingsError(
                "LEADVAULT_PERSISTED_OPERATIONS_FILE: cannot read it as JSON "
                f"({type(error).__name__})"
            ) from None
        if not isinstance(raw, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in raw.items()
        ):
            raise SettingsError(
                "LEADVAULT_PERSISTED_OPERATIONS_FILE: must map SHA-256 hashes to documents"
            )
        wrong = [k for k, v in raw.items() if operation_hash(v) != k.lower()]
        if wrong:
            raise SettingsError(
                f"LEADVAULT_PERSISTED_OPERATIONS_FILE: {len(wrong)} entries do not match the "
                "SHA-256 of their document"
            )
        return cls({k.lower(): v for k, v in raw.items()}, required=required)

    def lookup(self, sha256: str) -> str | None:
        return self.documents.get(sha256.lower())

    def allows(self, document: str) -> bool:
        return operation_hash(document) in self.documents


def build_manifest(documents: list[str]) -> dict[str, str]:
    return {operation_hash(d): d for d in documents}
