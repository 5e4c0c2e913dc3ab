"""Phones and preferences (issue 19, item 6).

Every page at 390 px wide: no sideways scrolling (the document is never wider
than the viewport), nothing covering the title or the Share button, the share
dialog and the history panel on screen. Screenshots of each are kept (a tmp
dir, and test-artifacts/phone/ for a person to look at). Dark mode follows the
system setting. One's own avatar appears once in the presence list. A first
visit to / when signed out is a plain sign-in page, with no message that looks
like an error.
"""

import shutil
import uuid

from playwright.async_api import expect

from tests.browser import pages

PHONE = {"width": 390, "height": 844}

# The page's width against the viewport's, and the widest element that sticks out (to name it in a failure).
WIDTHS_JS = """() => {
  const inner = window.innerWidth
  let widest = null
  for (const element of document.querySelectorAll('body *')) {
    const box = element.getBoundingClientRect()
    if (box.width && box.right > inner + 0.5 && (!widest || box.right > widest.right)) {
      widest = { right: Math.round(box.right), what: element.tagName.toLowerCase() + (element.className && typeof element.className === 'string' ? '.' + element.className.trim().split(/\\s+/).join('.') : '') }
    }
  }
  return { scrollWidth: document.documentElement.scrollWidth, innerWidth: inner, widest }
}"""

# What is drawn at the middle of an element: the element itself (or inside it), or what covers it.
COVERED_BY_JS = """(element) => {
  const box = element.getBoundingClientRect()
  const top = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2)
  return top && !element.contains(top) ? (top.className || top.tagName) : null
}"""

INSIDE_VIEWPORT_JS = """(element) => {
  const box = element.getBoundingClientRect()
  return box.left >= 0 && box.top >= 0 && box.right <= window.innerWidth && box.bottom <= window.innerHeight
}"""


class Shots:
    """Screenshots of each page at phone width, each checked for sideways scrolling."""

    def __init__(self, folder, artifacts):
        self.folder = folder
        self.keep = artifacts / "phone"
        self.keep.mkdir(parents=True, exist_ok=True)
        self.taken = []

    async def check(self, page, name: str) -> None:
        path = self.folder / f"{name}.png"
        await page.screenshot(path=path)
        shutil.copy(path, self.keep / path.name)
        widths = await page.evaluate(WIDTHS_JS)
        assert widths["innerWidth"] == PHONE["width"]
        assert widths["scrollWidth"] <= widths["innerWidth"], f"{name} scrolls sideways: {widths}"
        self.taken.append(name)


async def test_every_page_fits_a_phone(browser, open_as, daphne_server, cast, tmp_path, artifacts):
    shots = Shots(tmp_path, artifacts)
    alice = await open_as(cast.owner, viewport=PHONE, is_mobile=True, has_touch=True)

    await expect(alice.get_by_test_id("document-row").first).to_be_visible()
    await shots.check(alice, "list")

    await pages.open_document(alice, daphne_server.url, cast.document_id)
    await pages.editor(alice).click()
    await alice.keyboard.type("A phone is narrow, and a long word like Donaudampfschifffahrtsgesellschaft too.")
    await expect(pages.save_state(alice)).to_have_attribute("data-state", "saved")
    title = alice.get_by_test_id("doc-title")
    assert await title.evaluate(COVERED_BY_JS) is None, "nothing covers the title"
    title_box = await title.bounding_box()
    assert title_box["width"] >= 120, f"the title keeps room to be read: {title_box}"
    share = alice.get_by_test_id("share-button")
    assert await share.evaluate(COVERED_BY_JS) is None, "nothing covers the Share button"
    for control in (share, alice.get_by_test_id("history-button"), alice.get_by_label("Account menu")):
        assert await control.evaluate(INSIDE_VIEWPORT_JS), "every control of the bar is on screen"
    await shots.check(alice, "editor")

    export = alice.get_by_test_id("export-menu")
    await export.locator("summary").click()
    await expect(export.get_by_test_id("export-md")).to_be_visible()
    assert await export.locator(".menu__panel").evaluate(INSIDE_VIEWPORT_JS), "the export menu fits on screen"
    await shots.check(alice, "export-menu")
    await export.locator("summary").click()

    await share.click()
    dialog = alice.locator("#share-dialog")
    await expect(dialog).to_be_visible()
    assert await dialog.evaluate(INSIDE_VIEWPORT_JS), "the share dialog fits on screen"
    await shots.check(alice, "share-dialog")
    await dialog.get_by_role("button", name="Done").click()

    await alice.get_by_test_id("history-button").click()
    panel = alice.get_by_test_id("history-panel")
    await expect(panel).to_be_visible()
    assert await panel.evaluate(INSIDE_VIEWPORT_JS), "the history panel fits on screen"
    await shots.check(alice, "history")
    await alice.keyboard.press("Escape")

    # Comments (issue 20): the panel is a bottom sheet, the composer and a thread in it.
    await pages.select_text(alice, "narrow")
    await alice.get_by_test_id("comment-button").click()
    comments = alice.get_by_test_id("comments-panel")
    await expect(comments).to_be_visible()
    await comments.get_by_test_id("comment-input").fill("A comment on a phone, with a long word: Donaudampfschifffahrt.")
    await comments.get_by_test_id("comment-submit").click()
    await expect(comments.get_by_test_id("comment-thread")).to_have_count(1)
    assert await comments.evaluate(INSIDE_VIEWPORT_JS), "the comments panel fits on screen"
    await shots.check(alice, "comments")
    await comments.get_by_role("button", name="Close comments").click()
    bell = alice.get_by_test_id("notifications")
    await bell.get_by_test_id("notifications-button").click()
    assert await bell.locator(".menu__panel").evaluate(INSIDE_VIEWPORT_JS), "the notifications fit on screen"
    await shots.check(alice, "notifications")
    await bell.get_by_test_id("notifications-button").click()

    await alice.goto(f"{daphne_server.url}/documents/{cast.document_id}/share/")
    await expect(alice.get_by_test_id("share-panel")).to_be_visible()
    await shots.check(alice, "share-page")

    await alice.goto(f"{daphne_server.url}/account/tokens/")
    await alice.get_by_test_id("token-name").fill("phone script")
    await alice.get_by_test_id("token-create").click()
    await expect(alice.get_by_test_id("token-row")).to_have_count(1)
    await shots.check(alice, "tokens")

    response = await alice.goto(f"{daphne_server.url}/documents/{uuid.uuid4()}/")
    assert response.status == 404
    await expect(alice.get_by_test_id("error-page")).to_be_visible()
    await shots.check(alice, "error")

    await alice.get_by_label("Account menu").click()
    await shots.check(alice, "account-menu")
    await alice.get_by_test_id("sign-out").click()
    await expect(alice.get_by_role("heading", name="Sign in")).to_be_visible()
    await shots.check(alice, "sign-in")

    assert len(list(tmp_path.glob("*.png"))) == len(shots.taken) == 12


