"""Smoke tests of the load generator: it measures what it claims. No timings asserted."""

import asyncio
import itertools
import time

import pytest
from pycrdt import Doc, Map, XmlElement, XmlFragment, XmlText, merge_updates

from bench import setup, trace, wire
from bench.clients import Editor, IdleClient, Recorder
from bench.runner import latency_stats, storm_result


def _ranges_by_client(ranges):
    covered = {}
    for client, start, end in ranges:
        covered.setdefault(client, []).append((start, end))
    return {c: sorted(r) for c, r in covered.items()}


def _typed_doc(client_id, seed_update=None, chars=20):
    doc = Doc(client_id=client_id)
    fragment = doc.get("default", type=XmlFragment)
    if seed_update:
        doc.apply_update(seed_update)
    else:
        with doc.transaction():
            fragment.children.append(XmlElement("paragraph", {"level": 1}, contents=[XmlText()]))
    updates = []
    text = fragment.children[0].children[0]
    for i in range(chars):
        before = doc.get_state()
        with doc.transaction():
            text.insert(i % (len(text) + 1), "aé😀"[i % 3])
        clocks = wire.decode_state_vector(before).get(client_id, 0), wire.decode_state_vector(doc.get_state())[client_id]
        updates.append((doc.get_update(before), clocks))
    return doc, updates


def test_update_ranges_match_state_vector_of_full_and_merged_updates():
    doc_a, updates_a = _typed_doc(101)
    doc_b, updates_b = _typed_doc(202, seed_update=doc_a.get_update())
    with doc_b.transaction():
        del doc_b.get("default", type=XmlFragment).children[0].children[0][2:5]
        doc_b.get("meta", type=Map)["k"] = [1, "x", {"y": None, "z": 2.5}, True]
    doc_a.apply_update(doc_b.get_update())
    full = doc_a.get_update()
    sv = wire.decode_state_vector(doc_a.get_state())
    covered = _ranges_by_client(wire.update_ranges(full))
    assert covered == {c: [(0, n)] for c, n in sv.items()}, f"full update should cover the state vector {sv}"
    # One keystroke is one clock of its author.
    # A keystroke is one clock of its author, two for a character outside the BMP (UTF-16).
    for i, (update, (start, end)) in enumerate(updates_a):
        assert end - start == (2 if i % 3 == 2 else 1), "clocks of one character"
        assert wire.update_ranges(update) == [(101, start, end)], f"keystroke {i} should be clocks {start}..{end}"
    merged = merge_updates(*(u for u, _ in updates_a[5:9]))
    first, last = updates_a[5][1][0], updates_a[8][1][1]
    assert _ranges_by_client(wire.update_ranges(merged)) == {101: [(first, last)]}, "merged keystrokes 5..8"


def test_update_ranges_gives_up_on_garbage():
    assert wire.update_ranges(b"\x01\x01\x05\x00\x1f") is None, "an unknown content ref is not guessed"


def test_coalesced_trace_replays_to_the_same_text():
    patches = list(itertools.islice(trace.synthetic(seed=3, inserts=3000, deletes=1200), 100_000))
    assert sum(1 for p in patches if p[2]) == 3000 and sum(p[1] for p in patches) == 1200, "exact op counts"
    text = []
    for pos, deleted, inserted in patches:
        text[pos : pos + deleted] = list(inserted)
    update, ops, length = trace.build_document(iter(patches))
    doc = Doc()
    fragment = doc.get("default", type=XmlFragment)
    doc.apply_update(update)
    assert str(fragment.children[0].children[0]) == "".join(text), "coalescing runs must not change the text"
    assert (ops, length) == (4200, 1800), "operations replayed and final length"


def test_latency_join_attributes_each_receipt_to_its_send(tmp_path):
    import pickle
    from array import array

    path = tmp_path / "w.pickle"
    sends = {0: array("q", [1000, 2000, 3000]), 1: array("q", [1500])}
    receipts = array("q", [0, 0, 2, 2500, 0, 2, 3, 3100, 1, 0, 1, 1600])
    with open(path, "wb") as f:
        pickle.dump({"sends": sends, "receipts": receipts}, f)
    stats = latency_stats([path])
    assert stats["deliveries"] == 4, "one latency per (edit, receiver)"
    assert (stats["max_ms"], stats["mean_ms"]) == (1.5, 0.55), f"latencies 1.5, 0.5, 0.1, 0.1 ms: {stats}"
    first = stats["first_edit_ms"]
    assert (first["deliveries"], first["max"]) == (2, 1.5), (
        f"first edits: author 0's clock 0 (1.5 ms) and author 1's (0.1 ms), not later clocks: {first}")


