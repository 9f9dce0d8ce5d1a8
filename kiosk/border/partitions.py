"""Monthly partitions of the border's growing tables (PostgreSQL declarative
partitioning, PARTITION BY RANGE on the row's time; migration b0008p).

`events` (finished_at), `referrals` (referred_at) and `officer_actions` (at) are
each a partitioned table with one partition per calendar month (UTC) named
`<table>_pYYYY_MM`, and a `<table>_default` partition that takes any row whose
month has no partition yet, so a kiosk's push never fails because maintenance
did not run. `egate border maintain` (maintain_partitions) creates the months
ahead, moves rows out of the default partition into their month, and retires
months older than the retention (detach, then drop). docs/border.md.

The SQLite stand-in has no partitions: everything here is PostgreSQL only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Connection, text

UTC_MONTH = re.compile(r"_p(\d{4})_(\d{2})$")


@dataclass(frozen=True)
class PartitionedTable:
    name: str
    key: str  # the partition key: the row's time


PARTITIONED = (
    PartitionedTable("events", "finished_at"),
    PartitionedTable("referrals", "referred_at"),
    PartitionedTable("officer_actions", "at"),
)
BY_NAME = {t.name: t for t in PARTITIONED}


def month_start(at: datetime | date) -> date:
    return date(at.year, at.month, 1)


def add_months(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def partition_name(table: str, month: date) -> str:
    return f"{table}_p{month.year:04d}_{month.month:02d}"


def default_name(table: str) -> str:
    return f"{table}_default"


def month_of(partition: str) -> date | None:
    found = UTC_MONTH.search(partition)
    return date(int(found[1]), int(found[2]), 1) if found else None


def _bound(month: date) -> str:
    # Partition bounds in UTC whatever the session's time zone.
    return f"'{month.isoformat()} 00:00:00+00'"


def _q(c: Connection, name: str) -> str:
    return c.dialect.identifier_preparer.quote(name)


def month_partitions(c: Connection, table: str) -> dict[date, str]:
    """The month partitions attached to `table` (not the default one)."""
    rows = c.execute(
        text(
            "SELECT child.relname FROM pg_inherits i "
            "JOIN pg_class child ON child.oid = i.inhrelid "
            "JOIN pg_class parent ON parent.oid = i.inhparent "
            "WHERE parent.oid = to_regclass(:t)"
        ),
        {"t": table},
    ).scalars()
    out: dict[date, str] = {}
    for name in rows:
        month = month_of(str(name))
        if month is not None:
            out[month] = str(name)
    return out


def is_partitioned(c: Connection, table: str) -> bool:
    kind = c.execute(
        text("SELECT relkind FROM pg_class WHERE oid = to_regclass(:t)"), {"t": table}
    ).scalar()
    return kind == "p"


def create_default(c: Connection, table: str) -> None:
    c.execute(
        text(
            f"CREATE TABLE IF NOT EXISTS {_q(c, default_name(table))} "
            f"PARTITION OF {_q(c, table)} DEFAULT"
        )
    )


def create_month(c: Connection, spec: PartitionedTable, month: date) -> int:
    """Create `spec`'s partition of `month`; rows of that month waiting in the
    default partition move into it first (PostgreSQL refuses to attach a range
    the default partition holds rows of). Returns how many rows moved."""
    name, parent, default = (
        _q(c, partition_name(spec.name, month)),
        _q(c, spec.name),
        _q(c, default_name(spec.name)),
    )
    low, high = _bound(month), _bound(add_months(month, 1))
    key = _q(c, spec.key)
    # A plain table first: the rows copied into it do not pass through the
    # parent's row triggers (they were checked when they arrived).
    c.execute(text(f"CREATE TABLE {name} (LIKE {parent} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"))
    moved = 0
    if c.execute(text("SELECT to_regclass(:d)"), {"d": default_name(spec.name)}).scalar():
        in_month = f"{key} >= {low} AND {key} < {high}"
        moved = int(
            c.execute(
                text(
                    f"WITH gone AS (DELETE FROM {default} WHERE {in_month} RETURNING *) "
                    f"INSERT INTO {name} SELECT * FROM gone"
                )
            ).rowcount
            or 0
        )
    # The matching constraint lets ATTACH skip its validating scan.
    c.execute(
        text(
            f"ALTER TABLE {name} ADD CONSTRAINT {_q(c, partition_name(spec.name, month) + '_range')} "
            f"CHECK ({key} IS NOT NULL AND {key} >= {low} AND {key} < {high})"
        )
    )
    c.execute(
        text(f"ALTER TABLE {parent} ATTACH PARTITION {name} FOR VALUES FROM ({low}) TO ({high})")
    )
    return moved


def default_months(c: Connection, spec: PartitionedTable) -> list[date]:
    """Months of the rows waiting in the default partition."""
    if not c.execute(text("SELECT to_regclass(:d)"), {"d": default_name(spec.name)}).scalar():
        return []
    rows = c.execute(
        text(
            f"SELECT DISTINCT date_trunc('month', {_q(c, spec.key)} AT TIME ZONE 'UTC') "
            f"FROM {_q(c, default_name(spec.name))}"
        )
    ).scalars()
    return sorted(month_start(r) for r in rows)


def server_month(c: Connection) -> date:
    now = c.execute(text("SELECT now()")).scalar_one()
    return month_start(now.astimezone(UTC))
