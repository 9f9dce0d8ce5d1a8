"""Spoken prompts in the traveller's language.

Engines (`[kiosk] speech_engine`, docs/traveller.md "Speech"): espeak-ng run as a
program (EspeakSpeaker: QProcess synthesises a WAV, Qt Multimedia plays it; nothing
waits on the GUI thread) or QtTextToSpeech on the speech-dispatcher service
(QtSpeaker). Where none works the kiosk is silent (SilentSpeaker, reason reported
once, never raised); a mute switch on every screen.
"""

from __future__ import annotations

import io
import logging
import shutil
import struct
import wave
from dataclasses import dataclass
from typing import Protocol

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QLocale, QObject, QProcess, Signal

from kiosk.runtime.speech import ESPEAK_VOICES, ESPEAK_WORDS_PER_MINUTE, espeak_voices, voice_for
from ui.i18n import spoken
from ui.traveller.readings import kana_reading

log = logging.getLogger(__name__)

ENGINES = ("auto", "espeak-ng", "speechd")


class Speaker(Protocol):
    muted: bool

    def say(self, text: str, language: str) -> None: ...

    def stop(self) -> None: ...


class SilentSpeaker:
    """No engine: nothing is spoken; `reason` says why (for the kiosk's status)."""

    def __init__(self, reason: str = "muted") -> None:
        self.reason = reason
        self.muted = True

    def say(self, text: str, language: str) -> None:
        pass

    def stop(self) -> None:
        pass


class RecordingSpeaker:
    """For tests and scenarios: remembers what would have been spoken."""

    def __init__(self) -> None:
        self.muted = False
        self.spoken: list[tuple[str, str]] = []  # (language, text)

    def say(self, text: str, language: str) -> None:
        if not self.muted:
            self.spoken.append((language, spoken(text)))

    def stop(self) -> None:
        pass


def espeak_text(text: str, language: str) -> str:
    """What espeak-ng is given: no line-break marks; Japanese in kana (it reads no kanji)."""
    said = spoken(text)
    return kana_reading(said) if language == "ja" else said


@dataclass(frozen=True)
class Wav:
    """16-bit PCM as espeak-ng writes it (mono, 22050 Hz)."""

    rate: int
    channels: int
    sample_width: int
    pcm: bytes

    @property
    def seconds(self) -> float:
        return len(self.pcm) / (self.rate * self.channels * self.sample_width)

    def riff(self) -> bytes:
        """A well-formed RIFF/WAVE file (espeak-ng's --stdout leaves the sizes unset)."""
        out = io.BytesIO()
        with wave.open(out, "wb") as w:
            w.setnchannels(self.channels)
            w.setsampwidth(self.sample_width)
            w.setframerate(self.rate)
            w.writeframes(self.pcm)
        return out.getvalue()


