"""The REST API's HTTP contract, whatever the endpoint: what every error looks like, which
bodies are accepted, which methods and paths are answered.

- Every answer under /api/ that is not 2xx is JSON `{"detail": "<a sentence>", "errors": [...]?}`
  (the `Error` schema; `errors` carries validation details), and each operation declares the
  ones it can give in the OpenAPI schema (`COMMON_ERRORS`, added to every operation).
- Request bodies are JSON objects sent as `application/json` (or `+json`): another media type is a
  415, a body that is no JSON a 400, a JSON value that is not an object (an array, a string) a 422,
  a body over DATA_UPLOAD_MAX_MEMORY_SIZE a 413.
- Paths forgive a missing or extra trailing slash for every method: the other form is dispatched
  to directly (Django's APPEND_SLASH would redirect, which loses a POST's body, and raises a 500
  under DEBUG). Any other unknown path under /api/ is a JSON 404 (a malformed id included: the
  routes' converters do not match it).
- HEAD is answered wherever GET is (the server sends the headers only); an unsupported method is
  a JSON 405 with `Allow`.
"""

import json
import logging

from asgiref.sync import iscoroutinefunction, sync_to_async
from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.urls import Resolver404, re_path, resolve
from ninja import NinjaAPI, Schema
from ninja.errors import HttpError, ValidationError
from ninja.parser import Parser
from pydantic import Field

from collab import live

logger = logging.getLogger(__name__)

UNROUTED = "unrouted"
# The project's own 404 for /api/ says the same (editor.views): one answer whichever answers.
NOT_FOUND = "There is nothing at this address."
NO_SUCH_DOCUMENT = "No such document"  # as documents.api says it


class Error(Schema):
    detail: str = Field(description="What went wrong, in a sentence")
    errors: list[dict] | None = Field(None, description="Validation details: `loc`, `msg` and `type` of each")


class RequestRefused(HttpError):
    """A request refused before validation, with its own status (the parser raises these)."""

    def __init__(self, status_code: int, message: str, errors: list[dict] | None = None):
        super().__init__(status_code, message)
        self.errors = errors


class JsonObjectParser(Parser):
    """Bodies must be JSON objects sent as JSON; anything else is refused with a fitting status."""

    def parse_body(self, request: HttpRequest):
        media_type = request.content_type or ""
        if media_type != "application/json" and not media_type.endswith("+json"):
            raise RequestRefused(
                415, f"Send the body as JSON with Content-Type: application/json (got {media_type or 'none'})"
            )
        try:
            data = json.loads(request.body)
        except ValueError as exc:
            raise RequestRefused(400, f"The body is not valid JSON: {exc}") from None
        if not isinstance(data, dict):
            raise RequestRefused(
                422, "The body must be a JSON object",
                [{"loc": ["body"], "msg": "Input should be a JSON object", "type": "dict_type"}],
            )
        return data


def error_response(status: int, detail: str, errors: list | None = None, **headers) -> JsonResponse:
    body = {"detail": detail} if errors is None else {"detail": detail, "errors": errors}
    response = JsonResponse(body, status=status)
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def _describe(errors: list[dict]) -> str:
    """'Invalid request: query 'page': Input should be …' from ninja's (pydantic's) error list."""
    parts = []
    for error in errors[:3]:
        loc = [str(part) for part in error.get("loc", ())]
        where = f"{loc[0]} '{loc[-1]}'" if len(loc) > 1 else (loc[0] if loc else "request")
        parts.append(f"{where}: {error.get('msg', 'invalid')}")
    more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
    return "Invalid request: " + "; ".join(parts) + more


# Declared for every operation; those about bodies only where there is one.
COMMON_ERRORS = {
    401: "Not signed in: no token, or a wrong or revoked one",
    404: "No such document (or one the caller may not see), or no such path",
    405: "Method not allowed here (see the Allow header)",
    422: "Unprocessable Content: a parameter or the body does not fit the schema",
    429: "Too Many Requests (see the Retry-After header)",
    503: "The document's server or the database could not be reached in time: try again "
         "(see the Retry-After header)",
}
BODY_ERRORS = {
    400: "The body is not valid JSON",
    413: "The body is too large",
    415: "The body is not sent as application/json",
}


