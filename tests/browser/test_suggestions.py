"""Suggestions (track changes, issue 20): proposed in one browser, reviewed in another, live in a third.

Bob (editor) suggests in Suggesting mode: an insertion (with a typo he takes
back: deleting one's own proposal removes it), a deletion, and a deletion to
be fought over. Alice (owner) accepts one and rejects another; Carol (an
editor too, on a 390 px phone in dark mode) sees each change live; then Alice
accepts and Carol rejects the same suggestion while both are offline, and
every browser converges on what the CRDT implies: the deletion wins, no other
text is touched.
"""

import asyncio

from playwright.async_api import expect

from tests.browser import pages

START = "Alpha beta gamma delta"
# What the reviews imply: " epsilon" accepted, the deletion of "beta " rejected, the deletion of
# " delta" both accepted (Alice) and rejected (Carol) at once: the deletion wins.
FINAL = "Alpha beta gamma epsilon"


def suggestions(page, kind: str, text: str | None = None):
    locator = pages.editor(page).locator(f"{'ins' if kind == 'insert' else 'del'}.suggestion")
    return locator.filter(has_text=text) if text is not None else locator


async def select_chars(page, start: int, count: int) -> None:
    """Selects `count` characters from offset `start` of the first paragraph, as a person does with the keyboard."""
    await pages.editor(page).locator(":scope > p").first.click()
    await page.keyboard.press("Home")
    for _ in range(start):
        await page.keyboard.press("ArrowRight")
    for _ in range(count):
        await page.keyboard.press("Shift+ArrowRight")
    await pages.settle(page)


async def click_text(locator) -> None:
    """Clicks near the end of an inline element's text: its middle may hold another person's caret."""
    box = await locator.bounding_box()
    await locator.click(position={"x": box["width"] - 4, "y": box["height"] / 2})


async def review(page, kind: str, text: str, action: str) -> None:
    """Clicks the suggestion and Accept or Reject in its popover."""
    await click_text(suggestions(page, kind, text).first)
    popover = page.get_by_test_id("suggestion-popover")
    await expect(popover).to_be_visible()
    await popover.get_by_test_id(f"suggestion-{action}").click()


