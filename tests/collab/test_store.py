"""The stores themselves: fencing, and content any database accepts.

The same scenarios run against the in-memory twin (in-process) and against
DjangoStore on SQLite and on PostgreSQL (in a subprocess set up on a
database of its own, as the live servers are: the test process's Django is
configured for SQLite only).
"""


import pytest
from pycrdt import Doc, XmlFragment

from collab.store import MemoryStore, StaleOwner
from tests.support.actors import as_snapshot
from tests.support.crdt import paragraph


def paragraph_update(text: str) -> bytes:
    doc = Doc()
    doc.get("default", type=XmlFragment).children.append(paragraph(text))
    return doc.get_update()


async def fencing_scenario(store, document_id, fence_of) -> dict:
    """A new owner (fence 2) loads and writes; the old one (fence 1) then tries both writes.

    `await fence_of(document_id)` reads the fence the store has recorded.
    """
    loaded = await store.load(document_id, 2)
    seq = loaded.next_seq
    await store.append(document_id, seq, paragraph_update("by the new owner"), 2)
    before = (await store.load(document_id)).updates
    result = {"fence_before": await fence_of(document_id)}
    try:
        await store.append(document_id, seq + 1, paragraph_update("by the stale owner"), 1)
        result["append"] = "accepted"
    except StaleOwner:
        result["append"] = "StaleOwner"
    try:
        await store.snapshot(document_id, as_snapshot([*before, paragraph_update("stale snapshot")], seq + 1), 1)
        result["snapshot"] = "accepted"
    except StaleOwner:
        result["snapshot"] = "StaleOwner"
    result["fence_after"] = await fence_of(document_id)
    result["state_unchanged"] = (await store.load(document_id)).updates == before
    return result


async def nul_scenario(store, document_id) -> dict:
    """A paragraph holding NUL, snapshotted (preview, label): stored, and it loads back."""
    loaded = await store.load(document_id)
    update = paragraph_update("before\x00after")
    await store.append(document_id, loaded.next_seq, update)
    await store.snapshot(document_id, as_snapshot([update], loaded.next_seq, label="v\x001"))
    doc = Doc()
    for stored in (await store.load(document_id)).updates:
        doc.apply_update(stored)
    return {"text": str(doc.get("default", type=XmlFragment).children[0].children[0])}


def check_fencing(result: dict) -> None:
    assert result["append"] == "StaleOwner", f"an append with a lower fence must be refused: {result}"
    assert result["snapshot"] == "StaleOwner", f"a snapshot with a lower fence must be refused: {result}"
    assert result["fence_before"] == result["fence_after"] == 2, f"the recorded fence stays the newer one: {result}"
    assert result["state_unchanged"], "the stale owner's writes must leave the stored state as it was"


# --- the in-memory twin ------------------------------------------------------------


async def test_memory_store_refuses_a_stale_fence():
    store = MemoryStore(["doc"])

    async def fence_of(document_id):
        return store.fences[document_id]

    check_fencing(await fencing_scenario(store, "doc", fence_of))


# --- DjangoStore on SQLite and PostgreSQL ---------------------------------------------


@pytest.fixture
def django_store(server_factory):
    """Run a scenario of this module with DjangoStore on a fresh database of the backend."""
    server = server_factory()  # never started: its database and django() helper are what we need
    server.database.migrate()
    document_id = server.seed(users=["ann"], documents=[{"owner": "ann"}])["documents"][0]

    def run(scenario: str, *args: str):
        return server.django(
            "import asyncio\n"
            "from asgiref.sync import sync_to_async\n"
            "from collab.store import DjangoStore\n"
            "from documents.models import Document, Snapshot\n"
            f"from tests.collab import test_store as t\n"
            f"store = DjangoStore()\n"
            f"result = asyncio.run(t.{scenario}(store, {document_id!r}{''.join(', ' + a for a in args)}))\n"
            "result['previews'] = list(Snapshot.objects.values_list('preview', flat=True))\n"
            "result['labels'] = list(Snapshot.objects.values_list('label', flat=True))\n"
        )

    return run


def test_django_store_refuses_a_stale_fence(django_store):
    result = django_store("fencing_scenario", "sync_to_async(lambda d: Document.objects.get(pk=d).fence)")
    check_fencing(result)
    assert result["previews"] == [], "no snapshot row was written by the stale owner"


def test_django_store_snapshots_text_holding_nul(django_store):
    # PostgreSQL refuses NUL in text columns (DataError): the preview came from the content.
    result = django_store("nul_scenario")
    assert result["text"] == "before\x00after", "the content itself is stored as it is (binary)"
    assert result["previews"] == ["beforeafter"], "the preview is stored, without the NUL"
    assert result["labels"] == ["v1"], "so is the label"
