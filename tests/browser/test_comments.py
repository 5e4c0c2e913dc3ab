"""Comments in the editor (issue 20): threads beside the text, live for everyone, anchored to text
that moves; the commenter role; mentions and notifications. Few tests, each a story of several steps.
The backend is the real one (documents/comments.py and its REST API) behind a live Daphne."""

import json

from playwright.async_api import expect

from tests.browser import pages
from tests.browser.conftest import PASSWORD, Person
from tests.browser.test_collaboration import open_pair

# Within a few seconds for everyone: the server's notice (comments.n) makes every page re-read the list.
LIVE_MS = 5_000

_ADD_MEMBER_CODE = """
from importlib import import_module
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from documents.models import Document
from documents.services import membership_set

spec = json.loads(SPEC)
user = get_user_model().objects.create(username=spec["username"], first_name=spec["first"], last_name=spec["last"])
membership_set(document=Document.objects.get(pk=spec["document"]), user=user, role=spec["role"])
session = import_module(settings.SESSION_ENGINE).SessionStore()
session[SESSION_KEY] = str(user.pk)
session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
session[HASH_SESSION_KEY] = user.get_session_auth_hash()
session.create()
result = session.session_key
"""


def add_member(server, cast, name: str, role: str) -> Person:
    """One more person, signed in, with `role` on the cast's document."""
    first, last = name.split()
    username = f"{cast.owner.username[:-5]}{first.lower()}"
    spec = {"username": username, "first": first, "last": last, "document": cast.document_id, "role": role}
    session_key = server.django(f"SPEC = {json.dumps(spec)!r}\n" + _ADD_MEMBER_CODE)
    return Person(username, name, PASSWORD, session_key)


# The text of the highlights in the document, as a reader sees it (no carets of others).
_HIGHLIGHTED_JS = """(expected) => {
  const parts = [...document.querySelectorAll('.ProseMirror .comment-highlight')].map((element) => {
    const copy = element.cloneNode(true);
    copy.querySelectorAll('.collaboration-carets__caret').forEach((caret) => caret.remove());
    return copy.textContent;
  });
  return parts.join('') === expected;
}"""


async def expect_highlighted(page, text: str, timeout: float = LIVE_MS) -> None:
    try:
        await page.wait_for_function(_HIGHLIGHTED_JS, arg=text, timeout=timeout)
    except Exception:
        seen = await page.evaluate(
            "() => [...document.querySelectorAll('.ProseMirror .comment-highlight')].map((e) => e.textContent)"
        )
        raise AssertionError(f"highlighted: expected {text!r}, have {seen}") from None


async def comment_on(page, phrase: str, body: str, *, shortcut: bool = False):
    """Selects `phrase`, starts a comment (the toolbar button, or Ctrl+Alt+M), writes `body` and posts it."""
    await pages.select_text(page, phrase)
    if shortcut:
        await page.keyboard.press("Control+Alt+m")
    else:
        await page.get_by_test_id("comment-button").click()
    composer = page.get_by_test_id("comment-composer")
    await expect(composer.get_by_test_id("composer-quote")).to_have_text(phrase)
    await composer.get_by_test_id("comment-input").fill(body)
    await composer.get_by_test_id("comment-submit").click()
    await expect(composer).to_be_hidden()


def thread(page, index: int = 0):
    return page.get_by_test_id("comment-thread").nth(index)


