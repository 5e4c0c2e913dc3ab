"""Which link targets a rendered export may keep."""

import html
import re
from urllib.parse import urljoin

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


# Schemes an image may be loaded from. `data:` only as a raster image (an SVG can carry scripts when opened
# on its own, and nothing else belongs in an <img>), base64-encoded as browsers and editors write them.
IMAGE_SCHEMES = frozenset({"http", "https"})
_DATA_IMAGE = re.compile(r"^data:image/(?:png|jpeg|gif|webp|avif);base64,[A-Za-z0-9+/]*={0,2}$")


def safe_image_src(src) -> str | None:
    """The image address if loading it is harmless (http(s), relative, or a raster `data:` image), else None."""
    if not isinstance(src, str) or not src.strip():
        return None
    src = src.strip()
    scheme = url_scheme(src)
    if scheme is None or scheme in IMAGE_SCHEMES:
        return src
    if scheme == "data" and _DATA_IMAGE.match(src):
        return src
    return None


def absolute_src(src: str, base_url: str | None) -> str:
    """`src` resolved against the export's `base_url` when it is relative (an exported file is read elsewhere)."""
    if not base_url or url_scheme(src) is not None or src.startswith("//"):
        return src
    return urljoin(base_url, src)
