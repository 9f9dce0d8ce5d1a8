"""An unreachable PostgreSQL skips the postgres tests locally but fails them in CI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TARGET = "tests/border/test_privileges.py::test_supervisor_cannot_insert_events"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("ci", "expect_rc", "expect_text"), [("true", 1, "ERROR"), ("", 0, "skipped")]
)
def test_unreachable_server(ci: str, expect_rc: int, expect_text: str) -> None:
    env = {**os.environ, "EGATE_TEST_PG": "postgresql+psycopg://nobody@127.0.0.1:1/x", "CI": ci}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rA", TARGET],
        capture_output=True, text=True, cwd=REPO, env=env, timeout=120,
    )  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode == expect_rc, output
    assert expect_text in output and "is unreachable (set EGATE_TEST_PG)" in output
