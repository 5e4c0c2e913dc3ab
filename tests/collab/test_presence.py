"""Presence bookkeeping, plain: who owns which awareness client id, what a connection may announce."""

import json

import pytest
from pycrdt import Awareness, Doc

from collab import protocol
from collab.presence import MAX_ENTRY_SIZE, MAX_IDS_PER_CONNECTION, Presence, Refused

ALICE, BOB = "sid-alice", "sid-bob"


def entry(client_id, clock, state):
    """(client id, clock, JSON state) as decoded from the wire; state None is a removal."""
    return (client_id, clock, "null" if state is None else json.dumps(state))


def person(username, name="Someone", color="#3e63dd"):
    return {"user": {"username": username, "name": name, "color": color}}


def passed_on(frame):
    """The entries of the frame the server would send to the others ([] for none)."""
    if frame is None:
        return []
    return [(client_id, clock, json.loads(state)) for client_id, clock, state in
            protocol.awareness_entries(protocol.decode(frame).payload)]


@pytest.fixture
def presence():
    return Presence(Doc())


def test_a_connection_announces_and_changes_its_own_presence(presence):
    assert passed_on(presence.receive(ALICE, "alice", [entry(11, 1, person("alice", "Alice"))])) == [
        (11, 1, person("alice", "Alice"))]
    assert passed_on(presence.receive(ALICE, "alice", [entry(11, 2, person("alice", "Alice B."))])) == [
        (11, 2, person("alice", "Alice B."))]
    assert presence.states[11] == person("alice", "Alice B.")


def test_another_connection_cannot_overwrite_or_remove_it(presence):
    presence.receive(ALICE, "alice", [entry(11, 1, person("alice", "Alice"))])
    assert presence.receive(BOB, "bob", [entry(11, 9, person("bob", "Hacked"))]) is None
    assert presence.receive(BOB, "bob", [entry(11, 10, None)]) is None
    assert presence.states[11] == person("alice", "Alice"), "alice's entry is hers alone"


def test_the_owner_removes_its_entry_and_its_departure_removes_the_rest(presence):
    presence.receive(ALICE, "alice", [entry(11, 1, person("alice")), entry(12, 1, person("alice"))])
    assert passed_on(presence.receive(ALICE, "alice", [entry(11, 1, None)])) == [(11, 1, None)]
    assert 11 not in presence.states
    assert passed_on(presence.leave(ALICE)) == [(12, 1, None)], "the others are told that 12 left"
    assert presence.states.keys() == {presence.server_id}
    assert presence.leave(ALICE) is None, "leaving twice changes nothing"


def test_relays_of_others_and_of_the_server_pass_nothing_on(presence):
    """y-websocket clients send back every awareness change they receive."""
    server = presence.publish_saved(b"\x00")
    presence.receive(ALICE, "alice", [entry(11, 1, person("alice"))])
    relayed = protocol.awareness_entries(protocol.decode(server).payload) + [entry(11, 1, person("alice"))]
    assert presence.receive(BOB, "bob", relayed) is None
    # Bob's own entry in the same frame goes through; the relayed ones do not.
    assert [e[0] for e in passed_on(presence.receive(BOB, "bob", [*relayed, entry(22, 1, person("bob"))]))] == [22]


def test_a_late_relay_of_someone_who_left_does_not_bring_them_back(presence):
    presence.receive(ALICE, "alice", [entry(11, 3, person("alice"))])
    presence.leave(ALICE)
    assert presence.receive(BOB, "bob", [entry(11, 3, person("alice"))]) is None
    assert 11 not in presence.states


def test_the_same_client_coming_back_with_news_is_present_again(presence):
    presence.receive(ALICE, "alice", [entry(11, 3, person("alice"))])
    presence.leave(ALICE)
    assert passed_on(presence.receive("sid-alice-again", "alice", [entry(11, 4, person("alice"))]))


def test_stale_entries_pass_nothing_on(presence):
    presence.receive(ALICE, "alice", [entry(11, 5, person("alice", "new"))])
    assert presence.receive(ALICE, "alice", [entry(11, 4, person("alice", "old"))]) is None
    assert presence.receive(ALICE, "alice", [entry(11, 5, person("alice", "same clock"))]) is None
    assert presence.states[11]["user"]["name"] == "new"


def test_more_client_ids_than_allowed_is_refused(presence):
    ids = [entry(100 + i, 1, {}) for i in range(MAX_IDS_PER_CONNECTION)]
    assert len(passed_on(presence.receive(ALICE, "alice", ids))) == MAX_IDS_PER_CONNECTION
    with pytest.raises(Refused):
        presence.receive(ALICE, "alice", [entry(999, 1, {})])
    assert 999 not in presence.states