async def test_a_suggestion_is_proposed_accepted_rejected_and_resolved_concurrently_live(
        open_as, daphne_server, cast, artifacts):
    # Carol reviews too: make her an editor; Dan is a viewer.
    daphne_server.django(
        "from django.contrib.auth import get_user_model\nfrom documents.models import Document\n"
        "from documents.services import membership_set\n"
        f"doc = Document.objects.get(pk='{cast.document_id}')\nUser = get_user_model()\n"
        f"membership_set(document=doc, user=User.objects.get(username='{cast.viewer.username}'), role='editor')\n"
        f"membership_set(document=doc, user=User.objects.get(username='{cast.stranger.username}'), role='viewer')\n"
    )
    alice = await open_as(cast.owner)
    await pages.open_document(alice, daphne_server.url, cast.document_id)
    await pages.editor(alice).click()
    await alice.keyboard.type(START)
    bob, carol, dan = await asyncio.gather(
        open_as(cast.editor),
        open_as(cast.viewer, viewport={"width": 390, "height": 780}, color_scheme="dark", has_touch=True),
        open_as(cast.stranger),
    )
    await asyncio.gather(*(pages.open_document(page, daphne_server.url, cast.document_id) for page in (bob, carol, dan)))
    # A viewer cannot suggest: no toggle, and the text is read-only.
    await expect(dan.get_by_test_id("suggest-toggle")).to_have_count(0)
    await expect(pages.editor(dan)).to_have_attribute("contenteditable", "false")
    await pages.expect_texts(bob, "p", [START])

    # Bob switches to Suggesting: the toggle says so, and the page edge shows it.
    toggle = bob.get_by_test_id("suggest-toggle")
    await expect(toggle).to_have_attribute("aria-pressed", "false")
    await toggle.click()
    await expect(toggle).to_have_attribute("aria-pressed", "true")
    await expect(toggle).to_contain_text("Suggesting")
    await expect(bob.locator(".paper")).to_have_class("paper paper--suggesting")

    # An insertion, with a typo taken back: Backspace over one's own proposal really removes it.
    await pages.click_end_of_paragraph(bob, 0)
    await bob.keyboard.type(" epsilonn")
    await bob.keyboard.press("Backspace")
    # Two deletions: marked, not removed.
    await select_chars(bob, len("Alpha "), len("beta "))
    await bob.keyboard.press("Backspace")
    await select_chars(bob, len("Alpha beta gamma"), len(" delta"))
    await bob.keyboard.press("Delete")

    await bob.screenshot(path=artifacts / "suggestions-suggesting.png")
    for page in (alice, bob, carol):
        await pages.expect_texts(page, "ins.suggestion", [" epsilon"])
        await pages.expect_texts(page, "del.suggestion", ["beta ", " delta"])
        await pages.expect_texts(page, "p", [START + " epsilon"])
    await expect(suggestions(carol, "insert")).to_have_attribute("data-suggestion-name", cast.editor.name)
    # The viewer sees who proposed what, and nothing to act with.
    await pages.expect_texts(dan, "ins.suggestion", [" epsilon"])
    await click_text(suggestions(dan, "insert"))
    await expect(dan.get_by_test_id("suggestion-popover")).to_contain_text(f"Add epsilon{cast.editor.name}")
    await expect(dan.get_by_test_id("suggestion-accept")).to_have_count(0)
    await dan.close()
    # Carol, on her phone in dark mode, reads who proposed it; nothing is wider than her screen.
    await click_text(suggestions(carol, "delete", "delta"))
    popover = carol.get_by_test_id("suggestion-popover")
    await expect(popover).to_be_visible()
    await expect(popover).to_contain_text(cast.editor.name)
    await expect(popover).to_contain_text("Delete delta")
    box = await popover.bounding_box()
    assert 0 <= box["x"] and box["x"] + box["width"] <= 390, box
    assert await carol.evaluate("document.documentElement.scrollWidth") <= 390
    background = await carol.evaluate("getComputedStyle(document.querySelector('.suggestion-popover')).backgroundColor")
    assert background != "rgb(255, 255, 255)", "dark mode: the popover follows the page's colours"
    await carol.screenshot(path=artifacts / "suggestions-phone-dark.png")
    await carol.keyboard.press("Escape")

    # Alice accepts the insertion and rejects the deletion of "beta ": live in all three.
    await review(alice, "insert", "epsilon", "accept")
    # The keyboard's way: the caret in a suggestion opens it, Tab reaches its buttons.
    await select_chars(alice, len("Alpha be"), 0)
    popover = alice.get_by_test_id("suggestion-popover")
    await expect(popover).to_contain_text("Delete beta")
    await alice.keyboard.press("Tab")
    await expect(popover.get_by_test_id("suggestion-accept")).to_be_focused()
    await alice.keyboard.press("Tab")
    await alice.keyboard.press("Enter")
    for page in (alice, bob, carol):
        await pages.expect_texts(page, "ins.suggestion", [])
        await pages.expect_texts(page, "del.suggestion", [" delta"])
        await pages.expect_texts(page, "p", [START + " epsilon"])
    await alice.screenshot(path=artifacts / "suggestions-owner.png")

    # The same suggestion, accepted by Alice and rejected by Carol at the same time (both offline).
    await asyncio.gather(alice.context.set_offline(True), carol.context.set_offline(True))
    await expect(pages.connection(alice)).to_have_attribute("data-state", "offline")
    await expect(pages.connection(carol)).to_have_attribute("data-state", "offline")
    await review(alice, "delete", "delta", "accept")
    await review(carol, "delete", "delta", "reject")
    await pages.expect_texts(alice, "p", [FINAL])
    await pages.expect_texts(carol, "p", [START + " epsilon"])
    await asyncio.gather(alice.context.set_offline(False), carol.context.set_offline(False))

    for page in (alice, bob, carol):
        await pages.expect_texts(page, "p", [FINAL], timeout=30_000)
        await pages.expect_texts(page, ".suggestion", [])
    html = await pages.expect_same_content(alice, bob)
    await pages.expect_same_content(alice, carol)
    assert html == f"<p>{FINAL}</p>", html
    # The mode is the tab's: Bob's tab keeps it over a reload, a new tab of his starts by editing.
    await bob.reload()
    await expect(toggle).to_have_attribute("aria-pressed", "true")
    other_tab = await bob.context.new_page()
    await pages.open_document(other_tab, daphne_server.url, cast.document_id)
    await expect(other_tab.get_by_test_id("suggest-toggle")).to_have_attribute("aria-pressed", "false")

    exported = await pages.export_json(alice, cast.document_id)
    assert exported == {"type": "doc", "content": [{"type": "paragraph", "content": [{"type": "text", "text": FINAL}]}]}
