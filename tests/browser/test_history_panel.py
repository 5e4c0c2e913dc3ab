"""Version history in the editor for the people who edit (issue 15): browse, compare, name, restore.

The versions are written by scripts (one transaction each, so that each
version holds exactly one change), as the owner and then as the editor; the
people then use the history panel in Chromium as they would.
"""

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from playwright.async_api import expect
from pycrdt import XmlElement, XmlText

from collab.client import YClient
from tests.browser import pages
from tests.support.crdt import paragraph
from tests.support.waits import wait_until

PHONE = {"width": 390, "height": 844}


def tokens_for(server, *usernames: str) -> dict[str, str]:
    code = (
        "from django.contrib.auth import get_user_model\n"
        "from documents.services import token_create\n"
        "User = get_user_model()\n"
        f"result = {{u: token_create(user=User.objects.get(username=u), name='script')[1] for u in {list(usernames)!r}}}\n"
    )
    return server.django(code)


async def versions(page, document_id: str) -> list[dict]:
    """The document's versions as the API lists them to this page's user (first page, newest first)."""
    origin = "/".join(page.url.split("/", 3)[:3])
    response = await page.request.get(f"{origin}/api/documents/{document_id}/versions/")
    assert response.ok, await response.text()
    body = await response.json()
    return body if isinstance(body, list) else body["items"]


async def wait_for_versions(page, document_id: str, count: int, timeout: float = 15.0) -> list[dict]:
    """Waits until the document has `count` versions: the engine takes them on its own clock."""

    async def enough():
        rows = await versions(page, document_id)
        return rows if len(rows) >= count else None

    return await wait_until(enough, timeout, what=f"{count} versions")


async def write_two_versions(server, cast, page) -> list[dict]:
    """Version 1 by the owner (a heading and two paragraphs), version 2 by the editor (a word and a paragraph)."""
    tokens = tokens_for(server, cast.owner.username, cast.editor.username)
    async with YClient(server.document_ws(cast.document_id), token=tokens[cast.owner.username]) as owner:
        await owner.synced.wait()
        with owner.doc.transaction():
            owner.fragment.children.append(XmlElement("heading", {"level": 1.0}, [XmlText("Launch plan")]))
            owner.fragment.children.append(paragraph("The quick brown fox jumps over the lazy dog."))
            owner.fragment.children.append(paragraph("Budget: to be agreed."))
        await wait_for_versions(page, cast.document_id, 1)
    async with YClient(server.document_ws(cast.document_id), token=tokens[cast.editor.username]) as editor:
        await editor.synced.wait()
        text = editor.fragment.children[1].children[0]
        with editor.doc.transaction():
            del text[10:15]
            text.insert(10, "red")
            editor.fragment.children.append(paragraph("Ship it on Friday."))
        return await wait_for_versions(page, cast.document_id, 2)


def panel(page):
    return page.get_by_role("complementary", name="Version history")


def version_buttons(page):
    return page.get_by_test_id("version-list").locator("button[data-version-id]")


