"""Typed dependencies shared by the routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from cpgraph.config import Settings
from cpgraph.store import GraphStore


def get_store(request: Request) -> GraphStore:
    """The store opened at startup (see the app's lifespan)."""
    store: GraphStore = request.app.state.store
    return store


def get_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    settings: Settings = request.app.state.settings
    return settings


StoreDep = Annotated[GraphStore, Depends(get_store)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
