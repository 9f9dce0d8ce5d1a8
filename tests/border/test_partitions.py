"""Monthly partitions of the PostgreSQL border (b0008p) and `egate border
maintain`: the upgrade converts a database holding rows, ids stay unique across
partitions, months are created ahead and retired past the retention, exit-lane
look-ups stay indexed, and no client role gains anything. docs/border.md."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import IntegrityError, ProgrammingError

from kiosk.border.database import _alembic_config, create_border_engine, migrate_border
from kiosk.border.partitions import (
    PARTITIONED,
    add_months,
    default_name,
    maintain_partitions,
    month_partitions,
    partition_name,
    server_month,
)
from kiosk.border.roles import KioskGrant, provision_roles
from kiosk.cli.main import main
from tests.border.conftest import KIOSK1_ROLE, KIOSK2_ROLE, ROLES, PgServer
from tests.waiting import wait_until

GENESIS = "0" * 64
BEFORE = "b0007g"  # the last unpartitioned revision


@dataclass
class Db:
    url: URL
    owner: Engine
    engines: list[Engine] = field(default_factory=list)

    def as_role(self, role: str) -> Engine:
        engine = create_border_engine(
            self.url.set(username=role, password=None).render_as_string(hide_password=False)
        )
        self.engines.append(engine)
        return engine


def _database(pg_server: PgServer, revision: str) -> Iterator[Db]:
    url = pg_server.create_database()
    owner = create_border_engine(url.render_as_string(hide_password=False))
    if revision == "head":
        migrate_border(owner)
    else:
        cfg = _alembic_config()
        with owner.begin() as connection:
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, revision)
    provision_roles(owner, ROLES, [KioskGrant(KIOSK1_ROLE, "K1"), KioskGrant(KIOSK2_ROLE, "K2")])
    db = Db(url, owner)
    yield db
    for engine in (*db.engines, owner):
        engine.dispose()
    pg_server.drop_database(url.database or "")


@pytest.fixture
def old_db(pg_server: PgServer) -> Iterator[Db]:
    yield from _database(pg_server, BEFORE)


@pytest.fixture
def db(pg_server: PgServer) -> Iterator[Db]:
    yield from _database(pg_server, "head")


class Chain:
    """Events of several kiosks, each continuing its kiosk's hash chain."""

    def __init__(self) -> None:
        self.heads: dict[str, tuple[int, str]] = {}

    def row(
        self, kiosk: str, finished: datetime, document: str | None = None, **over: Any
    ) -> dict[str, Any]:
        seq, prev = self.heads.get(kiosk, (0, GENESIS))
        chain_hash = uuid.uuid4().hex * 2
        self.heads[kiosk] = (seq + 1, chain_hash)
        row = {
            "event_id": uuid.uuid4(),
            "kiosk_id": kiosk,
            "port": "CSX",
            "lane": 1,
            "direction": "entry",
            "outcome": "admitted",
            "basis": "visa_free",
            "document_number": document,
            "issuing_state": "USA" if document else None,
            "started_at": finished - timedelta(seconds=20),
            "finished_at": finished,
            "chain_hash": chain_hash,
            "log_seq": seq + 1,
            "prev_hash": prev,
        }
        row.update(over)
        return row


INSERT_EVENT = text(
    "INSERT INTO events (event_id, kiosk_id, port, lane, direction, outcome, basis, reasons, "
    "document, document_number, issuing_state, checks, stages, started_at, finished_at, "
    "chain_hash, log_seq, prev_hash) VALUES (:event_id, :kiosk_id, :port, :lane, :direction, "
    ":outcome, :basis, '[]', '{}', :document_number, :issuing_state, '{}', '{}', :started_at, "
    ":finished_at, :chain_hash, :log_seq, :prev_hash)"
)
INSERT_REFERRAL = text(
    "INSERT INTO referrals (referral_id, kiosk_id, port, lane, direction, referred_at, "
    "reasons, watchlist, details) VALUES (:id, 'K1', 'CSX', 1, 'entry', :at, '[]', false, '{}')"
)


