"""The tracked sources carry no leftover merge-conflict markers.

A stray `=======` line in a stylesheet made the browser drop the next rule (the search
box's) without any error anywhere; git leaves such lines only where a merge was resolved
by hand, so they are looked for in every tracked text file.
"""

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MARKER = re.compile(r"^(<{7}|={7}|>{7})( |$)", re.M)
TEXT = (".py", ".js", ".mjs", ".css", ".html", ".md", ".txt", ".toml", ".yml", ".yaml", ".json", ".conf", ".sh")


def test_no_merge_conflict_markers_are_left_in_the_sources():
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    found = [
        f"{name}:{text.count(chr(10), 0, hit.start()) + 1}"
        for name in tracked if name.endswith(TEXT) and (ROOT / name).is_file()
        for text in [(ROOT / name).read_text(errors="replace")]
        for hit in MARKER.finditer(text)
    ]
    assert not found, f"merge-conflict markers left in: {found}"
