"""Reading binary exports back as a user's tools would: a PDF's text (pypdf), a .docx's paragraphs (python-docx)."""

import io

import docx
from pypdf import PdfReader


def pdf_text(data: bytes) -> str:
    """The text of every page of a PDF, pages separated by a line break."""
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def docx_paragraphs(data: bytes) -> list[tuple[str, str]]:
    """(style name, text) of each paragraph of a .docx."""
    return [(p.style.name, p.text) for p in docx.Document(io.BytesIO(data)).paragraphs]
