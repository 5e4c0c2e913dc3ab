"""Generated tests/data/legacy/ at main c88b390 (before rich content): a document as the editor made it then, and its exports.

The expected files are main's output, kept as they were: do not re-run this to "fix" a failing
tests/documents/export/test_legacy.py, the point is that exports of old documents do not change.
Run from the repository root: DJANGO_SETTINGS_MODULE=tests.settings python tests/data/legacy/generate.py
"""
import json
from pathlib import Path
from documents import export
from tests.documents.tiptap import build, bullet_list, heading, link, node, ordered_list, paragraph, text
from tests.support.exports import docx_paragraphs

OUT = Path("tests/data/legacy")
NODES = [
    heading(1, "Quarterly plan"),
    paragraph("Intro with ", text("bold", "bold"), ", ", text("italic", "italic"), ", ",
              text("both", "bold", "italic"), ", ", text("struck", "strike"), ", ", text("under", "underline"),
              ", ", text("x = 1", "code"), " and ", text("a link", link("https://example.com/a?b=1&c=(2)")),
              "."),
    heading(2, "Goals | risks"),
    bullet_list([paragraph("[ ] looks like a task")], [paragraph("[x] looks done")],
                [paragraph("nested"), ordered_list([paragraph("one")], [paragraph("two")], start=1)]),
    ordered_list([paragraph("third")], [paragraph("fourth"), paragraph("second paragraph")], start=3),
    heading(3, "Details"),
    paragraph("a | b | c"),
    paragraph("Line one", node("hardBreak"), "line two with trailing break", node("hardBreak")),
    node("codeBlock", "def f():\n    return '|'\n```", language="python"),
    node("codeBlock", "plain"),
    node("blockquote", paragraph("quoted ", text("text", link("mailto:a@example.com"))),
         bullet_list([paragraph("in quote")])),
    node("horizontalRule"),
    paragraph(text("bad", link("javascript:alert(1)")), " ![not an image](x.png) <b>raw</b> # hash"),
    paragraph("Unicode: é ✓ — \u00a0nbsp"),
]

def main():
    OUT.mkdir(parents=True, exist_ok=True)
    doc = build(NODES)
    state = doc.get_update()
    (OUT / "document.ystate").write_bytes(state)
    for name in ("txt", "md", "html", "json"):
        data = export.get(name).render_state(state, title="Plan <Q3> & \"more\"")
        (OUT / f"export.{name}").write_bytes(data.encode("utf-8"))
    docx = export.get("docx").render_state(state, title="Plan")
    (OUT / "export.docx.json").write_text(json.dumps(docx_paragraphs(docx), ensure_ascii=False, indent=1) + "\n")

if __name__ == "__main__":
    import django

    django.setup()
    main()
