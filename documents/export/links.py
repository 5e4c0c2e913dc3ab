"""Which link targets a rendered export may keep."""

import html
import re

# Schemes a reader's click may follow. Anything else with a scheme
# (javascript:, data:, vbscript:, file:...) is dropped; scheme-less targets
# (relative paths, #fragments) are kept.
SAFE_SCHEMES = frozenset({"http", "https", "mailto", "tel"})

_SCHEME = re.compile(r"^([a-z][a-z0-9+.\-]*):")
# Browsers ignore ASCII whitespace and control characters anywhere in a URL's
# scheme ("java\tscript:" runs), so they must not hide one from this check.
_IGNORED = re.compile(r"[\x00-\x20\x7f]+")


def url_scheme(href: str) -> str | None:
    """The scheme a browser would see in `href` ("javascript"), lower case; None if it has none."""
    # Unescaped too: a Markdown viewer decodes character references in link
    # destinations ("&#106;avascript:" is "javascript:" there).
    probe = _IGNORED.sub("", html.unescape(href)).lower()
    match = _SCHEME.match(probe)
    return match.group(1) if match else None


def safe_href(href) -> str | None:
    """The href if following it is harmless, else None."""
    if not isinstance(href, str) or not href.strip():
        return None
    scheme = url_scheme(href)
    if scheme is not None and scheme not in SAFE_SCHEMES:
        return None
    return href.strip()
