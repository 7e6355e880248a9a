"""The request id of the request being served, visible to logs and (later) the audit trail."""

from __future__ import annotations

from contextvars import ContextVar

_request_id: ContextVar[str | None] = ContextVar("leadvault_request_id", default=None)


def current_request_id() -> str | None:
    return _request_id.get()


def bind_request_id(request_id: str | None) -> object:
    return _request_id.set(request_id)


def reset_request_id(token: object) -> None:
    _request_id.reset(token)  # type: ignore[arg-type]


_client_address: ContextVar[str | None] = ContextVar("leadvault_client_address", default=None)


def current_client_address() -> str | None:
    """The client address of the request being served (for the audit trail, which stores
    only a keyed hash of it)."""
    return _client_address.get()


def bind_client_address(address: str | None) -> object:
    return _client_address.set(address)


_read_only: ContextVar[bool] = ContextVar("leadvault_read_only", default=False)


def read_only() -> bool:
    """Whether the operation being executed only reads (a GraphQL query): its reads outside
    a transaction may be served by a replica."""
    return _read_only.get()


def bind_read_only(value: bool) -> None:
    """Set for the operation being executed (and cleared when it ends, or at the start of
    the next one in the same context at the latest)."""
    _read_only.set(value)


_interface: ContextVar[str | None] = ContextVar("leadvault_interface", default=None)


def current_interface() -> str | None:
    """Which client the request came through when it is not the API (``"console"``): the
    audit trail marks its events with it."""
    return _interface.get()


def bind_interface(name: str | None) -> object:
    return _interface.set(name)
