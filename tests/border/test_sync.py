"""BorderSync against the SQLite stand-in and a real PostgreSQL (kiosk role)."""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from kiosk.border.models import BorderEvent, KioskAlert
from kiosk.border.publish import prepare, publish, withdraw
from kiosk.border.sync import BorderSync
from kiosk.border.sync.pull import HEARTBEAT_KEY, HEARTBEAT_KIND
from kiosk.store.event_log import GENESIS, EventLog
from kiosk.store.models import OutboxEntry
from kiosk.store.reference import ReferenceStore
from kiosk.store.verify import verify_log
from tests.border.conftest import AT, Border, append, make_record


def border_ids(engine: Engine) -> list[str]:
    with engine.connect() as c:
        return sorted(str(e) for e in c.scalars(select(BorderEvent.event_id)))


def outbox(local: Engine) -> dict[str, tuple[Any, int, str | None]]:
    with local.connect() as c:
        rows = c.execute(
            select(
                OutboxEntry.event_id,
                OutboxEntry.sent_at,
                OutboxEntry.attempts,
                OutboxEntry.last_error,
            )
        )
        return {r[0]: (r[1], r[2], r[3]) for r in rows}


def test_push_delivers_in_batches_and_marks_the_outbox(border: Border, local: Engine) -> None:
    ids = append(local, *(make_record(document_number=f"D{i}") for i in range(5)))
    sync = BorderSync(local, border.kiosk, "K1", batch_size=2)
    result = sync.push()
    assert (result.pushed, result.pending, result.error) == (5, 0, None)
    assert border_ids(border.owner) == sorted(ids)
    assert all(
        sent is not None and attempts == 1 and err is None
        for sent, attempts, err in outbox(local).values()
    )
    with Session(border.owner) as s:
        ev = s.get_one(BorderEvent, uuid.UUID(ids[0]))
    assert (ev.kiosk_id, ev.document_number, ev.issuing_state, ev.outcome) == (
        "K1",
        "D0",
        "USA",
        "admitted",
    )
    assert ev.started_at == AT and ev.finished_at == AT
    assert ev.permitted_until is not None and ev.permitted_until.isoformat() == (
        "2026-03-11T15:59:59+00:00"
    )
    assert ev.document["surname"] == "DOE" and ev.reasons == []
    assert ev.chain_hash == EventLog(local).events()[0].chain_hash
    assert ev.received_at is not None
    again = sync.run_once()
    assert (again.pushed, again.pending, again.error) == (0, 0, None)
    assert len(border_ids(border.owner)) == 5


