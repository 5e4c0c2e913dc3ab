"""Rich content in the editor (issue 17): tables, task lists, images, headings 1-6, highlighted code,
and paste that keeps what was copied, seen by a second person and in the document's JSON export."""

import asyncio
import base64
import re

from playwright.async_api import expect

from collab.client import YClient
from tests.browser import pages
from tests.documents.tiptap import bullet_list, heading, link, node, ordered_list, paragraph, text, write
from tests.support.images import png

PHONE = {"width": 390, "height": 844}


async def open_pair(open_as, daphne_server, cast, **context_options):
    alice = await open_as(cast.owner, **context_options)
    bob = await open_as(cast.editor)
    await asyncio.gather(
        pages.open_document(alice, daphne_server.url, cast.document_id),
        pages.open_document(bob, daphne_server.url, cast.document_id),
    )
    return alice, bob


def find(tree: dict, kind: str) -> list[dict]:
    """Every node of type `kind` in a ProseMirror JSON tree, in document order."""
    found = [tree] if tree.get("type") == kind else []
    for child in tree.get("content", ()):
        found += find(child, kind)
    return found


def text_of(tree: dict) -> str:
    return tree.get("text", "") + "".join(text_of(child) for child in tree.get("content", ()))


def checkboxes(page):
    return pages.editor(page).locator('ul[data-type="taskList"] > li > label input[type="checkbox"]')


# Where an uploaded image is served: /documents/<document>/images/<image>.
OUR_IMAGE = re.compile(r"^/documents/[0-9a-f-]{36}/images/[0-9a-f-]{36}$")

# The text of each task item (its content, without the checkbox's label).
TASK_TEXTS = 'ul[data-type="taskList"] > li > div'


def task_items(page):
    return pages.editor(page).locator('ul[data-type="taskList"] > li')


def watch_policy(*pages_):
    """The Content-Security-Policy violations the pages report on their console from now on."""
    violations = []
    for page in pages_:
        page.on("console", lambda message: "Content Security Policy" in message.text and violations.append(message.text))
    return violations


async def test_pasted_html_keeps_its_structure_for_the_other_editor(open_as, daphne_server, cast, artifacts):
    alice, bob = await open_pair(open_as, daphne_server, cast)
    violations = watch_policy(alice, bob)
    # An image carried in the clipboard's HTML: the editor uploads it (images.js), so the other
    # editor sees it at the document's own image address.
    logo = "data:image/png;base64," + base64.b64encode(png(12, 8)).decode()
    # What a browser puts on the clipboard when copying from web pages: GitHub's
    # task list and highlighted code, Notion- and Google Docs-style to-dos, a
    # table with a header row, an image, and a definition list the editor has no node for.
    html = f"""<meta charset="utf-8">
<h4>Release checklist</h4>
<p>Owners are on the <a href="https://example.com/team">team page</a>.</p>
<table><thead><tr><th>Name</th><th>Role</th></tr></thead>
<tbody><tr><td>Ann</td><td>Dev</td></tr><tr><td>Bo</td><td>QA</td></tr></tbody></table>
<p><img src="{logo}" alt="Team logo" title="Our logo"></p>
<ul class="contains-task-list">
<li class="task-list-item"><input type="checkbox" class="task-list-item-checkbox" checked disabled> Write notes</li>
<li class="task-list-item"><input type="checkbox" class="task-list-item-checkbox" disabled> Tag release</li>
</ul>
<ul class="to-do-list"><li><div class="checkbox checkbox-on"></div> <span>Book venue</span></li></ul>
<ul><li role="checkbox" aria-checked="false"><p>Invite press</p></li></ul>
<div class="highlight highlight-source-python"><pre><span class="pl-k">def</span> <span class="pl-en">ship</span>():
    <span class="pl-k">return</span> <span class="pl-c1">True</span></pre></div>
<pre><code class="language-javascript">const ok = true</code></pre>
<dl><dt>SLA</dt><dd>Four nines</dd></dl>"""
    await pages.editor(alice).click()
    await pages.paste(alice, html=html, text="Release checklist ...")

    seen = pages.editor(bob)
    await expect(seen.locator("h4")).to_have_text("Release checklist")
    await expect(seen.locator('a[href="https://example.com/team"]')).to_have_text("team page")
    await expect(seen.locator("table tr")).to_have_count(3)
    await expect(seen.locator("table tr").first.locator("th")).to_have_text(["Name", "Role"])
    await expect(seen.locator("table td")).to_have_text(["Ann", "Dev", "Bo", "QA"])
    image = seen.get_by_role("img", name="Team logo")
    await expect(image).to_have_attribute("src", OUR_IMAGE)
    await expect(image).to_have_attribute("alt", "Team logo")
    await expect(image).to_have_js_property("complete", True)
    assert await image.evaluate("(img) => img.naturalWidth") > 0, "the image is shown, not broken"
    await pages.expect_texts(bob, TASK_TEXTS, ["Write notes", "Tag release", "Book venue", "Invite press"])
    await expect(task_items(bob).first).to_have_attribute("data-checked", "true")
    assert [await box.is_checked() for box in await checkboxes(bob).all()] == [True, False, True, False]
    python = seen.locator("pre code.language-python")
    await expect(python).to_have_text("def ship():\n    return True")
    await expect(python.locator(".hljs-keyword").first, "the code is highlighted").to_have_text("def")
    await expect(seen.locator("pre code.language-javascript")).to_have_text("const ok = true")
    await expect(seen, "what the schema cannot hold stays as text").to_contain_text("Four nines")
    await pages.expect_same_content(alice, bob)

    tree = await pages.export_json(bob, cast.document_id)
    assert [(h["attrs"]["level"], text_of(h)) for h in find(tree, "heading")] == [(4, "Release checklist")]
    [table] = find(tree, "table")
    assert [[cell["type"] for cell in row["content"]] for row in table["content"]] == [
        ["tableHeader", "tableHeader"], ["tableCell", "tableCell"], ["tableCell", "tableCell"]]
    assert [[text_of(cell) for cell in row["content"]] for row in table["content"]] == [
        ["Name", "Role"], ["Ann", "Dev"], ["Bo", "QA"]]
    [picture] = find(tree, "image")
    assert OUR_IMAGE.match(picture["attrs"]["src"]) and picture["attrs"]["alt"] == "Team logo"
    assert [(i["attrs"]["checked"], text_of(i)) for i in find(tree, "taskItem")] == [
        (True, "Write notes"), (False, "Tag release"), (True, "Book venue"), (False, "Invite press")]
    assert len(find(tree, "taskList")) == 3
    assert [(c["attrs"]["language"], text_of(c)) for c in find(tree, "codeBlock")] == [
        ("python", "def ship():\n    return True"), ("javascript", "const ok = true")]
    links = [m["attrs"]["href"] for t in find(tree, "text") for m in t.get("marks", ()) if m["type"] == "link"]
    assert links == ["https://example.com/team"]
    assert "Four nines" in text_of(tree)
    assert not violations, f"the policy blocked something: {violations}"
    await bob.screenshot(path=artifacts / "rich-paste-html.png", full_page=True)


