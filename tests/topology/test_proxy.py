"""deploy/nginx.conf in front of three processes, as users and operators meet it (tests/support/proxy.py).

Routing by document keeps forwarding the exception; pages, static files and the API work through the
proxy; the Origin, Host and CSRF rules hold behind it; a killed process's documents move on and
clients converge through the proxy with nothing lost.
"""

import asyncio
import re
import time
import urllib.parse

import pytest
import websockets

from collab.client import YClient
from tests.api.client import ApiClient, SessionClient
from tests.support.clients import converge, open_synced, synced
from tests.support.cluster import lease_owner_port
from tests.support.crdt import paragraph
from tests.support.ops import staff_token, stats
from tests.support.proxy import status
from tests.support.typists import Typist, lost_or_doubled
from tests.support.waits import wait_until

FOREIGN_ORIGIN = "http://evil.example"


def seed(topology, prefix: str, documents: int = 1, title: str = ""):
    """Two users, `{prefix}a` (owner) and `{prefix}b` (editor), sharing `documents` documents."""
    a, b = f"{prefix}a", f"{prefix}b"
    result = topology.servers[0].seed(users=[a, b], documents=[{"owner": a, "title": title, "roles": {b: "editor"}}]
                                      * documents)
    return result["documents"], [result["tokens"][a], result["tokens"][b]], (a, b)


async def test_every_socket_of_a_document_lands_on_the_process_hosting_its_actor(topology):
    documents, tokens, _ = seed(topology, "route-", documents=12)
    clients = [YClient(topology.proxy.document_ws(d), token=t) for d in documents for t in tokens]
    await open_synced(*clients)
    for i, client in enumerate(clients):
        client.fragment.children.append(paragraph(f"hello {i}"))
    pairs = [clients[i:i + 2] for i in range(0, len(clients), 2)]
    await asyncio.gather(*(converge(pair) for pair in pairs))

    token = await asyncio.to_thread(staff_token, topology.servers[0])
    reports = {s.port: await asyncio.to_thread(stats, s, token) for s in topology.servers}
    hosts: dict[str, list[int]] = {}
    for port, report in reports.items():
        for actor in report["actors"]:
            if actor["document"] in documents:
                hosts.setdefault(actor["document"], []).append(port)
                assert actor["subscribers"] == 2, f"both sockets of {actor['document']} reach its actor here"
        # Each socket this process holds is a subscriber of one of its own actors: none is forwarded
        # to another process, and no actor here serves a socket forwarded from elsewhere.
        assert report["connections"] == sum(a["subscribers"] for a in report["actors"]), (port, report)
    assert sorted(hosts) == sorted(documents) and all(len(ports) == 1 for ports in hosts.values()), hosts
    assert len({ports[0] for ports in hosts.values()}) >= 2, "the hash spreads documents over the processes"
    for document, ports in hosts.items():
        assert lease_owner_port(topology.servers, document) == ports[0], "the host holds the document's lease"
    await asyncio.gather(*(c.close() for c in clients))


def test_pages_static_files_and_the_api_work_through_the_proxy(topology):
    proxy = topology.proxy
    documents, tokens, _ = seed(topology, "pages-", title="Through nginx")
    visitor = ApiClient(proxy.url)
    home = visitor.get("/")
    assert home.status == 302 and home.headers["Location"].startswith("/accounts/login/")
    login = visitor.get("/accounts/login/")
    assert login.status == 200 and "Content-Security-Policy" in login.headers
    # DEBUG is off as in compose: the page links the collected, hashed copy, which WhiteNoise serves.
    stylesheet = re.search(r'href="(/static/frontend/app\.[0-9a-f]+\.css)"', login.text)
    assert stylesheet, "the page links the hashed stylesheet"
    assert visitor.get(stylesheet.group(1)).status == 200

    api = ApiClient(proxy.url, token=tokens[0])
    listing = api.get("/api/documents/")
    assert listing.status == 200 and [d["title"] for d in listing.json()["items"]] == ["Through nginx"]
    assert api.get("/api/openapi.json").json()["openapi"]
    written = api.request("PUT", f"/api/documents/{documents[0]}/content", body=b"# Hello through nginx\n",
                          headers={"Content-Type": "text/markdown"})
    assert written.status == 200, written.text
    assert "# Hello through nginx" in api.export(documents[0], "md").text
    assert api.get("/api/documents/00000000-0000-0000-0000-000000000000/").status == 404
    assert status(f"{proxy.url}/healthz") == 200 and status(f"{proxy.url}/readyz") == 200


