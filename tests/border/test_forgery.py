"""Issue 10 item 4: one kiosk cannot forge another kiosk's entry record.

On the real PostgreSQL border, as kiosk roles: the border bounds and orders
entries by its own clock, refuses a role remap without --remap, and
border_kiosk_id() answers for the caller only. (Before revision b0002 the
forged entry below was accepted and returned, the remap went through silently,
and border_kiosk_id('<K2 role>') told K1 the id "K2".)
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from kiosk.border.lookups import BorderApiSource
from kiosk.border.sync import BorderSync
from kiosk.cli.main import main
from kiosk.store.database import open_local
from tests.border.conftest import (
    KIOSK1_ROLE,
    KIOSK2_ROLE,
    ROLE_PREFIX,
    PgBorder,
    PgServer,
    append,
    make_record,
)

pytestmark = pytest.mark.postgres


def _kiosk(tmp_path: Path, pg: PgBorder, role: str, kiosk_id: str) -> tuple[Engine, BorderSync]:
    local = open_local(f"sqlite:///{tmp_path}/{kiosk_id}.sqlite")
    return local, BorderSync(local, pg.engine_as(role), kiosk_id)


def test_a_forged_entry_from_another_kiosk_is_refused_and_not_returned(
    pg_border: PgBorder, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    # K2 admits the traveller; K1 then forges a later, longer entry for them.
    local2, sync2 = _kiosk(tmp_path, pg_border, KIOSK2_ROLE, "K2")
    append(local2, make_record("K2", document_number="V1234567", finished_at=now,
                               permitted_until=(now + timedelta(days=10)).isoformat()))  # fmt: skip
    assert sync2.push().error is None
    local1, sync1 = _kiosk(tmp_path, pg_border, KIOSK1_ROLE, "K1")
    append(
        local1,
        make_record("K1", document_number="V1234567", finished_at=now + timedelta(days=1),
                    permitted_until=(now + timedelta(days=36500)).isoformat()),
    )  # fmt: skip
    result = sync1.push()
    assert result.pushed == 0 and result.error is not None
    assert "ahead of the border clock" in result.error
    record = BorderApiSource(pg_border.engine_as(KIOSK1_ROLE)).entry_record("V1234567", "USA")
    assert record is not None
    assert datetime.fromisoformat(record["permitted_until"]) < now + timedelta(days=11)


def test_a_stay_beyond_any_policy_is_refused(pg_border: PgBorder, tmp_path: Path) -> None:
    local, sync = _kiosk(tmp_path, pg_border, KIOSK1_ROLE, "K1")
    now = datetime.now(UTC)
    until = (now + timedelta(days=36500)).isoformat()
    append(local, make_record("K1", finished_at=now, permitted_until=until))
    result = sync.push()
    assert result.pushed == 0 and result.error is not None
    assert "beyond any policy" in result.error


def test_entries_are_ordered_and_bounded_by_the_border_clock(
    pg_border: PgBorder, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    local2, sync2 = _kiosk(tmp_path, pg_border, KIOSK2_ROLE, "K2")
    # Within the allowed skew, but still ahead of the border's receipt time.
    append(local2, make_record("K2", document_number="W1", finished_at=now + timedelta(minutes=4)))
    assert sync2.push().error is None
    local1, sync1 = _kiosk(tmp_path, pg_border, KIOSK1_ROLE, "K1")
    # Received later, but claiming an earlier finish: the border's order wins.
    append(local1, make_record("K1", document_number="W1", finished_at=now - timedelta(hours=1),
                               basis="visa_exemption"))  # fmt: skip
    assert sync1.push().error is None
    owner = pg_border.engine_as(None)
    with owner.connect() as c:
        received = dict(
            c.execute(text("SELECT kiosk_id, received_at FROM events ORDER BY 1")).all()
        )
        row = c.execute(
            text("SELECT kiosk_id, entered_at FROM entry_records WHERE document_number = 'W1'")
        ).one()
    # Two entries without an exit between: the later one no longer replaces
    # the record the exit lanes rely on; it is flagged (issue 19 item 8).
    assert row[0] == "K2"
    record = BorderApiSource(owner).entry_record("W1", "USA")
    assert record is not None and record["basis"] == "transit_240h"
    assert received["K2"] <= received["K1"]
    with owner.connect() as c:
        kinds = c.execute(text("SELECT kiosk_id, kind FROM kiosk_alerts")).all()
    assert [tuple(k) for k in kinds] == [("K1", "entry_conflict")]
    assert row[1] <= received["K1"]


def test_kiosk_id_lookup_answers_for_the_caller_only(pg_border: PgBorder) -> None:
    k1 = pg_border.engine_as(KIOSK1_ROLE)
    with k1.connect() as c:
        assert c.execute(text("SELECT border_kiosk_id(:r)"), {"r": KIOSK2_ROLE}).scalar() is None
        assert c.execute(text("SELECT border_kiosk_id(:r)"), {"r": KIOSK1_ROLE}).scalar() == "K1"
    k1.dispose()


def test_a_role_cannot_write_for_another_kiosk_even_to_stop_its_chain(
    pg_border: PgBorder,
) -> None:
    k1 = pg_border.engine_as(KIOSK1_ROLE)
    with pytest.raises(Exception, match="row-level security"), k1.begin() as c:
        c.execute(
            text(
                "INSERT INTO events (event_id, kiosk_id, port, lane, direction, outcome, "
                "reasons, document, checks, stages, started_at, finished_at, chain_hash, "
                "log_seq, prev_hash) VALUES (:id, 'K2', 'CSX', 1, 'entry', 'admitted', '[]', "
                "'{}', '{}', '{}', now(), now(), 'f', 1, 'bad')"
            ),
            {"id": uuid.uuid4()},
        )
    owner = pg_border.engine_as(None)
    with owner.connect() as c:
        assert c.execute(text("SELECT count(*) FROM kiosk_alerts")).scalar() == 0
        assert c.execute(text("SELECT count(*) FROM kiosk_chain_heads")).scalar() == 0


def egate(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any]:
    try:
        status = main([*argv, "--json"])
    except SystemExit as exc:
        status = int(exc.code or 0)
    out = capsys.readouterr().out
    return status, json.loads(out) if out.strip() else None


def test_init_refuses_to_remap_a_role_without_remap(
    pg_server: PgServer, capsys: pytest.CaptureFixture[str]
) -> None:
    url = pg_server.create_database().render_as_string(hide_password=False)
    a, b = f"{ROLE_PREFIX}_ra", f"{ROLE_PREFIX}_rb"
    base = ("border", "init", "--url", url, "--role-prefix", ROLE_PREFIX)
    status, out = egate(capsys, *base, "--kiosk-role", a, "--kiosk-id", "KA",
                        "--kiosk-role", b, "--kiosk-id", "KB")  # fmt: skip
    assert status == 0, out
    # Role A onto kiosk B's id: A would read and write B's events.
    status, out = egate(capsys, *base, "--kiosk-role", a, "--kiosk-id", "KB")
    assert status == 77 and out["error"]["code"] == "roles_refused"
    assert "--remap" in out["error"]["message"]
    # Role A onto a new id: also a remap of an existing role.
    status, out = egate(capsys, *base, "--kiosk-role", a, "--kiosk-id", "KC")
    assert status == 77 and "--remap" in out["error"]["message"]
    status, out = egate(capsys, *base, "--kiosk-role", a, "--kiosk-id", "KA")  # unchanged: fine
    assert status == 0 and out["roles"]["kiosks"] == {a: "KA", b: "KB"}
    status, out = egate(capsys, *base, "--kiosk-role", a, "--kiosk-id", "KB", "--remap")
    assert status == 0 and out["roles"]["kiosks"] == {a: "KB"}