def _frames_to(client, *frames):
    class WS:
        def send(self, frame):
            pass

    client.ws = WS()
    for frame in frames:
        client.on_frame(frame)


def test_storm_client_is_synced_only_by_a_state_that_holds_the_document():
    seed = setup.seed_state_vector()
    seeded = Doc()
    seeded.apply_update(setup._seed_update(None))
    empty_step2 = wire.step2_frame(Doc().get_update())

    async def scenario():
        plain = IdleClient("/doc")  # idle: any sync step 2 will do
        _frames_to(plain, empty_step2)
        storm = IdleClient("/doc", expect=seed)
        _frames_to(storm, wire.step1_frame(b"\x00"), empty_step2)
        short = (storm.synced.is_set(), storm.short_states)
        _frames_to(storm, wire.step2_frame(seeded.get_update()))
        return plain, short, storm

    plain, short, storm = asyncio.run(scenario())
    assert plain.synced.is_set() and plain.synced_at is not None, "without expect, a step 2 syncs"
    assert short == (False, 1), "a step 2 without the seeded content does not sync a storm client"
    assert storm.synced.is_set() and storm.synced_at is not None, "the step 2 holding the seed syncs it"


def test_storm_lasts_until_the_last_client_is_synced():
    done = storm_result([0.2, 0.05, 1.5, 0.1], requested=4)
    assert (done["all_synced"], done["storm_s"], done["sync_ms"]["max"]) == (True, 1.5, 1500.0), done
    missing = storm_result([0.2, 0.05, 0.1], requested=4)
    assert (missing["all_synced"], missing["storm_s"], missing["synced"]) == (False, None, 3), (
        f"a client never synced: the storm never ended: {missing}")


class _Loopback:
    """Stands in for the socket: what one editor sends, the others parse."""

    def __init__(self):
        self.editors = []

    def attach(self, editor):
        self.editors.append(editor)
        relay = self

        class WS:
            bytes_in = 0

            def send(self, frame):
                for other in relay.editors:
                    if other is not editor:
                        other.on_frame(frame)

        editor.ws = WS()


def test_editors_record_every_delivery_and_converge():
    async def scenario():
        seed = Doc(client_id=1)
        with seed.transaction():
            seed.get("default", type=XmlFragment).children.append(XmlElement("paragraph", contents=[XmlText()]))
        recorder = Recorder(time.monotonic_ns(), {1000 + i: i for i in range(3)})
        relay = _Loopback()
        editors = [Editor(i, 1000 + i, "/doc", recorder, seed=i) for i in range(3)]
        for editor in editors:
            editor.doc.apply_update(seed.get_update())
            relay.attach(editor)
        for _ in range(10):
            for editor in editors:
                editor.type_one()
        return recorder, editors

    recorder, editors = asyncio.run(scenario())
    texts = {e.final_state()[0] for e in editors}
    assert len(texts) == 1, f"editors diverged: {texts}"
    assert all(e.caught_up({0: 10, 1: 10, 2: 10}) for e in editors), "every editor saw every clock"
    delivered = sum(recorder.receipts[i + 2] - recorder.receipts[i + 1] for i in range(0, len(recorder.receipts), 4))
    assert delivered == 30 * 2, "each of 30 keystrokes reaches the 2 other editors once"
    assert recorder.fallbacks == 0, "every update's ranges were read from its struct headers"


@pytest.mark.slow
def test_typing_scenario_against_our_server(tmp_path):
    from bench.runner import Options, Runner

    runner = Runner(Options(duration=1.5, server_cpus=[], generator_cpus=[]))
    result = runner.typing("ours", 1, 3, 5)
    assert result["converged"], f"editors and a fresh client must agree: {result}"
    assert result["all_delivered"], f"every edit reaches every other editor: {result}"
    assert result["deliveries"] == result["deliveries_expected"] > 0, result


@pytest.mark.slow
def test_cold_typing_and_storm_against_our_server():
    from bench.runner import Options, Runner

    runner = Runner(Options(duration=1.5, server_cpus=[], generator_cpus=[], storm_clients=12, storm_documents=3))
    cold = runner.typing("ours", 2, 3, 5, cold=True)
    assert cold["cold_start"] and cold["converged"] and cold["all_delivered"], cold
    assert cold["edits_sent"] == cold["edits_planned"], f"every editor types its whole schedule once synced: {cold}"
    assert cold["first_edit_latency_ms"]["deliveries"] == 2 * 3 * 2, "each editor's first edit reaches 2 others"
    storm = runner.storm("ours")
    assert storm["all_synced"] and storm["synced"] == 12 and storm["short_states"] == 0, storm
