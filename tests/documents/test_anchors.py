"""documents.anchors against the real Yjs (tests/clients/anchors.mjs, yjs 13.6 in Node): the server reads
relative positions made by Yjs as Yjs resolves them, and Yjs resolves the server's as the server meant,
on a document built the y-prosemirror way by two clients, after edits around, inside and over them."""

import base64
import json

import pytest
from pycrdt import Doc, XmlElement, XmlFragment, XmlText

from documents import anchors
from tests.support.node import node_runner


@pytest.fixture(scope="module")
def node():
    return node_runner()


@pytest.fixture(scope="module")
def made(node):
    result = node("anchors.mjs", "make")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def resolved_by_yjs(node, state: bytes, pairs) -> list[dict]:
    import subprocess

    from tests.support.node import CLIENTS

    payload = json.dumps({"update": base64.b64encode(state).decode(), "anchors": [{"start": s, "end": e} for s, e in pairs]})
    result = subprocess.run(["node", "anchors.mjs", "resolve"], cwd=CLIENTS, input=payload, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_server_reads_yjs_positions_as_yjs_does(made):
    state = base64.b64decode(made["update"])
    assert anchors.plain_text(state) == made["text"]
    found = anchors.resolve_many(state, [(p["start"], p["end"]) for p in made["pairs"]])
    assert [(f.quote, f.position) for f in found] == [(p["quote"], p["position"]) for p in made["pairs"]]
    # The cases the test means to cover are there: text typed inside, deleted entirely, a first character gone.
    quotes = [p["quote"] for p in made["pairs"]]
    assert "very brave 😀 new" in quotes and "wo and morerds" in quotes and "" in quotes and "itle" in quotes
    assert [f.on_deleted_text for f in found] == [p["position"] is None for p in made["pairs"]]


@pytest.mark.parametrize("quote, occurrence", [("brave", 1), ("hello", 1), ("ello", 2), ("😀 new", 1),
                                               ("again.\n\nAn", 1), ("e", 5), ("itle of it", 1)])
def test_yjs_reads_the_servers_positions_as_the_server_meant(node, made, quote, occurrence):
    state = base64.b64decode(made["update"])
    start, end, _ = anchors.make(state, quote, occurrence)
    text = made["text"]
    at = -1
    for _ in range(occurrence):
        at = text.find(quote, at + 1)
    assert resolved_by_yjs(node, state, [(start, end)]) == [{"quote": quote, "position": at}]
    assert anchors.resolve(state, start, end) == anchors.Resolved(quote, at, False)


def test_server_made_anchors_follow_edits_made_by_yjs(node):
    doc = Doc()
    fragment = doc.get("default", type=XmlFragment)
    fragment.children.append(XmlElement("paragraph", contents=[XmlText("one two three")]))
    state = doc.get_update()
    start, end, _ = anchors.make(state, "two", 1)
    text = fragment.children[0].children[0]
    text.insert(len("one tw"), "-o-")  # inside
    text.insert(len("one "), "and ")  # just before
    text.insert(len("one and two-o-"), "!")  # just after
    state = doc.get_update()
    assert resolved_by_yjs(node, state, [(start, end)]) == [{"quote": "tw-o-o", "position": len("one and ")}]
    assert anchors.resolve(state, start, end).quote == "tw-o-o"
    del text[len("one and "):len("one and tw-o-o")]
    state = doc.get_update()
    assert resolved_by_yjs(node, state, [(start, end)]) == [{"quote": "", "position": None}]
    assert anchors.resolve(state, start, end) == anchors.Resolved("", None, True)


def test_what_is_not_a_relative_position(made):
    state = base64.b64decode(made["update"])
    for value in ("", "!!", "AAA", base64.b64encode(bytes([9, 1, 1, 0])).decode(), "A" * 400,
                  base64.b64encode(bytes([0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F, 1, 0])).decode()):
        assert not anchors.is_valid(value), value
        assert anchors.resolve(state, value, value).on_deleted_text
    # Positions on items the document does not have (yet): on deleted text, never an error.
    unknown = anchors.encode(anchors.RelPos(kind=0, client=424242, clock=5))
    assert anchors.resolve(state, unknown, unknown) == anchors.Resolved("", None, True)
    with pytest.raises(anchors.QuoteNotFound):
        anchors.make(state, "not in it", 1)
