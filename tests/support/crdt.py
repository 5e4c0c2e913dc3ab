"""CRDT building blocks for tests: the shapes Tiptap writes into the shared `default` fragment,
and raw updates for tests that drive the engine below the socket."""

from pycrdt import Doc, Text, XmlElement, XmlText


def paragraph(text: str) -> XmlElement:
    """A Tiptap paragraph holding `text`, ready to append to a fragment."""
    return XmlElement("paragraph", contents=[XmlText(text)])


def text_update(text: str, doc: Doc | None = None) -> bytes:
    """The update that appends `text` to the Text "t" of `doc` (a new Doc by default)."""
    doc = doc or Doc()
    before = doc.get_state()
    doc["t"] = Text(text) if "t" not in doc else doc["t"]
    if str(doc["t"]) != text:
        doc["t"].insert(len(str(doc["t"])), text)
    return doc.get_update(before)
