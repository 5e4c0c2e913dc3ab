"""Presence on a live server: a connection speaks only for itself (issue 11, finding 4).

A viewer (the attacker) sends hand-made awareness frames; an owner watches
what the server passes on, and a newcomer checks what the server kept. After
each forged frame the attacker announces its own presence once more (a
marker): the server handles one connection's frames in order, so once the
watcher has the marker, it has everything the forged frame produced.
"""

import asyncio

import pytest

from collab import codes, protocol
from collab.client import YClient
from tests.support.presence import COLOR, awareness_frame, forged_saved, person

class Watcher:
    """Records every state the client's awareness ever held for each client id (None: removed)."""

    def __init__(self, client: YClient):
        self.client = client
        self.seen: dict[int, list] = {}
        client.awareness.observe(self._record)

    def _record(self, topic, change):
        if topic != "update":
            return
        changes, _origin = change
        for client_id in changes["added"] + changes["updated"] + changes["removed"]:
            self.seen.setdefault(client_id, []).append(self.client.awareness.states.get(client_id))

    def states(self, client_id) -> list:
        return self.seen.get(client_id, [])


@pytest.fixture
def room(daphne_server, unique):
    names = {"owner": f"{unique}owner", "editor": f"{unique}ed", "viewer": f"{unique}viewer"}
    seed = daphne_server.seed(
        users=list(names.values()),
        documents=[{"owner": names["owner"], "roles": {names["editor"]: "editor", names["viewer"]: "viewer"}}],
    )
    url = daphne_server.document_ws(seed["documents"][0])
    return {"url": url, "names": names, "tokens": {role: seed["tokens"][name] for role, name in names.items()}}


def client(room, role) -> YClient:
    return YClient(room["url"], token=room["tokens"][role])


async def joined(c: YClient, presence: dict | None = None) -> YClient:
    await c.connect()
    await c.synced.wait()
    if presence is not None:
        await c.set_presence(presence)
    return c


async def mark(attacker: YClient, watcher: YClient, room, label: str) -> None:
    """The attacker re-announces itself; returns once the watcher has that (so, all before it too)."""
    await attacker.set_presence(person(room["names"]["viewer"], label))
    me = attacker.awareness.client_id
    await watcher.wait_for(lambda c: (c.awareness.states.get(me) or {}).get("user", {}).get("name") == label)


@pytest.fixture
async def three(room):
    """Owner (watching), editor (the victim, present) and viewer (the attacker), all synced."""
    owner = await joined(client(room, "owner"))
    watcher = Watcher(owner)
    editor = await joined(client(room, "editor"), person(room["names"]["editor"], "Victim"))
    victim = editor.awareness.client_id
    await owner.wait_for(lambda c: victim in c.awareness.states)
    viewer = await joined(client(room, "viewer"))
    yield owner, watcher, editor, viewer
    for c in (owner, editor, viewer):
        await c.close()


async def newcomer_states(room) -> dict:
    """What the server kept: the presence a client joining now receives."""
    async with client(room, "owner") as fresh:
        await fresh.synced.wait()
        return dict(fresh.awareness.states)


async def test_a_viewer_cannot_overwrite_someone_elses_presence(room, three):
    owner, watcher, editor, viewer = three
    victim = editor.awareness.client_id
    clock = owner.awareness.meta[victim]["clock"]
    await viewer.send(awareness_frame((victim, clock + 5, person(room["names"]["editor"], "Hacked"))))
    await mark(viewer, owner, room, "marker")

    names = [s["user"]["name"] for s in watcher.states(victim) if s]
    assert "Hacked" not in names, f"the forged entry reached the others: {names}"
    assert owner.awareness.states[victim]["user"]["name"] == "Victim"
    assert (await newcomer_states(room))[victim]["user"]["name"] == "Victim", "the server kept the forgery"
    assert not viewer.closed.is_set(), "a relayed-looking entry is dropped, not punished"


async def test_a_viewer_cannot_remove_someone_elses_presence(room, three):
    owner, watcher, editor, viewer = three
    victim = editor.awareness.client_id
    clock = owner.awareness.meta[victim]["clock"]
    await viewer.send(awareness_frame((victim, clock + 5, None)))
    await mark(viewer, owner, room, "marker")

    assert None not in watcher.states(victim), "the others were told the victim left"
    assert victim in await newcomer_states(room), "the server dropped the victim's presence"


async def test_a_flood_of_client_ids_closes_the_sender_and_reaches_nobody(room, three):
    owner, watcher, editor, viewer = three
    flood = range(1_000_000, 1_036_000)
    await viewer.send(awareness_frame(*[(client_id, 1, {"n": client_id}) for client_id in flood]))
    await asyncio.wait_for(viewer.closed.wait(), 10)
    assert viewer.close_code == codes.BAD_MESSAGE, f"expected {codes.BAD_MESSAGE}, got {viewer.close_code}"

    flooded = [client_id for client_id in watcher.seen if client_id in flood]
    assert not flooded, f"{len(flooded)} forged client ids reached the others"
    kept = await newcomer_states(room)
    assert not [client_id for client_id in kept if client_id in flood], "the server kept forged client ids"
    assert editor.awareness.client_id in kept, "honest presence is kept"


