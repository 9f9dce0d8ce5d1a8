"""Issue 18 end to end: `egate kiosk` in its production composition (the passport
behind pcscd and vpcd, cameras playing video files, the gate controller on a pty)
refers a traveller; the referral reaches the station through the kiosk's agent; an
officer admits; the kiosk re-reads the chip and re-matches the face, then opens the
gate. With the passport taken and another laid on the reader, the same admit is
rejected and the gate stays closed. The running kiosk's metrics endpoint (issue 23
item 5) is scraped over HTTP after each step and must say what it did."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import cv2
import pytest
from sqlalchemy import text

from devices.mrz.ocr_b import ocr_b_available
from devices.simulated.data_page import render_data_page
from devices.simulated.emulator import ChipEmulator
from devices.simulated.factory import DocumentSpec, make_document
from devices.simulated.gate_controller import GateControllerEmulator
from devices.simulated.pki import make_test_pki
from devices.simulated.scenes import live_scene, portrait_jpeg
from devices.simulated.vpcd import VpcdCardServer
from kiosk.border.sync import BorderSync
from kiosk.clock import SystemClock
from kiosk.config import load_config
from kiosk.runtime.app import open_storage
from kiosk.supervisor import command_mac
from kiosk.supervisor.agent import command_key_path
from kiosk.supervisor.officer_ops import provision_command_key
from kiosk.supervisor.officers import OfficerDirectory
from kiosk.supervisor.secrets import CHEAP_PARAMS
from kiosk.supervisor.station import Station
from tests.border.conftest import KIOSK1_ROLE, ROLES, PgBorder
from tests.chip.conftest import pcscd_reader
from tests.chip.test_kiosk_pcsc import READER, VPCD_PORT
from tests.kiosk.test_metrics import free_port, scrape, value
from tests.supervisor.conftest import STATION_TABLES
from tests.waiting import wait_until

pytestmark = [
    pytest.mark.pcsc,
    pytest.mark.slow,
    pytest.mark.skipif(not ocr_b_available(), reason="fonts-ocr-b is not installed"),
]


@pytest.fixture(scope="module")
def pcscd() -> Iterator[str]:
    yield from pcscd_reader()


def _video(path: Path, frames: list, fps: float = 10.0) -> None:  # type: ignore[type-arg]
    h, w = frames[0].shape[:2]
    out = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (w, h))
    for frame in frames:
        out.write(frame)
    out.release()


def _passport(number: str, surname: str):  # type: ignore[no-untyped-def]
    return make_document(
        DocumentSpec(
            issuing_state="CHN", surname=surname, given_names="LI", document_number=number,
            nationality="CHN", birth_date=date(1985, 5, 17), sex="F", optional_data="",
            face_image=portrait_jpeg("collins"), issuing_authority="CHN PASSPORT AUTHORITY",
        ),
        pki=make_test_pki("CHN"),
    )  # fmt: skip


@pytest.mark.parametrize("swap", [False, True], ids=["same-passport", "other-passport"])
def test_officer_admit_opens_the_gate_only_for_the_referred_passport(
    pcscd: str, tmp_path: Path, swap: bool, pg_border: PgBorder
) -> None:
    # No trust anchor for the issuer: passive authentication fails, the lane refers.
    traveller = _passport("E12345678", "ZHANG")
    other = _passport("E87654321", "WANG")
    _video(tmp_path / "face.avi", list(live_scene("collins")))
    _video(tmp_path / "page.avi", [render_data_page(traveller.mrz, seed=7)] * 5, fps=5.0)
    gate, gate_port = GateControllerEmulator.on_pty(watchdog_s=2.0)
    config_file = tmp_path / "kiosk.toml"
    metrics_port = free_port()
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
gate_passage_s = 30.0
document_return_s = 180.0
result_display_s = 180.0
[metrics]
port = {metrics_port}
""")
    config = load_config(str(config_file))
    storage = open_storage(config)
    border = storage.border
    assert border is not None  # the border PostgreSQL, as kiosk K1
    BorderSync(storage.engine, border, config.kiosk.id).pull()
    owner, supervisor = pg_border.engine_as(None), pg_border.engine_as(ROLES.supervisor)
    # Enrolment: the border issues K1's command key, installed beside its log key.
    command_mac.write_key(
        command_key_path(config), provision_command_key(owner, "K1", SystemClock())
    )
    OfficerDirectory(owner, SystemClock(), params=CHEAP_PARAMS).add(
        "E1", "Eve Officer", "officer", "eve-secret-1"
    )
    station = Station(
        supervisor,
        SystemClock(),
        directory=OfficerDirectory(supervisor, SystemClock(), params=CHEAP_PARAMS),
    )
    gate.start()
    # Play systemd: the kiosk says READY=1 on $NOTIFY_SOCKET once its screen is up.
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(str(tmp_path / "notify.sock"))
    notify.settimeout(90)
    kiosk = subprocess.Popen(
        [sys.executable, "-m", "ui.cli", "kiosk", "--config", str(config_file),
         "--quit-after", "170"],
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen",
             "NOTIFY_SOCKET": str(tmp_path / "notify.sock")},
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    err_lines: list[str] = []

    def follow() -> None:
        assert kiosk.stderr is not None
        for line in kiosk.stderr:
            err_lines.append(line)

    threading.Thread(target=follow, daemon=True).start()

    def lane_saw(document: str, since: int) -> bool:  # a "lane state referred ..." line
        return any(
            '"lane state referred' in line and document in line for line in err_lines[since:]
        )

    server = VpcdCardServer(ChipEmulator.from_passport(traveller), port=VPCD_PORT)
    swapped: VpcdCardServer | None = None
    result: tuple[str | None, str | None] = (None, None)
    try:
        try:
            assert notify.recv(64) == b"READY=1"
        except TimeoutError:
            raise AssertionError("".join(err_lines)[-4000:]) from None
        server.start()  # the welcome screen is up; the traveller lays the passport down
        station.sign_in("E1", "eve-secret-1")
        at_lane = lambda: [r for r in station.queue() if r.at_lane]  # noqa: E731
        # The referral, and the kiosk's status row saying its lane still shows it.
        try:
            wait_until(at_lane, 120, what="the referral, shown at the lane")
        except AssertionError as exc:
            raise AssertionError("".join(err_lines)[-4000:]) from exc
        [referral] = at_lane()
        assert "document_not_authentic" in referral.reasons
        assert gate.state == "closed"
        metrics_url = f"http://127.0.0.1:{metrics_port}/metrics"
        page, referred = scrape(metrics_url)
        if swap:  # T takes the passport; B lays theirs
            mark = len(err_lines)
            server.stop()
            wait_until(
                lambda: lane_saw("document off reader", mark),
                60,
                what="the kiosk seeing the passport taken",
            )
            mark = len(err_lines)
            swapped = VpcdCardServer(ChipEmulator.from_passport(other), port=VPCD_PORT)
            swapped.start()
            wait_until(
                lambda: lane_saw("document on reader", mark),
                60,
                what="the kiosk seeing another passport laid down",
            )
        issued = station.resolve(
            referral.referral_id, "admit", "document_checked", "compared the photos in person"
        )
        assert issued.command_id is not None
        command = issued.command_id
        wait_until(
            lambda: station.command_result(command)[0] is not None,
            120,
            what="the kiosk's answer to the admit",
        )
        result = station.command_result(command)
        opened = gate.state == "open"
        _, after = scrape(metrics_url)
    finally:
        server.stop()
        if swapped is not None:
            swapped.stop()
        kiosk.send_signal(15)
        try:
            kiosk.wait(timeout=30)
        except subprocess.TimeoutExpired:
            kiosk.kill()
            kiosk.wait()
        gate.stop()
        notify.close()
    err = "".join(
        line
        for line in err_lines
        if any(k in line for k in ('"lane state', "officer", "supervisor", "Error", "face"))
    )  # what the lane and its agent did
    if swap:
        assert result[0] == "rejected" and not opened, (result, err[-3000:])
        assert (result[1] or "").startswith("passport_left_reader")
        assert not any(entry.startswith("open") for entry in gate.log)
    else:
        assert result == ("executed", ""), (result, err[-3000:])
        assert opened
    officer_events = [e for e in storage.events.events() if e.outcome == "officer"]
    assert [e.checks["authentication"] for e in officer_events] == ["verified"]
    # The metrics of the running kiosk: one traveller, referred on the document.
    assert value(referred, "egate_transactions_total", outcome="referred") == 1
    assert value(referred, "egate_transactions_total", outcome="admitted") == 0
    assert value(referred, "egate_chip_failures_total", reason="document_not_authentic") == 1
    assert value(referred, "egate_stage_seconds_count", stage="reading_chip") == 1
    assert value(referred, "egate_gate_cycles_total") == 0
    assert value(referred, "egate_kiosk_info", kiosk_id="K1", port="CSX", lane="1",
                 direction="entry") == 1  # fmt: skip
    assert "E12345678" not in page and "ZHANG" not in page
    admit = ("admit", "rejected" if swap else "executed")
    assert value(after, "egate_officer_commands_total", command=admit[0], result=admit[1]) == 1
    assert value(after, "egate_gate_cycles_total") == (0 if swap else 1)
    assert value(after, "egate_transactions_total", outcome="referred") == 1  # still one traveller
    with owner.begin() as c:  # the session's border database serves the next tests
        c.execute(text(f"TRUNCATE {STATION_TABLES} RESTART IDENTITY"))
    for engine in (owner, supervisor):
        engine.dispose()
