"""A long editing history for the big-doc scenario.

The public trace the issue names (automerge-perf's LaTeX paper: 182,315
single-character inserts and 77,463 single-character deletes, 104,852
characters at the end) is not published on any package registry this machine
can reach, so by default the scenario replays a *synthetic* trace with the
same shape, made from a fixed seed: typing runs at a cursor, backspace runs,
forward deletes, and cursor jumps, with exactly those insert and delete
counts. `--trace FILE` replays a real trace instead, in the josephg
editing-traces format (`{"txns": [{"patches": [[pos, del, ins], ...]}]}`,
optionally gzipped), e.g. automerge-paper.json.gz.
"""

import gzip
import json
import random
from collections.abc import Iterator

from pycrdt import Doc, XmlElement, XmlFragment, XmlText

PAPER_INSERTS = 182_315
PAPER_DELETES = 77_463
WORDS = ("the of a to and in is that we for this each with as by on operation replica list "
         "insert delete element tree cursor register map value state network message order "
         "\\begin{itemize} \\item \\end{itemize} \\section{ } $x$ \\emph{ concurrent clock").split()


def synthetic(seed: int = 2017, inserts: int = PAPER_INSERTS, deletes: int = PAPER_DELETES
              ) -> Iterator[tuple[int, int, str]]:
    """(position, deleted count, inserted text) patches, one character each, like the paper trace."""
    rng = random.Random(seed)
    length = cursor = 0
    ins_left, del_left = inserts, deletes
    pending_text = ""
    while ins_left or del_left:
        # Deletes are due at the rate that keeps both quotas finishing together.
        want_delete = del_left and length > 0 and rng.random() < del_left / (ins_left + del_left) * 1.0
        if rng.random() < 0.12:
            # Jump elsewhere (mostly near the end, as one writes a paper).
            cursor = length - int(abs(rng.gauss(0, length * 0.25))) if length else 0
            cursor = min(max(cursor, 0), length)
        if want_delete:
            run = min(del_left, max(1, int(rng.expovariate(1 / 3.5))))
            backspace = rng.random() < 0.8
            for _ in range(run):
                if length == 0:
                    break
                if backspace:
                    if cursor == 0:
                        break
                    cursor -= 1
                elif cursor >= length:
                    break
                yield cursor, 1, ""
                length -= 1
                del_left -= 1
        else:
            run = min(ins_left, max(1, int(rng.expovariate(1 / 9.0))))
            for _ in range(run):
                if not pending_text:
                    pending_text = rng.choice(WORDS) + (" " if rng.random() < 0.93 else "\n")
                ch, pending_text = pending_text[0], pending_text[1:]
                yield cursor, 0, ch
                cursor += 1
                length += 1
                ins_left -= 1


def from_file(path: str) -> Iterator[tuple[int, int, str]]:
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        data = json.load(f)
    for txn in data["txns"]:
        for pos, deleted, inserted in txn["patches"]:
            yield pos, deleted, inserted


def coalesce(patches) -> Iterator[tuple[int, int, str]]:
    """Merge runs (typing forward, backspacing, deleting forward) into one patch each.

    Yjs stores a run typed by one client as one item and a run of deletes as
    one delete-set range anyway, so the document is the same; replaying runs
    instead of keystrokes takes seconds instead of minutes.
    """
    pos = deleted = None
    inserted = ""
    for p, d, i in patches:
        if pos is not None:
            if not d and not deleted and i and p == pos + len(inserted):
                inserted += i
                continue
            if d and not i and not inserted and p + d == pos:  # backspace
                pos, deleted = p, deleted + d
                continue
            if d and not i and not inserted and p == pos:  # forward delete
                deleted += d
                continue
            yield pos, deleted, inserted
        pos, deleted, inserted = p, d, i
    if pos is not None:
        yield pos, deleted, inserted


def build_document(patches, client_id: int = 7) -> tuple[bytes, int, int]:
    """Replay patches into `default` > paragraph > text; returns (update, operations, final length)."""
    doc = Doc(client_id=client_id)
    fragment = doc.get("default", type=XmlFragment)
    with doc.transaction():
        paragraph = fragment.children.append(XmlElement("paragraph", contents=[XmlText()]))
    text = paragraph.children[0]
    ops = 0
    for pos, deleted, inserted in coalesce(patches):
        with doc.transaction():
            if deleted:
                del text[pos : pos + deleted]
            if inserted:
                text.insert(pos, inserted)
        ops += deleted + len(inserted)
    return doc.get_update(), ops, len(text)
