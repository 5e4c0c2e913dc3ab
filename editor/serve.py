"""Start Daphne with this project's options: `python -m editor.serve [--port N] [daphne options]`.

Small patches to Daphne 4.2 / autobahn: Daphne's periodic sweeps over all
connections made proportional to what is due (CollabServer, below), HTTP
reason phrases and request bodies left to Django (`_reason_phrases`,
`_raw_request_bodies`), and three in one WebSocket protocol subclass
(CollabWebSocketProtocol) that Daphne's factory builds:

- Close reasons reach the client. Daphne's `handle_reply` calls
  `serverClose(code)` and drops the ASGI message's "reason", so every close
  reached clients with an empty reason.
- A message over Daphne's own size limit is refused with our final 4413 and
  a reason. autobahn drops the TCP connection (the client sees 1006, or 1009
  with failByDrop off), which y-websocket's provider treats as transient: it
  would resend the same message forever.
- Flow control. Daphne puts every frame it reads into an unbounded queue and
  keeps reading; our consumer slows a fast sender down (its rate limit waits,
  a full mailbox waits), so a flooding client would grow that queue without
  limit. Past INBOX_BYTES or INBOX_FRAMES waiting, the socket is not read
  until the application has taken half of it: TCP backpressure slows the
  sender and nothing is dropped.

A listen backlog of LISTEN_BACKLOG, not Twisted's 50. A reconnect storm
(thousands of clients after a restart or failover) overflows 50 pending
connections at once; the kernel drops the excess SYNs and those clients
retry only after a second or more (TCP's initial retransmission timeout),
so the storm lasted many times longer than the server needed. The kernel
caps the value at net.core.somaxconn.

And leaner open sockets: once open, a socket drops what only its handshake
needed (raw request, parsed headers, response) and autobahn's send queue is
a list, not a deque (bench/results/idle-connection-anatomy.md).

Daphne's message limit is 2 × COLLAB_MAX_DOCUMENT_SIZE: a client's sync
step 2 carrying a whole document fits with room to spare, the consumer
refuses anything over the document size itself with 4413 and a plain reason,
and the hard limit still bounds what an unauthenticated peer can make the
server buffer.
"""

import asyncio
import collections
import inspect
import ipaddress
import logging
import os
import resource
import sys
import threading
import time

from daphne.cli import CommandLineInterface
from daphne.server import Server
from daphne.ws_protocol import WebSocketFactory, WebSocketProtocol
from twisted.internet import reactor

logger = logging.getLogger("daphne.server")  # CollabServer logs as the Server it stands for

# collab.codes.TOO_LARGE; not imported so that this module does not set Django up.
TOO_LARGE = 4413
# Unread frames per socket before Daphne stops reading it (see _Inbox).
INBOX_BYTES = 1024 * 1024
INBOX_FRAMES = 256
# Pending connections the kernel queues before accept() (Node's default is 511).
LISTEN_BACKLOG = 1024


def _frame_size(message: dict) -> int:
    return len(message.get("bytes") or message.get("text") or b"")


# Shared by every socket's _Inbox: an unbounded queue never has a putter waiting (put_nowait never
# blocks; nobody calls put), and nobody joins it (its Event is only set and cleared).
_NO_PUTTERS: collections.deque = collections.deque(maxlen=0)
_NEVER_JOINED = asyncio.Event()


class _Inbox(asyncio.Queue):
    """Daphne's per-socket application queue, bounded by pausing the socket's reads."""

    protocol: "CollabWebSocketProtocol"
    queued_bytes = 0

    def _put(self, message):
        super()._put(message)
        self.queued_bytes += _frame_size(message)
        if self.queued_bytes > INBOX_BYTES or self.qsize() > INBOX_FRAMES:
            self.protocol.pause_reading()

    def _get(self):
        message = super()._get()
        self.queued_bytes -= _frame_size(message)
        if self.queued_bytes <= INBOX_BYTES // 2 and self.qsize() <= INBOX_FRAMES // 2:
            self.protocol.resume_reading()
        return message


class _SendQueue(list):
    """autobahn's send queue (chopped and synchronous writes, which Daphne never asks for) as a list.

    autobahn makes a deque per socket (760 bytes, empty); it only appends,
    takes its length and pops from the left, which a list does in 56 bytes.
    """

    __slots__ = ()

    def popleft(self):
        return self.pop(0)


