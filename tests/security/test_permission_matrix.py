"""Who may do what: every role against every surface, on a live server.

The table is generated from what the server actually did, written to
test-artifacts/permission-matrix-<backend>.md, and compared with the expected
one cell by cell.
"""

import asyncio
from pathlib import Path

import pytest
from pycrdt import XmlElement, XmlText

from collab import protocol
from collab.client import YClient
from tests.api.client import ApiClient
from tests.documents.admin_http import AdminSession
from tests.support.clients import synced
from tests.support.images import png, upload

ROLES = ["anonymous", "no role", "viewer", "commenter", "editor", "owner", "staff", "superuser"]
SURFACES = ["ws connect", "ws write", "api list", "api get", "api patch", "api versions", "api version",
            "api diff", "api name", "api restore", "api export", "api delete", "img upload", "img get",
            "admin history", "admin restore", "make link", "invite", "open link", "open revoked link"]

# What each role may do. ws connect: "open" or the close code; ws write: "kept" or "refused";
# api list: whether the document is listed; api version / diff / name / restore: one version's detail, its
# diff with the live document, naming it, restoring it (issue 15); img upload / get: uploading an image into
# the document and fetching one of its images (issue 17; with a token; "sign-in": no credentials); others: the HTTP status ("sign-in": redirected to the
# sign-in page; "302 done": the restore happened and the admin went back to the versions page).
# commenter (issue 20): reads like a viewer, its socket read-only; comments (the "cm" cells at the end).
# make link / invite: the share dialog's forms (issue 19; "302 done": made); open link: a viewer share link
# ("200": the page asking to sign in; "302 done": joined, on to the document); a revoked one is 410 for all.
EXPECTED = {
    "anonymous": ["4401", "refused", "401", "401", "401", "401", "401", "401", "401", "401", "401", "401",
                  "401", "sign-in", "sign-in", "sign-in", "sign-in", "sign-in", "200", "410"],
    "no role": ["4403", "refused", "not listed", "404", "404", "404", "404", "404", "404", "404", "404",
                "404", "404", "404", "sign-in", "sign-in", "403", "403", "302 done", "410"],
    "viewer": ["open", "refused", "listed", "200", "403", "200", "200", "200", "403", "403", "200", "403",
               "403", "200", "sign-in", "sign-in", "403", "403", "302 done", "410"],
    "commenter": ["open", "refused", "listed", "200", "403", "200", "200", "200", "403", "403", "200", "403",
                  "403", "200", "sign-in", "sign-in", "403", "403", "302 done", "410"],
    "editor": ["open", "kept", "listed", "200", "200", "200", "200", "200", "200", "201", "200", "403",
               "201", "200", "sign-in", "sign-in", "403", "403", "302 done", "410"],
    "owner": ["open", "kept", "listed", "200", "200", "200", "200", "200", "200", "201", "200", "204", "201",
              "200", "sign-in", "sign-in", "302 done", "302 done", "302 done", "410"],
    "staff": ["4403", "refused", "not listed", "404", "404", "404", "404", "404", "404", "404", "404", "404",
              "404", "404", "200", "403", "403", "403", "302 done", "410"],
    "superuser": ["4403", "refused", "not listed", "404", "404", "404", "404", "404", "404", "404", "404",
                  "404", "404", "404", "200", "302 done", "403", "403", "302 done", "410"],
}
PASSWORD = "matrix-password-1"

# Search (issue 19): whether GET /api/documents/?q= finds the document by its title. Probed before the
# renames of probe_http, appended after its cells.
SURFACES.append("api search")
for _role, _cell in {"anonymous": "401", "no role": "not found", "viewer": "found", "commenter": "found", "editor": "found",
                     "owner": "found", "staff": "not found", "superuser": "not found"}.items():
    EXPECTED[_role].append(_cell)


# Comments (issue 20): list, post a thread, reply, resolve, edit the owner's thread, delete the editor's
# comment, the @ people list, one's notifications. The thread and the comments to delete are made by the world.
SURFACES += ["cm list", "cm post", "cm reply", "cm resolve", "cm edit", "cm delete", "cm people", "notifications"]
for _role, _cells in {
    "anonymous": ["401"] * 8,
    "no role": ["404"] * 7 + ["200"],
    "viewer": ["200", "403", "403", "403", "403", "403", "200", "200"],
    "commenter": ["200", "201", "201", "403", "403", "403", "200", "200"],
    "editor": ["200", "201", "201", "200", "403", "204", "200", "200"],
    "owner": ["200", "201", "201", "200", "200", "204", "200", "200"],
    "staff": ["404"] * 7 + ["200"],
    "superuser": ["404"] * 7 + ["200"],
}.items():
    EXPECTED[_role] += _cells


