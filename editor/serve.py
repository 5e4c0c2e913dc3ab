"""Start Daphne with this project's options: `python -m editor.serve [--port N] [daphne options]`.

Daphne drops the TCP connection of a message over its own limit (the client
sees 1006, not a close code), so its limit is set well above
COLLAB_MAX_MESSAGE_SIZE: messages up to 4× that size get our clean 4009 close,
and Daphne's hard limit still bounds what an unauthenticated peer can send.
"""

import ipaddress
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


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name or 0.0.0.0-like wildcard: others may reach it


def check_exposure(host: str) -> None:
    """Before listening where other machines can reach: say what a safe deployment needs; refuse a known key.

    A development key (editor/secret_key.py: published in this repository, or
    one Django calls insecure) would let anyone forge a session. A key
    generated for this installation is not one.
    """
    if _is_loopback(host):
        return
    from django.conf import settings

    from editor.secret_key import is_development_key

    def now(values):
        return ",".join(values) or "not set"

    secure = "on" if settings.SESSION_COOKIE_SECURE and settings.SECURE_SSL_REDIRECT else "off"
    print(
        f"Listening on {host}, which other machines can reach. A safe deployment needs:\n"
        "  - a reverse proxy with TLS in front (deploy/nginx.conf is an example) that sets X-Forwarded-Proto,\n"
        "    and SECURE_COOKIES=1 SECURE_SSL_REDIRECT=1 SECURE_HSTS_SECONDS=31536000 "
        f"(secure cookies and redirect now {secure})\n"
        f"  - ALLOWED_HOSTS: the host names people use (now {now(settings.ALLOWED_HOSTS)})\n"
        f"  - CSRF_TRUSTED_ORIGINS: https://<each of those names> (now {now(settings.CSRF_TRUSTED_ORIGINS)})\n"
        "  - SECRET_KEY unset (a key generated for this installation) or a long random value of your own",
        file=sys.stderr,
    )
    if settings.DEBUG:
        print("  WARNING: development mode (DEBUG) is on: Django's debug pages show code and settings "
              "to anyone who reaches this address.", file=sys.stderr)
    if is_development_key(settings.SECRET_KEY):
        sys.exit(
            f"Refusing to listen on {host} with a development SECRET_KEY (one published in this repository, "
            "or too short or simple to be secret): unset SECRET_KEY to use this installation's generated key, "
            "or set a long random one."
        )


def _bind_address(argv: list[str], default: str) -> str:
    """The address Daphne will listen on: the last -b/--bind option, else HOST."""
    host = default
    for flag, value in zip(argv, argv[1:]):
        if flag in ("-b", "--bind"):
            host = value
    return host


def main(argv: list[str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "editor.settings")
    limit = int(os.environ.get("COLLAB_MAX_MESSAGE_SIZE", 1024 * 1024))
    host = os.environ.get("HOST", "127.0.0.1")
    port = os.environ.get("PORT", "8000")
    check_exposure(_bind_address(argv, host))
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
