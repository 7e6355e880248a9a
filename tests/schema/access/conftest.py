from __future__ import annotations

from collections.abc import Iterator

import pytest

from compliance.access.policy import DSR
from compliance.access.purpose import register_purpose_provider, unregister_purpose_provider
from tests.builders import PurposeForTests
from tests.server.auth.conftest import frozen

__all__ = ["dsr_purposes", "frozen"]


@pytest.fixture
def dsr_purposes() -> Iterator[PurposeForTests]:
    provider = PurposeForTests()
    register_purpose_provider(provider)
    yield provider
    unregister_purpose_provider(DSR)
