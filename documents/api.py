"""The REST API under /api/ (django-ninja): documents, their versions, export, and import.

django-ninja rather than DRF: its views can be coroutines, and these must be.
They run on the server's event loop, where the document actors live, so an
export without `version` asks the live actor for its state
(`collab.live.live_state`) and has every edit the server received, saved or
not. The OpenAPI schema is at /api/openapi.json, its docs at /api/docs.

Access (see documents.auth for who the caller is): a document the caller has
no role on is a 404, as if it did not exist; viewers read and export (versions
and their diffs included), editors may also rename, write content, name
versions and restore one, owners may also delete. Anyone signed in may create
a document, empty or imported (documents.importing; the import block at the
end of this module).
"""


import asyncio
import hashlib
import json
import math
import re
import unicodedata
from datetime import datetime
from pathlib import PurePath
from typing import Annotated, Literal
from urllib.parse import quote
from uuid import UUID

from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model
from django.http import HttpResponse, HttpResponseNotModified, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.http import parse_etags
from ninja import Field, File, Form, Path, Query, Schema, UploadedFile
from ninja.errors import AuthenticationError, HttpError, Throttled
from ninja.pagination import PageNumberPagination, paginate
from pydantic import StringConstraints

from collab.config import CollabConfig
from collab.live import Unavailable, live_state, state_digest

from . import export, history, images, importing, search, titles
from .importing.worker import aconvert
from .people import color_of
from .api_http import Api, Error, error_response, role_on_document
from .auth import BearerTokenAuth, SessionAuth
from .models import WRITE_ROLES, Document, Role, Snapshot
from .selectors import documents_visible_to, roles_for
from .ratelimit import UserRate, unauthenticated_retry_after
from .services import document_create, document_delete

User = get_user_model()
READ_ROLES = frozenset(Role)
DELETE_ROLES = frozenset({Role.OWNER})

# Bumped when a renderer's output changes, so that cached exports are refetched.
EXPORT_REVISION = b"1"
# Database ids are signed 64-bit integers: larger ones cannot name a version.
MAX_ID = 2**63 - 1


api = Api(
    title="Collaborative editor API",
    version="1",
    description=(
        "Documents, their versions, and export to txt, Markdown, HTML, ProseMirror JSON, PDF and DOCX.\n\n"
        "Authenticate with `Authorization: Bearer <token>` (make one with `manage.py create_token <username>` "
        "or on the API tokens page), or with the browser session (unsafe methods then need the "
        "`X-CSRFToken` header). Documents you have no role on answer 404.\n\n"
        "Every answer that is not 2xx is JSON `{\"detail\": \"<a sentence>\"}`, with an `errors` list "
        "for validation errors (422). Request bodies are JSON objects sent as `application/json` "
        "(a file to import: `multipart/form-data`). "
        "Paths work with or without their trailing slash; HEAD works wherever GET does."
    ),
    urls_namespace="api",
    auth=[BearerTokenAuth(), SessionAuth()],
    throttle=[UserRate()],
)


# --- schemas ------------------------------------------------------------------

# No control characters: they have no place in a title, and PostgreSQL refuses NUL.
Title = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$")
]


ImportTextFormat = Literal["md", "html", "txt", "json"]


class DocumentOut(Schema):
    id: UUID
    title: str
    owner: str = Field(description="Username of the document's owner")
    role: Role = Field(description="The caller's role on the document")
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_owner(document: Document) -> str:
        return document.owner.username


class SnippetPart(Schema):
    text: str = Field(description="Plain text of the document (not HTML: escape it to show it)")
    match: bool = Field(description="Whether this part matches the query (show it highlighted)")


class DocumentFound(DocumentOut):
    snippet: list[SnippetPart] | None = Field(
        None, description="With `q`: the text around the match, in parts, the matching ones marked; "
                          "null without `q` (or when the document has no text)")


class ImportedDocumentOut(DocumentOut):
    notes: list[str] = Field(description="What the import dropped or simplified (\"2 images skipped\"); "
                                         "empty when nothing was")


