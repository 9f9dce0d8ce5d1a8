"""Cold start of `egate kiosk`: process start to the welcome screen (target 4 s).

    .venv/bin/python benchmarks/kiosk_start.py [--runs 5]

The production composition on this machine: the face camera and document camera play
video files, the gate controller is emulated on a pty, the PC/SC reader is whatever
pcscd offers (none is fine: the lane waits for a passport). Offscreen Qt. Each run is a
new process; `ready_ms` comes from the kiosk's own --report.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import cv2

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from devices.simulated.gate_controller import GateControllerEmulator
from devices.simulated.scenes import live_scene


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="egate-start-"))
    frames = list(live_scene("collins"))
    h, w = frames[0].shape[:2]
    video = cv2.VideoWriter(str(tmp / "face.avi"), cv2.VideoWriter_fourcc(*"MJPG"), 10, (w, h))
    for frame in frames:
        video.write(frame)
    video.release()
    gate, port = GateControllerEmulator.on_pty()
    gate.start()
    config = tmp / "kiosk.toml"
    config.write_text(f"""
[devices]
reader = "real"
camera = "real"
camera_source = "{tmp / "face.avi"}"
gate = "real"
gate_port = "{port}"
mrz_source = "real"
[storage]
local_url = "sqlite:///{tmp / "local.sqlite"}"
""")
    ready: list[float] = []
    try:
        for i in range(args.runs):
            report = tmp / f"report-{i}.json"
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "ui.cli",
                    "kiosk",
                    "--config",
                    str(config),
                    "--quit-after",
                    "4",
                    "--report",
                    str(report),
                ],
                env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            ready.append(json.loads(report.read_text())["ready_ms"])
    finally:
        gate.stop()
    print(
        f"egate kiosk cold start to welcome screen, {args.runs} runs: "
        f"median {statistics.median(ready):.0f} ms, max {max(ready):.0f} ms "
        f"(load average {os.getloadavg()[0]:.1f})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
