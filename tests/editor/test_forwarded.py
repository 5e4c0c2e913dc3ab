"""Whose address X-Forwarded-For names (editor/forwarded.py): believed only from trusted proxies."""

from editor.forwarded import client_address, parse_networks

TRUSTED = parse_networks("127.0.0.1, 10.0.0.0/8")


def test_a_connection_not_from_a_trusted_proxy_keeps_its_own_address():
    assert client_address("203.0.113.9", ["198.51.100.1"], TRUSTED) == "203.0.113.9"
    assert client_address("203.0.113.9", ["198.51.100.1"], []) == "203.0.113.9"


def test_the_client_is_the_right_most_address_not_a_trusted_proxy():
    assert client_address("127.0.0.1", ["198.51.100.1"], TRUSTED) == "198.51.100.1"
    # What the client wrote itself stays on the left of what our proxies added.
    assert client_address("127.0.0.1", ["6.6.6.6, 198.51.100.1, 10.1.2.3"], TRUSTED) == "198.51.100.1"
    assert client_address("127.0.0.1", ["6.6.6.6", "198.51.100.1"], TRUSTED) == "198.51.100.1"
    assert client_address("127.0.0.1", ["2001:db8::1"], TRUSTED) == "2001:db8::1"


def test_garbage_in_the_header_leaves_the_last_trusted_hop():
    assert client_address("127.0.0.1", ["not-an-address"], TRUSTED) == "127.0.0.1"
    assert client_address("127.0.0.1", ["198.51.100.1, unknown"], TRUSTED) == "127.0.0.1"
    assert client_address("127.0.0.1", ["unknown, 10.0.0.5"], TRUSTED) == "10.0.0.5"
