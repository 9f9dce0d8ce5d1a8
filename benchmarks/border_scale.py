"""Border scale (issue 23 item 4): a partitioned border database filled with N
events (entries and exits across 20 ports, 10 lanes each, a year of months),
then the figures that matter at that size: exit-lane entry look-up latency, the
station's overview and queue, a month's statistics, one kiosk's sync throughput
into the full database, and disk per million events.

Run: .venv/bin/python benchmarks/border_scale.py [--events N] [--keep]
PostgreSQL: EGATE_TEST_PG (default postgresql+psycopg://postgres@127.0.0.1:5432/test).
The benchmark creates its own database (dropped afterwards unless --keep) and
fills it server-side (generate_series, row triggers off for the fill only: the
rows are synthetic but each kiosk's hash chain is consistent, so the sync then
continues through the real triggers). docs/performance.md, "Border scale".
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, select, text
from sqlalchemy.engine import URL, make_url

from kiosk.border.database import create_border_engine, migrate_border
from kiosk.border.lookups import BorderApiSource
from kiosk.border.partitions import (
    BY_NAME,
    add_months,
    create_month,
    maintain_partitions,
    month_partitions,
    month_start,
)
from kiosk.border.roles import KioskGrant, RoleNames, provision_roles
from kiosk.border.station_tables import kiosk_status, referrals
from kiosk.border.sync import BorderSync
from kiosk.store.database import open_local
from kiosk.store.event_log import EventLog, EventRecord
from kiosk.supervisor.station import OPEN, load_statistics, open_referrals

PORTS, LANES = 20, 10
CHUNK = 250_000
# Entries and exits alternate in blocks of 1 000 events: traveller t enters in
# block 2m and leaves in block 2m+1, so exits find their entry months later.
FILL = """
INSERT INTO events (event_id, kiosk_id, port, lane, direction, outcome, decision, basis,
    reasons, document, document_number, issuing_state, nationality, checks, stages,
    started_at, finished_at, permitted_until, transaction_ms, chain_hash, log_seq,
    prev_hash, received_at)
SELECT gen_random_uuid(), 'K' || lpad(k::text, 3, '0'), 'P' || lpad((k / {lanes})::text, 2, '0'),
    k % {lanes} + 1, dir, outcome, CASE WHEN outcome = 'admitted' THEN 'admit' ELSE 'refer' END,
    'visa_free',
    CASE WHEN outcome = 'admitted' THEN '[]'::jsonb ELSE '["face_mismatch"]'::jsonb END,
    jsonb_build_object('document_number', doc, 'issuing_state', 'USA', 'nationality', 'USA'),
    doc, 'USA', 'USA', '{{"document_authentic": true}}'::jsonb,
    jsonb_build_object('idle', t - interval '25 s', 'deciding', t - interval '1 s'),
    t - interval '25 s', t, CASE WHEN dir = 'entry' THEN t + interval '30 days' END, 800.0,
    md5(k || ':' || seq) || md5(seq || ':' || k), seq,
    CASE WHEN seq = 1 THEN repeat('0', 64)
         ELSE md5(k || ':' || (seq - 1)) || md5((seq - 1) || ':' || k) END, t
FROM (SELECT i % {kiosks} AS k, i / {kiosks} + 1 AS seq,
             CASE WHEN (i / 1000) % 2 = 0 THEN 'entry' ELSE 'exit' END AS dir,
             CASE WHEN i % 10 = 0 THEN 'referred' ELSE 'admitted' END AS outcome,
             'D' || lpad(((i / 2000) * 1000 + i % 1000)::text, 9, '0') AS doc,
             CAST(:start AS timestamptz) + (i * :step_us) * interval '1 microsecond' AS t
      FROM generate_series(CAST(:lo AS bigint), CAST(:hi AS bigint) - 1) AS i) g
