"""Lockdown holds against close requests and the usual escape shortcuts; only the
officer PIN opens the maintenance exit; SIGTERM stops the kiosk with the gate
closed and no child process left behind."""

from __future__ import annotations

import hashlib
import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QKeyEvent, QMouseEvent
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from tests.border.conftest import KIOSK1_ROLE, PgBorder
from tests.waiting import wait_until
from ui.traveller.lockdown import MAINTENANCE_TAPS, Lockdown, hash_pin, verify_pin
from ui.traveller.window import TravellerWindow

PIN_HASH = hash_pin("2468", salt=b"0123456789abcdef")
K, M = Qt.Key, Qt.KeyboardModifier


def locked(qtbot: QtBot, pins: list[str | None]) -> tuple[TravellerWindow, Lockdown, list[int]]:
    window = TravellerWindow(("zh_CN", "en"))
    qtbot.addWidget(window)
    exits: list[int] = []
    lock = Lockdown(window, PIN_HASH, lambda: exits.append(1), ask_pin=lambda: pins.pop(0))
    lock.install()
    qtbot.waitExposed(window)
    return window, lock, exits


@pytest.mark.parametrize("key,mods", [
    (K.Key_F4, M.AltModifier), (K.Key_Q, M.ControlModifier), (K.Key_Escape, M.NoModifier),
    (K.Key_W, M.ControlModifier), (K.Key_Backspace, M.ControlModifier | M.AltModifier),
    (K.Key_Tab, M.AltModifier),
], ids=["alt-f4", "ctrl-q", "escape", "ctrl-w", "ctrl-alt-backspace", "alt-tab"])
def test_shortcuts_are_swallowed(qtbot: QtBot, key: Qt.Key, mods: Qt.KeyboardModifier) -> None:
    window, lock, exits = locked(qtbot, [])
    try:
        seen: list[int] = []
        window.keyPressEvent = lambda e: seen.append(e.key())  # type: ignore[method-assign]
        QApplication.sendEvent(window, QKeyEvent(QEvent.Type.KeyPress, key, mods))
        assert seen == [] and lock.swallowed == 1
        assert window.isVisible() and not exits
    finally:
        lock.uninstall()


def test_close_requests_are_refused_and_the_window_is_kiosk_like(qtbot: QtBot) -> None:
    window, lock, _ = locked(qtbot, [])
    try:
        assert window.windowFlags() & Qt.WindowType.FramelessWindowHint
        assert window.isFullScreen()
        cursor = QApplication.overrideCursor()
        assert cursor is not None and cursor.shape() is Qt.CursorShape.BlankCursor
        assert window.close() is False  # what a window manager's close does
        assert window.isVisible() and lock.swallowed == 1
    finally:
        lock.uninstall()


def test_maintenance_exit_needs_the_officer_pin(qtbot: QtBot,
                                                caplog: pytest.LogCaptureFixture) -> None:
    window, lock, exits = locked(qtbot, ["1111", "2468"])
    try:
        def taps() -> None:
            for _ in range(MAINTENANCE_TAPS):
                pos = QPointF(10, 10)
                QApplication.sendEvent(window, QMouseEvent(
                    QEvent.Type.MouseButtonPress, pos, pos, pos, Qt.MouseButton.LeftButton,
                    Qt.MouseButton.LeftButton, M.NoModifier))
                time.sleep(0.07)

        with caplog.at_level("WARNING", logger="egate.audit"):
            taps()  # wrong PIN
            assert not exits and window.isVisible()
            taps()  # the officer's PIN
        assert exits == [1]
        assert [r.getMessage() for r in caplog.records if r.name == "egate.audit"] == [
            "maintenance exit refused: wrong PIN", "maintenance exit by an officer (PIN accepted)"]
        assert window.close()  # closing is allowed now
    finally:
        lock.uninstall()


def test_pin_hash_round_trip() -> None:
    stored = hash_pin("13579")
    assert stored.startswith("$argon2id$") and stored != hash_pin("13579")  # salted
    assert verify_pin("13579", stored) and not verify_pin("13578", stored)
    assert not verify_pin("13579", "garbage") and not verify_pin("13579", "")
    with pytest.raises(ValueError):
        hash_pin("12")


def test_an_old_scrypt_hash_never_opens_the_exit() -> None:
    # The form hash_pin("13579") had before argon2id (the config refuses it at load).
    salt = b"0123456789abcdef"
    digest = hashlib.scrypt(b"13579", salt=salt, n=1 << 14, r=8, p=1, dklen=32)
    assert not verify_pin("13579", f"scrypt$16384$8$1${salt.hex()}${digest.hex()}")


def test_pin_hash_command_prints_a_hash_of_the_pin_on_stdin(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from ui.cli import main

    monkeypatch.setattr(sys, "stdin", io.StringIO("97531\n"))
    assert main(["kiosk", "pin-hash"]) in (0, None)
    stored = capsys.readouterr().out.strip()
    assert stored.startswith("$argon2id$") and verify_pin("97531", stored)


def _children(pid: int) -> set[int]:
    """Every descendant of `pid` (from /proc/*/stat parent ids)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    out: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {c for c, p in parents.items() if p in frontier} - out
        out |= frontier
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _production_config(tmp_path: Path, gate_port: str, border_url: str) -> Path:
    """`egate kiosk` on this machine: cameras from a video file, the gate on a pty."""
    import cv2

    from devices.simulated.scenes import live_scene

    frames = list(live_scene("collins"))
    h, w = frames[0].shape[:2]
    video = cv2.VideoWriter(str(tmp_path / "face.avi"), cv2.VideoWriter_fourcc(*"MJPG"), 10, (w, h))
    for frame in frames:
        video.write(frame)
    video.release()
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text(
        f'[kiosk]\nspeech = false\n[devices]\nreader = "real"\ncamera = "real"\n'
        f'camera_source = "{tmp_path / "face.avi"}"\ngate = "real"\ngate_port = "{gate_port}"\n'
        "gate_ack_timeout_s = 5.0\ngate_link_lost_s = 10.0\n"
        f'mrz_source = "real"\n[storage]\nlocal_url = "sqlite:///{tmp_path}/l.sqlite"\n'
        f'border_url = "{border_url}"\n'
    )
    return cfg


def test_sigterm_closes_the_gate_and_ends_every_child(tmp_path: Path, pg_border: PgBorder) -> None:
    pytest.importorskip("serial")
    from devices.simulated.gate_controller import GateControllerEmulator

    gate, port = GateControllerEmulator.on_pty()
    gate.start()
    # Production refuses a stand-in border: the real PostgreSQL, as kiosk K1's role.
    kiosk_url = pg_border.url.set(username=KIOSK1_ROLE, password=None)
    cfg = _production_config(tmp_path, port, kiosk_url.render_as_string(hide_password=False))
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    proc = subprocess.Popen([sys.executable, "-m", "ui.cli", "kiosk", "run", "--config", str(cfg)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert "ready" in line, line
        wait_until(lambda: len(_children(proc.pid)) >= 2, 30,
                   what="the face worker and the resource tracker started")
        children = _children(proc.pid)
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
        assert proc.returncode == 0
        assert "stopped, gate closed" in out
        wait_until(lambda: not [c for c in children if _alive(c)], 10,
                   what="the kiosk's child processes gone after SIGTERM")
        assert gate.state == "closed"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        gate.stop()
