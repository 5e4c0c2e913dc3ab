"""The admin stays fast with thousands of versions: lists never load a version's encoded state.

In-process (Django's test client on pytest-django's database): what is
measured here is which SQL the pages run, not timing.
"""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from documents import history
from documents.models import Document, Snapshot
from tests.support.history import STATE_COLUMN

VERSIONS = 3000


@pytest.fixture
def big_document(db, django_user_model):
    owner = django_user_model.objects.create_user("owner")
    document = Document.objects.create(owner=owner, title="Long-lived")
    now = timezone.now()
    blob = b"\x01" * 20_000
    Snapshot.objects.bulk_create(
        Snapshot(document=document, created_at=now - timedelta(minutes=n), state=blob, state_vector=b"\x00",
                 size=len(blob), authors=["owner"], preview=f"version {n}")
        for n in range(VERSIONS)
    )
    return document


@pytest.fixture(autouse=True)
def no_live_engine(monkeypatch):
    # The document list asks the live actors what is open; none run in this process.
    monkeypatch.setattr(history, "open_documents", lambda: {})


def run(client, url):
    with CaptureQueriesContext(connection) as queries:
        reply = client.get(url)
    assert reply.status_code == 200, f"expected {url} to load, got {reply.status_code}"
    return reply, [q["sql"] for q in queries.captured_queries]


def test_version_list_reads_one_page_without_states(admin_client, big_document):
    reply, queries = run(admin_client, f"/admin/documents/document/{big_document.pk}/versions/")
    assert not [q for q in queries if STATE_COLUMN in q], "the version list must not load encoded states"
    assert reply.content.count(b'<tr class="version"') == 50, "one page of versions"
    assert f"{VERSIONS} in all".encode() in reply.content
    assert len(queries) < 15, f"a constant number of queries, got {len(queries)}"

    last = run(admin_client, f"/admin/documents/document/{big_document.pk}/versions/?page=60")[0]
    assert b"version 2999" in last.content, "the last page holds the oldest version"


def test_document_list_and_delete_confirmation_do_not_load_versions(admin_client, big_document):
    reply, queries = run(admin_client, "/admin/documents/document/")
    assert f'{big_document.pk}/versions/">{VERSIONS}</a>'.encode() in reply.content, "the list counts versions"
    assert not [q for q in queries if STATE_COLUMN in q]

    reply, queries = run(admin_client, "/admin/documents/snapshot/")
    assert not [q for q in queries if STATE_COLUMN in q], "the list of all versions defers their states"

    reply, queries = run(admin_client, f"/admin/documents/document/{big_document.pk}/delete/")
    assert f"{VERSIONS} versions".encode() in reply.content
    assert not [q for q in queries if STATE_COLUMN in q], "the delete confirmation counts, it does not list"
    assert len(queries) < 20, f"a constant number of queries, got {len(queries)}"


def test_comparing_loads_just_the_two_versions(admin_client, big_document):
    ids = list(history.versions_of(big_document).values_list("id", flat=True)[:2])
    _, queries = run(admin_client, f"/admin/documents/document/{big_document.pk}/versions/compare/?to={ids[0]}")
    loads = [q for q in queries if STATE_COLUMN in q]
    assert len(loads) <= 4, f"the two versions (and their neighbours for navigation), got {len(loads)} loads"
    assert all("LIMIT" in q for q in loads), "each load reads one row"


def test_the_add_and_change_pages_work(admin_client, big_document):
    assert admin_client.get("/admin/documents/document/add/").status_code == 200
    reply, queries = run(admin_client, f"/admin/documents/document/{big_document.pk}/change/")
    assert f"{VERSIONS} versions: browse".encode() in reply.content and b"versionslink" in reply.content
    assert not [q for q in queries if STATE_COLUMN in q]
