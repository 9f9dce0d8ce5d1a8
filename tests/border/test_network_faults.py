"""Issue 23 item 3: network faults between a kiosk and the border PostgreSQL,
injected by the tests' own proxy on loopback (fault_proxy.py).

No sync call may block beyond its bounds (connect_timeout per server, the
client-side deadline of kiosk.border.deadline): a stalled link and a server
that accepts and never answers end in an error the cycle reports, with nothing
marked sent. After a cut, drops or a slow link the outbox drains exactly once:
the border holds every local event once, seq 1..n, the chain unbroken. The
lane's appends never wait on any of it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine

from kiosk.border.chain import border_copy
from kiosk.border.database import BorderTimeouts, create_border_engine
from kiosk.border.deadline import WATCHDOG
from kiosk.border.sync import BorderSync, SyncResult
from kiosk.store.database import open_local
from kiosk.store.event_log import EventLog
from kiosk.store.verify import verify_log
from tests.border.conftest import KIOSK1_ROLE, PgBorder, make_record
from tests.border.fault_proxy import FaultProxy, fault_proxy
from tests.waiting import wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

FAST = BorderTimeouts(connect_s=2, deadline_s=3, keepalive_idle_s=2, keepalive_interval_s=1,
                      keepalive_count=2, tcp_user_timeout_ms=3000)  # fmt: skip
# The longest a cycle may take with the link stalled: the pre-ping's deadline,
# one reconnect attempt's connect_timeout, one more deadline, and slack for a
# machine busy with other tests.
CYCLE_BOUND_S = 2 * FAST.deadline_s + FAST.connect_s + 10
# Over a link with 500 ms each way a connection takes some 4 round trips (TLS,
# startup, authentication): 4 s. FAST's 2 s would never connect.
SLOW_LINK = BorderTimeouts(connect_s=10, deadline_s=8, keepalive_idle_s=2, keepalive_interval_s=1,
                           keepalive_count=2, tcp_user_timeout_ms=8000)  # fmt: skip


@pytest.fixture
def proxy(pg_border: PgBorder) -> Iterator[FaultProxy]:
    with fault_proxy(pg_border.url.host or "127.0.0.1", pg_border.url.port or 5432) as p:
        yield p


def _kiosk_via(pg_border: PgBorder, *ports: int, timeouts: BorderTimeouts = FAST) -> Engine:
    hosts = ",".join(f"127.0.0.1:{p}" for p in ports)
    url = f"postgresql://{KIOSK1_ROLE}@{hosts}/{pg_border.name}"
    return create_border_engine(url, timeouts)


def _local(tmp_path: Path, n: int) -> tuple[Engine, EventLog]:
    local = open_local(f"sqlite:///{tmp_path}/local.sqlite")
    log = EventLog(local)
    for _ in range(n):
        log.append(make_record("K1", finished_at=datetime.now(UTC)))
    return local, log


def _bounded_cycle(sync: BorderSync) -> tuple[SyncResult, float]:
    """run_once on a thread: a hang fails here, after CYCLE_BOUND_S, not at the suite's timeout."""
    out: list[SyncResult] = []
    started = time.monotonic()
    worker = threading.Thread(target=lambda: out.append(sync.run_once()), daemon=True)
    worker.start()
    worker.join(CYCLE_BOUND_S)
    assert not worker.is_alive(), f"a sync cycle blocked for more than {CYCLE_BOUND_S} s"
    return out[0], time.monotonic() - started


def _exactly_once(local: Engine, kiosk: Engine, pg_border: PgBorder) -> None:
    committed = EventLog(local).events()
    copy = border_copy(kiosk, "K1")
    assert sorted(copy.hashes) == list(range(1, len(committed) + 1))  # each seq once
    assert copy.hashes == {e.seq: e.chain_hash for e in committed}
    report = verify_log(local, None, copy)
    assert report.valid, report.faults


def test_stalled_link_and_silent_server_end_in_an_error_within_bounds(
    pg_border: PgBorder, proxy: FaultProxy, tmp_path: Path
) -> None:
    local, _ = _local(tmp_path, 30)
    kiosk = _kiosk_via(pg_border, proxy.port)
    sync = BorderSync(local, kiosk, "K1", batch_size=10)
    first, _ = _bounded_cycle(sync)  # the pool now holds an open connection
    assert first.error is None and first.pending == 0
    fired = WATCHDOG.fired

    proxy.set("stall")  # the open connection goes silent mid-session
    for _ in range(20):
        EventLog(local).append(make_record("K1", finished_at=datetime.now(UTC)))
    stalled, took = _bounded_cycle(sync)
    assert stalled.error is not None and stalled.pushed == 0 and stalled.pending == 20
    assert WATCHDOG.fired > fired, "the deadline did not cut the silent connection"
    assert took >= FAST.deadline_s * 0.9  # it really waited on the link, then gave up

    proxy.set("mute")  # a server that accepts and never answers
    muted, _ = _bounded_cycle(sync)
    assert muted.error is not None and muted.pending == 20

    proxy.set("pass")
    back, _ = _bounded_cycle(sync)
    assert back.error is None and back.pending == 0
    _exactly_once(local, kiosk, pg_border)
    kiosk.dispose()


