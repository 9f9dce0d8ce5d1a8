"""Privileges on the supervisor-station tables (migration b0003), PostgreSQL only.

Called by kiosk.border.roles when `egate border init` provisions the roles:

- kiosks (`<prefix>_kiosk`): write their own status row, insert their own
  referrals and referral images (never read any image back), read and
  acknowledge only the commands addressed to them. Nothing on officers or
  officer_actions: a kiosk can never read an officer record.
- supervisor stations: read everything; resolve referrals, record officer
  actions, issue commands, purge images past their retention; update only the
  sign-in bookkeeping columns of officers.
- admin: manages officer accounts (`egate officers`).

Row-level security is enabled by the migration; the kiosk policies are created
there, the supervisor and admin ones (which name the roles) here.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, text

STATION_TABLES = (
    "officers", "kiosk_status", "referrals", "referral_images", "officer_actions", "commands",
)  # fmt: skip
KIOSK_STATUS_COLUMNS = (
    "kiosk_id", "port", "lane", "direction", "state", "detail", "transaction_id", "in_service",
    "pending_events", "reference_age_h", "state_since", "heartbeat_at",
)  # fmt: skip
KIOSK_REFERRAL_COLUMNS = (
    "referral_id", "kiosk_id", "port", "lane", "direction", "referred_at", "reasons",
    "watchlist", "details",
)  # fmt: skip
KIOSK_IMAGE_COLUMNS = ("referral_id", "kind", "kiosk_id", "jpeg", "expires_at")
KIOSK_ACK_COLUMNS = ("acked_at", "result", "result_detail")


def _policy(c: Connection, name: str, table: str, role: str, command: str = "ALL") -> None:
    c.execute(text(f"DROP POLICY IF EXISTS {name} ON {table}"))
    check = " WITH CHECK (true)" if command in ("ALL", "INSERT", "UPDATE") else ""
    using = "" if command == "INSERT" else " USING (true)"
    c.execute(text(f"CREATE POLICY {name} ON {table} FOR {command} TO {role}{using}{check}"))


def grant_station(c: Connection, q: Callable[[str], str], admin: str, sup: str, group: str) -> None:
    """Grant the station tables to the (unquoted) role names; idempotent."""
    a, s, g = q(admin), q(sup), q(group)
    for role in (a, s, g):
        c.execute(text(f"REVOKE ALL ON {', '.join(STATION_TABLES)} FROM {role}"))
    # Kiosks.
    cols = ", ".join(KIOSK_STATUS_COLUMNS)
    c.execute(text(f"GRANT SELECT ({cols}), INSERT ({cols}), UPDATE ({cols}) "
                   f"ON kiosk_status TO {g}"))  # fmt: skip
    c.execute(text(f"GRANT INSERT ({', '.join(KIOSK_REFERRAL_COLUMNS)}) ON referrals TO {g}"))
    c.execute(text(f"GRANT INSERT ({', '.join(KIOSK_IMAGE_COLUMNS)}) ON referral_images TO {g}"))
    c.execute(text(f"GRANT SELECT, UPDATE ({', '.join(KIOSK_ACK_COLUMNS)}) ON commands TO {g}"))
    # Supervisor stations.
    c.execute(text(f"GRANT SELECT ON {', '.join(STATION_TABLES)} TO {s}"))
    c.execute(text(f"GRANT UPDATE (failed_attempts, locked_until, last_sign_in) ON officers "
                   f"TO {s}"))  # fmt: skip
    c.execute(text(f"GRANT UPDATE (status, resolved_at, resolution) ON referrals TO {s}"))
    c.execute(text(f"GRANT DELETE ON referral_images TO {s}"))
    c.execute(text(f"GRANT INSERT ON officer_actions, commands TO {s}"))
    c.execute(text(f"GRANT USAGE, SELECT ON SEQUENCE officer_actions_seq_seq TO {s}"))
    for table in STATION_TABLES:
        _policy(c, f"{table}_supervisor", table, s)
    # Officer accounts are managed by the admin role.
    c.execute(text(f"GRANT SELECT, INSERT, UPDATE ON officers TO {a}"))
    _policy(c, "officers_admin", "officers", a)