MARKDOWN = """# Launch plan
## Steps
Read the [docs](https://example.com/docs) and **agree**.

- [x] Draft the plan
- [ ] Review it

1. First
2. Second

- loose bullet

> Ship small, ship often.

| Name | Role |
| --- | --- |
| Ann | Dev |

```rust
fn main() {}
```

###### Small print
See the note[^1].

[^1]: The note itself.
"""


async def test_pasted_markdown_text_becomes_structure(open_as, daphne_server, cast):
    alice, bob = await open_pair(open_as, daphne_server, cast)
    # A Markdown image of a PNG: the editor uploads it (images.js) and the document holds its own address.
    diagram = "data:image/png;base64," + base64.b64encode(png(10, 10)).decode()
    await pages.editor(alice).click()
    await pages.paste(alice, text=MARKDOWN + f"\n![Diagram]({diagram} \"The plan\")\n")

    seen = pages.editor(bob)
    await expect(seen.locator("h1")).to_have_text("Launch plan")
    await expect(seen.locator("h2")).to_have_text("Steps")
    await expect(seen.locator("h6")).to_have_text("Small print")
    await expect(seen.locator('a[href="https://example.com/docs"]')).to_have_text("docs")
    await expect(seen.locator("strong")).to_have_text("agree")
    await pages.expect_texts(bob, TASK_TEXTS, ["Draft the plan", "Review it"])
    assert [await box.is_checked() for box in await checkboxes(bob).all()] == [True, False]
    await expect(seen.locator("ol > li")).to_have_text(["First", "Second"])
    await expect(seen.locator("ul:not([data-type]) > li")).to_have_text(["loose bullet"])
    await expect(seen.locator("blockquote")).to_have_text("Ship small, ship often.")
    await expect(seen.locator("table tr").first.locator("th")).to_have_text(["Name", "Role"])
    await expect(seen.locator("table td")).to_have_text(["Ann", "Dev"])
    await expect(seen.locator("pre code.language-rust")).to_have_text("fn main() {}")
    await expect(seen.locator("pre code.language-rust .hljs-keyword").first).to_have_text("fn")
    # GFM has no footnotes: they stay as the text that was pasted.
    await expect(seen).to_contain_text("The note itself.")
    await expect(seen.get_by_role("img", name="Diagram")).to_have_attribute("src", OUR_IMAGE)
    await expect(seen, "no Markdown syntax is left as text").not_to_contain_text("##")
    await pages.expect_same_content(alice, bob)

    tree = await pages.export_json(alice, cast.document_id)
    kinds = [block["type"] for block in tree["content"]]
    assert kinds[:9] == ["heading", "heading", "paragraph", "taskList", "orderedList", "bulletList",
                         "blockquote", "table", "codeBlock"], kinds
    assert [h["attrs"]["level"] for h in find(tree, "heading")] == [1, 2, 6]
    assert [(i["attrs"]["checked"], text_of(i)) for i in find(tree, "taskItem")] == [
        (True, "Draft the plan"), (False, "Review it")]
    assert [c["type"] for c in find(tree, "tableRow")[0]["content"]] == ["tableHeader", "tableHeader"]
    [code] = find(tree, "codeBlock")
    assert (code["attrs"]["language"], text_of(code)) == ("rust", "fn main() {}")
    [picture] = find(tree, "image")
    assert OUR_IMAGE.match(picture["attrs"]["src"]) and picture["attrs"]["alt"] == "Diagram"


