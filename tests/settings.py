"""Settings for the tests that run Django inside the pytest process (pytest-django; see pyproject.toml).

The suite's live servers run in development mode (tests/support/server.py sets
DEBUG=1); so do these, so that the test client speaks plain HTTP, as before
DEBUG became off by default, instead of being redirected to HTTPS. The
environment is left as it was, for the subprocesses tests start.
"""

import os

_given = os.environ.get("DEBUG")
os.environ["DEBUG"] = "1"
try:
    from editor.settings import *  # noqa: E402, F403
finally:
    if _given is None:
        del os.environ["DEBUG"]
    else:
        os.environ["DEBUG"] = _given
