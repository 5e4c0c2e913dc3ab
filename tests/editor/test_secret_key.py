"""The secret key of an installation: generated once, private, and never a development key."""

import secrets
import threading

import pytest

from editor.secret_key import DEVELOPMENT_KEYS, is_development_key, read_or_create


def test_a_key_is_generated_once_readable_by_its_owner_only(tmp_path):
    path = tmp_path / "data" / "secret_key"
    key = read_or_create(path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert read_or_create(path) == key, "the key should persist"
    assert not is_development_key(key)
    assert [p.name for p in path.parent.iterdir()] == ["secret_key"], "no temporary file left behind"


def test_processes_starting_together_agree_on_one_key(tmp_path):
    path = tmp_path / "secret_key"
    keys, start = [], threading.Barrier(8)

    def first_run():
        start.wait()
        keys.append(read_or_create(path))

    threads = [threading.Thread(target=first_run) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(keys)) == 1, "every process should use the key that was written first"


def test_an_empty_key_file_is_an_error_not_an_empty_key(tmp_path):
    (tmp_path / "secret_key").write_text("\n")
    with pytest.raises(ValueError, match="empty"):
        read_or_create(tmp_path / "secret_key")


@pytest.mark.parametrize("key", [
    *sorted(DEVELOPMENT_KEYS),
    "too-short-" + "x" * 30,
    "ab" * 40,  # long, but only two distinct characters
    "django-insecure-" + secrets.token_urlsafe(50),
])
def test_published_short_or_django_insecure_keys_are_development_keys(key):
    assert is_development_key(key)


def test_a_long_random_key_is_not_a_development_key():
    assert not is_development_key(secrets.token_urlsafe(50))
