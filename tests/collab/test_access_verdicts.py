"""collab.access.verdicts: what an open socket may still do, in one batch (the periodic re-check's judge).

Session expiry has no signal: only this periodic re-check closes a socket
whose session ran out, so it is tested here directly.
"""

from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from collab.access import Entry, Verdict, verdicts

pytestmark = pytest.mark.django_db(transaction=True)


@sync_to_async
def world():
    from documents.services import document_create, membership_set, token_create

    User = get_user_model()
    owner = User.objects.create_user("owner", password="owner-password-1")
    editor = User.objects.create_user("editor", password="editor-password-1")
    viewer = User.objects.create_user("viewer", password="viewer-password-1")
    doc = document_create(owner=owner, title="t")
    membership_set(document=doc, user=editor, role="editor")
    membership_set(document=doc, user=viewer, role="viewer")
    token, _ = token_create(user=editor, name="t")

    def session_of(user) -> Entry:
        store = SessionStore()
        store.create()
        return Entry(user.pk, str(doc.pk), can_write=user != viewer, session_key=store.session_key,
                     session_auth_hash=user.get_session_auth_hash())

    return {"doc": doc, "owner": owner, "editor": editor, "viewer": viewer, "token": token, "session_of": session_of}


async def test_an_open_session_keeps_its_socket_and_an_ended_one_loses_it():
    w = await world()
    session_of = sync_to_async(w["session_of"])
    fine, signed_out, expired, repassworded = [await session_of(w["editor"]) for _ in range(4)]
    await Session.objects.filter(session_key=signed_out.session_key).adelete()
    past = timezone.now() - timedelta(seconds=1)
    await Session.objects.filter(session_key=expired.session_key).aupdate(expire_date=past)
    # Another session changed the password: this one was signed in with the old one.
    repassworded = repassworded._replace(session_auth_hash="the hash of the old password")
    assert await verdicts([fine, signed_out, expired, repassworded]) == [
        Verdict.OK, Verdict.SIGNED_OUT, Verdict.SIGNED_OUT, Verdict.SIGNED_OUT
    ]


async def test_a_password_change_or_deactivation_ends_every_session():
    w = await world()
    session_of = sync_to_async(w["session_of"])
    editor_session, owner_session = await session_of(w["editor"]), await session_of(w["owner"])
    editor = w["editor"]
    editor.set_password("a-new-password-2")
    await editor.asave()
    owner = w["owner"]
    owner.is_active = False
    await owner.asave()
    assert await verdicts([editor_session, owner_session]) == [Verdict.SIGNED_OUT, Verdict.SIGNED_OUT]


async def test_tokens_and_roles_are_judged_as_before():
    w = await world()
    doc, editor, viewer = str(w["doc"].pk), w["editor"], w["viewer"]
    token_socket = Entry(editor.pk, doc, can_write=True, token_id=w["token"].pk)
    viewer_writing = (await sync_to_async(w["session_of"])(viewer))._replace(can_write=True)
    assert await verdicts([token_socket, viewer_writing]) == [Verdict.OK, Verdict.ROLE_CHANGED]
    w["token"].revoked_at = timezone.now()
    await w["token"].asave()
    assert await verdicts([token_socket]) == [Verdict.TOKEN_REVOKED]


async def test_the_re_check_is_one_batch_whatever_the_number_of_sockets(django_assert_max_num_queries):
    w = await world()
    session_of = sync_to_async(w["session_of"])
    entries = [await session_of(w["editor"]) for _ in range(20)]
    entries += [Entry(w["editor"].pk, str(w["doc"].pk), can_write=True, token_id=w["token"].pk)] * 20

    @sync_to_async
    def judged():
        with django_assert_max_num_queries(5):
            from asgiref.sync import async_to_sync

            return async_to_sync(verdicts)(entries)

    assert set(await judged()) == {Verdict.OK}


async def test_sockets_let_in_alike_share_one_verdict_and_each_gets_its_own():
    w = await world()
    token = w["token"]
    editor, viewer = w["editor"], w["viewer"]
    tab = Entry(editor.pk, str(w["doc"].pk), can_write=True, token_id=token.pk)
    stale = Entry(viewer.pk, str(w["doc"].pk), can_write=True, token_id=None,
                  session_key="gone", session_auth_hash="x")
    assert await verdicts([tab, stale, tab, tab]) == [Verdict.OK, Verdict.SIGNED_OUT, Verdict.OK, Verdict.OK]
