"""Browser end-to-end tests: Debian's Chromium driven by Playwright against a live Daphne.

Every test here is async (Playwright's async API), so that two people can
really type at the same time (`asyncio.gather`). The server is the suite's
`daphne_server` (tests/conftest.py); users and documents are seeded in its
database through `daphne_server.django()` / `.seed()`.
"""

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.async_api import async_playwright

from tests.support.services import missing

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
BUNDLE = ROOT / "frontend" / "static" / "frontend" / "build" / "editor.js"


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def bundle_built():
    """The editor bundle, built once if this checkout has not built it yet."""
    if not BUNDLE.is_file():
        if shutil.which("npm") is None:
            pytest.fail("the editor bundle is not built and npm is missing: run frontend/build.sh")
        result = subprocess.run(
            [str(ROOT / "frontend" / "build.sh")], cwd=ROOT, capture_output=True, text=True, timeout=600
        )
        if result.returncode != 0:
            pytest.fail(f"frontend/build.sh failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    return BUNDLE


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    # Keep each phase's report on the test, so that fixtures can tell whether it failed.
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
async def browser(request, bundle_built, artifacts):
    """A Chromium of the test's own: Playwright's objects belong to the test's event loop.

    When the test fails, every page it left open is saved to
    test-artifacts/failures/ (a screenshot and the editor's HTML) before closing.
    """
    if not Path(CHROMIUM).is_file():
        missing(f"Chromium at {CHROMIUM} (apt-get install chromium)")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        report = getattr(request.node, "report_call", None)
        if report is not None and report.failed:
            await _save_pages(browser, artifacts / "failures", request.node.name)
        await browser.close()


async def _save_pages(browser, folder: Path, test_name: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^\w.-]+", "_", test_name)
    for c, context in enumerate(browser.contexts):
        for p, page in enumerate(context.pages):
            name = f"{stem}-{c}-{p}"
            try:
                await page.screenshot(path=folder / f"{name}.png")
                html = await page.evaluate(
                    "() => document.querySelector('.ProseMirror')?.outerHTML ?? document.body.outerHTML"
                )
                (folder / f"{name}.html").write_text(f"<!-- {page.url} -->\n{html}\n")
            except Exception as exc:  # a page that crashed or closed: keep going with the others
                (folder / f"{name}.error.txt").write_text(repr(exc))


@pytest.fixture
def artifacts() -> Path:
    path = ROOT / "test-artifacts"
    path.mkdir(exist_ok=True)
    return path


@dataclass(frozen=True)
class Person:
    username: str  # login name
    name: str  # full name, shown on carets and avatars
    password: str
    session_key: str  # a signed-in session of theirs, so that most tests skip the sign-in form


@dataclass(frozen=True)
class Cast:
    owner: Person  # owns the document
    editor: Person  # shared as editor
    viewer: Person  # shared as viewer
    stranger: Person  # no role on the document
    document_id: str
    title: str


PASSWORD = "correct-horse-battery"
# Hashing a password costs a second or two (PBKDF2, deliberately slow): the
# first seeding hashes PASSWORD once and later ones reuse the hash.
_password_hash: str | None = None

_SEED_CODE = """
from importlib import import_module
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.auth.hashers import make_password
from documents.services import document_create, membership_set

spec = json.loads(SPEC)
password_hash = spec["password_hash"] or make_password(spec["password"])
User = get_user_model()
users = {
    username: User.objects.create(username=username, first_name=first, last_name=last, password=password_hash)
    for username, first, last in spec["people"]
}
doc = document_create(owner=users[spec["owner"]], title=spec["title"])
for username, role in spec["roles"].items():
    membership_set(document=doc, user=users[username], role=role)
sessions = {}
for username, user in users.items():
    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    sessions[username] = session.session_key
result = {"document": str(doc.pk), "sessions": sessions, "password_hash": password_hash}
"""


def seed_cast(server, prefix: str) -> Cast:
    """Four people (with full names and a session each) and one document shared with two of them, on `server`.

    One subprocess for the lot: each server.django() call starts Django afresh.
    """
    global _password_hash
    names = {"owner": "Alice Martin", "editor": "Bob Chen", "viewer": "Carol Diaz", "stranger": "Dan Evans"}
    usernames = {role: f"{prefix}{name.split()[0].lower()}" for role, name in names.items()}
    title = f"Launch plan {prefix}"
    spec = {
        "people": [[usernames[role], *names[role].split()] for role in names],
        "owner": usernames["owner"],
        "title": title,
        "roles": {usernames["editor"]: "editor", usernames["viewer"]: "viewer"},
        "password": PASSWORD,
        "password_hash": _password_hash,
    }
    seeded = server.django(f"SPEC = {json.dumps(spec)!r}\n" + _SEED_CODE)
    _password_hash = seeded["password_hash"]
    people = {
        role: Person(usernames[role], names[role], PASSWORD, seeded["sessions"][usernames[role]])
        for role in names
    }
    return Cast(**people, document_id=seeded["document"], title=title)


@pytest.fixture
def cast(daphne_server, unique) -> Cast:
    return seed_cast(daphne_server, unique)


@pytest.fixture
def open_as(browser, daphne_server):
    """open_as(person, path="/", server=None, **context_options) -> a Page of theirs, signed in, in a browser
    context of its own (context_options: Playwright's, e.g. viewport, timezone_id, locale)."""

    async def open_page(person: Person, path: str = "/", server=None, **context_options):
        base_url = (server or daphne_server).url
        context = await browser.new_context(**{"viewport": {"width": 1280, "height": 800}, **context_options})
        await context.add_cookies([{"name": "sessionid", "value": person.session_key, "url": base_url}])
        page = await context.new_page()
        page.set_default_timeout(15_000)
        await page.goto(base_url + path)
        return page

    return open_page
