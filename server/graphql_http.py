"""What ``/graphql`` accepts over HTTP, checked before GraphQL sees the request.

Production takes queries only as a JSON ``POST`` (no queries over GET, no form or
multipart bodies), one operation per request (no batching), a body of at most
``LEADVAULT_MAX_BODY_BYTES``, and, when required, only persisted operations.

The body is strict JSON: UTF-8 only (no byte order mark, no other ``charset``), no key
repeated within an object, nested at most :data:`MAX_JSON_DEPTH` deep, no unpaired UTF-16
surrogate in any string, and only the keys ``query`` (a string), ``variables`` and
``extensions`` (objects) and ``operationName`` (a string). A document with several
operations must name the one to run, and that name must exist. One ``Authorization``
header at most, and never ``Content-Length`` with ``Transfer-Encoding``. Every refusal is
the JSON error shape with a code; nothing runs.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    Node,
    OperationDefinitionNode,
    parse,
)
from starlette.responses import JSONResponse
from starlette.types import Message, Receive

from schema import MAX_TOKENS
from server.persisted import PersistedOperations, operation_hash


class Refusal(Exception):
    """The request is refused before GraphQL runs; nothing was executed."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        headers: dict[str, str] | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}
        self.field = field

    def response(self) -> JSONResponse:
        extensions: dict[str, str] = {"code": self.code}
        if self.field is not None:
            extensions["field"] = self.field
        return JSONResponse(
            {"errors": [{"message": self.message, "extensions": extensions}]},
            status_code=self.status,
            headers=self.headers,
        )


TOO_LARGE = Refusal(413, "REQUEST_TOO_LARGE", "the request body is too large")


def check_content_type(content_type: str | None) -> None:
    media, _, parameters = (content_type or "").partition(";")
    if media.strip().lower() != "application/json":
        raise Refusal(415, "UNSUPPORTED_MEDIA_TYPE", "send GraphQL requests as application/json")
    for parameter in parameters.split(";"):
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() != "utf-8":
            raise Refusal(415, "UNSUPPORTED_MEDIA_TYPE", "send GraphQL requests as UTF-8 JSON")


def check_headers(raw: list[tuple[bytes, bytes]]) -> None:
    """One Authorization header at most; a body framed one way only."""
    names = [name.lower() for name, _ in raw]
    if names.count(b"authorization") > 1:
        raise Refusal(400, "BAD_REQUEST", "send one Authorization header")
    if b"content-length" in names and b"transfer-encoding" in names:
        raise Refusal(400, "BAD_REQUEST", "send Content-Length or Transfer-Encoding, not both")


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


MAX_JSON_DEPTH = 64
"""How deeply the body's JSON may nest (variables included); far beyond any real input."""
_KEYS = frozenset({"query", "variables", "operationName", "extensions"})


class _RepeatedKey(ValueError):
    pass


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) != len(pairs):
        raise _RepeatedKey
    return found


def _parse(body: bytes) -> Any:
    if body.startswith(b"\xef\xbb\xbf"):
        raise Refusal(400, "BAD_REQUEST", "the body must be UTF-8 JSON without a byte order mark")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Refusal(400, "BAD_REQUEST", "the body must be UTF-8 JSON") from None
    try:
        return json.loads(text, object_pairs_hook=_unique_keys)
    except _RepeatedKey:
        raise Refusal(400, "BAD_REQUEST", "an object in the body repeats a key") from None
    except RecursionError:
        raise Refusal(400, "BAD_REQUEST", "the body is nested too deeply") from None
    except ValueError:
        raise Refusal(400, "BAD_REQUEST", "the body is not valid JSON") from None


def _unpaired_surrogate(text: str) -> bool:
    return any("\ud800" <= ch <= "\udfff" for ch in text)


def _check_values(payload: dict[str, Any]) -> None:
    """Depth and unpaired surrogates, walked without recursion; a bad string is named by
    its path (``variables.input.lead.firstName``), never shown."""
    pending: list[tuple[Any, str, int]] = [(payload, "", 0)]
    while pending:
        value, path, depth = pending.pop()
        if depth > MAX_JSON_DEPTH:
            raise Refusal(400, "BAD_REQUEST", "the body is nested too deeply")
        if isinstance(value, str):
            if _unpaired_surrogate(value):
                raise Refusal(
                    400,
                    "BAD_USER_INPUT",
                    f"{path or 'the body'} has invalid characters (an unpaired surrogate)",
                    field=path or None,
                )
        elif isinstance(value, dict):
            for key, item in value.items():
                where = f"{path}.{key}" if path else key
                if _unpaired_surrogate(key):
                    raise Refusal(
                        400,
                        "BAD_USER_INPUT",
                        f"a key under {path or 'the body'} "
                        "has invalid characters (an unpaired surrogate)",
                    )
                pending.append((item, where, depth + 1))
        elif isinstance(value, list):
            pending.extend((item, f"{path}.{i}", depth + 1) for i, item in enumerate(value))