"""


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000.0


def figures(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "n": len(ordered),
        "p50_ms": round(statistics.median(ordered), 2),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 2),
        "max_ms": round(ordered[-1], 2),
    }


def fill(engine: Engine, events: int, months: int) -> dict[str, Any]:
    kiosks = PORTS * LANES
    now = datetime.now(UTC)
    start = now - timedelta(days=30.4 * months)
    step_us = int((now - timedelta(hours=1) - start).total_seconds() * 1e6 // max(events, 1))
    began = time.perf_counter()
    with engine.begin() as c:
        for spec in (BY_NAME["events"], BY_NAME["referrals"]):
            month = month_start(start)
            existing = month_partitions(c, spec.name)
            while month <= month_start(now):
                if month not in existing:
                    create_month(c, spec, month)
                month = add_months(month, 1)
        c.execute(text("ALTER TABLE events DISABLE TRIGGER USER"))
        c.execute(text("ALTER TABLE referrals DISABLE TRIGGER USER"))
    sql = text(FILL.format(lanes=LANES, kiosks=kiosks))
    for lo in range(0, events, CHUNK):
        with engine.begin() as c:
            c.execute(
                sql, {"start": start, "step_us": step_us, "lo": lo, "hi": min(events, lo + CHUNK)}
            )
        print(f"# {min(events, lo + CHUNK)} events", flush=True)
    with engine.begin() as c:
        # Every referred traveller is a referral; those of the last hour are open.
        c.execute(
            text(
                "INSERT INTO referrals (referral_id, kiosk_id, port, lane, direction, "
                "referred_at, reasons, watchlist, details, status, resolved_at, resolution) "
                "SELECT event_id, kiosk_id, port, lane, direction, finished_at, reasons, "
                "false, '{}'::jsonb, CASE WHEN finished_at > now() - interval '2 hours' "
                "THEN 'open' ELSE 'resolved' END, CASE WHEN finished_at <= now() - "
                "interval '2 hours' THEN finished_at + interval '3 minutes' END, "
                "CASE WHEN finished_at <= now() - interval '2 hours' THEN 'admitted' END "
                "FROM events WHERE outcome = 'referred'"
            )
        )
        c.execute(
            text(
                "INSERT INTO kiosk_chain_heads (kiosk_id, log_seq, chain_hash, event_id, "
                "updated_at) SELECT DISTINCT ON (kiosk_id) kiosk_id, log_seq, chain_hash, "
                "event_id, now() FROM events ORDER BY kiosk_id, log_seq DESC"
            )
        )
        c.execute(
            text(
                "INSERT INTO kiosk_status (kiosk_id, port, lane, direction, state, in_service, "
                "pending_events, state_since, heartbeat_at) "
                "SELECT DISTINCT ON (kiosk_id) kiosk_id, port, lane, 'entry', 'idle', true, 0, "
                "now(), now() FROM events ORDER BY kiosk_id"
            )
        )
        c.execute(text("ALTER TABLE events ENABLE TRIGGER USER"))
        c.execute(text("ALTER TABLE referrals ENABLE TRIGGER USER"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.execute(text("VACUUM ANALYZE events"))
        c.execute(text("VACUUM ANALYZE referrals"))
    seconds = time.perf_counter() - began
    return {
        "events": events,
        "seconds": round(seconds, 1),
        "events_per_s": round(events / seconds),
        "span_months": months,
    }


def disk(engine: Engine, events: int) -> dict[str, float]:
    with engine.connect() as c:
        size = c.execute(
            text(
                "SELECT sum(pg_total_relation_size(inhrelid)) FROM pg_inherits "
                "WHERE inhparent = 'events'::regclass"
            )
        ).scalar_one()
    size = int(size)
    return {"events_bytes": size, "mb_per_million_events": round(size / events * 1e6 / 2**20)}


def lookups(engine: Engine, events: int, n: int) -> dict[str, float]:
    source = BorderApiSource(engine)
    travellers = max(1, events // 2)
    rng = random.Random(23)
    found, times = 0, []
    for _ in range(n):
        doc = f"D{rng.randrange(travellers):09d}"
        start = time.perf_counter()
        found += source.entry_record(doc, "USA") is not None
        times.append((time.perf_counter() - start) * 1000.0)
    source.engine.dispose()
    return {**figures(times), "found": found}


def station(engine: Engine, n: int) -> dict[str, Any]:
    """The overview's queries (lanes of a port, open cases per kiosk) and the queue."""

    def overview() -> None:
        with engine.connect() as c:
            c.execute(select(kiosk_status).where(kiosk_status.c.port == "P07")).all()
            c.execute(
                select(referrals.c.kiosk_id)
                .where(referrals.c.status.in_(OPEN))
                .group_by(referrals.c.kiosk_id)
            ).all()

    queue_sizes: list[int] = []
    over = [timed(overview) for _ in range(n)]
    queue = [
        timed(lambda: queue_sizes.append(len(open_referrals(engine, "P07")))) for _ in range(n)
    ]
    return {"overview": figures(over), "queue": figures(queue), "queue_cases": queue_sizes[-1]}