def _month_at(month: date, second: int = 1) -> datetime:
    """An instant early in `month` (of the current month too: never ahead of the
    border's clock, which refuses events from the future)."""
    return datetime(month.year, month.month, 1, 0, 0, second, tzinfo=UTC)


def _count(c: Connection, sql: str, **params: Any) -> int:
    return int(c.execute(text(sql), params).scalar_one())


def _log_action(c: Connection, n: int) -> None:
    c.execute(
        text("SELECT border__log('note', 'K1', 'OFF1', NULL, 'test', :t, NULL, '{}'::jsonb)"),
        {"t": f"action {n}"},
    )


def _snapshot(c: Connection) -> dict[str, Any]:
    """What the upgrade must keep: grants, policies, triggers, RLS, the view."""
    tables = ("events", "referrals", "officer_actions", "entry_records")
    return {
        "columns": sorted(
            c.execute(
                text(
                    "SELECT table_name, column_name, grantee, privilege_type "
                    "FROM information_schema.column_privileges "
                    "WHERE table_name = ANY(:t) AND grantee <> current_user"
                ),
                {"t": list(tables)},
            ).all()
        ),
        "tables": sorted(
            c.execute(
                text(
                    "SELECT table_name, grantee, privilege_type "
                    "FROM information_schema.table_privileges "
                    "WHERE table_name = ANY(:t) AND grantee <> current_user"
                ),
                {"t": list(tables)},
            ).all()
        ),
        "policies": sorted(
            c.execute(
                text(
                    "SELECT tablename, policyname, roles::text, cmd, qual, with_check "
                    "FROM pg_policies WHERE tablename = ANY(:t)"
                ),
                {"t": list(tables)},
            ).all()
        ),
        "triggers": sorted(
            c.execute(
                text(
                    "SELECT c.relname, t.tgname FROM pg_trigger t "
                    "JOIN pg_class c ON c.oid = t.tgrelid "
                    "WHERE c.relname = ANY(:t) AND NOT t.tgisinternal"
                ),
                {"t": list(tables)},
            ).all()
        ),
        "rls": sorted(
            c.execute(
                text(
                    "SELECT relname, relrowsecurity FROM pg_class WHERE relname = ANY(:t) "
                    "AND relkind IN ('r', 'p')"
                ),
                {"t": list(tables)},
            ).all()
        ),
        "functions": sorted(
            c.execute(
                text(
                    "SELECT p.oid::regprocedure::text, p.proacl::text FROM pg_proc p "
                    "WHERE p.proname LIKE 'border%'"
                )
            ).all()
        ),
    }


def _upgrade(engine: Engine) -> None:
    migrate_border(engine)