def _check_shape(payload: dict[str, Any]) -> None:
    if set(payload) - _KEYS:  # the key is not echoed: a client's text stays out of answers
        raise Refusal(
            400,
            "BAD_REQUEST",
            "unknown key in the body (query, variables, operationName and extensions are taken)",
        )
    for key, kind, name in (
        ("query", str, "a string"),
        ("operationName", str, "a string"),
        ("variables", dict, "an object"),
        ("extensions", dict, "an object"),
    ):
        value = payload.get(key)
        if value is not None and not isinstance(value, kind):
            raise Refusal(400, "BAD_REQUEST", f"{key} must be {name}", field=key)


def admit(body: bytes, persisted: PersistedOperations) -> bytes:
    """The body GraphQL should see (a persisted operation's document filled in), or a
    :class:`Refusal`."""
    payload = _parse(body)
    if isinstance(payload, list):
        raise Refusal(400, "BATCHING_DISABLED", "send one operation per request")
    if not isinstance(payload, dict):
        raise Refusal(400, "BAD_REQUEST", "the body must be a JSON object")
    _check_shape(payload)
    _check_values(payload)
    sha = _persisted_hash(payload)
    query = payload.get("query")
    if sha is not None:
        known = persisted.lookup(sha)
        if query is None:
            if known is None:
                raise Refusal(400, "PERSISTED_QUERY_NOT_FOUND", "unknown persisted operation")
            payload["query"] = known
            check_operation(known, payload.get("operationName"))
            return json.dumps(payload).encode()
        if operation_hash(query) != sha.lower():
            raise Refusal(400, "BAD_REQUEST", "the query does not match its sha256Hash")
    if persisted.required and not (isinstance(query, str) and persisted.allows(query)):
        raise Refusal(
            400,
            "PERSISTED_QUERY_REQUIRED",
            "this server runs only persisted operations; send a known sha256Hash",
        )
    if query is None:
        raise Refusal(400, "BAD_REQUEST", "the body needs a query", field="query")
    check_operation(query, payload.get("operationName"))
    return body


MAX_FRAGMENT_CHAIN = 32
"""How many fragments may spread into one another in a row (far beyond real documents;
long chains only serve to exhaust the depth check)."""
_TOO_DEEP = "too deep"


def _fragment_chain(document: DocumentNode) -> int:
    """The longest run of fragments spreading into one another, counted without
    recursion (a cycle counts as endless; GraphQL refuses cycles anyway)."""
    spreads: dict[str, set[str]] = {}
    for definition in document.definitions:
        if isinstance(definition, FragmentDefinitionNode):
            found: set[str] = set()
            pending: list[Node] = [definition.selection_set]
            while pending:
                node = pending.pop()
                if isinstance(node, FragmentSpreadNode):
                    found.add(node.name.value)
                selection_set = getattr(node, "selection_set", None)
                if selection_set is not None and node is not selection_set:
                    pending.append(selection_set)
                pending.extend(getattr(node, "selections", None) or ())
            spreads[definition.name.value] = found
    longest: dict[str, int] = {}
    for start in spreads:
        stack, on_path = [(start, iter(sorted(spreads[start])))], {start}
        while stack:
            name, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                on_path.discard(name)
                longest[name] = 1 + max((longest.get(c, 0) for c in spreads[name]), default=0)
                continue
            if child in on_path:
                return MAX_FRAGMENT_CHAIN + 1
            if child in spreads and child not in longest:
                stack.append((child, iter(sorted(spreads[child]))))
                on_path.add(child)
                if len(stack) > MAX_FRAGMENT_CHAIN:
                    return MAX_FRAGMENT_CHAIN + 1
    return max(longest.values(), default=0)


@lru_cache(maxsize=512)
def _operation_names(query: str) -> tuple[str | None, ...] | str | None:
    """The names of the document's operations (None for an anonymous one); None when the
    document does not parse (GraphQL then answers with the syntax error); :data:`_TOO_DEEP`
    for a document nested or chained beyond any real one."""
    try:
        document = parse(query, no_location=True, max_tokens=MAX_TOKENS)
    except RecursionError:
        return _TOO_DEEP
    except GraphQLError:
        return None
    if _fragment_chain(document) > MAX_FRAGMENT_CHAIN:
        return _TOO_DEEP
    return tuple(
        d.name.value if d.name else None
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode)
    )


def check_operation(query: str, operation_name: str | None) -> None:
    """A document with several operations runs only the one it names, which must exist."""
    names = _operation_names(query)
    if names is None:
        return
    if isinstance(names, str):
        raise Refusal(400, "BAD_REQUEST", "the query is nested too deeply", field="query")
    if operation_name is not None and operation_name not in names:
        raise Refusal(
            400,
            "BAD_REQUEST",
            "operationName names no operation in the query",
            field="operationName",
        )
    if operation_name is None and len(names) > 1:
        raise Refusal(
            400,
            "BAD_REQUEST",
            "the query has several operations: give operationName",
            field="operationName",
        )


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