class Api(NinjaAPI):
    """NinjaAPI with the contract above."""

    def __init__(self, **kwargs):
        super().__init__(parser=JsonObjectParser(), **kwargs)
        self.add_exception_handler(HttpError, self._http_error)
        self.add_exception_handler(ValidationError, self._invalid)
        self.add_exception_handler(RequestDataTooBig, self._too_large)
        self.add_exception_handler(Http404, lambda request, exc: error_response(404, NOT_FOUND))
        # The live document's errors (collab.live), the same whichever process holds the document.
        self.add_exception_handler(live.DocumentGone, lambda request, exc: error_response(404, NO_SUCH_DOCUMENT))
        self.add_exception_handler(live.Unavailable, self._unavailable)
        # The database unreachable (an outage, a failover): transient as well, never a 500.
        self.add_exception_handler(OperationalError, self._database_unavailable)
        self.add_exception_handler(InterfaceError, self._database_unavailable)

    # --- errors ---------------------------------------------------------------------

    @staticmethod
    def _http_error(request, exc: HttpError):
        # ninja re-raises whatever the parser raises as "400 Cannot parse request body": the cause says why.
        refused = exc.__cause__ if isinstance(exc.__cause__, RequestRefused) else exc
        return error_response(refused.status_code, str(refused), getattr(refused, "errors", None))

    @staticmethod
    def _invalid(request, exc: ValidationError):
        return error_response(422, _describe(exc.errors), exc.errors)

    @staticmethod
    def _unavailable(request, exc):
        # Already logged once where the engine gave up; a retry usually finds the document's new owner.
        return error_response(503, "The document is unavailable for a moment: try again", Retry_After="2")

    @staticmethod
    def _database_unavailable(request, exc):
        logger.warning("API %s %s: the database is unreachable: %r", request.method, request.path, exc)
        return error_response(503, "The database is unavailable for a moment: try again", Retry_After="2")

    @staticmethod
    def _too_large(request, exc):
        from django.conf import settings

        return error_response(413, f"The body is too large: at most {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes")

    # --- schema ---------------------------------------------------------------------

    def get_openapi_schema(self, **kwargs):
        schema = super().get_openapi_schema(**kwargs)
        schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = Error.model_json_schema()
        reference = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
        for operations in schema["paths"].values():
            for operation in operations.values():
                responses = operation["responses"]
                errors = {**COMMON_ERRORS, **(BODY_ERRORS if "requestBody" in operation else {})}
                for status, description in errors.items():
                    if status not in responses and str(status) not in responses:
                        responses[str(status)] = {"description": description, "content": reference}
        return schema

    # --- routes ---------------------------------------------------------------------

    @property
    def urls(self):
        patterns, app_name, namespace = super().urls
        for pattern in patterns:
            pattern.callback = _forgiving(pattern.callback)
        patterns.append(re_path(r"^", _unrouted, name=UNROUTED))
        return patterns, app_name, namespace


def _method_not_allowed(request: HttpRequest, response: HttpResponseNotAllowed) -> JsonResponse:
    allowed = {method.strip() for method in response["Allow"].split(",") if method.strip()}
    if "GET" in allowed:
        allowed.add("HEAD")
    allow = ", ".join(sorted(allowed))
    return error_response(405, f"{request.method} is not allowed here; allowed: {allow}", Allow=allow)


def _finish(request: HttpRequest, method: str, response: HttpResponse) -> HttpResponse:
    request.method = method
    if isinstance(response, HttpResponseNotAllowed):
        return _method_not_allowed(request, response)
    return response


def _forgiving(view):
    """The view with HEAD answered as GET, a JSON 405 and a JSON 404 (ninja's root view raises Http404)."""
    if iscoroutinefunction(view):
        async def wrapper(request, *args, **kwargs):
            method = request.method
            request.method = "GET" if method == "HEAD" else method
            try:
                response = await view(request, *args, **kwargs)
            except Http404:
                response = error_response(404, NOT_FOUND)
            return _finish(request, method, response)
    else:
        def wrapper(request, *args, **kwargs):
            method = request.method
            request.method = "GET" if method == "HEAD" else method
            try:
                response = view(request, *args, **kwargs)
            except Http404:
                response = error_response(404, NOT_FOUND)
            return _finish(request, method, response)
    wrapper.csrf_exempt = True  # as ninja's own views: session auth checks CSRF itself
    return wrapper


async def _unrouted(request: HttpRequest):
    """A path under /api/ that no route matches: the same path with or without the trailing slash, or 404."""
    path = request.path_info
    alternate = path[:-1] if path.endswith("/") else path + "/"
    try:
        match = resolve(alternate)
    except Resolver404:
        match = None
    if match is not None and match.url_name != UNROUTED and match.func is not _unrouted:
        request.resolver_match = match
        if iscoroutinefunction(match.func):
            return await match.func(request, *match.args, **match.kwargs)
        return await sync_to_async(match.func)(request, *match.args, **match.kwargs)
    return error_response(404, NOT_FOUND)


_unrouted.csrf_exempt = True


async def role_on_document(user, document_id):
    """The user's role on the document; None if they have none, or there is no such document
    (both look the same from outside: 404)."""
    from .selectors import NoSuchDocument, document_role

    try:
        return await sync_to_async(document_role)(user, document_id)
    except NoSuchDocument:
        return None