async def test_a_thread_is_live_for_everyone_and_its_highlight_follows_the_text(open_as, daphne_server, cast):
    alice, bob = await open_pair(open_as, daphne_server, cast)
    await pages.editor(alice).click()
    await alice.keyboard.type("The launch is on Monday at the harbour, weather permitting.")
    await expect(pages.editor(bob)).to_contain_text("weather permitting.")

    # Alice comments on a phrase.
    await comment_on(alice, "Monday at the harbour", "Is Monday right?")
    await expect(thread(alice).get_by_test_id("comment-body")).to_have_text(["Is Monday right?"])
    await expect_highlighted(alice, "Monday at the harbour")

    # Bob, open all along, sees the highlight and the thread within a few seconds; a click on the
    # highlight opens the thread, and he replies.
    await expect_highlighted(bob, "Monday at the harbour")
    await expect(bob.get_by_test_id("comments-count")).to_have_text("1", timeout=LIVE_MS)
    await pages.editor(bob).locator(".comment-highlight").first.click()
    await expect(bob.get_by_test_id("comments-panel")).to_be_visible()
    await expect(thread(bob)).to_have_attribute("aria-current", "true")
    await thread(bob).get_by_test_id("reply-input").fill("Yes, confirmed with the port.")
    await thread(bob).get_by_test_id("reply-submit").click()
    await expect(thread(alice).get_by_test_id("comment-body")).to_have_text(
        ["Is Monday right?", "Yes, confirmed with the port."], timeout=LIVE_MS
    )

    # Bob writes before the phrase and inside it: the highlight covers the phrase and what he put in it.
    await pages.put_caret(bob, "The launch")
    await bob.keyboard.type("Note: ")
    await pages.put_caret(bob, "harbour")
    await bob.keyboard.type("old ")
    await pages.expect_texts(alice, "p", ["Note: The launch is on Monday at the old harbour, weather permitting."])
    for page in (alice, bob):
        await expect_highlighted(page, "Monday at the old harbour")
    # Clicking the thread shows its text: the highlight becomes the active one.
    await thread(alice).get_by_test_id("thread-quote").click()
    await expect(thread(alice).get_by_test_id("thread-quote")).to_contain_text("Monday at the old harbour")
    await expect(pages.editor(alice).locator(".comment-highlight--active")).not_to_have_count(0)

    # Alice resolves: the thread leaves Bob's open list (and its highlight his text); the filter shows it.
    await thread(alice).get_by_test_id("thread-resolve").click()
    await expect(bob.get_by_test_id("comment-thread")).to_have_count(0, timeout=LIVE_MS)
    await expect(pages.editor(bob).locator(".comment-highlight")).to_have_count(0)
    await bob.get_by_test_id("comments-filter").select_option("resolved")
    await expect(thread(bob).get_by_test_id("thread-resolved")).to_have_text("Resolved by Alice Martin")

    # A hostile body is shown as the text it is, to everyone; nothing of it runs.
    hostile = '<img src=x onerror="window.pwned=1"><b>bold?</b>'
    await comment_on(alice, "weather", hostile)
    await bob.get_by_test_id("comments-filter").select_option("open")
    body = bob.get_by_test_id("comment-body")
    await expect(body).to_have_text(hostile, timeout=LIVE_MS)
    await expect(bob.get_by_test_id("comments-panel").locator("img, b")).to_have_count(0)
    assert await bob.evaluate("() => window.pwned") is None
    assert await alice.evaluate("() => window.pwned") is None

    # The phrase deleted entirely: the thread stays listed, on deleted text, with its quote.
    await pages.select_text(bob, "weather")
    await bob.keyboard.press("Backspace")
    await expect(thread(alice).get_by_test_id("thread-deleted")).to_have_text("On deleted text", timeout=LIVE_MS)
    await expect(thread(alice).get_by_test_id("thread-quote")).to_contain_text("weather")