async def test_a_first_visit_signed_out_is_a_plain_sign_in_page(browser, daphne_server):
    context = await browser.new_context(viewport=PHONE)
    page = await context.new_page()
    await page.goto(daphne_server.url + "/")
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    await expect(page.locator(".alert"), "nothing went wrong: no message").to_have_count(0)
    await expect(page.get_by_role("alert")).to_have_count(0)
    await context.close()


async def test_dark_mode_follows_the_system_setting(open_as, daphne_server, cast, artifacts):
    alice = await open_as(cast.owner, viewport=PHONE)
    background = "() => getComputedStyle(document.body).backgroundColor"
    text = "() => getComputedStyle(document.body).color"
    light = (await alice.evaluate(background), await alice.evaluate(text))
    await alice.emulate_media(color_scheme="dark")
    dark = (await alice.evaluate(background), await alice.evaluate(text))
    assert dark[0] != light[0] and dark[1] != light[1], f"light {light} vs dark {dark}"

    def luminance(rgb: str) -> float:
        r, g, b = (int(part) for part in rgb[rgb.index("(") + 1:rgb.index(")")].split(",")[:3])
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    assert luminance(dark[0]) < 60 < 180 < luminance(dark[1]), f"dark mode is light text on a dark page: {dark}"

    await pages.open_document(alice, daphne_server.url, cast.document_id)
    paper = await alice.locator(".paper").evaluate("(e) => getComputedStyle(e).backgroundColor")
    words = await pages.editor(alice).evaluate("(e) => getComputedStyle(e).color")
    assert luminance(paper) < 80 and luminance(words) > 160, f"the page being written is dark too: {paper} / {words}"
    await alice.screenshot(path=artifacts / "phone" / "editor-dark.png")


async def test_ones_own_avatar_shows_once(open_as, daphne_server, cast):
    first = await open_as(cast.owner)
    await pages.open_document(first, daphne_server.url, cast.document_id)
    second = await first.context.new_page()
    await pages.open_document(second, daphne_server.url, cast.document_id)
    bob = await open_as(cast.editor)
    await pages.open_document(bob, daphne_server.url, cast.document_id)
    for page in (first, second):
        await expect(pages.online(page, cast.editor.username)).to_have_count(1)
        await expect(page.get_by_test_id("online-list").locator("li")).to_have_count(2)
        await expect(pages.online(page, cast.owner.username)).to_have_count(1)
        # And once in the whole bar: the account menu there does not repeat it.
        initials = page.locator(".editor-bar .avatar:visible", has_text="AM")
        await expect(initials).to_have_count(1)
