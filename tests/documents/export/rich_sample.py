"""A document holding every node type of the rich content model (issue 17), as the editor writes it.

Cells say colspan and rowspan, task items say checked (y-prosemirror writes
every non-null attribute); the image is at an absolute address so that every
format gives it back unchanged.
"""

import base64

from tests.documents.tiptap import bullet_list, heading, link, node, ordered_list, paragraph, text

# A 2×1 PNG, small enough for a data: URI.
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAIAAAABCAIAAAB7QOjdAAAADUlEQVR4nGP4zwAE/wEHAAH/4iOeWQAAAABJRU5ErkJggg==")
PNG_SRC = "data:image/png;base64," + base64.b64encode(PNG).decode()


def cell(kind: str, *blocks, **attrs) -> dict:
    return node(kind, *blocks, colspan=1, rowspan=1, **attrs)


def task(checked: bool, *blocks) -> dict:
    return {"type": "taskItem", "attrs": {"checked": checked}, "content": list(blocks)}


def table(*rows) -> dict:
    return node("table", *(node("tableRow", *cells) for cells in rows))


RICH = [
    heading(1, "Plan"), heading(2, "Two"), heading(3, "Three"), heading(4, "Four"), heading(5, "Five"),
    heading(6, "Six"),
    paragraph("Some ", text("bold", "bold"), ", ", text("code", "code"), " and ",
              text("a link", link("https://example.com/a?b=1")), ".", node("hardBreak"), "After a break."),
    bullet_list([paragraph("one")], [paragraph("two"), ordered_list([paragraph("nested")])]),
    ordered_list([paragraph("three")], start=3),
    node("taskList", task(False, paragraph("Write it")),
         task(True, paragraph("Ship it"), node("taskList", task(False, paragraph("Tell people"))))),
    table([cell("tableHeader", paragraph("Name")), cell("tableHeader", paragraph("Role | team"))],
          [cell("tableCell", paragraph("Ann")), cell("tableCell", paragraph(text("dev", "bold")))]),
    {"type": "image", "attrs": {"src": "https://example.com/logo.png", "alt": "Logo", "title": "Our logo"}},
    node("codeBlock", "print(1)", language="python"),
    node("blockquote", paragraph("quoted")),
    node("horizontalRule"),
]
DOC = {"type": "doc", "content": RICH}