class DocumentCreate(Schema):
    title: Title | None = Field(None, description='Defaults to "Untitled document"')
    content: str | None = Field(None, description="Initial content to import, in `format` (see also "
                                                  "POST /api/documents/import for files)")
    format: ImportTextFormat = Field("md", description="The format of `content`: Markdown, HTML, plain text, "
                                                       "or ProseMirror JSON (as a string)")


class DocumentUpdate(Schema):
    title: Title | None = None


class Author(Schema):
    id: int | None = Field(description="The user's id (null if the account no longer exists)")
    username: str
    color: str = Field(description="#RRGGBB: the colour of the person's caret in the editor")


class Summary(Schema):
    blocks_added: int
    blocks_removed: int
    words_added: int
    words_removed: int


class VersionOut(Schema):
    id: int = Field(description="Pass as `version=` to the export")
    created_at: datetime = Field(description="When the version was taken (UTC)")
    kind: Snapshot.Kind = Field(description="auto (taken while editing), named, or restore (made by a restore)")
    name: str = Field(description="The version's name (\"\" for none); naming an automatic version keeps it")
    size: int = Field(description="Bytes of the encoded state")
    authors: list[Author] = Field(description="Who edited since the previous version")
    summary: Summary = Field(description="What changed since the previous version")
    label: str = Field(description="Deprecated: the same as `name`")


class VersionDetail(VersionOut):
    content: dict = Field(description="The version's content as ProseMirror JSON (as the json export)")


class VersionName(Schema):
    name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$")] = (
        Field(description='The new name; "" removes it')
    )


class DiffAuthor(Schema):
    id: int | None
    username: str


class DiffRun(Schema):
    text: str
    op: Literal["equal", "insert", "delete"]
    author: DiffAuthor | None = Field(None, description="Who inserted it, when one person made every change "
                                                        "in between (authorship is kept per version)")


class DiffBlock(Schema):
    kind: Literal["same", "inserted", "deleted", "changed"]
    type: str = Field(description="The block's ProseMirror node type (paragraph, heading...)")
    runs: list[DiffRun]


class DiffOut(Schema):
    older: int = Field(description="The version compared from")
    newer: int | Literal["current"] = Field(description="The version compared to, or current (the live document)")
    authors: list[Author] = Field(description="Who edited in between (empty when `newer` is current: unsaved "
                                              "edits have no recorded author yet)")
    blocks: list[DiffBlock]


class Pages(PageNumberPagination):
    class Input(Schema):
        page: int = Field(1, ge=1, le=1_000_000)
        page_size: int = Field(50, ge=1, le=100)


class DocumentPages(Pages):
    """Pages of documents, each with `.role`, the caller's role on it (selectors.roles_for: one query a page)."""

    async def apaginate_queryset(self, queryset, pagination, request, **params):
        page = await super().apaginate_queryset(queryset, pagination, request, **params)
        roles = await sync_to_async(roles_for)(request.auth, page[self.items_attribute])
        # A role removed between the two queries: that document is no longer the caller's to see.
        page[self.items_attribute] = [d for d in page[self.items_attribute] if d.pk in roles]
        for document in page[self.items_attribute]:
            document.role = roles[document.pk]
        if params.get("q"):
            found = await sync_to_async(search.snippets)(params["q"], page[self.items_attribute])
            for document in page[self.items_attribute]:
                parts = found.get(document.pk)
                document.snippet = [{"text": text, "match": match} for text, match in parts] if parts else None
        return page


# --- errors -------------------------------------------------------------------


@api.exception_handler(AuthenticationError)
def _unauthenticated(request, exc):
    # Requests with no or a wrong token count against their address; a flood of them gets 429s.
    retry_after = unauthenticated_retry_after(request)
    if retry_after is not None:
        return error_response(
            429, f"Too many requests that are not signed in from this address; retry in {retry_after} s",
            Retry_After=str(retry_after),
        )
    return error_response(
        401, "Authentication required: send Authorization: Bearer <token>, or sign in",
        WWW_Authenticate='Bearer realm="api"',
    )