def test_upgrade_converts_a_database_holding_rows(old_db: Db) -> None:
    chain = Chain()
    with old_db.owner.begin() as c:
        now_month = server_month(c)
        months = [add_months(now_month, -14), add_months(now_month, -2), now_month]
        rows = [
            chain.row(kiosk, _month_at(m, second), f"D{kiosk}{m.month:02d}{second}")
            for m in months
            for kiosk in ("K1", "K2")
            for second in (1, 2)
        ]
        for row in rows:
            c.execute(INSERT_EVENT, row)
        for m in months:
            c.execute(INSERT_REFERRAL, {"id": uuid.uuid4(), "at": _month_at(m)})
        for n in range(3):
            _log_action(c, n)
        entries_before = c.execute(text("SELECT * FROM entry_records ORDER BY event_id")).all()
        before = _snapshot(c)
    _upgrade(old_db.owner)
    with old_db.owner.connect() as c:
        for spec in PARTITIONED:
            kind = c.execute(
                text("SELECT relkind FROM pg_class WHERE relname = :t"), {"t": spec.name}
            ).scalar()
            assert kind == "p", spec.name
            # Every month from the oldest row to three ahead, and the default.
            parts = month_partitions(c, spec.name)
            assert add_months(now_month, 3) in parts
            assert (
                _count(
                    c, "SELECT count(*) FROM pg_class WHERE relname = :d", d=default_name(spec.name)
                )
                == 1
            )
        assert set(month_partitions(c, "events")) == {
            add_months(months[0], i) for i in range(14 + 4)
        }
        assert _count(c, "SELECT count(*) FROM events") == len(rows)
        assert _count(c, f"SELECT count(*) FROM {default_name('events')}") == 0
        oldest = partition_name("events", months[0])
        assert _count(c, f"SELECT count(*) FROM {oldest}") == 4
        assert _count(c, "SELECT count(*) FROM referrals") == 3
        assert c.execute(text("SELECT * FROM entry_records ORDER BY event_id")).all() == (
            entries_before
        )
        assert c.execute(text("SELECT border_officer_log_verify()")).scalar_one() == {
            "valid": True,
            "entries": 3,
            "first_bad_seq": None,
        }
        after = _snapshot(c)
    # Grants, policies, RLS, the view and the functions are as `border init` left
    # them; the triggers gained the uniqueness ones only.
    for key in ("columns", "tables", "policies", "rls"):
        assert after[key] == before[key], key
    assert set(after["functions"]) >= set(before["functions"])
    added = set(after["triggers"]) - set(before["triggers"])
    assert added == {
        ("events", "events_0_id_lock"),
        ("referrals", "referrals_unique_id"),
        ("officer_actions", "officer_actions_unique_id"),
    }
    assert set(before["triggers"]) <= set(after["triggers"])
    # The kiosks push on as before: chain continued, a re-delivery skipped.
    kiosk = old_db.as_role(KIOSK1_ROLE)
    nxt = chain.row("K1", datetime.now(UTC) - timedelta(minutes=1), "DNEXT")
    with kiosk.begin() as c:
        c.execute(INSERT_EVENT, nxt)
        c.execute(INSERT_EVENT, nxt)
    with old_db.owner.connect() as c:
        assert _count(c, "SELECT count(*) FROM events WHERE event_id = :e", e=nxt["event_id"]) == 1
        assert _count(c, "SELECT count(*) FROM kiosk_chain_heads WHERE stopped_at IS NOT NULL") == 0


def test_ids_stay_unique_across_partitions(db: Db) -> None:
    chain = Chain()
    with db.owner.begin() as c:
        month = server_month(c)
        first = chain.row("K1", _month_at(add_months(month, -1)), "D1")
        c.execute(INSERT_EVENT, first)
        first_ref = uuid.uuid4()
        c.execute(INSERT_REFERRAL, {"id": first_ref, "at": _month_at(add_months(month, -1))})
    kiosk = db.as_role(KIOSK1_ROLE)
    # A re-delivery claiming another month (another partition): skipped.
    with kiosk.begin() as c:
        c.execute(INSERT_EVENT, {**first, "finished_at": datetime.now(UTC) - timedelta(hours=1)})
        c.execute(INSERT_REFERRAL, {"id": first_ref, "at": datetime.now(UTC) - timedelta(hours=1)})
    # The same kiosk's seq again under a new id, in another month: refused.
    again = {**chain.row("K1", datetime.now(UTC)), "log_seq": 1, "prev_hash": GENESIS}
    with db.owner.begin() as c:
        c.execute(INSERT_EVENT, again)
    with db.owner.connect() as c:
        assert _count(c, "SELECT count(*) FROM events") == 1
        assert _count(c, "SELECT count(*) FROM referrals") == 1
        assert _count(c, "SELECT count(*) FROM kiosk_chain_heads WHERE stopped_at IS NOT NULL") == 1


