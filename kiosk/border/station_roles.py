"""Privileges on the supervisor-station tables (migration b0003), PostgreSQL only.

Called by kiosk.border.roles when `egate border init` provisions the roles:

- kiosks (`<prefix>_kiosk`): write their own status row, insert their own
  referrals and referral images (never read any image back), read and
  acknowledge only the commands addressed to them. Nothing on officers or
  officer_actions: a kiosk can never read an officer record.
- supervisor stations: read the station tables (officers without their secret
  columns) and purge images past their retention. Every officer action -- sign-in,
  resolving a case, the second officer's confirmation, a lane command -- is a call
  of a border_officer_* SECURITY DEFINER function (migration b0004o): no INSERT or
  UPDATE on officers, referrals, officer_actions or commands.
- admin: manages officer accounts (`egate officers`): writes officers, never
  reads their secret columns.
- nobody: officer_sessions, officer_policy, officer_log_key, kiosk_command_keys
  (only the functions' owner).

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
    "pending_events", "reference_age_h", "state_since", "heartbeat_at", "alarms",
)  # fmt: skip
KIOSK_REFERRAL_COLUMNS = (
    "referral_id", "kiosk_id", "port", "lane", "direction", "referred_at", "reasons",
    "watchlist", "details",
)  # fmt: skip
KIOSK_IMAGE_COLUMNS = ("referral_id", "kind", "kiosk_id", "jpeg", "expires_at")
KIOSK_ACK_COLUMNS = ("acked_at", "result", "result_detail")
OWNER_ONLY = ("officer_sessions", "officer_policy", "officer_log_key", "kiosk_command_keys")
OFFICER_PUBLIC_COLUMNS = (
    "officer_id", "name", "role", "port", "disabled", "failed_attempts", "locked_until",
    "last_sign_in", "created_at",
)  # fmt: skip
STATION_FUNCTIONS = (
    "border_officer_challenge(text)", "border_officer_sign_in(text, bytea)",
    "border_officer_sign_out(bytea, text)",
    "border_officer_resolve(bytea, uuid, text, text, text)",
    "border_officer_confirm(bytea, uuid, text, bytea)",
    "border_officer_lane_command(bytea, text, text, text, text)",
    "border_officer_log_verify()", "border_officer_ack_alert(bytea, bigint, text)",
)  # fmt: skip


def _policy(c: Connection, name: str, table: str, role: str, command: str = "ALL") -> None:
    c.execute(text(f"DROP POLICY IF EXISTS {name} ON {table}"))
    check = " WITH CHECK (true)" if command in ("ALL", "INSERT", "UPDATE") else ""
    using = "" if command == "INSERT" else " USING (true)"
    c.execute(text(f"CREATE POLICY {name} ON {table} FOR {command} TO {role}{using}{check}"))


def grant_station(c: Connection, q: Callable[[str], str], admin: str, sup: str, group: str) -> None:
    """Grant the station tables to the (unquoted) role names; idempotent."""
    a, s, g = q(admin), q(sup), q(group)
    for role in (a, s, g):
        c.execute(text(f"REVOKE ALL ON {', '.join(STATION_TABLES + OWNER_ONLY)} FROM {role}"))
        for function in STATION_FUNCTIONS:
            c.execute(text(f"REVOKE ALL ON FUNCTION {function} FROM {role}"))
    # Kiosks.
    cols = ", ".join(KIOSK_STATUS_COLUMNS)
    c.execute(text(f"GRANT SELECT ({cols}), INSERT ({cols}), UPDATE ({cols}) "
                   f"ON kiosk_status TO {g}"))  # fmt: skip
    c.execute(text(f"GRANT INSERT ({', '.join(KIOSK_REFERRAL_COLUMNS)}) ON referrals TO {g}"))
    c.execute(text(f"GRANT INSERT ({', '.join(KIOSK_IMAGE_COLUMNS)}) ON referral_images TO {g}"))
    c.execute(text(f"GRANT SELECT, UPDATE ({', '.join(KIOSK_ACK_COLUMNS)}) ON commands TO {g}"))
    # Supervisor stations.
    readable = [t for t in STATION_TABLES if t != "officers"]
    c.execute(text(f"GRANT SELECT ON {', '.join(readable)} TO {s}"))
    c.execute(text(f"GRANT SELECT ({', '.join(OFFICER_PUBLIC_COLUMNS)}) ON officers TO {s}"))
    c.execute(text(f"GRANT DELETE ON referral_images TO {s}"))
    c.execute(text(f"REVOKE ALL ON SEQUENCE officer_actions_seq_seq FROM {s}"))
    for function in STATION_FUNCTIONS:
        c.execute(text(f"GRANT EXECUTE ON FUNCTION {function} TO {s}"))
    for table in STATION_TABLES:
        _policy(c, f"{table}_supervisor", table, s, "SELECT")
    _policy(c, "referral_images_supervisor_delete", "referral_images", s, "DELETE")
    # Officer accounts are managed by the admin role, which never reads a secret.
    c.execute(text(f"GRANT SELECT ({', '.join(OFFICER_PUBLIC_COLUMNS)}), INSERT, UPDATE "
                   f"ON officers TO {a}"))  # fmt: skip
    c.execute(text(f"GRANT EXECUTE ON FUNCTION border_officer_log_verify() TO {a}"))
    c.execute(text(f"GRANT SELECT ON officer_actions TO {a}"))  # auditing: egate officers log
    _policy(c, "officer_actions_admin", "officer_actions", a, "SELECT")
    _policy(c, "officers_admin", "officers", a)
