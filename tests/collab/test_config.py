"""The engine's knobs are declared once (collab/config.py): settings, checks and the README follow it."""

import re

import pytest
from django.core.checks import run_checks
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from collab import config
from collab.config import CollabConfig, from_environ
from tests.support.server import ROOT


def test_the_readme_table_lists_every_knob_with_its_default():
    readme = (ROOT / "README.md").read_text()
    rows = [line for line in readme.splitlines() if line.startswith("| `COLLAB_")]
    assert rows == config.readme_rows(), "regenerate the rows with `python -m collab.config`"


def test_every_collab_variable_the_project_mentions_is_a_knob():
    # The tests, the bench and the deployment files set these for real servers: a removed or
    # misspelt one would now stop the server at startup.
    known = {config.env_name(f) for f in config.KNOBS}
    paths = [*ROOT.glob("*.md"), *ROOT.glob("bench/*.md"), ROOT / "docker-compose.yml", *ROOT.glob("scripts/*"),
             *(p for top in ("collab", "documents", "editor", "frontend", "bench", "tests")
               for p in (ROOT / top).rglob("*.py"))]
    refusals = {ROOT / "tests/collab/test_config.py", ROOT / "tests/editor/test_settings.py"}  # bad names on purpose
    mentioned = {name: path for path in paths if path.is_file() and path not in refusals
                 for name in re.findall(r"\bCOLLAB_[A-Z_]*[A-Z]\b", path.read_text())}
    assert {name: str(path.relative_to(ROOT)) for name, path in mentioned.items() if name not in known} == {}


def test_the_environment_gives_every_knob_its_default_or_its_value():
    assert CollabConfig(**{k.lower(): v for k, v in from_environ({}).items()}) == CollabConfig()
    values = from_environ({"COLLAB_MAX_DOCUMENT_SIZE": "20000", "COLLAB_FLUSH_DELAY": "1",
                           "COLLAB_FANOUT_INTERVAL": "0", "COLLAB_STORE": "tests.Store", "REDIS_URL": "redis://x",
                           "UNRELATED": "1"})
    assert values["MAX_DOCUMENT_SIZE"] == 20000 and isinstance(values["MAX_DOCUMENT_SIZE"], int)
    assert values["FLUSH_DELAY"] == 1.0 and isinstance(values["FLUSH_DELAY"], float)
    assert values["FANOUT_INTERVAL"] == 0
    assert values["STORE"] == "tests.Store" and values["REDIS_URL"] == "redis://x"


@pytest.mark.parametrize("name, value, message", [
    ("COLLAB_MAX_MESSAGE_SIZE", "1000", "COLLAB_MAX_MESSAGE_SIZE is not a setting"),
    ("COLLAB_FLUSH_DELAYS", "1", "did you mean COLLAB_FLUSH_DELAY?"),
    ("COLLAB_PERSIST_THREADS", "two", "COLLAB_PERSIST_THREADS must be a whole number greater than 0, got 'two'"),
    ("COLLAB_MAX_DOCUMENT_SIZE", "1.5", "COLLAB_MAX_DOCUMENT_SIZE must be a whole number"),
    ("COLLAB_IDLE_TIMEOUT", "0", "COLLAB_IDLE_TIMEOUT must be a number greater than 0, got 0.0"),
    ("COLLAB_SNAPSHOT_INTERVAL", "nan", "COLLAB_SNAPSHOT_INTERVAL must be a number"),
    ("COLLAB_LEASE_TTL", "inf", "COLLAB_LEASE_TTL must be a number"),
    ("COLLAB_FANOUT_INTERVAL", "-0.01", "COLLAB_FANOUT_INTERVAL must be a number of at least 0"),
    ("COLLAB_SEND_BUFFER_BYTES", "-1", "COLLAB_SEND_BUFFER_BYTES must be a whole number of at least 0"),
    ("COLLAB_PING_INTERVAL", "0.5", "COLLAB_PING_INTERVAL must be a whole number"),  # Daphne's option is an int
])
def test_an_unknown_or_invalid_variable_is_refused_by_name(name, value, message):
    with pytest.raises(ImproperlyConfigured) as raised:
        from_environ({name: value})
    assert message in str(raised.value)


def test_a_collab_setting_the_engine_does_not_know_is_refused_not_dropped(settings):
    settings.COLLAB = {**settings.COLLAB, "MAX_MESSAGE_SIZE": 1000}
    with pytest.raises(ImproperlyConfigured, match=r"COLLAB\['MAX_MESSAGE_SIZE'\] is not a setting"):
        CollabConfig.from_settings()


def test_a_collab_dict_may_leave_knobs_at_their_defaults(settings):
    settings.COLLAB = {"RATE_LIMIT": 5}
    assert CollabConfig.from_settings() == CollabConfig(rate_limit=5)


@pytest.mark.parametrize("override, error", [
    ({"RATE_BURST": 0}, "COLLAB['RATE_BURST'] must be a whole number greater than 0, got 0"),
    ({"MAX_DOCUMENT_SIZE": "16M"}, "COLLAB['MAX_DOCUMENT_SIZE'] must be a whole number greater than 0, got '16M'"),
    ({"SEND_QUEUE_LIMIT": True}, "COLLAB['SEND_QUEUE_LIMIT'] must be a whole number"),
    ({"FLUSH_DELAY": 2.0, "FLUSH_MAX_WAIT": 1.0}, "COLLAB_FLUSH_DELAY must not exceed COLLAB_FLUSH_MAX_WAIT"),
    ({"STORE": "collab.nowhere.Store"}, "COLLAB_STORE must be the dotted path of a class"),
])
def test_the_system_checks_refuse_a_bad_collab_dict(settings, override, error):
    with override_settings(COLLAB={**settings.COLLAB, **override}):
        messages = [message.msg for message in run_checks() if message.id.startswith("collab.")]
    assert len(messages) == 1 and messages[0].startswith(error), messages
