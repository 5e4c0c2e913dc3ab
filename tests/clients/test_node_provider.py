"""An unmodified y-websocket provider (yjs 13.6, y-websocket 3.1, ws 8) against a live server.

Each test checks what the server stored (or how it closed), not what the client holds.
"""

import asyncio
import json

import pytest

from collab import codes
from collab.client import YClient
from tests.clients.conftest import HERE


@pytest.fixture
def room(daphne_server, unique):
    """A document, its owner's token, and a token with no role on it."""
    owner, stranger = f"{unique}owner", f"{unique}stranger"
    seed = daphne_server.seed(users=[owner, stranger], documents=[{"owner": owner}])
    return {"id": seed["documents"][0], "token": seed["tokens"][owner], "stranger": seed["tokens"][stranger],
            "serverUrl": f"{daphne_server.ws_url}/ws/documents"}


def test_1500_transactions_written_at_once_all_reach_the_server(provider, room, daphne_server):
    # Past the rate limit's burst (1000), the provider is slowed down, not closed.
    outcome = provider(serverUrl=room["serverUrl"], room=room["id"], token=room["token"], paragraphs=1500)
    assert outcome.get("saved"), outcome
    stored = daphne_server.stored_content(room["id"])
    assert all(f"line {i}." in stored for i in range(1500))
    assert outcome["connections"] == 1 and outcome["closes"] == []


def test_a_long_paste_of_1_2_mb_is_saved(provider, room, daphne_server):
    outcome = provider(serverUrl=room["serverUrl"], room=room["id"], token=room["token"], paste=1_200_000)
    assert outcome.get("saved"), outcome
    assert "p" * 1_200_000 in daphne_server.stored_content(room["id"])


def test_a_paste_over_the_document_limit_stops_the_provider_for_good(provider, server_factory, unique):
    server = server_factory(env={"COLLAB_MAX_DOCUMENT_SIZE": "100000"}).start()
    seed = server.seed(users=[unique], documents=[{"owner": unique}])
    outcome = provider(serverUrl=f"{server.ws_url}/ws/documents", room=seed["documents"][0],
                       token=seed["tokens"][unique], paste=150_000)
    assert outcome["closed"]["code"] == codes.TOO_LARGE
    assert "size limit" in outcome["closed"]["reason"]
    assert outcome["connections"] == 1, "a final code: the provider does not reconnect"


def test_a_refusal_reaches_the_provider_with_its_reason(provider, room):
    outcome = provider(serverUrl=room["serverUrl"], room=room["id"], token=room["stranger"], paragraphs=1)
    assert outcome["closed"] == {"code": codes.NO_ACCESS, "reason": "no access to this document"}
    assert outcome["connections"] == 1


def test_the_readme_node_example_syncs_through_the_url_without_a_slash(node, room, daphne_server):
    # example.mjs: new WebsocketProvider(`${SERVER}/ws/documents`, DOCUMENT, doc), so .../ws/documents/<id>
    env = {"SERVER": daphne_server.ws_url, "DOCUMENT": room["id"], "TOKEN": room["token"]}
    result = node("example.mjs", "Written by the Node example", env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "Written by the Node example" in daphne_server.stored_content(room["id"])


async def test_the_provider_comes_back_by_itself_after_a_connection_limit(node, server_factory, unique):
    server = server_factory(env={"COLLAB_MAX_CONNECTIONS_PER_USER": "1"}).start()
    seed = server.seed(users=[unique], documents=[{"owner": unique}])
    document, token = seed["documents"][0], seed["tokens"][unique]
    options = {"serverUrl": f"{server.ws_url}/ws/documents", "room": document, "token": token, "paragraphs": 1}
    async with YClient(server.document_ws(document), token=token) as first:  # takes the user's one connection
        await first.synced.wait()
        script = await asyncio.create_subprocess_exec(
            "node", "provider.mjs", json.dumps(options), cwd=HERE, stdout=asyncio.subprocess.PIPE)
        refused = json.loads(await asyncio.wait_for(script.stdout.readline(), 30))
    assert refused["close"]["code"] == codes.TOO_MANY_CONNECTIONS and refused["close"]["reason"]
    # The first client has left: the provider's next attempt gets in and its edit is stored.
    out, _ = await asyncio.wait_for(script.communicate(), 60)
    outcome = json.loads(out.decode().strip().splitlines()[-1])
    assert outcome.get("saved"), outcome
    assert outcome["connections"] >= 2
    assert "line 0." in server.stored_content(document)
