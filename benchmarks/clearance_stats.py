"""The clearance statistics' own cost (kiosk/supervisor/stats.py), without a database:
a month of generated border events (40 kiosks, 20 ports; admitted, referred and aborted)
through compute_statistics, grouped by port in the port's time zone. Prints the median
of the runs and the load average.

    .venv/bin/python benchmarks/clearance_stats.py [--events 82000] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from kiosk.supervisor.stats import compute_statistics

STAGES = ("waiting_for_document", "reading_chip", "verifying_document", "capturing_face",
          "deciding", "returning_document")  # fmt: skip


def month_of_events(n: int, start: datetime, seed: int = 1) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        finished = start + timedelta(seconds=rng.uniform(0, 30 * 86400))
        t0 = finished - timedelta(seconds=8)
        outcome = rng.choice(["admitted", "admitted", "referred", "aborted"])
        out.append({
            "kiosk_id": f"K{i % 40}", "port": f"P{i % 20}", "lane": i % 4, "outcome": outcome,
            "decision": "admit" if outcome == "admitted" else "refer",
            "reasons": ["face_mismatch"] if outcome == "referred" else [],
            "stages": {s: (t0 + timedelta(seconds=k)).isoformat() for k, s in enumerate(STAGES)},
            "started_at": t0, "finished_at": finished, "transaction_ms": 8000, "checks": {},
            "error": "timeout: walked away" if outcome == "aborted" else None,
        })  # fmt: skip
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=82_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    start = datetime(2026, 11, 1, tzinfo=UTC)
    events = month_of_events(args.events, start)
    tz = ZoneInfo("Asia/Shanghai")
    times = []
    for _ in range(args.runs):
        t = time.perf_counter()
        compute_statistics(events, start, start + timedelta(days=30), "port", tz, str(tz))
        times.append(time.perf_counter() - t)
    print(f"{args.events} events, group by port: median {statistics.median(times):.2f} s "
          f"over {args.runs} runs (load average {os.getloadavg()[0]:.2f})")


if __name__ == "__main__":
    main()
