"""Sign-in, the document list, sharing and API tokens (issue 3, test 6 and the pages around it)."""

import re

from playwright.async_api import expect

from tests.browser import pages
from tests.support.exports import docx_paragraphs, pdf_text


async def test_wrong_password_shows_an_error(browser, daphne_server, cast, artifacts):
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(f"{daphne_server.url}/accounts/login/")
    await page.get_by_label("Username").fill(cast.owner.username)
    await page.get_by_label("Password").fill("not-the-password")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_test_id("login-error")).to_contain_text("Please enter a correct username and password")
    await expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    await expect(page.get_by_label("Username"), "the username is kept").to_have_value(cast.owner.username)
    await page.screenshot(path=artifacts / "sign-in-error.png")

    await page.get_by_label("Password").fill(cast.owner.password)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", name="Documents", exact=True)).to_be_visible()
    await page.get_by_label("Account menu").click()
    await page.get_by_test_id("sign-out").click()
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    await context.close()


async def test_list_creates_renames_and_deletes_a_document(open_as, daphne_server, cast, artifacts):
    alice = await open_as(cast.owner)
    rows = alice.get_by_test_id("document-row")
    await expect(rows.filter(has_text=cast.title)).to_have_count(1)
    await expect(rows.filter(has_text=cast.title).get_by_test_id("document-role")).to_have_text("Owner")

    # Create: lands in the editor of the new document.
    await alice.get_by_test_id("new-document").click()
    await expect(alice).to_have_url(re.compile(r"/documents/[0-9a-f-]{36}/$"))
    await pages.expect_connected(alice)
    await expect(alice.get_by_test_id("doc-title")).to_have_value("Untitled document")
    new_id = alice.url.rstrip("/").rsplit("/", 1)[1]
    # Rename from the editor's title field.
    await alice.get_by_test_id("doc-title").fill("Meeting notes")
    await alice.get_by_test_id("doc-title").press("Enter")
    await expect(alice).to_have_title(re.compile(r"^Meeting notes"))

    await alice.goto(daphne_server.url + "/")
    row = alice.locator(f'[data-document-id="{new_id}"]')
    await expect(row.get_by_test_id("document-title")).to_have_text("Meeting notes")
    await alice.screenshot(path=artifacts / "document-list.png")

    # Rename from the list.
    await row.get_by_role("button", name="Rename").click()
    await alice.get_by_test_id("rename-input").fill("Weekly meeting notes")
    await alice.get_by_test_id("rename-submit").click()
    await expect(row.get_by_test_id("document-title")).to_have_text("Weekly meeting notes")

    # Delete, after confirming; cancelling first keeps it.
    await row.get_by_test_id("document-delete").click()
    await expect(alice.get_by_role("dialog")).to_contain_text("Weekly meeting notes")
    await alice.get_by_test_id("confirm-cancel").click()
    await expect(row).to_have_count(1)
    await row.get_by_test_id("document-delete").click()
    await alice.get_by_test_id("confirm-ok").click()
    await expect(alice.get_by_role("status")).to_contain_text("Deleted “Weekly meeting notes”")
    await expect(row).to_have_count(0)
    response = await alice.goto(f"{daphne_server.url}/documents/{new_id}/")
    assert response.status == 404, "a deleted document is gone"


async def test_only_the_owner_may_delete_or_share(open_as, daphne_server, cast):
    bob = await open_as(cast.editor)
    row = bob.get_by_test_id("document-row").filter(has_text=cast.title)
    await expect(row.get_by_test_id("document-role")).to_have_text("Editor")
    await expect(row.get_by_role("button", name="Rename")).to_be_visible()
    await expect(row.get_by_test_id("document-delete")).to_have_count(0)
    await expect(row.get_by_role("link", name="Share")).to_have_count(0)
    response = await bob.goto(f"{daphne_server.url}/documents/{cast.document_id}/share/")
    assert response.status == 403, f"an editor may not open the share page, got {response.status}"

    carol = await open_as(cast.viewer)
    row = carol.get_by_test_id("document-row").filter(has_text=cast.title)
    await expect(row.get_by_test_id("document-role")).to_have_text("Viewer")
    await expect(row.get_by_role("button", name="Rename")).to_have_count(0)


