"""Document writes that documents.services does not offer yet.

These belong in documents.services (the domain's write side); they live here
only until that module has them, and the views call nothing else.
"""

from documents.models import Document

TITLE_MAX = Document._meta.get_field("title").max_length


def document_rename(*, document: Document, title: str) -> Document:
    document.title = title.strip()[:TITLE_MAX] or "Untitled document"
    document.save(update_fields=["title", "updated_at"])
    return document


def document_delete(*, document: Document) -> None:
    document.delete()
