"""GET /metrics: this process's Prometheus metrics, for a scraper only.

Off unless settings.METRICS_TOKEN or METRICS_NETWORKS is set (a 404, as for
any unknown page): the figures say how busy the service is and are nobody
else's business. With a token the scraper must send it as a bearer token
(401 otherwise); with networks it must connect from one of them (404
otherwise). Every Daphne process answers for itself, so Prometheus scrapes
each process's own address, not the proxy (README, "Metrics and what to
alert on").

Async on purpose: the engine's counters and state live on the event loop
(collab.metrics), and the exposition is read there, with nothing moving meanwhile.
"""

import hmac
import ipaddress

from django.conf import settings
from django.http import Http404, HttpResponse
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from collab import metrics as collab_metrics
from collab.auth import bearer_token


def _from_allowed_network(request) -> bool:
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(address in network for network in settings.METRICS_NETWORKS)


async def metrics(request):
    token, networks = settings.METRICS_TOKEN, settings.METRICS_NETWORKS
    if not token and not networks:
        raise Http404("metrics are off")
    if networks and not _from_allowed_network(request):
        raise Http404("not from a metrics network")
    if token:
        given = bearer_token(request.headers.get("Authorization")) or ""
        if not hmac.compare_digest(given.encode(), token.encode()):
            response = HttpResponse("a bearer token is required\n", status=401, content_type="text/plain")
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return response
    collab_metrics.register()
    return HttpResponse(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)
