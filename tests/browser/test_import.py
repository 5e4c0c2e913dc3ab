"""Import from the document list: a Markdown file chosen, a Word file dropped, a hostile page refused."""

import base64
import re

from playwright.async_api import expect

from tests.api.test_import import word_file
from tests.browser import pages

MARKDOWN = "# Launch plan\n\nShip **on Monday**.\n\n- write notes\n- tell the team\n\n![diagram](ftp://example.com/d.png)\n"

# Drops a file on the page as a person dragging it from their desktop does.
DROP_JS = """
async ([name, type, data]) => {
  const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
  const transfer = new DataTransfer();
  transfer.items.add(new File([bytes], name, { type }));
  const target = document.querySelector('main') || document.body;
  for (const kind of ['dragenter', 'dragover']) {
    target.dispatchEvent(new DragEvent(kind, { bubbles: true, cancelable: true, dataTransfer: transfer }));
  }
  const shown = !document.querySelector('[data-testid="import-dropzone"]').hidden;
  target.dispatchEvent(new DragEvent('drop', { bubbles: true, cancelable: true, dataTransfer: transfer }));
  return shown;
}
"""


async def test_a_markdown_file_chosen_on_the_list_opens_as_a_new_document(open_as, cast, artifacts):
    page = await open_as(cast.owner)
    await page.get_by_test_id("import-file").set_input_files(
        files=[{"name": "Launch plan.md", "mimeType": "text/markdown", "buffer": MARKDOWN.encode()}])

    await expect(page).to_have_url(re.compile(r"/documents/[0-9a-f-]{36}/$"))
    await pages.expect_connected(page)
    await expect(page.get_by_test_id("doc-title")).to_have_value("Launch plan")
    editor = pages.editor(page)
    await expect(editor.locator("h1")).to_have_text("Launch plan")
    await expect(editor.locator("p strong")).to_have_text("on Monday")
    await expect(editor.locator("ul > li")).to_have_text(["write notes", "tell the team"])
    # What did not fit is said once, on the new document's page.
    await expect(page.get_by_test_id("import-notes")).to_contain_text("1 image with an unsupported address skipped")
    await page.screenshot(path=artifacts / "import-markdown.png")
    await page.reload()
    await pages.expect_connected(page)
    await expect(page.get_by_test_id("import-notes")).to_have_count(0)


async def test_a_word_file_dropped_on_the_list_opens_as_a_new_document(open_as, cast, artifacts):
    page = await open_as(cast.owner)
    data = base64.b64encode(word_file()).decode()
    docx_type = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    dropzone_shown = await page.evaluate(DROP_JS, ["Quarterly plan.docx", docx_type, data])
    assert dropzone_shown, "dragging a file over the list shows where to drop it"

    await expect(page).to_have_url(re.compile(r"/documents/[0-9a-f-]{36}/$"))
    await pages.expect_connected(page)
    await expect(page.get_by_test_id("doc-title")).to_have_value("Quarterly plan")
    editor = pages.editor(page)
    await expect(editor.locator("h1")).to_have_text("Plan")
    await expect(editor.locator("p").first).to_have_text("Some bold and italic")
    await expect(editor.locator("p strong")).to_have_text("bold")
    await expect(editor.locator("ul > li")).to_have_text(["one", "two"])
    # Its picture is kept (as an image of the document's own), so nothing is said to be skipped.
    await expect(page.get_by_test_id("import-notes")).to_have_count(0)
    await page.screenshot(path=artifacts / "import-docx.png")


async def test_a_refused_file_says_why_and_creates_nothing(open_as, cast, artifacts):
    page = await open_as(cast.owner)
    rows = page.get_by_test_id("document-row")
    await expect(rows).to_have_count(1)
    await page.get_by_test_id("import-file").set_input_files(files=[{
        "name": "page.html", "mimeType": "text/html",
        "buffer": b"<p>Hello</p><script>alert(document.cookie)</script>"}])
    status = page.get_by_test_id("import-status")
    await expect(status).to_contain_text("“page.html” was not imported")
    await expect(status).to_contain_text("<script>")
    await page.screenshot(path=artifacts / "import-refused.png")
    await page.reload()
    await expect(rows).to_have_count(1)
