"""Whether this process is shutting down.

editor.serve sets `stopping` when Daphne's reactor begins to stop (SIGTERM,
CollabServer.begin_shutdown), and closes the listening port: from then until
the process exits it is still saving its documents and releasing their
leases, and /readyz answers 503 (on connections already open) so that a load
balancer or orchestrator sends nothing new its way. No Django imports:
editor.serve uses it before Django is set up.
"""

import threading

stopping = threading.Event()
