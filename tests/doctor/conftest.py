"""The real PostgreSQL border fixtures (tests/border/conftest.py) for the doctor's
border checks."""

from tests.border.conftest import pg_border, pg_database, pg_server  # noqa: F401  (fixtures)
