"""Through the real PC/SC stack: pyscard -> pcscd -> vpcd -> the chip emulator."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from devices.errors import CardRemovedError
from devices.icao9303 import pcsc
from devices.icao9303.pcsc import PcscTerminal
from devices.icao9303.reader import ChipDocumentReader
from devices.simulated.emulator import ChipEmulator, Misbehaviour
from devices.simulated.virtual_passport import VirtualPassport
from devices.simulated.vpcd import VpcdCardServer
from kiosk.cli.main import main
from tests.waiting import wait_event, wait_until

pytestmark = pytest.mark.pcsc
REPO = Path(__file__).resolve().parents[2]


def monitor_blocked(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """Set once the terminal's monitor thread waits for a change after a successful
    first look: from then on it knows the reader is empty, so a card laid down is
    reported as "placed" rather than taken as the starting state."""
    blocked = threading.Event()
    looked = False
    real = pcsc.scard.SCardGetStatusChange

    def watched(*args: object) -> object:
        nonlocal looked
        if threading.current_thread().name != "pcsc-monitor":
            return real(*args)
        if looked:
            blocked.set()
        answer = real(*args)
        looked = looked or answer[0] == pcsc.scard.SCARD_S_SUCCESS
        return answer

    monkeypatch.setattr(pcsc.scard, "SCardGetStatusChange", watched)
    return blocked


def test_read_through_pcscd_with_events(
    pcscd: str, pace_passport: VirtualPassport, monkeypatch: pytest.MonkeyPatch
) -> None:
    terminal = PcscTerminal(pcscd)
    events: list[str] = []
    watching = monitor_blocked(monkeypatch)
    reader = ChipDocumentReader(terminal)
    reader.set_listener(events.append)
    wait_event(watching, what="the presence monitor's first look at the empty reader")
    server = VpcdCardServer(ChipEmulator.from_passport(pace_passport))
    server.start()
    try:
        wait_until(reader.document_present, what="the passport on the reader")
        result = reader.read(pace_passport.mrz_key())
        assert result.access_control == "PACE"
        assert result.chip_authentication == "passed"
        assert result.active_authentication == "passed"
        for name, raw in result.files.items():
            assert raw == pace_passport.files[name]
        assert result.apdus < 40  # extended length went through pcscd
    finally:
        server.stop()
    wait_until(lambda: not reader.document_present(), what="the passport gone")
    wait_until(lambda: "removed" in events, what="the removal event")
    reader.set_listener(None)
    assert events[:2] == ["placed", "removed"]


def test_card_pulled_mid_read_through_pcscd(pcscd: str, pace_passport: VirtualPassport) -> None:
    server = VpcdCardServer(
        ChipEmulator.from_passport(pace_passport, Misbehaviour(remove_after=12))
    )
    server.start()
    terminal = PcscTerminal(pcscd)
    try:
        wait_until(terminal.card_present, what="the card on the reader")
        with pytest.raises(CardRemovedError):
            ChipDocumentReader(terminal).read(pace_passport.mrz_key())
    finally:
        server.stop()
    wait_until(lambda: not terminal.card_present(), what="the card gone")


def test_chip_refusing_extended_length_through_pcscd(
    pcscd: str, pace_passport: VirtualPassport
) -> None:
    server = VpcdCardServer(
        ChipEmulator.from_passport(pace_passport, Misbehaviour(refuse_extended_length=True))
    )
    server.start()
    terminal = PcscTerminal(pcscd)
    try:
        wait_until(terminal.card_present, what="the card on the reader")
        result = ChipDocumentReader(terminal).read(pace_passport.mrz_key())
        assert result.files["DG2"] == pace_passport.files["DG2"]
        assert result.chip_authentication == "passed"
    finally:
        server.stop()
    wait_until(lambda: not terminal.card_present(), what="the card gone")


@pytest.mark.slow
def test_cli_make_serve_read_verify(
    pcscd: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    made = tmp_path / "passport"
    assert main(["passport", "make", "--out", str(made), "--json"]) == 0
    manifest = json.loads((made / "manifest.json").read_text())
    capsys.readouterr()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    serve = subprocess.Popen(
        [sys.executable, "-m", "kiosk.cli.main", "chip", "serve", "--dir", str(made),
         "--vpcd", "127.0.0.1:35963"],
        env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        wait_until(PcscTerminal(pcscd).card_present, what="the served card on the reader")
        out = tmp_path / "read"
        status = main(
            ["passport", "read", "--reader", pcscd, "--mrz", *manifest["mrz"],
             "--out", str(out), "--json"]
        )  # fmt: skip
        report = json.loads(capsys.readouterr().out)
    finally:
        serve.send_signal(signal.SIGTERM)
        serve.wait(timeout=10)
        # pcscd must have seen the card go before the next test's card arrives.
        wait_until(lambda: not PcscTerminal(pcscd).card_present(), what="the served card gone")
    assert status == 0
    assert report["access"] == "PACE"
    assert report["chip_authentication"] == "passed"
    assert report["active_authentication"] == "passed"
    assert report["dg1"]["surname"] == "ERIKSSON"
    assert report["data_groups"] == [1, 2, 11, 12, 14, 15]
    assert Path(report["face_image"]).exists()
    assert set(report["timings_ms"]) >= {"access", "read", "total"}
    csca = next(p for p in made.iterdir() if "csca" in p.name)
    status = main(
        ["passport", "verify", "--dir", str(out), "--trust", str(csca), "--no-store", "--json"]
    )
    verdict = json.loads(capsys.readouterr().out)
    assert status == 0, verdict
    assert verdict["verdict"] == "valid"