async def test_an_editor_compares_names_and_restores_while_the_owner_watches(open_as, daphne_server, cast, artifacts):
    # Bob (editor, not staff) reads times in Tokyo; Alice (owner) has the document open too.
    bob = await open_as(cast.editor, timezone_id="Asia/Tokyo", locale="en-GB")
    rows = await write_two_versions(daphne_server, cast, bob)
    alice = await open_as(cast.owner)
    await pages.open_document(alice, daphne_server.url, cast.document_id)
    await expect(pages.editor(alice)).to_contain_text("Ship it on Friday.")
    await pages.open_document(bob, daphne_server.url, cast.document_id)

    history = bob.get_by_role("button", name="History", exact=True)
    await expect(history).to_have_attribute("aria-expanded", "false")
    await history.click()
    await expect(panel(bob)).to_be_visible()
    await expect(history).to_have_attribute("aria-expanded", "true")
    items = version_buttons(bob)
    await expect(items).to_have_count(2)
    # Newest first, at Bob's local time, with who wrote it and what changed.
    newest, oldest = rows[0], rows[1]
    tokyo = datetime.fromisoformat(newest["created_at"].replace("Z", "+00:00")).astimezone(ZoneInfo("Asia/Tokyo"))
    await expect(items.first.locator("time")).to_have_text(tokyo.strftime("%H:%M"))
    await expect(items.first).to_have_attribute("data-version-id", str(newest["id"]))
    await expect(items.first.locator(".chip")).to_have_text([cast.editor.username])
    await expect(items.first.locator(".version__summary")).to_contain_text("+1 block")
    await expect(items.nth(1).locator(".chip")).to_have_text([cast.owner.username])
    await expect(panel(bob).get_by_role("heading", name="Today")).to_be_visible()

    # The newest version, compared with the one before it: what Bob changed, inline.
    await items.first.click()
    view = bob.get_by_test_id("version-view")
    changes = bob.get_by_test_id("version-content")
    await expect(view).to_be_visible()
    await expect(changes.locator("del")).to_have_text(["brown"])
    await expect(changes.locator("ins")).to_have_text(["red", "Ship it on Friday."])
    await expect(changes.locator("ins").first).to_have_attribute("data-author", cast.editor.username)
    await bob.screenshot(path=artifacts / "history-panel-diff.png")

    # The first version against the current document.
    await items.nth(1).click()
    await expect(items.nth(1)).to_have_attribute("aria-current", "true")
    await expect(changes).to_contain_text("The quick brown fox")
    await expect(changes.locator("ins, del")).to_have_count(0)
    await view.get_by_role("checkbox", name="Compare with current").check()
    await expect(changes.locator("del")).to_have_text(["brown"])
    await expect(changes.locator("ins")).to_have_text(["red", "Ship it on Friday."])

    # Bob names it.
    await view.get_by_role("button", name="Name this version").click()
    await view.get_by_role("textbox", name="Version name").fill("Sent to legal")
    await view.get_by_role("button", name="Save name").click()
    await expect(items.nth(1).locator(".version__name")).to_have_text("Sent to legal")
    await expect(view.get_by_role("heading", name="Sent to legal")).to_be_visible()

    # ...and restores it, after saying yes.
    await view.get_by_role("button", name="Restore this version").click()
    confirm = bob.get_by_role("dialog", name="Restore this version?")
    await expect(confirm).to_be_visible()
    await confirm.get_by_role("button", name="Restore", exact=True).click()

    # Alice sees the restored text and is told who did it, within a few seconds.
    await expect(pages.editor(alice)).to_contain_text("The quick brown fox", timeout=5_000)
    await expect(pages.editor(alice)).not_to_contain_text("Ship it on Friday.", timeout=5_000)
    notice = alice.get_by_test_id("restore-notice")
    await expect(notice).to_contain_text(re.compile(rf"{cast.editor.username}|{cast.editor.name}"), timeout=5_000)
    await expect(notice).to_contain_text("restored the version of")
    await alice.screenshot(path=artifacts / "history-restore-notice.png")
    # Someone who opens the document afterwards is not told about an earlier restore.
    carol = await open_as(cast.viewer)
    await pages.open_document(carol, daphne_server.url, cast.document_id)
    await expect(pages.editor(carol)).to_contain_text("The quick brown fox")
    await expect(carol.get_by_test_id("restore-notice")).to_have_count(0)

    # Bob's list starts again with the restore, a version of its own, selected.
    await expect(items).to_have_count(3)
    await expect(items.first).to_have_attribute("data-kind", "restore")
    await expect(items.first).to_have_attribute("aria-current", "true")
    await expect(pages.editor(bob)).not_to_contain_text("Ship it on Friday.")

    # Escape closes the panel and gives the focus back to the History button.
    await items.first.focus()
    await bob.keyboard.press("Escape")
    await expect(panel(bob)).to_be_hidden()
    await expect(history).to_be_focused()


async def test_a_viewer_browses_but_cannot_name_or_restore(open_as, daphne_server, cast):
    carol = await open_as(cast.viewer)
    await write_two_versions(daphne_server, cast, carol)
    await pages.open_document(carol, daphne_server.url, cast.document_id)

    await carol.get_by_role("button", name="History", exact=True).click()
    items = version_buttons(carol)
    await expect(items).to_have_count(2)
    await items.first.click()
    changes = carol.get_by_test_id("version-content")
    await expect(changes.locator("ins")).to_have_text(["red", "Ship it on Friday."])
    view = carol.get_by_test_id("version-view")
    await expect(view.get_by_role("checkbox", name="Compare with current")).to_be_visible()
    await expect(carol.get_by_role("button", name="Restore this version")).to_have_count(0)
    await expect(carol.get_by_role("button", name="Name this version")).to_have_count(0)
    await expect(carol.get_by_role("textbox", name="Version name")).to_have_count(0)


