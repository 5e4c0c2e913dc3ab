"""Whether this process is shutting down.

editor.serve sets `stopping` when Daphne's reactor begins to stop (SIGTERM):
from then until the process exits it is still saving its documents and
releasing their leases, and /readyz answers 503 so that a load balancer or
orchestrator sends nothing new its way. No Django imports: editor.serve
registers the trigger before Django is set up.
"""

import threading

stopping = threading.Event()
