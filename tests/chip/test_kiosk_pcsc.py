"""`egate kiosk` end to end on the production composition: the passport behind pcscd
and vpcd, the face camera and the document camera playing video files, the MRZ OCR'd
from a rendered data page, and the gate controller on a pty."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from datetime import date
from pathlib import Path

import cv2
import pytest

from devices.mrz.ocr_b import ocr_b_available
from devices.simulated.data_page import render_data_page
from devices.simulated.emulator import ChipEmulator
from devices.simulated.factory import DocumentSpec, make_document
from devices.simulated.gate_controller import GateControllerEmulator
from devices.simulated.pki import make_test_pki
from devices.simulated.scenes import live_scene, portrait_jpeg
from devices.simulated.vpcd import VpcdCardServer
from kiosk.border.sync import BorderSync
from kiosk.config import load_config
from kiosk.runtime.app import open_storage
from kiosk.trust.store import KIND_ANCHOR
from tests.border.conftest import KIOSK1_ROLE, PgBorder
from tests.waiting import wait_until

pytestmark = [
    pytest.mark.pcsc,
    pytest.mark.slow,
    pytest.mark.skipif(not ocr_b_available(), reason="fonts-ocr-b is not installed"),
]

READER = "Virtual PCD 00 01"  # the second vpcd slot: the other pcsc tests use 00 00
VPCD_PORT = 35964


def _video(path: Path, frames: list, fps: float = 10.0) -> None:  # type: ignore[type-arg]
    h, w = frames[0].shape[:2]
    out = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (w, h))
    for frame in frames:
        out.write(frame)
    out.release()


def test_egate_kiosk_admits_a_citizen_on_real_devices(
    pcscd: str, tmp_path: Path, pg_border: PgBorder
) -> None:
    pki = make_test_pki("CHN")
    passport = make_document(
        DocumentSpec(
            issuing_state="CHN",
            surname="ZHANG",
            given_names="LI",
            document_number="E12345678",
            nationality="CHN",
            birth_date=date(1985, 5, 17),
            sex="F",
            optional_data="",
            face_image=portrait_jpeg("collins"),
            issuing_authority="CHN PASSPORT AUTHORITY",
        ),
        pki=pki,
    )
    _video(tmp_path / "face.avi", list(live_scene("collins")))
    page = render_data_page(passport.mrz, seed=7)
    _video(tmp_path / "page.avi", [page] * 5, fps=5.0)
    gate, gate_port = GateControllerEmulator.on_pty(watchdog_s=2.0)
    config_file = tmp_path / "kiosk.toml"
    config_file.write_text(f"""
[kiosk]
id = "K1"
[devices]
reader = "real"
reader_name = "{READER}"
camera = "real"
camera_source = "{tmp_path / "face.avi"}"
gate = "real"
gate_port = "{gate_port}"
# The machine may be loaded by other tests: the link is judged on minutes, not a second.
gate_ack_timeout_s = 5.0
gate_link_lost_s = 10.0
mrz_source = "real"
mrz_device = "camera"
mrz_camera_source = "{tmp_path / "page.avi"}"
[storage]
local_url = "sqlite:///{tmp_path / "local.sqlite"}"
# Production needs the real border (issue 19 item 4): PostgreSQL as kiosk K1's role.
border_url = "{pg_border.url.set(username=KIOSK1_ROLE, password=None).render_as_string(False)}"
sync_interval_s = 1.0
[timeouts]
# Longer than the test: only the passage itself brings the admitted lane back to idle.
gate_passage_s = 300.0
""")
    config = load_config(str(config_file))
    storage = open_storage(config)
    storage.reference.put(KIND_ANCHOR, "e2e-CHN", pki.csca_der(), "end-to-end test PKI")
    assert storage.border is not None
    BorderSync(storage.engine, storage.border, config.kiosk.id).pull()  # reference data age
    gate.start()
    report = tmp_path / "report.json"
    # Play systemd: the kiosk says READY=1 on $NOTIFY_SOCKET once its screen is up.
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(str(tmp_path / "notify.sock"))
    notify.settimeout(60)
    kiosk = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ui.cli",
            "kiosk",
            "--config",
            str(config_file),
            "--quit-after",
            "60",
            "--report",
            str(report),
        ],
        env={
            **os.environ,
            "QT_QPA_PLATFORM": "offscreen",
            "NOTIFY_SOCKET": str(tmp_path / "notify.sock"),
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    states: list[str] = []  # the kiosk's "lane state ..." log lines, read as they come
    err_lines: list[str] = []

    def follow() -> None:
        assert kiosk.stderr is not None
        for line in kiosk.stderr:
            err_lines.append(line)
            if '"lane state ' in line:
                states.append(json.loads(line)["message"].split()[2])

    reader_thread = threading.Thread(target=follow, daemon=True)
    reader_thread.start()
    server = VpcdCardServer(ChipEmulator.from_passport(passport), port=VPCD_PORT)
    failure: AssertionError | None = None

    def closed_after_admit() -> bool:  # the passage reached the lane (no timeout can)
        return "admitted" in states and "idle" in states[states.index("admitted") :]

    try:
        assert notify.recv(64) == b"READY=1"
        assert gate.state == "closed"
        server.start()  # the welcome screen is up; the traveller lays the passport down
        # "Take your passport": the gate opens once it is off the reader.
        wait_until(lambda: "returning_document" in states, 120, what="take your passport")
        assert gate.state == "closed"
        server.stop()
        wait_until(lambda: gate.state == "open", what="the gate opening")
        assert gate.walk_through()
        wait_until(lambda: gate.state == "closed", what="the gate closing behind")
        wait_until(closed_after_admit, what="the lane idle again after the admit")
    except AssertionError as exc:
        failure = exc  # reported below, with the kiosk's log
    finally:
        server.stop()
        kiosk.send_signal(15)
        try:
            kiosk.wait(timeout=30)
        except subprocess.TimeoutExpired:
            kiosk.kill()
            kiosk.wait()
        reader_thread.join(timeout=10)
        err = "".join(err_lines)
        gate.stop()
        notify.close()
    events = storage.events.events()
    journey = [(e.outcome, e.reasons, e.error) for e in events]
    assert failure is None, (failure, err[-3000:], journey)
    assert kiosk.returncode == 0, err[-3000:]
    figures = json.loads(report.read_text())
    assert figures["ready_ms"] > 0
    assert [e.outcome for e in events] == ["admitted"], [e.error for e in events]
    assert events[0].checks["access_control"] in ("PACE", "BAC")
    # Nothing about the traveller reaches the log lines (JSON on stderr).
    for secret in ("E12345678", "ZHANG", "850517"):
        assert secret not in err
    assert gate.log[-1] == "closed:passage"
