"""What the real-time engine asks this app about people (COLLAB_ACCESS_POLICY, COLLAB_TOKEN_BACKEND).

collab knows users and document ids, not Document, Membership or ApiToken:
these two classes answer its questions with this app's rule (selectors.roles)
and its API tokens. Both run in the engine's worker threads.
"""

import uuid

from collab.access import BaseAccessPolicy
from collab.auth import BaseTokenBackend

from .models import WRITE_ROLES
from .selectors import active_token_ids, role_on, roles, token_for_raw, token_with_role


class DocumentAccess(BaseAccessPolicy):
    def roles(self, user_ids, document_ids):
        ids = {document_id: uuid.UUID(str(document_id)) for document_id in document_ids}
        found = roles(ids.values(), user_ids)
        return {document_id: found[pk] for document_id, pk in ids.items() if pk in found}

    def can_write(self, role) -> bool:
        return role in WRITE_ROLES

    def role(self, user, document_id):
        return role_on(user.pk, document_id)

    def token_and_role(self, raw, document_id):
        # Our tokens are ApiTokenBackend's: the same lookup, with the role in the same query.
        found = token_with_role(raw, document_id)
        if found is None:
            return None
        token, exists, role = found
        return (token.user, token.pk), exists, role


class ApiTokenBackend(BaseTokenBackend):
    def authenticate(self, raw):
        token = token_for_raw(raw)
        return (token.user, token.pk) if token else None

    def active(self, token_ids):
        return active_token_ids(token_ids)
