"""What a test does when something it needs is not on the machine.

Locally it is skipped, with the reason. Under CI (CI=true) it fails: CI must
test the real thing, and a skipped PostgreSQL, Redis, Chromium or Node test
would pass while testing nothing.
"""

import os

import pytest


def under_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def missing(what: str) -> None:
    """Skip (locally) or fail (under CI) because `what` is missing; does not return."""
    if under_ci():
        pytest.fail(f"required under CI but missing: {what}")
    pytest.skip(f"missing: {what}")
