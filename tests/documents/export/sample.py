"""The document that every format's tests render: each construct Tiptap's StarterKit makes."""

from tests.documents.tiptap import bullet_list, heading, link, node, ordered_list, paragraph, text

SAMPLE = [
    heading(1, "Release notes"),
    paragraph(
        "We ",
        text("really ", "bold"),
        text("mean", "bold", "italic"),
        text(" it", "bold"),
        ", see ",
        text("the docs", link("https://example.com/docs?a=1&b=2")),
        ".",
    ),
    bullet_list(
        [paragraph("Fast")],
        [paragraph("Safe"), bullet_list([paragraph("no ", text("eval()", "code"))], [paragraph("escaped")])],
    ),
    ordered_list([paragraph("Install")], [paragraph("Run")], start=3),
    node("codeBlock", 'print("hi")\nexit()', language="python"),
    node("blockquote", paragraph("Line one", node("hardBreak"), "line two")),
    node("horizontalRule"),
    paragraph(text("old", "strike"), " and ", text("underlined", "underline")),
]

TITLE = 'Notes: "Q3" <draft>'
