"""Request rates: one budget per user for everything that creates or changes (the REST API and the
page forms that create or share), and one per address for requests that fail to authenticate.

Both count in Django's cache (Redis when REDIS_URL is set, so every process shares them; otherwise
per process) with django-ninja's sliding-window throttle. Rates are read from settings on each
request ("<count>/<s|min|h|day>"), so that tests and operators can change them.

The per-address budget counts only requests that fail to authenticate (no token, a wrong or revoked
one): a flood of them is answered 429 instead of 401 until the window has room again. Signed-in
callers are limited by their own budget, not by their neighbours behind the same address.
"""

import math

from django.conf import settings
from django.http import HttpRequest
from ninja.throttling import SimpleRateThrottle

class _ConfiguredRate(SimpleRateThrottle):
    setting: str  # the rate's name in settings, where its default is (editor/settings.py)
    scope: str

    def __init__(self):
        super().__init__(rate=self.configured())

    @classmethod
    def configured(cls) -> str:
        return getattr(settings, cls.setting)

    def allow_request(self, request: HttpRequest) -> bool:
        rate = self.configured()
        if rate != self.rate:
            self.rate = rate
            self.num_requests, self.duration = self.parse_rate(rate)
        return super().allow_request(request)

    def retry_after(self) -> int:
        """Whole seconds until the window has room again (for Retry-After), after a refusal."""
        wait = self.wait()
        return max(1, math.ceil(wait if wait is not None else self.duration))


class UserRate(_ConfiguredRate):
    """settings.API_RATE_LIMIT per user: the API's `request.auth`, or a page's `request.user`."""

    setting, scope = "API_RATE_LIMIT", "api"

    def get_cache_key(self, request: HttpRequest) -> str:
        user = getattr(request, "auth", None) or request.user
        return self.cache_format % {"scope": self.scope, "ident": user.pk}


class UnauthenticatedRate(_ConfiguredRate):
    """settings.API_UNAUTHENTICATED_RATE_LIMIT per client address, for requests that fail to authenticate.

    The address is REMOTE_ADDR: the connection's, or behind a trusted proxy the client's as that
    proxy names it (editor/forwarded.py); never X-Forwarded-For as any client can write it.
    """

    setting, scope = "API_UNAUTHENTICATED_RATE_LIMIT", "unauthenticated"

    def get_cache_key(self, request: HttpRequest) -> str:
        return self.cache_format % {"scope": self.scope, "ident": client_address(request)}


def client_address(request: HttpRequest) -> str:
    """The address the request came from (also django-axes'): the connection's, or the one a trusted proxy names."""
    return request.META.get("REMOTE_ADDR", "")


def user_retry_after(request: HttpRequest) -> int | None:
    """Count one request against the signed-in user's budget: None if allowed, else seconds to wait."""
    limit = UserRate()
    return None if limit.allow_request(request) else limit.retry_after()


def unauthenticated_retry_after(request: HttpRequest) -> int | None:
    """Count one failed authentication against the address's budget: None if allowed, else seconds to wait."""
    limit = UnauthenticatedRate()
    return None if limit.allow_request(request) else limit.retry_after()