def test_two_kiosks_sending_one_id_at_once_store_it_once(db: Db) -> None:
    """The race no single-partition check sees: the second writer waits for the
    first's lock on the id, then finds its committed row: refused as a taken id
    (alert, K2's chain stopped), as if it had come second."""
    event_id = uuid.uuid4()
    now = datetime.now(UTC)
    k1 = Chain().row("K1", now - timedelta(minutes=5), "DRACE", event_id=event_id)
    k2 = Chain().row("K2", now - timedelta(days=40), "DRACE", event_id=event_id)
    first = db.owner.connect()
    outcome: dict[str, BaseException | None] = {}
    try:
        first.begin()
        first.execute(INSERT_EVENT, k1)

        def second() -> None:
            try:
                with db.owner.begin() as c:
                    c.execute(INSERT_EVENT, k2)
                outcome["error"] = None
            except BaseException as exc:  # reported to the test thread
                outcome["error"] = exc

        thread = threading.Thread(target=second)
        thread.start()
        with db.owner.connect() as watch:
            wait_until(
                lambda: (
                    _count(
                        watch,
                        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted",
                    )
                    == 1
                ),
                what="the second writer waiting for the event id's lock",
            )
        first.commit()
        thread.join(30)
        assert not thread.is_alive()
    finally:
        first.close()
    assert outcome["error"] is None
    with db.owner.connect() as c:
        assert _count(c, "SELECT count(*) FROM events WHERE event_id = :e", e=event_id) == 1
        assert c.execute(text("SELECT kiosk_id, kind FROM kiosk_alerts")).all() == [
            ("K2", "event_id_taken")
        ]


def test_officer_action_ids_stay_unique(db: Db) -> None:
    with db.owner.begin() as c:
        _log_action(c, 1)
        row = c.execute(text("SELECT * FROM officer_actions")).mappings().one()
    dup = {**row, "at": row["at"] - timedelta(days=70)}
    with pytest.raises(IntegrityError, match="the id is taken"), db.owner.begin() as c:
        c.execute(
            text(
                "INSERT INTO officer_actions (action_id, kind, kiosk_id, officer_id, "
                "reason_code, reason_text, at, detail, chain_hash) VALUES (:action_id, :kind, "
                ":kiosk_id, :officer_id, :reason_code, :reason_text, :at, '{}', :chain_hash)"
            ),
            dup,
        )


def _maintain(db: Db, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, Any]:
    url = db.url.render_as_string(hide_password=False)
    try:
        status = main(["border", "maintain", "--url", url, *extra, "--json"])
    except SystemExit as exc:
        status = int(exc.code or 0)
    out = capsys.readouterr().out
    return status, json.loads(out) if out.strip() else None


@pytest.fixture
def no_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "kiosk.toml"
    path.write_text(
        f'[kiosk]\nid = "K1"\n[storage]\nlocal_url = "sqlite:///{tmp_path}/local.sqlite"\n'
    )
    monkeypatch.setenv("EGATE_CONFIG", str(path))


def _table(report: dict[str, Any], name: str) -> dict[str, Any]:
    return next(t for t in report["tables"] if t["table"] == name)


