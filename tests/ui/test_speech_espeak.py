"""Spoken prompts through the real engine: espeak-ng synthesises every prompt the
traveller window speaks, in each of the five languages, as audio (a RIFF WAV of
plausible length that is not silence, read in the language's own voice); the
window's own speaker turns a screen change and a language switch into audio; a new
prompt, stop and mute cut it short; with an audio server (a private PulseAudio
null sink) the audio reaches the device.

espeak-ng (and PulseAudio, for the playback test) come from ./dev: missing, these
tests skip - and fail under CI (tests/ci.py).
"""

from __future__ import annotations

import array
import dataclasses
import io
import math
import os
import shutil
import subprocess
import sys
import textwrap
import time
import wave
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QTimer
from pytestqt.qtbot import QtBot

from kiosk.runtime.speech import ESPEAK_VOICES, espeak_voices
from tests.ci import unavailable
from ui.heartbeat import settle_heap
from ui.screenshots import LANGUAGES, SCREENS
from ui.traveller.readings import KANJI
from ui.traveller.speech import (
    EspeakSpeaker,
    RecordingSpeaker,
    espeak_text,
    make_speaker,
)
from ui.traveller.strings import GUIDANCE
from ui.traveller.window import TravellerWindow

REPO = Path(__file__).resolve().parents[2]
RATE = 22050  # espeak-ng's output: mono, 16-bit
CJK_LANGUAGES = ("zh_CN", "ja", "ko")
# Seconds of speech per non-space character of the text given to espeak-ng, measured
# over the 27 prompts of each language (espeak-ng 1.51, 160 words a minute): zh 0.29-0.38,
# ja (kana) 0.13-0.16, ko 0.20-0.24, en 0.06-0.09, ru 0.06-0.08; RMS 2300-4400. The
# bounds are wide; a beep, a truncated prompt or silence falls outside them.
PER_CHARACTER_S = {"zh_CN": (0.12, 0.7), "ja": (0.05, 0.3), "ko": (0.08, 0.45),
                   "en": (0.03, 0.15), "ru": (0.03, 0.15)}


@pytest.fixture(scope="module")
def voices() -> set[str]:
    found = espeak_voices()
    if found is None:
        unavailable("espeak-ng is not installed (./dev installs it)")
    missing = [lang for lang, wanted in ESPEAK_VOICES.items() if not set(wanted) & found]
    if missing:
        unavailable(f"espeak-ng has no voice for {missing}")
    return found


def window_prompts(qtbot: QtBot) -> list[tuple[str, str, str]]:
    """(language, screen, text) of every prompt the window speaks on the catalogue's
    screens and every face guidance, in every language (what a RecordingSpeaker heard)."""
    recorder = RecordingSpeaker()
    window = TravellerWindow(LANGUAGES, speaker=recorder)
    qtbot.addWidget(window)
    window.show()
    face = SCREENS["face"][-1]
    screens = {**SCREENS, **{f"face-{code}": (dataclasses.replace(face, guidance=code),)
                             for code in GUIDANCE}}
    out: list[tuple[str, str, str]] = []
    for lang in LANGUAGES:
        for name, snaps in screens.items():
            before = len(recorder.spoken)
            for snap in snaps:
                window.show_snapshot(snap)
            window.choose_language(lang)  # spoken again, in this language
            out += [(said_lang, name, text) for said_lang, text in recorder.spoken[before:]]
    return list(dict.fromkeys(out))


def samples(wav_bytes: bytes) -> tuple[tuple[int, int, int], array.array[int]]:
    """((rate, channels, sample width), the samples) of a WAV file."""
    with wave.open(io.BytesIO(wav_bytes), "rb") as reader:
        shape = (reader.getframerate(), reader.getnchannels(), reader.getsampwidth())
        return shape, array.array("h", reader.readframes(reader.getnframes()))


