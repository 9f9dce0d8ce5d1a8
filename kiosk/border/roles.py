"""Least-privilege roles of the border database (PostgreSQL only).

Three group roles per installation, named from a prefix (default "egate"):

- `<prefix>_kiosk` (NOLOGIN): every kiosk login role is a member. INSERT on
  `events` (not `received_at`, which the server sets), SELECT on three columns
  of `events` (event_id, kiosk_id, chain_hash: what idempotent re-delivery needs
  to confirm an earlier push), row-level security limiting both to the kiosk id
  mapped to the login role in `kiosk_roles`; SELECT on reference data and
  advance passenger information; EXECUTE on border_entry_record() for exit
  checks. No UPDATE, DELETE or TRUNCATE anywhere.
- `<prefix>_supervisor` (LOGIN): reads every event (its own RLS policy),
  reference data, API rows and entry records; writes nothing.
- `<prefix>_admin` (LOGIN): publishes reference data and API rows; no events.

Provisioning is idempotent: run `egate border init` again to add kiosks.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import SQLAlchemyError

from kiosk.border.database import VERSION_TABLE
from kiosk.border.errors import RoleError
from kiosk.border.station_roles import grant_station

_ROLE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_KIOSK_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")

# Columns a kiosk may write: everything but the server-side receipt time.
KIOSK_INSERT_COLUMNS = (
    "event_id", "kiosk_id", "port", "lane", "direction", "outcome", "decision", "basis",
    "reasons", "policy_pack", "policy_version", "document", "document_number",
    "issuing_state", "nationality", "checks", "stages", "started_at", "finished_at",
    "permitted_until", "transaction_ms", "error", "chain_hash", "log_seq", "prev_hash",
)  # fmt: skip
# Columns a kiosk may read back (its own rows only): enough to confirm a delivery
# and to compare its log with the border's copy (`egate log verify --against-border`).
KIOSK_SELECT_COLUMNS = ("event_id", "kiosk_id", "chain_hash", "log_seq", "prev_hash")


@dataclass(frozen=True)
class KioskGrant:
    role: str
    kiosk_id: str
    # When given, the role's events must carry this port and lane (b0005i).
    port: str | None = None
    lane: int | None = None


@dataclass(frozen=True)
class RoleNames:
    admin: str
    supervisor: str
    kiosk_group: str

    @classmethod
    def from_prefix(cls, prefix: str) -> RoleNames:
        names = cls(f"{prefix}_admin", f"{prefix}_supervisor", f"{prefix}_kiosk")
        for name in (names.admin, names.supervisor, names.kiosk_group):
            check_role_name(name)
        return names


def check_role_name(name: str) -> str:
    if not _ROLE.match(name):
        raise RoleError(
            f"{name!r} is not an acceptable role name (lower-case letters, digits, _; "
            "at most 63 characters)"
        )
    if name.startswith("pg_"):
        raise RoleError(f"{name!r}: the pg_ prefix is reserved by PostgreSQL")
    return name


def check_kiosk_id(kiosk_id: str) -> str:
    if not _KIOSK_ID.match(kiosk_id):
        raise RoleError(f"{kiosk_id!r} is not an acceptable kiosk id")
    return kiosk_id


def _q(connection: Connection, name: str) -> str:
    return connection.dialect.identifier_preparer.quote(name)


def _ensure_role(connection: Connection, name: str, login: bool) -> None:
    row = connection.execute(
        text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = :n"), {"n": name}
    ).first()
    if row is None:
        kind = "LOGIN" if login else "NOLOGIN"
        connection.execute(text(f"CREATE ROLE {_q(connection, name)} {kind}"))
        return
    if row[0] or row[1]:
        raise RoleError(f"role {name!r} exists and bypasses row-level security; refusing to use it")
    connection.execute(
        text(
            f"ALTER ROLE {_q(connection, name)} {'LOGIN' if login else 'NOLOGIN'} NOCREATEDB "
            "NOCREATEROLE"
        )
    )


def provision_roles(
    engine: Engine, names: RoleNames, kiosks: Sequence[KioskGrant] = (), *, remap: bool = False
) -> dict[str, object]:
    """Create or refresh the roles and their privileges; returns what was granted.

    A login role keeps the kiosk id it was first mapped to, and a kiosk id has
    one login role: changing either (which hands one kiosk's events to another
    role) needs `remap=True`, and then the id's previous role loses it."""
    if engine.dialect.name != "postgresql":
        raise RoleError("roles exist only on PostgreSQL; the SQLite stand-in has no users")
    for grant in kiosks:
        check_role_name(grant.role)
        check_kiosk_id(grant.kiosk_id)
        if grant.role in (names.admin, names.supervisor, names.kiosk_group):
            raise RoleError(f"{grant.role!r} is one of the group roles, not a kiosk login role")
    if len({g.role for g in kiosks}) != len(kiosks) or len({g.kiosk_id for g in kiosks}) != len(
        kiosks
    ):
        raise RoleError("each kiosk role and each kiosk id may appear once")
    try:
        with engine.begin() as c:
            _check_mapping(c, kiosks, remap)
            _grant_all(c, names, kiosks)
            mapped = c.execute(text("SELECT role_name, kiosk_id FROM kiosk_roles ORDER BY 1"))
            kiosk_map = {str(r[0]): str(r[1]) for r in mapped}
    except SQLAlchemyError as exc:
        raise RoleError(f"cannot provision roles: {exc}") from exc
    return {
        "admin": names.admin,
        "supervisor": names.supervisor,
        "kiosk_group": names.kiosk_group,
        "kiosks": kiosk_map,
    }


