"""System checks for the COLLAB settings (ids collab.E00x)."""

from django.conf import settings
from django.core.checks import Error, register

POSITIVE = ["FLUSH_DELAY", "FLUSH_MAX_WAIT", "SNAPSHOT_INTERVAL", "IDLE_TIMEOUT",
            "SEND_QUEUE_LIMIT", "MAILBOX_SIZE", "PERSIST_THREADS", "RETRY_MAX", "LEASE_TTL",
            "MAX_DOCUMENT_SIZE", "RATE_LIMIT", "RATE_BURST", "MAX_CONNECTIONS_PER_DOCUMENT",
            "MAX_CONNECTIONS_PER_USER", "HANDSHAKE_TIMEOUT", "REAUTH_INTERVAL"]


@register()
def check_collab_settings(app_configs, **kwargs):
    errors = []
    config = getattr(settings, "COLLAB", {})
    for key in POSITIVE:
        value = config.get(key)
        if not isinstance(value, (int, float)) or value <= 0:
            errors.append(Error(f"COLLAB['{key}'] must be a positive number, got {value!r}",
                                hint=f"Set COLLAB_{key} in the environment.", id="collab.E001"))
    if not errors and config["FLUSH_DELAY"] > config["FLUSH_MAX_WAIT"]:
        errors.append(Error("COLLAB_FLUSH_DELAY must not exceed COLLAB_FLUSH_MAX_WAIT",
                            hint="The ceiling bounds the quiet period.", id="collab.E002"))
    return errors
