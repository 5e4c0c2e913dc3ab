"""Offline that survives a reload (issue 19, item 5).

An editor's page keeps the document in IndexedDB (y-indexeddb) and itself in
the service worker's cache: an edit typed with the server out of reach
survives a reload made while still out of reach, and reaches everyone once
the server is back. The save indicator tells "Saved on this device" from
"Saved". Signing out removes every local copy; a viewer keeps none; a page
whose access was removed while offline says that its edits were not saved.
"""

from playwright.async_api import expect

from tests.browser import pages
from tests.browser.conftest import seed_cast

COPY_PREFIX = "coedit-doc:"
LOCAL_DATABASES_JS = f"""async () => (await indexedDB.databases()).map((d) => d.name).filter((n) => n.startsWith({COPY_PREFIX!r}))"""
OFFLINE_CACHE_JS = """async () => {
  if (!(await caches.has('coedit-offline-v1'))) return []
  const cache = await caches.open('coedit-offline-v1')
  return (await cache.keys()).map((request) => new URL(request.url).pathname)
}"""


async def local_databases(page) -> list[str]:
    return await page.evaluate(LOCAL_DATABASES_JS)


async def wait_until_kept_offline(page) -> None:
    """Waits until the service worker says it holds the editor page and its files (fetched after the first load)."""
    await expect(page.locator("body")).to_have_attribute("data-offline-ready", "true")


async def test_an_offline_edit_survives_a_reload_and_syncs_when_the_server_returns(
    open_as, server_factory, unique, artifacts
):
    # A server of its own, stopped and started again on the same port and database.
    server = server_factory().start()
    cast = seed_cast(server, unique)
    alice = await open_as(cast.owner, server=server)
    await pages.open_document(alice, server.url, cast.document_id)
    await wait_until_kept_offline(alice)
    await pages.editor(alice).click()
    await alice.keyboard.type("Typed online. ")
    await expect(pages.save_state(alice)).to_have_text("Saved")
    await pages.record_save_states(alice)

    server.stop()
    await expect(pages.connection(alice)).not_to_have_attribute("data-state", "connected")
    await alice.keyboard.type("Written offline.")
    await expect(pages.save_state(alice)).to_have_text("Saved on this device")
    shown = [text for _at, text in await pages.save_states(alice)]
    assert "Saved" not in shown[1:], f"nothing typed offline may be called Saved: {shown}"

    # A reload with the server still gone: the page comes from the service worker, the text from IndexedDB.
    await alice.reload()
    await expect(pages.editor(alice)).to_contain_text("Typed online. Written offline.")
    await expect(pages.save_state(alice)).to_have_text("Saved on this device")
    await expect(pages.connection(alice)).not_to_have_attribute("data-state", "connected")
    await pages.record_save_states(alice)
    await alice.screenshot(path=artifacts / "offline-after-reload.png")

    server.start()
    await pages.expect_connected(alice)
    await expect(pages.save_state(alice), "the server confirms the offline edit").to_have_text("Saved", timeout=30_000)
    shown = [text for _at, text in await pages.save_states(alice)]
    assert shown[0] == "Saved on this device" and shown[-1] == "Saved", shown

    bob = await open_as(cast.editor, server=server)
    await pages.open_document(bob, server.url, cast.document_id)
    await expect(pages.editor(bob)).to_contain_text("Typed online. Written offline.")
    assert "Written offline." in server.stored_content(cast.document_id)


async def test_an_edit_made_with_the_browser_offline_survives_a_reload(open_as, daphne_server, cast):
    alice = await open_as(cast.owner)
    await pages.open_document(alice, daphne_server.url, cast.document_id)
    await wait_until_kept_offline(alice)
    await alice.context.set_offline(True)
    await expect(pages.connection(alice)).to_have_attribute("data-state", "offline")
    await pages.editor(alice).click()
    await alice.keyboard.type("Typed on a train")
    await expect(pages.save_state(alice)).to_have_text("Saved on this device")

    await alice.reload()
    await expect(pages.editor(alice)).to_contain_text("Typed on a train")
    await expect(pages.save_state(alice)).to_have_text("Saved on this device")

    await alice.context.set_offline(False)
    await expect(pages.save_state(alice)).to_have_text("Saved", timeout=30_000)
    bob = await open_as(cast.editor)
    await pages.open_document(bob, daphne_server.url, cast.document_id)
    await expect(pages.editor(bob)).to_contain_text("Typed on a train")


