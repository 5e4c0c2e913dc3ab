"""Images in the editor, in two browsers (issue 17): upload by the file chooser and by paste, refused
files said in words, an image of another site kept as a link when it cannot be copied."""

import asyncio
import base64

from playwright.async_api import expect

from tests.browser import pages
from tests.support import images

# The document's images (ProseMirror draws an empty <img> separator in some lines: not one).
SHOWN = ".ProseMirror img:not(.ProseMirror-separator)"
ATTRIBUTES_JS = f"(name) => [...document.querySelectorAll('{SHOWN}')].map((img) => img[name])"
# True once the editor shows `count` images, each loaded (decoded: naturalWidth > 0).
LOADED_JS = """(count) => {
  const shown = [...document.querySelectorAll('.ProseMirror img:not(.ProseMirror-separator)')];
  return shown.length === count && shown.every((img) => img.complete && img.naturalWidth > 0);
}"""

# Pastes a PNG file (base64) into the editor, as the browser does when an image is on the clipboard.
PASTE_FILE_JS = """([name, data]) => {
  const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
  const transfer = new DataTransfer();
  transfer.items.add(new File([bytes], name, { type: 'image/png' }));
  document.querySelector('.ProseMirror').dispatchEvent(
    new ClipboardEvent('paste', { clipboardData: transfer, bubbles: true, cancelable: true }));
}"""

PASTE_HTML_JS = """(html) => {
  const transfer = new DataTransfer();
  transfer.setData('text/html', html);
  transfer.setData('text/plain', 'pasted');
  document.querySelector('.ProseMirror').dispatchEvent(
    new ClipboardEvent('paste', { clipboardData: transfer, bubbles: true, cancelable: true }));
}"""


async def choose_file(page, name: str, data: bytes, mime: str = "image/png") -> None:
    async with page.expect_file_chooser() as chooser:
        await page.get_by_test_id("insert-image").click()
    await (await chooser.value).set_files(files=[{"name": name, "mimeType": mime, "buffer": data}])


async def test_images_uploaded_by_chooser_and_paste_appear_for_the_other_person(open_as, daphne_server, cast):
    alice = await open_as(cast.owner)
    bob = await open_as(cast.editor)
    await asyncio.gather(
        pages.open_document(alice, daphne_server.url, cast.document_id),
        pages.open_document(bob, daphne_server.url, cast.document_id),
    )
    await pages.editor(alice).click()
    await alice.keyboard.type("Quarterly chart")

    # By the toolbar's file chooser.
    await choose_file(alice, "sales-chart.png", images.png(40, 30))
    await alice.wait_for_function(LOADED_JS, arg=1)
    await bob.wait_for_function(LOADED_JS, arg=1)
    await expect(bob.locator(SHOWN)).to_have_attribute("alt", "sales chart")

    # By pasting an image file.
    await pages.editor(alice).click()
    await alice.evaluate(PASTE_FILE_JS, ["pasted.png", base64.b64encode(images.png(20, 10, (0, 128, 0))).decode()])
    await alice.wait_for_function(LOADED_JS, arg=2)
    await bob.wait_for_function(LOADED_JS, arg=2)
    sizes = await bob.evaluate(ATTRIBUTES_JS, "naturalWidth")
    assert sorted(sizes) == [20, 40]

    # Both are served from this site, under this document, to people with a role on it.
    sources = [src.removeprefix(daphne_server.url) for src in await bob.evaluate(ATTRIBUTES_JS, "src")]
    assert all(src.startswith(f"/documents/{cast.document_id}/images/") for src in sources), sources

    # The document itself holds them, as the json export shows.
    exported = await alice.evaluate("async (url) => (await fetch(url)).json()",
                                    f"/api/documents/{cast.document_id}/export?format=json")
    found = sorted(node["attrs"]["src"] for node in exported["content"] if node["type"] == "image")
    assert found == sorted(sources)


async def test_refusals_are_said_and_other_sites_images_become_links(open_as, daphne_server, cast):
    alice = await open_as(cast.owner)
    bob = await open_as(cast.editor)
    await asyncio.gather(
        pages.open_document(alice, daphne_server.url, cast.document_id),
        pages.open_document(bob, daphne_server.url, cast.document_id),
    )
    await pages.editor(alice).click()

    # Text named .png: refused by the server, said on the page, nothing inserted.
    await choose_file(alice, "notes.png", b"not a picture at all\n" * 20)
    await expect(alice.get_by_test_id("image-error")).to_contain_text("not an image")
    await expect(alice.get_by_test_id("image-upload")).to_have_count(0)
    assert await alice.locator(SHOWN).count() == 0

    # An image of a site that does not let this page fetch it: kept as a link to it, for both.
    remote = "http://127.0.0.1:9/charts/q3.png"
    await pages.editor(alice).click()
    await alice.evaluate(PASTE_HTML_JS, f'<p>Before</p><img src="{remote}" alt="Q3 chart">')
    link = pages.editor(bob).get_by_role("link", name="Q3 chart")
    await expect(link).to_have_attribute("href", remote)
    await expect(alice.get_by_test_id("image-error")).to_contain_text("kept as a link")
    await expect(bob.locator(SHOWN)).to_have_count(0)


# In Alice's page: a document of hers with an image in it (the REST API, her session); its image's src.
IMAGE_ELSEWHERE_JS = """async (data) => {
  const headers = { 'X-CSRFToken': document.querySelector('input[name=csrfmiddlewaretoken]').value };
  const created = await fetch('/api/documents/', {
    method: 'POST', headers: { ...headers, 'Content-Type': 'application/json' }, body: JSON.stringify({ title: 'Other' })
  });
  const form = new FormData();
  const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
  form.append('file', new File([bytes], 'logo.png', { type: 'image/png' }));
  const uploaded = await fetch(`/api/documents/${(await created.json()).id}/images`, { method: 'POST', headers, body: form });
  return (await uploaded.json()).src;
}"""


async def test_an_image_copied_from_another_document_is_copied_into_this_one(open_as, daphne_server, cast):
    alice = await open_as(cast.owner)
    bob = await open_as(cast.editor)
    await asyncio.gather(
        pages.open_document(alice, daphne_server.url, cast.document_id),
        pages.open_document(bob, daphne_server.url, cast.document_id),
    )
    # Bob has no role on Alice's other document: he could not see its image.
    elsewhere = await alice.evaluate(IMAGE_ELSEWHERE_JS, base64.b64encode(images.png(16, 12)).decode())
    await pages.editor(alice).click()
    await alice.evaluate(PASTE_HTML_JS, f'<p>Logo</p><img src="{elsewhere}" alt="Logo">')
    await bob.wait_for_function(LOADED_JS, arg=1)
    [src] = [src.removeprefix(daphne_server.url) for src in await bob.evaluate(ATTRIBUTES_JS, "src")]
    assert src.startswith(f"/documents/{cast.document_id}/images/") and src != elsewhere
    assert await bob.evaluate(ATTRIBUTES_JS, "naturalWidth") == [16]
