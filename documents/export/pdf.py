"""PDF: the HTML export (`html.render_page`) laid out for print by WeasyPrint.

The page is the same markup as the HTML download, so the two never
disagree about content; a print stylesheet on top sets A4 pages with
margins, page numbers in the footer, and keeps headings with what follows
them. WeasyPrint needs Pango from the system (scripts/system-packages
installs it, as does the Dockerfile).

WeasyPrint lays boxes out recursively, several frames per level: nesting
deeper than `PRINT_MAX_DEPTH` (no person nests quotes or lists that deep,
and each level indents the page further) is flattened into a paragraph
holding its text, so that any document prints.

Nothing is fetched while rendering: a document must never be able to make
the server request a URL, so every fetch is refused except a `data:` URL,
which is read from the page itself (an image inlined in the HTML export
prints; one at an http(s) address shows its alt text).
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
/* Narrow indents, so that nested quotes and lists leave room for their text. */
blockquote { margin: .5em 0; padding-left: .8em; }
ul, ol { padding-left: 1.4em; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; font-size: 9pt; }
a { color: #0645ad; }
""".strip()


# Deepest block kept as such in print (the document's own blocks are at depth 1).
PRINT_MAX_DEPTH = 16
_INLINE = ("text", "hardBreak")


@register
class PdfRenderer(Renderer):
    name = "pdf"
    extension = "pdf"
    content_type = "application/pdf"

    def render(self, tree: dict, *, title: str, base_url: str | None = None) -> bytes:
        # Imported here: loading WeasyPrint loads Pango, which only the PDF export needs.
        from weasyprint import CSS, HTML, URLFetcher

        # Only data: (decoded in process, no request made): nothing is ever fetched.
        fetcher = URLFetcher(allowed_protocols=("data",))
        page = HTML(string=render_page(_shallow(tree), title=title, base_url=base_url), url_fetcher=fetcher)
        return page.write_pdf(stylesheets=[CSS(string=PRINT_STYLE, url_fetcher=fetcher)])



def _shallow(tree: dict) -> dict:
    """A copy of the tree whose blocks below PRINT_MAX_DEPTH are flattened (iterative: any depth)."""
    root = dict(tree)
    stack = [(root, 0)]
    while stack:
        node, depth = stack.pop()
        if "content" not in node:
            continue
        node["content"] = [dict(child) for child in node["content"]]
        for index, child in enumerate(node["content"]):
            if depth + 1 >= PRINT_MAX_DEPTH and _holds_blocks(child):
                node["content"][index] = _flattened(child)
            else:
                stack.append((child, depth + 1))
    return root


def _holds_blocks(node: dict) -> bool:
    return any(child["type"] not in _INLINE for child in node.get("content", ()))


def _flattened(node: dict) -> dict:
    """A paragraph with all the inline content below `node`, a hard break between blocks."""
    content: list[dict] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if current["type"] in _INLINE:
            content.append(current)
            continue
        children = current.get("content", ())
        if content and content[-1]["type"] != "hardBreak" and any(c["type"] in _INLINE for c in children):
            content.append({"type": "hardBreak"})
        stack.extend(reversed(children))
    return {"type": "paragraph", "content": content} if content else {"type": "paragraph"}