def parse_wav(data: bytes) -> Wav:
    """espeak-ng's streamed WAV: RIFF header, "fmt " chunk, then "data" to the end
    (its size field is a placeholder when written to a pipe)."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise ValueError("not a RIFF/WAVE stream")
    pos, fmt = 12, None
    while pos + 8 <= len(data):
        tag, size = data[pos : pos + 4], struct.unpack_from("<I", data, pos + 4)[0]
        body = pos + 8
        if tag == b"fmt ":
            fmt = struct.unpack_from("<HHIIHH", data, body)
        elif tag == b"data":
            if fmt is None or fmt[0] != 1:
                raise ValueError("not PCM")
            end = len(data) if size > len(data) - body else body + size
            _, channels, rate, _, _, bits = fmt
            return Wav(rate, channels, bits // 8, data[body:end])
        pos = body + size + (size & 1)
    raise ValueError("no data chunk")


class EspeakSpeaker(QObject):
    """espeak-ng as a program: one QProcess per prompt synthesises a WAV on its
    stdout (about 20 ms a sentence), and a QAudioSink plays it. A new prompt, stop()
    or mute kills the synthesis under way and stops the playback; nothing blocks.

    `synthesised(language, text, wav)` is emitted for every prompt about to be
    played: the proof, in tests, that the window's prompts become audio."""

    synthesised = Signal(str, str, bytes)

    def __init__(self, voices: set[str], program: str = "espeak-ng") -> None:
        super().__init__()
        self.engine = "espeak-ng"
        self.program = shutil.which(program) or program
        self.voices = {
            lang: voice for lang in ESPEAK_VOICES if (voice := voice_for(lang, voices)) is not None
        }
        self._muted = False
        self._process: QProcess | None = None
        # Every espeak-ng process not yet reaped. Not children of the speaker: a child
        # would be destroyed with it, and ~QProcess waits for the process and emits
        # finished into a half-destroyed speaker; each lives until its finished signal.
        self.live: set[QProcess] = set()
        self._sink: object | None = None  # QAudioSink, imported on first playback
        self.unavailable: set[str] = set()
        self.no_audio_output_reported = False
        self.failures = 0
        self.played = 0  # prompts handed in full to the audio device

    def warm_up(self) -> None:
        """Load Qt Multimedia and connect to the audio server now (35 ms here, more
        with a slow audio server), at start-up, not at the first prompt on the GUI thread."""
        from ui.qt_messages import quiet_known_qt_messages

        quiet_known_qt_messages()  # its banner and the machine's audio set-up, from import on
        from PySide6.QtMultimedia import QMediaDevices

        QMediaDevices.defaultAudioOutput()

    @property
    def muted(self) -> bool:
        return self._muted

    @muted.setter
    def muted(self, value: bool) -> None:
        self._muted = value
        if value:
            self.stop()

    @property
    def speaking(self) -> bool:
        """Synthesising or playing a prompt now (the sink is freed when it has played)."""
        return self._process is not None or self._sink is not None

    def say(self, text: str, language: str) -> None:
        if self._muted:
            return
        voice = self.voices.get(language) or self.voices.get(language.split("_")[0])
        if voice is None:
            if language not in self.unavailable:
                self.unavailable.add(language)
                log.warning("no espeak-ng voice for %s: prompts in it are not spoken", language)
            return
        self.stop()  # a new prompt interrupts the last one
        said = espeak_text(text, language)
        process = QProcess()
        self._process = process
        self.live.add(process)
        # Never disconnected (PySide6 6.12.0's disconnect() drops a reference to True):
        # a process that is no longer self._process is only reaped.
        process.finished.connect(
            lambda code, status, p=process, lang=language, t=said: self._synthesised(
                p, code, status, lang, t
            )
        )
        process.errorOccurred.connect(lambda err, p=process: self._failed(p, err))
        # Text on stdin (never parsed as options); -b 1: UTF-8 input.
        process.start(
            self.program, ["-v", voice, "-s", str(ESPEAK_WORDS_PER_MINUTE), "-b", "1", "--stdout"]
        )
        process.write(said.encode("utf-8"))
        process.closeWriteChannel()

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.state() != QProcess.ProcessState.NotRunning:
            process.kill()  # its finished signal reaps it, asynchronously
        self._stop_playback()

    def _failed(self, process: QProcess, error: QProcess.ProcessError) -> None:
        # FailedToStart is the one error after which no finished signal comes.
        if error != QProcess.ProcessError.FailedToStart:
            return
        self._reap(process)
        if process is self._process:
            self._process = None
            self.failures += 1
            log.warning("espeak-ng did not start: %s", process.errorString())

    def _reap(self, process: QProcess) -> None:
        self.live.discard(process)
        process.deleteLater()

    def _synthesised(
        self, process: QProcess, code: int, status: QProcess.ExitStatus, language: str, text: str
    ) -> None:
        self._reap(process)
        if process is not self._process:  # interrupted, stopped or muted meanwhile
            return
        self._process = None
        data = bytes(process.readAllStandardOutput().data())
        if status != QProcess.ExitStatus.NormalExit or code != 0:
            self.failures += 1
            log.warning("espeak-ng failed (exit %s) on a %s prompt", code, language)
            return
        try:
            wav = parse_wav(data)
        except ValueError as exc:
            self.failures += 1
            log.warning("espeak-ng wrote no usable audio: %s", exc)
            return
        self.synthesised.emit(language, text, wav.riff())
        self._play(wav)

    def _play(self, wav: Wav) -> None:
        from PySide6.QtMultimedia import QAudioFormat, QAudioSink, QMediaDevices

        device = QMediaDevices.defaultAudioOutput()
        if device.isNull():
            if not self.no_audio_output_reported:
                self.no_audio_output_reported = True
                log.warning("no audio output device: prompts are synthesised but not heard")
            return
        fmt = QAudioFormat()
        fmt.setSampleRate(wav.rate)
        fmt.setChannelCount(wav.channels)
        fmt.setSampleFormat(QAudioFormat.SampleFormat.Int16)
        self._stop_playback()
        # The sink is not a child of the speaker (see self.live); the buffer is the
        # sink's, so both go together when the sink is deleted.
        sink = QAudioSink(device, fmt)
        buffer = QBuffer(sink)
        buffer.setData(QByteArray(wav.pcm))
        buffer.open(QIODevice.OpenModeFlag.ReadOnly)
        self._sink = sink

        # A slot taking no argument: PySide6 6.12 cannot convert the QAudio::State
        # the signal carries (a default argument would count as one).
        def changed() -> None:
            self._sink_state(sink)

        sink.stateChanged.connect(changed)
        sink.start(buffer)  # pulls from the buffer on the event loop

    def _sink_state(self, sink: object) -> None:
        from PySide6.QtMultimedia import QAudioSink, QtAudio

        # Idle: the whole prompt went to the audio device; free the sink.
        if sink is not self._sink or not isinstance(sink, QAudioSink):
            return  # replaced or stopped meanwhile
        if sink.state() == QtAudio.State.IdleState:
            self.played += 1
            self._stop_playback()
        elif sink.state() == QtAudio.State.StoppedState and sink.error() != QtAudio.Error.NoError:
            self.failures += 1
            log.warning("audio output failed: %s", sink.error())
            self._stop_playback()

    def _stop_playback(self) -> None:
        sink, self._sink = self._sink, None
        if sink is not None:
            from PySide6.QtMultimedia import QAudioSink

            assert isinstance(sink, QAudioSink)
            sink.stop()  # its stateChanged finds it is no longer self._sink
            sink.deleteLater()  # with its buffer, once this signal has returned


