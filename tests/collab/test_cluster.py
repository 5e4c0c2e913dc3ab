"""Several real Daphne processes on PostgreSQL + Redis: one actor per document, failover.

These run only on the production set-up (they need Redis); under CI a missing
PostgreSQL or Redis fails them.
"""

import asyncio
import json
import random
import signal
import socket
import time

import pytest
import redis

from collab.client import YClient
from tests.api.client import ApiClient
from tests.support.clients import converge, open_synced
from tests.support.cluster import lease_owner_port
from tests.support.crdt import paragraph
from tests.support.server import REDIS_TEST_URL
from tests.support.waits import first_of, wait_until


def reports(servers) -> dict[int, list[str]]:
    """Documents each live process reports hosting an actor for."""
    client = redis.Redis.from_url(REDIS_TEST_URL)
    by_pid = {s.process.pid: s.port for s in servers}
    result = {}
    for key in client.scan_iter(match="collab:process:*"):
        raw = client.get(key)
        if raw:
            report = json.loads(raw)
            pid = int(report["name"].rsplit(":", 1)[1])
            if pid in by_pid:
                result[by_pid[pid]] = [a["document"] for a in report["actors"]]
    return result


async def type_paragraphs(client: YClient, tag: str, count: int, stop: asyncio.Event | None = None):
    """Append paragraphs, reconnecting (like a real client) whenever the server goes away."""
    written = []
    for i in range(count):
        if stop is not None and stop.is_set():
            break
        if client.closed.is_set():
            await client.reconnect(timeout=40)
        text = f"{tag}-{i}"
        client.fragment.children.append(paragraph(text))
        written.append(text)
        await asyncio.sleep(0.01)  # typing pace
    return written


async def seeded(server, count_docs=1):
    seed = server.seed(users=["ann", "bob", "cid"],
                       documents=[{"owner": "ann", "roles": {"bob": "editor", "cid": "editor"}}] * count_docs)
    return seed


async def test_clients_on_every_process_converge_with_one_owner(cluster):
    servers = cluster(3)
    seed = await seeded(servers[0])
    doc = seed["documents"][0]
    clients = [YClient(s.document_ws(doc), token=seed["tokens"][name])
               for s, name in zip(servers * 2, ["ann", "bob", "cid"] * 2)]
    await open_synced(*clients)
    written = await asyncio.gather(*(type_paragraphs(c, f"c{i}", 20) for i, c in enumerate(clients)))
    await converge(clients, 40, reconnect=True)
    content = str(clients[0].fragment)
    assert all(text in content for texts in written for text in texts), "every edit must be in the result"

    owner = lease_owner_port(servers, doc)
    assert owner is not None, "the document's lease must be held"
    await wait_until(lambda: sum(doc in docs for docs in reports(servers).values()) == 1, what="one report")
    hosting = [port for port, docs in reports(servers).items() if doc in docs]
    assert hosting == [owner], f"exactly the lease holder hosts the actor, got {hosting} vs {owner}"
    for c in clients:
        await c.close()


async def test_sigkill_of_the_owner_loses_nothing(cluster):
    servers = cluster(3)
    seed = await seeded(servers[0])
    doc = seed["documents"][0]
    first = YClient(servers[0].document_ws(doc), token=seed["tokens"]["ann"])
    await open_synced(first)
    owner_port = lease_owner_port(servers, doc)
    owner = next(s for s in servers if s.port == owner_port)
    survivors = [s for s in servers if s is not owner]
    # Two clients on the owner, two on each survivor.
    clients = [first, YClient(owner.document_ws(doc), token=seed["tokens"]["bob"])]
    clients += [YClient(s.document_ws(doc), token=seed["tokens"]["cid"]) for s in survivors for _ in range(2)]
    await open_synced(*clients[1:])

    typing = [asyncio.create_task(type_paragraphs(c, f"k{i}", 60)) for i, c in enumerate(clients)]
    await clients[0].wait_for(lambda c: len(c.fragment.children) >= 30)
    killed_at = time.monotonic()
    owner.kill()
    # Clients of the dead process move to a survivor, as a load balancer would send them.
    for c in clients:
        if f":{owner.port}/" in c.url:
            c.url = survivors[0].document_ws(doc)
    written = await asyncio.gather(*typing)
    await converge(clients, 40, reconnect=True)
    takeover = time.monotonic() - killed_at
    content = str(clients[0].fragment)
    missing = [t for texts in written for t in texts if f">{t}<" not in content]
    assert not missing, f"edits lost after SIGKILL of the owner: {missing[:5]}"
    for text in (t for texts in written for t in texts):
        assert content.count(f">{text}<") == 1, f"{text} must appear exactly once"
    for c in clients:
        await c.close()
    for s in survivors:
        s.stop()
    assert survivors[0].stored_content(doc) == content, "the database must hold the converged state after the final snapshot"
    print(f"takeover after SIGKILL, clients converged in {takeover:.2f}s")


async def test_a_paused_stale_owner_cannot_write(cluster):
    # The stale owner holds an unsaved edit (its flush is slow) when it is
    # paused; it is resumed after its successor took over and wrote. Whether its
    # flush timer or its lease check runs first at wake, the edit is written
    # once more with the old fence (LeaseLost), and the database must refuse it.
    stale = cluster(1, COLLAB_FLUSH_DELAY="3", COLLAB_FLUSH_MAX_WAIT="3", COLLAB_SNAPSHOT_INTERVAL="60")[0]
    other = cluster(1)[1]
    seed = await seeded(stale)
    doc = seed["documents"][0]
    a = YClient(stale.document_ws(doc), token=seed["tokens"]["ann"])
    watcher = YClient(stale.document_ws(doc), token=seed["tokens"]["cid"])
    await open_synced(a, watcher)
    assert lease_owner_port([stale, other], doc) == stale.port
    a.fragment.children.append(paragraph("pending at the pause"))
    await watcher.wait_for(lambda c: "pending at the pause" in str(c.fragment))  # applied by the stale owner
    stale.process.send_signal(signal.SIGSTOP)
    assert not a.saved_covers_own_edits(), "the edit must still be unsaved when the owner is paused"
    b = YClient(other.document_ws(doc), token=seed["tokens"]["bob"])
    await b.reconnect(timeout=30)  # succeeds once the stale lease expires
    assert lease_owner_port([stale, other], doc) == other.port
    b.fragment.children.append(paragraph("written by the new owner"))
    await b.wait_for(lambda c: c.saved_covers_own_edits())
    successor_state = other.stored_content(doc)
    stale.process.send_signal(signal.SIGCONT)
    await wait_until(lambda: "(StaleOwner)" in stale.log(), 20, "the stale owner's write to be refused")
    assert other.stored_content(doc) == successor_state, "the database keeps the successor's state"
    fence = other.django(f"from documents.models import Document\nresult = Document.objects.get(pk='{doc}').fence")
    assert f"a newer owner holds fence {fence}" in stale.log(), "the refusal names the successor's fence"
    # The stale owner drops its clients; they resync with the new owner and nothing is lost.
    await asyncio.wait_for(a.closed.wait(), 20)
    a.url = other.document_ws(doc)
    await a.reconnect(timeout=30)
    await converge([a, b], 40, reconnect=True)
    content = str(a.fragment)
    for text in ("pending at the pause", "written by the new owner"):
        assert content.count(f">{text}<") == 1, f"{text!r} must appear exactly once in {content}"
    for client in (a, b, watcher):
        await client.close()


async def test_sigterm_hands_over_without_waiting_for_the_ttl(cluster, synced_client):
    servers = cluster(2, COLLAB_LEASE_TTL="60")
    seed = await seeded(servers[0])
    doc = seed["documents"][0]
    a = await synced_client(servers[0].document_ws(doc), token=seed["tokens"]["ann"])
    a.fragment.children.append(paragraph("handed over"))
    stopped_at = time.monotonic()
    servers[0].stop()  # SIGTERM
    assert servers[0].process.returncode == 0
    a.url = servers[1].document_ws(doc)
    await a.reconnect(timeout=20)
    takeover = time.monotonic() - stopped_at
    assert takeover < 30, f"takeover took {takeover:.1f}s: it must not wait for the 60 s lease"
    assert lease_owner_port(servers, doc) == servers[1].port
    assert "handed over" in str(a.fragment)
    print(f"takeover after SIGTERM: {takeover:.2f}s")