def probe_comments(server, world, role) -> list[str]:
    api = ApiClient(server.url, token=world["tokens"].get(role))
    base = f"/api/documents/{world['doc']}/comments/"
    thread = f"{base}{world['thread']}/"
    # A position the document does not have: a valid anchor, on deleted text (the text is rewritten meanwhile).
    anchor = {"start": "AAAA", "end": "AAAA"}
    return [status_of(reply) for reply in (
        api.request("GET", base, status="all"),
        api.request("POST", base, body={"body": f"Posted by {role}", "anchor": anchor}),
        api.request("POST", thread + "replies/", body={"body": f"Reply by {role}"}),
        api.request("POST", thread + "resolve/"),
        api.request("PATCH", thread, body={"body": f"Edited by {role}"}),
        api.request("DELETE", f"{base}{world['deletable_comment'][role]}/"),
        api.request("GET", f"/api/documents/{world['doc']}/people/"),
        api.request("GET", "/api/notifications/"),
    )]


def probe_search(server, world, role) -> str:
    found = ApiClient(server.url, token=world["tokens"].get(role)).request("GET", "/api/documents/", q="matrix")
    if found.status != 200:
        return status_of(found)
    return "found" if world["doc"] in [item["id"] for item in found.json()["items"]] else "not found"


@pytest.fixture
def world(daphne_server, unique):
    names = {role: f"{unique}{role.replace(' ', '')}" for role in ROLES if role != "anonymous"}
    return daphne_server.django(
        "from django.contrib.auth import get_user_model\nfrom django.contrib.auth.models import Permission\n"
        "from pycrdt import Doc, XmlElement, XmlFragment, XmlText\n"
        "from documents.models import Snapshot\n"
        "from documents.services import document_create, membership_set, token_create\n"
        "User = get_user_model()\n"
        f"names = {names!r}\n"
        "users = {r: User.objects.create_user(n, password=" + repr(PASSWORD) + ") for r, n in names.items()}\n"
        "users['staff'].is_staff = True\nusers['staff'].save()\n"
        "users['staff'].user_permissions.set(Permission.objects.filter(content_type__app_label='documents',\n"
        "    codename__in=['view_document', 'change_document', 'view_snapshot']))\n"
        "users['superuser'].is_staff = users['superuser'].is_superuser = True\nusers['superuser'].save()\n"
        "def make(title):\n"
        "    d = document_create(owner=users['owner'], title=title)\n"
        "    membership_set(document=d, user=users['editor'], role='editor')\n"
        "    membership_set(document=d, user=users['viewer'], role='viewer')\n"
        "    membership_set(document=d, user=users['commenter'], role='commenter')\n"
        "    return d\n"
        "doc = make('Matrix')\n"
        "v = Doc(); v.get('default', type=XmlFragment).children.append(XmlElement('paragraph', contents=[XmlText('v1')]))\n"
        "snap = Snapshot.objects.create(document=doc, created_at=doc.created_at, state=v.get_update(),\n"
        "    state_vector=v.get_state(), size=1, preview='v1')\n"
        "import io\nfrom PIL import Image as Picture\nfrom documents.images import store\n"
        "png = io.BytesIO(); Picture.new('RGB', (4, 4), 'blue').save(png, 'PNG')\n"
        "image = store(document_id=doc.pk, user=users['owner'], data=png.getvalue())\n"
        "result = {'doc': str(doc.pk), 'version': snap.pk, 'names': names, 'image': str(image.pk),\n"
        "    'deletable': {r: str(make('Delete me ' + r).pk) for r in names},\n"
        "    'tokens': {r: token_create(user=u, name='matrix')[1] for r, u in users.items()}}\n"
        "from documents.models import Comment\n"
        "result['thread'] = str(Comment.objects.create(document=doc, author=users['owner'], body='Thread').pk)\n"
        "result['deletable_comment'] = {r: str(Comment.objects.create(document=doc, author=users['editor'],\n"
        "    body='Delete me').pk) for r in ['anonymous', *names]}\n"
        "from accounts.services import link_create, link_revoke\n"
        "result['link'] = link_create(document=doc, role='viewer', created_by=users['owner'], lifetime=None).key\n"
        "revoked = link_create(document=doc, role='viewer', created_by=users['owner'], lifetime=None)\n"
        "link_revoke(link=revoked)\nresult['revoked_link'] = revoked.key\n"
    )


