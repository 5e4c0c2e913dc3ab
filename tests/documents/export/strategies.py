"""Hypothesis strategies for Tiptap documents (ProseMirror JSON valid in Tiptap's StarterKit schema)."""

from hypothesis import strategies as st

# Letters, digits and every character Markdown or HTML gives a meaning to.
ALPHABET = st.sampled_from(list("abcXYZ019 ") + list("*_`[]()<>#&;!-+=.~|\\\"'/:") + ["\n", "\t", "é", "\u00a0"])
HREFS = st.sampled_from(
    ["https://example.com/", "https://example.com/a b?q=1&r=(2)", "mailto:a@example.com", "/relative", "#top",
     "javascript:alert(1)", " JavaScript:alert(1)", "data:text/html,<b>x</b>"]
)
LANGUAGES = st.sampled_from(["", "python", "js", "c++", "weird`lang", "two words"])

plain_text = st.text(ALPHABET, min_size=1, max_size=12)


@st.composite
def marks(draw):
    if draw(st.integers(0, 5)) == 0:
        return [{"type": "code"}]  # Tiptap's code mark excludes every other mark
    chosen = []
    if draw(st.booleans()):
        chosen.append({"type": "link", "attrs": {"href": draw(HREFS)}})
    for name in ("bold", "italic", "underline", "strike"):  # canonical order (tree.MARK_ORDER)
        if draw(st.integers(0, 2)) == 0:
            chosen.append({"type": name})
    return chosen


@st.composite
def inline(draw, max_size=6):
    nodes = []
    for _ in range(draw(st.integers(0, max_size))):
        if draw(st.integers(0, 7)) == 0:
            nodes.append({"type": "hardBreak"})
            continue
        node = {"type": "text", "text": draw(plain_text)}
        chosen = draw(marks())
        if chosen:
            node["marks"] = chosen
        if nodes and nodes[-1]["type"] == "text" and nodes[-1].get("marks") == node.get("marks"):
            nodes[-1]["text"] += node["text"]  # ProseMirror merges equal neighbours
        else:
            nodes.append(node)
    return nodes


def _with_content(kind, content, **attrs):
    node = {"type": kind}
    if attrs:
        node["attrs"] = attrs
    if content:
        node["content"] = content
    return node


paragraphs = inline().map(lambda content: _with_content("paragraph", content))
headings = st.builds(lambda level, content: _with_content("heading", content, level=level), st.integers(1, 6), inline())
code_blocks = st.builds(
    lambda language, text: _with_content(
        "codeBlock", [{"type": "text", "text": text}] if text else [], language=language
    ),
    LANGUAGES,
    st.text(ALPHABET, max_size=30),
)
rules = st.just({"type": "horizontalRule"})


def blocks(depth: int = 2):
    leaves = st.one_of(paragraphs, paragraphs, headings, code_blocks, rules)
    if depth == 0:
        return leaves
    inner = st.lists(blocks(depth - 1), min_size=1, max_size=3)
    # A list item starts with a paragraph (Tiptap: "paragraph block*").
    item = st.builds(lambda p, rest: {"type": "listItem", "content": [p, *rest]}, paragraphs,
                     st.lists(blocks(depth - 1), max_size=2))
    items = st.lists(item, min_size=1, max_size=3)
    return st.one_of(
        leaves,
        inner.map(lambda content: {"type": "blockquote", "content": content}),
        items.map(lambda content: {"type": "bulletList", "content": content}),
        st.builds(lambda start, content: {"type": "orderedList", "attrs": {"start": start}, "content": content},
                  st.integers(0, 12), items),
    )


documents = st.lists(blocks(), min_size=1, max_size=5).map(lambda content: {"type": "doc", "content": content})


# --- rich content: task lists, tables, images (Tiptap's extensions, default names and attrs) --------------

IMAGE_SRCS = st.sampled_from(["https://example.com/a.png", "/api/documents/x/images/1", "img/a b(1).png",
                              "data:image/png;base64,iVBORw0KGgo="])
IMAGE_TEXT = st.text(ALPHABET.filter(lambda c: c not in "\n\t"), max_size=8)


@st.composite
def images(draw):
    attrs = {"src": draw(IMAGE_SRCS)}
    alt = draw(IMAGE_TEXT)
    if alt.strip():
        attrs["alt"] = alt.strip()
    title = draw(IMAGE_TEXT)
    if title.strip():
        attrs["title"] = title.strip()
    return {"type": "image", "attrs": attrs}


@st.composite
def task_lists(draw, inner):
    items = []
    for _ in range(draw(st.integers(1, 3))):
        rest = draw(st.lists(inner, max_size=2))
        items.append({"type": "taskItem", "attrs": {"checked": draw(st.booleans())},
                      "content": [draw(paragraphs), *rest]})
    return {"type": "taskList", "content": items}


@st.composite
def tables(draw):
    """Rectangular tables of paragraphs (what a GFM table holds), a header row or not, a column aligned or not."""
    columns = draw(st.integers(1, 3))
    header = draw(st.booleans())
    aligns = [draw(st.sampled_from([None, "left", "center", "right"])) for _ in range(columns)]
    rows = []
    for r in range(draw(st.integers(1, 3))):
        cells = []
        for c in range(columns):
            attrs = {"colspan": 1, "rowspan": 1}
            if aligns[c]:
                attrs["align"] = aligns[c]
            content = draw(st.lists(paragraphs, min_size=1, max_size=2))
            cells.append({"type": "tableHeader" if header and r == 0 else "tableCell", "attrs": attrs,
                          "content": content})
        rows.append({"type": "tableRow", "content": cells})
    return {"type": "table", "content": rows}


def rich_blocks(depth: int = 2):
    leaves = st.one_of(paragraphs, headings, code_blocks, rules, images(), tables())
    if depth == 0:
        return leaves
    inner = rich_blocks(depth - 1)
    item = st.builds(lambda p, rest: {"type": "listItem", "content": [p, *rest]}, paragraphs,
                     st.lists(inner, max_size=2))
    return st.one_of(
        leaves,
        st.lists(inner, min_size=1, max_size=3).map(lambda content: {"type": "blockquote", "content": content}),
        st.lists(item, min_size=1, max_size=3).map(lambda content: {"type": "bulletList", "content": content}),
        task_lists(inner),
    )


rich_documents = st.lists(rich_blocks(), min_size=1, max_size=5).map(
    lambda content: {"type": "doc", "content": content})