async def test_sigterm_closes_sockets_only_once_their_documents_are_saved_and_released(cluster, synced_client):
    # The order of a handover: stop accepting, save, release the lease, then tell the clients to go.
    # Told first, they reached another process while the lease was still held, were forwarded back
    # to the stopping owner and refused until it let go (the gaps of a rolling deploy).
    servers = cluster(2, COLLAB_LEASE_TTL="60")
    seed = await seeded(servers[0])
    doc = seed["documents"][0]
    a = await synced_client(servers[0].document_ws(doc), token=seed["tokens"]["ann"])
    a.fragment.children.append(paragraph("saved before the close"))
    await a.wait_for(lambda c: c.server_state() is not None)
    servers[0].process.send_signal(signal.SIGTERM)
    await asyncio.wait_for(a.closed.wait(), 30)
    assert a.close_code == 4013, "a code on which y-websocket reconnects"
    assert redis.Redis.from_url(REDIS_TEST_URL).get(f"collab:lease:{doc}") is None, "released before the close"
    assert "saved before the close" in servers[1].stored_content(doc)
    with pytest.raises(OSError):  # the port closed at once (or the process has exited since)
        socket.create_connection(("127.0.0.1", servers[0].port), timeout=2).close()
    a.url = servers[1].document_ws(doc)
    await a.reconnect(timeout=20)
    assert lease_owner_port(servers, doc) == servers[1].port
    await asyncio.to_thread(servers[0].process.wait, 30)
    assert servers[0].process.returncode == 0


async def test_hundred_documents_have_one_owner_each_spread_over_processes(cluster):
    servers = cluster(3)
    seed = await seeded(servers[0], count_docs=100)
    rng = random.Random(7)
    clients = []
    people = ["ann", "bob", "cid"]  # spread over users: each may hold 50 sockets per process
    for doc in seed["documents"]:
        for _ in range(2):
            who = people[len(clients) % 3]
            clients.append(YClient(rng.choice(servers).document_ws(doc), token=seed["tokens"][who]))
    gate = asyncio.Semaphore(20)  # a realistic arrival rate, not 200 handshakes in one instant

    async def join(c):
        async with gate:
            await c.reconnect(timeout=30)

    await asyncio.gather(*(join(c) for c in clients))
    owners = {doc: lease_owner_port(servers, doc) for doc in seed["documents"]}
    assert all(owners.values()), "every open document has an owner"
    await wait_until(lambda: sum(len(d) for d in reports(servers).values()) == 100, what="100 reported actors")
    hosted = reports(servers)
    for doc, port in owners.items():
        assert [p for p, docs in hosted.items() if doc in docs] == [port], f"{doc} must have exactly one actor"
    counts = {port: len(docs) for port, docs in hosted.items()}
    assert len(counts) == 3 and min(counts.values()) >= 15, f"owners should be spread: {counts}"
    await asyncio.gather(*(c.close() for c in clients))


async def test_a_deleted_document_is_not_found_through_a_non_owner_process(cluster, synced_client):
    """collab.live through another process gets DocumentGone, as the owner's own sockets get 4404."""
    (owner,) = cluster(1)
    seed = await seeded(owner)
    doc = seed["documents"][0]
    client = await synced_client(owner.document_ws(doc), token=seed["tokens"]["ann"])
    assert lease_owner_port([owner], doc) == owner.port
    # A script process with the same settings is a non-owner member of the cluster.
    result = owner.django(
        "import asyncio\nfrom pycrdt import Doc, Text\n"
        "from collab import live\nfrom collab.messages import Flush\nfrom collab.registry import get_registry\n"
        "from documents.models import Document\n"
        f"Document.objects.filter(pk='{doc}').delete()\n"
        "async def main():\n"
        "    registry = await get_registry()\n"
        "    d = Doc(); d['t'] = Text('after delete')\n"
        "    await live.apply_update('" + doc + "', d.get_update())  # applied by the owner's live actor\n"
        "    try:\n"
        "        await registry.ask('" + doc + "', Flush())  # its save fails: the document is gone\n"
        "        return 'no error'\n"
        "    except Exception as exc:\n"
        "        return type(exc).__name__\n"
        "    finally:\n"
        "        await registry.stop_all()\n"
        "result = asyncio.run(main())\n"
    )
    await asyncio.wait_for(client.closed.wait(), 20)
    assert client.close_code == 4404, "the owner closes its own sockets as 'no such document'"
    assert result == "DocumentGone", "a non-owner process must get the same 'not found' as the owner"


