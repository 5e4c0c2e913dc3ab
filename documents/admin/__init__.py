"""The documents app in the Django admin, a module per model: documents and their version
history (documents.py), versions on their own (versions.py), API tokens (tokens.py).
Importing them registers them with the admin site."""

from . import documents, tokens, versions  # noqa: F401