async def test_a_colour_that_is_not_a_plain_colour_is_refused(room, three):
    owner, watcher, editor, viewer = three
    me = viewer.awareness.client_id
    beacon = person(room["names"]["viewer"], "Beacon", color="url(http://127.0.0.1:9/beacon.png)")
    await viewer.set_presence(beacon)
    await mark(viewer, owner, room, "marker")

    colours = [s["user"]["color"] for s in watcher.states(me) if s and "user" in s]
    assert all(c == COLOR for c in colours), f"a colour that is not #rgb/#rrggbb reached the others: {colours}"


async def test_presence_naming_another_user_is_refused(room, three):
    owner, watcher, editor, viewer = three
    me = viewer.awareness.client_id
    await viewer.set_presence(person(room["names"]["editor"], "Not me"))
    await mark(viewer, owner, room, "marker")

    usernames = {s["user"]["username"] for s in watcher.states(me) if s and "user" in s}
    assert usernames == {room["names"]["viewer"]}, f"presence under someone else's name reached the others: {usernames}"


async def test_an_oversized_entry_is_refused(room, three):
    owner, watcher, editor, viewer = three
    me = viewer.awareness.client_id
    await viewer.set_presence({**person(room["names"]["viewer"], "Big"), "padding": "x" * 8000})
    await mark(viewer, owner, room, "marker")

    assert not [s for s in watcher.states(me) if s and "padding" in s], "an 8 KB entry reached the others"


async def test_a_cursor_that_yjs_cannot_read_is_refused(room, three):
    """Yjs throws on it inside every peer's caret plugin, and their editors stop taking keystrokes."""
    owner, watcher, editor, viewer = three
    me = viewer.awareness.client_id
    await viewer.set_presence({**person(room["names"]["viewer"], "Cursor"), "cursor": {"anchor": None, "head": None}})
    await mark(viewer, owner, room, "marker")

    assert not [s for s in watcher.states(me) if s and "cursor" in s], "an unreadable cursor reached the others"


async def test_a_client_cannot_forge_the_servers_saved_state(room, three):
    owner, watcher, editor, viewer = three
    server_ids = {i for i, s in owner.awareness.states.items() if s and s.get("server")}
    assert len(server_ids) == 1, "the server is a peer in awareness"
    forged = forged_saved(editor.doc.client_id)
    await viewer.set_presence(forged)  # under its own client id
    await viewer.set_presence({"saved": forged["saved"]})
    await viewer.send(awareness_frame((viewer.awareness.client_id + 1, 1, forged)))  # under a new one
    await mark(viewer, owner, room, "marker")

    forged_seen = [(i, s) for i, states in watcher.seen.items() if i not in server_ids
                   for s in states if s and ("server" in s or "saved" in s)]
    assert not forged_seen, f"entries claiming to be the server reached the others: {forged_seen}"
    kept = await newcomer_states(room)
    assert [i for i, s in kept.items() if s and s.get("server")] == list(server_ids)


async def test_honest_clients_relaying_everything_keep_working(room, three):
    """y-websocket clients send back every awareness change they receive, the server's and others' included."""
    owner, watcher, editor, viewer = three
    relayer = await joined(client(room, "owner"), person(room["names"]["owner"], "Relayer"))
    # Everything the relayer holds, as received (clocks and all), sent back as y-websocket does.
    everyone = relayer.awareness.encode_awareness_update(list(relayer.awareness.states))
    await relayer.send(protocol.encode_awareness(everyone))
    await relayer.set_presence(person(room["names"]["owner"], "Relayer again"))
    me = relayer.awareness.client_id
    await owner.wait_for(lambda c: (c.awareness.states.get(me) or {}).get("user", {}).get("name") == "Relayer again")
    assert not relayer.closed.is_set(), "relaying is what honest clients do"

    # The victim leaves; a late relay of its last entry does not bring it back.
    victim = editor.awareness.client_id
    last = editor.awareness.encode_awareness_update([victim])
    await editor.close()
    await owner.wait_for(lambda c: victim not in c.awareness.states)
    await relayer.send(protocol.encode_awareness(last))
    await relayer.set_presence(person(room["names"]["owner"], "Relayer, third"))
    await owner.wait_for(lambda c: (c.awareness.states.get(me) or {}).get("user", {}).get("name") == "Relayer, third")
    assert victim not in owner.awareness.states, "a stale relay brought a departed person back"
    assert victim not in await newcomer_states(room)
    assert not relayer.closed.is_set()
    await relayer.close()
