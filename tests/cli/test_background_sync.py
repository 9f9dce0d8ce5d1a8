"""The background sync survives an interval beyond what a thread wait accepts."""

from __future__ import annotations

import threading
from pathlib import Path

from kiosk.border.database import create_border_engine, migrate_border
from kiosk.border.sync import BorderSync
from kiosk.store.database import open_local
from tests.waiting import wait_event


class WatchedStop(threading.Event):
    """The worker's stop event, telling when the worker waits on it and how that ended."""

    def __init__(self) -> None:
        super().__init__()
        self.waiting = threading.Event()
        self.ended: list[bool | BaseException] = []

    def wait(self, timeout: float | None = None) -> bool:
        self.waiting.set()
        try:
            woke = super().wait(timeout)
        except BaseException as exc:
            self.ended.append(exc)
            raise
        self.ended.append(woke)
        return woke


def test_sync_thread_outlives_an_interval_beyond_timeout_max(tmp_path: Path) -> None:
    local = open_local(f"sqlite:///{tmp_path}/local.sqlite")
    border = create_border_engine(f"sqlite:///{tmp_path}/border.sqlite")
    migrate_border(border)
    # Config refuses this (storage.sync_interval_s <= 86400); the worker must not
    # die on it either: the wait used to raise OverflowError outside its try.
    sync = BorderSync(local, border, "K1", interval_s=1e10)
    stop = WatchedStop()
    thread = sync.start(stop)
    wait_event(stop.waiting, what="the sync worker waiting after its first cycle")
    assert sync.last_result is not None and sync.last_result.error is None
    stop.set()
    thread.join(30)
    assert not thread.is_alive()
    # The wait ran until the stop, rather than raising as it began.
    assert stop.ended == [True]
