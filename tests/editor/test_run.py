"""The README's first command, as a newcomer runs it: safe by default.

`scripts/run --no-install` runs the same launch steps as `scripts/run`
(migrate, collectstatic, first user, editor.serve) in the same environment,
without pip and npm, in a data directory of its own. The only addition is
ERROR_PROBE=1, the tests' way to cause a server error.
"""

import os
import re
import secrets
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from editor.secret_key import is_development_key
from tests.api.client import ApiClient, SessionClient
from tests.support.server import ROOT, free_port

ADMIN_USERNAME, ADMIN_PASSWORD = "newcomer", "a-first-password"
# What Django's debug pages (technical 404 and 500) say; none may reach a visitor.
DEBUG_PAGE_MARKERS = (
    "Traceback",
    "You’re seeing this error because you have",
    "You're seeing this error because you have",
    "Using the URLconf defined in",
    "Request Method:",
    "DEBUG = True",
)
SECURITY_HEADERS = ("Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy", "X-Frame-Options")
# A newcomer's shell configures nothing of ours.
OUR_VARIABLES = ("DEBUG", "SECRET_KEY", "SECRET_KEY_FILE", "DATABASE_URL", "REDIS_URL", "DATA_DIR", "HOST",
                 "PORT", "ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS", "DJANGO_SETTINGS_MODULE", "ERROR_PROBE")


