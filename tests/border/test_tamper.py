"""Issue 10 item 2: tampering with the local log must not reach the border.

Each scenario reproduces the attack review on a real PostgreSQL border (kiosk
K1's own role): the SQLite triggers are dropped, the log or the outbox is
changed, and then `egate sync --once`, `egate log verify` and `egate border
entry-record` run through the command-line entry point. Before revision b0002
and the local 0002 migration, sync pushed the forged rows with `error: null`.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, text

from kiosk.cli.main import main
from kiosk.store.database import open_local
from kiosk.store.event_log import GENESIS, RECORD_FIELDS, EventLog, EventRecord, chain
from tests.border.conftest import KIOSK1_ROLE, ROLES, PgBorder, append, make_record

pytestmark = pytest.mark.postgres

NOW = datetime.now(UTC).replace(microsecond=0)


def egate(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any]:
    try:
        status = main([*argv, "--json"])
    except SystemExit as exc:
        status = int(exc.code or 0)
    out = capsys.readouterr().out
    return status, json.loads(out) if out.strip() else None


class Kiosk:
    """Kiosk K1: its local SQLite file, its config, the border as K1's role."""

    def __init__(self, tmp_path: Path, pg: PgBorder, monkeypatch: pytest.MonkeyPatch) -> None:
        self.path = tmp_path / "local.sqlite"
        self.key = tmp_path / "log-seal.key"  # the default: beside, not inside, the file
        border = pg.url.set(username=KIOSK1_ROLE).render_as_string(hide_password=False)
        config = tmp_path / "kiosk.toml"
        config.write_text(
            f'[kiosk]\nid = "K1"\n[storage]\nlocal_url = "sqlite:///{self.path}"\n'
            f'border_url = "{border}"\n'
        )
        monkeypatch.setenv("EGATE_CONFIG", str(config))
        self.local: Engine = open_local(f"sqlite:///{self.path}")
        self.pg = pg

    def log(self, *outcomes: str) -> list[str]:
        records = [
            make_record(outcome=o, document_number=f"DOC{uuid.uuid4().hex[:6].upper()}",
                        finished_at=NOW)
            for o in outcomes
        ]  # fmt: skip
        return append(self.local, *records)

    def tamper(self, *statements: str) -> None:
        """What an attacker with the file does: drop the triggers, then write."""
        self.local.dispose()
        with sqlite3.connect(self.path) as db:
            triggers = [
                r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='trigger'")
            ]
            for name in triggers:
                db.execute(f"DROP TRIGGER {name}")
            for statement in statements:
                db.execute(statement)

    def alerts(self) -> list[tuple[str, str, int | None]]:
        from kiosk.border.models import KioskAlert  # here: the module runs on old code too

        supervisor = self.pg.engine_as(ROLES.supervisor)
        try:
            with supervisor.connect() as c:
                rows = c.execute(
                    select(KioskAlert.kiosk_id, KioskAlert.kind, KioskAlert.log_seq).order_by(
                        KioskAlert.id
                    )
                )
                return [(r[0], r[1], r[2]) for r in rows]
        finally:
            supervisor.dispose()

    def border_seqs(self) -> list[int]:
        owner = self.pg.engine_as(None)
        try:
            with owner.connect() as c:
                return list(
                    c.execute(
                        text("SELECT log_seq FROM events WHERE kiosk_id = 'K1' ORDER BY log_seq")
                    ).scalars()
                )
        finally:
            owner.dispose()


@pytest.fixture
def kiosk(tmp_path: Path, pg_border: PgBorder, monkeypatch: pytest.MonkeyPatch) -> Kiosk:
    return Kiosk(tmp_path, pg_border, monkeypatch)


def _document(kiosk: Kiosk, seq: int) -> str:
    with kiosk.local.connect() as c:
        doc = c.execute(text("SELECT document FROM transaction_events WHERE seq = :s"), {"s": seq})
        return str(json.loads(doc.scalar_one())["document_number"])


