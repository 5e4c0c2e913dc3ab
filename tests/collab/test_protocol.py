"""The y-websocket codec: round trips with pycrdt's own encoders, and clear errors."""

import pytest
from pycrdt import Awareness, Doc, Text, create_sync_message, create_update_message

from collab import protocol


def test_decodes_pycrdt_sync_step1():
    doc = Doc()
    doc["t"] = Text("hello")
    message = protocol.decode(create_sync_message(doc))
    assert message == protocol.SyncStep1(doc.get_state()), "step 1 should carry the state vector"


def test_decodes_update_and_round_trips():
    doc = Doc()
    doc["t"] = Text("hello")
    update = doc.get_update()
    assert protocol.decode(create_update_message(update)) == protocol.Update(update)
    for message in (protocol.SyncStep1(b"\x00"), protocol.SyncStep2(update), protocol.Update(update)):
        assert protocol.decode(protocol.encode(message)) == message, f"{message} should survive a round trip"


def test_awareness_round_trip():
    awareness = Awareness(Doc())
    awareness.set_local_state({"user": {"name": "ada"}})
    payload = awareness.encode_awareness_update([awareness.client_id])
    message = protocol.decode(protocol.encode_awareness(payload))
    assert isinstance(message, protocol.AwarenessUpdate) and message.payload == payload
    entries = message.entries
    assert entries[0][0] == awareness.client_id and '"ada"' in entries[0][2]


def test_query_awareness():
    assert protocol.decode(bytes([3])) == protocol.QueryAwareness()


@pytest.mark.parametrize(
    "frame, expected",
    [
        (b"", "truncated varuint"),
        (b"\x80", "truncated varuint"),
        (b"\x07", "expected message type"),
        (b"\x00\x09\x00", "expected a sync type"),
        (b"\x00\x02\x05ab", "declared length 5 exceeds"),
        (b"\x00\x02\xff\xff\xff\xff\x0f", "exceeds"),
        (b"\x00\x02\x01a\x00", "unexpected bytes"),
        (b"\x01\x04\x01\x01\x00\x01", "exceeds"),
        (b"\x01\x06\x01\x01\x00\x02{x", "not JSON"),
        (b"\x01\x06\x01\x01\x00\x02[]", "not a JSON object"),
        (b"\x00\x00" + b"\xff" * 11, "longer than 64 bits"),
    ],
)
def test_malformed_frames_raise_protocol_error(frame, expected):
    with pytest.raises(protocol.ProtocolError, match=expected):
        protocol.decode(frame)


def test_state_vector_decoding():
    doc = Doc()
    doc["t"] = Text("abc")
    assert protocol.decode_state_vector(doc.get_state()) == {doc.client_id: 3}
