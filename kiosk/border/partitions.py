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
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, Engine, text

from kiosk.border.errors import BorderSchemaError

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
    check = _q(c, partition_name(spec.name, month) + "_range")
    c.execute(
        text(
            f"ALTER TABLE {name} ADD CONSTRAINT {check} "
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


# -- maintenance (`egate border maintain`, run as the owner) ----------------------
MONTHS_AHEAD_SETTING = "partition_months_ahead"
RETENTION_SETTING = "retention_months_{table}"  # absent: keep every month
DEFAULT_MONTHS_AHEAD = 3
MAX_MONTHS_AHEAD = 24
# Waiting longer for the parent's lock would queue the lanes' pushes behind it.
LOCK_TIMEOUT = "5s"


@dataclass
class TableReport:
    table: str
    retention_months: int | None
    created: list[str]
    moved_from_default: int
    detached: list[str]
    dropped: list[str]
    deleted_from_default: int
    oldest_kept: str | None  # YYYY-MM of the cut-off (None: nothing retired)


def _setting(c: Connection, name: str) -> str | None:
    value = c.execute(text("SELECT value FROM border_settings WHERE name = :n"), {"n": name})
    found = value.scalar()
    return None if found is None else str(found)


def _store(c: Connection, name: str, value: str | None) -> None:
    c.execute(text("DELETE FROM border_settings WHERE name = :n"), {"n": name})
    if value is not None:
        c.execute(
            text("INSERT INTO border_settings (name, value) VALUES (:n, :v)"),
            {"n": name, "v": value},
        )


def check_months_ahead(months: int) -> int:
    if not 1 <= months <= MAX_MONTHS_AHEAD:
        raise ValueError(f"months ahead must be 1 to {MAX_MONTHS_AHEAD}")
    return months


def check_retention(table: str, months: int | None) -> int | None:
    if table not in BY_NAME:
        raise ValueError(f"{table!r} is not partitioned ({', '.join(BY_NAME)})")
    # At least the current and the previous month: a month is retired only
    # whole, after its last row is `months` old.
    if months is not None and months < 1:
        raise ValueError("a retention is at least 1 month (or none: keep everything)")
    return months


def configure(c: Connection, months_ahead: int | None, retention: dict[str, int | None]) -> None:
    """Store the settings `maintain` reads (border_settings, like the image maximum)."""
    if months_ahead is not None:
        _store(c, MONTHS_AHEAD_SETTING, str(check_months_ahead(months_ahead)))
    for table, months in retention.items():
        check_retention(table, months)
        _store(c, RETENTION_SETTING.format(table=table), None if months is None else str(months))


def settings(c: Connection) -> tuple[int, dict[str, int | None]]:
    ahead = _setting(c, MONTHS_AHEAD_SETTING)
    retention: dict[str, int | None] = {}
    for spec in PARTITIONED:
        value = _setting(c, RETENTION_SETTING.format(table=spec.name))
        retention[spec.name] = None if value is None else int(value)
    return (DEFAULT_MONTHS_AHEAD if ahead is None else int(ahead)), retention


def _label(month: date) -> str:
    return f"{month.year:04d}-{month.month:02d}"


def _anchor_officer_log(c: Connection, cutoff: date) -> None:
    """Keep the newest officer-log link that is about to go (the chain's
    verification continues from it: border_officer_log_verify)."""
    c.execute(
        text(
            "INSERT INTO officer_log_anchor (id, seq, chain_hash, retired_at) "
            "SELECT 1, seq, chain_hash, now() FROM officer_actions "
            f"WHERE at < {_bound(cutoff)} ORDER BY seq DESC LIMIT 1 "
            "ON CONFLICT (id) DO UPDATE SET seq = EXCLUDED.seq, "
            "chain_hash = EXCLUDED.chain_hash, retired_at = EXCLUDED.retired_at "
            "WHERE officer_log_anchor.seq < EXCLUDED.seq"
        )
    )


def maintain_table(
    c: Connection, spec: PartitionedTable, ahead: int, retention: int | None
) -> TableReport:
    """One table in one transaction: months ahead, rows out of the default
    partition, months past the retention detached and dropped."""
    c.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
    current = server_month(c)
    # Every row of a retired month is older than `retention` whole months.
    cutoff = add_months(current, -retention) if retention is not None else None
    existing = month_partitions(c, spec.name)
    wanted = {add_months(current, i) for i in range(ahead + 1)} | set(default_months(c, spec))
    report = TableReport(spec.name, retention, [], 0, [], [], 0, None)
    for month in sorted(wanted):
        if month in existing or (cutoff is not None and month < cutoff):
            continue
        report.moved_from_default += create_month(c, spec, month)
        report.created.append(partition_name(spec.name, month))
    if cutoff is None:
        return report
    report.oldest_kept = _label(cutoff)
    if spec.name == "officer_actions":
        _anchor_officer_log(c, cutoff)
    for month, name in sorted(existing.items()):
        if add_months(month, 1) > cutoff:
            continue
        c.execute(text(f"ALTER TABLE {_q(c, spec.name)} DETACH PARTITION {_q(c, name)}"))
        report.detached.append(name)
        c.execute(text(f"DROP TABLE {_q(c, name)}"))
        report.dropped.append(name)
    report.deleted_from_default = int(
        c.execute(
            text(
                f"DELETE FROM {_q(c, default_name(spec.name))} "
                f"WHERE {_q(c, spec.key)} < {_bound(cutoff)}"
            )
        ).rowcount
        or 0
    )
    return report


def maintain_partitions(engine: Engine) -> dict[str, Any]:
    """Create, fill and retire the month partitions of every partitioned table
    (each table one transaction); what was done, for `egate border maintain`.
    The SQLite stand-in has none: reported as skipped."""
    if engine.dialect.name != "postgresql":
        return {"backend": engine.dialect.name, "skipped": "partitions are PostgreSQL only"}
    with engine.begin() as c:
        if not is_partitioned(c, "events"):
            raise BorderSchemaError("the border is not partitioned yet: run `egate border init`")
        ahead, retention = settings(c)
    tables = []
    for spec in PARTITIONED:
        with engine.begin() as c:
            tables.append(asdict(maintain_table(c, spec, ahead, retention[spec.name])))
    return {"backend": "postgresql", "months_ahead": ahead, "tables": tables}