@api.exception_handler(Throttled)
def _throttled(request, exc):
    wait = f"; retry in {math.ceil(exc.wait)} s" if exc.wait is not None else ""
    return error_response(429, f"Too many requests: the limit is {UserRate.configured()} per user{wait}")


# --- access -----------------------------------------------------------------------


async def _document_for(user, document_id, allowed: frozenset[Role]) -> Document:
    """The document if `user` has one of the `allowed` roles; 404 if they cannot see it, 403 if not allowed."""
    role = await role_on_document(user, document_id)
    if role is None:
        raise HttpError(404, "No such document")
    if role not in allowed:
        raise HttpError(403, f"A document's {role.label.lower()} may not do this")
    document = await Document.objects.select_related("owner").aget(pk=document_id)
    document.role = role
    return document


# --- documents ------------------------------------------------------------------

DOCUMENT_ERRORS = {401: Error, 403: Error, 404: Error, 429: Error}


@api.get("/documents/", response={200: list[DocumentFound], 401: Error, 429: Error}, tags=["documents"])
@paginate(DocumentPages)
async def document_list(
    request,
    title: Annotated[str | None, Query(description="Only documents whose title contains this", max_length=200,
                                       pattern=r"^[^\x00]*$")] = None,
    q: Annotated[str | None, Query(description="Search: only documents whose title and text hold every word "
                                               "(as a word or a word's beginning), best first: title matches, "
                                               "then by relevance; each with a `snippet`", max_length=200,
                                   pattern=r"^[^\x00]*$")] = None,
):
    """The documents the caller owns or has a role on, most recently edited first (with `q`, best match
    first)."""
    documents = search.matching(request.auth, q) if q and q.strip() else documents_visible_to(request.auth)
    if title:
        documents = documents.filter(title__icontains=title)
    return documents


@api.post("/documents/", response={201: ImportedDocumentOut, 401: Error, 403: Error, 413: Error, 422: Error,
                                   429: Error}, tags=["documents"])
async def document_new(request, payload: DocumentCreate):
    """Create a document; the caller is its owner. With `content`, the document starts with it (an import:
    `notes` says what the editor could not hold and was dropped or simplified)."""
    if payload.content is None:
        document = await sync_to_async(document_create)(owner=request.auth, title=payload.title or "")
        document.role = Role.OWNER
        document.notes = []
        return 201, document
    return 201, await _create_imported(request.auth, payload.content, payload.format, title=payload.title or "",
                                       label="Imported")


@api.get("/documents/{uuid:document_id}/", response={200: DocumentOut, **DOCUMENT_ERRORS}, tags=["documents"])
async def document_detail(request, document_id: UUID):
    return await _document_for(request.auth, document_id, READ_ROLES)


@api.patch("/documents/{uuid:document_id}/", response={200: DocumentOut, **DOCUMENT_ERRORS}, tags=["documents"])
async def document_update(request, document_id: UUID, payload: DocumentUpdate):
    """Rename a document (owners and editors)."""
    document = await _document_for(request.auth, document_id, WRITE_ROLES)
    if payload.title is not None:
        await titles.arename(document, payload.title)
    return document


@api.delete("/documents/{uuid:document_id}/", response={204: None, **DOCUMENT_ERRORS}, tags=["documents"])
async def document_remove(request, document_id: UUID):
    """Delete a document with its whole history (owner only)."""
    document = await _document_for(request.auth, document_id, DELETE_ROLES)
    await sync_to_async(document_delete)(document=document)
    return 204, None


# --- versions -------------------------------------------------------------------------


class VersionPages(Pages):
    """Pages of versions (never their states), each with its authors resolved and its summary known."""

    async def apaginate_queryset(self, queryset, pagination, request, **params):
        page = await super().apaginate_queryset(queryset, pagination, request, **params)
        page[self.items_attribute] = await sync_to_async(_described)(list(page[self.items_attribute]))
        return page