async def test_at_phone_width_the_panel_is_a_sheet_that_fits(open_as, daphne_server, cast, artifacts):
    alice = await open_as(cast.owner, viewport=PHONE)
    await write_two_versions(daphne_server, cast, alice)
    await pages.open_document(alice, daphne_server.url, cast.document_id)

    # Every button in the bar is reachable: none covers another (Share above all).
    share = alice.get_by_role("button", name="Share", exact=True)
    history = alice.get_by_role("button", name="History", exact=True)
    for control in (share, history, alice.get_by_test_id("export-menu").locator("summary")):
        box = await control.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], f"{control} is off screen: {box}"
        on_top = await control.evaluate(
            "(el) => { const r = el.getBoundingClientRect();"
            " return el.contains(document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2)); }"
        )
        assert on_top, f"{control} is covered by something else"
    assert await alice.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]

    await history.click()
    sheet = panel(alice)
    await expect(sheet).to_be_visible()
    await expect(version_buttons(alice)).to_have_count(2)
    await version_buttons(alice).first.click()
    await expect(alice.get_by_test_id("version-content").locator("ins")).to_have_text(["red", "Ship it on Friday."])
    box = await sheet.bounding_box()
    assert box["x"] >= 0 and box["width"] <= PHONE["width"], f"the panel is wider than the phone: {box}"
    widths = await alice.evaluate(
        "() => [document.documentElement.scrollWidth,"
        " ...[...document.querySelectorAll('#history-panel *')].map((el) => el.getBoundingClientRect().right)]"
    )
    assert max(widths) <= PHONE["width"] + 0.5, f"something in the panel scrolls sideways: {max(widths)}"
    await alice.screenshot(path=artifacts / "history-panel-phone.png")
    await alice.get_by_role("button", name="All versions").click()
    await expect(version_buttons(alice).first).to_be_focused()
    await alice.get_by_role("button", name="Close version history").click()
    await expect(sheet).to_be_hidden()


async def test_a_long_history_loads_a_page_at_a_time_grouped_by_day(open_as, daphne_server, cast):
    # 120 versions over three days (UTC, the browser's zone here): more than two pages of 50.
    daphne_server.django(
        "from datetime import timedelta\n"
        "from django.utils import timezone\n"
        "from documents.models import Snapshot\n"
        "midnight = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)\n"
        "summary = {'blocks_added': 1, 'blocks_removed': 0, 'words_added': 3, 'words_removed': 1}\n"
        "Snapshot.objects.bulk_create(\n"
        f"    Snapshot(document_id={cast.document_id!r}, created_at=midnight - timedelta(days=day, minutes=-60 - n),\n"
        "             state=b'\\x00\\x00', state_vector=b'\\x00', authors=[], summary=summary)\n"
        "    for day in (0, 1, 5) for n in range(40)\n"
        ")\n"
    )
    alice = await open_as(cast.owner, timezone_id="UTC")
    await pages.open_document(alice, daphne_server.url, cast.document_id)
    await alice.get_by_role("button", name="History", exact=True).click()
    items = version_buttons(alice)
    await expect(items).to_have_count(50)
    await expect(items.first.locator(".version__summary")).to_have_text("+1 block, +3 words, \u22121 word")

    # Scrolling to the end of the list fetches the next page...
    await items.last.scroll_into_view_if_needed()
    await expect(items).to_have_count(100)
    # ...and so does the button, from the keyboard, which then lands on the first new version.
    more = panel(alice).get_by_role("button", name="Load more")
    await more.focus()
    await alice.keyboard.press("Enter")
    await expect(items).to_have_count(120)
    await expect(more).to_be_hidden()
    await expect(items.nth(100)).to_be_focused()
    await alice.keyboard.press("ArrowUp")
    await expect(items.nth(99)).to_be_focused()

    headings = panel(alice).locator(".history__day-title")
    await expect(headings).to_have_count(3)
    await expect(headings.nth(0)).to_have_text("Today")
    await expect(headings.nth(1)).to_have_text("Yesterday")
    await expect(headings.nth(2)).to_have_text(re.compile(r"^\w+day, \d+ \w+ \d{4}$|^\w+day, \w+ \d+, \d{4}$"))
    for day in range(3):
        await expect(panel(alice).locator(".history__day").nth(day).locator("button")).to_have_count(40)


async def test_staff_keep_their_way_to_the_admin_history(open_as, daphne_server, cast):
    daphne_server.django(
        "from django.contrib.auth import get_user_model\n"
        f"get_user_model().objects.filter(username={cast.owner.username!r}).update(is_staff=True)\n"
    )
    alice = await open_as(cast.owner)
    await pages.open_document(alice, daphne_server.url, cast.document_id)
    await alice.get_by_role("button", name="History", exact=True).click()
    admin = panel(alice).get_by_role("link", name="Open in admin")
    await expect(admin).to_have_attribute("href", f"/admin/documents/document/{cast.document_id}/versions/")

    bob = await open_as(cast.editor)
    await pages.open_document(bob, daphne_server.url, cast.document_id)
    await bob.get_by_role("button", name="History", exact=True).click()
    await expect(panel(bob)).to_be_visible()
    await expect(panel(bob).get_by_role("link", name="Open in admin")).to_have_count(0)
