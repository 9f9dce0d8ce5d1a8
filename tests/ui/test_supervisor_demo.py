"""`egate supervisor --demo` as a process: SIGTERM ends it with every child gone
(the shared face worker, multiprocessing's resource tracker), and its simulated
travellers keep the lanes moving (they take their passports back)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.ui.test_lockdown import _alive, _children

pytestmark = pytest.mark.slow


def _start(tmp_path: Path, *extra: str) -> subprocess.Popen[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    url = f"sqlite:///{tmp_path}/border.sqlite"
    return subprocess.Popen(
        [sys.executable, "-m", "ui.cli", "supervisor", "--demo", "--kiosks", "2",
         "--url", url, *extra],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env,
    )  # fmt: skip


def test_sigterm_leaves_no_process_behind(tmp_path: Path) -> None:
    report = tmp_path / "demo.json"
    proc = _start(tmp_path, "--demo-report", str(report))
    try:
        deadline = time.monotonic() + 120
        children: set[int] = set()
        while time.monotonic() < deadline and len(children) < 2:  # face worker + tracker
            children = _children(proc.pid)
            time.sleep(0.2)
        assert len(children) >= 2, children
        time.sleep(1.0)  # let start-up finish: a SIGTERM then is the ordinary case
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
        assert proc.returncode == 0 and "ready" in out
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(_alive(c) for c in children):
            time.sleep(0.1)
        assert not [c for c in children if _alive(c)]
        summary = json.loads(report.read_text())  # the orderly shutdown path ran
        assert set(summary["kiosks"]) == {"SIM-CSX-01", "SIM-CSX-02"}
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
