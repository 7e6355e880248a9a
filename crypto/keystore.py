"""Per-subject data keys, kept in their own database apart from the lead data.

Each data subject (lead) has a random 256-bit data key. It is stored only wrapped
(AES-256-GCM under a key derived from a master key version, bound to the subject id), in a
key store with its own database URL. Deleting a subject's key (:meth:`SubjectKeyStore.shred`)
makes every ciphertext of that subject unreadable everywhere, including old backups of the
main database (crypto-shredding). What the key store keeps: subject id, wrapped key, the
master version that wraps it, creation time; nothing personal.

At start-up :meth:`SubjectKeyStore.verify_master_keys` compares each configured master
version with a check value recorded when that version was first used, so a wrong master key
stops start-up with a clear message instead of failing on the first read.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from crypto.envelope import KEY_BYTES, Location, open_sealed_bytes, seal_bytes
from crypto.keyring import Keyring, KeyringError

CONNECTION = "keystore"
WRAP_PURPOSE = "subject-key-wrap"
CHECK_PURPOSE = "key-check"
_CHECK_MESSAGE = b"leadvault master key check"


def _location(subject_id: str) -> Location:
    return Location("subject_key", "data_key", subject_id)


async def create_schema(db: BaseDBAsyncClient) -> None:
    """The key store's two tables; idempotent."""
    blob = "BYTEA" if db.capabilities.dialect == "postgres" else "BLOB"
    await db.execute_script(
        "CREATE TABLE IF NOT EXISTS subject_key ("
        f" subject_id VARCHAR(64) PRIMARY KEY, wrapped_key {blob} NOT NULL,"
        " master_version INTEGER NOT NULL, created_at VARCHAR(40) NOT NULL);"
        "CREATE INDEX IF NOT EXISTS subject_key_version_idx ON subject_key (master_version);"
        "CREATE TABLE IF NOT EXISTS master_key_check ("
        f" master_version INTEGER PRIMARY KEY, check_value {blob} NOT NULL);"
    )


