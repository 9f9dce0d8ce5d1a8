"""Border sync figures: push throughput from one kiosk's backlog, the idle cycle,
the first and idle pull of a large watchlist, lookup latency, and (PostgreSQL)
many kiosks pushing at once.

Run: .venv/bin/python benchmarks/border_sync.py [--events N] [--items N]
         [--kiosks K] [--kiosk-events N]
PostgreSQL: EGATE_TEST_PG (default postgresql+psycopg://postgres@127.0.0.1:5432/test);
the benchmark creates and drops its own database and kiosk roles.

Besides wall-clock rates it prints CPU per event, of the sync process and of
the PostgreSQL backends (from /proc), so that figures taken on a shared, busy
machine can be read as capacity: a rate a core each can sustain.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import URL, make_url

from kiosk.border.database import create_border_engine, migrate_border
from kiosk.border.lookups import BorderApiSource
from kiosk.border.publish import ApiRecord, PreparedItem, add_api, publish
from kiosk.border.roles import KioskGrant, RoleNames, provision_roles
from kiosk.border.sync import BorderSync
from kiosk.store.database import open_local
from kiosk.store.event_log import EventLog, EventRecord

TICK_S = 1.0 / os.sysconf("SC_CLK_TCK")


def record(i: int, kiosk: str = "BENCH") -> EventRecord:
    at = datetime.now(UTC)
    return EventRecord(
        str(uuid.uuid4()), kiosk, "CSX", 1, "entry", at, at,
        {"idle": at.isoformat(), "deciding": at.isoformat()}, "admitted", "admit",
        "transit_240h", [], "cn-hunan-transit-240h", "1",
        {"document_number": f"B{i:07d}", "issuing_state": "USA", "nationality": "USA"},
        {"document_authentic": True, "permitted_until": at.isoformat()}, 800.0, None,
    )  # fmt: skip


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000.0


def _stat(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def backend_cpu_s(engine: Engine) -> float:
    """CPU seconds used so far by the PostgreSQL server: its live backends plus
    what the postmaster has collected from backends that exited (the whole
    cluster, so other databases' work on a shared server counts too)."""
    if engine.dialect.name != "postgresql":
        return 0.0
    with engine.connect() as c:
        pids = list(c.execute(text("SELECT pid FROM pg_stat_activity")).scalars())
        own = int(c.execute(text("SELECT pg_backend_pid()")).scalar_one())
    total, postmaster = 0.0, None
    for pid in pids:
        fields = _stat(pid)
        if fields is None:
            continue
        total += (int(fields[11]) + int(fields[12])) * TICK_S  # utime + stime
        if pid == own:
            postmaster = int(fields[1])
    if postmaster is not None and (fields := _stat(postmaster)) is not None:
        total += (int(fields[13]) + int(fields[14])) * TICK_S  # cutime + cstime
    return total


def backlog(workdir: Path, events: int, kiosk: str = "BENCH") -> Engine:
    local = open_local(f"sqlite:///{workdir}/local-{uuid.uuid4().hex}.sqlite")
    log = EventLog(local)
    for i in range(events):
        log.append(record(i, kiosk))
    return local


def run(border: Engine, workdir: Path, events: int, items: int) -> dict[str, float]:
    local = backlog(workdir, events)
    sync = BorderSync(local, border, "BENCH")
    sync.pull()  # connections and statement caches warm, as on a running kiosk
    server0, cpu0 = backend_cpu_s(border), time.process_time()
    push_ms = timed(sync.push)
    cpu, server = time.process_time() - cpu0, backend_cpu_s(border) - server0
    assert sync.pending() == 0, "the backlog was not pushed"
    idle_ms = [timed(sync.run_once) for _ in range(20)]
    publish(
        border,
        [PreparedItem("watchlist", f"USA:W{i:07d}", b"") for i in range(items)],
        "benchmark",
    )
    first_pull_ms = timed(sync.pull)
    idle_pull_ms = [timed(sync.pull) for _ in range(20)]
    cycle_cpu0 = time.process_time()
    idle_after = [timed(sync.run_once) for _ in range(20)]
    idle_cpu_ms = (time.process_time() - cycle_cpu0) * 1000.0 / 20
    add_api(border, ApiRecord("B0000001", "USA", date(2026, 3, 1), "JPN"))
    source = BorderApiSource(border)
    lookups = [timed(lambda: source.lookup("B0000001", "USA", date(2026, 3, 1)))
               for _ in range(50)]  # fmt: skip
    entries = [timed(lambda: source.entry_record("B0000001", "USA")) for _ in range(50)]
    per_event_us = (cpu + server) * 1e6 / events
    return {
        "events": events,
        "push_ms": round(push_ms, 1),
        "push_events_per_s": round(events / (push_ms / 1000.0)),
        "push_client_cpu_us_per_event": round(cpu * 1e6 / events, 1),
        "push_server_cpu_us_per_event": round(server * 1e6 / events, 1),
        "push_cpu_bound_events_per_s": round(1e6 / per_event_us) if per_event_us else 0,
        "idle_cycle_ms_median": round(statistics.median(idle_ms), 2),
        "reference_items": items,
        "first_pull_ms": round(first_pull_ms, 1),
        "idle_pull_ms_median": round(statistics.median(idle_pull_ms), 2),
        "idle_cycle_ms_median_with_items": round(statistics.median(idle_after), 2),
        "idle_cycle_client_cpu_ms": round(idle_cpu_ms, 2),
        "api_lookup_ms_median": round(statistics.median(lookups), 2),
        "entry_record_ms_median": round(statistics.median(entries), 2),
    }


# -- many kiosks at once --------------------------------------------------------
Job = tuple[str, str, str, int, Any, Any]


def _kiosk_worker(args: Job) -> tuple[float, float, int, str | None]:
    url, kiosk, workdir, events, ready, go = args
    local = backlog(Path(workdir), events, kiosk)
    border = create_border_engine(url)
    sync = BorderSync(local, border, kiosk)
    sync.pull()
    ready.wait()
    go.wait()
    start = time.time()
    result = sync.push()
    end = time.time()
    border.dispose()
    return start, end, result.pushed, result.error


def concurrent(url: URL, workdir: Path, kiosks: int, events: int) -> dict[str, float]:
    prefix = f"egbench{uuid.uuid4().hex[:6]}"
    owner = create_border_engine(url.render_as_string(hide_password=False))
    grants = [KioskGrant(f"{prefix}_k{i}", f"BENCH-{i:02d}") for i in range(kiosks)]
    names = RoleNames.from_prefix(prefix)
    provision_roles(owner, names, grants)
    try:
        ctx = multiprocessing.get_context("spawn")
        with ctx.Manager() as manager:
            ready, go = manager.Barrier(kiosks + 1), manager.Barrier(kiosks + 1)
            jobs = [
                (url.set(username=g.role, password=None).render_as_string(hide_password=False),
                 g.kiosk_id, str(workdir), events, ready, go)
                for g in grants
            ]  # fmt: skip
            with ctx.Pool(kiosks) as pool:
                pending = pool.map_async(_kiosk_worker, jobs)
                ready.wait()  # every backlog is written
                server0 = backend_cpu_s(owner)
                go.wait()
                results = pending.get(timeout=1800)
                server = backend_cpu_s(owner) - server0
        errors = [e for *_, e in results if e]
        pushed = sum(r[2] for r in results)
        span = max(r[1] for r in results) - min(r[0] for r in results)
        with owner.connect() as c:
            stored = c.execute(text("SELECT count(*) FROM events WHERE kiosk_id LIKE 'BENCH-%'"))
            count = int(stored.scalar_one())
        return {
            "kiosks": kiosks,
            "events_per_kiosk": events,
            "pushed": pushed,
            "stored": count,
            "errors": len(errors),
            "wall_s": round(span, 2),
            "aggregate_events_per_s": round(pushed / span),
            "server_cpu_us_per_event": round(server * 1e6 / max(pushed, 1), 1),
        }
    finally:
        with owner.begin() as c:
            for g in grants:
                c.execute(text(f'DROP OWNED BY "{g.role}"'))
                c.execute(text(f'DROP ROLE IF EXISTS "{g.role}"'))
            for role in (names.admin, names.supervisor, names.kiosk_group):
                c.execute(text(f'DROP OWNED BY "{role}"'))
                c.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
        owner.dispose()


@contextmanager
def postgres() -> Iterator[tuple[Engine, URL] | None]:
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
    db_url = url.set(database=name)
    engine = create_border_engine(db_url.render_as_string(hide_password=False))
    try:
        migrate_border(engine)
        yield engine, db_url
    finally:
        engine.dispose()
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--items", type=int, default=20000)
    parser.add_argument("--kiosks", type=int, default=20, help="0: skip the concurrent run")
    parser.add_argument("--kiosk-events", type=int, default=1000)
    args = parser.parse_args()
    results: dict[str, Any] = {"load_average": os.getloadavg()[0], "cpus": os.cpu_count()}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        standin = create_border_engine(f"sqlite:///{work}/border.sqlite")
        migrate_border(standin)
        results["sqlite"] = run(standin, work, args.events, args.items)
        standin.dispose()
        with postgres() as pg:
            if pg is not None:
                engine, url = pg
                results["postgresql"] = run(engine, work, args.events, args.items)
                if args.kiosks:
                    results["postgresql_concurrent"] = concurrent(
                        url, work, args.kiosks, args.kiosk_events
                    )
    results["load_average_after"] = os.getloadavg()[0]
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