def month_statistics(engine: Engine) -> dict[str, Any]:
    now = datetime.now(UTC)
    end = datetime(now.year, now.month, 1, tzinfo=UTC)
    first = add_months(end.date(), -1)
    start = datetime(first.year, first.month, 1, tzinfo=UTC)
    rows: list[int] = []

    def load() -> None:
        rows.append(load_statistics(engine, start, end, "port").overall.travellers)

    times = [timed(load) for _ in range(3)]
    return {
        "month": start.strftime("%Y-%m"),
        "events": rows[-1],
        "seconds_median": round(statistics.median(times) / 1000, 2),
    }


def record(i: int, kiosk: str) -> EventRecord:
    at = datetime.now(UTC) - timedelta(minutes=5)
    return EventRecord(
        str(uuid.uuid4()),
        kiosk,
        "P00",
        1,
        "entry",
        at,
        at,
        {"idle": at.isoformat(), "deciding": at.isoformat()},
        "admitted",
        "admit",
        "visa_free",
        [],
        "cn-hunan-transit-240h",
        "1",
        {"document_number": f"S{i:08d}", "issuing_state": "USA", "nationality": "USA"},
        {"document_authentic": True, "permitted_until": at.isoformat()},
        800.0,
        None,
    )


def sync(engine: Engine, url: URL, events: int, workdir: Path) -> dict[str, float]:
    """One kiosk, logged in as its own role, pushes a backlog into the full border."""
    prefix = f"egscale{uuid.uuid4().hex[:6]}"
    names = RoleNames.from_prefix(prefix)
    grant = KioskGrant(f"{prefix}_k", "KSYNC")
    provision_roles(engine, names, [grant])
    role_url = url.set(username=grant.role, password=None).render_as_string(hide_password=False)
    border = create_border_engine(role_url)
    local = open_local(f"sqlite:///{workdir}/local.sqlite")
    try:
        log = EventLog(local)
        for i in range(events):
            log.append(record(i, "KSYNC"))
        kiosk = BorderSync(local, border, "KSYNC")
        kiosk.pull()
        ms = timed(kiosk.push)
        assert kiosk.pending() == 0, "the backlog was not pushed"
    finally:
        local.dispose()
        border.dispose()
        with engine.begin() as c:
            for role in (grant.role, names.admin, names.supervisor, names.kiosk_group):
                c.execute(text(f'DROP OWNED BY "{role}"'))
                c.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
    return {
        "events": events,
        "seconds": round(ms / 1000, 2),
        "events_per_s": round(events / (ms / 1000)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--lookups", type=int, default=2000)
    parser.add_argument("--push-events", type=int, default=20_000)
    parser.add_argument("--keep", action="store_true", help="keep the database (its name printed)")
    args = parser.parse_args()
    url = make_url(
        os.environ.get("EGATE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    )
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    name = f"egate_scale_{uuid.uuid4().hex[:10]}"
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    engine = create_border_engine(url.set(database=name).render_as_string(hide_password=False))
    out: dict[str, Any] = {
        "database": name,
        "load_average": os.getloadavg()[0],
        "cpus": os.cpu_count(),
    }
    try:
        migrate_border(engine)
        maintain_partitions(engine)
        out["fill"] = fill(engine, args.events, args.months)
        out["disk"] = disk(engine, args.events)
        out["entry_lookup"] = lookups(engine, args.events, args.lookups)
        out["station"] = station(engine, 50)
        out["month_statistics"] = month_statistics(engine)
        with tempfile.TemporaryDirectory() as tmp:
            db_url = url.set(database=name)
            out["sync_one_kiosk"] = sync(engine, db_url, args.push_events, Path(tmp))
        out["load_average_after"] = os.getloadavg()[0]
    finally:
        engine.dispose()
        if not args.keep:
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