async def test_signing_out_removes_every_local_copy(open_as, daphne_server, cast):
    alice = await open_as(cast.owner)
    await pages.open_document(alice, daphne_server.url, cast.document_id)
    await wait_until_kept_offline(alice)
    await pages.editor(alice).click()
    await alice.keyboard.type("Private notes")
    await expect(pages.save_state(alice)).to_have_text("Saved")
    assert len(await local_databases(alice)) == 1

    await alice.get_by_label("Account menu").click()
    await alice.get_by_test_id("sign-out").click()
    await expect(alice.get_by_role("heading", name="Sign in")).to_be_visible()
    assert await local_databases(alice) == [], "signing out leaves no copy of any document"
    assert await alice.evaluate(OFFLINE_CACHE_JS) == [], "nor any page kept for offline use"
    registrations = await alice.evaluate("async () => (await navigator.serviceWorker.getRegistrations()).length")
    assert registrations == 0


async def test_the_signed_out_page_removes_copies_left_behind(open_as, daphne_server, cast):
    alice = await open_as(cast.owner)
    await pages.open_document(alice, daphne_server.url, cast.document_id)
    await pages.editor(alice).click()
    await alice.keyboard.type("Left behind")
    await expect(pages.save_state(alice)).to_have_text("Saved")
    assert len(await local_databases(alice)) == 1
    # The session ends on the server (another tab signed out, it expired): no sign-out script ran here.
    await alice.context.clear_cookies()
    await alice.goto(f"{daphne_server.url}/accounts/login/")
    await alice.wait_for_function(f"async () => ({LOCAL_DATABASES_JS})().then((names) => names.length === 0)")


async def test_a_viewer_keeps_nothing_on_the_device(open_as, daphne_server, cast):
    carol = await open_as(cast.viewer)
    await pages.open_document(carol, daphne_server.url, cast.document_id)
    await expect(pages.editor(carol)).to_have_attribute("contenteditable", "false")
    assert await local_databases(carol) == []
    assert await carol.evaluate(OFFLINE_CACHE_JS) == []


async def test_edits_made_offline_after_access_was_removed_are_not_claimed(open_as, daphne_server, cast):
    bob = await open_as(cast.editor)
    await pages.open_document(bob, daphne_server.url, cast.document_id)
    await bob.context.set_offline(True)
    await expect(pages.connection(bob)).to_have_attribute("data-state", "offline")
    await pages.editor(bob).click()
    await bob.keyboard.type("Typed after losing access")
    await expect(pages.save_state(bob)).to_have_text("Saved on this device")
    # The owner removes Bob in the share dialog: in the server's own process, as people do, so the
    # change reaches the engine at once (a change made from another process reaches the embedded
    # set-up only with its periodic re-check, and a connect meanwhile would still be let in).
    owner = await open_as(cast.owner)
    await pages.open_document(owner, daphne_server.url, cast.document_id)
    member = await pages.share_member(owner, cast.editor.username)
    await member.get_by_test_id("member-remove").click()
    await expect(member).to_have_count(0)

    await bob.context.set_offline(False)
    banner = bob.get_by_test_id("connection-error")
    await expect(banner).to_contain_text("You no longer have access to this document.")
    await expect(banner).to_contain_text("Your latest changes were not saved")
    await expect(pages.save_state(bob)).to_have_text("Not saved")
    await expect(pages.connection(bob)).to_have_attribute("data-state", "closed")
    await bob.wait_for_function(f"async () => ({LOCAL_DATABASES_JS})().then((names) => names.length === 0)")
    await owner.reload()
    await pages.expect_connected(owner)
    assert "Typed after losing access" not in await pages.text(owner)


async def test_edits_made_offline_by_an_editor_made_viewer_meanwhile_are_said_lost(open_as, daphne_server, cast):
    bob = await open_as(cast.editor)
    await pages.open_document(bob, daphne_server.url, cast.document_id)
    await bob.context.set_offline(True)
    await expect(pages.connection(bob)).to_have_attribute("data-state", "offline")
    await pages.editor(bob).click()
    await bob.keyboard.type("Typed before becoming a viewer")
    await expect(pages.save_state(bob)).to_have_text("Saved on this device")
    # The owner makes Bob a viewer in the share dialog, in the server's own process (see above).
    owner = await open_as(cast.owner)
    await pages.open_document(owner, daphne_server.url, cast.document_id)
    member = await pages.share_member(owner, cast.editor.username)
    await member.get_by_test_id("member-role").select_option("viewer")
    await expect(owner.get_by_role("dialog")).to_contain_text(f"{cast.editor.username} is now viewer")

    # Back online, the page learns its new role and reloads as a viewer's, which says what was lost.
    await bob.context.set_offline(False)
    await expect(bob.get_by_test_id("read-only-badge")).to_have_text("View only", timeout=15_000)
    await expect(bob.get_by_test_id("notices")).to_contain_text("were not saved: you can now only view it")
    await bob.wait_for_function(f"async () => ({LOCAL_DATABASES_JS})().then((names) => names.length === 0)")
    assert "Typed before becoming a viewer" not in await pages.text(bob)
    await owner.reload()
    await pages.expect_connected(owner)
    assert "Typed before becoming a viewer" not in await pages.text(owner)
