"""Is the border database really there, and is this kiosk's role what it should be?

Used by `egate kiosk` (the production composition refuses to start without a
reachable border: no SQLite stand-in, which would hold an empty watchlist and
reference data minutes old, so the staleness rule never fires) and by
`egate doctor`, which connects for real instead of trusting a URL.

A kiosk role (kiosk/border/roles.py) may insert events and read reference data;
it must not update, delete or truncate events, own tables, or be a superuser,
create roles or databases, or bypass row-level security.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from kiosk.border.errors import BorderError
from kiosk.config import Config, ConfigError, expand_url


def production_border_url(config: Config) -> str:
    """The configured border URL, or ConfigError: production never runs on a stand-in."""
    url = config.storage.border_url.strip()
    if not url:
        raise ConfigError(
            "storage.border_url is empty: a production kiosk needs the border PostgreSQL "
            "(its watchlist, reference data and event sink); set it in /etc/egate/kiosk.toml"
        )
    expanded = expand_url(url)
    if not expanded.startswith(("postgresql", "postgres")):
        raise ConfigError(
            "storage.border_url must be the border PostgreSQL in production "
            f"(got a {expanded.split(':', 1)[0]} URL: a local file is a stand-in)"
        )
    return expanded


@dataclass(frozen=True)
class RoleFacts:
    user: str
    superuser: bool
    create_role: bool
    create_db: bool
    bypass_rls: bool
    insert_events: bool
    read_reference: bool
    rewrite_events: tuple[str, ...]  # UPDATE / DELETE / TRUNCATE held on events
    owned_tables: int

    def problems(self) -> list[str]:
        out: list[str] = []
        for flag, what in ((self.superuser, "is a superuser"),
                           (self.create_role, "may create roles"),
                           (self.create_db, "may create databases"),
                           (self.bypass_rls, "bypasses row-level security")):
            if flag:
                out.append(what)
        if self.rewrite_events:
            out.append(f"holds {', '.join(self.rewrite_events)} on events")
        if self.owned_tables:
            out.append(f"owns {self.owned_tables} table(s)")
        if not self.insert_events:
            out.append("cannot insert events")
        if not self.read_reference:
            out.append("cannot read reference data")
        return out


_FACTS = text("""
SELECT current_user AS who, r.rolsuper, r.rolcreaterole, r.rolcreatedb, r.rolbypassrls,
       has_any_column_privilege('events', 'INSERT') AS insert_events,
       has_table_privilege('reference_items', 'SELECT') AS read_reference,
       has_table_privilege('events', 'UPDATE') AS can_update,
       has_table_privilege('events', 'DELETE') AS can_delete,
       has_table_privilege('events', 'TRUNCATE') AS can_truncate,
       (SELECT count(*) FROM pg_tables t WHERE t.tableowner = current_user) AS owned
FROM pg_roles r WHERE r.rolname = current_user
""")


def role_facts(engine: Engine) -> RoleFacts:
    """Connects (BorderError when it cannot) and reads the role's privileges."""
    try:
        with engine.connect() as c:
            row = c.execute(_FACTS).mappings().one()
    except SQLAlchemyError as exc:
        detail = " ".join(str(getattr(exc, "orig", None) or exc).split())[:300]
        raise BorderError(f"cannot reach the border database: {detail}") from exc
    rewrite = tuple(name for name, held in (("UPDATE", row["can_update"]),
                                            ("DELETE", row["can_delete"]),
                                            ("TRUNCATE", row["can_truncate"])) if held)
    return RoleFacts(
        user=str(row["who"]), superuser=bool(row["rolsuper"]),
        create_role=bool(row["rolcreaterole"]), create_db=bool(row["rolcreatedb"]),
        bypass_rls=bool(row["rolbypassrls"]), insert_events=bool(row["insert_events"]),
        read_reference=bool(row["read_reference"]), rewrite_events=rewrite,
        owned_tables=int(row["owned"]),
    )


def require_reachable(engine: Engine) -> None:
    """BorderError unless a connection answers a query now."""
    try:
        with engine.connect() as c:
            c.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        detail = " ".join(str(getattr(exc, "orig", None) or exc).split())[:300]
        raise BorderError(f"cannot reach the border database: {detail}") from exc
