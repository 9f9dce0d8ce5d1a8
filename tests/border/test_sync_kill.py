"""Issue 11 item 2: a sync killed with SIGKILL at random points loses nothing and
delivers nothing twice.

A real subprocess logs events and pushes them to the real PostgreSQL border
as kiosk K1's role, and is killed (SIGKILL) at a random moment, many times;
some runs kill themselves at the worst moment, after the border committed a
batch and before the outbox was marked. Afterwards one more sync must leave the
border holding exactly the events the local log committed, once each, as one
unbroken chain.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from kiosk.border.chain import border_copy
from kiosk.border.sync import BorderSync
from kiosk.store.database import open_local
from kiosk.store.event_log import EventLog
from kiosk.store.verify import verify_log
from tests.border.conftest import KIOSK1_ROLE, PgBorder

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]

CHILD = r"""
import os, random, signal, sys
from datetime import UTC, datetime
from kiosk.border.database import create_border_engine
from kiosk.border.sync import BorderSync
from kiosk.store.database import open_local
from kiosk.store.event_log import EventLog
from tests.border.conftest import make_record

local_path, url, batch = sys.argv[1], sys.argv[2], int(sys.argv[3])
local = open_local(f"sqlite:///{local_path}")
log = EventLog(local)
sync = BorderSync(local, create_border_engine(url), "K1", batch_size=batch)
kill_at_mark = int(os.environ.get("KILL_AT_MARK", "0"))
if kill_at_mark:
    real_mark, calls = sync.pusher._mark, [0]
    def mark(delivered, failed):
        calls[0] += 1
        if delivered and calls[0] >= kill_at_mark:  # the border has committed
            os.kill(os.getpid(), signal.SIGKILL)
        real_mark(delivered, failed)
    sync.pusher._mark = mark
print("ready", flush=True)
while True:
    for _ in range(random.randint(1, 60)):
        log.append(make_record("K1", finished_at=datetime.now(UTC)))
    print("pushing", flush=True)
    sync.push()
"""


def _border_count(pg: PgBorder) -> int:
    owner = pg.engine_as(None)
    try:
        with owner.connect() as c:
            return int(c.execute(text("SELECT count(*) FROM events")).scalar_one())
    finally:
        owner.dispose()


def test_sigkill_at_random_points_delivers_every_committed_event_exactly_once(
    pg_border: PgBorder, tmp_path: Path
) -> None:
    local_path = tmp_path / "local.sqlite"
    open_local(f"sqlite:///{local_path}").dispose()
    url = pg_border.url.set(username=KIOSK1_ROLE).render_as_string(hide_password=False)
    rng = random.Random(int(os.environ.get("EGATE_KILL_SEED", time.time_ns() % 10**6)))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    runs = [("random", 0)] * 8 + [("after border commit", k) for k in (1, 3)]
    grew = 0
    for how, at_mark in runs:
        before = _border_count(pg_border)
        proc = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(local_path), url, str(rng.choice((7, 50, 200)))],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
            env={**env, "KILL_AT_MARK": str(at_mark)} if at_mark else env,
        )  # fmt: skip
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            assert line == "ready\n", proc.stderr.read() if proc.stderr else ""
            if at_mark:
                assert proc.wait(timeout=60) == -signal.SIGKILL, how
            else:
                # Killed at a random moment after its first push began: on a busy
                # machine the appends before it take longer than any fixed delay.
                assert proc.stdout.readline() == "pushing\n"
                time.sleep(rng.uniform(0.0, 0.5))
                proc.send_signal(signal.SIGKILL)
                proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        grew += _border_count(pg_border) > before

    local = open_local(f"sqlite:///{local_path}")
    kiosk = pg_border.engine_as(KIOSK1_ROLE)
    result = BorderSync(local, kiosk, "K1", batch_size=500).push()
    assert result.error is None and result.pending == 0
    committed = EventLog(local).events()
    assert len(committed) > 100
    copy = border_copy(kiosk, "K1")
    assert sorted(copy.hashes) == list(range(1, len(committed) + 1))  # each seq once
    assert copy.hashes == {e.seq: e.chain_hash for e in committed}
    assert _border_count(pg_border) == len(committed)
    report = verify_log(local, None, copy)
    assert report.valid, report.faults
    assert grew >= len(runs) // 2  # most kills interrupted a sync that was delivering
