"""Issue 23 item 3, the namespace variant: a kiosk process in its own network
namespace syncs with the border over a veth link; the link is taken down
(packets vanish, no reset: a cut cable) while the lane keeps logging, then
brought back. Every cycle during the cut ends within its bounds (keepalives,
tcp_user_timeout, the watchdog's deadline), and once the link is back the
outbox drains exactly once.

The border is reached through the tests' proxy listening on the veth address in
this namespace (the machine's PostgreSQL listens on loopback only).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from kiosk.border.chain import border_copy
from kiosk.store.database import open_local
from kiosk.store.event_log import EventLog
from kiosk.store.verify import verify_log
from tests.border.conftest import KIOSK1_ROLE, PgBorder, make_record
from tests.border.fault_proxy import fault_proxy
from tests.border.netns import kiosk_netns
from tests.waiting import wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
DEADLINE_S = 4
CONNECT_S = 2
# A cycle on a dead link: the probe's pre-ping deadline, a reconnect's
# connect_timeout, the pull's own attempt, and slack for a busy machine.
CYCLE_BOUND_S = 2 * (DEADLINE_S + CONNECT_S) + 10

CHILD = r"""
import json, sys, threading, time
from kiosk.border.database import BorderTimeouts, create_border_engine
from kiosk.border.sync import BorderSync
from kiosk.store.database import open_local

local_path, url, deadline, connect = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
timeouts = BorderTimeouts(connect_s=connect, deadline_s=deadline, keepalive_idle_s=1,
                          keepalive_interval_s=1, keepalive_count=2, tcp_user_timeout_ms=3000)
sync = BorderSync(open_local(f"sqlite:///{local_path}"), create_border_engine(url, timeouts),
                  "K1", batch_size=20)
while True:
    started = time.monotonic()
    r = sync.run_once()
    print(json.dumps({"s": time.monotonic() - started, "error": r.error, "pending": r.pending}),
          flush=True)
    time.sleep(0.1)
"""


def test_kiosk_behind_a_veth_link_that_goes_down_catches_up_exactly_once(
    pg_border: PgBorder, tmp_path: Path
) -> None:
    local_path = tmp_path / "local.sqlite"
    local = open_local(f"sqlite:///{local_path}")
    log = EventLog(local)
    for _ in range(300):
        log.append(make_record("K1", finished_at=datetime.now(UTC)))
    with (
        kiosk_netns() as ns,
        fault_proxy(
            pg_border.url.host or "127.0.0.1", pg_border.url.port or 5432, listen_host=ns.host_addr
        ) as proxy,
    ):
        url = f"postgresql://{KIOSK1_ROLE}@{ns.host_addr}:{proxy.port}/{pg_border.name}"
        proc = subprocess.Popen(
            ns.command(sys.executable, "-c", CHILD, str(local_path), url, str(DEADLINE_S),
                       str(CONNECT_S)),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )  # fmt: skip
        cycles: list[dict[str, object]] = []

        def read() -> None:
            assert proc.stdout is not None
            for line in proc.stdout:
                cycles.append({**json.loads(line), "at": time.monotonic()})

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        try:
            wait_until(lambda: any(c["error"] is None for c in cycles), 60, "a first good cycle")
            ns.link(False)
            down_at = time.monotonic()
            lane_waits = []
            for _ in range(40):  # the lane logs on through the cut
                started = time.monotonic()
                log.append(make_record("K1", finished_at=datetime.now(UTC)))
                lane_waits.append(time.monotonic() - started)
            wait_until(
                lambda: sum(1 for c in cycles if c["at"] > down_at and c["error"]) >= 2,
                3 * CYCLE_BOUND_S, "two cycles ending in an error on the dead link",
            )  # fmt: skip
            ns.link(True)
            up_at = time.monotonic()
            wait_until(
                lambda: any(c["at"] > up_at and c["pending"] == 0 and c["error"] is None
                            for c in cycles),
                120, "the outbox drained after the link came back",
            )  # fmt: skip
        finally:
            proc.kill()
            proc.wait(10)
            reader.join(5)
        assert proc.stderr is not None
        during = [c for c in cycles if down_at < float(c["at"]) <= up_at]  # type: ignore[arg-type]
        assert during and all(float(c["s"]) < CYCLE_BOUND_S for c in during), during  # type: ignore[arg-type]
        assert max(lane_waits) < 1.0

    committed = EventLog(local).events()
    assert len(committed) == 340
    kiosk = pg_border.engine_as(KIOSK1_ROLE)
    copy = border_copy(kiosk, "K1")
    assert sorted(copy.hashes) == list(range(1, 341))  # each seq once
    assert copy.hashes == {e.seq: e.chain_hash for e in committed}
    report = verify_log(local, None, copy)
    assert report.valid, report.faults
    kiosk.dispose()
