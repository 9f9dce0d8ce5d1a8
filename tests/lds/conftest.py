"""Fixtures for the LDS and document-factory tests."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from devices.simulated.pki import TestPki, make_test_pki

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"
PA_VECTORS = SHARED / "reference" / "pa-vectors"
TODAY = date(2026, 11, 26)


@pytest.fixture(scope="session")
def test_pki() -> TestPki:
    return make_test_pki("UTO")


@pytest.fixture
def pa_vectors() -> Path:
    if not PA_VECTORS.is_dir():
        pytest.skip("../shared/reference/pa-vectors is not available")
    return PA_VECTORS
