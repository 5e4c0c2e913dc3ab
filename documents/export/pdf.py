"""PDF: the HTML export (`html.render_page`) laid out for print by WeasyPrint.

The page is the same markup as the HTML download, so the two never
disagree about content; a print stylesheet on top sets A4 pages with
margins, page numbers in the footer, and keeps headings with what follows
them. WeasyPrint needs Pango from the system (scripts/system-packages
installs it, as does the Dockerfile).

Nothing is fetched while rendering: the export holds no images or
stylesheets of its own, and a document must never be able to make the
server request a URL, so every fetch is refused.
"""

from __future__ import annotations

from .base import Renderer
from .html import render_page
from .registry import register

PRINT_STYLE = """
@page {
  size: A4;
  margin: 2cm 2cm 2.2cm;
  @bottom-center { content: counter(page) " / " counter(pages); font: 9pt sans-serif; color: #86868b; }
}
body { font: 11pt/1.5 "DejaVu Sans", sans-serif; max-width: none; margin: 0; padding: 0; color: #000; }
h1, h2, h3, h4, h5, h6 { break-after: avoid; line-height: 1.25; }
p, li { orphans: 2; widows: 2; }
pre, blockquote, tr { break-inside: avoid; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; font-size: 9pt; }
a { color: #0645ad; }
""".strip()


@register
class PdfRenderer(Renderer):
    name = "pdf"
    extension = "pdf"
    content_type = "application/pdf"

    def render(self, tree: dict, *, title: str) -> bytes:
        # Imported here: loading WeasyPrint loads Pango, which only the PDF export needs.
        from weasyprint import CSS, HTML, URLFetcher

        fetcher = URLFetcher(allowed_protocols=())  # no scheme allowed: nothing is ever fetched
        page = HTML(string=render_page(tree, title=title), url_fetcher=fetcher)
        return page.write_pdf(stylesheets=[CSS(string=PRINT_STYLE, url_fetcher=fetcher)])

