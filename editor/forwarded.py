"""The client's address behind a reverse proxy: X-Forwarded-For, believed only from TRUSTED_PROXIES.

Behind nginx every request reaches Daphne from the proxy's address. Whatever
counts per address (django-axes' sign-in lockouts, the API's per-address rate
limit, METRICS_NETWORKS) would then see one client: one attacker guessing a
password would lock that account out for everyone. deploy/nginx.conf sets
X-Forwarded-For to the address of the connection it accepted (overwriting
what the client sent); this ASGI middleware makes that address the request's
`client` (Django's REMOTE_ADDR), for HTTP and WebSocket alike.

Anyone can write the header, so it is read only when the connection itself
comes from a trusted proxy (settings.TRUSTED_PROXIES: addresses or CIDR
blocks; empty by default, as in the embedded set-up where clients connect
directly). With several proxies in a row, the client is the right-most
address in the header that is not itself a trusted proxy. Daphne's own
--proxy-headers is not used: it believes the header from every peer.
"""

import ipaddress

HEADER = b"x-forwarded-for"


def parse_networks(text: str) -> list:
    """"10.0.0.0/8, 127.0.0.1" -> networks; ValueError names a bad entry."""
    return [ipaddress.ip_network(part.strip(), strict=False) for part in text.split(",") if part.strip()]


def _address(text: str):
    try:
        return ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None


def client_address(peer: str, forwarded_for: list[str], trusted: list) -> str:
    """The client's address, given the connection's peer and the X-Forwarded-For values in order."""

    def is_trusted(address) -> bool:
        return address is not None and any(address in network for network in trusted)

    if not is_trusted(_address(peer)):
        return peer
    client = peer
    for entry in reversed([e for value in forwarded_for for e in value.split(",") if e.strip()]):
        address = _address(entry)
        if address is None:
            break  # garbage from before the proxies we trust: the last trusted hop is all we know
        client = str(address)
        if not is_trusted(address):
            break
    return client


class ForwardedClient:
    """ASGI middleware: scope["client"] is the address the trusted proxies say they were reached from."""

    def __init__(self, application, trusted: list):
        self.application = application
        self.trusted = list(trusted)

    async def __call__(self, scope, receive, send):
        client = scope.get("client")
        if self.trusted and client and scope["type"] in ("http", "websocket"):
            values = [v.decode("latin-1") for k, v in scope.get("headers", ()) if k.lower() == HEADER]
            if values:
                address = client_address(client[0], values, self.trusted)
                if address != client[0]:
                    # The client's own port is not known (nginx does not send it): 0.
                    scope = {**scope, "client": [address, 0]}
        return await self.application(scope, receive, send)