async def test_commenters_comment_viewers_read_and_mentions_notify(open_as, daphne_server, cast):
    dave = add_member(daphne_server, cast, "Dave Fox", "commenter")
    alice = await open_as(cast.owner)
    await pages.open_document(alice, daphne_server.url, cast.document_id)
    await pages.editor(alice).click()
    await alice.keyboard.type("The budget is final.")
    await expect(pages.save_state(alice)).to_have_attribute("data-state", "saved")

    await alice.get_by_test_id("comments-button").click()

    # A commenter: the text is read-only, the comments work.
    commenter = await open_as(dave)
    await pages.open_document(commenter, daphne_server.url, cast.document_id)
    await expect(commenter.get_by_test_id("read-only-badge")).to_have_text("Comment only")
    await expect(pages.editor(commenter)).to_have_attribute("contenteditable", "false")
    await pages.editor(commenter).click()
    await commenter.keyboard.type("TYPED BY THE COMMENTER")

    # Ctrl+Alt+M on the selection; @ suggests people with access, and Enter picks one.
    await pages.select_text(commenter, "budget")
    await commenter.keyboard.press("Control+Alt+m")
    box = commenter.get_by_test_id("comment-composer").get_by_test_id("comment-input")
    await expect(box).to_be_focused()
    await box.press_sequentially(f"Where is it, @{cast.editor.username[:-1]}")
    menu = commenter.get_by_test_id("mention-menu")
    await expect(menu.get_by_role("option")).to_have_count(1)
    await expect(menu.get_by_role("option")).to_contain_text("Bob Chen")
    await box.press("Enter")
    await expect(box).to_have_value(f"Where is it, @{cast.editor.username} ")
    await box.press_sequentially("?")
    await commenter.get_by_test_id("comment-submit").click()
    await expect(thread(commenter).get_by_test_id("comment-body")).to_have_text(f"Where is it, @{cast.editor.username} ?")
    await expect(thread(alice).get_by_test_id("comment-body")).to_have_text(f"Where is it, @{cast.editor.username} ?",
                                                                          timeout=LIVE_MS)
    assert "TYPED BY THE COMMENTER" not in await pages.text(alice)
    assert "TYPED BY THE COMMENTER" not in await pages.text(commenter)

    # Bob, mentioned, sees the unread badge in the list's header; the list opens on the comment.
    bob = await open_as(cast.editor)
    bell = bob.get_by_test_id("notifications")
    await expect(bell.get_by_test_id("notifications-count")).to_have_text("1")
    await bell.get_by_test_id("notifications-button").click()
    notice = bell.get_by_test_id("notification")
    await expect(notice).to_contain_text("Dave Fox mentioned you")
    await expect(bell.get_by_test_id("notifications-count")).to_be_hidden()
    await notice.click()
    await pages.expect_connected(bob)
    await expect(thread(bob)).to_have_attribute("aria-current", "true")
    await expect(pages.editor(bob).locator(".comment-highlight--active")).to_have_text("budget")

    # A viewer sees the threads but has nothing to comment with.
    carol = await open_as(cast.viewer)
    await pages.open_document(carol, daphne_server.url, cast.document_id)
    await expect(carol.get_by_test_id("comments-count")).to_have_text("1")
    await carol.get_by_test_id("comments-button").click()
    await thread(carol).get_by_test_id("thread-quote").click()
    await expect(thread(carol)).to_have_attribute("aria-current", "true")
    await expect(carol.get_by_test_id("comment-button")).to_have_count(0)
    await expect(thread(carol).get_by_test_id("reply-input")).to_have_count(0)
    await carol.keyboard.press("Control+Alt+m")
    await expect(carol.get_by_test_id("comment-composer")).to_be_hidden()

    # The owner mentions someone without access: the page offers to share with them, as a commenter.
    await comment_on(alice, "final", f"@{cast.stranger.username} can you look?")
    offer = alice.get_by_test_id("share-offer")
    await expect(offer).to_contain_text("Dan Evans")
    await expect(offer.get_by_test_id("share-offer-role")).to_have_value("commenter")
    await offer.get_by_test_id("share-offer-submit").click()
    await expect(offer).to_contain_text(f"Shared with @{cast.stranger.username}")
    member = await pages.share_member(alice, cast.stranger.username)
    await expect(member.get_by_test_id("member-role")).to_have_value("commenter")
    # The share dialog offers the commenter role for new people too.
    options = alice.get_by_test_id("share-role").locator("option")
    await expect(options).to_have_text(["Can edit", "Can comment", "Can view"])