def test_a_silent_first_server_is_skipped_for_the_next_in_the_url(
    pg_border: PgBorder, proxy: FaultProxy, tmp_path: Path
) -> None:
    local, _ = _local(tmp_path, 5)
    proxy.set("mute")  # listed first: accepts, never answers
    kiosk = _kiosk_via(pg_border, proxy.port, pg_border.url.port or 5432)
    result, took = _bounded_cycle(BorderSync(local, kiosk, "K1"))
    assert result.error is None and result.pending == 0
    assert proxy.accepted >= 1  # it did try the silent one first
    assert took < CYCLE_BOUND_S
    kiosk.dispose()


def test_cut_drops_and_delay_then_catch_up_exactly_once(
    pg_border: PgBorder, proxy: FaultProxy, tmp_path: Path
) -> None:
    local, log = _local(tmp_path, 600)
    kiosk = _kiosk_via(pg_border, proxy.port, timeouts=SLOW_LINK)
    sync = BorderSync(local, kiosk, "K1", batch_size=25, interval_s=0.05)
    errors: list[str] = []
    stop = threading.Event()
    lane_waits: list[float] = []

    def append() -> None:
        started = time.monotonic()
        log.append(make_record("K1", finished_at=datetime.now(UTC)))
        lane_waits.append(time.monotonic() - started)

    def watch() -> None:  # record every failed cycle as it happens
        while not stop.is_set():
            r = sync.last_result
            if r is not None and r.error is not None and (not errors or errors[-1] != r.error):
                errors.append(r.error)
            stop.wait(0.01)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    worker = sync.start(stop)
    try:
        wait_until(lambda: sync.pending() < 500, 60, "the burst under way")
        # Dropped connections in the middle of batches: some commits land
        # with their acknowledgement lost and are re-delivered.
        for _ in range(8):
            proxy.drop()
            append()
            time.sleep(0.15)
        proxy.set("cut")
        cut_errors = len(errors)
        for _ in range(40):
            append()
        wait_until(lambda: len(errors) > cut_errors, 30, "a cycle failing on the cut link")
        proxy.set("delay")  # the link comes back slow: 500 ms each way
        for _ in range(10):
            append()
        slow_from = sync.pending()
        assert slow_from >= 50  # what the cut held back is still to go
        wait_until(lambda: sync.pending() < slow_from, 120, "a batch delivered over the slow link")
        proxy.set("pass")
        wait_until(lambda: sync.pending() == 0, 120, "the outbox drained")
    finally:
        stop.set()
        worker.join(2 * SLOW_LINK.deadline_s + SLOW_LINK.connect_s + 10)
        watcher.join(5)
    assert not worker.is_alive()
    assert errors, "no fault reached the sync: nothing was tested"
    assert max(lane_waits) < 1.0, f"the lane waited {max(lane_waits):.3f} s"
    assert len(EventLog(local).events()) == 658
    _exactly_once(local, kiosk, pg_border)
    kiosk.dispose()


def test_an_exit_lane_lookup_on_a_stalled_link_is_unreachable_within_seconds(
    pg_border: PgBorder, proxy: FaultProxy
) -> None:
    """The lane waits for its look-ups: on a silent link it gets "unreachable"
    (and refers) after LOOKUP_TIMEOUTS' deadline, not the sync's 45 s."""
    from kiosk.border.database import LOOKUP_TIMEOUTS
    from kiosk.border.lookups import BorderApiSource

    source = BorderApiSource(_kiosk_via(pg_border, proxy.port, timeouts=BorderTimeouts()))
    assert source.entry_record("X1234567", "USA") is None  # the pool holds a connection
    assert source.status.state == "not_found"
    proxy.set("stall")
    started = time.monotonic()
    assert source.entry_record("X1234567", "USA") is None
    took = time.monotonic() - started
    assert source.status.state == "unreachable"
    bound = LOOKUP_TIMEOUTS.deadline_s + 2 * LOOKUP_TIMEOUTS.connect_s + 3
    assert took < bound, f"the lane waited {took:.1f} s for a look-up"
    source.engine.dispose()