def _check_mapping(c: Connection, kiosks: Sequence[KioskGrant], remap: bool) -> None:
    """Refuse a grant that would move a kiosk id between roles, unless `remap`."""
    current = {
        str(r[0]): str(r[1]) for r in c.execute(text("SELECT role_name, kiosk_id FROM kiosk_roles"))
    }
    for grant in kiosks:
        mapped = current.get(grant.role)
        holders = [r for r, k in current.items() if k == grant.kiosk_id and r != grant.role]
        if remap:
            for other in holders:
                c.execute(text("DELETE FROM kiosk_roles WHERE role_name = :r"), {"r": other})
            continue
        if mapped is not None and mapped != grant.kiosk_id:
            raise RoleError(
                f"role {grant.role!r} writes for kiosk {mapped!r}; mapping it to "
                f"{grant.kiosk_id!r} hands it that kiosk's events: pass --remap to do so"
            )
        if holders:
            raise RoleError(
                f"kiosk id {grant.kiosk_id!r} belongs to role {holders[0]!r}; "
                "pass --remap to move it"
            )


def _grant_all(c: Connection, names: RoleNames, kiosks: Sequence[KioskGrant]) -> None:
    def q(name: str) -> str:
        return _q(c, name)

    admin, sup, group = q(names.admin), q(names.supervisor), q(names.kiosk_group)
    _ensure_role(c, names.admin, login=True)
    _ensure_role(c, names.supervisor, login=True)
    _ensure_role(c, names.kiosk_group, login=False)
    schema = q(str(c.execute(text("SELECT current_schema()")).scalar_one()))
    database = q(str(c.execute(text("SELECT current_database()")).scalar_one()))
    # Nothing of ours is reachable through PUBLIC; each role gets what it needs.
    c.execute(text(f"REVOKE CREATE ON SCHEMA {schema} FROM PUBLIC"))
    c.execute(text(f"REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM PUBLIC"))
    c.execute(text(f"GRANT CONNECT ON DATABASE {database} TO {admin}, {sup}, {group}"))
    c.execute(text(f"GRANT USAGE ON SCHEMA {schema} TO {admin}, {sup}, {group}"))
    for role in (admin, sup, group):
        c.execute(text(f"REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM {role}"))
        c.execute(text(f"GRANT SELECT ON {VERSION_TABLE} TO {role}"))
    # Kiosks.
    c.execute(text(f"GRANT INSERT ({', '.join(KIOSK_INSERT_COLUMNS)}) ON events TO {group}"))
    c.execute(text(f"GRANT SELECT ({', '.join(KIOSK_SELECT_COLUMNS)}) ON events TO {group}"))
    c.execute(text(f"GRANT SELECT ON reference_items, advance_passenger_info TO {group}"))
    c.execute(text(f"GRANT EXECUTE ON FUNCTION border_entry_record(text, text) TO {group}, {sup}"))
    # The role -> kiosk mapping behind row-level security is nobody else's business:
    # only the roles whose queries evaluate the events policies may call it.
    c.execute(text("REVOKE ALL ON FUNCTION border_kiosk_id(text) FROM PUBLIC"))
    c.execute(text(f"GRANT EXECUTE ON FUNCTION border_kiosk_id(text) TO {group}, {sup}"))
    # The hash chain (b0002): a kiosk reads its own head and reports its own faults.
    # Its log's head and key (b0005i): reported every cycle, checked by the border.
    for function in (
        "border_chain_head(text)",
        "border_kiosk_alert(text, text, bigint)",
        "border_log_attest(text, bigint, text)",
        "border_log_status(text)",
    ):
        c.execute(text(f"REVOKE ALL ON FUNCTION {function} FROM PUBLIC"))
        c.execute(text(f"GRANT EXECUTE ON FUNCTION {function} TO {group}"))
    c.execute(text(f"GRANT SELECT ON kiosk_alerts, kiosk_chain_heads, kiosk_logs TO {sup}"))
    # Supervisor stations: read everything, one officer watching many lanes.
    c.execute(
        text(
            f"GRANT SELECT ON events, reference_items, advance_passenger_info, entry_records, "
            f"kiosk_roles TO {sup}"
        )
    )
    c.execute(text("DROP POLICY IF EXISTS events_supervisor_select ON events"))
    c.execute(
        text(f"CREATE POLICY events_supervisor_select ON events FOR SELECT TO {sup} USING (true)")
    )
    # Publisher of reference data and advance passenger information.
    c.execute(
        text(
            "GRANT SELECT, INSERT, UPDATE, DELETE ON reference_items, advance_passenger_info "
            f"TO {admin}"
        )
    )
    c.execute(
        text(
            "GRANT USAGE, SELECT ON SEQUENCE reference_items_id_seq, "
            f"advance_passenger_info_id_seq TO {admin}"
        )
    )
    # Supervisor-station tables (migration b0003).
    grant_station(c, q, names.admin, names.supervisor, names.kiosk_group)
    for grant in kiosks:
        _ensure_role(c, grant.role, login=True)
        c.execute(text(f"GRANT {group} TO {q(grant.role)}"))
        c.execute(
            text(
                "INSERT INTO kiosk_roles (role_name, kiosk_id, port, lane) VALUES (:r, :k, :p, :l) "
                "ON CONFLICT (role_name) DO UPDATE SET kiosk_id = EXCLUDED.kiosk_id, "
                "port = coalesce(EXCLUDED.port, kiosk_roles.port), "
                "lane = coalesce(EXCLUDED.lane, kiosk_roles.lane)"
            ),
            {"r": grant.role, "k": grant.kiosk_id, "p": grant.port, "l": grant.lane},
        )
