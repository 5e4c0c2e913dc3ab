"""Who may see and restore versions in the admin."""

import asyncio

from tests.documents.admin_http import AdminSession, Cast, make_document, signed_in


def url(document, rest=""):
    return f"/admin/documents/document/{document}/versions/{rest}"


async def test_restoring_needs_the_restore_permission_and_non_staff_stay_out(daphne_server, cast):
    document, ids = make_document(daphne_server, cast, "Guarded", [
        {"age": 120, "text": "first"},
        {"age": 60, "text": "second"},
    ])
    restore = url(document, f"{ids[0]}/restore/")

    staff = signed_in(daphne_server, cast.staff)
    history = await asyncio.to_thread(staff.get, url(document))
    assert history.status == 200, "staff with the view permission see the history"
    assert "Restore…" not in history.text, "no restore link for someone who may not restore"
    assert (await asyncio.to_thread(staff.get, restore)).status == 403, "the confirmation page is refused"
    assert (await asyncio.to_thread(staff.post, restore)).status == 403, "the restore itself is refused"

    outsider = AdminSession(daphne_server.url)
    assert not outsider.login(cast.outsider, Cast.password(cast.outsider)), "the admin refuses a non-staff user"
    for path in (url(document), url(document, f"{ids[0]}/"), restore):
        reply = await asyncio.to_thread(outsider.get, path)
        assert reply.status == 302 and "/admin/login/" in reply.location, (
            f"a non-staff user is sent to the admin's login from {path}, got {reply.status} {reply.location}"
        )
    reply = await asyncio.to_thread(outsider.post, restore)
    assert reply.status == 302 and "/admin/login/" in reply.location, "a non-staff POST restores nothing"

    anonymous = AdminSession(daphne_server.url)
    reply = await asyncio.to_thread(anonymous.post, restore)
    assert reply.status == 302 and "/admin/login/" in reply.location

    restorer = signed_in(daphne_server, cast.restorer)
    forged = await asyncio.to_thread(restorer.post, restore, csrf_token="x" * 32)
    assert forged.status == 403, "a restore without the right CSRF token is refused"

    rows = await asyncio.to_thread(restorer.versions, document)
    assert [row["id"] for row in rows] == [ids[1], ids[0]], "no refused attempt made a version"
    log = await asyncio.to_thread(restorer.get, f"/admin/documents/document/{document}/history/")
    assert log.status == 200 and "change history" in log.text and "Restored" not in log.text, (
        "no refused attempt was logged as a change"
    )
