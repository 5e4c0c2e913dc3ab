"""Settings: the production configuration passes Django's deployment checks."""

import secrets
import subprocess

from tests.support.server import PYTHON, ROOT, _env


def run_manage(env, *args):
    return subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=_env(env), capture_output=True, text=True,
                          timeout=120)


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    env = {"DEBUG": "0", "SECRET_KEY": secrets.token_urlsafe(50), "ALLOWED_HOSTS": "docs.example.com",
           "DATA_DIR": str(tmp_path)}
    result = run_manage(env, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    result = run_manage({"DEBUG": "0", "SECRET_KEY": "", "DATA_DIR": str(tmp_path)}, "check")
    assert result.returncode != 0 and "SECRET_KEY must be set" in result.stderr


def test_bad_collab_settings_fail_the_system_checks(tmp_path):
    result = run_manage({"COLLAB_FLUSH_DELAY": "2", "COLLAB_FLUSH_MAX_WAIT": "1", "DATA_DIR": str(tmp_path)}, "check")
    assert result.returncode != 0 and "collab.E002" in result.stderr
