"""The pages' own stylesheet and script, served from the package at ``/static``."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

STATIC_PATH = "/static"


def static_dir() -> Path:
    """The folder of static files installed with the package (``cpgraph/server/static``)."""
    return Path(str(resources.files("cpgraph.server").joinpath("static")))


def mount_static(app: FastAPI) -> None:
    """Serve :func:`static_dir` at ``/static``."""
    app.mount(STATIC_PATH, StaticFiles(directory=static_dir()), name="static")
