"""GET /metrics on real Daphne processes: what an operator's Prometheus sees move as people connect and
type, and who may read it (a bearer token, networks; off by default)."""

import asyncio

from collab.client import YClient
from tests.support.clients import converge, open_synced
from tests.support.cluster import lease_owner_port
from tests.support.crdt import paragraph
from tests.support.metrics import Scraper, parse, scrape_raw
from tests.support.server import Database, LiveServer
from tests.support.waits import wait_until

TOKEN = "metrics-scraper-secret"


def seeded(server):
    return server.seed(users=["ann", "bob"], documents=[{"owner": "ann", "roles": {"bob": "editor"}}])


async def test_figures_move_when_clients_connect_and_type(cluster):
    server = cluster(1, METRICS_TOKEN=TOKEN)[0]
    scraper = Scraper(server, TOKEN)
    seed = seeded(server)
    doc = seed["documents"][0]
    before = await asyncio.to_thread(scraper.all)
    assert before[("collab_connections", ())] == 0
    assert before[("collab_documents_open", ())] == 0

    def grew(figures: dict, name: str, by: float = 1, **labels) -> bool:
        key = (name, tuple(sorted(labels.items())))
        return figures.get(key, 0) >= before.get(key, 0) + by

    ann = YClient(server.document_ws(doc), token=seed["tokens"]["ann"])
    bob = YClient(server.document_ws(doc), token=seed["tokens"]["bob"])
    await open_synced(ann, bob)
    now = await wait_until(lambda: (f := scraper.all())[("collab_connections", ())] == 2 and f, blocking=True,
                           what="two connections counted")
    assert now[("collab_documents_open", ())] == 1
    assert now[("collab_document_subscribers", ())] == 2
    assert now[("collab_leases_held", ())] == 1 and grew(now, "collab_lease_acquisitions_total")
    assert grew(now, "collab_messages_received_total", 2, type="sync_step1"), "each client's sync step 1"
    assert grew(now, "collab_messages_sent_total", 2, type="sync_step2"), "the server's answer to each"

    for i in range(5):
        ann.fragment.children.append(paragraph(f"typed {i}"))
    await converge([ann, bob])

    def typed_and_stored():
        figures = scraper.all()
        return figures if (grew(figures, "collab_messages_received_total", 5, type="update")
                           and grew(figures, "collab_fanout_frames_total")
                           and grew(figures, "collab_messages_sent_total", type="update")
                           and grew(figures, "collab_writer_writes_total")
                           and grew(figures, "collab_commit_seconds_count")
                           and grew(figures, "collab_flush_lag_seconds_count")) else None

    now = await wait_until(typed_and_stored, blocking=True, what="typing counted and stored")
    # Every edit was stored within the durability window's order of magnitude, and nothing is left unsaved.
    assert now[("collab_flush_lag_seconds_bucket", (("le", "+Inf"),))] >= 1
    await wait_until(lambda: scraper.get("collab_unsaved_bytes") == 0 and scraper.get("collab_writer_pending") == 0,
                     blocking=True, what="everything stored")

    intruder = YClient(server.document_ws(doc), token="not-a-token")
    await intruder.connect()
    await asyncio.wait_for(intruder.closed.wait(), 10)
    assert intruder.close_code == 4401
    def refusal_counted():
        figures = scraper.all()
        return figures if grew(figures, "collab_connections_refused_total", code="4401") else None

    now = await wait_until(refusal_counted, blocking=True, what="the refusal counted by its close code")
    assert grew(now, "collab_connections_closed_total", code="4401")
    assert now[("collab_actor_crashes_total", ())] == 0

    await asyncio.gather(ann.close(), bob.close())
    await wait_until(lambda: scraper.get("collab_connections") == 0, blocking=True, what="connections back to 0")


async def test_a_takeover_after_the_owner_dies_is_counted(cluster):
    servers = cluster(2, METRICS_TOKEN=TOKEN)
    seed = seeded(servers[0])
    doc = seed["documents"][0]
    ann = YClient(servers[0].document_ws(doc), token=seed["tokens"]["ann"])
    bob = YClient(servers[1].document_ws(doc), token=seed["tokens"]["bob"])
    await open_synced(ann, bob)
    owner = next(s for s in servers if s.port == lease_owner_port(servers, doc))
    survivor = next(s for s in servers if s is not owner)
    survivor_metrics = Scraper(survivor, TOKEN)
    assert await asyncio.to_thread(survivor_metrics.get, "collab_connections_forwarded") == 1, \
        "the survivor's socket is forwarded to the owner"
    assert await asyncio.to_thread(survivor_metrics.get, "collab_lease_takeovers_total") == 0

    owner.kill()  # no release: its lease expires, and the next to open the document takes it over
    for client in (ann, bob):
        client.url = survivor.document_ws(doc)
    bob.fragment.children.append(paragraph("after the owner died"))
    await converge([ann, bob], 40, reconnect=True)
    await wait_until(lambda: survivor_metrics.get("collab_lease_takeovers_total") == 1, blocking=True,
                     what="the takeover counted on the survivor")
    assert await asyncio.to_thread(survivor_metrics.get, "collab_connections_forwarded") == 0
    await asyncio.gather(ann.close(), bob.close())


def test_only_the_scraper_reads_metrics():
    # A token and a network: a scraper from 127.0.0.1 with the token, nobody else.
    guarded = LiveServer(Database("sqlite"), env={"METRICS_TOKEN": TOKEN, "METRICS_NETWORKS": "127.0.0.1/32"})
    # Neither: metrics are off.
    off = LiveServer(Database("sqlite"))
    try:
        guarded.start()
        off.start()
        status, text = scrape_raw(guarded, TOKEN)
        assert status == 200
        figures = parse(text)  # Prometheus's text format, which the official parser reads
        assert ("collab_connections", ()) in figures and ("process_cpu_seconds_total", ()) in figures
        status, _ = scrape_raw(guarded)
        assert status == 401, "no token"
        status, _ = scrape_raw(guarded, "wrong-" + TOKEN)
        assert status == 401, "a wrong token"
        status, _ = scrape_raw(guarded, TOKEN, source="127.0.0.2")
        assert status == 404, "the right token from outside METRICS_NETWORKS"
        status, _ = scrape_raw(off, TOKEN)
        assert status == 404, "off unless METRICS_TOKEN or METRICS_NETWORKS is set"
    finally:
        for server in (guarded, off):
            server.stop()
            server.database.drop()


def test_a_network_alone_lets_its_scrapers_in():
    server = LiveServer(Database("sqlite"), env={"METRICS_NETWORKS": "127.0.0.1"})
    try:
        server.start()
        status, text = scrape_raw(server)
        assert status == 200 and "collab_documents_open" in text
        status, _ = scrape_raw(server, source="127.0.0.2")
        assert status == 404
    finally:
        server.stop()
        server.database.drop()
