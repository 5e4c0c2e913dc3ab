"""Fixtures of the documents app's tests."""

import pytest

from tests.documents.admin_http import cast_of


@pytest.fixture(scope="module")
def cast(daphne_server):
    """The admin tests' people (tests/documents/admin_http.py::Cast), shared per server."""
    return cast_of(daphne_server)