class SubjectKeyStore:
    def __init__(self, keyring: Keyring, connection_name: str = CONNECTION) -> None:
        self.keyring = keyring
        self.connection_name = connection_name

    @property
    def _db(self) -> BaseDBAsyncClient:
        return connections.get(self.connection_name)

    def _sql(self, statement: str) -> str:
        """Statements are written with ``?`` placeholders; PostgreSQL numbers them."""
        if self._db.capabilities.dialect != "postgres":
            return statement
        parts = statement.split("?")
        numbered = [part + f"${i}" for i, part in enumerate(parts[:-1], start=1)]
        return "".join(numbered) + parts[-1]

    async def ensure_schema(self) -> None:
        await create_schema(self._db)

    def _check_value(self, version: int) -> bytes:
        key = self.keyring.derive(CHECK_PURPOSE, version)
        return hmac.new(key, _CHECK_MESSAGE, hashlib.sha256).digest()

    async def verify_master_keys(self) -> None:
        """Refuse a keyring that does not match the key store; record new versions.
        Processes starting together on a new key store race to record a version: the
        first one's row stays, and every one then checks its key against that row."""
        recorded = await self._recorded()
        await self._check(recorded)
        missing = [version for version in self.keyring.versions if version not in recorded]
        for version in missing:
            await self._db.execute_query(
                self._sql(
                    "INSERT INTO master_key_check (master_version, check_value) VALUES (?, ?) "
                    "ON CONFLICT (master_version) DO NOTHING"
                ),
                [version, self._check_value(version)],
            )
        if missing:
            await self._check(await self._recorded())

    async def _recorded(self) -> dict[int, bytes]:
        rows = await self._db.execute_query_dict(
            "SELECT master_version, check_value FROM master_key_check"
        )
        return {int(r["master_version"]): bytes(r["check_value"]) for r in rows}

    async def _check(self, recorded: dict[int, bytes]) -> None:
        for version, check in recorded.items():
            if version not in self.keyring.versions:
                if (await self.status()).get(version):
                    raise KeyringError(
                        f"subject keys are wrapped under master key version {version}, "
                        "which is not configured"
                    )
                continue
            if not hmac.compare_digest(check, self._check_value(version)):
                raise KeyringError(
                    f"master key version {version} is not the key this key store was created with"
                )

    def _wrap(self, subject_id: str, data_key: bytes) -> tuple[bytes, int]:
        version = self.keyring.active_version
        wrap_key = self.keyring.derive(WRAP_PURPOSE, version)
        return seal_bytes(wrap_key, version, _location(subject_id), data_key), version

    def _unwrap(self, subject_id: str, wrapped: bytes, version: int) -> bytes:
        wrap_key = self.keyring.derive(WRAP_PURPOSE, version)
        return open_sealed_bytes(wrap_key, wrapped, _location(subject_id))

    async def load(self, subject_ids: Iterable[str]) -> dict[str, bytes]:
        """Data keys of the given subjects; a shredded (or never created) subject is absent."""
        wanted = sorted(set(subject_ids))
        if not wanted:
            return {}
        marks = ", ".join("?" * len(wanted))
        rows = await self._db.execute_query_dict(
            self._sql(
                "SELECT subject_id, wrapped_key, master_version FROM subject_key "  # noqa: S608
                f"WHERE subject_id IN ({marks})"
            ),
            wanted,
        )
        return {
            r["subject_id"]: self._unwrap(
                r["subject_id"], bytes(r["wrapped_key"]), int(r["master_version"])
            )
            for r in rows
        }

    async def load_or_create(self, subject_ids: Iterable[str]) -> dict[str, bytes]:
        """Data keys of the given subjects, creating (and storing) the missing ones."""
        wanted = sorted(set(subject_ids))
        found = await self.load(wanted)
        missing = [s for s in wanted if s not in found]
        if missing:
            created = {s: os.urandom(KEY_BYTES) for s in missing}
            now = datetime.now(UTC).isoformat()
            rows = []
            for subject_id, data_key in created.items():
                wrapped, version = self._wrap(subject_id, data_key)
                rows.append([subject_id, wrapped, version, now])
            await self._db.execute_many(
                self._sql(
                    "INSERT INTO subject_key (subject_id, wrapped_key, master_version, "
                    "created_at) VALUES (?, ?, ?, ?)"
                ),
                rows,
            )
            found.update(created)
        return found

    async def shred(self, subject_id: str) -> bool:
        """Delete the subject's data key for good. True if there was one."""
        return await self.shred_many([subject_id]) > 0

    async def shred_many(self, subject_ids: Iterable[str]) -> int:
        """Delete these subjects' data keys for good; returns how many there were.

        On SQLite the deleted rows are overwritten (``secure_delete``) and the write-ahead
        log is checkpointed and truncated, so the wrapped key does not linger in free pages
        or old log frames of the key store file. (PostgreSQL keeps dead rows until
        ``VACUUM``; run it on the key store after erasures.)
        """
        wanted = sorted(set(subject_ids))
        if not wanted:
            return 0
        sqlite = self._db.capabilities.dialect == "sqlite"
        if sqlite:
            await self._db.execute_script("PRAGMA secure_delete = ON")
        marks = ", ".join("?" * len(wanted))
        count, _ = await self._db.execute_query(
            self._sql(f"DELETE FROM subject_key WHERE subject_id IN ({marks})"),  # noqa: S608
            wanted,
        )
        if sqlite:
            await self._db.execute_script("PRAGMA wal_checkpoint(TRUNCATE)")
        return count

    async def created_before(self, cutoff: datetime, after: str | None, limit: int) -> list[str]:
        """Subject ids whose keys were created before ``cutoff``, in id order, after
        ``after`` (a page of at most ``limit``)."""
        rows = await self._db.execute_query_dict(
            self._sql(
                "SELECT subject_id FROM subject_key WHERE created_at < ? AND subject_id > ? "
                "ORDER BY subject_id LIMIT ?"
            ),
            [cutoff.astimezone(UTC).isoformat(), after or "", limit],
        )
        return [str(r["subject_id"]) for r in rows]

    async def status(self) -> dict[int, int]:
        """How many subject keys each master key version wraps."""
        rows = await self._db.execute_query_dict(
            "SELECT master_version, count(*) AS n FROM subject_key GROUP BY master_version"
        )
        return {int(r["master_version"]): int(r["n"]) for r in rows}

    async def rewrap(
        self,
        batch_size: int = 1000,
        on_batch: Callable[[int], None] | None = None,
        before_commit: Callable[[int], Awaitable[None]] | None = None,
    ) -> int:
        """Re-wrap every key not under the active master version, one committed batch at a
        time. Safe to stop at any point and run again: it resumes with what is left.
        ``before_commit(n)`` runs before each batch of ``n`` keys commits (the caller's
        audit announcement: it commits first, so no batch commits unrecorded)."""
        active = self.keyring.active_version
        done = 0
        while True:
            async with in_transaction(self.connection_name) as db:
                rows = await db.execute_query_dict(
                    self._sql(
                        "SELECT subject_id, wrapped_key, master_version FROM subject_key "
                        "WHERE master_version <> ? ORDER BY subject_id LIMIT ?"
                    ),
                    [active, batch_size],
                )
                if not rows:
                    return done
                updates = []
                for row in rows:
                    subject_id = row["subject_id"]
                    data_key = self._unwrap(
                        subject_id, bytes(row["wrapped_key"]), int(row["master_version"])
                    )
                    wrapped, version = self._wrap(subject_id, data_key)
                    updates.append([wrapped, version, subject_id])
                if before_commit is not None:
                    await before_commit(len(updates))
                await db.execute_many(
                    self._sql(
                        "UPDATE subject_key SET wrapped_key = ?, master_version = ? "
                        "WHERE subject_id = ?"
                    ),
                    updates,
                )
            done += len(rows)
            if on_batch:
                on_batch(len(rows))
