"""Two writers of one local log (two lanes or processes on one database file)
must not chain onto the same predecessor: the push would stop at the fork as
an altered event, a false tamper alarm (issue 10)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from sqlalchemy import event

from kiosk.store.database import create_local_engine, open_local
from kiosk.store.event_log import EventLog
from kiosk.store.verify import verify_log
from tests.border.conftest import make_record


def test_a_second_writer_waits_for_the_first_to_chain_its_event(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/local.sqlite"
    first, second = open_local(url), create_local_engine(url)
    EventLog(first).append(make_record())
    second_started = threading.Event()
    done: list[str] = []

    def second_writer() -> None:
        done.append(EventLog(second).append(make_record()))

    @event.listens_for(second, "before_cursor_execute")
    def started(*_args: Any) -> None:
        second_started.set()  # it will wait for the lock from here on, or finish

    @event.listens_for(first, "after_cursor_execute")
    def interleave(_conn: Any, _cur: Any, statement: str, *_args: Any) -> None:
        # Right after the first writer read its predecessor's hash, the second
        # writer appends (or waits for the first writer's transaction to end).
        if threads or not statement.lstrip().upper().startswith("SELECT"):
            return
        if "chain_hash" in statement:
            thread = threading.Thread(target=second_writer)
            thread.start()
            second_started.wait()
            threads.append(thread)

    threads: list[threading.Thread] = []
    EventLog(first).append(make_record())
    for thread in threads:
        thread.join(timeout=30)
    assert threads and done, "the second writer did not run"
    report = verify_log(first, None)
    assert report.valid, report
    assert EventLog(first).count() == 3
    first.dispose()
    second.dispose()
