from __future__ import annotations

from tests.identity.conftest import frozen

__all__ = ["frozen"]
