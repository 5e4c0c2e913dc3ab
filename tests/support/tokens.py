"""A user with an API token, made in the test process's database (pytest-django), for in-process API tests."""

from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model

from documents.services import token_create


@sync_to_async
def make_token(username: str) -> str:
    """A new user named `username` and a raw API token of theirs."""
    user = get_user_model().objects.create_user(username)
    return token_create(user=user)[1]
