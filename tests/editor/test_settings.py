"""Settings: the production configuration passes Django's deployment checks."""

import secrets
import subprocess

import pytest

from tests.support import compose
from tests.support.server import PYTHON, ROOT, _env, manage


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    env = {"DEBUG": "0", "SECRET_KEY": secrets.token_urlsafe(50), "ALLOWED_HOSTS": "docs.example.com",
           "DATA_DIR": str(tmp_path)}
    result = manage(env, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_processes_sharing_redis_refuse_to_start_without_a_shared_secret_key(tmp_path):
    # A key generated per process would sign out whoever the load balancer sends to another process.
    env = {"DEBUG": "0", "SECRET_KEY": "", "REDIS_URL": "redis://127.0.0.1:6379/14", "DATA_DIR": str(tmp_path)}
    result = manage(env, "check")
    assert result.returncode != 0 and "SECRET_KEY must be set" in result.stderr
    assert not (tmp_path / "secret_key").exists()


def test_processes_sharing_redis_may_share_a_key_file(tmp_path):
    env = {"DEBUG": "0", "SECRET_KEY": "", "REDIS_URL": "redis://127.0.0.1:6379/14", "DATA_DIR": str(tmp_path),
           "SECRET_KEY_FILE": str(tmp_path / "shared" / "key")}
    result = manage(env, "check")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "shared" / "key").stat().st_mode & 0o777 == 0o600


def test_debug_is_off_unless_asked_for(tmp_path):
    code = "from django.conf import settings; print(settings.DEBUG)"
    env = {k: v for k, v in _env({"DATA_DIR": str(tmp_path)}).items() if k != "DEBUG"}
    result = subprocess.run([PYTHON, "manage.py", "shell", "-c", code], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.stdout.strip().endswith("False"), result.stdout + result.stderr


def test_bad_collab_settings_fail_the_system_checks(tmp_path):
    result = manage({"COLLAB_FLUSH_DELAY": "2", "COLLAB_FLUSH_MAX_WAIT": "1", "DATA_DIR": str(tmp_path)}, "check")
    assert result.returncode != 0 and "collab.E002" in result.stderr


def test_docker_compose_defaults_start_on_a_non_loopback_address(tmp_path):
    # The containers listen on 0.0.0.0 (Dockerfile): their default key must not be a development key.
    env = {**compose.app_environment(), "DATA_DIR": str(tmp_path)}
    assert env["DEBUG"] == "0" and env["REDIS_URL"]
    env["SECRET_KEY_FILE"] = str(tmp_path / "secret" / "secret_key")  # the shared volume, here
    code = "import django; django.setup(); from editor.serve import check_exposure; check_exposure('0.0.0.0')"
    result = subprocess.run([PYTHON, "-c", code], cwd=ROOT, env=_env(env), capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "A safe deployment needs" in result.stderr


@pytest.mark.parametrize("name, value", [
    ("COLLAB_MAX_MESSAGE_SIZE", "1000"),  # gone: COLLAB_MAX_DOCUMENT_SIZE is the one limit
    ("COLLAB_IDLE_TIMEOUT", "0"),
    ("COLLAB_PERSIST_THREADS", "two"),
])
def test_an_unknown_or_invalid_collab_variable_stops_startup_naming_it(tmp_path, name, value):
    result = manage({name: value, "DATA_DIR": str(tmp_path)}, "check")
    assert result.returncode != 0
    assert f"ImproperlyConfigured: {name} " in result.stderr, result.stderr


def test_every_collab_variable_reaches_the_settings(tmp_path):
    code = "from django.conf import settings; print(settings.COLLAB['LAYER_CAPACITY'], settings.COLLAB['PING_TIMEOUT'])"
    result = manage({"COLLAB_LAYER_CAPACITY": "7", "COLLAB_PING_TIMEOUT": "9", "DATA_DIR": str(tmp_path)},
                    "shell", "-c", code)
    assert result.stdout.strip().endswith("7 9"), result.stdout + result.stderr


def test_the_api_rate_limit_defaults_are_declared_once():
    # In editor/settings.py; documents/ratelimit.py reads settings, with no fallback of its own to drift.
    sources = [p for top in ("collab", "documents", "editor", "frontend") for p in (ROOT / top).rglob("*.py")]
    for default in ('"600/min"', '"60/min"'):
        assert [str(p.relative_to(ROOT)) for p in sources if default in p.read_text()] == ["editor/settings.py"]
