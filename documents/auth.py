"""Who is calling the REST API: a bearer token, or the browser's session.

A request that sends `Authorization` is judged by it alone: a wrong or
revoked token is a 401 even if a session cookie came along, as on the
WebSocket (a script that sends a token means to be that token's user).
Session requests must pass Django's CSRF check for unsafe methods; token
requests need none (no browser sends the header on its own).
"""

from django.conf import settings
from django.http import HttpRequest
from ninja.errors import HttpError
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from collab.auth import bearer_token

from .selectors import user_for_token


class BearerTokenAuth(HttpBearer):
    """`Authorization: Bearer cdt_...`, an API token (see `manage.py create_token`)."""

    def __call__(self, request: HttpRequest):
        raw = bearer_token(request.headers.get("Authorization"))
        return None if raw is None else self.authenticate(request, raw)

    def authenticate(self, request: HttpRequest, token: str):
        return user_for_token(token)


class SessionAuth(APIKeyCookie):
    """The Django session of a signed-in browser, with CSRF protection for unsafe methods."""

    param_name = settings.SESSION_COOKIE_NAME

    def __init__(self):
        super().__init__(csrf=True)

    def __call__(self, request: HttpRequest):
        if "Authorization" in request.headers:
            return None
        user = self.authenticate(request, request.COOKIES.get(self.param_name))
        # Checked after authentication, so that a stale cookie is a 401 rather than a CSRF 403.
        if user is not None and not getattr(request, "_ninja_csrf_exempt", False) and check_csrf(request):
            raise HttpError(403, "CSRF check failed: send the csrftoken cookie's value in an X-CSRFToken header")
        return user

    def authenticate(self, request: HttpRequest, key):
        user = getattr(request, "user", None)
        return user if key and user is not None and user.is_authenticated else None