class QtSpeaker:
    """QTextToSpeech with a voice per language; a language without a voice stays silent."""

    def __init__(self, engine: str) -> None:
        from PySide6.QtTextToSpeech import QTextToSpeech

        self.muted = False
        self._tts = QTextToSpeech(engine)
        self.engine = engine
        self._available = {loc.name() for loc in self._tts.availableLocales()}
        self.unavailable: set[str] = set()

    def _locale(self, language: str) -> QLocale | None:
        wanted = QLocale(language)
        if wanted.name() in self._available:
            return wanted
        for name in self._available:  # any voice of the language ("ru" for "ru_UA")
            if name.split("_")[0] == wanted.name().split("_")[0]:
                return QLocale(name)
        return None

    def say(self, text: str, language: str) -> None:
        if self.muted:
            return
        locale = self._locale(language)
        if locale is None:
            if language not in self.unavailable:
                self.unavailable.add(language)
                log.warning("no speech voice for %s: prompts in it are not spoken", language)
            return
        self._tts.stop()
        self._tts.setLocale(locale)
        self._tts.say(spoken(text))

    def stop(self) -> None:
        self._tts.stop()


def make_speaker(enabled: bool, engine: str = "auto") -> Speaker:
    """The configured speech engine, or a SilentSpeaker saying why there is none
    (`auto`: espeak-ng, else speech-dispatcher). Never raises."""
    if not enabled:
        return SilentSpeaker("speech is off in the configuration")
    if engine not in ENGINES:
        return SilentSpeaker(f"unknown speech engine {engine!r}")
    reasons: list[str] = []
    if engine in ("auto", "espeak-ng"):
        voices = espeak_voices()
        if voices is None:
            reasons.append("espeak-ng is not installed")
        else:
            espeak = EspeakSpeaker(voices)
            if espeak.voices:
                espeak.warm_up()
                return espeak
            reasons.append("espeak-ng has no voice for any kiosk language")
    if engine in ("auto", "speechd"):
        speaker = _speechd()
        if isinstance(speaker, QtSpeaker):
            return speaker
        reasons.append(speaker.reason)
    return SilentSpeaker("; ".join(reasons))


def _speechd() -> QtSpeaker | SilentSpeaker:
    try:
        from PySide6.QtTextToSpeech import QTextToSpeech

        # Qt's "mock" engine is for Qt's own tests: it would speak into the void.
        engines = [e for e in QTextToSpeech.availableEngines() if e != "mock"]
        if "speechd" not in engines:
            return SilentSpeaker("Qt's speech-dispatcher engine is not installed")
        speaker = QtSpeaker("speechd")
    except Exception as exc:  # missing pyside6-addons ...
        log.warning("speech unavailable: %s", exc)
        return SilentSpeaker(f"speech unavailable: {exc}")
    if not speaker._available:
        return SilentSpeaker("speech-dispatcher has no voices (is its service running?)")
    return speaker
