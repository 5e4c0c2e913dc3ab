"""collab is an engine: it reaches the project only through the interfaces named in settings.

A reader should be able to lift collab/ into another Django project by
writing a BaseStorage, a BaseAccessPolicy and a BaseTokenBackend; an import
of `documents` (or of the site's other apps) inside collab would break that.
"""

import ast
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

import collab
from collab.access import BaseAccessPolicy
from collab.auth import BaseTokenBackend, bearer_token
from collab.config import backend
from collab.store import BaseStorage

COLLAB = Path(collab.__file__).parent
PROJECT_APPS = ("documents", "frontend", "editor", "accounts")


def imported_modules(path: Path) -> set[str]:
    """Every module an `import` or `from ... import` in the file names, at any depth (absolute names only)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def offending_imports(package: Path, forbidden) -> set[str]:
    """`file: module` for each import in the package's modules of a top-level package in `forbidden`."""
    files = sorted(package.rglob("*.py"))
    assert len(files) > 10, f"the walk found {package.name}'s modules"
    return {
        f"{path.relative_to(package.parent)}: {name}"
        for path in files
        for name in imported_modules(path)
        if name.split(".")[0] in forbidden
    }


def test_collab_imports_nothing_from_the_project():
    offending = offending_imports(COLLAB, PROJECT_APPS)
    assert not offending, f"collab must reach the project only through its settings' backends: {sorted(offending)}"


def test_documents_imports_neither_the_pages_nor_the_site():
    # documents is the product's model and API; the pages (frontend) and the
    # site (editor) build on it, never the other way round.
    offending = offending_imports(COLLAB.parent / "documents", ("frontend", "editor", "accounts"))
    assert not offending, f"documents must not depend on the pages or the site: {sorted(offending)}"


def test_accounts_builds_on_documents_not_on_the_pages():
    # Invitations and share links end in documents' memberships; the pages (frontend) use them.
    offending = offending_imports(COLLAB.parent / "accounts", ("frontend", "editor", "collab"))
    assert not offending, f"accounts must not depend on the pages, the site or the engine: {sorted(offending)}"


def test_the_walk_sees_imports_inside_functions(tmp_path):
    # The imports this test exists for were all inside functions.
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from documents.models import Document\n    import frontend.views\n")
    assert imported_modules(module) == {"documents.models", "frontend.views"}


@pytest.mark.parametrize("base, method, args", [
    (BaseStorage, "load", ("d", None)),
    (BaseStorage, "append", ("d", 1, b"", None)),
    (BaseStorage, "snapshot", ("d", None, None)),
    (BaseAccessPolicy, "roles", (set(), set())),
    (BaseAccessPolicy, "can_write", ("viewer",)),
    (BaseTokenBackend, "authenticate", ("t",)),
    (BaseTokenBackend, "active", (set(),)),
])
def test_a_backend_missing_a_method_says_which(base, method, args):
    with pytest.raises(NotImplementedError, match=rf"{method}\(\)"):
        getattr(base(), method)(*args)


def test_an_unset_or_wrong_backend_names_its_setting():
    with pytest.raises(ImproperlyConfigured, match="COLLAB_ACCESS_POLICY is not set"):
        backend("ACCESS_POLICY", "", BaseAccessPolicy)
    with pytest.raises(ImproperlyConfigured, match="COLLAB_STORAGE = 'collab.store.MemoryStore' is not a subclass"):
        backend("STORAGE", "collab.store.MemoryStore", BaseStorage)


def test_this_project_configures_its_backends(settings):
    from documents.access import ApiTokenBackend, DocumentAccess
    from documents.storage import DocumentStorage

    assert isinstance(backend("STORAGE", settings.COLLAB["STORAGE"], BaseStorage), DocumentStorage)
    assert isinstance(backend("ACCESS_POLICY", settings.COLLAB["ACCESS_POLICY"], BaseAccessPolicy), DocumentAccess)
    assert isinstance(backend("TOKEN_BACKEND", settings.COLLAB["TOKEN_BACKEND"], BaseTokenBackend), ApiTokenBackend)


@pytest.mark.parametrize("header, token", [
    (None, None),
    ("", None),
    ("Basic dXNlcjpwYXNz", None),
    ("Bearer cdt_abc", "cdt_abc"),
    ("bearer   cdt_abc  ", "cdt_abc"),
    ("BEARER cdt_abc", "cdt_abc"),
    ("Bearer", ""),  # meant a token, gave none: no fallback to the cookie
])
def test_one_parser_reads_the_bearer_header(header, token):
    assert bearer_token(header) == token


@pytest.mark.parametrize("key, value, error", [
    ("ACCESS_POLICY", "", "COLLAB_ACCESS_POLICY is not set"),
    ("STORAGE", "documents.nowhere.Storage", "COLLAB_STORAGE = 'documents.nowhere.Storage' cannot be imported"),
    ("TOKEN_BACKEND", "documents.access.DocumentAccess", "COLLAB_TOKEN_BACKEND = 'documents.access.DocumentAccess' "
                                                         "is not a subclass of collab.auth.BaseTokenBackend"),
])
def test_a_missing_or_wrong_backend_fails_the_system_checks(settings, key, value, error):
    from django.core.checks import run_checks
    from django.test import override_settings

    with override_settings(COLLAB={**settings.COLLAB, key: value}):
        messages = [message.msg for message in run_checks() if message.id.startswith("collab.")]
    assert len(messages) == 1 and messages[0].startswith(error), messages