def test_host_and_forwarded_headers_behind_the_proxy(topology):
    proxy, process = topology.proxy, topology.servers[0]
    client = ApiClient(proxy.url)
    # nginx passes the Host the user asked for: ALLOWED_HOSTS still decides.
    assert client.get("/accounts/login/", headers={"Host": "evil.example"}).status == 400
    # X-Forwarded-Host from a client is not believed (Django would refuse evil.example if it were).
    assert client.get("/accounts/login/", headers={"X-Forwarded-Host": "evil.example"}).status == 200
    # Django takes the scheme from X-Forwarded-Proto (HSTS goes only on HTTPS responses), and nginx
    # sets that header from its own connection: a client cannot claim HTTPS through the proxy.
    direct = ApiClient(process.url).get("/accounts/login/", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" in direct.headers
    through = client.get("/accounts/login/", headers={"X-Forwarded-Proto": "https"})
    assert through.status == 200 and "Strict-Transport-Security" not in through.headers


def test_a_form_post_through_the_proxy_passes_csrf_from_its_own_origin_only(topology):
    proxy = topology.proxy
    _, _, (user, _) = seed(topology, "csrf-")
    session = SessionClient(proxy.url, user, f"{user}-password")

    def create(origin: str):
        body = urllib.parse.urlencode({"title": "Posted", "csrfmiddlewaretoken": session.cookie("csrftoken")})
        return session.request("POST", "/documents/new/", body=body.encode(), headers={
            "Content-Type": "application/x-www-form-urlencoded", "Origin": origin, "Referer": origin + "/"})

    # nginx passes Host without the port, so the proxy's origin (with its port) is trusted through
    # CSRF_TRUSTED_ORIGINS, as compose sets it for http://localhost:8080.
    made = create(proxy.origin)
    assert made.status == 302 and re.fullmatch(r"/documents/[0-9a-f-]{36}/", made.headers["Location"]), made.status
    assert session.get(made.headers["Location"]).status == 200
    assert create(FOREIGN_ORIGIN).status == 403


async def test_websocket_origin_rules_hold_through_the_proxy(topology):
    proxy = topology.proxy
    documents, tokens, (user, _) = seed(topology, "origin-")
    session = await asyncio.to_thread(SessionClient, proxy.url, user, f"{user}-password")
    cookie = f"sessionid={session.cookie('sessionid')}"
    url = proxy.document_ws(documents[0])

    # A browser on the proxy's own pages: Origin is the proxy's, the session cookie signs it in.
    async with synced(YClient(url, cookies=cookie, origin=proxy.origin), YClient(url, token=tokens[1])) as pair:
        pair[0].fragment.children.append(paragraph("from the browser"))
        assert "from the browser" in await converge(list(pair))
    # A page on another site cannot use the visitor's cookie: refused at the handshake.
    with pytest.raises(websockets.InvalidStatus) as refused:
        await YClient(url, cookies=cookie, origin=FOREIGN_ORIGIN).connect()
    assert refused.value.response.status_code == 403


async def test_a_killed_process_s_documents_move_on_and_clients_converge_through_the_proxy(topology, node):
    documents, tokens, _ = seed(topology, "failover-")
    document = documents[0]
    url = topology.proxy.document_ws(document)
    typists = [Typist(YClient(url, token=tokens[i % 2]), f"k{i}") for i in range(4)]
    clients = [t.client for t in typists]
    await open_synced(*clients)
    owner_port = lease_owner_port(topology.servers, document)
    owner = next(s for s in topology.servers if s.port == owner_port)

    stop = asyncio.Event()
    typing = [asyncio.create_task(t.run(stop)) for t in typists]
    await clients[0].wait_for(lambda c: len(c.fragment.children) >= 20)
    killed_at = time.monotonic()
    owner.kill()  # no snapshot, no lease released: the lease expires (COLLAB_LEASE_TTL, 5 s in compose)
    new_owner = await wait_until(lambda: (lease_owner_port(topology.servers, document) or owner.port) != owner.port,
                                 timeout=30, what="a surviving process to take the document over")
    await clients[0].wait_for(lambda c: len(c.fragment.children) >= 60, timeout=30)
    stop.set()
    await asyncio.gather(*typing)
    content = await converge(clients, 40, reconnect=True)
    moved = time.monotonic() - killed_at
    assert new_owner != owner.port
    assert not lost_or_doubled(content, typists), lost_or_doubled(content, typists)[:5]

    # An unmodified y-websocket client (Node) through the proxy reaches the new owner.
    result = await asyncio.to_thread(node, "example.mjs", "from node after the failover", env={
        "SERVER": topology.proxy.ws_url, "DOCUMENT": document, "TOKEN": tokens[0]})
    assert result.returncode == 0, result.stderr
    await converge(clients, 20)
    assert "from node after the failover" in str(clients[0].fragment)
    await asyncio.gather(*(c.close() for c in clients))
    print(f"\nSIGKILL of the owner: taken over and converged through the proxy in {moved:.2f}s; "
          f"clients cut off for at most {max(t.longest_gap for t in typists):.2f}s")