def _described(versions: list[Snapshot]) -> list[dict]:
    """Versions as VersionOut dicts: summaries filled in where missing, authors resolved (one query)."""
    history.summarize(versions)
    people = _people({name for version in versions for name in version.authors or ()})
    return [_version_out(version, people) for version in versions]


def _people(usernames: set[str]) -> dict[str, dict]:
    ids = dict(User.objects.filter(username__in=usernames).values_list("username", "id")) if usernames else {}
    return {name: {"id": ids.get(name), "username": name, "color": color_of(name)} for name in usernames}


def _version_out(version: Snapshot, people: dict[str, dict]) -> dict:
    return {
        "id": version.pk, "created_at": version.created_at, "kind": version.kind, "name": version.label,
        "label": version.label, "size": version.size, "summary": version.summary,
        "authors": [people[name] for name in sorted(version.authors or ())],
    }


def _describe_one(version: Snapshot) -> dict:
    history.summarize([version])
    return _version_out(version, _people(set(version.authors or ())))


async def _version_of(document: Document, version_id: int, *fields: str) -> Snapshot:
    version = await Snapshot.objects.filter(document=document, pk=version_id).only(*fields).afirst()
    if version is None:
        raise HttpError(404, f"Document has no version {version_id}")
    return version


VersionId = Annotated[int, Field(ge=1, le=MAX_ID)]


@api.get("/documents/{uuid:document_id}/versions/", response={200: list[VersionOut], **DOCUMENT_ERRORS},
         tags=["versions"])
@paginate(VersionPages)
async def version_list(request, document_id: UUID):
    """The document's versions, newest first, a page at a time (`page`, `page_size`): never their content."""
    await _document_for(request.auth, document_id, READ_ROLES)
    return Snapshot.objects.filter(document_id=document_id).only(*history.LIST_FIELDS).order_by("-created_at", "-id")


@api.get("/documents/{uuid:document_id}/versions/{version_id}/",
         response={200: VersionDetail, **DOCUMENT_ERRORS}, tags=["versions"])
async def version_detail(request, document_id: UUID, version_id: VersionId):
    """One version: its metadata and its content (ProseMirror JSON). Anyone with a role may read it."""
    document = await _document_for(request.auth, document_id, READ_ROLES)
    version = await _version_of(document, version_id, *history.LIST_FIELDS, "state")
    described = await sync_to_async(_describe_one)(version)
    body = await asyncio.to_thread(export.get("json").render_state, bytes(version.state), title=document.title)
    return {**described, "content": json.loads(body)}


@api.patch("/documents/{uuid:document_id}/versions/{version_id}/",
           response={200: VersionOut, **DOCUMENT_ERRORS}, tags=["versions"])
async def version_rename(request, document_id: UUID, version_id: VersionId, payload: VersionName):
    """Name a version ("" removes the name); a named version is kept by retention. Owners and editors."""
    document = await _document_for(request.auth, document_id, WRITE_ROLES)
    version = await _version_of(document, version_id, *history.LIST_FIELDS)
    await sync_to_async(history.version_name)(version=version, label=payload.name)
    return await sync_to_async(_describe_one)(version)


@api.post("/documents/{uuid:document_id}/versions/{version_id}/restore",
          response={201: VersionOut, **DOCUMENT_ERRORS, 503: Error}, tags=["versions"])
