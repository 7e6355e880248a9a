"""What ``/graphql`` accepts over HTTP, checked before GraphQL sees the request.

Production takes queries only as a JSON ``POST`` (no queries over GET, no form or
multipart bodies), one operation per request (no batching), a body of at most
``LEADVAULT_MAX_BODY_BYTES``, and, when required, only persisted operations.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import JSONResponse
from starlette.types import Message, Receive

from server.persisted import PersistedOperations, operation_hash


class Refusal(Exception):
    """The request is refused before GraphQL runs; nothing was executed."""

    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}

    def response(self) -> JSONResponse:
        return JSONResponse(
            {"errors": [{"message": self.message, "extensions": {"code": self.code}}]},
            status_code=self.status,
            headers=self.headers,
        )


TOO_LARGE = Refusal(413, "REQUEST_TOO_LARGE", "the request body is too large")


def check_content_type(content_type: str | None) -> None:
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media != "application/json":
        raise Refusal(415, "UNSUPPORTED_MEDIA_TYPE", "send GraphQL requests as application/json")


async def read_body(receive: Receive, content_length: str | None, limit: int) -> bytes:
    if content_length is not None:
        try:
            declared = int(content_length)
        except ValueError:
            raise Refusal(400, "BAD_REQUEST", "invalid Content-Length") from None
        if declared > limit:
            raise TOO_LARGE
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise Refusal(400, "BAD_REQUEST", "the client went away")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise TOO_LARGE
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _persisted_hash(payload: dict[str, Any]) -> str | None:
    extensions = payload.get("extensions")
    if not isinstance(extensions, dict):
        return None
    persisted = extensions.get("persistedQuery")
    if not isinstance(persisted, dict):
        return None
    sha = persisted.get("sha256Hash")
    if not isinstance(sha, str):
        raise Refusal(400, "BAD_REQUEST", "persistedQuery needs a sha256Hash")
    return sha


def admit(body: bytes, persisted: PersistedOperations) -> bytes:
    """The body GraphQL should see (a persisted operation's document filled in), or a
    :class:`Refusal`."""
    try:
        payload = json.loads(body)
    except ValueError:
        raise Refusal(400, "BAD_REQUEST", "the body is not valid JSON") from None
    if isinstance(payload, list):
        raise Refusal(400, "BATCHING_DISABLED", "send one operation per request")
    if not isinstance(payload, dict):
        raise Refusal(400, "BAD_REQUEST", "the body must be a JSON object")
    sha = _persisted_hash(payload)
    query = payload.get("query")
    if sha is not None:
        known = persisted.lookup(sha)
        if query is None:
            if known is None:
                raise Refusal(400, "PERSISTED_QUERY_NOT_FOUND", "unknown persisted operation")
            payload["query"] = known
            return json.dumps(payload).encode()
        if not isinstance(query, str) or operation_hash(query) != sha.lower():
            raise Refusal(400, "BAD_REQUEST", "the query does not match its sha256Hash")
    if persisted.required and not (isinstance(query, str) and persisted.allows(query)):
        raise Refusal(
            400,
            "PERSISTED_QUERY_REQUIRED",
            "this server runs only persisted operations; send a known sha256Hash",
        )
    return body


def replay(body: bytes, original: Receive) -> Receive:
    """A ``receive`` that hands ``body`` over once (the original stream was consumed), then
    passes on whatever the client sends next (a disconnect)."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return await original()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive
