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

# What each format makes of it (HTML: the body markup).

SAMPLE_HTML = (
    "<h1>Release notes</h1>\n"
    "<p>We <strong>really <em>mean</em> it</strong>, see "
    '<a href="https://example.com/docs?a=1&amp;b=2" rel="noopener noreferrer nofollow">the docs</a>.</p>\n'
    "<ul><li><p>Fast</p></li><li><p>Safe</p><ul><li><p>no <code>eval()</code></p></li>"
    "<li><p>escaped</p></li></ul></li></ul>\n"
    '<ol start="3"><li><p>Install</p></li><li><p>Run</p></li></ol>\n'
    '<pre><code class="language-python">print("hi")\nexit()</code></pre>\n'
    "<blockquote><p>Line one<br>line two</p></blockquote>\n"
    "<hr>\n"
    "<p><s>old</s> and <u>underlined</u></p>"
)

SAMPLE_MD = """\
# Release notes

We **really *mean* it**, see [the docs](https://example.com/docs?a=1&b=2).

- Fast
- Safe
  - no `eval()`
  - escaped

3. Install
4. Run

```python
print("hi")
exit()
```

> Line one\\
> line two

---

~~old~~ and underlined
"""

SAMPLE_TXT = """\
Release notes
=============

We really mean it, see the docs (https://example.com/docs?a=1&b=2).

- Fast
- Safe
  - no eval()
  - escaped

3. Install
4. Run

    print("hi")
    exit()

> Line one
> line two

---

old and underlined
"""
