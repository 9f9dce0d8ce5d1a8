"""The .deb, built once per test run and shared by every test that needs it."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# `make deb` stages in build/deb of the checkout: two runs in one checkout at once
# would build over each other, so the build holds this lock.
BUILD_LOCK = REPO / "build" / ".deb-build.lock"
BUILD_TIMEOUT_S = 1200  # a loaded machine; the tests' own bound (test_deb.py) is larger


@pytest.fixture(scope="session")
def deb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    out = tmp_path_factory.mktemp("dist")
    BUILD_LOCK.parent.mkdir(exist_ok=True)
    with BUILD_LOCK.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            subprocess.run(
                ["make", "-s", "deb"],
                cwd=REPO,
                check=True,
                timeout=BUILD_TIMEOUT_S,
                env={**os.environ, "EGATE_DEB_OUT": str(out)},
            )
        finally:
            shutil.rmtree(REPO / "build" / "deb", ignore_errors=True)
    (package,) = out.glob("egate_*_amd64.deb")
    yield package
