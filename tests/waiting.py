"""The one way tests wait for something to happen.

Prefer an event, a queue or a callback the code offers (`wait_event`); poll only
state the code exposes no other way (`wait_until`). Either way a timeout is a
failure that names what was awaited, and a timeout is generous because it only
costs time when the test is failing anyway: a busy machine must not fail a test.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

DEFAULT_TIMEOUT_S = 30.0


def wait_until(
    predicate: Callable[[], object],
    timeout: float = DEFAULT_TIMEOUT_S,
    what: str = "",
    interval: float = 0.02,
) -> None:
    """Return once `predicate()` is truthy; AssertionError naming `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() >= deadline:
            # One last look: the condition may have come true while we slept.
            if predicate():
                return
            raise AssertionError(f"not seen within {timeout:g} s: {what or predicate!r}")
        time.sleep(interval)


def wait_event(event: threading.Event, timeout: float = DEFAULT_TIMEOUT_S, what: str = "") -> None:
    """Return once `event` is set; AssertionError naming `what` after `timeout` s."""
    if not event.wait(timeout):
        raise AssertionError(f"not seen within {timeout:g} s: {what or event!r}")
