from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class DocumentsConfig(AppConfig):
    name = "documents"
    verbose_name = "Documents"

    def ready(self):
        from django.contrib.auth import get_user_model
        from django.contrib.auth.signals import user_logged_out

        from . import signals
        from .models import ApiToken, Document, Membership

        post_save.connect(signals.on_membership_change, sender=Membership, dispatch_uid="membership-saved")
        post_delete.connect(signals.on_membership_change, sender=Membership, dispatch_uid="membership-deleted")
        post_save.connect(signals.on_token_change, sender=ApiToken, dispatch_uid="token-saved")
        post_delete.connect(signals.on_token_change, sender=ApiToken, dispatch_uid="token-deleted")
        post_delete.connect(signals.on_document_delete, sender=Document, dispatch_uid="document-deleted")
        User = get_user_model()
        post_save.connect(signals.on_user_change, sender=User, dispatch_uid="user-saved")
        post_delete.connect(signals.on_user_change, sender=User, dispatch_uid="user-deleted")
        user_logged_out.connect(signals.on_logout, dispatch_uid="user-signed-out")
        signals.access_changed.connect(signals.tell_engine, dispatch_uid="collab-recheck-sockets")
        # Search finds a document by its title from its creation on, and by a new title at once.
        post_save.connect(signals.on_document_saved, sender=Document, dispatch_uid="document-search-title")

        # Open document lists are told at once what changed for them (documents.list_feed).
        from . import list_feed

        post_save.connect(list_feed.on_document_saved, sender=Document, dispatch_uid="list-feed-document-saved")
        post_delete.connect(list_feed.on_document_deleted, sender=Document, dispatch_uid="list-feed-document-deleted")
        post_save.connect(list_feed.on_membership_saved, sender=Membership, dispatch_uid="list-feed-membership-saved")
        post_delete.connect(list_feed.on_membership_deleted, sender=Membership,
                            dispatch_uid="list-feed-membership-deleted")

        # An image's file goes with its row, also when its document is deleted (documents.images).
        from .images import delete_file_on_commit
        from .models import Image

        post_delete.connect(delete_file_on_commit, sender=Image, dispatch_uid="image-deleted")

        # Restores run inside the document's actor (see documents.history.version_restore).
        from collab import edits

        from .restore import EDIT, restore_state

        edits.register(EDIT, restore_state)