async def test_owner_shares_changes_and_removes_a_role(open_as, daphne_server, cast, artifacts):
    alice = await open_as(cast.owner)
    await pages.open_document(alice, daphne_server.url, cast.document_id)
    await alice.get_by_test_id("share-button").click()
    dialog = alice.get_by_role("dialog")
    await expect(dialog.get_by_test_id("share-member")).to_have_count(2)

    # An unknown name is an error in the dialog.
    await dialog.get_by_test_id("share-username").fill("nobody-by-this-name")
    await dialog.get_by_test_id("share-add").click()
    await expect(dialog.get_by_test_id("share-error")).to_contain_text("no user named")

    # Add the stranger as a viewer.
    await dialog.get_by_test_id("share-username").fill(cast.stranger.username)
    await dialog.get_by_test_id("share-role").select_option("viewer")
    await dialog.get_by_test_id("share-add").click()
    member = dialog.locator(f'[data-testid="share-member"][data-username="{cast.stranger.username}"]')
    await expect(member.get_by_test_id("member-role")).to_have_value("viewer")
    await alice.screenshot(path=artifacts / "share-dialog.png")

    dan = await open_as(cast.stranger)
    await pages.open_document(dan, daphne_server.url, cast.document_id)
    await expect(pages.editor(dan)).to_have_attribute("contenteditable", "false")

    # Make them an editor: their next visit is editable.
    await member.get_by_test_id("member-role").select_option("editor")
    await expect(dialog).to_contain_text(f"{cast.stranger.username} is now editor")
    await dan.reload()
    await pages.expect_connected(dan)
    await expect(pages.editor(dan)).to_have_attribute("contenteditable", "true")

    # Remove them: the page is a 403 again.
    await member.get_by_test_id("member-remove").click()
    await expect(member).to_have_count(0)
    response = await dan.goto(f"{daphne_server.url}/documents/{cast.document_id}/")
    assert response.status == 403


async def test_api_tokens_are_shown_once_and_can_be_revoked(open_as, daphne_server, cast):
    alice = await open_as(cast.owner)
    await alice.get_by_role("link", name="API tokens").first.click()
    await alice.get_by_test_id("token-name").fill("export script")
    await alice.get_by_test_id("token-create").click()
    raw = await alice.get_by_test_id("token-value").input_value()
    assert raw.startswith("cdt_") and len(raw) > 30, f"expected a fresh token, got {raw!r}"
    row = alice.get_by_test_id("token-row").filter(has_text="export script")
    await expect(row).to_contain_text(raw[:12])

    await alice.reload()  # a GET: the token is not shown again
    await expect(alice.get_by_test_id("token-created")).to_have_count(0)
    assert raw not in await alice.content(), "the raw token must not be shown twice"

    user = daphne_server.django(f"from documents.selectors import user_for_token\nu = user_for_token({raw!r})\nresult = u and u.username")
    assert user == cast.owner.username, "the token authenticates its owner"
    await row.get_by_test_id("token-revoke").click()
    await alice.get_by_test_id("confirm-ok").click()
    await expect(row.get_by_text("Revoked")).to_be_visible()
    user = daphne_server.django(f"from documents.selectors import user_for_token\nresult = user_for_token({raw!r})")
    assert user is None, "a revoked token authenticates nobody"


async def test_export_menu_downloads_the_document(open_as, daphne_server, cast):
    alice = await open_as(cast.owner)
    await pages.open_document(alice, daphne_server.url, cast.document_id)
    await pages.editor(alice).click()
    await alice.keyboard.type("Exported heading")
    await alice.keyboard.press("Control+Alt+1")
    await alice.keyboard.press("End")
    await alice.keyboard.press("Enter")
    await alice.keyboard.type("Body text")
    await expect(pages.save_state(alice)).to_have_text("Saved")

    menu = alice.get_by_test_id("export-menu")
    for format_id, expected in [("md", "# Exported heading"), ("html", "<h1>Exported heading</h1>"), ("txt", "Body text")]:
        await menu.locator("summary").click()
        async with alice.expect_download() as download_info:
            await menu.get_by_test_id(f"export-{format_id}").click()
        download = await download_info.value
        assert download.suggested_filename.endswith(f".{format_id}"), download.suggested_filename
        body = (await download.path()).read_text()
        assert expected in body, f"the {format_id} export should contain {expected!r}, got {body[:300]!r}"

    # The binary formats, read back as a user's PDF viewer and word processor would.
    downloaded = {}
    for format_id in ("pdf", "docx"):
        await menu.locator("summary").click()
        async with alice.expect_download() as download_info:
            await menu.get_by_test_id(f"export-{format_id}").click()
        download = await download_info.value
        assert download.suggested_filename.endswith(f".{format_id}"), download.suggested_filename
        downloaded[format_id] = (await download.path()).read_bytes()
    text = pdf_text(downloaded["pdf"])
    assert "Exported heading" in text and "Body text" in text, text
    assert docx_paragraphs(downloaded["docx"]) == [("Heading 1", "Exported heading"), ("Normal", "Body text")]