async def version_restore(request, document_id: UUID, version_id: VersionId):
    """Make the document's content that of this version again, live for everyone who has it open.

    A forward change (nothing is lost: the versions in between stay), recorded
    as a new version "Restored from <time> by <user>", which is returned.
    Everyone with the document open gets a notice (see the README, "Connecting
    a client"). Owners and editors. 503 if the database cannot record it:
    then nothing changed.
    """
    document = await _document_for(request.auth, document_id, WRITE_ROLES)
    version = await _version_of(document, version_id, "id", "document_id", "created_at", "state")
    try:
        restored_id, _changed = await history.arestore(version=version, user=request.auth)
    except Unavailable:
        return error_response(503, "The restore could not be recorded (the database is unavailable): nothing was "
                                   "changed; try again in a moment", Retry_After="2")
    restored = await Snapshot.objects.only(*history.LIST_FIELDS).aget(pk=restored_id)
    return 201, await sync_to_async(_describe_one)(restored)


@api.get("/documents/{uuid:document_id}/versions/{older_id}/diff/{newer_id}",
         response={200: DiffOut, **DOCUMENT_ERRORS}, tags=["versions"])
async def version_compare(
    request, document_id: UUID, older_id: VersionId,
    newer_id: Annotated[str, Path(description="A version id, or `current` for the live document",
                                  pattern=r"^(current|[1-9][0-9]{0,18})$")],
):
    """What changed from one version to another (or to the live document): blocks with inserted and deleted runs."""
    document = await _document_for(request.auth, document_id, READ_ROLES)
    older = await _version_of(document, older_id, "id", "document_id", "created_at", "state")
    if newer_id == "current":
        newer_state, _ = await live_state(document.pk)
        newer, authors = None, set()
    else:
        if int(newer_id) > MAX_ID:
            raise HttpError(404, f"Document has no version {newer_id}")
        newer = await _version_of(document, int(newer_id), "id", "document_id", "created_at", "state")
        newer_state = bytes(newer.state)
        forward = (older.created_at, older.pk) < (newer.created_at, newer.pk)
        authors = await sync_to_async(history.authors_between)(older, newer) if forward else set()
    people = await sync_to_async(_people)(authors)
    only = next(iter(people.values())) if len(people) == 1 else None
    blocks = await asyncio.to_thread(
        history.version_diff, bytes(older.state), newer_state,
        {"id": only["id"], "username": only["username"]} if only else None,
    )
    return {"older": older.pk, "newer": "current" if newer is None else newer.pk,
            "authors": [people[name] for name in sorted(people)], "blocks": blocks}


# --- export -----------------------------------------------------------------------

ExportFormat = Literal[tuple(export.formats())]

_EXPORT_RESPONSES = {
    200: {
        "description": "The document in the requested format, as an attachment",
        "headers": {
            "ETag": {"schema": {"type": "string"}, "description": "Send it back in If-None-Match"},
            "Content-Disposition": {"schema": {"type": "string"}},
        },
        "content": {
            "text/plain": {"schema": {"type": "string"}},
            "text/markdown": {"schema": {"type": "string"}},
            "text/html": {"schema": {"type": "string"}},
            "application/json": {"schema": {"type": "object", "description": "ProseMirror JSON"}},
            "application/pdf": {"schema": {"type": "string", "format": "binary"}},
            export.get("docx").content_type: {"schema": {"type": "string", "format": "binary"}},
        },
    },
    304: {"description": "Not modified since the ETag in If-None-Match"},
}


