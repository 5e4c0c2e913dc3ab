"""The document list is live (issue 19): what changes for a person shows in their open list within a
second (the user's feed, collab/feed.py), on both set-ups, without the list polling."""

import time

from playwright.async_api import expect

# Within this long of the change being committed (the answer to the request that made it).
LIVE_MS = 1000

# Records, on the page's clock, when the list first showed or stopped showing each title.
WATCH_LIST_JS = """() => {
  window.shownAt = {}
  window.goneAt = {}
  let before = new Set()
  const look = () => {
    const now = new Set([...document.querySelectorAll('[data-testid="document-title"]')].map((e) => e.textContent))
    for (const title of now) if (!before.has(title)) window.shownAt[title] ??= Date.now()
    for (const title of before) if (!now.has(title)) window.goneAt[title] ??= Date.now()
    before = now
  }
  look()
  new MutationObserver(look).observe(document.body, { childList: true, subtree: true })
}"""


async def test_a_list_shows_a_rename_a_new_share_and_a_lost_one_within_a_second(open_as, daphne_server, cast, unique):
    other = f"Budget {unique}"
    ids = daphne_server.django(
        "from django.contrib.auth import get_user_model\nfrom documents.services import document_create\n"
        f"User = get_user_model()\nowner = User.objects.get(username='{cast.owner.username}')\n"
        f"result = {{'other': str(document_create(owner=owner, title='{other}').pk),\n"
        f"          'bob': User.objects.get(username='{cast.editor.username}').pk}}")
    bob = await open_as(cast.editor)
    await expect(bob.get_by_test_id("document-title")).to_have_text([cast.title])
    await expect(bob.locator("html")).to_have_attribute("data-feed", "live")
    await bob.evaluate(WATCH_LIST_JS)

    # Alice acts through the site (her session), as her pages do; each answer comes after the commit.
    alice = await open_as(cast.owner)
    csrf = next(c["value"] for c in await alice.context.cookies() if c["name"] == "csrftoken")

    async def as_alice(path, form) -> float:
        answer = await alice.request.post(daphne_server.url + path, form=form, max_redirects=0,
                                          headers={"X-CSRFToken": csrf, "X-Requested-With": "fetch"})
        assert answer.status in (200, 302), await answer.text()
        return time.time() * 1000

    async def shown_within_a_second(title: str, answered: float, gone=False) -> None:
        table = "goneAt" if gone else "shownAt"
        handle = await bob.wait_for_function(f"(t) => window.{table}[t]", arg=title)
        lag = await handle.json_value() - answered
        assert lag < LIVE_MS, f"{title!r} {'left' if gone else 'reached'} Bob's list {lag:.0f} ms after the change"

    renamed = f"Launch plan, renamed {unique}"
    answered = await as_alice(f"/documents/{cast.document_id}/rename/", {"title": renamed})
    await shown_within_a_second(renamed, answered)
    await expect(bob.get_by_test_id("document-title")).to_have_text([renamed])

    answered = await as_alice(f"/documents/{ids['other']}/share/",
                              {"action": "add", "username": cast.editor.username, "role": "viewer"})
    await shown_within_a_second(other, answered)
    await expect(bob.get_by_test_id("document-row").filter(has_text=other).get_by_test_id("document-role")
                 ).to_have_text("Viewer")

    answered = await as_alice(f"/documents/{cast.document_id}/share/", {"user_id": str(ids["bob"]), "role": ""})
    await shown_within_a_second(renamed, answered, gone=True)
    await expect(bob.get_by_test_id("document-title")).to_have_text([other])
    # Live, not polled: the feed stayed open throughout.
    await expect(bob.locator("html")).to_have_attribute("data-feed", "live")
