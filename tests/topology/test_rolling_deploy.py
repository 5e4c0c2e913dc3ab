"""A rolling deploy while people type: every process in turn is stopped (SIGTERM), started again and
waited for until /readyz says ready, behind the proxy, as README's "Deploying" section tells operators.

20 clients type in 10 documents through nginx the whole time. Nothing typed may be lost or doubled,
every client must converge, and the database must hold what they converged on. The longest gap a
client saw is measured and printed (a generous bound only guards against a stall): both the longest
time it was cut off (a close until synced again) and the longest time no edit of its peer reached it.
"""

import asyncio
import json
import time

import pytest

from collab.client import YClient
from tests.support.clients import converge, keep_connected, open_synced
from tests.support.typists import TimedYClient, Typist, lost_or_doubled
from tests.support.waits import wait_until

DOCUMENTS = 10
PACE = 0.5  # seconds between two paragraphs of one client: 40 edits/s over the cluster
# Seconds. Only a stall should pass it: on a machine shared by many test runs one restart has taken a
# minute. The longest time without a peer's edit is ~0.5-3 s; 39 s was nginx refusing new sockets
# after the restarts (see the next test), and SILENCE_BOUND fails that.
SANITY_BOUND = 120.0
SILENCE_BOUND = 20.0


async def everyone_hears_their_peer(typists, runs) -> None:
    """Until every client has received a few more of its peer's edits (across reconnects, hence polled);
    a client that could not reconnect fails the test with its own error."""
    seen = [len(t.client.received_at) for t in typists]

    def heard():
        for run in runs:
            if run.done():
                run.result()  # raises what stopped that client
        return all(len(t.client.received_at) > n + 2 for t, n in zip(typists, seen))
    await wait_until(heard, timeout=SANITY_BOUND, what="every client to receive its peer's edits")


@pytest.mark.slow
@pytest.mark.timeout(900)  # three restarts, each a process's start-up: minutes on a loaded machine
async def test_a_rolling_restart_of_every_process_loses_nothing_while_twenty_clients_type(topology):
    users = ["roll-a", "roll-b"]
    seed = topology.servers[0].seed(users=users, documents=[{"owner": "roll-a", "roles": {"roll-b": "editor"}}]
                                    * DOCUMENTS)
    documents = seed["documents"]
    typists = [Typist(TimedYClient(topology.proxy.document_ws(d), token=seed["tokens"][u]), f"d{n}{u}", PACE)
               for n, d in enumerate(documents) for u in users]
    pairs = [typists[i:i + 2] for i in range(0, len(typists), 2)]
    await open_synced(*(t.client for t in typists))

    stop = asyncio.Event()
    started = time.monotonic()
    runs = [asyncio.create_task(t.run(stop)) for t in typists]
    restarts = []
    for server in topology.servers:
        await everyone_hears_their_peer(typists, runs)  # the cluster is serving again before the next step
        began = time.monotonic()
        await asyncio.to_thread(topology.restart, server)
        restarts.append((began - started, time.monotonic() - began))
    await everyone_hears_their_peer(typists, runs)
    stop.set()
    await asyncio.gather(*runs)
    stopped = time.monotonic()

    contents = {}
    for document, pair in zip(documents, pairs):
        content = await converge([t.client for t in pair], 60, reconnect=True)
        problems = lost_or_doubled(content, pair)
        assert not problems, f"{document}: lost or doubled after the rolling deploy: {problems[:5]}"
        contents[document] = content
    # What the clients agree on reaches the database within the durability window (COLLAB_FLUSH_MAX_WAIT).
    code = ("from documents.storage import DocumentStorage\nfrom pycrdt import Doc, XmlFragment\nresult = {}\n"
            f"for document in {json.dumps(documents)}:\n"
            "    d = Doc()\n"
            "    for u in DocumentStorage().load(document, None).updates: d.apply_update(u)\n"
            "    result[document] = str(d.get('default', type=XmlFragment))\n")
    await wait_until(lambda: topology.servers[0].django(code) == contents, timeout=60, step=1, blocking=True,
                     what="the database to hold what the clients converged on")

    cut_off = max(t.longest_gap for t in typists)
    silence = max(t.client.longest_silence(started, stopped) for t in typists)
    typed = sum(len(t.written) for t in typists)
    print(f"\nrolling deploy of {len(topology.servers)} processes (restarts at {', '.join(f'{a:.1f}+{r:.1f}' for a, r in restarts)} s)"
          f" while {len(typists)} clients typed {typed} paragraphs in {DOCUMENTS} documents: nothing lost or doubled;"
          f" longest cut-off {cut_off:.2f} s, longest time without a peer's edit {silence:.2f} s"
          f" (typing pace {PACE} s), reconnects {sum(len(t.gaps) for t in typists)}")
    worst = max(typists, key=lambda t: t.client.longest_silence(started, stopped))
    times = [started, *(t for t in worst.client.received_at if started < t < stopped), stopped]
    gap_at = max(zip(times, times[1:]), key=lambda p: p[1] - p[0])
    print(f"  worst: {worst.tag} heard nothing from {gap_at[0] - started:.1f} s to {gap_at[1] - started:.1f} s;"
          f" its cut-offs {[round(g, 2) for g in worst.gaps]}")
    assert silence < SILENCE_BOUND, f"a client heard nothing of its peer for {silence:.1f} s"
    await asyncio.gather(*(t.client.close() for t in typists))


async def test_once_every_process_is_back_new_sockets_are_served_at_the_first_attempt(topology):
    # nginx counts a process that refused a connection (it was restarting) as failed, and lets it
    # back only through one probe request per fail_timeout, cleared when that request *ends*: a
    # WebSocket probe lasts as long as its editor stays. After a rolling deploy every process had
    # failed once, so nginx answered 502 "no live upstreams" to new sockets for ~40 s while all
    # three processes were up and ready (the rolling deploy's longest cut-off: 39 s).
    seed = topology.servers[0].seed(users=["fresh"], documents=[{"owner": "fresh"}] * 12)
    documents, token = seed["documents"], seed["tokens"]["fresh"]
    held = [YClient(topology.proxy.document_ws(d), token=token) for d in documents]
    await open_synced(*held)
    for server in topology.servers:
        stop = asyncio.Event()  # the held sockets reconnect at once, during the restart too
        keeping = [asyncio.create_task(keep_connected(c, stop, timeout=120)) for c in held]
        await asyncio.to_thread(topology.restart, server)
        stop.set()
        await asyncio.gather(*keeping)
    for document in documents:  # every process is ready again
        fresh = YClient(topology.proxy.document_ws(document), token=token)
        await fresh.connect()  # a 502 from the proxy raises here
        await asyncio.wait_for(fresh.synced.wait(), 10)
        await fresh.close()
    await asyncio.gather(*(c.close() for c in held))
