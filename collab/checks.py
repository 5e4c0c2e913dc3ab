"""System checks for settings.COLLAB (ids collab.E00x), from the knobs' declarations in collab/config.py.

editor/settings.py already refuses a bad environment; these catch a COLLAB dict
written by hand (another project's settings, or a test's override).
"""

from django.core.checks import Error, register
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from . import config


@register()
def check_collab_settings(app_configs, **kwargs):
    try:
        values = config.CollabConfig.from_settings()
    except ImproperlyConfigured as exc:
        return [Error(str(exc), hint="See the README's configuration table (collab/config.py).", id="collab.E001")]
    errors = []
    if values.flush_delay > values.flush_max_wait:
        errors.append(Error("COLLAB_FLUSH_DELAY must not exceed COLLAB_FLUSH_MAX_WAIT",
                            hint="The ceiling bounds the quiet period.", id="collab.E002"))
    try:
        import_string(values.store)
    except ImportError as exc:
        errors.append(Error(f"COLLAB_STORE must be the dotted path of a class, got {values.store!r}: {exc}",
                            id="collab.E003"))
    errors.extend(_backend_errors(values))
    return errors


def _backend_errors(values) -> list[Error]:
    """What the engine asks of the project: each setting must name a subclass of the engine's base class."""
    from .access import BaseAccessPolicy
    from .auth import BaseTokenBackend
    from .store import BaseStorage

    errors = []
    for key, path, base in [("STORAGE", values.storage, BaseStorage),
                            ("ACCESS_POLICY", values.access_policy, BaseAccessPolicy),
                            ("TOKEN_BACKEND", values.token_backend, BaseTokenBackend)]:
        try:
            config.backend_class(key, path, base)
        except ImproperlyConfigured as exc:
            errors.append(Error(str(exc), hint="See the README's Layout section.", id="collab.E004"))
    return errors
