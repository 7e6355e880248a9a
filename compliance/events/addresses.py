"""Where webhooks may connect: public addresses only, checked when connecting, after the
name is resolved (so a name that resolves to an inside address, now or after a DNS change,
is refused too). Loopback, private, link-local (the cloud metadata address among them),
shared, reserved and multicast addresses are refused unless the allow-list setting
(``LEADVAULT_WEBHOOK_ALLOW_NETWORKS``) names them. A name with any refused address is
refused whole. No redirects are followed."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import typing
from collections.abc import Sequence

import httpcore

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class AddressRefused(httpcore.ConnectError):
    """The endpoint's host is, or resolves to, an address webhooks may not reach."""


def networks(text: str) -> tuple[Network, ...]:
    """The allow-list setting: comma-separated addresses or networks (CIDR)."""
    return tuple(ipaddress.ip_network(part.strip()) for part in text.split(",") if part.strip())


def permitted(address: Address, allow: Sequence[Network]) -> bool:
    if any(address in network for network in allow if network.version == address.version):
        return True
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return permitted(address.ipv4_mapped, allow)
    return address.is_global and not address.is_multicast


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend, resolving each host itself and connecting only to the
    addresses it has checked (TLS still verifies the certificate against the host name)."""

    def __init__(
        self, allow: Sequence[Network], inner: httpcore.AsyncNetworkBackend | None = None
    ) -> None:
        self.allow = tuple(allow)
        self.inner = inner or httpcore.AnyIOBackend()

    async def resolve(self, host: str, port: int) -> list[Address]:
        try:
            return [ipaddress.ip_address(host.strip("[]"))]
        except ValueError:
            pass
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as error:
            raise httpcore.ConnectError("name_not_resolved") from error
        found: list[Address] = []
        for info in infos:
            address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
            if address not in found:
                found.append(address)
        return found

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: typing.Iterable[typing.Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await self.resolve(host, port)
        if not addresses or not all(permitted(a, self.allow) for a in addresses):
            raise AddressRefused("address_refused")
        error: Exception | None = None
        for address in addresses:
            try:
                return await self.inner.connect_tcp(
                    str(address), port, timeout, local_address, socket_options
                )
            except httpcore.ConnectError as failed:
                error = failed
        assert error is not None
        raise error

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        socket_options: typing.Iterable[typing.Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise AddressRefused("address_refused")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)
