"""Webhooks connect to public addresses only, checked after the name is resolved; the
refusals never open a connection."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import typing

import httpcore
import pytest

from compliance.events.addresses import GuardedBackend, networks, permitted
from compliance.events.delivery import DeliveryOptions, Dispatcher
from compliance.events.endpoints import clean_url
from compliance.events.models import WebhookAttempt
from tests.webhooks.conftest import FakeClock, an_endpoint
from tests.webhooks.test_delivery import an_event


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",
        "0.0.0.0",  # noqa: S104 - the address under test
        "224.0.0.1",
        "::1",
        "fe80::1",
        "fd00:ec2::254",
        "::ffff:127.0.0.1",
        "::ffff:169.254.169.254",
    ],
)
def test_inside_addresses_are_refused(address: str) -> None:
    assert not permitted(ipaddress.ip_address(address), ())


@pytest.mark.parametrize("address", ["93.184.215.14", "2606:4700:4700::1111"])
def test_public_addresses_are_permitted(address: str) -> None:
    assert permitted(ipaddress.ip_address(address), ())


def test_the_allow_list_permits_what_it_names_and_nothing_more() -> None:
    allow = networks("127.0.0.1/32, 10.20.0.0/16")

    assert permitted(ipaddress.ip_address("127.0.0.1"), allow)
    assert permitted(ipaddress.ip_address("10.20.5.5"), allow)
    assert not permitted(ipaddress.ip_address("127.0.0.2"), allow)
    assert not permitted(ipaddress.ip_address("10.21.0.1"), allow)


class SpyBackend(httpcore.AsyncNetworkBackend):
    """Records every connection asked of it (and makes none)."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, int]] = []

    async def connect_tcp(
        self, host: str, port: int, *args: typing.Any, **kwargs: typing.Any
    ) -> httpcore.AsyncNetworkStream:
        self.asked.append((host, port))
        raise httpcore.ConnectError("spy")


@pytest.mark.parametrize(
    "answers",
    [["169.254.169.254"], ["10.0.0.7"], ["93.184.215.14", "192.168.0.10"], ["fd00::5"]],
)
async def test_a_name_resolving_inside_is_refused_without_connecting(
    monkeypatch: pytest.MonkeyPatch, answers: list[str]
) -> None:
    async def resolved(host: str, port: int, **_: object) -> list[tuple[object, ...]]:
        assert host == "hooks.example.com"
        family = socket.AF_INET6
        return [(family, socket.SOCK_STREAM, 6, "", (a, port, 0, 0)) for a in answers]

    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", resolved)
    spy = SpyBackend()

    with pytest.raises(httpcore.ConnectError, match="address_refused"):
        await GuardedBackend((), inner=spy).connect_tcp("hooks.example.com", 443)

    assert spy.asked == []


async def test_a_public_answer_is_connected_to_by_its_checked_address(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def resolved(host: str, port: int, **_: object) -> list[tuple[object, ...]]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", port))]

    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", resolved)
    spy = SpyBackend()

    with pytest.raises(httpcore.ConnectError, match="spy"):
        await GuardedBackend((), inner=spy).connect_tcp("hooks.example.com", 443)

    assert spy.asked == [("93.184.215.14", 443)]


async def test_a_loopback_endpoint_without_the_allow_list_is_never_connected_to(
    fake_clock: FakeClock,
) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.setblocking(False)
    port = listener.getsockname()[1]
    guarded = Dispatcher(DeliveryOptions(allow=()), now=fake_clock)
    try:
        await an_endpoint(f"http://127.0.0.1:{port}/hook")
        await an_endpoint(f"http://localhost:{port}/hook")
        await an_event(fake_clock)
        await guarded.deliver_due()
        with pytest.raises(BlockingIOError):
            listener.accept()  # nothing ever connected
    finally:
        await guarded.close()
        listener.close()

    attempts = await WebhookAttempt.all()
    assert [(a.status_code, a.error) for a in attempts] == [(None, "address_refused")] * 2


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("http://hooks.example.com/in", "https_required"),
        ("ftp://hooks.example.com/in", "https_required"),
        ("https://user:pw@hooks.example.com/in", "invalid_url"),
        ("https:///in", "invalid_url"),
        ("", "required"),
        ("https://hooks.example.com/" + "a" * 2048, "too_long"),
    ],
)
def test_production_endpoints_must_be_plain_https_urls(url: str, code: str) -> None:
    clean, problem = clean_url(url, allow_http=False)

    assert clean is None
    assert problem is not None
    assert (problem.field, problem.code) == ("url", code)


def test_development_may_use_http() -> None:
    assert clean_url("http://127.0.0.1:9000/in", allow_http=True) == (
        "http://127.0.0.1:9000/in",
        None,
    )