@api.get(
    "/documents/{uuid:document_id}/export",
    response=DOCUMENT_ERRORS,
    openapi_extra={"responses": _EXPORT_RESPONSES},
    tags=["export"],
)
async def document_export(
    request,
    document_id: UUID,
    format_name: Annotated[ExportFormat, Query(alias="format", description="The file format")],
    version: Annotated[int | None, Query(ge=1, le=MAX_ID, description="A version id (see /versions/); "
                                                                       "without it, the live document")] = None,
):
    """Download the document, live (every edit the server has received) or at a version."""
    document = await _document_for(request.auth, document_id, READ_ROLES)
    renderer = export.get(format_name)
    if version is None:
        state, state_vector = await live_state(document.pk)
    else:
        snapshot = await Snapshot.objects.filter(document=document, pk=version).only("state", "state_vector").afirst()
        if snapshot is None:
            raise HttpError(404, f"Document has no version {version}")
        state, state_vector = bytes(snapshot.state), bytes(snapshot.state_vector)

    etag = _etag(state, state_vector, renderer.name, document.title)
    if _matches(request.headers.get("If-None-Match"), etag):
        response = HttpResponseNotModified()
    else:
        # Decoding and walking a large document takes a while: off the event loop the actors share.
        # Image nodes: relative addresses made absolute (base_url), the document's small images inline
        # in HTML (documents.images.export_context, read by inline_image_src).
        with images.export_context(await images.aexport_context_for(request, document.pk)):
            body = await asyncio.to_thread(renderer.render_state, state, title=document.title,
                                           base_url=request.build_absolute_uri("/"))
        response = HttpResponse(body if isinstance(body, bytes) else body.encode("utf-8"),
                                content_type=renderer.content_type)
        response["Content-Disposition"] = content_disposition(document.title, renderer.extension)
        if renderer.name == "html":
            from .export.html import PAGE_CSP

            response["Content-Security-Policy"] = PAGE_CSP + "; sandbox"
    response["ETag"] = etag
    response["Cache-Control"] = "private, no-cache"
    response["Vary"] = "Authorization, Cookie"
    return response


def _etag(state: bytes, state_vector: bytes, format_name: str, title: str) -> str:
    """Changes whenever the document's content does (its `state_digest`: state vector plus delete set),
    its title, or the format."""
    return _etag_of(state_digest(state, state_vector), format_name, title)


def _etag_of(digest_of_state: bytes, format_name: str, title: str) -> str:
    digest = hashlib.sha256()
    for part in (EXPORT_REVISION, digest_of_state, format_name.encode(), title.encode()):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return f'"{digest.hexdigest()[:40]}"'


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    tags = parse_etags(if_none_match)
    # Weak comparison, as RFC 9110 asks for If-None-Match.
    return "*" in tags or etag in (tag.removeprefix("W/") for tag in tags)


_UNSAFE_IN_FILENAME = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


def content_disposition(title: str, extension: str) -> str:
    """`attachment` with the title as file name: an ASCII `filename` and, if needed, a UTF-8 `filename*`."""
    stem = _UNSAFE_IN_FILENAME.sub("_", title)
    stem = " ".join(stem.split()).strip(" ._")[:150] or "document"
    name = f"{stem}.{extension}"
    fallback = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    fallback = " ".join(fallback.split()).strip(" ._") or "document"
    header = f'attachment; filename="{fallback}.{extension}"'
    if fallback != stem:
        header += f"; filename*=UTF-8''{quote(name, safe='')}"
    return header


# --- live content writes (PUT replaces, POST appends) ----------------------------------------


class ContentWritten(Schema):
    changed: int = Field(description="Blocks inserted, replaced or deleted by this write")
    notes: list[str] = Field(description="What could not be kept as it was sent (dropped or simplified), "
                                         "in sentences; empty if nothing")


# Text bodies are any text (schemathesis cannot send a text body that is "not a string"); the importer
# makes what it can of it and says what it dropped.
_CONTENT_REQUEST = {
    "required": True,
    "description": "The content, as Markdown, HTML, plain text or ProseMirror JSON, chosen by `Content-Type`",
    "content": {
        "text/markdown": {"schema": {"description": "CommonMark with GFM tables, task lists and strikethrough"}},
        "text/html": {"schema": {"description": "HTML; scripts, styles and event handlers are dropped"}},
        "text/plain": {"schema": {"description": "Plain text: a paragraph per block of lines"}},
        "application/json": {"schema": {"anyOf": [
            {
                "type": "object",
                "description": "ProseMirror JSON, as the json export gives it and Tiptap's getJSON() makes it; "
                               "nodes the editor lacks are kept as their text (see `notes`)",
                "required": ["type"],
                "properties": {"type": {"type": "string", "enum": ["doc"]}, "content": {"type": "array"}},
            },
            {"type": "array", "description": "The document's `content` alone: its list of block nodes"},
        ]}},
    },
}
_CONTENT_RESPONSES = {
    200: {"headers": {"ETag": {"schema": {"type": "string"},
                               "description": "Of the document just after this write: send it back in If-Match"}}},
    412: {"description": "If-Match names a state the document is no longer in (the ETag header has "
                         "the current one)"},
    413: {"description": "The body is too large, or the document would be past its size limit"},
}
_CONTENT_ERRORS = {**DOCUMENT_ERRORS, 400: Error, 412: Error, 413: Error, 415: Error}
_CONTENT_HELP = (
    "\n\nOne change made live by the document's server: everyone with the document open sees it at once. "
    "Owners and editors only. Send `If-Match` with an ETag of the document (from a previous write, or from "
    "any export of the live document) to write only if nobody changed it since: otherwise 412."
)


