import logging

from django.apps import AppConfig

logger = logging.getLogger(__name__)


class CollabAppConfig(AppConfig):
    name = "collab"
    verbose_name = "Real-time collaboration"

    def ready(self):
        from documents.signals import access_changed

        from . import checks  # noqa: F401  (registers the system checks)

        access_changed.connect(_recheck_sockets, dispatch_uid="collab-recheck-sockets")


def _recheck_sockets(sender, user_id, session_key=None, **kwargs):
    """Tell the user's open sockets (in every process, through the channel layer) to re-check access.

    `session_key` names a session that was just signed out: its sockets close at once.
    """
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    from .consumer import user_group

    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(user_group(user_id), {"type": "collab.reauth", "ended_session": session_key})
    except Exception:
        # Access is checked again on every connect; a missed nudge only delays the close.
        logger.exception("could not tell user %s's sockets to re-check access", user_id)
