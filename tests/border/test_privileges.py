"""Least privilege on PostgreSQL, proven by connecting AS each role."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import DBAPIError, ProgrammingError

from kiosk.border.errors import RoleError
from kiosk.border.lookups import BorderApiSource
from kiosk.border.models import BorderEvent
from kiosk.border.publish import ApiRecord, add_api, prepare, publish
from kiosk.border.roles import KioskGrant, RoleNames, provision_roles
from kiosk.border.sync import BorderSync
from kiosk.store.event_log import GENESIS
from tests.border.conftest import (
    KIOSK1_ROLE,
    KIOSK2_ROLE,
    ROLE_PREFIX,
    ROLES,
    PgBorder,
    append,
    make_record,
)

pytestmark = pytest.mark.postgres

# The first event of a kiosk's chain (revision b0002: log_seq 1 after GENESIS).
INSERT = (
    "INSERT INTO events (event_id, kiosk_id, port, lane, direction, outcome, reasons, "
    "document, checks, stages, started_at, finished_at, chain_hash, log_seq, prev_hash) VALUES "
    "(:id, :kiosk, 'CSX', 1, 'entry', 'admitted', '[]', '{}', '{}', '{}', now(), now(), 'h', "
    f"1, '{GENESIS}')"
)


def run(engine: Engine, sql: str, **params: object) -> list[tuple[object, ...]]:
    with engine.begin() as c:
        result = c.execute(text(sql), params)
        return [tuple(r) for r in result] if result.returns_rows else []


def denied(engine: Engine, sql: str, **params: object) -> str:
    with pytest.raises((ProgrammingError, DBAPIError)) as info:
        run(engine, sql, **params)
    return str(info.value.orig)


@pytest.fixture
def seeded(pg_border: PgBorder, tmp_path: object) -> PgBorder:
    """One event of each kiosk, pushed by the kiosks themselves."""
    from kiosk.store.database import open_local

    for role, kiosk in ((KIOSK1_ROLE, "K1"), (KIOSK2_ROLE, "K2")):
        local = open_local(f"sqlite:///{tmp_path}/{kiosk}.sqlite")
        append(local, make_record(kiosk, document_number=f"DOC{kiosk}"))
        engine = pg_border.engine_as(role)
        assert BorderSync(local, engine, kiosk).push().pushed == 1
        engine.dispose()
    return pg_border


def test_kiosk_cannot_change_or_remove_events(seeded: PgBorder) -> None:
    k1 = seeded.engine_as(KIOSK1_ROLE)
    for sql in ("UPDATE events SET outcome = 'referred'", "DELETE FROM events",
                "TRUNCATE events"):  # fmt: skip
        assert "permission denied" in denied(k1, sql)
    owner = seeded.engine_as(None)
    assert run(owner, "SELECT count(*) FROM events WHERE outcome = 'admitted'") == [(2,)]


def test_kiosk_cannot_write_or_read_another_kiosks_events(seeded: PgBorder) -> None:
    k1 = seeded.engine_as(KIOSK1_ROLE)
    message = denied(k1, INSERT, id=uuid.uuid4(), kiosk="K2")
    assert "row-level security" in message
    [(head,)] = run(k1, "SELECT chain_hash FROM events")
    following = INSERT.replace("'h', 1, '0", "'h2', 2, '0").replace(f"'{GENESIS}'", f"'{head}'")
    run(k1, following, id=uuid.uuid4(), kiosk="K1")  # its own id, continuing its chain
    # It sees its own rows only, and only the columns a re-delivery check needs.
    assert run(k1, "SELECT DISTINCT kiosk_id FROM events") == [("K1",)]
    assert "permission denied" in denied(k1, "SELECT document FROM events")
    assert "permission denied" in denied(k1, "SELECT * FROM entry_records")
    assert "permission denied" in denied(k1, "SELECT * FROM kiosk_roles")


def test_kiosk_cannot_forge_the_receipt_time(pg_border: PgBorder) -> None:
    k1 = pg_border.engine_as(KIOSK1_ROLE)
    sql = INSERT.replace("prev_hash)", "prev_hash, received_at)").replace(
        f"'{GENESIS}')", f"'{GENESIS}', now() - interval '1 day')"
    )
    assert "permission denied" in denied(k1, sql, id=uuid.uuid4(), kiosk="K1")


def test_kiosk_reads_but_cannot_write_reference_data_or_api(seeded: PgBorder) -> None:
    owner = seeded.engine_as(None)
    publish(owner, prepare("watchlist", b"", "USA:X1"), "test")
    add_api(owner, ApiRecord("X1", "USA", date(2026, 3, 1), "JPN"))
    k1 = seeded.engine_as(KIOSK1_ROLE)
    assert run(k1, "SELECT key FROM reference_items") == [("USA:X1",)]
    assert run(k1, "SELECT document_number FROM advance_passenger_info") == [("X1",)]
    for sql in (
        "INSERT INTO reference_items (kind, key, payload, sha256, provenance, published_at) "
        "VALUES ('watchlist', 'USA:Y', '', 'x', 'forged', now())",
        "UPDATE reference_items SET payload = 'x'",
        "DELETE FROM reference_items",
        "INSERT INTO advance_passenger_info (document_number, issuing_state, flight_date, "
        "confirmed) VALUES ('Y', 'USA', '2026-03-01', true)",
        "DELETE FROM advance_passenger_info",
        "INSERT INTO kiosk_roles VALUES ('x', 'K2')",
    ):
        assert "permission denied" in denied(k1, sql)
    with pytest.raises(Exception, match="permission denied"):
        publish(k1, prepare("watchlist", b"", "USA:Y2"), "forged")


def test_exit_lookup_works_for_any_kiosk_through_the_function(seeded: PgBorder) -> None:
    k2 = seeded.engine_as(KIOSK2_ROLE)  # K2 looks up an entry recorded by K1
    record = BorderApiSource(k2).entry_record("DOCK1", "USA")
    assert record is not None and record["port"] == "CSX"


def test_supervisor_reads_everything_and_writes_nothing(seeded: PgBorder) -> None:
    sup = seeded.engine_as(ROLES.supervisor)
    assert run(sup, "SELECT kiosk_id FROM events ORDER BY 1") == [("K1",), ("K2",)]
    assert len(run(sup, "SELECT * FROM entry_records")) == 2
    for sql in ("UPDATE events SET outcome = 'x'", "DELETE FROM events",
                "DELETE FROM reference_items"):  # fmt: skip
        assert "permission denied" in denied(sup, sql)


def test_supervisor_cannot_insert_events(pg_border: PgBorder) -> None:
    sup = pg_border.engine_as(ROLES.supervisor)
    assert "permission denied" in denied(sup, INSERT, id=uuid.uuid4(), kiosk="K1")


def test_admin_publishes_but_cannot_touch_events(seeded: PgBorder) -> None:
    admin = seeded.engine_as(ROLES.admin)
    [item] = publish(admin, prepare("watchlist", b"", "USA:Z9"), "admin")
    assert item["changed"]
    add_api(admin, ApiRecord("Z9", "USA", date(2026, 3, 1), "JPN"))
    for sql in ("SELECT count(*) FROM events", "DELETE FROM events"):
        assert "permission denied" in denied(admin, sql)
    assert "permission denied" in denied(admin, INSERT, id=uuid.uuid4(), kiosk="K1")


def test_a_login_role_without_a_mapping_can_insert_nothing(pg_border: PgBorder) -> None:
    owner = pg_border.engine_as(None)
    loose = f"{ROLE_PREFIX}_loose"
    run(owner, f'CREATE ROLE "{loose}" LOGIN IN ROLE "{ROLES.kiosk_group}"')
    engine = pg_border.engine_as(loose)
    for kiosk in ("K1", "K2", loose):
        assert "row-level security" in denied(engine, INSERT, id=uuid.uuid4(), kiosk=kiosk)
    assert run(owner, "SELECT count(*) FROM events") == [(0,)]


def test_init_is_idempotent_and_adds_kiosks(pg_border: PgBorder) -> None:
    owner = pg_border.engine_as(None)
    k3 = f"{ROLE_PREFIX}_k3"
    out = provision_roles(owner, ROLES, [KioskGrant(k3, "K3")])
    assert out["kiosks"] == {KIOSK1_ROLE: "K1", KIOSK2_ROLE: "K2", k3: "K3"}
    engine = pg_border.engine_as(k3)
    run(engine, INSERT, id=uuid.uuid4(), kiosk="K3")
    with owner.connect() as c:
        assert c.scalar(select(func.count()).select_from(BorderEvent)) == 1


def test_refuses_unsafe_or_malformed_roles(pg_border: PgBorder) -> None:
    owner = pg_border.engine_as(None)
    with pytest.raises(RoleError, match="bypasses row-level security"):
        provision_roles(owner, ROLES, [KioskGrant("postgres", "K9")])
    with pytest.raises(RoleError, match="role name"):
        provision_roles(owner, ROLES, [KioskGrant('k"; DROP TABLE events; --', "K9")])
    with pytest.raises(RoleError, match="kiosk id"):
        provision_roles(owner, ROLES, [KioskGrant(f"{ROLE_PREFIX}_k4", "")])
    with pytest.raises(RoleError, match="group roles"):
        provision_roles(owner, ROLES, [KioskGrant(ROLES.supervisor, "K9")])
    with pytest.raises(RoleError):
        RoleNames.from_prefix("Bad-Prefix")


def test_only_event_readers_may_resolve_the_role_to_kiosk_mapping(seeded: PgBorder) -> None:
    admin = seeded.engine_as(ROLES.admin)
    assert "permission denied" in denied(admin, "SELECT border_kiosk_id('anyone')")
    supervisor = seeded.engine_as(ROLES.supervisor)
    assert run(supervisor, "SELECT count(*) FROM events")[0][0] >= 1  # type: ignore[operator]