async def test_markdown_pasted_into_a_code_block_stays_as_typed(open_as, daphne_server, cast):
    alice = await open_as(cast.owner)
    await pages.open_document(alice, daphne_server.url, cast.document_id)
    await pages.editor(alice).click()
    await alice.get_by_test_id("block-style").select_option("codeBlock")
    await pages.paste(alice, text="# not a heading\n- not a list")
    await expect(pages.editor(alice).locator("pre code")).to_have_text("# not a heading\n- not a list")
    await expect(pages.editor(alice).locator("h1, ul")).to_have_count(0)


async def test_a_checkbox_ticked_in_one_browser_is_ticked_in_the_other_but_not_by_a_viewer(
        open_as, daphne_server, cast):
    alice, bob = await open_pair(open_as, daphne_server, cast)
    await pages.editor(alice).click()
    await alice.get_by_role("button", name="Checklist").click()
    await alice.keyboard.type("Buy milk")
    await alice.keyboard.press("Enter")
    await alice.keyboard.type("Call Bo")
    await pages.expect_texts(bob, TASK_TEXTS, ["Buy milk", "Call Bo"])

    await checkboxes(bob).first.click()
    await expect(task_items(alice).first).to_have_attribute("data-checked", "true")
    await expect(checkboxes(alice).first).to_be_checked()
    # By keyboard, in the item the caret is in.
    await alice.keyboard.press("Control+Enter")
    await expect(checkboxes(bob).nth(1)).to_be_checked()

    carol = await open_as(cast.viewer)
    await pages.open_document(carol, daphne_server.url, cast.document_id)
    await expect(checkboxes(carol)).to_have_count(2)
    await expect(checkboxes(carol).first).to_be_checked()
    await expect(checkboxes(carol).first, "a viewer cannot tick").to_be_disabled()
    await checkboxes(carol).first.click(force=True)  # a disabled checkbox ignores the click
    await expect(checkboxes(carol).first).to_be_checked()
    # Alice unticks the first; everyone converges on her change and nothing of Carol's.
    await checkboxes(alice).first.click()
    await expect(checkboxes(carol).first).not_to_be_checked()
    await expect(checkboxes(bob).first).not_to_be_checked()
    tree = await pages.export_json(carol, cast.document_id)
    assert [(i["attrs"]["checked"], text_of(i)) for i in find(tree, "taskItem")] == [
        (False, "Buy milk"), (True, "Call Bo")]


async def test_toolbar_inserts_a_table_and_edits_its_rows_and_columns(open_as, daphne_server, cast):
    alice, bob = await open_pair(open_as, daphne_server, cast)
    table_tools = alice.get_by_test_id("table-tools")
    await pages.editor(alice).click()
    await expect(table_tools, "row and column tools only inside a table").to_be_hidden()
    # By keyboard: the toolbar's buttons are in the tab order.
    await alice.get_by_role("button", name="Insert table").focus()
    await alice.keyboard.press("Enter")
    seen = pages.editor(bob)
    await expect(seen.locator("table tr")).to_have_count(3)
    await expect(seen.locator("table tr").first.locator("th")).to_have_count(3)
    await expect(table_tools).to_be_visible()

    await alice.keyboard.type("Name")
    await alice.keyboard.press("Tab")
    await alice.keyboard.type("Role")
    await pages.expect_texts(bob, "th", ["Name", "Role", ""])
    await alice.get_by_role("button", name="Add row below").click()
    await expect(seen.locator("table tr")).to_have_count(4)
    await alice.get_by_role("button", name="Delete column").click()
    await expect(seen.locator("table tr").first.locator("th")).to_have_count(2)
    await alice.get_by_role("button", name="Add column right").click()
    await expect(seen.locator("table tr").first.locator("th")).to_have_count(3)
    await pages.expect_same_content(alice, bob)
    tree = await pages.export_json(bob, cast.document_id)
    [table] = find(tree, "table")
    assert len(table["content"]) == 4 and all(len(row["content"]) == 3 for row in table["content"])
    assert [cell["type"] for cell in table["content"][0]["content"]] == ["tableHeader"] * 3

    await alice.get_by_role("button", name="Delete table").click()
    await expect(seen.locator("table")).to_have_count(0)
    await expect(table_tools).to_be_hidden()


