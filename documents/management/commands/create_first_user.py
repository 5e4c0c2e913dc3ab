import os
import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Create the first user (a superuser) if there is no user yet, and print the credentials. "
        "Takes ADMIN_USERNAME and ADMIN_PASSWORD from the environment; makes up a password otherwise."
    )

    def handle(self, **options):
        User = get_user_model()
        if User.objects.exists():
            return
        username = os.environ.get("ADMIN_USERNAME", "admin")
        password = os.environ.get("ADMIN_PASSWORD") or secrets.token_urlsafe(12)
        User.objects.create_superuser(username=username, password=password, email="")
        self.stdout.write(self.style.SUCCESS(f"Created the first user: {username} / {password}"))