async def probe_socket(server, world, role) -> tuple[str, str]:
    client = YClient(server.document_ws(world["doc"]), token=world["tokens"].get(role))
    await client.connect()
    done = asyncio.ensure_future(client.synced.wait())
    closed = asyncio.ensure_future(client.closed.wait())
    await asyncio.wait([done, closed], timeout=15, return_when=asyncio.FIRST_COMPLETED)
    done.cancel()
    closed.cancel()
    if client.closed.is_set():
        return str(client.close_code), "refused"
    client.fragment.children.append(XmlElement("paragraph", contents=[XmlText(f"written by {role}")]))
    # Once the server answers a later sync step 1, it has handled the update (one mailbox, in order).
    frames = client.frames_received
    await client.send(protocol.encode_sync_step1(client.doc.get_state()))
    await client.wait_for(lambda c: c.frames_received > frames)
    await client.close()
    return "open", "pending"


def status_of(reply) -> str:
    if reply.status == 302:
        return "sign-in" if "login" in reply.location else "302 done"
    return str(reply.status)


def probe_http(server, world, role) -> list[str]:
    api = ApiClient(server.url, token=world["tokens"].get(role))
    doc, base = world["doc"], f"/api/documents/{world['doc']}/"
    listed = api.request("GET", "/api/documents/")
    if listed.status == 200:
        ids = [item["id"] for item in listed.json()["items"]]
        list_cell = "listed" if doc in ids else "not listed"
    else:
        list_cell = status_of(listed)
    cells = [
        list_cell,
        status_of(api.request("GET", base)),
        status_of(api.request("PATCH", base, body={"title": f"Renamed by {role}"})),
        status_of(api.request("GET", base + "versions/")),
        status_of(api.request("GET", f"{base}versions/{world['version']}/")),
        status_of(api.request("GET", f"{base}versions/{world['version']}/diff/current")),
        status_of(api.request("PATCH", f"{base}versions/{world['version']}/", body={"name": f"Named by {role}"})),
        status_of(api.request("POST", f"{base}versions/{world['version']}/restore")),
        status_of(api.request("GET", base + "export", format="txt")),
    ]
    target = world["deletable"].get(role, world["deletable"]["owner"])
    cells.append(status_of(api.request("DELETE", f"/api/documents/{target}/")))
    cells.append(status_of(upload(api, doc, png())))
    image = api.request("GET", f"/documents/{doc}/images/{world['image']}")
    cells.append("sign-in" if image.status == 302 and "/login/" in image.headers["Location"] else str(image.status))
    web = AdminSession(server.url)
    if role != "anonymous":
        signed_in = web.post("/accounts/login/", {"username": world["names"][role], "password": PASSWORD})
        assert signed_in.status == 302, f"{role} should be able to sign in"
    versions = f"/admin/documents/document/{doc}/versions/"
    cells.append(status_of(web.get(versions)))
    restore = web.post(f"{versions}{world['version']}/restore/")
    cells.append(status_of(restore))
    share = f"/documents/{doc}/share/"
    cells.append(status_of(web.post(share, {"action": "link-create", "role": "editor", "days": "0"})))
    cells.append(status_of(web.post(share, {"action": "add", "username": f"{role.replace(' ', '')}-guest@example.com",
                                            "role": "editor"})))
    # Last: it gives the viewer role to whoever has none.
    cells.append(status_of(web.get(f"/links/{world['link']}/")))
    cells.append(status_of(web.get(f"/links/{world['revoked_link']}/")))
    return cells


async def test_permission_matrix(daphne_server, world, backend):
    table = {role: list(await probe_socket(daphne_server, world, role)) for role in ROLES}
    async with synced(YClient(daphne_server.document_ws(world["doc"]), token=world["tokens"]["owner"])) as owner:
        text = owner.text()
    for role in ROLES:
        if table[role][1] == "pending":
            table[role][1] = "kept" if f"written by {role}" in text else "refused"
    # After the sockets: the superuser's restore rewrites the document.
    searched = {role: await asyncio.to_thread(probe_search, daphne_server, world, role) for role in ROLES}
    commented = {role: await asyncio.to_thread(probe_comments, daphne_server, world, role) for role in ROLES}
    for role in ROLES:
        table[role] += await asyncio.to_thread(probe_http, daphne_server, world, role)
        table[role].append(searched[role])
        table[role] += commented[role]

    lines = ["| role | " + " | ".join(SURFACES) + " |", "|---" * (len(SURFACES) + 1) + "|"]
    for role in ROLES:
        marks = [cell if cell == want else f"**{cell}** (want {want})" for cell, want in zip(table[role], EXPECTED[role])]
        lines.append(f"| {role} | " + " | ".join(marks) + " |")
    artifacts = Path(__file__).resolve().parents[2] / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    (artifacts / f"permission-matrix-{backend}.md").write_text("\n".join(lines) + "\n")
    print("\n" + "\n".join(lines))
    wrong = {role: table[role] for role in ROLES if table[role] != EXPECTED[role]}
    assert not wrong, "permission matrix differs:\n" + "\n".join(lines)
