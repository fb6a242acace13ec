"""Dependencies of the routes, read from ``request.app.state`` (no globals)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from ..answer.pipeline import Pipeline
from ..components import Components
from ..config import Settings
from ..errors import BackendUnavailable


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_components(request: Request) -> Components:
    components: Components | None = request.app.state.components
    if components is None:
        raise BackendUnavailable("components are not loaded")
    return components


SettingsDep = Annotated[Settings, Depends(get_settings)]
ComponentsDep = Annotated[Components, Depends(get_components)]


def get_pipeline(request: Request) -> Pipeline:
    return get_components(request).pipeline


PipelineDep = Annotated[Pipeline, Depends(get_pipeline)]