class _Request:
    """What Daphne reads of the handshake request once the socket is open: its path, for its action log."""

    __slots__ = ("path",)

    def __init__(self, path):
        self.path = path


class CollabWebSocketProtocol(WebSocketProtocol):
    reading_paused = False

    _options_from = None  # the factory whose options this class holds

    def _connectionMade(self):
        # autobahn copies its ~30 options from the factory onto every protocol, unless the
        # protocol already has them: holding them once on the class halves each socket's
        # __dict__ (3.3 KB to 1.6 KB). Daphne has one factory and sets its options before
        # it listens.
        cls = type(self)
        if cls._options_from is not self.factory:
            for name in self.CONFIG_ATTRS:
                value = getattr(self.factory, name)
                # A function option (perMessageCompressionAccept) must not become a method.
                setattr(cls, name, staticmethod(value) if inspect.isfunction(value) else value)
            cls._options_from = self.factory
        super()._connectionMade()
        self.send_queue = _SendQueue()

    def onOpen(self):
        super().onOpen()
        # An open socket lives for hours: let go of what only its handshake needed (the
        # request's raw bytes and parsed headers, our response). The application's scope has
        # the headers it needs.
        self.request = _Request(self.request.path)
        self.http_headers, self.http_request_params = {}, {}
        self.http_request_data = b""
        self.http_response_data = self.http_status_line = self._wskey = ""
        self.clean_headers = ()

    def applicationCreateWorked(self, application_queue):
        # Daphne made a plain asyncio.Queue and bound its `get` as the application's
        # `receive`; giving that same queue our class adds the accounting in place.
        application_queue.__class__ = _Inbox
        application_queue.protocol = self
        # Nothing ever waits to put into this unbounded queue or joins it: its own waiter
        # deque and Event (~1.3 KB per socket) are replaced by ones shared by every socket.
        application_queue._putters = _NO_PUTTERS
        application_queue._finished = _NEVER_JOINED
        super().applicationCreateWorked(application_queue)

    def pause_reading(self) -> None:
        if not self.reading_paused and self.transport is not None:
            self.reading_paused = True
            self.transport.pauseProducing()

    def resume_reading(self) -> None:
        if self.reading_paused and self.transport is not None:
            self.reading_paused = False
            self.transport.resumeProducing()

    def handle_reply(self, message):
        # Daphne's own handler drops message["reason"]; autobahn's sendClose checks the
        # code and truncates the reason to the 123 bytes a close frame can carry.
        if message.get("type") == "websocket.close" and self.state != self.STATE_CONNECTING:
            return self.sendClose(code=message.get("code") or 1000, reason=message.get("reason") or None)
        return super().handle_reply(message)

    def _max_message_size_exceeded(self, size, limit, reason):
        # autobahn's hook for a message or frame over maxMessagePayloadSize: answer with
        # a close frame carrying our final code, not a dropped connection or 1009.
        self.failByDrop = False
        self._fail_connection(TOO_LARGE, f"message over the size limit of {limit} bytes")


WebSocketFactory.protocol = CollabWebSocketProtocol


def with_backlog(endpoints: list[str], backlog: int = LISTEN_BACKLOG) -> list[str]:
    """Twisted endpoint strings with a listen backlog (tcp, unix) unless one is given already."""
    return [e + f":backlog={backlog}" if e.split(":", 1)[0] in ("tcp", "tcp6", "unix") and ":backlog=" not in e
            else e for e in endpoints]


def _listen_backlog() -> None:
    """Daphne's -b/-p/-u options build Twisted endpoint strings without a backlog: add ours."""
    from daphne import cli

    build = cli.build_endpoint_description_strings
    cli.build_endpoint_description_strings = lambda *args, **kwargs: with_backlog(build(*args, **kwargs))


