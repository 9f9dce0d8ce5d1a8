"""The one definition of "running under CI" for the whole test suite.

CI is set (by every CI service) to a non-empty value other than "false" or "0"
(any case). Under CI a missing test service - PostgreSQL, pcscd with the vpcd
virtual reader - is a failure, never a skip: a red run must not turn green by
losing the environment. Locally the same tests skip with the reason.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def under_ci(environ: dict[str, str] | None = None) -> bool:
    value = (os.environ if environ is None else environ).get("CI", "").strip()
    return value.lower() not in ("", "false", "0")


def unavailable(message: str) -> NoReturn:
    """A test service is missing: fail under CI, skip elsewhere."""
    if under_ci():
        pytest.fail(f"{message} (CI is set, so this fails instead of skipping)")
    pytest.skip(message)