def test_maintain_creates_ahead_adopts_and_retires(
    db: Db, capsys: pytest.CaptureFixture[str], no_config: None
) -> None:
    chain = Chain()
    with db.owner.begin() as c:
        now = server_month(c)
        cutoff = add_months(now, -2)  # retention 2 months
        # Last day of the month before the cut-off, to the microsecond: retired.
        old = datetime(cutoff.year, cutoff.month, 1, tzinfo=UTC) - timedelta(microseconds=1)
        # The cut-off's first instant: kept (younger than the retention).
        edge = datetime(cutoff.year, cutoff.month, 1, tzinfo=UTC)
        ancient = _month_at(add_months(now, -30))  # before any partition: the default
        for at in (ancient, old, edge, _month_at(now, 5)):
            c.execute(INSERT_EVENT, chain.row("K1", at, "DX"))
        for n in range(4):
            _log_action(c, n)
        # Old officer actions, re-chained as if logged then (their MAC covers `at`).
        c.execute(text("UPDATE officer_actions SET at = :at WHERE seq <= 2"), {"at": old})
        c.execute(text("SELECT border__rechain()"))
        # ancient, old and edge: months without a partition yet.
        assert _count(c, f"SELECT count(*) FROM {default_name('events')}") == 3

    status, report = _maintain(db, capsys, "--months-ahead", "5")
    assert status == 0, report
    events = _table(report, "events")
    assert events["moved_from_default"] == 3 and events["dropped"] == []
    assert partition_name("events", add_months(now, -30)) in events["created"]
    assert partition_name("events", add_months(now, 5)) in events["created"]
    with db.owner.connect() as c:
        for spec in PARTITIONED:
            assert add_months(now, 5) in month_partitions(c, spec.name)
        assert _count(c, f"SELECT count(*) FROM {default_name('events')}") == 0
    # Idempotent: nothing more to create.
    status, again = _maintain(db, capsys)
    assert status == 0 and all(t["created"] == [] for t in again["tables"])

    status, report = _maintain(
        db, capsys, "--retention-months", "events=2", "--retention-months", "officer_actions=2"
    )
    assert status == 0, report
    events = _table(report, "events")
    assert events["oldest_kept"] == f"{cutoff.year:04d}-{cutoff.month:02d}"
    gone = {
        partition_name("events", add_months(now, -30)),
        partition_name("events", add_months(cutoff, -1)),
    }
    assert gone <= set(events["dropped"]) and set(events["detached"]) == set(events["dropped"])
    assert _table(report, "referrals")["dropped"] == []  # no retention set: all kept
    with db.owner.connect() as c:
        kept = c.execute(text("SELECT finished_at FROM events ORDER BY finished_at")).scalars()
        assert [at.astimezone(UTC) for at in kept] == [edge, _month_at(now, 5)]
        parts = month_partitions(c, "events")
        assert min(parts) == cutoff
        # The officer log still verifies, from the last retired link on.
        assert c.execute(text("SELECT border_officer_log_verify()")).scalar_one() == {
            "valid": True,
            "entries": 2,
            "first_bad_seq": None,
        }
        assert _count(c, "SELECT seq FROM officer_log_anchor") == 2


def test_maintain_refuses_bad_settings_and_non_owners(
    db: Db, capsys: pytest.CaptureFixture[str], no_config: None
) -> None:
    status, out = _maintain(db, capsys, "--retention-months", "events=0")
    assert status == 65 and out["error"]["code"] == "invalid_arguments"
    status, out = _maintain(db, capsys, "--retention-months", "kiosk_roles=3")
    assert status == 65 and "not partitioned" in out["error"]["message"]
    status, out = _maintain(db, capsys, "--months-ahead", "99")
    assert status == 65
    for role in (KIOSK1_ROLE, ROLES.supervisor, ROLES.admin):
        url = db.url.set(username=role, password=None).render_as_string(hide_password=False)
        try:
            status = main(["border", "maintain", "--url", url, "--json"])
        except SystemExit as exc:
            status = int(exc.code or 0)
        message = json.loads(capsys.readouterr().out)["error"]["message"]
        assert status != 0, role
        assert "permission denied" in message or "must be owner" in message


def test_client_roles_gain_nothing_on_partitions(db: Db) -> None:
    maintain_partitions(db.owner)
    with db.owner.connect() as c:
        month = server_month(c)
        partition = partition_name("events", month)
        for role in (KIOSK1_ROLE, ROLES.supervisor, ROLES.admin, ROLES.kiosk_group):
            for spec in PARTITIONED:
                for name in (partition_name(spec.name, month), default_name(spec.name)):
                    assert not c.execute(
                        text(
                            "SELECT has_table_privilege(:r, :t, 'SELECT, INSERT, UPDATE, "
                            "DELETE, TRUNCATE')"
                        ),
                        {"r": role, "t": name},
                    ).scalar_one(), (role, name)
    kiosk = db.as_role(KIOSK1_ROLE)
    with pytest.raises(ProgrammingError, match="permission denied"), kiosk.connect() as c:
        c.execute(text(f"SELECT count(*) FROM {partition}"))


