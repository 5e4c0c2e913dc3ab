"""What an operator sees of a live server: its engine stats at /healthz/collab, read with a staff token."""

import json
import urllib.request

from tests.support.server import LiveServer


def staff_token(server: LiveServer) -> str:
    """A token of the staff user `ops` (made on first use), which /healthz/collab asks for."""
    return server.django(
        "from django.contrib.auth import get_user_model\nfrom documents.services import token_create\n"
        "u, _ = get_user_model().objects.get_or_create(username='ops', defaults={'is_staff': True})\n"
        "result = token_create(user=u, name='stats')[1]"
    )


def stats(server: LiveServer, token: str) -> dict:
    """The server's engine stats (actors, connections, tasks, rss_bytes, ...); blocks: call it in a thread."""
    request = urllib.request.Request(f"{server.url}/healthz/collab", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())
