from __future__ import annotations

from tests.server.auth.conftest import frozen

__all__ = ["frozen"]
