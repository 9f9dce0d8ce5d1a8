"""Project-wide test set-up: Qt runs offscreen, data stays in pytest's tmp dirs."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"

# Property tests judge behaviour, not speed: no per-example deadline (a loaded CI
# machine must not turn a slow example into a failure); the derandomized CI profile
# makes a red run reproducible.
from hypothesis import settings  # noqa: E402

from tests.ci import under_ci  # noqa: E402  (the one definition of "under CI")

settings.register_profile("egate", deadline=None)
settings.register_profile("ci", deadline=None, derandomize=True)
settings.load_profile("ci" if under_ci() else "egate")
