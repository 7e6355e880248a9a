from __future__ import annotations

from identity.authenticate import client_address


def test_the_peer_is_the_client_when_no_proxy_is_trusted() -> None:
    assert client_address("203.0.113.9", "198.51.100.1", ()) == "203.0.113.9"


def test_a_trusted_proxy_hands_over_the_nearest_untrusted_forwarded_address() -> None:
    forwarded = "198.51.100.1, 192.0.2.7, 10.0.0.2"
    assert client_address("10.0.0.1", forwarded, ("10.0.0.1", "10.0.0.2")) == "192.0.2.7"


def test_a_forged_forwarded_header_cannot_pick_any_address_beyond_the_proxy() -> None:
    assert client_address("10.0.0.1", "not-an-ip, 192.0.2.7", ("10.0.0.1",)) == "192.0.2.7"
