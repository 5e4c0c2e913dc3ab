"""How exports write image nodes' sources (documents.images.inline_image_src, the HTML export's hook), in process."""

import base64
import uuid

import pytest
from django.core.files.base import ContentFile

from documents import images
from documents.models import Image, image_storage
from tests.support.images import png


@pytest.fixture
def exported(settings, tmp_path):
    """An export context for a document with one small stored image; yields (context, image, its bytes)."""
    settings.STORAGES = {**settings.STORAGES, "images": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}}}
    data = png(2, 2)
    document_id = uuid.uuid4()
    image = Image(id=uuid.uuid4(), document_id=document_id, content_type="image/png", size=len(data),
                  file_name=image_storage().save(f"{document_id}/picture.png", ContentFile(data)))
    context = images.ExportContext(document_id=document_id, base_url="https://docs.example",
                                   images={image.pk: image})
    with images.export_context(context):
        yield context, image, data


def test_own_small_images_inline_others_linked(exported):
    context, image, data = exported
    path = images.image_path(context.document_id, image.pk)
    data_uri = f"data:image/png;base64,{base64.b64encode(data).decode()}"
    assert images.inline_image_src("https://docs.example" + path) == data_uri
    # Another document's image is never inlined (its readers may differ): linked.
    other = images.image_path(uuid.uuid4(), image.pk)
    assert images.inline_image_src("https://docs.example" + other) == "https://docs.example" + other
    assert images.inline_image_src("https://elsewhere.example/a.png") == "https://elsewhere.example/a.png"


def test_inlining_stops_at_the_size_limits(exported, settings):
    context, image, data = exported
    path = images.image_path(context.document_id, image.pk)
    url = "https://docs.example" + path
    settings.IMAGES_INLINE_MAX_BYTES = len(data) - 1
    assert images.inline_image_src(url) == url
    settings.IMAGES_INLINE_MAX_BYTES = len(data)
    context.inline_budget = len(data) * 2
    assert images.inline_image_src(url).startswith("data:")
    assert images.inline_image_src(url).startswith("data:")
    assert images.inline_image_src(url) == url  # the export's budget is spent
