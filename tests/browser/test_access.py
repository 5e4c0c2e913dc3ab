"""Who may open what (issue 3, test 5): viewers read, strangers get a proper error page."""

import asyncio
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


async def _stored_and_seen_after_a_later_edit(owner, server, document_id) -> tuple[str, str]:
    """(what the owner's page shows, what the server stored) once a later edit of the owner is saved.

    The actor applies messages in order, so anything another socket managed to
    send before it was closed is in the stored state once this later edit is.
    """
    await pages.click_end_of_paragraph(owner, 0)
    await owner.keyboard.type(" (owner's later edit)")
    await expect(pages.save_state(owner)).to_have_attribute("data-state", "saved")
    stored = await asyncio.to_thread(server.stored_content, document_id)
    assert "owner's later edit" in stored
    return await pages.text(owner), stored


async def _owner_sees_editor_type(open_as, server, cast, text: str):
    """The owner (alice) and the editor (bob) on the document; bob types `text` and alice sees it."""
    alice = await open_as(cast.owner)
    await pages.open_document(alice, server.url, cast.document_id)
    bob = await open_as(cast.editor)
    await pages.open_document(bob, server.url, cast.document_id)
    await pages.editor(bob).click()
    await bob.keyboard.type(text)
    await expect(pages.editor(alice)).to_contain_text(text)
    return alice, bob


async def test_signed_out_in_another_tab_the_editor_stops_and_goes_to_sign_in(open_as, daphne_server, cast):
    """Issue 11, finding 6: signing out ends the open editor's session at once; nothing typed after it counts."""
    alice, bob = await _owner_sees_editor_type(open_as, daphne_server, cast, "Typed while signed in")

    other_tab = await bob.context.new_page()
    await other_tab.goto(daphne_server.url + "/")
    await other_tab.get_by_label("Account menu").click()
    await other_tab.get_by_test_id("sign-out").click()
    await expect(other_tab.get_by_role("heading", name="Sign in")).to_be_visible()

    # Bob keeps typing in the editor's tab.
    await bob.keyboard.type(" AFTER SIGN-OUT")
    banner = bob.get_by_test_id("connection-error")
    await expect(banner).to_contain_text("You have been signed out")
    await expect(pages.editor(bob)).to_have_attribute("contenteditable", "false")
    await expect(bob).to_have_url(
        f"{daphne_server.url}/accounts/login/?next=%2Fdocuments%2F{cast.document_id}%2F", timeout=10_000
    )

    seen, stored = await _stored_and_seen_after_a_later_edit(alice, daphne_server, cast.document_id)
    assert "Typed while signed in" in seen and "Typed while signed in" in stored
    assert "AFTER SIGN-OUT" not in seen, "what was typed after signing out reached another person"
    assert "AFTER SIGN-OUT" not in stored, "what was typed after signing out was stored"


async def test_downgraded_to_viewer_the_editor_turns_read_only_and_keeps_nothing_typed_since(
    open_as, daphne_server, cast, artifacts
):
    """Issue 11, finding 7: a role change reaches the open page; what it held is dropped, not applied later."""
    alice, bob = await _owner_sees_editor_type(open_as, daphne_server, cast, "Bob as editor")

    await alice.get_by_test_id("share-button").click()
    dialog = alice.get_by_role("dialog")
    role = dialog.locator(f'[data-testid="share-member"][data-username="{cast.editor.username}"]').get_by_test_id(
        "member-role"
    )
    await role.select_option("viewer")
    await expect(dialog).to_contain_text(f"{cast.editor.username} is now viewer")

    banner = bob.get_by_test_id("connection-error")
    await expect(banner).to_contain_text("Your access to this document changed")
    await expect(pages.editor(bob)).to_have_attribute("contenteditable", "false")
    await bob.screenshot(path=artifacts / "role-changed.png")
    await bob.keyboard.type(" TYPED AS VIEWER")
    # The page reloads by itself, rendered for a viewer.
    await expect(bob.get_by_test_id("read-only-badge")).to_have_text("View only")
    await pages.expect_connected(bob)
    await expect(pages.editor(bob)).to_have_attribute("contenteditable", "false")
    await pages.editor(bob).click()
    await bob.keyboard.type(" TYPED AS VIEWER AFTER THE RELOAD")

    await role.select_option("editor")
    await expect(dialog).to_contain_text(f"{cast.editor.username} is now editor")
    await dialog.get_by_role("button", name="Close").click()
    # Made editor again: the page reloads editable, and nothing typed meanwhile comes back.
    await expect(bob.get_by_test_id("read-only-badge")).to_have_count(0)
    await pages.expect_connected(bob)
    await expect(pages.editor(bob)).to_have_attribute("contenteditable", "true")

    seen, stored = await _stored_and_seen_after_a_later_edit(alice, daphne_server, cast.document_id)
    await expect(pages.editor(bob)).to_contain_text("owner's later edit")
    for where, text in (("the owner's page", seen), ("the store", stored), ("Bob's page", await pages.text(bob))):
        assert "Bob as editor" in text, where
        assert "TYPED AS VIEWER" not in text, f"what Bob typed as a viewer reached {where}"