def test_a_referred_event_changed_to_admitted_is_not_pushed(
    kiosk: Kiosk, capsys: pytest.CaptureFixture[str]
) -> None:
    kiosk.log("admitted", "admitted", "referred", "admitted")
    forged_doc = _document(kiosk, 3)
    kiosk.tamper(
        "UPDATE transaction_events SET outcome = 'admitted', decision = 'admit', "
        "basis = 'transit_240h', reasons = '[]' WHERE seq = 3"
    )
    status, out = egate(capsys, "sync", "--once")
    assert status == 75 and out["pushed"] == 2
    assert "event 3 does not match its chain hash" in out["error"]
    assert kiosk.border_seqs() == [1, 2]
    status, out = egate(
        capsys, "border", "entry-record", "--document-number", forged_doc, "--issuing-state", "USA"
    )
    assert status == 0 and out["entry_record"] is None  # the forged admission never arrived
    status, out = egate(capsys, "log", "verify")
    assert status == 65 and out["valid"] is False
    assert out["first_broken"]["kind"] == "altered" and out["first_broken"]["seq"] == 3
    assert ("K1", "local_log", 3) in kiosk.alerts()


def test_a_changed_document_number_is_found_and_not_pushed(
    kiosk: Kiosk, capsys: pytest.CaptureFixture[str]
) -> None:
    kiosk.log("admitted", "admitted", "admitted")
    kiosk.tamper(
        "UPDATE transaction_events SET document = "
        "json_set(document, '$.document_number', 'FORGED01') WHERE seq = 2"
    )
    status, out = egate(capsys, "sync", "--once")
    assert status == 75 and out["pushed"] == 1 and out["pending"] == 2
    status, out = egate(
        capsys, "border", "entry-record", "--document-number", "FORGED01", "--issuing-state", "USA"
    )
    assert out["entry_record"] is None
    status, out = egate(capsys, "log", "verify")
    assert status == 65 and out["first_broken"]["seq"] == 2


def test_an_event_whose_json_is_not_json_is_altered_not_a_crash(
    kiosk: Kiosk, capsys: pytest.CaptureFixture[str]
) -> None:
    kiosk.log("admitted", "admitted", "admitted")
    kiosk.tamper("UPDATE transaction_events SET checks = '{not json' WHERE seq = 2")
    status, out = egate(capsys, "sync", "--once")
    assert status == 75 and out["pushed"] == 1 and out["pending"] == 2
    assert "event 2 cannot be read" in out["error"]
    assert kiosk.border_seqs() == [1]
    assert ("K1", "local_log", 2) in kiosk.alerts()
    status, out = egate(capsys, "log", "verify")
    assert status == 65 and out["valid"] is False
    assert out["first_broken"]["kind"] == "altered" and out["first_broken"]["seq"] == 2


def test_a_deleted_event_is_an_error_not_pending_forever(
    kiosk: Kiosk, capsys: pytest.CaptureFixture[str]
) -> None:
    kiosk.log("admitted", "referred", "admitted")
    kiosk.tamper("DELETE FROM transaction_events WHERE seq = 2")
    status, out = egate(capsys, "sync", "--once")
    assert status == 75 and out["pushed"] == 0
    assert "has no event" in out["error"]
    status, out = egate(capsys, "log", "verify")
    kinds = {(f["kind"], f["seq"]) for f in out["faults"]}
    assert status == 65 and ("deleted", 2) in kinds


