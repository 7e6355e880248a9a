"""Password hashing (Argon2id) and the password rules.

Hashing uses argon2-cffi's RFC 9106 low-memory profile (t=3, m=64 MiB, p=4). It runs on a
small dedicated thread pool, never on the event loop, so a burst of logins queues there
while other requests keep being served; the pool's size bounds the memory a burst can take
(64 MiB per worker). A hash made with older parameters still verifies and is replaced on
the next successful login.

An attempt against an account that does not exist, is disabled or has no password verifies
against a dummy hash with the same parameters, so it costs the same time as a real one.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import threading
from concurrent.futures import ThreadPoolExecutor
from functools import cache

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from core.errors import FieldError

MIN_LENGTH = 12
MAX_LENGTH = 1024
PARAMETERS = profiles.RFC_9106_LOW_MEMORY

_hasher = PasswordHasher.from_parameters(PARAMETERS)
POOL_SIZE = max(1, min(4, os.cpu_count() or 1))
HASHING_NICENESS = 10


def _lower_priority() -> None:
    """Run hashing (and the lane threads Argon2 starts from it) at a lower CPU priority than
    the event loop, so a burst of logins cannot crowd out the requests being served."""
    with contextlib.suppress(AttributeError, OSError):  # not Linux, or not permitted
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASHING_NICENESS)


_pool = ThreadPoolExecutor(
    max_workers=POOL_SIZE, thread_name_prefix="argon2", initializer=_lower_priority
)


@cache
def dummy_hash() -> str:
    """A hash of a random password nobody knows, made once per process."""
    return _hasher.hash(secrets.token_urlsafe(24))


async def prepare() -> None:
    """Make the dummy hash before serving, off the event loop, so the first sign-in for an
    unknown account costs one hash like every other attempt, not two."""
    await asyncio.get_running_loop().run_in_executor(_pool, dummy_hash)


def _verify_blocking(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


async def hash_password(password: str) -> str:
    return await asyncio.get_running_loop().run_in_executor(_pool, _hasher.hash, password)


async def verify_password(stored: str | None, password: str) -> bool:
    """Whether ``password`` matches ``stored``; with no stored hash the dummy hash is
    checked (and the answer is always no), so both paths cost the same. A password longer
    than any that can be set is refused without hashing it."""
    if len(password) > MAX_LENGTH:
        return False
    loop = asyncio.get_running_loop()
    if stored is None:
        await loop.run_in_executor(_pool, _verify_blocking, dummy_hash(), password)
        return False
    return await loop.run_in_executor(_pool, _verify_blocking, stored, password)


def needs_rehash(stored: str) -> bool:
    try:
        return _hasher.check_needs_rehash(stored)
    except InvalidHashError:
        return True


def _squash(text: str) -> str:
    return "".join(ch for ch in text.casefold() if ch.isalnum())


def password_problems(
    password: str, *, email: str, display_name: str, field: str = "password"
) -> list[FieldError]:
    """What is wrong with a new password. Messages state the rule, never the password."""
    if len(password) < MIN_LENGTH:
        return [FieldError(field, "too_short", f"{field} must be at least {MIN_LENGTH} characters")]
    if len(password) > MAX_LENGTH:
        return [FieldError(field, "too_long", f"{field} must be at most {MAX_LENGTH} characters")]
    squashed = _squash(password)
    local_part = email.split("@", 1)[0]
    personal = [_squash(email), _squash(local_part), _squash(display_name)]
    personal += [_squash(part) for part in display_name.split()]
    personal += [_squash(part) for part in local_part.replace("_", ".").split(".")]
    if any(len(item) >= 4 and item in squashed for item in personal):
        return [
            FieldError(
                field,
                "contains_account_name",
                f"{field} must not contain the account's email address or name",
            )
        ]
    if len(set(password)) < 4:
        return [FieldError(field, "too_simple", f"{field} repeats too few characters")]
    return []
