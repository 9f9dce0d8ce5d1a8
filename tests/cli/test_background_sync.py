"""The background sync survives an interval beyond what a thread wait accepts."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from kiosk.border.database import create_border_engine, migrate_border
from kiosk.border.sync import BorderSync
from kiosk.store.database import open_local


def test_sync_thread_outlives_an_interval_beyond_timeout_max(tmp_path: Path) -> None:
    local = open_local(f"sqlite:///{tmp_path}/local.sqlite")
    border = create_border_engine(f"sqlite:///{tmp_path}/border.sqlite")
    migrate_border(border)
    # Config refuses this (storage.sync_interval_s <= 86400); the worker must not
    # die on it either: the wait used to raise OverflowError outside its try.
    sync = BorderSync(local, border, "K1", interval_s=1e10)
    stop = threading.Event()
    thread = sync.start(stop)
    deadline = time.monotonic() + 30
    while sync.last_result is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert sync.last_result is not None and sync.last_result.error is None
    time.sleep(0.2)  # the first wait has begun
    assert thread.is_alive()
    stop.set()
    thread.join(5)
    assert not thread.is_alive()
