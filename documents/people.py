"""How a person is shown: display name, initials and a colour of their own.

The same values appear in the server-rendered pages (avatars in the list) and
in the editor's awareness state (carets, the online list), so they are
computed once, here (the API names authors with the same colours), and
handed to the browser.
"""

import hashlib
import re
from dataclasses import asdict, dataclass

# Distinct, readable with white text, and #RRGGBB: Tiptap's caret extension
# accepts only that form.
PALETTE = (
    "#E5484D", "#F76B15", "#D6409F", "#8E4EC6", "#6E56CF", "#3E63DD",
    "#0B7FD8", "#0797B9", "#12A594", "#30A46C", "#AD7F58", "#7C6E58",
)


@dataclass(frozen=True)
class Person:
    username: str  # the login name, unique
    name: str  # what others see: the full name, else the username
    initials: str  # one or two letters for an avatar
    color: str  # #RRGGBB, the same on every page and every visit

    def as_dict(self) -> dict:
        return asdict(self)


def initials_of(name: str) -> str:
    parts = [p for p in re.split(r"[\s._\-@]+", name) if p]
    if len(parts) >= 2:
        return (parts[0][0] + parts[1][0]).upper()
    return (parts[0][:2] if parts else "?").upper()


def color_of(username: str) -> str:
    # A stable hash (not hash(), which is salted per process).
    digest = hashlib.sha256(username.encode()).digest()
    return PALETTE[digest[0] % len(PALETTE)]


def person(user) -> Person:
    username = user.get_username()
    name = user.get_full_name().strip() or username
    return Person(username=username, name=name, initials=initials_of(name), color=color_of(username))
