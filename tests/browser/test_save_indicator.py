"""The save indicator tells the truth (issue 3, test 7).

"Saved" means the server's published durable state vector covers this
browser's edits: committed to the database, not merely received or applied
in memory. The page records every text the indicator shows, with the time,
so that the test can check what it ever claimed, not only where it ended.
"""

import asyncio

from playwright.async_api import expect

from tests.browser import pages
from tests.browser.conftest import seed_cast
from tests.browser.write_lock import write_lock

async def test_saving_then_saved_after_typing(open_as, daphne_server, cast):
    alice = await open_as(cast.owner)
    await pages.open_document(alice, daphne_server.url, cast.document_id)
    await expect(pages.save_state(alice)).to_have_text("Saved")
    await pages.record_save_states(alice)

    await pages.editor(alice).click()
    await alice.keyboard.type("Every keystroke is stored")
    await expect(pages.save_state(alice)).to_have_text("Saved")
    await expect(pages.save_state(alice)).to_have_attribute("data-state", "saved")

    shown = [text for _at, text in await pages.save_states(alice)]
    assert "Saving…" in shown, f"typing should show Saving… before Saved, saw {shown}"
    assert shown[-1] == "Saved", f"expected to end on Saved, saw {shown}"
    # And it was true: the edit is in the database.
    stored = daphne_server.django(
        "from documents.models import UpdateLog, Snapshot\n"
        f"rows = UpdateLog.objects.filter(document_id={cast.document_id!r}).count()\n"
        f"snaps = Snapshot.objects.filter(document_id={cast.document_id!r}).count()\n"
        "result = rows + snaps\n"
    )
    assert stored > 0, "Saved was shown, so the edit must be in the update log or a snapshot"


async def test_stays_saving_while_the_database_cannot_commit(open_as, server_factory, unique, artifacts):
    # A server of its own: the shared one must not have its database locked under other tests.
    server = server_factory().start()
    cast = seed_cast(server, unique)
    alice = await open_as(cast.owner, server=server)
    bob = await open_as(cast.editor, server=server)
    await asyncio.gather(
        pages.open_document(alice, server.url, cast.document_id),
        pages.open_document(bob, server.url, cast.document_id),
    )
    await pages.record_save_states(alice)

    with write_lock(server) as lock:
        await pages.editor(alice).click()
        typed_at = await alice.evaluate("Date.now()")
        await alice.keyboard.type("Written while the database is locked")
        # The server has the edit in memory and has passed it on...
        await expect(pages.editor(bob)).to_contain_text("Written while the database is locked")
        # ...and has tried to store it, and could not.
        await lock.wait_until_server_is_blocked(cast.document_id)
        await expect(pages.save_state(alice)).to_have_text("Saving…")
        await expect(pages.connection(alice)).to_have_text("Connected")
        await alice.screenshot(path=artifacts / "saving-while-database-locked.png")
        released_at = await alice.evaluate("Date.now()")

    await expect(pages.save_state(alice), "once the database commits, the page says so").to_have_text(
        "Saved", timeout=60_000
    )
    history = await pages.save_states(alice)
    premature = [(at, text) for at, text in history if text == "Saved" and typed_at <= at < released_at]
    assert not premature, f"the page claimed Saved before the edit could be committed: {history}"
    assert any(text == "Saving…" for _at, text in history), f"expected Saving… while locked: {history}"
