"""Scraping a live server's /metrics as Prometheus would, and reading the figures back."""

import http.client

from prometheus_client.parser import text_string_to_metric_families

from tests.support.server import LiveServer


def scrape_raw(server: LiveServer, token: str | None = None, source: str | None = None) -> tuple[int, str]:
    """(status, body) of GET /metrics, with `token` as a bearer token, connecting from `source`
    (a loopback address such as 127.0.0.2; default the usual one). Blocks: call it in a thread."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10,
                                            source_address=(source, 0) if source else None)
    try:
        connection.request("GET", "/metrics", headers={"Authorization": f"Bearer {token}"} if token else {})
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def parse(text: str) -> dict[tuple, float]:
    """{(sample name, ((label, value), ...)): value} from the text exposition format."""
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


class Scraper:
    """`scraper.get("collab_connections")`, `scraper.get("collab_messages_received_total", type="update")`:
    one figure from a fresh scrape (0 if the series is absent). Blocks: call it in a thread."""

    def __init__(self, server: LiveServer, token: str):
        self.server, self.token = server, token

    def all(self) -> dict[tuple, float]:
        status, text = scrape_raw(self.server, self.token)
        assert status == 200, f"/metrics answered {status}: {text[:200]}"
        return parse(text)

    def get(self, name: str, **labels) -> float:
        return self.all().get((name, tuple(sorted(labels.items()))), 0.0)
