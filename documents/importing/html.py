"""HTML import: refuse what is hostile, sanitize the rest with nh3, map its elements to the editor's nodes.

Three passes over the markup:
1. `scan`: a page that carries a script, an event handler attribute
   (onclick=...) or a `javascript:`/`vbscript:` URL (or a `data:` link, or a
   `data:` source other than a raster image's) is refused (ImportRefused,
   422) and nothing is stored: its author meant it to run, and the caller
   should know that it will not. Frames and other embedded objects, and
   form controls other than a task item's checkbox, are counted (they are
   skipped, with a note).
2. nh3 (ammonia) sanitizes what is left down to the tags below, with their
   content for most and without it for style sheets, templates, SVG and the
   like; the result is well-formed, so the mapping never sees a tag soup.
3. Mapping with the standard library's event parser onto `TreeBuilder`, as
   Tiptap's own parseHTML rules would: <p>, <h1>-<h6>, lists, <blockquote>,
   <pre><code class="language-x">, <hr>, <br>, <strong>/<b>, <em>/<i>,
   <s>/<del>/<strike>, <code>, <a href>, pending suggestions as the editor and
   the HTML export write them (<ins>/<del> with data-suggestion-id, -author,
   -name, -at: documents/export/suggestions.py; a plain <del> is strike), <img src alt title>, tables (<th>
   cells are headers; colspan, rowspan and text-align kept), and task lists
   as Tiptap writes them (<li data-type="taskItem" data-checked>) or as
   GitHub does (a list item holding an <input type="checkbox">). Other
   containers (div, section...) are transparent.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import nh3

from ..export.links import SAFE_SCHEMES, safe_image_src, url_scheme
from ..export.suggestions import ATTRS as SUGGESTION_ATTRS
from ..export.suggestions import DELETE as SUGGESTED_DELETION
from ..export.suggestions import INSERT as SUGGESTED_INSERTION
from .builder import TreeBuilder
from .schema import ImportRefused, Notes

HEADINGS = {f"h{n}": n for n in range(1, 7)}
MARK_TAGS = {"strong": "bold", "b": "bold", "em": "italic", "i": "italic", "s": "strike", "del": "strike",
             "strike": "strike", "code": "code"}
# Formatting the editor has no mark for: the text stays, the formatting goes (with a note).
UNSUPPORTED_MARK_TAGS = frozenset({"u", "ins", "mark", "sub", "sup"})
CONTAINERS = {"blockquote": "blockquote", "ul": "bulletList", "ol": "orderedList", "li": "listItem",
              "table": "table", "tr": "tableRow", "td": "tableCell", "th": "tableHeader"}
TEXTBLOCKS = frozenset({"p", "dt", "dd", "figcaption", "caption", "summary", "address"}) | set(HEADINGS)
# Block-level elements with no node of their own: they end a paragraph, their content flows on.
TRANSPARENT_BLOCKS = frozenset({"div", "section", "article", "header", "footer", "main", "aside", "nav", "figure",
                                "dl", "details", "thead", "tbody", "tfoot", "center", "body", "html", "picture"})

ALLOWED_TAGS = (
    set(HEADINGS) | set(MARK_TAGS) | UNSUPPORTED_MARK_TAGS | set(CONTAINERS) | TEXTBLOCKS | TRANSPARENT_BLOCKS
    | {"pre", "hr", "br", "a", "span", "small", "big", "abbr", "cite", "q", "kbd", "samp", "tt", "var", "dfn",
       "time", "label", "img", "input"}
)
# Dropped with everything inside them: not text a reader sees.
DROPPED_WITH_CONTENT = {"script", "style", "template", "svg", "math", "iframe", "object", "noscript", "textarea",
                        "select", "title", "head", "canvas", "video", "audio", "applet", "frameset", "noembed",
                        "noframes", "button", "datalist", "map"}
_CELL_ATTRIBUTES = {"colspan", "rowspan", "align", "style"}
# A pending suggestion (<ins>/<del> with these): the suggestion marks (schema.normalize checks their values).
_SUGGESTION_ATTRIBUTES = {f"data-suggestion-{key}" for key in SUGGESTION_ATTRS}
SUGGESTION_TAGS = {"ins": SUGGESTED_INSERTION, "del": SUGGESTED_DELETION}
ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "code": {"class"}, "pre": {"class"},
              "img": {"src", "alt", "title", "width", "height"}, "input": {"type", "checked"},
              "ul": {"data-type"}, "li": {"data-type", "data-checked"}, "td": _CELL_ATTRIBUTES, "th": _CELL_ATTRIBUTES,
              "ins": _SUGGESTION_ATTRIBUTES, "del": _SUGGESTION_ATTRIBUTES}
# Of a style attribute (table cells), only the alignment is read.
STYLE_PROPERTIES = {"text-align"}

# Images the editor cannot show: an SVG's <image>.
IMAGES = frozenset({"image"})
EMBEDS = frozenset({"iframe", "frame", "object", "embed", "video", "audio", "canvas", "svg", "math", "applet"})
FORM_CONTROLS = frozenset({"input", "select", "textarea", "button"})
_ALIGN = re.compile(r"text-align:\s*(left|center|right)")

# Attributes holding a URL that a browser follows or loads.
_LINK_ATTRIBUTES = frozenset({"href", "xlink:href", "action", "formaction"})
_SOURCE_ATTRIBUTES = frozenset({"src", "data", "poster", "background", "srcset", "codebase", "dynsrc", "lowsrc"})
SCRIPT_SCHEMES = frozenset({"javascript", "vbscript", "livescript"})
_LANGUAGE_CLASS = re.compile(r"(?:^|\s)(?:language|lang)-([^\s]+)")


def parse_html(markup: str, notes: Notes) -> dict:
    """A rough ProseMirror tree of `markup` (normalize it); ImportRefused if it is hostile."""
    builder = TreeBuilder(notes, collapse_space=True)
    feed_html(markup, builder)
    return builder.finish()


def feed_html(markup: str, builder: TreeBuilder) -> None:
    """Check, sanitize and map `markup` into an open builder (also for HTML inside Markdown)."""
    counts = scan(markup)
    builder.notes.add("image", counts["image"])
    builder.notes.add("embed", counts["embed"])
    builder.notes.add("form", counts["form"])
    builder.notes.add("link", counts["link"])
    # HTML's whitespace rules, also inside Markdown (whose own text keeps its spaces).
    saved, builder.collapse_space = builder.collapse_space, True
    try:
        _Mapper(builder).run(sanitize(markup))
        builder.close_textblock()
    finally:
        builder.collapse_space = saved


def sanitize(markup: str) -> str:
    return nh3.clean(
        markup,
        tags=ALLOWED_TAGS,
        clean_content_tags=DROPPED_WITH_CONTENT,
        attributes=ATTRIBUTES,
        filter_style_properties=STYLE_PROPERTIES,
        # data: for images (`scan` refused it anywhere else; `normalize` keeps raster images only).
        url_schemes=set(SAFE_SCHEMES) | {"data"},
        strip_comments=True,
        link_rel=None,
    )


def hostile_link(href: str) -> str | None:
    """The scheme of a link target that would run code where it is followed ("javascript"), or None."""
    scheme = url_scheme(href)
    return scheme if scheme in SCRIPT_SCHEMES or scheme == "data" else None


def hostile_reason(tag: str, attrs: list[tuple[str, str | None]]) -> str | None:
    """Why this start tag would run code, or None."""
    if tag == "script":
        return "a <script> element"
    for name, value in attrs:
        name = name.lower()
        if name.startswith("on"):
            return f"an event handler attribute ({name}=...)"
        if value is None:
            continue
        scheme = url_scheme(value) if name in _LINK_ATTRIBUTES | _SOURCE_ATTRIBUTES else None
        if scheme in SCRIPT_SCHEMES or (scheme == "data" and name in _LINK_ATTRIBUTES):
            return f"a {scheme}: URL in {name}="
        if scheme == "data" and not (tag == "img" and name == "src" and safe_image_src(value)):
            return f"a data: URL in {name}= that is not a raster image"
    return None


def scan(markup: str) -> dict:
    """Counts of skipped objects; ImportRefused if the markup carries anything that would run."""
    scanner = _Scanner()
    scanner.feed(markup)
    scanner.close()
    return scanner.counts


class _Scanner(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.counts = {"image": 0, "embed": 0, "form": 0, "link": 0}

    def handle_starttag(self, tag, attrs):
        reason = hostile_reason(tag, attrs)
        if reason is not None:
            raise ImportRefused(f"Refused: the HTML contains {reason}. Scripts do not run in documents; "
                                "remove it and import again.")
        if tag == "a":
            # Links the sanitizer will unlink (ftp:, file:...): their text stays.
            href = dict(attrs).get("href")
            if href and url_scheme(href) not in (None, *SAFE_SCHEMES):
                self.counts["link"] += 1
        if tag in IMAGES:
            self.counts["image"] += 1
        elif tag in EMBEDS:
            self.counts["embed"] += 1
        elif tag in FORM_CONTROLS and not (tag == "input" and (dict(attrs).get("type") or "").lower() == "checkbox"):
            self.counts["form"] += 1  # a checkbox is a task item's (or noted where it is not)

    handle_startendtag = handle_starttag


class _Mapper(HTMLParser):
    """Sanitized markup onto a TreeBuilder. Ammonia's output is balanced, so end tags pair up."""

    def __init__(self, builder: TreeBuilder):
        super().__init__(convert_charrefs=True)
        self.b = builder
        # What each open element did, to undo at its end tag: (tag, action)
        self.open: list[tuple[str, str]] = []

    def run(self, markup: str) -> None:
        self.feed(markup)
        self.close()

    def handle_starttag(self, tag, attrs):
        b = self.b
        attributes = dict(attrs)
        action = "none"
        if tag == "br":
            b.hard_break()
            return
        if tag == "hr":
            b.leaf("horizontalRule")
            return
        if tag == "img":
            if attributes.get("src"):
                b.image({key: attributes.get(key) for key in ("src", "alt", "title", "width", "height")})
            else:
                b.notes.add("image")  # nothing to show (a Word image of a type browsers lack, or too large)
                b.skip_inline()
            return
        if tag == "input":
            if (attributes.get("type") or "").lower() == "checkbox":
                if b.in_item():
                    b.task_item("checked" in attributes)
                else:
                    b.notes.add("form")
            return
        if tag in CONTAINERS:
            container_attrs = None
            if tag == "ol":
                start = attributes.get("start")
                container_attrs = {"start": int(start)} if start and start.strip().isdigit() else {"start": 1}
            elif tag in ("td", "th"):
                container_attrs = _cell_attrs(attributes)
            b.open_container(CONTAINERS[tag], container_attrs)
            if tag == "li" and attributes.get("data-type") == "taskItem":
                b.task_item(attributes.get("data-checked") == "true")
            action = "container"
        elif tag == "pre":
            b.code_block(_language(attributes.get("class")))
            action = "textblock"
        elif tag == "code" and b.code is not None:
            b.set_code_language(_language(attributes.get("class")))
        elif tag in HEADINGS:
            b.open_textblock("heading", {"level": HEADINGS[tag]})
            action = "textblock"
        elif tag in TEXTBLOCKS:
            b.open_textblock()
            action = "textblock"
        elif tag == "a":
            href = attributes.get("href")
            if href:
                b.push_mark({"type": "link", "attrs": {"href": href}})
                action = "mark:link"
        elif tag in SUGGESTION_TAGS and attributes.get("data-suggestion-id"):
            kind = SUGGESTION_TAGS[tag]
            b.push_mark({"type": kind, "attrs": {key: attributes.get(f"data-suggestion-{key}") or ""
                                                 for key in SUGGESTION_ATTRS}})
            action = f"mark:{kind}"
        elif tag in MARK_TAGS:
            b.push_mark({"type": MARK_TAGS[tag]})
            action = f"mark:{MARK_TAGS[tag]}"
        elif tag in UNSUPPORTED_MARK_TAGS:
            b.notes.add("mark")
        elif tag in TRANSPARENT_BLOCKS:
            b.close_textblock()
        self.open.append((tag, action))

    def handle_endtag(self, tag):
        # Pop to the matching start tag (ammonia balances them; this only guards).
        if all(opened != tag for opened, _action in self.open):
            return
        while self.open:
            opened, action = self.open.pop()
            self._undo(opened, action)
            if opened == tag:
                break

    def _undo(self, tag: str, action: str) -> None:
        b = self.b
        if action == "container":
            b.close_container()
        elif action == "textblock":
            b.close_textblock()
        elif action.startswith("mark:"):
            b.pop_mark(action[5:])
        elif tag in TRANSPARENT_BLOCKS:
            b.close_textblock()

    def handle_data(self, data):
        self.b.text(data)


def _cell_attrs(attributes: dict) -> dict:
    """colspan and rowspan as written (`normalize` checks them), alignment from align= or style=."""
    attrs = {"colspan": attributes.get("colspan") or 1, "rowspan": attributes.get("rowspan") or 1}
    align = (attributes.get("align") or "").lower()
    match = _ALIGN.search((attributes.get("style") or "").lower())
    if match or align in ("left", "center", "right"):
        attrs["align"] = match.group(1) if match else align
    return attrs


def _language(css_class: str | None) -> str | None:
    if not css_class:
        return None
    match = _LANGUAGE_CLASS.search(css_class)
    return match.group(1) if match else None
