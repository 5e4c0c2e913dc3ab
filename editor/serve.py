"""Start Daphne with this project's options: `python -m editor.serve [--port N] [daphne options]`.

Daphne drops the TCP connection of a message over its own limit (the client
sees 1006, not a close code), so its limit is set well above
COLLAB_MAX_MESSAGE_SIZE: messages up to 4× that size get our clean 4009 close,
and Daphne's hard limit still bounds what an unauthenticated peer can send.
"""

import os
import sys

from daphne.cli import CommandLineInterface


def _quiet_autobahn() -> None:
    """Skip the formatting of autobahn's debug-log arguments.

    autobahn builds them (hltype, hlval, pformat) on every frame sent and every
    connect even though Daphne discards Twisted's log below verbosity 2: a few
    per cent of the server's CPU under load (py-spy, bench/). Those names are
    used only to format log lines.
    """
    from autobahn.websocket import protocol

    protocol.hltype = protocol.hlval = lambda *args, **kwargs: ""
    protocol.pformat = lambda *args, **kwargs: ""


def main(argv: list[str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "editor.settings")
    limit = int(os.environ.get("COLLAB_MAX_MESSAGE_SIZE", 1024 * 1024))
    host = os.environ.get("HOST", "127.0.0.1")
    port = os.environ.get("PORT", "8000")
    args = [
        "-b", host, "-p", port,
        # Dead or never-reading peers fail to answer pings and are dropped.
        "--ping-interval", os.environ.get("COLLAB_PING_INTERVAL", "20"),
        "--ping-timeout", os.environ.get("COLLAB_PING_TIMEOUT", "30"),
        "--websocket-max-message-size", str(4 * limit),
        "--websocket-max-frame-size", str(4 * limit),
        *argv,
        "editor.asgi:application",
    ]
    if "-v" not in argv and "--verbosity" not in argv:
        _quiet_autobahn()
    CommandLineInterface().run(args)


if __name__ == "__main__":
    main(sys.argv[1:])
