from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class DocumentsConfig(AppConfig):
    name = "documents"
    verbose_name = "Documents"

    def ready(self):
        from . import signals
        from .models import ApiToken, Document, Membership

        post_save.connect(signals.on_membership_change, sender=Membership, dispatch_uid="membership-saved")
        post_delete.connect(signals.on_membership_change, sender=Membership, dispatch_uid="membership-deleted")
        post_save.connect(signals.on_token_change, sender=ApiToken, dispatch_uid="token-saved")
        post_delete.connect(signals.on_token_change, sender=ApiToken, dispatch_uid="token-deleted")
        post_delete.connect(signals.on_document_delete, sender=Document, dispatch_uid="document-deleted")
