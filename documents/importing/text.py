"""Plain text import: a paragraph per block of lines (blank lines separate them), a hard break per line end.

Nothing in plain text is markup: "# x" stays "# x". Tabs and spaces are kept
as they are; only the lines' ends are structure.
"""

from __future__ import annotations

import re

_BLANK_LINES = re.compile(r"\n[ \t]*\n(?:[ \t]*\n)*")


def parse_text(text: str) -> dict:
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip("\n")
    content = []
    for block in _BLANK_LINES.split(text) if text.strip() else []:
        inline: list[dict] = []
        for index, line in enumerate(block.split("\n")):
            if index:
                inline.append({"type": "hardBreak"})
            if line:
                inline.append({"type": "text", "text": line})
        content.append({"type": "paragraph", "content": inline})
    return {"type": "doc", "content": content}
