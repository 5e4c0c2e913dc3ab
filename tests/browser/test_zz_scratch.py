from playwright.async_api import expect
from tests.browser import pages
from tests.browser.test_phone import PHONE, WIDTHS_JS

async def test_scratch(open_as, daphne_server, cast, artifacts):
    alice = await open_as(cast.owner, viewport=PHONE, is_mobile=True, has_touch=True)
    await pages.open_document(alice, daphne_server.url, cast.document_id)
    await pages.editor(alice).click()
    await alice.keyboard.type("A phone is narrow, and a long word like Donaudampfschifffahrtsgesellschaft too.")
    await pages.select_text(alice, "narrow")
    await alice.get_by_test_id("comment-button").click()
    await expect(alice.get_by_test_id("comments-panel")).to_be_visible()
    await alice.screenshot(path=artifacts / "scratch-phone.png")
    print(await alice.evaluate(WIDTHS_JS))
    await alice.emulate_media(color_scheme="dark")
    await alice.set_viewport_size({"width": 1280, "height": 800})
    await alice.get_by_test_id("comments-button").click()
    await alice.get_by_test_id("comments-button").click()
    await alice.screenshot(path=artifacts / "scratch-dark.png")
    await alice.get_by_test_id("notifications-button").click()
    await alice.screenshot(path=artifacts / "scratch-bell.png")