class CollabServer(Server):
    """Daphne's Server, with its two periodic sweeps costing what is due rather than every connection.

    Daphne walks every connection once a second (application_checker: reap
    finished application instances, cancel those that outlive their socket
    by application_close_timeout) and every 2 s (timeout_checker: timeouts
    and keep-alive pings). With thousands of idle sockets that was CPU spent
    while nothing happened (bench/results/idle-connection-anatomy.md). Same
    rules, same granularity, less work:

    - the first sweep looks only at connections that disconnected or whose
      application finished (told by a done-callback), and keeps looking at a
      disconnected one each second until its application is gone;
    - the second keeps each WebSocket in a wheel of 2-second slots, at the
      slot where its next timeout or ping falls due (recomputed when it gets
      there: a message received meanwhile moves the ping back). A dead peer
      is pinged after PING_INTERVAL s of silence and dropped by autobahn after
      PING_TIMEOUT more, as before. HTTP requests are checked every tick.
    """

    TICK = 2

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._attention: set = set()  # protocols the next application sweep must look at
        self._wheel: dict[int, set] = collections.defaultdict(set)  # slot -> protocols to check then
        self._ports: list = []

    # --- shutdown (SIGTERM) ----------------------------------------------------------------
    # Daphne cancels every application at once when the reactor begins to stop: open sockets were
    # then left to the engine's shutdown, and new connections still accepted until the process
    # exited, only to be told to try again. Here, in order: readiness fails and the listening port
    # closes (a proxy sends new connections to the other processes: nginx's proxy_next_upstream on
    # the refused connect); the engine saves each open document, releases its lease and only then
    # closes its sockets with 4013 (collab.registry.Registry.stop_all), so their reconnects find
    # the documents free elsewhere; requests and sockets still open after DRAIN_TIMEOUT are cancelled.

    DRAIN_TIMEOUT = 15.0

    def run(self):
        reactor.addSystemEventTrigger("before", "shutdown", self.begin_shutdown)
        super().run()

    def listen_success(self, port):
        super().listen_success(port)
        self._ports.append(port)

    def begin_shutdown(self):
        from twisted.internet import defer

        from editor import lifecycle

        lifecycle.stopping.set()
        return defer.DeferredList([defer.maybeDeferred(port.stopListening) for port in self._ports])

    def kill_all_applications(self):
        from twisted.internet import defer

        return defer.Deferred.fromFuture(asyncio.ensure_future(self._drain_applications()))

    async def _drain_applications(self) -> None:
        running = [d["application_instance"] for d in self.connections.values()
                   if d.get("application_instance") is not None and not d["application_instance"].done()]
        if running:
            await asyncio.wait(running, timeout=self.DRAIN_TIMEOUT)
        left = [instance for instance in running if not instance.done()]
        for instance in left:
            instance.cancel()
        if left:
            paths = sorted({str(getattr(getattr(p, "request", None), "path", None) or type(p).__name__)
                            for p, d in self.connections.items() if d.get("application_instance") in left})
            logger.warning("Cancelled %i application instances still running %g s after SIGTERM: %s",
                           len(left), self.DRAIN_TIMEOUT, ", ".join(paths[:5]))
        await asyncio.gather(*left, return_exceptions=True)

    def protocol_connected(self, protocol):
        super().protocol_connected(protocol)
        self._check_at(protocol, time.time())

    def protocol_disconnected(self, protocol):
        super().protocol_disconnected(protocol)
        self._attention.add(protocol)

    def create_application(self, protocol, scope):
        queue = super().create_application(protocol, scope)
        instance = self.connections.get(protocol, {}).get("application_instance")
        if instance is not None:
            instance.add_done_callback(lambda _, protocol=protocol: self._attention.add(protocol))
        return queue

    def application_checker(self):
        attention, self._attention = self._attention, set()
        now = time.time()
        for protocol in attention:
            details = self.connections.get(protocol)
            if details is None:
                continue
            disconnected = details.get("disconnected")
            instance = details.get("application_instance")
            if disconnected and now - disconnected > self.application_close_timeout and instance is not None \
                    and not instance.done():
                logger.warning("Application instance %r for connection %s took too long to shut down and was "
                               "killed.", instance, repr(protocol))
                instance.cancel()
            if instance is not None and instance.done():
                self._reap(protocol, instance, disconnected)
                del details["application_instance"]
                instance = None
            if disconnected and instance is None:
                del self.connections[protocol]
                self._wheel.get(getattr(protocol, "_timeout_slot", None), set()).discard(protocol)
                _unlink_upgraded(protocol)
            elif disconnected:
                self._attention.add(protocol)  # its application is still closing
        reactor.callLater(1, self.application_checker)

    def _reap(self, protocol, instance, disconnected) -> None:
        """What Daphne does with a finished application instance: log its failure, fail its socket."""
        if instance.cancelled():
            return
        exception = instance.exception()
        if exception is None:
            return
        if isinstance(exception, KeyboardInterrupt):
            self.stop()  # the application asks the server to exit (tests)
            return
        logger.error("Exception inside application: %s", exception, exc_info=exception)
        if not disconnected:
            protocol.handle_exception(exception)

    def timeout_checker(self):
        now = time.time()
        current = int(now // self.TICK)
        for slot in sorted(s for s in self._wheel if s <= current):
            for protocol in self._wheel.pop(slot):
                if protocol in self.connections:
                    protocol.check_timeouts()
                    self._check_at(protocol, now)
        reactor.callLater(self.TICK, self.timeout_checker)

    def _check_at(self, protocol, now: float) -> None:
        """Put the protocol in the wheel at the slot after its next deadline (the next tick at the earliest)."""
        due = now
        if isinstance(protocol, WebSocketProtocol) and hasattr(protocol, "socket_opened"):  # not before onConnect
            limit = protocol.socket_opened + self.websocket_timeout if self.websocket_timeout >= 0 else float("inf")
            if protocol.state == protocol.STATE_OPEN:
                due = min(protocol.last_ping + self.ping_interval, limit)
            elif protocol.state == protocol.STATE_CONNECTING:
                due = min(protocol.socket_opened + self.websocket_connect_timeout, limit)
        slot = max(int(due // self.TICK) + 1, int(now // self.TICK) + 1)
        protocol._timeout_slot = slot
        self._wheel[slot].add(protocol)


def _unlink_upgraded(request) -> None:
    """Free the HTTP request and channel a WebSocket was upgraded from, now rather than at a full GC.

    The channel lists the request and the request points back at the
    channel: a cycle nothing else reaches once the socket belongs to the
    WebSocket protocol. It has lived through Daphne's sweep (a second), so
    the cyclic GC has moved it to its oldest generation, collected only when
    that has grown by a quarter: meanwhile each open socket kept ~3 KB of
    garbage. Breaking the cycle frees it by reference counting.
    """
    channel = getattr(request, "channel", None)
    if getattr(request, "transport", True) is None and channel is not None and isinstance(
            getattr(getattr(channel, "transport", None), "protocol", None), WebSocketProtocol):
        channel.requests = []


class CollabCommandLine(CommandLineInterface):
    server_class = CollabServer


def _quiet_autobahn() -> None:
    """Skip the formatting of autobahn's debug-log arguments.

    autobahn builds them (hltype, hlval, pformat) on every frame sent and every
    connect even though Daphne discards Twisted's log below verbosity 2: a few
    per cent of the server's CPU under load (py-spy, bench/). Those names are
    used only to format log lines.
    """
    from autobahn.twisted import websocket
    from autobahn.websocket import protocol

    protocol.hltype = protocol.hlval = lambda *args, **kwargs: ""
    protocol.pformat = lambda *args, **kwargs: ""
    # The Twisted adapter imported its own: it formats them for every TCP read (click.style
    # underneath), which was ~10 % of an idle server's samples (keep-alive pongs) and ~2 % of
    # the event loop's at many-docs.
    websocket.hltype = websocket.hlval = lambda *args, **kwargs: ""


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


def _raw_request_bodies() -> None:
    """Leave request bodies to Django.

    Twisted parses every multipart/form-data POST itself, into `request.args`,
    which Daphne never reads: a whole upload (an import, up to
    IMPORT_MAX_BYTES) is copied and parsed once more, and a malformed one is
    answered 400 with an empty body before the application sees it, outside
    the API's JSON error contract. Its own switch turns that off.
    """
    from daphne import http_protocol

    class WebRequest(http_protocol.WebRequest):
        def __init__(self, *args, **kwargs):
            kwargs.setdefault("parsePOSTFormSubmission", False)
            super().__init__(*args, **kwargs)

    # HTTPFactory.buildProtocol reads the module's name when it builds each connection's protocol.
    http_protocol.WebRequest = WebRequest


def _reason_phrases() -> None:
    """Status lines with the right reason phrase.

    ASGI carries no reason phrase: Daphne leaves it to Twisted, whose table lacks
    newer statuses (422 and 429 went out as "Unknown Status"). Fill it from
    Python's, with the names RFC 9110 gives.
    """
    from http import HTTPStatus

    from twisted.web import http

    rfc_9110 = {413: "Content Too Large", 416: "Range Not Satisfiable", 422: "Unprocessable Content"}
    for status in HTTPStatus:
        http.RESPONSES[status.value] = rfc_9110.get(status.value, status.phrase).encode()


# Native stack for deep documents. pycrdt's Rust core (yrs) recurses once per
# nesting level when it deletes a subtree (a remote delete applied by an actor,
# a restore) and when it converts values, so a deep enough document overflows
# the stack: a segfault that takes every open document of the process with it.
# Nesting costs at least BYTES_PER_LEVEL of the document's encoded size (an
# array in an array, from a client with a one-byte id; an XML element costs
# 7), so the size limit bounds the depth; each level costs at most
# STACK_PER_LEVEL of stack (measured with pycrdt 0.14.13: 256 B to delete a
# nested branch, 413 B for str() of an XML tree, which the server does not use).
# Every thread that touches a document gets a stack for the deepest document
# the limit allows. Deep JSON values (2 bytes per level) would need far more:
# collab/nesting.py refuses those before they reach the Doc.
BYTES_PER_LEVEL = 6
STACK_PER_LEVEL = 384
STACK_BASE = 16 * 1024 * 1024  # Python, Daphne and Django frames under the Doc's


def document_stack_size(max_document_size: int) -> int:
    """Bytes of stack a thread needs to handle the deepest document under the size limit."""
    size = STACK_BASE + max_document_size // BYTES_PER_LEVEL * STACK_PER_LEVEL
    return -(-size // resource.getpagesize()) * resource.getpagesize()


def _thread_stack(size: int) -> int:
    """Set threads' stack size to `size`, or the largest half of it the system will map (strict overcommit)."""
    while True:
        threading.stack_size(size)
        try:
            probe = threading.Thread(target=lambda: None)
            probe.start()
            probe.join()
            return size
        except RuntimeError:
            if size <= 64 * 1024 * 1024:
                raise
            size //= 2
            print(f"Threads cannot have a stack that fits the deepest document; using {size // 2**20} MiB: "
                  "lower COLLAB_MAX_DOCUMENT_SIZE or allow more memory overcommit.", file=sys.stderr)


def ensure_stack(max_document_size: int) -> None:
    """Give the main thread and every later thread a stack for the deepest document.

    The main thread (the event loop: actors, async views) grows its stack up
    to RLIMIT_STACK, but the kernel places shared libraries and the heap
    below it according to the limit at exec time, so a raised limit only
    takes full effect in a new image: raise it and exec this same command
    once (same PID, so supervisors and tests still see the same process).
    Threads Python starts (the store's executor, asgiref's sync views) get
    threading.stack_size. Both are address space reserved, not memory: a
    page is backed only when a deep document reaches it.
    """
    need = document_stack_size(max_document_size)
    _thread_stack(need)  # the main thread's stack is charged as it grows, not reserved: no fallback needed
    soft, hard = resource.getrlimit(resource.RLIMIT_STACK)
    if soft == resource.RLIM_INFINITY or soft >= need:
        return
    if hard != resource.RLIM_INFINITY and hard < need:
        print(f"The stack limit (ulimit -s) is {hard // 1024} KiB; documents nested deep enough to need more "
              f"than that ({need // 1024} KiB) would crash the server: raise the hard limit or lower "
              "COLLAB_MAX_DOCUMENT_SIZE.", file=sys.stderr)
        if hard <= soft:
            return
        need = hard
    resource.setrlimit(resource.RLIMIT_STACK, (need, hard))
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, [sys.executable, *sys.orig_argv[1:]])


def main(argv: list[str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "editor.settings")
    from django.conf import settings

    ensure_stack(int(settings.COLLAB["MAX_DOCUMENT_SIZE"]))
    limit = 2 * int(settings.COLLAB["MAX_DOCUMENT_SIZE"])
    host = os.environ.get("HOST", "127.0.0.1")
    port = os.environ.get("PORT", "8000")
    check_exposure(_bind_address(argv, host))
    args = [
        "-b", host, "-p", port,
        # Dead or never-reading peers fail to answer pings and are dropped.
        "--ping-interval", str(settings.COLLAB["PING_INTERVAL"]),
        "--ping-timeout", str(settings.COLLAB["PING_TIMEOUT"]),
        "--websocket-max-message-size", str(limit),
        "--websocket-max-frame-size", str(limit),
        *argv,
        "editor.asgi:application",
    ]
    if "-v" not in argv and "--verbosity" not in argv:
        _quiet_autobahn()
    _reason_phrases()
    _raw_request_bodies()
    _listen_backlog()
    # From SIGTERM on, /readyz says "not ready" while the documents are saved (CollabServer.begin_shutdown).
    CollabCommandLine().run(args)


if __name__ == "__main__":
    main(sys.argv[1:])
