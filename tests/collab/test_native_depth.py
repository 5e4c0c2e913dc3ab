"""Issue 11: no nesting an editor sends may crash the server process.

pycrdt's Rust core recurses once per nesting level (deleting a subtree,
reading a JSON value): on the default 8 MiB stack, deleting XML nested
40,000 deep or applying an attribute nested 50,000 deep segfaulted the whole
server, every open document with it. The server now runs with a stack sized
for the deepest document its size limit allows (editor/serve.py), and refuses
JSON values nested over collab.nesting.MAX_DEPTH (4400).
"""

import asyncio
import threading

import pytest
from pycrdt import Doc, Text, XmlElement, XmlFragment, XmlText

from collab import codes, nesting, protocol
from collab.client import YClient
from tests.api.client import ApiClient
from tests.support.clients import synced
from tests.support.crdt import paragraph

XML_DEPTH = 60_000
ANY_DEPTH = 50_000


def in_big_stack(function):
    """Run function in a thread whose stack fits what pycrdt does with deep documents here (this process's main thread would not)."""
    result = {}
    previous = threading.stack_size(512 * 1024 * 1024)
    try:
        thread = threading.Thread(target=lambda: result.setdefault("value", function()))
        thread.start()
        thread.join()
    finally:
        threading.stack_size(previous)
    return result["value"]


def deep_xml_and_its_deletion(depth: int) -> tuple[bytes, bytes]:
    def build():
        doc = Doc()
        fragment = doc.get("default", type=XmlFragment)
        with doc.transaction():
            element = fragment.children.append(XmlElement("blockquote"))
            for _ in range(depth):
                element = element.children.append(XmlElement("blockquote"))
            element.children.append(paragraph("deep text"))
        deep, state = doc.get_update(), doc.get_state()
        with doc.transaction():
            del fragment.children[0]
        return deep, doc.get_update(state)

    return in_big_stack(build)


def deep_attribute(depth: int) -> bytes:
    """An update setting an attribute to [[[…]]] nested `depth` deep (lib0 Any: 2 bytes a level)."""
    doc = Doc()
    doc.get("default", type=XmlFragment).children.append(XmlElement("paragraph", {"x": [[]]}))
    update = doc.get_update()
    assert update.count(b"\x75\x01\x75\x00") == 1
    return update.replace(b"\x75\x01\x75\x00", b"\x75\x01" * (depth - 1) + b"\x75\x00")


@pytest.fixture
def live(server_factory):
    server = server_factory().start()
    seed = server.seed(users=["ed", "bo"], documents=[{"owner": "ed", "roles": {"bo": "editor"}}, {"owner": "bo"}])
    return {"server": server, "docs": [server.document_ws(d) for d in seed["documents"]], "ids": seed["documents"],
            "ed": seed["tokens"]["ed"], "bo": seed["tokens"]["bo"]}


async def others_still_sync(live, text: str) -> None:
    """Another document, with two clients: the process is alive and serving."""
    async with synced(YClient(live["docs"][1], token=live["bo"]),
                      YClient(live["docs"][1], token=live["bo"])) as (a, b):
        a.fragment.children.append(paragraph(text))
        await b.wait_for(lambda c: text in c.text())


async def test_xml_nested_60000_deep_is_kept_exported_and_deleted_without_crashing(live):
    server, url = live["server"], live["docs"][0]
    pid = server.process.pid
    deep, deletion = deep_xml_and_its_deletion(XML_DEPTH)
    async with synced(YClient(url, token=live["ed"]), YClient(url, token=live["bo"])) as (editor, other):
        other.fragment.children.append(paragraph("kept before"))
        await editor.wait_for(lambda c: "kept before" in c.text())
        await other.close()  # its pycrdt would apply the deletion on this process's 8 MiB stack
        await editor.send(protocol.encode_update(deep))  # not applied to the editor's own Doc
        await editor.wait_for(lambda c: c.saved_covers_own_edits() or c.closed.is_set(), 60)
        api = ApiClient(server.url, token=live["ed"])
        for name in ("txt", "md", "html", "json"):
            reply = await api.aexport(live["ids"][0], name)
            assert reply.status == 200 and "kept before" in reply.text, f"{name} export: {reply.status}"
        await editor.send(protocol.encode_update(deletion))
        editor.fragment.children.append(paragraph("kept after"))
        await editor.wait_for(lambda c: c.saved_covers_own_edits() or c.closed.is_set(), 60)
        assert not editor.closed.is_set(), f"closed {editor.close_code}, server exit {server.process.poll()}"
    await others_still_sync(live, "still serving")
    assert server.process.poll() is None and server.process.pid == pid, server.log()[-2000:]
    async with YClient(url, token=live["bo"]) as fresh:
        await fresh.wait_for(lambda c: "kept before" in c.text() and "kept after" in c.text())
        assert "deep text" not in fresh.text()


@pytest.mark.parametrize("depth", [ANY_DEPTH, "message limit"])
async def test_an_attribute_nested_too_deep_is_refused_and_the_server_lives(live, depth):
    server, url = live["server"], live["docs"][0]
    pid = server.process.pid
    if depth == "message limit":  # the deepest a message under the document size limit (16 MiB) can carry
        depth = (16 * 1024 * 1024 - 4096) // 2
    async with synced(YClient(url, token=live["ed"]), YClient(url, token=live["bo"])) as (editor, other):
        editor.fragment.children.append(paragraph("kept before"))
        await other.wait_for(lambda c: "kept before" in c.text())
        await editor.send(protocol.encode_update(deep_attribute(depth)))
        await asyncio.wait_for(editor.closed.wait(), 60)
        assert editor.close_code == codes.BAD_MESSAGE, f"closed {editor.close_code}, server exit {server.process.poll()}"
        other.fragment.children.append(paragraph("kept after"))
        await other.wait_for(lambda c: c.saved_covers_own_edits())
    await others_still_sync(live, "still serving")
    assert server.process.poll() is None and server.process.pid == pid, server.log()[-2000:]
    api = ApiClient(server.url, token=live["ed"])
    for name in ("txt", "md", "html", "json"):
        reply = await api.aexport(live["ids"][0], name)
        assert reply.status == 200 and "kept before" in reply.text and "kept after" in reply.text, name


# The check itself, without a server.

def test_every_kind_of_content_an_editor_makes_passes_the_check():
    doc = Doc()
    text, fragment = doc.get("t", type=Text), doc.get("default", type=XmlFragment)
    text += "hello [{ u v"
    text.format(0, 3, {"bold": True, "link": {"href": "x[{", "n": [1, 2.5, None, "s", b"by"]}})
    text.insert_embed(2, {"img": [1, {"x": -77777777777}]})
    element = fragment.children.append(XmlElement("paragraph", {"level": 2, "widths": [[1, 2], [3]]}))
    element.children.append(XmlText("text"))
    element.children[0].format(0, 2, {"em": {}})
    del text[0:2]
    update = doc.get_update()
    nesting._Reader(update).update()  # the full walk, whatever the fast filter says


@pytest.mark.parametrize("where", ["attribute", "format"])
def test_a_value_nested_past_the_limit_is_refused(where):
    value = []
    for _ in range(nesting.MAX_DEPTH + 5):
        value = [value]
    doc = Doc()
    if where == "attribute":
        doc.get("default", type=XmlFragment).children.append(XmlElement("paragraph", {"x": value}))
    else:  # formatting attributes travel as JSON text
        text = doc.get("t", type=Text)
        text += "abc"
        text.format(0, 1, {"x": value})
    with pytest.raises(nesting.TooDeep):
        nesting.check(doc.get_update())