async def test_code_language_and_headings_from_the_toolbar_on_a_phone(open_as, daphne_server, cast, artifacts):
    alice, bob = await open_pair(open_as, daphne_server, cast, viewport=PHONE)
    block_style = alice.get_by_test_id("block-style")
    language = alice.get_by_test_id("code-language")
    await pages.editor(alice).click()
    await alice.keyboard.type("Small heading")
    await expect(block_style, "the style picker is on screen at 390 px").to_be_in_viewport()
    await block_style.select_option("h5")
    await pages.expect_texts(bob, "h5", ["Small heading"])
    await alice.keyboard.press("End")
    await alice.keyboard.press("Enter")
    await expect(language).to_be_hidden()
    await block_style.select_option("codeBlock")
    await alice.keyboard.type("SELECT 1;")
    await expect(language).to_be_visible()
    await language.select_option("sql")
    await pages.expect_texts(bob, "pre code.language-sql", ["SELECT 1;"])
    await expect(pages.editor(bob).locator("pre code .hljs-keyword")).to_have_text("SELECT")

    # A wide table scrolls inside the page, which itself never gets wider than the phone.
    await alice.keyboard.press("Control+End")
    await alice.keyboard.press("ArrowDown")  # out of the code block
    await alice.get_by_role("button", name="Insert table").click()
    for _ in range(5):
        await alice.get_by_role("button", name="Add column right").click()
    await expect(pages.editor(bob).locator("table tr").first.locator("th")).to_have_count(8)
    width = await alice.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width} px wide on a {PHONE['width']} px phone"
    # The last toolbar control is reachable by scrolling the toolbar.
    last = alice.get_by_role("button", name="Delete table")
    await last.scroll_into_view_if_needed()
    await expect(last).to_be_in_viewport()
    await alice.screenshot(path=artifacts / "rich-toolbar-phone.png")


async def test_a_document_made_before_opens_and_renders_unchanged(open_as, daphne_server, cast):
    """Written as the editor did before rich content: headings 1-3, marks, lists, a quote, code, a rule."""
    before = [
        heading(1, "Quarterly plan"),
        paragraph(text("Goals are "), text("bold", "bold"), text(" and "), text("linked", link("https://example.com"))),
        heading(2, "Work"),
        bullet_list([paragraph("First bullet")], [paragraph("Second bullet")]),
        ordered_list([paragraph("Step one")], [paragraph("Step two")]),
        heading(3, "Details"),
        node("blockquote", paragraph("A quote")),
        node("codeBlock", "print('hi')", language="python"),
        node("horizontalRule"),
        paragraph(text("Line one"), node("hardBreak"), text("line two")),
    ]
    async with YClient(daphne_server.document_ws(cast.document_id), cookies=f"sessionid={cast.owner.session_key}",
                       origin=daphne_server.url) as script:
        await script.synced.wait()
        with script.doc.transaction():
            write(script.fragment, before)
        await script.wait_for(lambda client: client.saved_covers_own_edits())
    alice = await open_as(cast.owner)  # the document list: no editor has it open yet
    expected = await pages.export_json(alice, cast.document_id)
    assert [b["type"] for b in expected["content"]] == [b["type"] for b in before]
    await pages.open_document(alice, daphne_server.url, cast.document_id)

    bob = await open_as(cast.editor)
    await pages.open_document(bob, daphne_server.url, cast.document_id)
    for page in (alice, bob):
        tags = await pages.editor(page).evaluate("(root) => [...root.children].map((child) => child.tagName)")
        assert tags == ["H1", "P", "H2", "UL", "OL", "H3", "BLOCKQUOTE", "PRE", "HR", "P"], tags
        await expect(pages.editor(page).locator("pre code.language-python .hljs-built_in")).to_have_text("print")
        await expect(pages.editor(page).locator("p strong")).to_have_text("bold")
        await expect(pages.editor(page).locator("p br")).to_have_count(1)

    # Opening it wrote nothing: after an edit of Alice's reaches Bob, the
    # document is what it was plus that edit.
    await pages.editor(alice).locator(":scope > p").last.click()
    await alice.keyboard.press("End")
    await alice.keyboard.type("!")
    await pages.expect_texts(bob, ":scope > p:last-child", ["Line oneline two!"])
    after = await pages.export_json(alice, cast.document_id)
    expected["content"][-1]["content"][-1]["text"] += "!"
    assert after == expected
