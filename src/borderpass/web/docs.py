"""The API's documentation at ``/docs`` (Swagger UI served from this site, not a CDN),
and the site's icon at ``/favicon.ico``.

The viewer's files come from the pinned ``swagger-ui-bundle-v2`` package and are served
under ``/docs/assets``; the page starts it with an external script, so the page works
offline and under the site's Content Security Policy like every other page. Our
``static/css/docs.css``, loaded after the viewer's stylesheet, raises its colours to
WCAG 2.1 AA contrast, and ``static/js/docs.js`` keeps links out of its buttons.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

from borderpass.kit.pages import WEB

__all__ = ["mount_docs", "router"]

router = APIRouter(include_in_schema=False)

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} API reference</title>
<link rel="icon" href="/favicon.ico">
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
<link rel="stylesheet" href="/static/css/docs.css">
</head>
<body>
<main id="swagger-ui" data-openapi="{openapi}"></main>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/static/js/docs.js"></script>
</body>
</html>
"""


@router.get("/docs")
def api_docs() -> HTMLResponse:
    """Show the API's interactive documentation."""
    return HTMLResponse(_PAGE.format(title="borderpass", openapi="/openapi.json"))


@router.get("/favicon.ico")
def favicon() -> FileResponse:
    """Serve the site's icon where browsers look for it."""
    return FileResponse(WEB / "static" / "img" / "favicon.ico", media_type="image/x-icon",
                        headers={"Cache-Control": "public, max-age=86400"})


def mount_docs(app: FastAPI) -> None:
    """Serve the documentation page and the viewer's files (FastAPI's CDN page is off)."""
    app.include_router(router)
    app.mount("/docs/assets", StaticFiles(directory=str(swagger_ui_path)), name="docs-assets")
