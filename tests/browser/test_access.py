"""Who may open what (issue 3, test 5): viewers read, strangers get a proper error page."""

import uuid

from playwright.async_api import expect

from tests.browser import pages


async def test_viewer_gets_a_read_only_editor(open_as, daphne_server, cast, artifacts):
    alice = await open_as(cast.owner)
    await pages.open_document(alice, daphne_server.url, cast.document_id)
    await pages.editor(alice).click()
    await alice.keyboard.type("Written by the owner")

    carol = await open_as(cast.viewer)
    await pages.open_document(carol, daphne_server.url, cast.document_id)
    await expect(pages.editor(carol)).to_contain_text("Written by the owner")
    await expect(pages.editor(carol)).to_have_attribute("contenteditable", "false")
    await expect(carol.get_by_test_id("read-only-badge")).to_have_text("View only")
    await expect(carol.get_by_test_id("toolbar"), "viewers get no formatting toolbar").to_have_count(0)
    await expect(carol.locator("input#doc-title"), "viewers cannot rename").to_have_count(0)
    await expect(carol.get_by_test_id("share-button")).to_have_count(0)

    await pages.editor(carol).click()
    await carol.keyboard.type("viewer typing")
    await carol.keyboard.press("Enter")
    # The owner's later edit arrives, so the viewer's page has caught up with the server...
    await pages.click_end_of_paragraph(alice, 0)
    await alice.keyboard.type(" and more")
    await expect(pages.editor(carol)).to_contain_text("Written by the owner and more")
    # ...and nothing the viewer typed reached anyone.
    assert "viewer typing" not in await pages.text(carol)
    assert "viewer typing" not in await pages.text(alice)
    await expect(carol.get_by_test_id("online-list").locator("li")).to_have_count(2)
    await carol.screenshot(path=artifacts / "viewer-read-only.png")


async def test_stranger_gets_a_403_page_not_an_editor(open_as, daphne_server, cast):
    dan = await open_as(cast.stranger)
    response = await dan.goto(f"{daphne_server.url}/documents/{cast.document_id}/")
    assert response.status == 403, f"expected 403 for a document not shared with the user, got {response.status}"
    await expect(dan.get_by_test_id("error-page")).to_be_visible()
    await expect(dan.get_by_role("heading", name="You don’t have access")).to_be_visible()
    await expect(pages.editor(dan)).to_have_count(0)
    await expect(dan.get_by_role("link", name="Back to your documents")).to_be_visible()


async def test_missing_document_gets_a_404_page(open_as, daphne_server, cast, artifacts):
    dan = await open_as(cast.stranger)
    response = await dan.goto(f"{daphne_server.url}/documents/{uuid.uuid4()}/")
    assert response.status == 404, f"expected 404 for a document that does not exist, got {response.status}"
    await expect(dan.get_by_role("heading", name="Document not found")).to_be_visible()
    await expect(pages.editor(dan)).to_have_count(0)
    await dan.screenshot(path=artifacts / "not-found.png")


async def test_signed_out_visitor_is_sent_to_sign_in(browser, daphne_server, cast):
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(f"{daphne_server.url}/documents/{cast.document_id}/")
    await expect(page).to_have_url(f"{daphne_server.url}/accounts/login/?next=/documents/{cast.document_id}/")
    await page.get_by_label("Username").fill(cast.editor.username)
    await page.get_by_label("Password").fill(cast.editor.password)
    await page.get_by_role("button", name="Sign in").click()
    await pages.expect_connected(page)
    await context.close()


async def test_signed_out_elsewhere_the_editor_stops_and_says_why(open_as, daphne_server, cast):
    """A refusal (4401 here) ends the session's editing with a message, not endless reconnects."""
    alice = await open_as(cast.owner)
    await pages.open_document(alice, daphne_server.url, cast.document_id)
    other_tab = await alice.context.new_page()
    await other_tab.goto(daphne_server.url + "/")
    await other_tab.get_by_label("Account menu").click()
    await other_tab.get_by_test_id("sign-out").click()
    await expect(other_tab.get_by_role("heading", name="Sign in")).to_be_visible()

    # The open socket was authenticated when it connected; the next one is not.
    await alice.context.set_offline(True)
    await expect(pages.connection(alice)).to_have_text("Offline")
    await alice.context.set_offline(False)
    banner = alice.get_by_test_id("connection-error")
    await expect(banner).to_contain_text("You have been signed out")
    await expect(banner.get_by_role("link", name="Sign in")).to_have_attribute(
        "href", f"/accounts/login/?next=%2Fdocuments%2F{cast.document_id}%2F"
    )
    await expect(pages.connection(alice)).to_have_text("Disconnected")
    await expect(pages.editor(alice)).to_have_attribute("contenteditable", "false")
