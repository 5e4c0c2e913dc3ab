"""The registry follows an actor that stops under a request, but only so many times."""

import logging
import uuid

import pytest
from pycrdt import Doc, Text

from collab import codes, registry as registry_module
from collab.actor import DocumentActor
from collab.config import CollabConfig
from collab.messages import ApplyUpdate, Flush, GetState, Unavailable
from collab.registry import ATTEMPTS, Registry
from collab.store import MemoryStore

CONFIG = CollabConfig(flush_delay=0.01, flush_max_wait=0.05, snapshot_interval=60, idle_timeout=30)


class Subscriber:
    def __init__(self):
        self.sid = uuid.uuid4().hex
        self.username = "ann"
        self.can_write = True

    def send(self, frame):
        pass

    def close(self, code, reason=""):
        pass


@pytest.fixture
def stopping_actors(monkeypatch):
    """Make the next `count` actors stop just before they handle their first request."""
    left = {"count": 0}

    class StoppingActor(DocumentActor):
        async def ask(self, message):
            if left["count"] > 0:
                left["count"] -= 1
                self.abandon(codes.INTERNAL_ERROR, "test: stopping under a request")
            return await super().ask(message)

    monkeypatch.setattr(registry_module, "DocumentActor", StoppingActor)

    def set_count(count):
        left["count"] = count
    return set_count


@pytest.fixture
def store_with_document():
    document_id = uuid.uuid4()
    return MemoryStore([document_id]), document_id


async def test_a_request_follows_an_actor_that_stops_once(stopping_actors, store_with_document):
    store, document_id = store_with_document
    registry = Registry(store, CONFIG)
    doc = Doc()
    doc["t"] = Text("hello")
    await registry.ask(document_id, ApplyUpdate(update=doc.get_update()))
    await registry.ask(document_id, Flush())
    first = registry.get_running(document_id)
    stopping_actors(1)
    state, _ = await registry.ask(document_id, GetState())
    assert registry.get_running(document_id) is not first, "answered by a successor"
    answer = Doc()
    answer.apply_update(state)
    assert str(answer.get("t", type=Text)) == "hello"
    await registry.stop_all()


async def test_a_request_gives_up_when_actors_keep_stopping(stopping_actors, store_with_document, caplog):
    store, document_id = store_with_document
    registry = Registry(store, CONFIG)
    stopping_actors(1000)
    caplog.set_level(logging.WARNING, logger="collab.registry")
    with pytest.raises(Unavailable, match=str(document_id)):
        await registry.ask(document_id, GetState())
    assert len([r for r in caplog.records if "giving up" in r.getMessage()]) == 1, "logged once, not per retry"
    await registry.stop_all()


async def test_a_join_gives_up_when_actors_keep_stopping(stopping_actors, store_with_document):
    store, document_id = store_with_document
    registry = Registry(store, CONFIG)
    stopping_actors(1000)
    with pytest.raises(Unavailable):
        await registry.join(document_id, Subscriber())
    await registry.stop_all()


async def test_a_join_follows_an_actor_that_stops_fewer_times_than_the_bound(stopping_actors, store_with_document):
    store, document_id = store_with_document
    registry = Registry(store, CONFIG)
    stopping_actors(ATTEMPTS - 1)
    actor = await registry.join(document_id, Subscriber())
    assert actor.subscriber_count == 1
    await registry.stop_all()


async def test_a_process_shutting_down_starts_no_actor_and_stops_those_it_had(store_with_document):
    # A socket that reaches a process during its shutdown must not take the document's
    # just-released lease into a process about to exit: it is told to try again (elsewhere).
    store, document_id = store_with_document
    registry = Registry(store, CONFIG)
    first = await registry.join(document_id, Subscriber())
    await registry.stop_all()
    assert registry.actors() == [] and first.state.value == "stopped"
    with pytest.raises(Unavailable, match="shutting down"):
        await registry.join(document_id, Subscriber())
    assert registry.actors() == []
