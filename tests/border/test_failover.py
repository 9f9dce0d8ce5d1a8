"""Issue 23 item 1: the border primary dies mid-sync and its synchronous standby
takes over.

The tests' own primary + synchronous standby (pg_cluster.py). Kiosk K1 syncs
through libpq's multi-host URL with target_session_attrs=read-write while its
lane keeps logging; the primary is SIGKILLed (every process of it) in the middle
of the burst and the standby promoted. Then: every event the kiosk had marked
sent (acknowledged by the border) is on the promoted standby before the kiosk
sends anything more, the sync resumes there on its own (same URL, same engine),
the border ends with every local event once, seq 1..n and the chain unbroken,
the lane's appends never waited on the border, and a station engine answers on
the new primary within 10 s of the promotion.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import SQLAlchemyError

from kiosk.border.chain import border_copy
from kiosk.border.database import BorderTimeouts, create_border_engine, migrate_border
from kiosk.border.roles import KioskGrant, RoleNames, provision_roles
from kiosk.border.station_tables import kiosk_status
from kiosk.border.sync import BorderSync, SyncResult
from kiosk.clock import FakeClock
from kiosk.store.database import open_local
from kiosk.store.event_log import EventLog
from kiosk.store.models import OutboxEntry
from kiosk.store.verify import verify_log
from kiosk.supervisor.officer_ops import provision_command_key
from kiosk.supervisor.officers import OfficerDirectory
from kiosk.supervisor.secrets import CHEAP_PARAMS
from kiosk.supervisor.settings import StationSettings
from kiosk.supervisor.station import Station, StationError
from tests.border.conftest import make_record
from tests.border.pg_cluster import Pair, start_pair, wait_streaming
from tests.waiting import wait_until

pytestmark = [pytest.mark.slow]

KIOSK_ROLE = "ha_k1"
FAST = BorderTimeouts(connect_s=2, deadline_s=10, keepalive_idle_s=2, keepalive_interval_s=1,
                      keepalive_count=2, tcp_user_timeout_ms=5000)  # fmt: skip
LANE_MAX_S = 1.0  # a local SQLite append; generous for a machine shared with other tests


@pytest.fixture
def pair() -> Iterator[Pair]:
    yield from start_pair()


def _provision(pair: Pair) -> None:
    with psycopg.connect(pair.primary.url(), autocommit=True, connect_timeout=5) as c:
        c.execute("CREATE DATABASE border")
    owner = create_border_engine(pair.url(), FAST)
    try:
        migrate_border(owner)
        provision_roles(owner, RoleNames.from_prefix("ha"), [KioskGrant(KIOSK_ROLE, "K1")])
    finally:
        owner.dispose()


def _acknowledged(local: Engine) -> set[str]:
    with local.connect() as c:
        rows = c.execute(select(OutboxEntry.event_id).where(OutboxEntry.sent_at.is_not(None)))
        return {str(r[0]) for r in rows}


def _timed_append(log: EventLog, waits: list[float]) -> None:
    started = time.monotonic()
    log.append(make_record("K1", finished_at=datetime.now(UTC)))
    waits.append(time.monotonic() - started)


def test_primary_killed_mid_sync_burst_standby_promoted_nothing_lost_or_doubled(
    pair: Pair, tmp_path: Path
) -> None:
    wait_streaming(pair)
    _provision(pair)
    local = open_local(f"sqlite:///{tmp_path}/local.sqlite")
    log = EventLog(local)
    for _ in range(2000):
        log.append(make_record("K1", finished_at=datetime.now(UTC)))
    kiosk = create_border_engine(pair.url(KIOSK_ROLE), FAST)
    station = create_border_engine(pair.url(), FAST)
    with station.connect() as c:  # the station's pool holds a connection to the primary
        assert c.execute(text("SELECT NOT pg_is_in_recovery()")).scalar_one()
    sync = BorderSync(local, kiosk, "K1", batch_size=40, interval_s=0.05)
    stop = threading.Event()
    worker = sync.start(stop)
    lane_waits: list[float] = []

    # The burst is under way: some batches acknowledged, most still to go.
    wait_until(lambda: len(_acknowledged(local)) >= 300, 120, "300 events acknowledged")
    assert sync.pending() > 500, "the burst ended before the kill: nothing was tested"
    pair.primary.kill()
    for _ in range(50):  # the lane keeps logging through the outage
        _timed_append(log, lane_waits)
    stop.set()
    worker.join(timeout=60)  # every border call is bounded: the worker comes back
    assert not worker.is_alive(), "the sync thread is blocked on the dead primary"
    acknowledged = _acknowledged(local)
    assert sync.last_result is not None and sync.last_result.error is not None

    pair.standby.promote()
    promoted_at = time.monotonic()
    with psycopg.connect(pair.standby.url(database="border"), connect_timeout=5) as c:
        held = {str(r[0]) for r in c.execute("SELECT event_id FROM events")}
    lost = acknowledged - held
    assert not lost, f"{len(lost)} acknowledged events missing on the promoted standby"

    # The station's engine: its pooled connection died with the primary; the
    # pre-ping notices and the same URL reaches the promoted standby.
    with station.connect() as c:
        assert c.execute(text("SELECT NOT pg_is_in_recovery()")).scalar_one()
    assert time.monotonic() - promoted_at < 10.0

    stop = threading.Event()
    worker = sync.start(stop)
    for _ in range(50):
        _timed_append(log, lane_waits)
    try:
        wait_until(lambda: sync.pending() == 0, 120, "the outbox drained to the new primary")
    finally:
        stop.set()
        worker.join(timeout=60)
    assert max(lane_waits) < LANE_MAX_S, f"the lane waited {max(lane_waits):.3f} s"

    committed = EventLog(local).events()
    assert len(committed) == 2100
    copy = border_copy(kiosk, "K1")
    assert sorted(copy.hashes) == list(range(1, len(committed) + 1))  # each seq once
    assert copy.hashes == {e.seq: e.chain_hash for e in committed}
    with station.connect() as c:
        total, distinct = c.execute(
            text("SELECT count(*), count(DISTINCT event_id) FROM events")
        ).one()
    assert total == distinct == len(committed)
    report = verify_log(local, None, copy)
    assert report.valid, report.faults
    for engine in (kiosk, station, local):
        engine.dispose()


def _cancel_sync_rep_waits(pair: Pair, role: str) -> int:
    """pg_cancel_backend for the role's sessions waiting on the standby (what a
    runbook says to do with sessions stuck while the standby is down)."""
    with psycopg.connect(pair.primary.url(), autocommit=True, connect_timeout=5) as c:
        rows = c.execute(
            "SELECT pg_cancel_backend(pid) FROM pg_stat_activity "
            "WHERE usename = %s AND wait_event = 'SyncRep'",
            (role,),
        ).fetchall()
    return len(rows)


def test_a_commit_the_standby_never_confirmed_is_not_taken_as_delivered(
    pair: Pair, tmp_path: Path
) -> None:
    """The standby is down: the primary's commits wait for it. Cancelling such a
    wait (pg_cancel_backend) makes PostgreSQL answer the COMMIT with success and
    only a WARNING, the transaction on the primary alone. The kiosk must not
    mark those events sent (a failover now would lose them); once the standby is
    back they are confirmed, once each."""
    wait_streaming(pair)
    _provision(pair)
    local = open_local(f"sqlite:///{tmp_path}/local.sqlite")
    for _ in range(10):
        EventLog(local).append(make_record("K1", finished_at=datetime.now(UTC)))
    kiosk = create_border_engine(pair.url(KIOSK_ROLE), BorderTimeouts(connect_s=2, deadline_s=60))
    sync = BorderSync(local, kiosk, "K1", batch_size=4)
    pair.standby.stop()
    results: list[SyncResult] = []
    worker = threading.Thread(target=lambda: results.append(sync.run_once()), daemon=True)
    worker.start()
    cancelled = 0
    deadline = time.monotonic() + 50
    while worker.is_alive() and time.monotonic() < deadline:
        cancelled += _cancel_sync_rep_waits(pair, KIOSK_ROLE)  # every commit that waits
        worker.join(0.1)
    assert not worker.is_alive() and cancelled >= 1
    result = results[0]
    assert result.error is not None and "synchronous standby" in result.error
    assert result.pending == 10 and not _acknowledged(local)

    pair.standby.start()
    wait_streaming(pair)
    result = sync.run_once()
    assert result.error is None and result.pending == 0
    committed = EventLog(local).events()
    copy = border_copy(kiosk, "K1")
    assert sorted(copy.hashes) == list(range(1, 11))
    assert copy.hashes == {e.seq: e.chain_hash for e in committed}
    for engine in (kiosk, local):
        engine.dispose()


def test_officer_actions_through_a_failover_none_lost_none_doubled(pair: Pair) -> None:
    """A supervisor keeps issuing lane commands while the primary is SIGKILLed and
    the standby promoted: each action either failed with an error or is on the
    promoted server, exactly once, the officer log still verifies, and the
    station acts again within 10 s of the promotion, with the same session."""
    wait_streaming(pair)
    _provision(pair)
    clock = FakeClock(datetime.now(UTC))
    settings = StationSettings(idle_sign_out_s=3600)
    owner = create_border_engine(pair.url(), FAST)
    provision_command_key(owner, "K1", clock)
    now = datetime.now(UTC)
    with owner.begin() as c:  # the lane as its agent would have reported it
        c.execute(kiosk_status.insert().values(
            kiosk_id="K1", port="CSX", lane=1, direction="entry", state="idle",
            in_service=True, pending_events=0, state_since=now, heartbeat_at=now,
        ))  # fmt: skip
    OfficerDirectory(owner, clock, settings, CHEAP_PARAMS).add(
        "S1", "Sam Supervisor", "supervisor", "sam-secret-3"
    )
    engine = create_border_engine(pair.url("ha_supervisor"), FAST)
    station = Station(
        engine, clock, settings, OfficerDirectory(engine, clock, settings, CHEAP_PARAMS)
    )
    station.sign_in("S1", "sam-secret-3")
    done: list[tuple[float, str]] = []  # (when, action id) of every acknowledged action
    failed: list[str] = []
    stop = threading.Event()

    def officer() -> None:
        while not stop.is_set():
            try:
                result = station.lane_command("K1", "reset", "traveller_stuck")
            except (StationError, SQLAlchemyError) as exc:
                failed.append(str(exc)[:200])
                stop.wait(0.2)
                continue
            done.append((time.monotonic(), str(result.action_id)))

    worker = threading.Thread(target=officer, daemon=True)
    worker.start()
    try:
        wait_until(lambda: len(done) >= 5 or len(failed) >= 5, 60, "officer actions under way")
        assert len(done) >= 5, failed[:3]
        pair.primary.kill()
        wait_until(lambda: failed, 60, "an action failing on the dead primary")
        pair.standby.promote()
        promoted_at = time.monotonic()
        wait_until(lambda: done[-1][0] > promoted_at, 30, "an action on the promoted standby")
        assert done[-1][0] - promoted_at < 10.0
        after = len(done)
        wait_until(lambda: len(done) >= after + 3, 30, "actions going on")
    finally:
        stop.set()
        worker.join(60)
    assert not worker.is_alive()
    acknowledged = [a for _, a in done]
    with owner.connect() as c:
        held = [str(r[0]) for r in c.execute(text("SELECT action_id FROM officer_actions"))]
    assert len(held) == len(set(held))  # none doubled
    assert set(acknowledged) <= set(held), "an acknowledged officer action was lost"
    report = station.verify_log()
    assert report["valid"], report
    for e in (owner, engine):
        e.dispose()
