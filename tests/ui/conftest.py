"""UI test fixtures: the border PostgreSQL for tests that start `egate kiosk` (production
refuses a stand-in border)."""

from tests.border.conftest import pg_border, pg_database, pg_server  # noqa: F401  (fixtures)
