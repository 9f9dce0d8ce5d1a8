"""Supervisor-station figures: argon2id sign-in cost, one station refresh (lane
overview + referral queue) with 12 kiosks and N open referrals, and statistics
over M events, on the SQLite stand-in (or --url).

    PYTHONPATH=. .venv/bin/python benchmarks/supervisor.py [--referrals 200] [--events 20000]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert

from kiosk.border.database import create_border_engine, migrate_border
from kiosk.border.models import BorderEvent
from kiosk.border.station_tables import kiosk_status, referrals
from kiosk.clock import FakeClock
from kiosk.supervisor.officers import OfficerDirectory
from kiosk.supervisor.station import Station


def timed(fn: object, n: int) -> float:
    samples = []
    for _ in range(n):
        t = time.perf_counter()
        fn()  # type: ignore[operator]
        samples.append((time.perf_counter() - t) * 1000)
    return statistics.median(samples)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default=None)
    ap.add_argument("--referrals", type=int, default=200)
    ap.add_argument("--events", type=int, default=20000)
    args = ap.parse_args()
    url = args.url or f"sqlite:///{tempfile.mkdtemp()}/border.sqlite"
    engine = create_border_engine(url)
    migrate_border(engine)
    clock = FakeClock(datetime(2026, 3, 1, 12, 0, tzinfo=UTC))
    directory = OfficerDirectory(engine, clock)  # production argon2id parameters
    t = time.perf_counter()
    directory.add("B1", "Bench", "supervisor", "bench-secret-1")
    hash_ms = (time.perf_counter() - t) * 1000
    station = Station(engine, clock, directory=directory)
    t = time.perf_counter()
    station.sign_in("B1", "bench-secret-1")
    verify_ms = (time.perf_counter() - t) * 1000
    now = clock.now()
    with engine.begin() as c:
        c.execute(insert(kiosk_status), [
            {"kiosk_id": f"K{i:02d}", "port": "CSX", "lane": i, "direction": "entry",
             "state": "referred", "detail": "see_officer", "transaction_id": None,
             "in_service": True, "pending_events": 0, "reference_age_h": 0.1,
             "state_since": now, "heartbeat_at": now} for i in range(1, 13)])  # fmt: skip
        c.execute(insert(referrals), [
            {"referral_id": uuid.uuid4(), "kiosk_id": f"K{i % 12 + 1:02d}", "port": "CSX",
             "lane": i % 12 + 1, "direction": "entry",
             "referred_at": now - timedelta(seconds=i), "reasons": ["face_mismatch"],
             "watchlist": False, "details": {"trace": ["x"] * 20}}
            for i in range(args.referrals)])  # fmt: skip
        start = now - timedelta(days=1)
        c.execute(insert(BorderEvent.__table__), [
            {"event_id": uuid.uuid4(), "kiosk_id": f"K{i % 12 + 1:02d}", "port": "CSX",
             "lane": i % 12 + 1, "direction": "entry",
             "outcome": "admitted" if i % 3 else "referred", "decision": None, "basis": None,
             "reasons": [] if i % 3 else ["face_mismatch"], "document": {}, "checks": {},
             "stages": {"reading_chip": (start + timedelta(seconds=4 * i)).isoformat(),
                        "capturing_face": (start + timedelta(seconds=4 * i + 1)).isoformat()},
             "started_at": start + timedelta(seconds=4 * i),
             "finished_at": start + timedelta(seconds=4 * i + 3), "transaction_ms": 3000.0,
             "chain_hash": "0" * 64} for i in range(args.events)])  # fmt: skip
    refresh_ms = timed(lambda: (station.lanes(), station.queue()), 20)
    stats_ms = timed(lambda: station.statistics(now - timedelta(days=1), now, "kiosk"), 3)
    print(f"backend                     {engine.dialect.name}")
    print(f"argon2id hash (add)         {hash_ms:8.1f} ms")
    print(f"argon2id sign-in            {verify_ms:8.1f} ms")
    print(f"refresh, 12 lanes + {args.referrals} refs {refresh_ms:8.1f} ms (median of 20)")
    print(f"statistics, {args.events} events  {stats_ms:8.1f} ms (median of 3)")


if __name__ == "__main__":
    main()
