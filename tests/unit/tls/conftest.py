"""Fixtures for the TLS-layer unit tests: one PKI per session, pinned to one instant (``pki.now``)."""

from __future__ import annotations

import pytest
from tests.support.pki import PKI


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> PKI:
    return PKI(tmp_path_factory.mktemp("pki"))