@api.put("/documents/{uuid:document_id}/content", response=_CONTENT_ERRORS | {200: ContentWritten},
         openapi_extra={"requestBody": _CONTENT_REQUEST, "responses": _CONTENT_RESPONSES}, tags=["content"],
         summary="Replace the document's content",
         description="Make the live document's content the body's, block by block: blocks that are the same "
                     "are left alone, so an edit someone makes meanwhile in one of them is kept." + _CONTENT_HELP)
async def content_replace(request, document_id: UUID):
    return await _write_content(request, document_id, append=False)


@api.post("/documents/{uuid:document_id}/content", response=_CONTENT_ERRORS | {200: ContentWritten},
          openapi_extra={"requestBody": _CONTENT_REQUEST, "responses": _CONTENT_RESPONSES}, tags=["content"],
          summary="Append to the document's content",
          description="Add the body's blocks after the document's last block." + _CONTENT_HELP)
async def content_append(request, document_id: UUID):
    return await _write_content(request, document_id, append=True)


async def _write_content(request, document_id: UUID, *, append: bool):
    from collab import live

    from . import writing

    document = await _document_for(request.auth, document_id, WRITE_ROLES)
    body = _utf8_body(request)
    if_match = request.headers.get("If-Match")
    current = None

    def precondition(state: bytes, state_vector: bytes) -> None:
        # Any export's ETag of the live state will do: a script may have read it in any format.
        nonlocal current
        digest = state_digest(state, state_vector)
        current = _etag_of(digest, "json", document.title)
        tags = parse_etags(if_match)
        if not any(_etag_of(digest, name, document.title) in tags for name in export.formats()):
            raise _PreconditionFailed

    try:
        written = await writing.write_content(
            document.pk, body, request.content_type or "", append=append, author=request.auth.get_username(),
            precondition=precondition if if_match and if_match.strip() != "*" else None,
        )
    except writing.UnsupportedMediaType as exc:
        return error_response(415, str(exc))
    except writing.ImportRefused as exc:
        return error_response(exc.status, exc.detail)
    except live.TooLarge as exc:
        return error_response(413, f"The document would be too large: {exc}")
    except (_PreconditionFailed, live.StateChanged):
        detail = "The document changed since the ETag in If-Match: read it again, then retry"
        return error_response(412, detail, **({"ETag": current} if current else {}))
    response = JsonResponse({"changed": written.changed, "notes": written.notes})
    response["ETag"] = _etag(written.state, written.state_vector, "json", document.title)
    return response


class _PreconditionFailed(Exception):
    """If-Match does not name the live document's state."""


def _utf8_body(request) -> bytes:
    """The body as UTF-8, whatever charset Content-Type names (UTF-8 if none)."""
    charset = (request.content_params or {}).get("charset", "utf-8")
    if charset.lower().replace("_", "-") in ("utf-8", "utf8"):
        return request.body
    try:
        return request.body.decode(charset).encode("utf-8")
    except LookupError:
        raise HttpError(415, f"Unknown charset {charset!r}: send UTF-8") from None
    except UnicodeDecodeError:
        raise HttpError(400, f"The body is not valid {charset}") from None