def test_a_deleted_outbox_row_is_an_error_not_pending_zero(
    kiosk: Kiosk, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = kiosk.log("admitted", "admitted", "admitted")
    kiosk.tamper(f"DELETE FROM outbox WHERE event_id = '{ids[1]}'")
    status, out = egate(capsys, "sync", "--once")
    assert status == 75 and out["pushed"] == 1
    assert "event 2 has no outbox row" in out["error"]
    assert kiosk.border_seqs() == [1]
    status, out = egate(capsys, "log", "verify")
    assert status == 65
    assert out["first_broken"] == {
        "kind": "outbox",
        "seq": 2,
        "event_id": ids[1],
        "detail": "event has no outbox row",
    }
    assert ("K1", "outbox", 2) in kiosk.alerts()


def test_a_truncated_log_is_found_against_the_border(
    kiosk: Kiosk, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = kiosk.log("admitted", "admitted", "referred", "referred")
    status, out = egate(capsys, "sync", "--once")
    assert (status, out["pushed"], out["error"]) == (0, 4, None)
    kiosk.tamper(
        "DELETE FROM transaction_events WHERE seq > 2",
        f"DELETE FROM outbox WHERE event_id IN ('{ids[2]}', '{ids[3]}')",
    )
    status, out = egate(capsys, "log", "verify")
    assert status == 0 and out["valid"]  # what remains is a valid chain...
    status, out = egate(capsys, "log", "verify", "--against-border")
    assert status == 65 and out["border_head"]["seq"] == 4  # ...that the border contradicts
    assert {(f["kind"], f["seq"]) for f in out["faults"]} == {("truncated", 3), ("truncated", 4)}
    assert out["head"]["seq"] == 2
    # The sync refuses to continue a chain the border has seen further: its
    # heartbeat reports a head behind the border's (issue 19 item 2).
    kiosk.log("admitted")
    status, out = egate(capsys, "sync", "--once")
    assert status == 75 and "rollback" in out["error"]
    assert ("K1", "rollback", 3) in kiosk.alerts()


def test_a_changed_pushed_event_diverges_from_the_border(
    kiosk: Kiosk, capsys: pytest.CaptureFixture[str]
) -> None:
    kiosk.log("referred", "admitted")
    assert egate(capsys, "sync", "--once")[0] == 0
    _rewrite_chain(kiosk, "UPDATE transaction_events SET outcome = 'admitted' WHERE seq = 1")
    status, out = egate(capsys, "log", "verify")
    assert status == 0  # no key: a recomputed chain passes locally
    status, out = egate(capsys, "log", "verify", "--against-border")
    assert status == 65 and {f["kind"] for f in out["faults"]} == {"diverged"}


def _rewrite_chain(kiosk: Kiosk, *statements: str) -> None:
    """The stronger attacker: change rows, then recompute every chain hash."""
    kiosk.tamper(*statements)
    local = open_local(f"sqlite:///{kiosk.path}")
    rows = EventLog(local).events()
    local.dispose()
    previous = GENESIS
    with sqlite3.connect(kiosk.path) as db:
        for row in rows:
            previous = chain(previous, EventRecord(**{f: getattr(row, f) for f in RECORD_FIELDS}))
            db.execute(
                "UPDATE transaction_events SET chain_hash = ? WHERE seq = ?", (previous, row.seq)
            )
    kiosk.local = open_local(f"sqlite:///{kiosk.path}")


def test_keyed_seals_find_a_rewritten_chain_without_the_border(
    kiosk: Kiosk, capsys: pytest.CaptureFixture[str]
) -> None:
    kiosk.log("referred", "admitted")
    status, out = egate(capsys, "log", "enrol")
    assert status == 0 and out["sealed"] == 2
    assert (kiosk.key.stat().st_mode & 0o777) == 0o600
    assert not str(kiosk.key).startswith(str(kiosk.path))
    assert out["border_enrolled"] is True
    assert egate(capsys, "log", "enrol")[0] == 77  # the border holds its enrolment
    from kiosk.store.seal import load_key

    sealer = load_key(kiosk.key)
    EventLog(kiosk.local, sealer).append(make_record(finished_at=NOW))
    assert egate(capsys, "log", "verify")[0] == 0
    _rewrite_chain(
        kiosk, "UPDATE transaction_events SET outcome = 'admitted', reasons = '[]' WHERE seq = 1"
    )
    status, out = egate(capsys, "log", "verify")
    assert status == 65 and out["sealed"] is True
    assert out["first_broken"]["kind"] == "altered" and out["first_broken"]["seq"] == 1
    # An event appended without the key is an insertion, and the sync holds it back.
    kiosk.tamper()
    kiosk.local = open_local(f"sqlite:///{kiosk.path}")
    status, out = egate(capsys, "sync", "--once")
    assert status == 75 and out["pushed"] == 0 and "no valid seal" in out["error"]


def test_an_event_appended_without_the_key_is_an_insertion(
    kiosk: Kiosk, capsys: pytest.CaptureFixture[str]
) -> None:
    kiosk.log("admitted")
    assert egate(capsys, "log", "enrol")[0] == 0
    from kiosk.store.seal import LogKeyError

    with pytest.raises(LogKeyError, match="sealed but the log key is missing"):
        EventLog(kiosk.local).append(make_record(finished_at=NOW))  # the kiosk's code refuses

    class Unchecked(EventLog):  # the attacker's own code does not
        def _check_key(self, *_: Any) -> None:
            pass

    Unchecked(kiosk.local).append(make_record(finished_at=NOW))  # no key: no seal
    status, out = egate(capsys, "log", "verify")
    assert status == 65 and out["first_broken"]["kind"] == "inserted"
    status, out = egate(capsys, "sync", "--once")
    assert status == 75 and out["pushed"] == 1 and "event 2 has no valid seal" in out["error"]


def test_the_border_refuses_an_event_that_does_not_continue_its_chain(
    kiosk: Kiosk, capsys: pytest.CaptureFixture[str]
) -> None:
    kiosk.log("admitted", "admitted")
    assert egate(capsys, "sync", "--once")[0] == 0
    k1 = kiosk.pg.engine_as(KIOSK1_ROLE)
    forged = {"id": uuid.uuid4(), "prev": "e" * 64}
    with k1.begin() as c:  # the kiosk's role writing directly, not through the sync
        done = c.execute(
            text(
                "INSERT INTO events (event_id, kiosk_id, port, lane, direction, outcome, "
                "reasons, document, checks, stages, started_at, finished_at, chain_hash, "
                "log_seq, prev_hash) VALUES (:id, 'K1', 'CSX', 1, 'entry', 'admitted', '[]', "
                "'{}', '{}', '{}', now(), now(), 'f', 3, :prev)"
            ),
            forged,
        )
        assert done.rowcount == 0
    assert kiosk.border_seqs() == [1, 2]
    assert kiosk.alerts() == [("K1", "chain_break", 3)]
    # The border now takes nothing from K1, not even its genuine next event.
    kiosk.log("admitted")
    status, out = egate(capsys, "sync", "--once")
    assert status == 75 and "stopped" in out["error"] and out["pending"] == 1
    with k1.connect() as c:
        head = c.execute(text("SELECT log_seq, stopped_at FROM border_chain_head('K1')")).one()
        assert head[0] == 2 and head[1] is not None
        assert c.execute(text("SELECT * FROM border_chain_head('K2')")).first() is None
    k1.dispose()
    owner_url = kiosk.pg.url.render_as_string(hide_password=False)
    status, out = egate(capsys, "border", "chain-resume", "--kiosk-id", "K1", "--url", owner_url)
    assert status == 0 and out["resumed"]["was_stopped"]
    status, out = egate(capsys, "sync", "--once")
    assert (status, out["pushed"], out["pending"]) == (0, 1, 0)


def test_alerts_are_readable_by_the_supervisor_only(kiosk: Kiosk) -> None:
    from sqlalchemy.exc import ProgrammingError

    kiosk.alerts()  # the supervisor reads (empty is fine)
    for role in (KIOSK1_ROLE, ROLES.admin):
        engine = kiosk.pg.engine_as(role)
        with pytest.raises(ProgrammingError, match="permission denied"), engine.connect() as c:
            c.execute(text("SELECT * FROM kiosk_alerts"))
        engine.dispose()


def test_a_future_finish_time_is_refused(kiosk: Kiosk) -> None:
    from sqlalchemy.exc import IntegrityError

    k1 = kiosk.pg.engine_as(KIOSK1_ROLE)
    row = {"id": uuid.uuid4(), "at": NOW + timedelta(days=1), "prev": GENESIS}
    with pytest.raises(IntegrityError, match="ahead of the border clock"), k1.begin() as c:
        c.execute(
            text(
                "INSERT INTO events (event_id, kiosk_id, port, lane, direction, outcome, "
                "reasons, document, checks, stages, started_at, finished_at, chain_hash, "
                "log_seq, prev_hash) VALUES (:id, 'K1', 'CSX', 1, 'entry', 'admitted', '[]', "
                "'{}', '{}', '{}', :at, :at, 'f', 1, :prev)"
            ),
            row,
        )
    k1.dispose()
