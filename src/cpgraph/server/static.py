"""The pages' own stylesheet and scripts, served from the package at ``/static``, and the API
documentation (Swagger UI at ``/docs``) from the copy of Swagger UI installed with cpgraph
(``swagger-ui-bundle-v2``), at :data:`SWAGGER_PATH`: nothing is loaded from a CDN, so the
documentation works offline."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import swagger_ui_bundle  # type: ignore[import-untyped]
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from cpgraph.web.render import render

STATIC_PATH = "/static"
SWAGGER_PATH = "/static/swagger-ui"
DOCS_PATH = "/docs"


def static_dir() -> Path:
    """The folder of static files installed with the package (``cpgraph/server/static``)."""
    return Path(str(resources.files("cpgraph.server").joinpath("static")))


def mount_static(app: FastAPI) -> None:
    """Serve :func:`static_dir` at ``/static``, Swagger UI's files at :data:`SWAGGER_PATH`,
    and the API documentation's page at :data:`DOCS_PATH`."""
    swagger = StaticFiles(directory=str(swagger_ui_bundle.swagger_ui_path))
    app.mount(SWAGGER_PATH, swagger, name="swagger-ui")  # before /static, which it is under
    app.mount(STATIC_PATH, StaticFiles(directory=static_dir()), name="static")
    page = render(
        "api_docs.html",
        title=f"{app.title} - API",
        openapi_url=app.openapi_url or "/openapi.json",
        assets=SWAGGER_PATH,
        static=STATIC_PATH,
    )

    async def swagger_ui_html() -> HTMLResponse:
        """The API documentation: Swagger UI over cpgraph's OpenAPI description."""
        return HTMLResponse(page)

    app.add_api_route(DOCS_PATH, swagger_ui_html, methods=["GET"], include_in_schema=False)
