"""Images over HTTP: the upload endpoint of the REST API, and the page that serves an image.

- `POST /api/documents/<uuid>/images` (multipart/form-data, field `file`): owners and editors; the
  answer carries `src`, the URL to put in the image node. Same auth as the rest of the API (token, or
  session + CSRF); 404 for a document the caller cannot see, 403 for a viewer, 413/415/422 for a file
  that is too large, not an accepted image, or damaged (documents.images.inspect).
- `GET /documents/<uuid>/images/<uuid>`: the image, to anyone with a role on its document, checked on
  every request (the browser revalidates: `no-cache` with an ETag), with the type found in its content,
  `nosniff`, `inline` and a sandboxing CSP. No session: the sign-in page (a link followed from a
  Markdown export); a bearer token works as on the API (401 if it is wrong). No role, or no such
  image: 404, the same answer, so that ids cannot be probed.
"""

import asyncio
from uuid import UUID

from asgiref.sync import sync_to_async
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpResponse, HttpResponseNotModified
from django.utils.http import parse_etags
from django.views.decorators.http import require_safe
from ninja import Field, File, Router, Schema, UploadedFile
from ninja.errors import HttpError

from collab.auth import bearer_token

from . import images
from .api_http import Error, error_response, role_on_document
from .models import WRITE_ROLES, Image
from .selectors import user_for_token

router = Router(tags=["images"])


class ImageOut(Schema):
    id: UUID
    src: str = Field(description="Where the image is served (to people with a role on the document): the "
                                 "image node's `src`")
    content_type: str = Field(description="Found in the content: image/png, image/jpeg, image/gif or image/webp")
    size: int = Field(description="Bytes")
    width: int
    height: int


_ERRORS = {401: Error, 403: Error, 404: Error, 413: Error, 415: Error, 422: Error, 429: Error}


@router.post("/documents/{uuid:document_id}/images", response={201: ImageOut, **_ERRORS},
             openapi_extra={"requestBody": {"content": {"multipart/form-data": {
                 "encoding": {"file": {"contentType": "image/png, image/jpeg, image/gif, image/webp"}}}}}})
async def image_upload(request, document_id: UUID, file: File[UploadedFile]):
    """Upload an image into a document (multipart/form-data, field `file`); owners and editors.

    PNG, JPEG, GIF or WebP, told by the content (not the name), that decodes completely, at most
    IMAGES_MAX_BYTES: otherwise 415 (another type, SVG included), 422 (damaged) or 413 (too large).
    The image is served at `src` to people with a role on the document only.
    """
    await _require(request.auth, document_id)
    limit = images.max_bytes()
    if file.size is not None and file.size > limit:
        raise HttpError(413, f"The image is too large: {file.size} bytes, at most {limit}")
    data = await asyncio.to_thread(file.read)
    try:
        # Decoding a large image takes a while: off the event loop that the documents' actors share.
        found = await asyncio.to_thread(images.inspect, data)
        image = await sync_to_async(images.store)(document_id=document_id, user=request.auth, data=data,
                                                  found=found)
    except images.ImageRefused as exc:
        return error_response(exc.status, exc.detail)
    return 201, {"id": image.pk, "src": images.image_path(document_id, image.pk), "content_type": image.content_type,
                 "size": image.size, "width": image.width, "height": image.height}


async def _require(user, document_id) -> None:
    role = await role_on_document(user, document_id)
    if role is None:
        raise HttpError(404, "No such document")
    if role not in WRITE_ROLES:
        raise HttpError(403, f"A document's {role.label.lower()} may not add images")


@require_safe
async def serve_image(request, document_id: UUID, image_id: UUID):
    authorization = request.headers.get("Authorization")
    if authorization is not None:
        raw = bearer_token(authorization)
        user = await sync_to_async(user_for_token)(raw) if raw else None
        if user is None:
            return error_response(401, "Authentication required: a valid bearer token, or sign in",
                                  WWW_Authenticate='Bearer realm="api"')
    else:
        user = await request.auser()
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
    role = await role_on_document(user, document_id)
    image = None
    if role is not None:
        image = await Image.objects.filter(pk=image_id, document_id=document_id).afirst()
    if image is None:
        raise Http404("No such image")
    etag = f'"{image.sha256[:40]}"'
    if etag in parse_etags(request.headers.get("If-None-Match", "")):
        response = HttpResponseNotModified()
    else:
        data = await asyncio.to_thread(images.read, image)
        response = HttpResponse(data, content_type=image.content_type)
        response["Content-Disposition"] = "inline"
    response["ETag"] = etag
    # Private, and revalidated on every use: a role removed takes effect at the next view.
    response["Cache-Control"] = "private, no-cache"
    response["Vary"] = "Cookie, Authorization"
    response["X-Content-Type-Options"] = "nosniff"
    # Opened on its own, the image is a document with no right to run or load anything.
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; sandbox"
    return response