def test_a_flood_in_one_frame_is_refused_whole(presence):
    with pytest.raises(Refused):
        presence.receive(ALICE, "alice", [entry(1000 + i, 1, {}) for i in range(36_000)])
    assert presence.states.keys() == {presence.server_id}, "nothing of the flood is kept"


@pytest.mark.parametrize("state, why", [
    ({"server": True, "saved": "AQEB"}, "the server's fields"),
    ({"saved": "AQEB"}, "the server's saved field"),
    ({"restored": {"by": "bob", "version": 1}}, "a forged restore notice"),
    ({"server": False}, "the server's flag"),
    (person("bob"), "another user's name"),
    ({"user": {"name": "No username"}}, "a user without the connection's username"),
    ({"user": "alice"}, "a user that is not an object"),
    (person("alice", color="url(http://tracker.example/p.png)"), "a URL as colour"),
    (person("alice", color="#fff; background-image: url(x)"), "a colour that ends its declaration"),
    (person("alice", color="red"), "a named colour"),
    ({"cursor": {}}, "a cursor without positions"),
    ({"cursor": {"anchor": None, "head": None}}, "a cursor with null positions"),
    ({"cursor": {"anchor": 1, "head": 2}}, "a cursor with numbers for positions"),
    ({"cursor": {"anchor": {}, "head": {}}}, "a cursor pointing nowhere"),
    ({"cursor": {"anchor": {"type": {"client": "x"}}, "head": {"tname": "default"}}}, "a position with a bad id"),
    ({"cursor": {"anchor": {"tname": 5}, "head": {"tname": "default"}}}, "a position with a bad type name"),
    (person("alice", color=12), "a colour that is not a string"),
    ({**person("alice"), "padding": "x" * MAX_ENTRY_SIZE}, "an oversized entry"),
])
def test_entries_breaking_the_rules_are_dropped(presence, state, why):
    assert presence.receive(ALICE, "alice", [entry(11, 1, state)]) is None, f"{why} must not be passed on"
    assert 11 not in presence.states
    # The connection is not closed for it, and its good entries still count.
    assert passed_on(presence.receive(ALICE, "alice", [entry(11, 2, person("alice"))]))


@pytest.mark.parametrize("color", ["#abc", "#A1B2C3", None])
def test_plain_colours_and_entries_without_a_user_pass(presence, color):
    assert passed_on(presence.receive(ALICE, "alice", [entry(11, 1, person("alice", color=color))]))
    assert passed_on(presence.receive(ALICE, "alice", [entry(11, 2, {"cursor": None})]))


def test_a_cursor_as_y_prosemirror_sends_it_passes(presence):
    position = {"type": {"client": 7, "clock": 3}, "item": {"client": 7, "clock": 9}, "assoc": 0}
    cursor = {"anchor": position, "head": {"tname": "default", "assoc": -1}}
    assert passed_on(presence.receive(ALICE, "alice", [entry(11, 1, {**person("alice"), "cursor": cursor})]))


def test_the_server_publishes_what_is_saved_under_its_own_id(presence):
    frame = presence.publish_saved(b"\x01\x02\x03")
    [(client_id, _clock, state)] = passed_on(frame)
    assert client_id == presence.server_id
    assert state == {"server": True, "saved": "AQID"}
    assert passed_on(presence.everyone())[0][2] == state, "a newcomer gets it too"


def test_a_notice_joins_the_servers_entry_and_stays_beside_saved(presence):
    presence.publish_saved(b"\x01\x02\x03")
    notice = {"by": "carol", "version": 4, "version_time": "2026-01-01T00:00:00Z", "at": "2026-01-02T00:00:00Z"}
    [(client_id, _clock, state)] = passed_on(presence.announce({"restored": notice, "saved": "forged"}))
    assert client_id == presence.server_id
    assert state == {"server": True, "saved": "AQID", "restored": notice}, "a notice cannot replace `saved`"
    [(_id, _clock, state)] = passed_on(presence.publish_saved(b"\x01\x02\x04"))
    assert state == {"server": True, "saved": "AQIE", "restored": notice}, "the notice stays when `saved` moves"


def test_what_a_pycrdt_client_sends_is_accepted(presence):
    own = Awareness(Doc())
    own.set_local_state(person("alice"))
    entries = protocol.awareness_entries(own.encode_awareness_update([own.client_id]))
    assert passed_on(presence.receive(ALICE, "alice", entries)) == [(own.client_id, 1, person("alice"))]
