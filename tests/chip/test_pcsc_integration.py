"""Through the real PC/SC stack: pyscard -> pcscd -> vpcd -> the chip emulator."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from devices.errors import CardRemovedError
from devices.icao9303.pcsc import PcscTerminal
from devices.icao9303.reader import ChipDocumentReader
from devices.simulated.emulator import ChipEmulator, Misbehaviour
from devices.simulated.virtual_passport import VirtualPassport
from devices.simulated.vpcd import VpcdCardServer
from kiosk.cli.main import main

pytestmark = pytest.mark.pcsc
REPO = Path(__file__).resolve().parents[2]


def wait_for(predicate: object, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.05)


def test_read_through_pcscd_with_events(pcscd: str, pace_passport: VirtualPassport) -> None:
    terminal = PcscTerminal(pcscd)
    events: list[str] = []
    seen = threading.Event()

    def listener(event: str) -> None:
        events.append(event)
        seen.set()

    reader = ChipDocumentReader(terminal)
    reader.set_listener(listener)
    time.sleep(0.3)  # the monitor learns the empty state first
    server = VpcdCardServer(ChipEmulator.from_passport(pace_passport))
    server.start()
    try:
        wait_for(reader.document_present)
        result = reader.read(pace_passport.mrz_key())
        assert result.access_control == "PACE"
        assert result.chip_authentication == "passed"
        assert result.active_authentication == "passed"
        for name, raw in result.files.items():
            assert raw == pace_passport.files[name]
        assert result.apdus < 40  # extended length went through pcscd
    finally:
        server.stop()
    wait_for(lambda: not reader.document_present())
    wait_for(lambda: "removed" in events)
    reader.set_listener(None)
    assert events[:2] == ["placed", "removed"]


def test_card_pulled_mid_read_through_pcscd(pcscd: str, pace_passport: VirtualPassport) -> None:
    server = VpcdCardServer(
        ChipEmulator.from_passport(pace_passport, Misbehaviour(remove_after=12))
    )
    server.start()
    terminal = PcscTerminal(pcscd)
    try:
        wait_for(terminal.card_present)
        with pytest.raises(CardRemovedError):
            ChipDocumentReader(terminal).read(pace_passport.mrz_key())
    finally:
        server.stop()
    wait_for(lambda: not terminal.card_present())


def test_chip_refusing_extended_length_through_pcscd(
    pcscd: str, pace_passport: VirtualPassport
) -> None:
    server = VpcdCardServer(
        ChipEmulator.from_passport(pace_passport, Misbehaviour(refuse_extended_length=True))
    )
    server.start()
    terminal = PcscTerminal(pcscd)
    try:
        wait_for(terminal.card_present)
        result = ChipDocumentReader(terminal).read(pace_passport.mrz_key())
        assert result.files["DG2"] == pace_passport.files["DG2"]
        assert result.chip_authentication == "passed"
    finally:
        server.stop()
    wait_for(lambda: not terminal.card_present())


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
        wait_for(PcscTerminal(pcscd).card_present, 20)
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
        wait_for(lambda: not PcscTerminal(pcscd).card_present(), 20)
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