async def test_restores_through_two_processes_at_once_run_in_the_owners_actor(cluster):
    """A restore asked of a process that does not hold the document runs in the owner's actor, serialized."""
    from tests.api.client import paragraphs
    from tests.support.history import SEED

    first, second = cluster(2)
    names = {role: f"c{role}" for role in ("owner", "editor", "viewer")}
    seed = first.seed(users=list(names.values()))
    history = first.django(SEED.replace("NAMES", repr(names)))
    doc, url = history["doc"], f"/api/documents/{history['doc']}/versions/{history['v1']}/restore"
    async with YClient(first.document_ws(doc), token=seed["tokens"][names["viewer"]]) as watcher:
        await watcher.synced.wait()
        owner_port = lease_owner_port([first, second], doc)
        other = second if owner_port == first.port else first
        owner = first if other is second else second
        replies = await asyncio.gather(
            asyncio.to_thread(ApiClient(owner.url, token=seed["tokens"][names["owner"]]).post, url),
            asyncio.to_thread(ApiClient(other.url, token=seed["tokens"][names["editor"]]).post, url),
        )
        assert [r.status for r in replies] == [201, 201], [r.text for r in replies]
        await watcher.wait_for(lambda c: "Charlie" not in c.text())
        await watcher.wait_for(lambda c: (c.server_state() or {}).get("restored") is not None)
    reader = ApiClient(other.url, token=seed["tokens"][names["viewer"]])
    assert await asyncio.to_thread(paragraphs, reader, doc) == ["Alpha", "Bravo"], "no block twice"


async def test_a_rest_write_through_a_non_owner_process_is_one_live_change_with_if_match(cluster):
    owner, other = cluster(2)
    seed = await seeded(owner)
    doc = seed["documents"][0]
    client = YClient(owner.document_ws(doc), token=seed["tokens"]["ann"])
    await client.connect()
    await client.synced.wait()
    assert lease_owner_port([owner, other], doc) == owner.port
    api = ApiClient(other.url, token=seed["tokens"]["bob"])  # the process that does not hold the document

    def put(body: bytes, **headers):
        return api.request("PUT", f"/api/documents/{doc}/content", body=body,
                           headers={"Content-Type": "text/plain", **headers})

    first = await asyncio.to_thread(put, b"one\n\ntwo\n")
    assert first.status == 200, first.text
    await client.wait_for(lambda c: str(c.fragment).count("<paragraph>") == 2)
    assert first.headers["ETag"] == (await asyncio.to_thread(api.export, doc, "json")).headers["ETag"]

    client.fragment.children.append(paragraph("typed on the owner"))
    await wait_until(lambda: "typed on the owner" in api.export(doc, "txt").text, what="the typing reaches the API")
    stale = await asyncio.to_thread(put, b"overwrite\n", **{"If-Match": first.headers["ETag"]})
    assert stale.status == 412, stale.text
    fresh = await asyncio.to_thread(put, b"one\n\nTWO\n\ntyped on the owner\n", **{"If-Match": stale.headers["ETag"]})
    assert fresh.status == 200 and fresh.json()["changed"] == 1, fresh.text
    await client.wait_for(lambda c: "TWO" in str(c.fragment))
    await client.close()


async def test_hundreds_of_sockets_forwarded_at_once_all_sync(cluster):
    # A failover or a rolling deploy at scale: hundreds of clients reconnect together through a
    # process that does not own their document, and each join and first frame is a channel-layer
    # send in flight at the same moment, on both processes. redis-py's pool refuses calls beyond
    # its 100th connection in use: two thirds of them were closed (1011, 4011) instead of served.
    owner, forwarder = cluster(2, COLLAB_MAX_CONNECTIONS_PER_USER="1000")
    seed = await seeded(owner)
    doc = seed["documents"][0]
    first = YClient(owner.document_ws(doc), token=seed["tokens"]["ann"])
    await open_synced(first)
    assert lease_owner_port([owner, forwarder], doc) == owner.port
    clients = [YClient(forwarder.document_ws(doc), token=seed["tokens"][name])
               for name in ("ann", "bob", "cid") for _ in range(100)]
    await asyncio.gather(*(c.connect() for c in clients))
    await asyncio.wait_for(asyncio.gather(*(first_of(c.synced, c.closed) for c in clients)), 60)
    closed = [(c.close_code, c.close_reason) for c in clients if c.closed.is_set()]
    assert not closed, f"{len(closed)} forwarded sockets were closed {set(closed)}, none should be"
    # The whole logs (log() keeps their last 20,000 characters: 300 sockets' access lines).
    assert "MaxConnectionsError" not in forwarder.log_path.read_text() + owner.log_path.read_text()
    for client in (first, *clients):
        await client.close()
