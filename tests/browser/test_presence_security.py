"""Presence cannot be forged into another person's browser (issue 11, finding 4).

While the database cannot commit, the owner's page must keep saying
"Saving…" whatever another connection claims: the server refuses an entry
with `server`/`saved` from a client, and the page believes "saved" only from
the server's own entry. Colours from other browsers never reach CSS unless
they are plain #rgb/#rrggbb.
"""

import re

from playwright.async_api import expect

from collab.client import YClient
from tests.browser import pages
from tests.browser.conftest import seed_cast
from tests.browser.write_lock import write_lock
from tests.support.presence import awareness_frame, forged_saved

TYPED = "Typed while the database is locked"
NEUTRAL = "#6b7280"  # frontend/js/presence.js


async def viewer_client(server, cast) -> YClient:
    """The viewer's own socket, signed in with its session cookie, as a script in their browser could."""
    client = YClient(server.document_ws(cast.document_id), cookies=f"sessionid={cast.viewer.session_key}",
                     origin=server.url)
    await client.connect()
    await client.synced.wait()
    return client


async def client_id_of(client: YClient, username: str) -> int:
    """The awareness (and Y.Doc) client id of `username`'s page, as every peer sees it."""
    def find(c):
        return next((i for i, s in c.awareness.states.items() if (s or {}).get("user", {}).get("username") == username),
                    None)
    await client.wait_for(lambda c: find(c) is not None)
    return find(client)


async def locked_owner_typing(open_as, server, cast, lock, route=None):
    """The owner's page, with an edit the server holds but cannot commit; returns (page, when typing began).

    `route`, if given, sees the page's document socket (Playwright's WebSocketRoute) before it opens.
    """
    alice = await open_as(cast.owner, server=server)
    if route is not None:
        await alice.route_web_socket(re.compile(r"/ws/documents/"), route)
    await pages.open_document(alice, server.url, cast.document_id)
    await expect(pages.save_state(alice)).to_have_text("Saved")
    await pages.record_save_states(alice)
    await pages.editor(alice).click()
    typed_at = await alice.evaluate("Date.now()")
    await alice.keyboard.type(TYPED)
    await lock.wait_until_server_is_blocked(cast.document_id)
    await expect(pages.save_state(alice)).to_have_text("Saving…")
    return alice, typed_at


async def assert_never_saved_since(page, typed_at):
    history = await pages.save_states(page)
    claimed = [(at, text) for at, text in history if text == "Saved" and at >= typed_at]
    assert not claimed, f"the page claimed Saved for an edit the database could not commit: {history}"


async def test_a_forged_saved_entry_from_another_connection_does_not_show_saved(open_as, server_factory, unique):
    server = server_factory().start()
    cast = seed_cast(server, unique)
    mallory = await viewer_client(server, cast)
    with write_lock(server) as lock:
        alice, typed_at = await locked_owner_typing(open_as, server, cast, lock)
        forged = forged_saved(await client_id_of(mallory, cast.owner.username))
        await mallory.set_presence(forged)  # under its own client id
        await mallory.send(awareness_frame((mallory.awareness.client_id + 1, 1, forged)))  # and a new one
        # Then the viewer's own presence: once alice's page lists them, it has had everything before it.
        await mallory.set_presence({"user": {"username": cast.viewer.username, "name": cast.viewer.name,
                                             "initials": "CD", "color": "#30A46C"}})
        await expect(pages.online(alice, cast.viewer.username)).to_be_visible()
        await expect(pages.save_state(alice)).to_have_text("Saving…")
        await assert_never_saved_since(alice, typed_at)
    await expect(pages.save_state(alice), "the real save still shows").to_have_text("Saved", timeout=60_000)
    await mallory.close()


async def test_the_page_believes_only_the_servers_own_entry_and_plain_colours(open_as, server_factory, unique):
    """As if a forged entry got past the server (an older one in the cluster): the page holds on its own."""
    server = server_factory().start()
    cast = seed_cast(server, unique)
    watcher = await viewer_client(server, cast)
    sockets = []

    def route(ws):
        ws.connect_to_server()  # pass everything through both ways; `ws.send` adds frames for the page
        sockets.append(ws)

    with write_lock(server) as lock:
        alice, typed_at = await locked_owner_typing(open_as, server, cast, lock, route=route)
        beacon_requests = []
        alice.on("request", lambda request: "beacon" in request.url and beacon_requests.append(request.url))
        alice_id = await client_id_of(watcher, cast.owner.username)
        beacon = f"url({server.url}/beacon-{unique}.png)"
        sockets[-1].send(awareness_frame(
            (alice_id + 1, 1, forged_saved(alice_id)),
            (alice_id + 2, 1, {"user": {"username": "mallory", "name": "Mallory", "initials": "MA", "color": beacon}}),
        ))
        avatar = pages.online(alice, "mallory").locator(".avatar")
        await expect(avatar).to_be_visible()
        await expect(pages.save_state(alice)).to_have_text("Saving…")
        await assert_never_saved_since(alice, typed_at)
        style = await avatar.evaluate(
            "(el) => [el.style.getPropertyValue('--avatar'), getComputedStyle(el).backgroundImage]")
        assert style == [NEUTRAL, "none"], f"a colour that is not #rgb/#rrggbb reached CSS: {style}"
        assert not beacon_requests, f"the page fetched a URL from someone's colour: {beacon_requests}"
    await watcher.close()