# --- import -------------------------------------------------------------------------
# POST /documents/ with `content` and POST /documents/import (a file): documents.importing
# parses, the new document's state is stored as its first version (services.document_create).

ImportFileFormat = Literal[importing.FORMATS]


@api.exception_handler(importing.ImportRefused)
def _import_refused(request, exc: importing.ImportRefused):
    return error_response(exc.status, exc.detail)


@api.exception_handler(MultiPartParserError)
def _bad_multipart(request, exc):
    return error_response(400, f"The multipart body cannot be read: {exc}")


async def _create_imported(owner, data: bytes | str, format_name: str, *, title: str, label: str) -> Document:
    # Parsing and encoding a large file take a while: in the import worker process, off the event loop
    # (and the GIL) that the actors share.
    state, notes = await aconvert(data, format_name, importing.max_import_bytes())
    limit = CollabConfig.from_settings().max_document_size
    if len(state) > limit:
        raise importing.ImportRefused(f"The imported document would be {len(state)} bytes, more than the "
                                      f"{limit} a document may have", 413)
    document = await sync_to_async(document_create)(owner=owner, title=title, state=state, label=label)
    document = await Document.objects.select_related("owner").aget(pk=document.pk)
    document.role = Role.OWNER
    document.notes = notes
    return document


_IMPORT_ERRORS = {401: Error, 403: Error, 413: Error, 415: Error, 422: Error, 429: Error}


# What the file part may be, for clients and generated tests (encoding.contentType of the multipart body).
_IMPORT_MEDIA_TYPES = ", ".join([
    "text/markdown", "text/html", "text/plain", "application/json",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
])


@api.post("/documents/import", response={201: ImportedDocumentOut, **_IMPORT_ERRORS}, tags=["documents"],
          openapi_extra={"requestBody": {"content": {"multipart/form-data": {
              "encoding": {"file": {"contentType": _IMPORT_MEDIA_TYPES}}}}}})
async def document_import(
    request,
    file: File[UploadedFile],
    title: Form[Title | None] = None,
    format_name: Annotated[ImportFileFormat | None, Form(alias="format", description=(
        "The file's format; by default, from its name's extension (.md, .markdown, .html, .htm, .txt, "
        ".json, .docx)"))] = None,
):
    """Create a document from a file (multipart/form-data, field `file`): Markdown, HTML, plain text
    (UTF-8), ProseMirror JSON or Word (.docx), by `format`, else the name's extension, else the content (a
    Word file, or UTF-8 text read as plain text). The title defaults to the file's name. `notes` says what the
    editor could not hold and was dropped or simplified. Scripts, event handlers and `javascript:` links are
    refused (422), as are files over the import limit (413) and zip bombs; nothing is stored then."""
    name = file.name or ""
    limit = importing.max_import_bytes()
    if file.size is not None and file.size > limit:
        raise HttpError(413, f"The file is too large to import: {file.size} bytes, at most {limit}")
    data = await asyncio.to_thread(file.read)
    format_name = format_name or importing.format_for_filename(name) or importing.sniff_format(data)
    if format_name is None:
        raise HttpError(415, f"Cannot tell the format of {name!r}: name it .md, .html, .txt, .json or .docx, "
                             "or send `format`")
    stem = PurePath(name).stem if name else ""
    default_title = " ".join(_CONTROL.sub(" ", stem).split())[:200]
    return 201, await _create_imported(request.auth, data, format_name, title=title or default_title,
                                       label=f"Imported from {name}"[:200] if name else "Imported")


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


# --- images (documents/images_http.py: upload here, served at /documents/<uuid>/images/<uuid>) -------------
from .images_http import router as _images_router  # noqa: E402  (after `api` exists)

api.add_router("", _images_router)

# --- comments, mentions, notifications (documents/comments_http.py) --------------------------------------
from .comments_http import router as _comments_router  # noqa: E402

api.add_router("", _comments_router)