def test_lost_acknowledgement_is_redelivered_exactly_once(
    border: Border, local: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = append(local, *(make_record() for _ in range(3)))
    sync = BorderSync(local, border.kiosk, "K1")

    def crash(*_args: Any) -> None:  # the kiosk dies after the border commit
        raise RuntimeError("power cut")

    monkeypatch.setattr(sync.pusher, "_mark", crash)
    with pytest.raises(RuntimeError):
        sync.push()
    assert border_ids(border.owner) == sorted(ids)
    assert sync.pending() == 3  # the outbox never heard back

    restarted = BorderSync(local, border.kiosk, "K1")
    result = restarted.push()
    assert (result.pushed, result.duplicates, result.pending, result.error) == (3, 3, 0, None)
    assert border_ids(border.owner) == sorted(ids)  # each event exactly once


def test_an_outage_loses_nothing_and_a_later_push_delivers_once(
    border: Border, local: Engine
) -> None:
    first = append(local, make_record(), make_record())
    sync = BorderSync(local, border.kiosk, "K1", batch_size=2)
    assert sync.push().pushed == 2
    later = append(local, *(make_record() for _ in range(3)))
    with border.outage():
        failed = sync.run_once()
        assert failed.error is not None and failed.pushed == 0
        assert failed.pending == 3
        again = sync.run_once()  # still down: attempts keep counting
        assert again.error is not None
    box = outbox(local)
    # The batch that met the outage counts its attempts; the push stops there.
    for event_id in later[:2]:
        sent, attempts, error = box[event_id]
        assert sent is None and attempts == 2 and error and error.startswith("push:")
    assert box[later[2]] == (None, 0, None)
    log = EventLog(local)
    assert log.count() == 5 and verify_log(log.engine, log.sealer).valid  # lane data intact
    recovered = sync.run_once()
    assert (recovered.pushed, recovered.pending, recovered.error) == (3, 0, None)
    assert border_ids(border.owner) == sorted(first + later)
    assert all(err is None for _s, _a, err in outbox(local).values())


def alerts(border: Border) -> list[tuple[str, str, int | None]]:
    with border.owner.connect() as c:
        rows = c.execute(
            select(KioskAlert.kiosk_id, KioskAlert.kind, KioskAlert.log_seq).order_by(KioskAlert.id)
        )
        return [(r[0], r[1], r[2]) for r in rows]


def test_an_event_id_held_by_another_event_stops_the_chain_with_an_alert(
    border: Border, local: Engine
) -> None:
    [clash, fine] = append(local, make_record(), make_record())
    # Kiosk K2 already sent a different event under the same id.
    other = make_record("K2", event_id=clash)
    row: dict[str, Any] = {
        "event_id": uuid.UUID(clash), "kiosk_id": "K2", "port": "CSX", "lane": 2,
        "direction": "entry", "outcome": "referred", "reasons": [], "document": {},
        "checks": {}, "stages": {}, "started_at": other.started_at,
        "finished_at": other.finished_at, "chain_hash": "f" * 64, "log_seq": 1,
        "prev_hash": GENESIS,
    }  # fmt: skip
    with border.owner.begin() as c:
        c.execute(BorderEvent.__table__.insert(), row)
    result = BorderSync(local, border.kiosk, "K1").push()
    assert (result.pushed, result.pending) == (0, 2)
    assert result.error is not None and "stopped" in result.error
    assert "held by a different event" in result.error or "continue" in result.error
    box = outbox(local)
    assert box[clash][0] is None and box[fine][0] is None
    assert alerts(border) == [("K1", "event_id_taken", 1)]
    # The border takes nothing more from K1 until an administrator resumes it.
    again = BorderSync(local, border.kiosk, "K1").push()
    assert again.pushed == 0 and again.error is not None and "stopped" in again.error
    assert len(alerts(border)) == 1


def test_an_event_that_cannot_be_sent_stops_the_push_there(border: Border, local: Engine) -> None:
    good = append(local, _traveller(), _traveller())
    [foreign] = append(local, make_record("OLD-ID"))
    append(local, make_record(event_id="not-a-uuid"), make_record())
    result = BorderSync(local, border.kiosk, "K1", batch_size=1).push()
    # The chain is pushed in order: what follows the unsendable event waits.
    assert (result.pushed, result.rejected, result.pending) == (2, 1, 3)
    assert result.error is not None and "belongs to kiosk 'OLD-ID'" in result.error
    assert "belongs to kiosk 'OLD-ID'" in (outbox(local)[foreign][2] or "")
    assert border_ids(border.owner) == sorted(good)
    assert alerts(border) == [("K1", "refused", 3)]


def _publish(border: Border, kind: str, key: str, payload: bytes = b"") -> None:
    publish(border.owner, prepare(kind, payload, key), "test")


def test_pull_copies_changes_and_withdrawals(border: Border, local: Engine) -> None:
    store = ReferenceStore(local)
    _publish(border, "watchlist", "USA:X1")
    _publish(border, "watchlist", "D:Y2")
    sync = BorderSync(local, border.kiosk, "K1")
    first = sync.pull()
    assert (first.pulled, first.error) == (2, None)
    item = store.get("watchlist", "USA:X1")
    assert item is not None and item.provenance.startswith("border:2")
    heartbeat = store.get(HEARTBEAT_KIND, HEARTBEAT_KEY)
    assert heartbeat is not None
    assert sync.pull().pulled == 0  # nothing new
    beat2 = store.get(HEARTBEAT_KIND, HEARTBEAT_KEY)
    assert beat2 is not None and beat2.imported_at >= heartbeat.imported_at

    assert withdraw(border.owner, "watchlist", "USA:X1")
    store.put("watchlist", "GBR:LOCAL1", b"", "operator import")  # not the border's
    result = sync.pull()
    assert (result.pulled, result.withdrawn) == (0, 1)
    assert store.get("watchlist", "USA:X1") is None
    assert store.get("watchlist", "D:Y2") is not None
    assert store.get("watchlist", "GBR:LOCAL1") is not None


def test_pull_replaces_a_changed_payload_but_not_a_newer_local_import(
    border: Border, local: Engine
) -> None:
    from policy.shipped import shipped_pack_texts

    texts = list(shipped_pack_texts().values())
    store = ReferenceStore(local)
    publish(border.owner, prepare("policy_pack", texts[0], "lane-pack"), "test")
    sync = BorderSync(local, border.kiosk, "K1")
    assert sync.pull().pulled == 1
    publish(border.owner, prepare("policy_pack", texts[1], "lane-pack"), "test")
    assert sync.pull().pulled == 1
    item = store.get("policy_pack", "lane-pack")
    assert item is not None and item.payload == texts[1]
    # An operator imports a different pack locally, after the border's publication:
    store.put("policy_pack", "lane-pack", texts[0], "operator import")
    assert sync.pull().pulled == 0
    item = store.get("policy_pack", "lane-pack")
    assert item is not None and item.payload == texts[0]
    # ...until the border publishes again.
    publish(border.owner, prepare("policy_pack", texts[1] + b"\n", "lane-pack"), "test")
    assert sync.pull().pulled == 1


def test_pull_during_an_outage_keeps_the_local_copy(border: Border, local: Engine) -> None:
    _publish(border, "watchlist", "USA:X1")
    sync = BorderSync(local, border.kiosk, "K1")
    sync.pull()
    with border.outage():
        result = sync.pull()
    assert result.error is not None and result.error.startswith("pull:")
    assert ReferenceStore(local).get("watchlist", "USA:X1") is not None


def test_run_forever_syncs_on_its_own_thread_until_stopped(border: Border, local: Engine) -> None:
    sync = BorderSync(local, border.kiosk, "K1", interval_s=0.05)
    stop = threading.Event()
    thread = sync.start(stop)
    try:
        ids = append(local, make_record(), make_record())
        deadline = time.monotonic() + 10
        while sync.pending() and time.monotonic() < deadline:
            time.sleep(0.02)
        if sync.pending():
            with border.owner.connect() as c:
                alerts = c.execute(text("select kind, detail from kiosk_alerts")).all()
            raise AssertionError((sync.last_result, alerts))
    finally:
        stop.set()
        thread.join(timeout=5)
    assert not thread.is_alive()
    assert border_ids(border.owner) == sorted(ids)
    assert sync.last_result is not None and sync.last_result.error is None


def test_pending_counts_only_unsent(border: Border, local: Engine) -> None:
    append(local, make_record())
    sync = BorderSync(local, border.kiosk, "K1")
    assert sync.pending() == 1
    sync.push()
    with local.connect() as c:
        assert c.execute(text("select count(*) from outbox where sent_at is null")).scalar() == 0
        assert c.execute(select(func.count()).select_from(OutboxEntry)).scalar() == 1


def test_a_row_the_border_refuses_stops_the_push_at_it(border: Border, local: Engine) -> None:
    from dataclasses import replace

    good = append(local, make_record(), make_record())
    [odd] = append(local, replace(make_record(), port="CSXX"))  # too long for varchar(3)
    more = append(local, make_record())
    result = BorderSync(local, border.kiosk, "K1", batch_size=10).push()
    delivered = set(border_ids(border.owner))
    if border.backend == "postgres":  # SQLite does not enforce lengths
        assert delivered == set(good) and result.rejected == 1 and result.pending == 2
        assert "refused by the border database" in (outbox(local)[odd][2] or "")
        assert result.error is not None and "refused by the border database" in result.error
    else:
        assert delivered == {*good, odd, *more} and result.pending == 0


def test_a_long_queue_is_paged_in_log_order(border: Border, local: Engine) -> None:
    ids = append(local, *(make_record() for _ in range(25)))
    append(local, make_record("OTHER"))  # refused, must not stall paging
    result = BorderSync(local, border.kiosk, "K1", batch_size=4).push()
    assert (result.pushed, result.rejected, result.pending) == (25, 1, 1)
    assert border_ids(border.owner) == sorted(ids)


def test_two_syncs_at_once_deliver_each_event_once(border: Border, local: Engine) -> None:
    # The kiosk's own worker and an operator's `egate sync --once` may overlap.
    ids = append(local, *(make_record() for _ in range(40)))
    syncs = [BorderSync(local, border.kiosk, "K1", batch_size=5) for _ in range(2)]
    errors: list[str | None] = []
    threads = [threading.Thread(target=lambda s=s: errors.append(s.push().error)) for s in syncs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == [None, None]
    assert border_ids(border.owner) == sorted(ids)
    assert syncs[0].pending() == 0


def test_a_local_database_fault_is_reported_not_raised(border: Border, tmp_path: Path) -> None:
    from kiosk.store.database import create_local_engine

    broken = create_local_engine(f"sqlite:///{tmp_path}/never-migrated.sqlite")
    result = BorderSync(broken, border.kiosk, "K1").run_once()
    assert result.error is not None and result.error.startswith("local:")
    assert "no such table" in result.error


def test_pull_reads_only_what_changed_past_its_watermark(border: Border, local: Engine) -> None:
    store = ReferenceStore(local)
    for key in ("USA:A1", "USA:A2", "USA:A3"):
        _publish(border, "watchlist", key)
    sync = BorderSync(local, border.kiosk, "K1")
    assert sync.pull().pulled == 3  # the first pull compares everything
    with local.begin() as c:  # a local copy lost outside the sync...
        c.execute(text("DELETE FROM reference_items WHERE key = 'USA:A1'"))
    _publish(border, "watchlist", "USA:A4")
    assert sync.pull().pulled == 1  # ...is not looked for: only the new item is read
    assert store.get("watchlist", "USA:A1") is None
    assert withdraw(border.owner, "watchlist", "USA:A2")
    assert sync.pull().withdrawn == 1
    assert (sync.pull().pulled, sync.pull().withdrawn) == (0, 0)  # idle
    # A restarted sync compares everything once and restores the lost copy.
    assert BorderSync(local, border.kiosk, "K1").pull().pulled == 1
    assert store.get("watchlist", "USA:A1") is not None
    assert store.get("watchlist", "USA:A2") is None


def test_a_recreated_border_resets_the_watermark(border: Border, local: Engine) -> None:
    for key in ("USA:B1", "USA:B2"):
        _publish(border, "watchlist", key)
    sync = BorderSync(local, border.kiosk, "K1")
    sync.pull()
    with border.owner.begin() as c:  # the border database is rebuilt from scratch
        c.execute(text("DELETE FROM reference_items"))
    _publish(border, "watchlist", "USA:B3")
    assert sync.pull().pulled == 1
    assert ReferenceStore(local).get("watchlist", "USA:B3") is not None


def _traveller() -> Any:
    # One traveller each: two admitted entries of one document without an exit
    # between are an entry conflict the border alerts on (issue 19 item 8).
    return make_record(document_number=f"D{uuid.uuid4().hex[:7].upper()}")


class _AppendDuringReads:
    """Appends an event to the local log (on its own engine, as the lane does)
    right after each of the reads number `at` and `at + 1` the sync makes of
    the local database: a lane finishing travellers mid-push, deterministically."""

    def __init__(self, local: Engine, at: int) -> None:
        from sqlalchemy import event

        from kiosk.store.database import create_local_engine

        self.local = local
        self.lane = create_local_engine(str(local.url))
        self.at = at
        self.reads = 0
        self.appended: list[str] = []
        event.listen(local, "after_cursor_execute", self._after)

    def _after(self, conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        # Only plain reads outside a write transaction (a writer holds the lock).
        if not statement.lstrip().upper().startswith("SELECT"):
            return
        if conn.connection.dbapi_connection.in_transaction:
            return
        self.reads += 1
        if self.at <= self.reads <= self.at + 1:
            self.appended += append(self.lane, _traveller())

    def close(self) -> None:
        from sqlalchemy import event

        if event.contains(self.local, "after_cursor_execute", self._after):
            event.remove(self.local, "after_cursor_execute", self._after)
        self.lane.dispose()


@pytest.mark.parametrize("queued", [0, 1])
@pytest.mark.parametrize("already_pushed", [0, 1])
@pytest.mark.parametrize("at", range(1, 5))
def test_events_appended_between_the_reads_of_a_push_do_not_break_the_chain(
    border: Border, local: Engine, at: int, already_pushed: int, queued: int
) -> None:
    # Issue 10: an event the lane logged between two of the push's reads was
    # taken as already sent; the next went up without it, and the border
    # stopped the kiosk for a chain break.
    ids = append(local, *(_traveller() for _ in range(already_pushed)))
    sync = BorderSync(local, border.kiosk, "K1")
    if already_pushed:
        assert sync.push().error is None
    ids += append(local, *(_traveller() for _ in range(queued)))
    lane = _AppendDuringReads(local, at)
    try:
        first = sync.push()
        assert first.error is None, first
        assert alerts(border) == []
        lane.close()
        again = sync.push()  # what arrived too late for the first push
        assert (again.error, again.pending) == (None, 0), again
    finally:
        lane.close()
    assert lane.appended  # the interleaving happened
    assert alerts(border) == []
    assert border_ids(border.owner) == sorted(ids + lane.appended)
