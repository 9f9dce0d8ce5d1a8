"""Port scale: N kiosk processes and one supervisor station on PostgreSQL.

Each kiosk is its own process: a simulated lane (real workflow, chip protocol,
passive authentication, its own dlib face worker, policy) with its kiosk agent
and border sync, wired as kiosk.simulation.demo_fleet wires every simulated kiosk;
only the devices are simulated. Every traveller is one the officer must see. The
station (kiosk.supervisor.station.Station, the API the window uses) listens for
NOTIFY, and admits each referral the moment it sees it. Two figures:

- referral to station: the lane entered `referred` (kiosk process, wall clock)
  -> the referral is in Station.queue() (station process);
- officer command to gate: Station.resolve(admit) returned -> the lane opened
  its gate (`admitted`).

    PYTHONPATH=. nice -n 10 .venv/bin/python benchmarks/port_scale.py --kiosks 20 --seconds 300

It creates (and drops) its own database on the server of --pg (the owner role;
trust auth as in the developers' setup). Targets (issue 18): p95 <= 1 s for both.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
OFFICER = ("bench1", "Benchmark Officer", "officer", "bench-officer-secret")


class Recorder:
    """Lane observer in a kiosk process: one JSON line per referral and per gate
    opening after one (wall-clock time: the station runs on the same machine)."""

    def __init__(self, path: Path) -> None:
        self.file = path.open("a", buffering=1)
        self.last: str | None = None
        self.lock = threading.Lock()

    def lane_changed(self, snapshot: Any) -> None:
        state = snapshot.state.value
        if state == self.last:
            return
        event = None
        if state == "referred":
            event = "referred"
        elif state == "admitted" and self.last == "referred":
            event = "gate"
        self.last = state
        if event and snapshot.transaction_id:
            line = {"tx": snapshot.transaction_id, "event": event, "at": time.time()}
            with self.lock:
                self.file.write(json.dumps(line) + "\n")


def run_kiosk(args: argparse.Namespace) -> int:
    from kiosk.config import parse_config
    from kiosk.simulation.demo_fleet import DemoFleet

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    base = parse_config({"face": {"liveness": "passive"}})
    work = Path(args.workdir)
    fleet = DemoFleet(
        base,
        work,
        args.url,
        count=1,
        seed=args.index,
        mean_gap_s=args.mean_gap,
        first=args.index,
        walk_away_p=0.0,
        referrals_only=True,
        face_start_timeout_s=600.0,  # a loaded machine loads dlib slowly ...
        face_margin_s=300.0,  # ... and matches slowly: wait rather than restart it
    )
    recorder = Recorder(Path(args.out))
    for k in fleet.kiosks:
        k.kiosk.lane.add_observer(recorder)
    fleet.start()
    print("ready", flush=True)
    stop.wait()
    fleet.stop()
    return 0


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, int(-(-q * len(ordered) // 1)))  # nearest rank
    return ordered[min(rank, len(ordered)) - 1]


def figures(values: list[float]) -> dict[str, Any]:
    return {
        "n": len(values),
        "p50_s": round(statistics.median(values), 3) if values else None,
        "p95_s": round(p, 3) if (p := percentile(values, 0.95)) is not None else None,
        "max_s": round(max(values), 3) if values else None,
    }


def run_station(url: str, seconds: float, seen: dict[str, float], issued: dict[str, float]) -> None:
    from kiosk.border.database import create_border_engine
    from kiosk.clock import SystemClock
    from kiosk.supervisor.notify import STATION_CHANNEL, ChangeWaiter
    from kiosk.supervisor.station import Station, StationError

    engine = create_border_engine(url)
    station = Station(engine, SystemClock())
    station.sign_in(OFFICER[0], OFFICER[3])
    waiter = ChangeWaiter(engine, STATION_CHANNEL)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        waiter.wait(0.25)
        now = time.time()
        for s in station.queue():
            rid = str(s.referral_id)
            seen.setdefault(rid, now)
            if rid in issued or s.status != "open" or not s.at_lane:
                continue
            action = "manual" if s.watchlist else "admit"
            reason = "interview_needed" if s.watchlist else "identity_confirmed"
            try:
                station.resolve(s.referral_id, action, reason, "benchmark officer checked it")
            except StationError as exc:
                print(f"resolve {rid}: {exc.code}", file=sys.stderr)
                continue
            if action == "admit":
                issued[rid] = time.time()
            else:
                issued[rid] = float("nan")
    waiter.close()
    station.sign_out()
    engine.dispose()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="role")
    k = sub.add_parser("kiosk")
    k.add_argument("--index", type=int, required=True)
    k.add_argument("--url", required=True)
    k.add_argument("--out", required=True)
    k.add_argument("--workdir", required=True)
    k.add_argument("--mean-gap", type=float, default=20.0)
    ap.add_argument("--pg", default=os.environ.get("EGATE_TEST_PG", DEFAULT_PG))
    ap.add_argument("--kiosks", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=300.0)
    ap.add_argument("--mean-gap", type=float, default=20.0, help="seconds between travellers")
    args = ap.parse_args()
    if args.role == "kiosk":
        return run_kiosk(args)

    from kiosk.border.database import create_border_engine, migrate_border
    from kiosk.clock import SystemClock
    from kiosk.supervisor.officers import OfficerDirectory

    admin_url = make_url(args.pg)
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"egate_bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    procs: list[subprocess.Popen[str]] = []
    seen: dict[str, float] = {}
    issued: dict[str, float] = {}
    try:
        owner = create_border_engine(url)
        migrate_border(owner)
        OfficerDirectory(owner, SystemClock()).add(*OFFICER)
        owner.dispose()
        work = Path(tempfile.mkdtemp(prefix="egate-port-scale-"))
        env = {**os.environ, "PYTHONPATH": os.getcwd()}
        for i in range(1, args.kiosks + 1):
            out = str(work / f"k{i:02d}.jsonl")
            gap = str(args.mean_gap)
            command = [sys.executable, __file__, "kiosk", "--index", str(i), "--url", url,
                       "--out", out, "--workdir", str(work), "--mean-gap", gap]  # fmt: skip
            p = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
            procs.append(p)
            # One at a time: every face worker loaded before the clock starts, and
            # twenty dlib loads at once would only fight for the cores.
            assert p.stdout is not None
            if "ready" not in p.stdout.readline():
                raise SystemExit(f"kiosk process {i} did not start")
        started = time.time()
        run_station(url, args.seconds, seen, issued)
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(60)
            except subprocess.TimeoutExpired:
                p.kill()
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    referred: dict[str, float] = {}
    gate: dict[str, float] = {}
    for f in sorted(work.glob("k*.jsonl")):
        for line in f.read_text().splitlines():
            row = json.loads(line)
            (referred if row["event"] == "referred" else gate)[row["tx"]] = row["at"]
    (work / "station.json").write_text(json.dumps({"seen": seen, "issued": issued}))
    # Referrals made while later kiosks were still loading waited for the station to start.
    to_station = [seen[t] - at for t, at in referred.items() if t in seen and at >= started]
    admits = {t: at for t, at in issued.items() if at == at}  # NaN: not an admit
    to_gate = [gate[t] - at for t, at in admits.items() if t in gate]
    load = os.getloadavg()
    print(
        json.dumps(
            {
                "kiosks": args.kiosks,
                "seconds": args.seconds,
                "referrals": len(referred),
                "workdir": str(work),
                "referral_to_station": figures(to_station),
                "command_to_gate": figures(to_gate),
                "admits_without_gate": sum(
                    1 for t, at in issued.items() if at == at and t not in gate
                ),
                "load_average": [round(x, 2) for x in load],
            },
            indent=1,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
