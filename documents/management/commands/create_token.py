from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from documents.services import token_create


class Command(BaseCommand):
    help = "Create an API token for a user and print it (it is shown only once)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="A name to tell the token apart")

    def handle(self, username, name, **options):
        try:
            user = get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist:
            raise CommandError(f"No user named {username!r}") from None
        _, raw = token_create(user=user, name=name or "created with manage.py")
        self.stdout.write(raw)
