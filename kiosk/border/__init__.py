"""The border database (PostgreSQL, or an SQLite stand-in) and the kiosk's sync.

- models / migrations: the shared schema (events, reference data, advance
  passenger information, kiosk role mapping, the entry_records view);
- roles: least-privilege PostgreSQL roles with row-level security;
- sync/: BorderSync pushes the outbox (push) and pulls reference data (pull);
- lookups: BorderApiSource answers the lane's journey and entry-record questions;
- publish: admin operations (reference data, API rows).
"""

from kiosk.border.database import create_border_engine, migrate_border, open_border
from kiosk.border.errors import BorderError, BorderSchemaError, PublishError, RoleError
from kiosk.border.lookups import BorderApiSource, LookupStatus
from kiosk.border.sync import BorderSync, SyncResult

__all__ = [
    "BorderApiSource",
    "BorderError",
    "BorderSchemaError",
    "BorderSync",
    "LookupStatus",
    "PublishError",
    "RoleError",
    "SyncResult",
    "create_border_engine",
    "migrate_border",
    "open_border",
]
