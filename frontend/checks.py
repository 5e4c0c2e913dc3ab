"""System checks of the browser app: the editor bundle must have been built."""

from pathlib import Path

from django.core.checks import Warning, register

BUILD_DIR = Path(__file__).resolve().parent / "static" / "frontend" / "build"
BUNDLES = ("editor.js", "pages.js")


@register()
def bundle_built(app_configs, **kwargs):
    missing = [name for name in BUNDLES if not (BUILD_DIR / name).is_file()]
    if not missing:
        return []
    return [
        Warning(
            f"The browser bundle is not built (missing {', '.join(missing)} in {BUILD_DIR}).",
            hint="Run frontend/build.sh (npm ci && npm run build); the editor page cannot work without it.",
            id="frontend.W001",
        )
    ]
