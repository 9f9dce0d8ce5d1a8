"""Long commands say only their own words on stderr (issue 22, item 6).

Each used to end with about 15 "nanobind: leaked ..." lines (a module-level zxing-cpp
BarcodeFormats alive at exit) and a "This plugin does not support
propagateSizeHints()" line per screen change (the window's layout re-set its minimum
size through the offscreen platform). Now stderr holds the command's progress lines
and nothing else, stdout the result (JSON only with --json).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).parent


def _run(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen",
           "HOME": str(tmp_path)}
    env.pop("QT_LOGGING_RULES", None)  # nothing hidden from the check
    return subprocess.run([sys.executable, "-m", "ui.cli", *args], capture_output=True,
                          text=True, env=env, cwd=tmp_path, timeout=300)


def _only_progress(stderr: str, command: str) -> list[str]:
    lines = stderr.splitlines()
    strangers = [line for line in lines if not line.startswith(f"{command} [")]
    assert not strangers, "stderr holds more than progress:\n" + stderr
    return lines


def test_a_scenario_run_with_a_boarding_pass_is_quiet(tmp_path: Path) -> None:
    # The boarding-pass scenario reads a barcode with zxing-cpp and changes screens.
    done = _run(["scenario", "run", str(HERE / "boarding-pass.yaml"), "--json"], tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["scenarios"][0]["passed"]
    lines = _only_progress(done.stderr, "egate scenario run")
    assert "1/1 PASS boarding-pass" in lines[-1]


def test_screenshots_show_progress_and_a_summary(tmp_path: Path) -> None:
    out = tmp_path / "shots"
    done = _run(["screenshots", "--out", str(out), "--lang", "en", "--size", "1080x1920",
                 "--screen", "welcome", "--screen", "boarding_pass", "--high-contrast"],
                tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = _only_progress(done.stderr, "egate screenshots")
    assert [line.split("] ", 1)[1] for line in lines] == [
        "1/2 en welcome 1080x1920", "2/2 en boarding_pass 1080x1920"]
    assert done.stdout.startswith(f"2 screenshots (high contrast) in {out} in ")
    assert sorted(p.name for p in out.iterdir()) == [
        "en-boarding_pass-1080x1920-high-contrast.png", "en-welcome-1080x1920-high-contrast.png"]


@pytest.mark.parametrize("as_json", [False, True], ids=["summary", "json"])
def test_the_offscreen_demo_lane_is_quiet(tmp_path: Path, as_json: bool) -> None:
    # What `./dev demo` runs without a display.
    args = ["simulate", "lane", "--travellers", "2", "--ui", "offscreen"]
    done = _run(args + (["--json"] if as_json else []), tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = _only_progress(done.stderr, "egate simulate lane")
    assert [line.split("] ", 1)[1].split(" traveller ")[0] for line in lines[-2:]] == [
        "1/2", "2/2"]
    if as_json:
        assert json.loads(done.stdout)["travellers"] == 2
    else:
        assert done.stdout.splitlines()[0] == "travellers: 2"


def test_the_demo_window_is_quiet(tmp_path: Path) -> None:
    # egate demo speaks (Qt Multimedia: its FFmpeg banner, the optional PipeWire
    # library, a missing sound server) and lays out its window at every screen change.
    done = _run(["demo", "--quit-after", "6"], tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stderr == "", done.stderr


def test_only_the_documented_qt_messages_are_filtered() -> None:
    from ui.qt_messages import is_known

    assert is_known("qt.multimedia.ffmpeg", "Using Qt multimedia with FFmpeg version 9.0.1")
    assert is_known(None, "PulseAudioService: pa_context_connect() failed")
    assert not is_known("qt.multimedia.ffmpeg", "Could not open the codec")
    assert not is_known(None, "This plugin does not support propagateSizeHints()")
    assert not is_known("qt.qpa.xcb", "Couldn't load pipewire-0.3 library")
