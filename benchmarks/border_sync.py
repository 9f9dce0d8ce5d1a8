"""Border sync figures: push throughput, idle cycle time, pull of a large watchlist,
and lookup latency, on the SQLite stand-in and (when reachable) PostgreSQL.

Run: .venv/bin/python benchmarks/border_sync.py [--events N] [--items N]
PostgreSQL: EGATE_TEST_PG (default postgresql+psycopg://postgres@127.0.0.1:5432/test);
the benchmark creates and drops its own database.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from kiosk.border.database import create_border_engine, migrate_border
from kiosk.border.lookups import BorderApiSource
from kiosk.border.publish import ApiRecord, PreparedItem, add_api, publish
from kiosk.border.sync import BorderSync
from kiosk.store.database import open_local
from kiosk.store.event_log import EventLog, EventRecord


def record(i: int) -> EventRecord:
    at = datetime.now(UTC)
    return EventRecord(
        str(uuid.uuid4()), "BENCH", "CSX", 1, "entry", at, at,
        {"idle": at.isoformat(), "deciding": at.isoformat()}, "admitted", "admit",
        "transit_240h", [], "cn-hunan-transit-240h", "1",
        {"document_number": f"B{i:07d}", "issuing_state": "USA", "nationality": "USA"},
        {"document_authentic": True, "permitted_until": at.isoformat()}, 800.0, None,
    )  # fmt: skip


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000.0


def run(border: Engine, workdir: Path, events: int, items: int) -> dict[str, float]:
    local = open_local(f"sqlite:///{workdir}/local-{uuid.uuid4().hex}.sqlite")
    log = EventLog(local)
    for i in range(events):
        log.append(record(i))
    sync = BorderSync(local, border, "BENCH")
    push_ms = timed(sync.push)
    idle_ms = [timed(sync.run_once) for _ in range(5)]
    publish(
        border,
        [PreparedItem("watchlist", f"USA:W{i:07d}", b"") for i in range(items)],
        "benchmark",
    )
    first_pull_ms = timed(sync.pull)
    idle_pull_ms = [timed(sync.pull) for _ in range(5)]
    add_api(border, ApiRecord("B0000001", "USA", date(2026, 3, 1), "JPN"))
    source = BorderApiSource(border)
    lookups = [timed(lambda: source.lookup("B0000001", "USA", date(2026, 3, 1)))
               for _ in range(50)]  # fmt: skip
    entries = [timed(lambda: source.entry_record("B0000001", "USA")) for _ in range(50)]
    return {
        "events": events,
        "push_ms": round(push_ms, 1),
        "push_events_per_s": round(events / (push_ms / 1000.0)),
        "idle_cycle_ms_median": round(statistics.median(idle_ms), 2),
        "reference_items": items,
        "first_pull_ms": round(first_pull_ms, 1),
        "idle_pull_ms_median": round(statistics.median(idle_pull_ms), 2),
        "api_lookup_ms_median": round(statistics.median(lookups), 2),
        "entry_record_ms_median": round(statistics.median(entries), 2),
    }


@contextmanager
def postgres() -> Iterator[Engine | None]:
    url = make_url(
        os.environ.get("EGATE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    )
    admin = create_engine(url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
    name = f"egate_bench_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # no server: report SQLite figures only
        print(f"# PostgreSQL unavailable: {' '.join(str(exc).split())[:120]}")
        admin.dispose()
        yield None
        return
    engine = create_border_engine(url.set(database=name).render_as_string(hide_password=False))
    try:
        migrate_border(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--items", type=int, default=20000)
    args = parser.parse_args()
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        standin = create_border_engine(f"sqlite:///{work}/border.sqlite")
        migrate_border(standin)
        results["sqlite"] = run(standin, work, args.events, args.items)
        standin.dispose()
        with postgres() as pg:
            if pg is not None:
                results["postgresql"] = run(pg, work, args.events, args.items)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
