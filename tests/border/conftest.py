"""Border database fixtures: the SQLite stand-in and a real PostgreSQL.

PostgreSQL tests create their own database (egate_test_<random>) and roles with a
per-session prefix, and drop both afterwards (roles are cluster-wide). Where the
server is unreachable they skip, or fail under CI (tests/ci.py).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import URL, make_url

from kiosk.border.database import create_border_engine, migrate_border
from kiosk.border.roles import KioskGrant, RoleNames, provision_roles
from kiosk.store.database import open_local
from kiosk.store.event_log import EventLog, EventRecord
from tests.ci import unavailable

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SESSION_TAG = uuid.uuid4().hex[:8]
ROLE_PREFIX = f"egt{SESSION_TAG}"


def pg_admin_url() -> URL:
    url = make_url(os.environ.get("EGATE_TEST_PG", DEFAULT_PG))
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    return url


@dataclass
class PgServer:
    admin_url: URL
    engine: Engine  # AUTOCOMMIT, on the admin database, for CREATE/DROP DATABASE
    databases: list[str] = field(default_factory=list)

    def create_database(self) -> URL:
        name = f"egate_test_{uuid.uuid4().hex[:12]}"
        with self.engine.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
        self.databases.append(name)
        return self.admin_url.set(database=name)

    def drop_database(self, name: str) -> None:
        with self.engine.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        if name in self.databases:
            self.databases.remove(name)

    def set_connections(self, name: str, allowed: bool) -> None:
        with self.engine.connect() as c:
            c.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {str(allowed).lower()}'))
            if not allowed:
                c.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = :d AND pid <> pg_backend_pid()"
                    ),
                    {"d": name},
                )


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    url = pg_admin_url()
    engine = create_engine(url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as c:
            c.execute(text("SELECT 1"))
    except Exception as exc:  # any failure to reach the server
        message = (
            f"PostgreSQL at {url.render_as_string(hide_password=True)} is unreachable "
            f"(set EGATE_TEST_PG): {' '.join(str(exc).split())[:200]}"
        )
        engine.dispose()
        unavailable(message)
    server = PgServer(url, engine)
    yield server
    for name in list(server.databases):
        server.drop_database(name)
    with engine.connect() as c:
        # Test databases a fixture made on its own still hold this session's grants.
        leftovers = c.execute(
            text(
                "SELECT DISTINCT d.datname FROM pg_shdepend s"
                " JOIN pg_database d ON d.oid = s.dbid JOIN pg_roles r ON r.oid = s.refobjid"
                " WHERE r.rolname LIKE :p AND d.datname LIKE 'egate_test_%'"
            ),
            {"p": f"{ROLE_PREFIX}%"},
        ).scalars()
        for name in list(leftovers):
            server.drop_database(name)
    with engine.connect() as c:
        roles = c.execute(
            text("SELECT rolname FROM pg_roles WHERE rolname LIKE :p"), {"p": f"{ROLE_PREFIX}%"}
        ).scalars()
        for role in sorted(roles, key=lambda r: r.endswith("_kiosk")):  # members first
            c.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
    engine.dispose()


ROLES = RoleNames.from_prefix(ROLE_PREFIX)
KIOSK1_ROLE, KIOSK2_ROLE = f"{ROLE_PREFIX}_k1", f"{ROLE_PREFIX}_k2"


@dataclass
class PgBorder:
    server: PgServer
    url: URL  # the database, as its owner

    def engine_as(self, role: str | None) -> Engine:
        url = self.url if role is None else self.url.set(username=role, password=None)
        return create_border_engine(url.render_as_string(hide_password=False))

    @property
    def name(self) -> str:
        assert self.url.database is not None
        return self.url.database


@pytest.fixture(scope="session")
def pg_database(pg_server: PgServer) -> Iterator[URL]:
    """One border database per session, with the schema and the session's roles:
    KIOSK1_ROLE writes for kiosk K1, KIOSK2_ROLE for K2."""
    url = pg_server.create_database()
    owner = create_border_engine(url.render_as_string(hide_password=False))
    migrate_border(owner)
    provision_roles(owner, ROLES, [KioskGrant(KIOSK1_ROLE, "K1"), KioskGrant(KIOSK2_ROLE, "K2")])
    owner.dispose()
    yield url
    pg_server.drop_database(url.database or "")


@pytest.fixture
def pg_border(pg_server: PgServer, pg_database: URL) -> Iterator[PgBorder]:
    """The session's border database, emptied for each test (creating a database
    per test costs a second or more; truncating costs milliseconds)."""
    border = PgBorder(pg_server, pg_database)
    yield border
    pg_server.set_connections(border.name, True)  # in case a test left an outage
    owner = border.engine_as(None)
    with owner.begin() as c:
        c.execute(
            text(
                "TRUNCATE events, reference_items, advance_passenger_info, kiosk_chain_heads, "
                "kiosk_alerts, kiosk_logs RESTART IDENTITY"
            )
        )
        c.execute(
            text("DELETE FROM kiosk_roles WHERE role_name NOT IN (:a, :b)"),
            {"a": KIOSK1_ROLE, "b": KIOSK2_ROLE},
        )
        c.execute(text("UPDATE kiosk_roles SET port = NULL, lane = NULL"))
    owner.dispose()


@dataclass
class Border:
    """One border database for the backend-independent tests.

    `owner` publishes and inspects; `kiosk` is what kiosk K1 syncs with (its own
    role on PostgreSQL); `outage()` makes the database unreachable for a while."""

    backend: str
    owner: Engine
    kiosk: Engine
    outage: Callable[[], AbstractContextManager[None]]
    kiosk2: Engine | None = None


def _sqlite_border(tmp_path: Path) -> Iterator[Border]:
    path = tmp_path / "border.sqlite"
    url = f"sqlite:///{path}"
    owner = create_border_engine(url)
    migrate_border(owner)
    kiosk = create_border_engine(url)

    @contextmanager
    def outage() -> Iterator[None]:
        # The file disappears: a connection now finds an empty database.
        owner.dispose()
        kiosk.dispose()
        away = path.with_suffix(".away")
        path.rename(away)
        try:
            yield
        finally:
            kiosk.dispose()
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            away.rename(path)

    yield Border("sqlite", owner, kiosk, outage, kiosk2=kiosk)
    owner.dispose()
    kiosk.dispose()


def _pg_border_env(pg: PgBorder) -> Iterator[Border]:
    owner = pg.engine_as(None)
    kiosk = pg.engine_as(KIOSK1_ROLE)
    kiosk2 = pg.engine_as(KIOSK2_ROLE)

    @contextmanager
    def outage() -> Iterator[None]:
        pg.server.set_connections(pg.name, False)
        try:
            yield
        finally:
            pg.server.set_connections(pg.name, True)

    yield Border("postgres", owner, kiosk, outage, kiosk2=kiosk2)
    for e in (owner, kiosk, kiosk2):
        e.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def border(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Border]:
    if request.param == "sqlite":
        yield from _sqlite_border(tmp_path)
    else:
        pg = request.getfixturevalue("pg_border")
        yield from _pg_border_env(pg)


@pytest.fixture
def local(tmp_path: Path) -> Engine:
    return open_local(f"sqlite:///{tmp_path}/local.sqlite")


AT = datetime(2026, 3, 1, 2, 30, tzinfo=UTC)


def make_record(
    kiosk_id: str = "K1",
    *,
    event_id: str | None = None,
    document_number: str = "X1234567",
    issuing_state: str = "USA",
    direction: str = "entry",
    outcome: str = "admitted",
    finished_at: datetime = AT,
    basis: str | None = "transit_240h",
    permitted_until: str | None = "2026-03-11T23:59:59+08:00",
) -> EventRecord:
    checks: dict[str, Any] = {"document_authentic": True}
    if permitted_until is not None:
        checks["permitted_until"] = permitted_until
    return EventRecord(
        event_id=event_id or str(uuid.uuid4()),
        kiosk_id=kiosk_id,
        port="CSX",
        lane=1,
        direction=direction,
        started_at=finished_at,
        finished_at=finished_at,
        stages={"idle": finished_at.isoformat()},
        outcome=outcome,
        decision="admit" if outcome == "admitted" else "refer",
        basis=basis if outcome == "admitted" else None,
        reasons=[] if outcome == "admitted" else ["face_mismatch"],
        policy_pack="cn-hunan-transit-240h",
        policy_version="1",
        document={
            "document_number": document_number,
            "issuing_state": issuing_state,
            "nationality": issuing_state,
            "surname": "DOE",
        },
        checks=checks,
        transaction_ms=812.5,
        error=None,
    )


def append(local: Engine, *records: EventRecord) -> list[str]:
    log = EventLog(local)
    for r in records:
        log.append(r)
    return [r.event_id for r in records]
