"""What the client and the log see of errors.

Expected errors (validation, refusals, typed input errors) reach the client as they are,
minus "Did you mean …?" suggestions, which would map the schema for someone probing it.
A database that cannot be read or written (a full disk, a lost connection, a lock held too
long) is not a bug: the client gets ``STORAGE_UNAVAILABLE`` with an ``errorId`` and may try
again later. Anything else is a bug: the client gets ``INTERNAL_SERVER_ERROR`` with an
``errorId``. Either way the server log gets the same id with the exception's type and where
it was raised, but not its message, which could quote a personal value.
"""

from __future__ import annotations

import errno
import logging
import re
import sqlite3
import traceback
import uuid

from graphql import GraphQLError
from tortoise.exceptions import (
    DBConnectionError,
    IntegrityError,
    OperationalError,
    TransactionManagementError,
)

log = logging.getLogger("leadvault.errors")
_SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")
INTERNAL_MESSAGE = "internal error; quote the errorId when reporting it"
STORAGE_MESSAGE = "the database is unavailable right now; try again later"


def is_storage_failure(error: BaseException | None) -> bool:
    """A failure of the database itself rather than of the request (a constraint that
    does not hold is a bug, not an outage)."""
    if isinstance(error, IntegrityError):
        return False
    return isinstance(
        error,
        OperationalError
        | DBConnectionError
        | TransactionManagementError
        | sqlite3.OperationalError,
    ) or (isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS))


def is_expected(error: GraphQLError) -> bool:
    original = error.original_error
    return original is None or isinstance(original, GraphQLError)


def without_suggestions(message: str) -> str:
    return _SUGGESTION.sub("", message)


def mask_unexpected(error: GraphQLError) -> None:
    """Rewrite ``error`` in place as an internal error with a fresh id, and log that id."""
    original = error.original_error
    error_id = uuid.uuid4().hex
    frames = (
        [
            f"{f.filename}:{f.lineno} in {f.name}"
            for f in traceback.extract_tb(original.__traceback__)
        ]
        if original is not None
        else []
    )
    log.error(
        "unexpected error",
        extra={
            "error_id": error_id,
            "error_type": type(original).__name__ if original is not None else "unknown",
            "path": list(error.path or []),
            "frames": frames[-8:],
        },
    )
    if is_storage_failure(original):
        error.message = STORAGE_MESSAGE
        error.extensions = {"code": "STORAGE_UNAVAILABLE", "errorId": error_id}
    else:
        error.message = INTERNAL_MESSAGE
        error.extensions = {"code": "INTERNAL_SERVER_ERROR", "errorId": error_id}
    error.original_error = None


def _code_of(error: GraphQLError) -> str:
    """A code for an expected error raised without one: bad variable values are the
    caller's input; anything else before execution is a document GraphQL refused."""
    if error.message.startswith("Variable '$"):
        return "BAD_USER_INPUT"
    if error.path is None:
        return "GRAPHQL_VALIDATION_FAILED"
    return "BAD_REQUEST"


def process(errors: list[GraphQLError]) -> None:
    for error in errors:
        if is_expected(error):
            error.message = without_suggestions(error.message)
            if not (error.extensions or {}).get("code"):
                error.extensions = {**(error.extensions or {}), "code": _code_of(error)}
        else:
            mask_unexpected(error)
