"""The e-mails a live server sent, read back from where its default backend puts them: the console
(Django's console backend prints each message, then a line of 79 dashes, into the server's log)."""

import email
import email.policy
import re

from tests.support.waits import wait_until

_SEPARATOR = "\n" + "-" * 79 + "\n"


def sent_mail(server) -> list[email.message.EmailMessage]:
    """Every message the server has printed so far, oldest first."""
    try:
        log = server.log_path.read_text(errors="replace")
    except FileNotFoundError:
        return []
    messages = []
    for chunk in log.split(_SEPARATOR)[:-1]:
        start = re.search(r"^Content-Type: ", chunk, re.MULTILINE)
        if start:
            messages.append(email.message_from_string(chunk[start.start():], policy=email.policy.default))
    return messages


async def wait_for_mail(server, to: str, subject: str = "", timeout: float = 15.0) -> email.message.EmailMessage:
    """The latest message to `to` whose subject contains `subject`, once the server has sent one."""

    def found():
        matching = [m for m in sent_mail(server) if to.lower() in str(m["To"]).lower() and subject in str(m["Subject"])]
        return matching[-1] if matching else None

    return await wait_until(found, timeout=timeout, what=f"an e-mail to {to} about {subject!r}")


def link_in(message, base_url: str) -> str:
    """The first link to `base_url` in the message's text."""
    body = message.get_body(("plain",)).get_content()
    return re.search(re.escape(base_url) + r"/\S+", body).group(0)
