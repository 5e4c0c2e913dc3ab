"""schemathesis against the live API's own /api/openapi.json, with every check.

It generates requests from the schema, both fitting and deliberately not fitting (wrong types,
bounds, media types, methods the path does not have, no credentials), and in sequences that
follow the links between operations (create, then read, rename, delete). Every answer must be
what the schema says: a documented status and content type, a body of the documented shape, no
5xx, fitting requests accepted and unfitting ones refused.

The server gets generous rate limits: the run is a few hundred requests in seconds, and a 429
is not what this test is about (tests/api/test_throttle.py is).
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

# Per operation and phase; together about 500 requests, under a minute.
MAX_EXAMPLES = 15


def schemathesis_command() -> list[str]:
    installed = Path(sys.executable).with_name("st")
    return [str(installed)] if installed.exists() else [shutil.which("st") or "st"]


# Once, on the production set-up (PostgreSQL + Redis: the stricter database): the contract is the
# same on both, and a run costs most of a minute.
@pytest.mark.parametrize("backend", ["postgres"])
def test_the_api_conforms_to_its_schema(server_factory, unique, tmp_path):
    server = server_factory(env={"API_RATE_LIMIT": "100000/min", "API_UNAUTHENTICATED_RATE_LIMIT": "100000/min"})
    server.start()
    owner = f"{unique}st"
    seed = server.seed(users=[owner], documents=[{"owner": owner, "title": "Probed"}])
    token = seed["tokens"][owner]
    # The version endpoints need a version that exists, else every request is a 404 (schemathesis
    # warns of "missing test data"): one version of a second document, named in the config.
    versioned = server.django(
        "from django.contrib.auth import get_user_model\nfrom django.utils import timezone\n"
        "from pycrdt import Doc, XmlElement, XmlFragment, XmlText\n"
        "from documents.models import Snapshot\nfrom documents.services import document_create\n"
        f"doc = document_create(owner=get_user_model().objects.get(username={owner!r}), title='Versioned')\n"
        "d = Doc()\nd.get('default', type=XmlFragment).children.append(XmlElement('paragraph', contents=[XmlText('v')]))\n"
        "v = Snapshot.objects.create(document=doc, created_at=timezone.now(), state=d.get_update(),\n"
        "    state_vector=d.get_state(), size=1)\n"
        "result = {'doc': str(doc.pk), 'version': v.pk}\n"
        # Share links and invitations (accounts/api.py, owner only): a document of the caller's with a
        # link to turn off and an invitation to withdraw (both idempotent: 204 again and again).
        "from accounts.services import invitation_create, link_create\n"
        "shared = document_create(owner=doc.owner, title='Shared')\n"
        "link = link_create(document=shared, role='viewer', created_by=doc.owner, lifetime=None)\n"
        "invitation, _key = invitation_create(document=shared, email='st-guest@example.com', role='viewer',"
        " invited_by=doc.owner)\n"
        "result.update(shared=str(shared.pk), link=link.pk, invitation=invitation.pk)\n"
        # Comments (issue 20): a thread to read, reply to, resolve; another to delete; a notification.
        "from documents.models import Comment, Notification\n"
        "other = get_user_model().objects.create_user('st-mentioner-' + str(doc.pk)[:8])\n"
        # Owned by someone else, the caller an editor: the run's DELETE of a document cannot take it away.
        "me = doc.owner\n"
        "doc = document_create(owner=other, title='Commented')\n"
        "from documents.services import membership_set\nmembership_set(document=doc, user=me, role='editor')\n"
        "thread = Comment.objects.create(document=doc, author=me, body='A thread')\n"
        "doomed = Comment.objects.create(document=doc, author=me, body='To delete')\n"
        "n = Notification.objects.create(recipient=me, actor=other, document=doc, comment=thread)\n"
        "result.update(commented=str(doc.pk), thread=str(thread.pk), doomed=str(doomed.pk), notification=n.pk)\n"
    )
    doc_id, version_id, commented = versioned["doc"], versioned["version"], versioned["commented"]
    # One configuration file: the shared one (which answers count as accepting valid data, for the
    # endpoints that parse imported content) and this run's version ids.
    config = tmp_path / "schemathesis.toml"
    config.write_text(
        Path(__file__).with_name("schemathesis.toml").read_text() + "\n[[operations]]\n"
        'include-path-regex = "/versions/[{]"\n'
        f'parameters = {{ "path.document_id" = "{doc_id}", "path.version_id" = {version_id}, '
        f'"path.older_id" = {version_id}, "path.newer_id" = "current" }}\n'
        # The content writes too: else whether they ever reach a document depends on the run's random links.
        "\n[[operations]]\n"
        'include-path-regex = "/content$"\n'
        f'parameters = {{ "path.document_id" = "{doc_id}" }}\n'
        # Comments (issue 20): a document to comment on, its threads followed by the links from their creation.
        # A quote the document does not hold, a blank body, both `anchor` and `quote`, a reply to a reply fit
        # the schema and are refused with 422 (README, Comments).
        + "".join(
            "\n[[operations]]\n"
            f'include-path = "/api/documents/{{document_id}}/{path}"\n'
            f'parameters = {{ "path.document_id" = "{commented}"{extra} }}\n'
            'checks.positive_data_acceptance.expected-statuses = ["2XX", "401", "403", "404", "409", "422", "429"]\n'
            + warnings
            for path, extra, warnings in [
                ("comments/", "", ""), ("people/", "", ""),
                # Read, edited, then deleted (a deletion of what is gone is a 204 as well).
                ("comments/{comment_id}/", f', "path.comment_id" = "{versioned["doomed"]}"', ""),
                *((f"comments/{{comment_id}}/{action}/", f', "path.comment_id" = "{versioned["thread"]}"', "")
                  for action in ("replies", "resolve", "reopen")),
            ])
        + "\n[[operations]]\n"
        'include-path-regex = "/notifications/[{]"\n'
        f'parameters = {{ "path.notification_id" = {versioned["notification"]} }}\n'
        # Share links and invitations: the shared document, its link and its invitation.
        "\n[[operations]]\n"
        'include-path-regex = "/(links|invitations)/"\n'
        f'parameters = {{ "path.document_id" = "{versioned["shared"]}", "path.link_id" = {versioned["link"]}, '
        f'"path.invitation_id" = {versioned["invitation"]} }}\n'
        # Deleting a document is left out of the run: it would delete the caller's documents that the
        # operations above are given (each deleted one answers 404 from then on, and schemathesis
        # warns of missing test data), and a document of someone else's answers only 403 (it warns of
        # missing authentication). tests/api/test_documents.py and the permission matrix cover it.
        "\n[[operations]]\n"
        'include-path = "/api/documents/{document_id}/"\n'
        'include-method = "DELETE"\n'
        "enabled = false\n"
    )

    command = [
        *schemathesis_command(), "--config-file", str(config),
        "run", f"{server.url}/api/openapi.json",
        "--checks", "all",
        "--max-examples", str(MAX_EXAMPLES),
        "--header", f"Authorization: Bearer {token}",
        "--generation-database", "none",
        "--request-timeout", "30",
        "--no-color",
    ]
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300)

    output = result.stdout + result.stderr
    assert result.returncode == 0, f"{' '.join(command)}\n{output[-20000:]}\n--- server log ---\n{server.log()[-5000:]}"
    assert "No issues found" in output, output[-5000:]