class ScriptsRun:
    """`scripts/run --no-install` in `data_dir`, listening on 127.0.0.1:`port`; restartable."""

    def __init__(self, data_dir: Path):
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = data_dir / "scripts-run.log"
        self.env = {k: v for k, v in os.environ.items()
                    if k not in OUR_VARIABLES and not k.startswith(("COLLAB_", "SECURE_"))}
        self.env.update({"DATA_DIR": str(data_dir), "PORT": str(self.port), "ERROR_PROBE": "1",
                         "ADMIN_USERNAME": ADMIN_USERNAME, "ADMIN_PASSWORD": ADMIN_PASSWORD})
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 240.0) -> "ScriptsRun":
        with open(self.log_path, "ab") as log:
            # A session of its own, so that stop() reaches the set-up steps too if it comes early.
            self.process = subprocess.Popen(["bash", "scripts/run", "--no-install"], cwd=ROOT, env=self.env,
                                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"scripts/run exited with {self.process.returncode}:\n{self.log()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self
            except OSError:
                time.sleep(0.1)  # readiness probe: nothing to await before the port opens
        raise RuntimeError(f"scripts/run did not listen within {timeout}s:\n{self.log()}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def restart(self) -> None:
        self.stop()
        self.start()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-20000:]


@pytest.fixture(scope="module")
def embedded(tmp_path_factory):
    run = ScriptsRun(tmp_path_factory.mktemp("scripts-run")).start()
    yield run
    run.stop()


def assert_no_debug_page(reply, what: str) -> None:
    shown = [marker for marker in DEBUG_PAGE_MARKERS if marker in reply.text]
    assert not shown, f"{what}: Django's debug page reached the visitor ({shown}):\n{reply.text[:2000]}"


def assert_product_page(reply, status: int, what: str) -> None:
    assert reply.status == status, f"{what}: expected {status}, got {reply.status}"
    assert_no_debug_page(reply, what)
    assert reply.headers["Content-Type"].startswith("text/html"), f"{what}: {reply.headers['Content-Type']}"
    assert f'data-testid="error-page" data-status="{status}"' in reply.text, f"{what}: not our error page"
    assert 'name="viewport"' in reply.text, f"{what}: not laid out for a phone"
    assert re.search(r'href="/static/frontend/app\.[0-9a-f]+\.css"', reply.text), f"{what}: not in the app's look"


def assert_api_error(reply, status: int, what: str) -> None:
    assert reply.status == status, f"{what}: expected {status}, got {reply.status}"
    assert_no_debug_page(reply, what)
    assert reply.headers["Content-Type"] == "application/json", f"{what}: {reply.headers['Content-Type']}"
    detail = reply.json()["detail"]
    assert isinstance(detail, str) and detail.endswith("."), f"{what}: detail should be a sentence: {detail!r}"


@pytest.mark.parametrize("path", ["/no-such-page/", "/documents/not-a-uuid/", "/static/frontend/nope.js"])
def test_an_unknown_page_is_our_404_page(embedded, path):
    assert_product_page(ApiClient(embedded.url).get(path), 404, path)


@pytest.mark.parametrize("path", ["/api/nope", "/api/documents/not-a-uuid/", "/api/documents/not-a-uuid/export"])
def test_an_unknown_api_path_is_a_json_404(embedded, path):
    assert_api_error(ApiClient(embedded.url).get(path), 404, path)


def test_a_server_error_is_our_500_page_or_json(embedded):
    client = ApiClient(embedded.url)
    assert_product_page(client.get("/__error__"), 500, "a page that fails")
    assert_api_error(client.get("/api/__error__"), 500, "an API path that fails outside the router")
    assert "forced server error (ERROR_PROBE)" in embedded.log(), "the error should be logged for the operator"


def test_a_request_for_an_unknown_host_is_our_400_page_or_json(embedded):
    client = ApiClient(embedded.url)
    assert_product_page(client.get("/", headers={"Host": "evil.example"}), 400, "a page for another host")
    assert_api_error(client.get("/api/documents/", headers={"Host": "evil.example"}), 400, "the API for another host")


def test_a_form_without_its_csrf_token_is_our_403_page(embedded):
    reply = ApiClient(embedded.url).post(
        "/accounts/login/", b"username=x&password=y", headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert_product_page(reply, 403, "a sign-in form without its CSRF token")
    assert "reload the page" in reply.text


@pytest.mark.parametrize("path", ["/accounts/login/", "/no-such-page/", "/api/nope", "/api/openapi.json",
                                  "/api/docs", "/admin/login/"])
def test_every_response_carries_the_security_headers(embedded, path):
    reply = ApiClient(embedded.url).get(path)
    missing = [name for name in SECURITY_HEADERS if name not in reply.headers]
    assert not missing, f"{path} ({reply.status}) lacks {missing}"
    policy = reply.headers["Content-Security-Policy"]
    assert re.search(r"(^|; )script-src 'self'(;|$)", policy), f"{path}: scripts must be ours only: {policy}"
    assert reply.headers["X-Content-Type-Options"] == "nosniff"
    assert reply.headers["X-Frame-Options"] == "DENY"


def test_the_secret_key_is_generated_private_and_not_a_development_key(embedded):
    key_file = embedded.data_dir / "secret_key"
    assert key_file.is_file(), "the first run should keep its generated key in the data directory"
    assert key_file.stat().st_mode & 0o777 == 0o600, f"readable by others: {oct(key_file.stat().st_mode)}"
    key = key_file.read_text().strip()
    assert not is_development_key(key), "a generated key must not be a development key"
    assert key not in (ROOT / "editor" / "settings.py").read_text()


def test_plain_http_on_this_machine_and_a_session_that_survives_a_restart(embedded):
    # Last in this module: it restarts the server that the other tests share.
    key_before = (embedded.data_dir / "secret_key").read_text()
    person = SessionClient(embedded.url, ADMIN_USERNAME, ADMIN_PASSWORD)  # signs in over plain HTTP
    home = person.get("/")
    assert home.status == 200 and "Documents" in home.text, f"signed in: {home.status}"
    assert "Strict-Transport-Security" not in home.headers, "no HSTS on plain HTTP"

    embedded.restart()

    again = person.get("/")
    assert again.status == 200, f"the session should survive a restart, got {again.status} {again.headers['Location']}"
    assert (embedded.data_dir / "secret_key").read_text() == key_before, "the key should persist across restarts"

    # And it is that file's key that signs: another key there signs everyone out.
    (embedded.data_dir / "secret_key").write_text(secrets.token_urlsafe(64))
    embedded.restart()
    signed_out = person.get("/")
    assert signed_out.status == 302 and "/accounts/login/" in signed_out.headers["Location"], signed_out.status
