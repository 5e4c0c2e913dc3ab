"""documents.indexing: search's text kept current from what the group commit wrote, on both set-ups.

The indexer merges the log rows just committed onto the state it indexed last,
without reading the store; it reads the store when it knows no state for the
document, or when rows are missing (another process wrote them). Each scenario
runs in a subprocess with Django on a fresh database of the backend (as
tests/collab/test_store.py); the indexer's thread is kept out of it (a long
delay) and `_index` is called where the thread would.
"""

from pycrdt import Doc, XmlFragment

from tests.support.crdt import paragraph


def typed(doc: Doc, text: str) -> bytes:
    """The update of a paragraph `text` typed into `doc`'s Tiptap fragment."""
    before = doc.get_state()
    doc.get("default", type=XmlFragment).children.append(paragraph(text))
    return doc.get_update(before)


def scenario(document_id: str) -> dict:
    """Runs in the subprocess: the steps, and the indexed text and the store queries after each."""
    import uuid

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from collab.store import LogAppend, SnapshotData, SnapshotWrite
    from documents import indexing, search
    from documents.models import SearchText, UpdateLog
    from documents.storage import DocumentStorage

    indexing._indexer = indexing.Indexer(3600)  # the thread never indexes by itself here
    document_id = uuid.UUID(document_id)  # as the storage and the thread name documents
    storage, doc, seen = DocumentStorage(), Doc(), {}
    search.store_title(document_id, "t")

    def step(name: str) -> None:
        with CaptureQueriesContext(connection) as queries:
            indexing._indexer._index(document_id)
        seen[name] = {
            "text": SearchText.objects.get(document_id=document_id).body,
            "reads": sum("updatelog" in q["sql"].lower() and q["sql"].lstrip().upper().startswith("SELECT")
                         for q in queries.captured_queries),
        }

    storage.write_batch([LogAppend(document_id, 1, typed(doc, "alpha"))])
    step("first: nothing known")
    storage.write_batch([LogAppend(document_id, 2, typed(doc, "bravo"))])
    storage.write_batch([LogAppend(document_id, 3, typed(doc, "charlie"))])
    step("rows this process wrote")
    # Another process (a cluster's new owner) writes seq 4; this one then writes 5.
    UpdateLog.objects.create(document_id=document_id, seq=4, data=typed(doc, "delta"))
    storage.write_batch([LogAppend(document_id, 5, typed(doc, "echo"))])
    step("a row written elsewhere")
    state = doc.get_update()
    storage.write_batch([SnapshotWrite(document_id, SnapshotData(state, doc.get_state(), 5))])
    storage.write_batch([LogAppend(document_id, 6, typed(doc, "foxtrot"))])
    step("after a snapshot")
    return seen


def test_the_indexer_merges_committed_rows_and_reads_only_what_it_cannot_know(server_factory):
    server = server_factory()
    server.database.migrate()
    document_id = server.seed(users=["ann"], documents=[{"owner": "ann"}])["documents"][0]
    seen = server.django(f"from tests.documents import test_indexing as t\nresult = t.scenario({document_id!r})")

    first = seen["first: nothing known"]
    assert "alpha" in first["text"] and first["reads"] >= 1, "nothing known: the store is read"
    mine = seen["rows this process wrote"]
    assert all(w in mine["text"] for w in ("alpha", "bravo", "charlie")) and mine["reads"] == 0, mine
    elsewhere = seen["a row written elsewhere"]
    assert all(w in elsewhere["text"] for w in ("charlie", "delta", "echo")), "the missing row is read"
    assert elsewhere["reads"] >= 1, elsewhere
    after = seen["after a snapshot"]
    assert all(w in after["text"] for w in ("alpha", "delta", "echo", "foxtrot")) and after["reads"] == 0, after
