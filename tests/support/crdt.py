"""CRDT building blocks for tests: the shapes Tiptap writes into the shared `default` fragment."""

from pycrdt import XmlElement, XmlText


def paragraph(text: str) -> XmlElement:
    """A Tiptap paragraph holding `text`, ready to append to a fragment."""
    return XmlElement("paragraph", contents=[XmlText(text)])