def test_entry_record_lookups_use_an_index_in_every_partition(db: Db) -> None:
    chain = Chain()
    with db.owner.begin() as c:
        now = server_month(c)
        for back in range(6):
            for n in range(3):
                at = _month_at(add_months(now, -back), n + 1)
                c.execute(INSERT_EVENT, chain.row("K1", at, f"E{back}{n}"))
    maintain_partitions(db.owner)
    with db.owner.begin() as c:
        c.execute(text("ANALYZE events"))
        parts = month_partitions(c, "events")
        # ix_events_document has a child index on every partition.
        children = _count(
            c,
            "SELECT count(*) FROM pg_inherits WHERE inhparent = 'ix_events_document'::regclass",
        )
        assert children == len(parts) + 1  # and the default partition
        # Forbid sequential scans: the plan must still exist through indexes alone.
        c.execute(text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(
            c.execute(
                text(
                    "EXPLAIN SELECT * FROM entry_records "
                    "WHERE document_number = 'E20' AND issuing_state = 'USA'"
                )
            ).scalars()
        )
        assert "Seq Scan" not in plan, plan
        assert plan.count("Index") >= len(parts), plan
        found = c.execute(text("SELECT port FROM border_entry_record('E20', 'USA')")).all()
        assert found == [("CSX",)]


def test_standin_has_no_partitions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], no_config: None
) -> None:
    url = f"sqlite:///{tmp_path}/border.sqlite"
    try:
        status = main(["border", "maintain", "--url", url, "--json"])
    except SystemExit as exc:
        status = int(exc.code or 0)
    out = json.loads(capsys.readouterr().out)
    assert status == 0 and out == {"backend": "sqlite", "skipped": "partitions are PostgreSQL only"}
    try:
        status = main(["border", "maintain", "--url", url, "--months-ahead", "4", "--json"])
    except SystemExit as exc:
        status = int(exc.code or 0)
    out = json.loads(capsys.readouterr().out)
    assert status == 65 and "PostgreSQL only" in out["error"]["message"]


def test_a_kiosk_continues_its_chain_after_its_months_are_retired(
    db: Db, capsys: pytest.CaptureFixture[str], no_config: None
) -> None:
    """The kiosk's head event went with its month: the chain trigger still
    knows the head (kiosk_chain_heads), so the next event is no chain break."""
    chain = Chain()
    with db.owner.begin() as c:
        old = _month_at(add_months(server_month(c), -4))
        for n in range(2):
            c.execute(INSERT_EVENT, chain.row("K1", old + timedelta(seconds=n), f"DOLD{n}"))
    status, report = _maintain(db, capsys, "--retention-months", "events=2")
    assert status == 0 and _table(report, "events")["deleted_from_default"] == 2
    kiosk = db.as_role(KIOSK1_ROLE)
    with kiosk.begin() as c:
        c.execute(INSERT_EVENT, chain.row("K1", datetime.now(UTC) - timedelta(minutes=1), "DNEW"))
    with db.owner.connect() as c:
        assert _count(c, "SELECT count(*) FROM events") == 1
        assert c.execute(text("SELECT kind, detail FROM kiosk_alerts")).all() == []
        assert c.execute(text("SELECT log_seq FROM kiosk_chain_heads")).scalar_one() == 3


def test_the_entry_look_up_keeps_its_plan(db: Db) -> None:
    """Planning over every month's partition cost more than the look-up itself:
    the function is PL/pgSQL (plan kept per session) with a generic plan."""
    with db.owner.connect() as c:
        language, config = c.execute(
            text(
                "SELECT l.lanname, p.proconfig FROM pg_proc p JOIN pg_language l "
                "ON l.oid = p.prolang WHERE p.oid = 'border_entry_record(text, text)'::regprocedure"
            )
        ).one()
        assert language == "plpgsql" and "plan_cache_mode=force_generic_plan" in config