def assert_speech(wav_bytes: bytes, language: str, text: str) -> float:
    """A valid RIFF WAV holding speech for `text`: its length fits the text, and it
    is not silence (loud enough, and voiced over much of its length)."""
    assert wav_bytes[:4] == b"RIFF" and wav_bytes[8:12] == b"WAVE"
    shape, pcm = samples(wav_bytes)
    assert shape == (RATE, 1, 2)
    seconds = len(pcm) / RATE
    chars = len(text.replace(" ", ""))
    low, high = PER_CHARACTER_S[language]
    assert low * chars <= seconds <= high * chars, (language, text, seconds, chars)
    rms = math.sqrt(sum(x * x for x in pcm) / len(pcm))
    assert rms > 500, (language, text, rms)  # 16-bit full scale is 32767
    window = RATE // 50  # 20 ms
    loud = sum(1 for i in range(0, len(pcm) - window, window)
               if max(abs(x) for x in pcm[i:i + window]) > 1000)
    assert loud >= 0.3 * (len(pcm) // window), (language, text)
    return seconds


def read_in_own_voice(text: str, voice: str) -> bool:
    """espeak-ng speaks the text in the voice's language: it does not switch to English
    to spell out characters it cannot read ("Chinese letter", "Japanese letter")."""
    phonemes = subprocess.run(["espeak-ng", "-q", "-x", "-b", "1", "-v", voice],
                              input=text.encode(), capture_output=True, check=True, timeout=30)
    return "(en)" not in phonemes.stdout.decode()


class Heard:
    """What a speaker synthesised (collected by a slot rather than qtbot.waitSignal)."""

    def __init__(self, speaker: EspeakSpeaker) -> None:
        self.audio: list[tuple[str, str, bytes]] = []
        speaker.synthesised.connect(lambda lang, text, wav: self.audio.append((lang, text, wav)))

    def next(self, qtbot: QtBot, action: Callable[[], object]) -> tuple[str, str, bytes]:
        count = len(self.audio)
        action()
        qtbot.waitUntil(lambda: len(self.audio) > count, timeout=20000)
        assert len(self.audio) == count + 1
        return self.audio[-1]


def synthesise(qtbot: QtBot, heard: Heard, speaker: EspeakSpeaker, text: str,
               language: str) -> bytes:
    said_lang, said, wav = heard.next(qtbot, lambda: speaker.say(text, language))
    assert (said_lang, said) == (language, espeak_text(text, language))
    return bytes(wav)


def test_every_prompt_of_the_main_screens_is_audio_in_five_languages(
    qtbot: QtBot, voices: set[str]
) -> None:
    prompts = window_prompts(qtbot)
    assert {lang for lang, _, _ in prompts} == set(LANGUAGES)
    assert len(prompts) >= 5 * (len(SCREENS) + len(GUIDANCE)) * 0.8  # the catalogue, spoken
    speaker = EspeakSpeaker(voices)
    heard = Heard(speaker)
    durations: dict[str, list[float]] = {lang: [] for lang in LANGUAGES}
    for lang, screen, text in prompts:
        given = espeak_text(text, lang)
        if lang == "ja":
            assert not KANJI.search(given), f"no kana reading for a kanji word in {given!r}"
        if lang != "en":
            assert read_in_own_voice(given, speaker.voices[lang]), (lang, screen, given)
        wav = synthesise(qtbot, heard, speaker, text, lang)
        durations[lang].append(assert_speech(wav, lang, given))
    for lang, seconds in durations.items():
        assert len(seconds) >= len(SCREENS), lang
    # The same prompts in two languages differ: each language has its own voice.
    assert len({round(sum(s), 1) for s in durations.values()}) == len(LANGUAGES)


def window_with_engine(qtbot: QtBot) -> tuple[TravellerWindow, EspeakSpeaker, Heard]:
    speaker = make_speaker(True, "espeak-ng")  # as `egate kiosk` builds it
    assert isinstance(speaker, EspeakSpeaker)
    window = TravellerWindow(LANGUAGES, speaker=speaker)
    qtbot.addWidget(window)
    window.show()
    assert window.speaker is speaker
    return window, speaker, Heard(speaker)


def show(window: TravellerWindow, name: str) -> None:
    for snap in SCREENS[name]:
        window.show_snapshot(snap)


def test_window_speaks_a_screen_change_and_a_language_switch(
    qtbot: QtBot, voices: set[str]
) -> None:
    window, _, heard = window_with_engine(qtbot)
    lang, text, wav = heard.next(qtbot, lambda: show(window, "place_passport"))
    assert lang == "en" and text.startswith("Place your passport on the reader")
    assert_speech(wav, lang, text)
    lang, text, wav = heard.next(qtbot, lambda: window.choose_language("ja"))
    assert lang == "ja" and text.startswith("パスポートをよみとりきにおいてください")
    assert_speech(wav, lang, text)
    lang, text, wav = heard.next(qtbot, lambda: show(window, "referred"))
    assert lang == "ja" and text.startswith("かかりいんにおもうしでください")
    assert_speech(wav, lang, text)


def no_synthesis_left(speaker: EspeakSpeaker) -> bool:
    return not speaker.live


def test_a_new_prompt_interrupts_the_last_and_stop_and_mute_silence(
    qtbot: QtBot, voices: set[str]
) -> None:
    speaker = EspeakSpeaker(voices)
    heard = Heard(speaker)
    long_text = " ".join(["Please see an officer."] * 40)
    speaker.say(long_text, "en")
    assert speaker.speaking
    wav = synthesise(qtbot, heard, speaker, "Обратитесь к сотруднику", "ru")  # interrupts
    assert_speech(wav, "ru", "Обратитесь к сотруднику")
    qtbot.waitUntil(lambda: no_synthesis_left(speaker), timeout=20000)
    assert [a[:2] for a in heard.audio] == [("ru", "Обратитесь к сотруднику")]

    speaker.say(long_text, "en")
    speaker.stop()
    assert not speaker.speaking
    qtbot.waitUntil(lambda: no_synthesis_left(speaker), timeout=20000)
    speaker.muted = True
    speaker.say("Please wait", "en")
    assert not speaker.speaking and no_synthesis_left(speaker)  # muted: nothing started
    speaker.muted = False
    synthesise(qtbot, heard, speaker, "Please wait", "en")
    assert [a[:2] for a in heard.audio] == [("ru", "Обратитесь к сотруднику"),
                                            ("en", "Please wait")]


def test_the_mute_switch_cuts_the_prompt_being_spoken(qtbot: QtBot, voices: set[str]) -> None:
    window, speaker, heard = window_with_engine(qtbot)
    show(window, "place_passport")
    assert speaker.speaking
    window.top.mute.click()
    assert speaker.muted and not speaker.speaking
    window.choose_language("ko")  # a switch while muted says nothing
    qtbot.waitUntil(lambda: no_synthesis_left(speaker), timeout=20000)
    assert heard.audio == []
    window.top.mute.click()
    lang, text, _ = heard.next(qtbot, lambda: window.choose_language("ru"))
    assert lang == "ru" and text.startswith("Положите паспорт")


def test_speaking_never_holds_the_gui_thread(qtbot: QtBot, voices: set[str]) -> None:
    """Prompts at a traveller's fastest pace (a new one every 30 ms, each cutting the
    last). Synthesis is asynchronous: say() returns before espeak-ng has finished (a
    blocking wait would deliver the audio inside say()), and no call of the speaker on
    the GUI thread does much work (thread CPU time per call). Not wall-clock gaps: on
    this shared 2-core machine a loaded scheduler alone makes 100-350 ms heartbeat gaps
    (tests/ui/test_journeys.py's heartbeat, measured at load average 10, before this
    engine existed)."""
    prompts = [(lang, text) for lang, _, text in window_prompts(qtbot)][:60]
    speaker = EspeakSpeaker(voices)
    speaker.warm_up()  # as make_speaker does at start-up
    heard = Heard(speaker)
    calls: list[float] = []
    synthesised = speaker._synthesised
    settle_heap()  # as the kiosk does after start-up: no full collection mid-test

    def timed_handler(*args: Any) -> None:  # the process's finished signal lands here
        started = time.thread_time()
        synthesised(*args)
        calls.append(time.thread_time() - started)

    speaker._synthesised = timed_handler  # type: ignore[method-assign,assignment]
    queue = list(prompts)
    asynchronous: list[bool] = []

    def next_prompt() -> None:
        if queue:
            lang, text = queue.pop(0)
            count = len(heard.audio)
            started = time.thread_time()
            speaker.say(text, lang)
            calls.append(time.thread_time() - started)
            asynchronous.append(speaker.speaking and len(heard.audio) == count)

    pace = QTimer()
    pace.timeout.connect(next_prompt)
    pace.start(30)
    qtbot.waitUntil(lambda: not queue and no_synthesis_left(speaker), timeout=120000)
    pace.stop()
    assert len(asynchronous) == len(prompts) and all(asynchronous)
    assert heard.audio and heard.audio[-1][1] == espeak_text(prompts[-1][1], prompts[-1][0])
    assert len(calls) > len(prompts)  # say() and at least one finished handler
    assert max(calls) < 0.05, sorted(calls)[-5:]


# -- to the audio device --------------------------------------------------------------
PLAYER = textwrap.dedent("""
    import os, sys
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication
    app = QApplication([])
    from ui.traveller.speech import make_speaker
    speaker = make_speaker(True, "espeak-ng")
    prompts = [("zh_CN", "请将护照放在阅读器上"), ("en", "Place your passport on the reader"),
               ("ja", "パスポートを読取機に置いてください"),
               ("ko", "여권을 판독기에 올려 주십시오"),
               ("ru", "Положите паспорт на считыватель")]
    ticks_while_speaking = [0]
    def next_prompt():  # each prompt once the last has played in full
        if speaker.speaking:
            ticks_while_speaking[0] += 1  # the event loop runs during playback
            return
        if prompts:
            language, text = prompts.pop(0)
            speaker.say(text, language)
            return
        print("played", speaker.played, "failures", speaker.failures,
              "no-output", speaker.no_audio_output_reported,
              "ticks", ticks_while_speaking[0], flush=True)
        app.exit(0)
    timer = QTimer()
    timer.timeout.connect(next_prompt)
    timer.start(20)
    QTimer.singleShot(60000, lambda: app.exit(3))
    sys.exit(app.exec())
""")


@pytest.fixture
def audio_server(tmp_path: Path) -> Iterator[str]:
    """A private PulseAudio server whose only device is a null sink: the audio of a
    kiosk without a sound card, recordable from the sink's monitor."""
    if shutil.which("pulseaudio") is None or shutil.which("parec") is None:
        unavailable("PulseAudio is not installed (./dev installs it)")
    socket = tmp_path / "native"
    env = {**os.environ, "HOME": str(tmp_path), "XDG_RUNTIME_DIR": str(tmp_path)}
    server = subprocess.Popen(
        ["pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=-1", "--use-pid-file=no",
         "-L", "module-null-sink sink_name=egate rate=22050 channels=1",
         "-L", f"module-native-protocol-unix socket={socket} auth-anonymous=1"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        address = f"unix:{socket}"
        deadline = time.monotonic() + 20
        while subprocess.run(["pactl", "info"], env={**env, "PULSE_SERVER": address},
                             capture_output=True).returncode != 0:
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail("the private PulseAudio server did not start")
            time.sleep(0.1)
        yield address
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_prompts_reach_the_audio_device(tmp_path: Path, audio_server: str,
                                        voices: set[str]) -> None:
    env = {**os.environ, "PULSE_SERVER": audio_server, "HOME": str(tmp_path),
           "PYTHONPATH": str(REPO)}
    recorded = tmp_path / "monitor.raw"
    with recorded.open("wb") as out:
        recorder = subprocess.Popen(
            ["parec", "--raw", "--format=s16le", "--channels=1", f"--rate={RATE}",
             "--latency-msec=20", "-d", "egate.monitor"], env=env, stdout=out)
        try:
            player = subprocess.run([sys.executable, "-c", PLAYER], env=env, cwd=REPO,
                                    capture_output=True, timeout=120)
        finally:
            recorder.terminate()
            recorder.wait(timeout=20)
    assert player.returncode == 0, player.stderr.decode()[-2000:]
    assert b"played 5 failures 0 no-output False ticks " in player.stdout, player.stdout
    # Playback never held the event loop: its 20 ms timer kept running while the
    # prompts (about 10 s in all) played.
    assert int(player.stdout.split()[-1]) >= 25, player.stdout
    pcm = array.array("h", recorded.read_bytes())
    window = RATE // 50
    loud = sum(1 for i in range(0, len(pcm) - window, window)
               if max(abs(x) for x in pcm[i:i + window]) > 1000)
    # Five prompts of 1.5 s to 3 s of speech each came out of the device.
    assert loud * 0.02 >= 5.0, loud * 0.02
