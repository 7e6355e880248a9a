"""The app as each ``serve --workers N`` process builds it: settings from the environment
(the command line's choices reach the worker processes as environment variables)."""

from __future__ import annotations

from starlette.applications import Starlette

from server.app import create_app
from server.logs import configure_logging
from server.settings import Settings


def from_environment() -> Starlette:
    settings = Settings.from_env()
    configure_logging(settings.log_level)
    return create_app(settings)
